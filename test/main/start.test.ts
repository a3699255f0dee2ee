// The all-in-one process: `npm start` equivalent on the embedded store (a profile made
// through the API survives a restart), and on a fresh PostgreSQL database via DATABASE_URL.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPgDatabase } from '../helpers/db.ts';
import { ROOT, startSuiteProcess, stopProcess, type Child } from '../helpers/cli.ts';

async function startCli(env: Record<string, string>) {
  return startSuiteProcess({ PMIP6_RADIUS_ENABLED: 'false', PMIP6_SNMP_ENABLED: 'false', PMIP6_LMA_ENABLED: 'false', ...env });
}

const stop = (c: Child) => stopProcess(c);

describe('pmip6 start', () => {
  it('comes up on the embedded store; a profile created with the API survives a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pmip6-data-'));
    const a = await startCli({ PMIP6_DATA_DIR: dataDir });
    const tokenFile = join(dataDir, 'api-token');
    assert.ok(existsSync(tokenFile));
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    const token = readFileSync(tokenFile, 'utf8').trim();
    assert.ok(!a.out().includes(token), 'the token is never logged');
    const created = await fetch(`${a.base}/api/v1/profiles`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ mnId: 'mn1@example.net', hnps: ['2001:db8:1:1::/64'], lma: '2001:db8::1' }) });
    assert.equal(created.status, 201);
    assert.equal(await stop(a), 0);

    const b = await startCli({ PMIP6_DATA_DIR: dataDir });
    const list = (await (await fetch(`${b.base}/api/v1/profiles`, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: { mnId: string; hnps: string[] }[] };
    assert.deepEqual(list.items.map((p) => [p.mnId, p.hnps]), [['mn1@example.net', ['2001:db8:1:1::/64']]]);
    assert.equal(await stop(b), 0);
  });

  it('DATABASE_URL: migrates an empty PostgreSQL database and behaves the same', async () => {
    const pg = await createPgDatabase('pmip6_start');
    try {
      const dataDir = mkdtempSync(join(tmpdir(), 'pmip6-data-'));
      const a = await startCli({ DATABASE_URL: pg.url, PMIP6_DATA_DIR: dataDir, PMIP6_API_TOKEN: 'pg-token-abcdef' });
      const h = { authorization: 'Bearer pg-token-abcdef', 'content-type': 'application/json' };
      assert.equal((await fetch(`${a.base}/api/v1/profiles`, { method: 'POST', headers: h, body: JSON.stringify({ mnId: 'pg1@example.net', hnps: ['2001:db8:2::/64'] }) })).status, 201);
      const ready = (await (await fetch(`${a.base}/readyz`)).json()) as { checks: { database: { kind: string } } };
      assert.equal(ready.checks.database.kind, 'postgres');
      assert.equal(await stop(a), 0);
      const b = await startCli({ DATABASE_URL: pg.url, PMIP6_DATA_DIR: dataDir, PMIP6_API_TOKEN: 'pg-token-abcdef' });
      const got = await fetch(`${b.base}/api/v1/profiles/pg1@example.net`, { headers: h });
      assert.equal(got.status, 200);
      assert.equal(await stop(b), 0);
    } finally {
      await pg.drop();
    }
  });

  it('a configuration error names the key and exits non-zero', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], { cwd: ROOT, env: { ...process.env, PMIP6_API_PORT: 'http' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 2);
    assert.match(err, /api\.port \(environment PMIP6_API_PORT\) = "http"/);
  });
});
