// The CLI talks to a running suite (issue 8 item 5): while `pmip6 start` holds the embedded
// store, `pmip6 profile ...` and `pmip6 import` go through its operator API (found from
// api.port, token from dataDir/api-token), or through `--api URL --token T`. The sample
// import files in docs/examples import. `simulate --provision` uses the configured api.port
// and names the URL it could not reach; `--expect-all-accepted` fails when no PBA arrived.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, assertBuilt, freePort, pmip6, startSuiteProcess, stopProcess, type Child } from '../helpers/cli.ts';
import { createPgDatabase } from '../helpers/db.ts';

async function cli(args: string[], env: Record<string, string>) {
  const c = pmip6(args, { PMIP6_LOG_LEVEL: 'silent', ...env }, { bin: true });
  const code = await c.exited;
  return { code, out: c.stdout(), err: c.stderr() };
}

describe('pmip6 profile / import / simulate against a running suite', () => {
  let dir: string;
  let suite: Child & { base: string };
  let env: Record<string, string>;
  let lmaPort: number;

  before(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'pmip6-apicli-'));
    lmaPort = await freePort('udp');
    suite = await startSuiteProcess({ PMIP6_DATA_DIR: dir, PMIP6_RADIUS_ENABLED: 'false', PMIP6_SNMP_ENABLED: 'false', PMIP6_LMA_UDP_PORT: String(lmaPort) }, { bin: true });
    // What a second shell has: the same data folder and configuration, no --api.
    env = { PMIP6_DATA_DIR: dir, PMIP6_API_PORT: new URL(suite.base).port };
  });
  after(async () => {
    await stopProcess(suite);
    rmSync(dir, { recursive: true, force: true });
  });

  it('profile add, list, show and rm go through the API while the suite holds the store', async () => {
    const add = await cli(['profile', 'add', '--mn-id', 'api1@example.net', '--hnp', '2001:db8:77::/64'], env);
    assert.equal(add.code, 0, add.err);
    assert.equal(JSON.parse(add.out).mnId, 'api1@example.net');
    const dup = await cli(['profile', 'add', '--mn-id', 'api1@example.net'], env);
    assert.equal(dup.code, 2);
    assert.match(dup.err, /^pmip6: .*already in use[^\n]*\n$/);
    assert.match((await cli(['profile', 'list', '--q', 'api1'], env)).out, /^api1@example\.net\t2001:db8:77::\/64\t/m);
    assert.deepEqual(JSON.parse((await cli(['profile', 'show', 'api1@example.net'], env)).out).hnps, ['2001:db8:77::/64']);
    // The suite saw it: its audit log names the API's actor.
    const token = readFileSync(join(dir, 'api-token'), 'utf8').trim();
    const audit = (await (await fetch(`${suite.base}/api/v1/audit?limit=5`, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: { entity?: string; key?: string; action?: string }[] };
    assert.ok(JSON.stringify(audit.items).includes('api1@example.net'));
    assert.equal((await cli(['profile', 'rm', 'api1@example.net'], env)).code, 0);
    const gone = await cli(['profile', 'show', 'api1@example.net'], env);
    assert.equal(gone.code, 2);
    assert.match(gone.err, /not found/);
  });

  it('import of the sample CSV through the API; a bad file reports its lines and keeps nothing', async () => {
    const ok = await cli(['import', join(ROOT, 'docs/examples/profiles.csv')], env);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /^imported 3 profiles through the API at http:\/\/127\.0\.0\.1:\d+$/m);
    const bob = JSON.parse((await cli(['profile', 'show', 'bob@example.net'], env)).out) as { hnps: string[]; greKeyPolicy: string };
    assert.deepEqual(bob.hnps, ['2001:db8:a:2::/64', '2001:db8:a:3::/64']);
    assert.equal(bob.greKeyPolicy, 'optional');
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'mnId,hnps\nnew1@example.net,2001:db8:78::/64\nalice@example.net,2001:db8:79::/64\n');
    const r = await cli(['import', bad], env);
    assert.equal(r.code, 2);
    assert.match(r.err, /bad\.csv:3: alice@example\.net: mnId: .*already in use/);
    assert.match(r.err, /nothing was imported/);
    assert.equal((await cli(['profile', 'show', 'new1@example.net'], env)).code, 2);
  });

  it('--api and --token name another suite; a wrong token is one line', async () => {
    const elsewhere = { PMIP6_DATA_DIR: mkdtempSync(join(tmpdir(), 'pmip6-apicli-other-')) };
    const token = readFileSync(join(dir, 'api-token'), 'utf8').trim();
    const list = await cli(['profile', 'list', '--api', suite.base, '--token', token], elsewhere);
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /^alice@example\.net\t/m);
    const wrong = await cli(['profile', 'list', '--api', suite.base, '--token', 'not-the-token'], elsewhere);
    assert.equal(wrong.code, 2);
    assert.equal(wrong.err, `pmip6: the operator API at ${suite.base} refused the token (401)\n`);
  });

  it('simulate --provision uses api.port and every PBA is accepted', async () => {
    const r = await cli(['simulate', '--mns', '6', '--rate', '100', '--provision', '--lma-port', String(lmaPort), '--expect-all-accepted'], env);
    assert.equal(r.code, 0, r.err);
    assert.ok(JSON.parse(r.out).pbaStatus['0'] > 0);
  });

  it('simulate --provision names the API URL it could not reach', async () => {
    const port = await freePort();
    const r = await cli(['simulate', '--mns', '2', '--provision', '--lma-port', String(lmaPort)], { ...env, PMIP6_API_PORT: String(port) });
    assert.equal(r.code, 2);
    assert.match(r.err, new RegExp(`^pmip6: --provision: cannot reach the operator API at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\).*api\\.port \\(PMIP6_API_PORT\\) is ${port}\\)\\n$`));
  });

  it('simulate --expect-all-accepted fails when no PBA arrived at all', async () => {
    const nobody = await freePort('udp');
    const r = await cli(['simulate', '--mns', '2', '--rate', '100', '--lma-port', String(nobody), '--expect-all-accepted'], env);
    assert.equal(r.code, 2);
    assert.match(r.err, new RegExp(`no PBA arrived from the LMA at 127\\.0\\.0\\.1:${nobody}`));
  });
});

describe('the sample JSON import file', () => {
  it('imports into the store (PostgreSQL) when no suite runs', async () => {
    assertBuilt();
    const pg = await createPgDatabase('pmip6_sample');
    const e = { DATABASE_URL: pg.url };
    try {
      const r = await cli(['import', join(ROOT, 'docs/examples/profiles.json')], e);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /^imported 2 profiles$/m);
      const erin = JSON.parse((await cli(['profile', 'show', 'erin@example.net'], e)).out) as { enabled: boolean };
      assert.equal(erin.enabled, false);
    } finally {
      await pg.drop();
    }
  });
});
