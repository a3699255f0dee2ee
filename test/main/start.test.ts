// The all-in-one process: `npm start` equivalent on the embedded store (a profile made
// through the API survives a restart), and on a fresh PostgreSQL database via DATABASE_URL.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { createPgDatabase } from '../helpers/db.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function startCli(env: Record<string, string>): Promise<{ child: ChildProcess; base: string; out: () => string }> {
  const port = await freePort();
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], {
    cwd: ROOT,
    env: { ...process.env, PMIP6_API_PORT: String(port), PMIP6_API_HOST: '127.0.0.1', PMIP6_LOG_LEVEL: 'info', PMIP6_RADIUS_ENABLED: 'false', PMIP6_SNMP_ENABLED: 'false', PMIP6_LMA_ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`pmip6 start exited: ${out}`);
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return { child, base, out: () => out };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`pmip6 start did not come up: ${out}`);
}

async function stop(child: ChildProcess): Promise<number | null> {
  child.kill('SIGTERM');
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

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
    assert.equal(await stop(a.child), 0);

    const b = await startCli({ PMIP6_DATA_DIR: dataDir });
    const list = (await (await fetch(`${b.base}/api/v1/profiles`, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: { mnId: string; hnps: string[] }[] };
    assert.deepEqual(list.items.map((p) => [p.mnId, p.hnps]), [['mn1@example.net', ['2001:db8:1:1::/64']]]);
    assert.equal(await stop(b.child), 0);
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
      assert.equal(await stop(a.child), 0);
      const b = await startCli({ DATABASE_URL: pg.url, PMIP6_DATA_DIR: dataDir, PMIP6_API_TOKEN: 'pg-token-abcdef' });
      const got = await fetch(`${b.base}/api/v1/profiles/pg1@example.net`, { headers: h });
      assert.equal(got.status, 200);
      assert.equal(await stop(b.child), 0);
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
