// Issue 9 item 6 on a real `pmip6 start` (embedded store, RADIUS server, API, trace logging):
// - the data directory is 0700 and no file in it is readable by group or others (PGlite's
//   files included);
// - an AAA shared secret entered through the API is sealed in the database (not in the clear,
//   not in audit entries) with the key file in dataDir (0600), is used by the RADIUS server,
//   and appears in no log line, no /readyz and no /metrics;
// - with the key gone, the secret cannot be read back: the client is refused, and says so.
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RadiusAaaClient } from '../../src/radius/client.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { freePort, startSuiteProcess, stopProcess } from '../helpers/cli.ts';

const SECRET = 'sealed-shared-secret-42';

/** Every path under `dir` with its permission bits. */
function modes(dir: string): { path: string; mode: number }[] {
  const out = [{ path: dir, mode: lstatSync(dir).mode & 0o777 }];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...modes(p));
    else if (!e.isSymbolicLink()) out.push({ path: p, mode: lstatSync(p).mode & 0o777 });
  }
  return out;
}

describe('secrets and files (issue 9 item 6)', () => {
  it('private data directory; a sealed AAA secret, used by RADIUS, in no log, audit entry, /readyz or /metrics', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'pmip6-secrets-')), 'data');
    const auth = await freePort('udp');
    const env = {
      PMIP6_DATA_DIR: dataDir, PMIP6_API_TOKEN: 'secrets-test-token', PMIP6_LOG_LEVEL: 'trace',
      PMIP6_LMA_ENABLED: 'false', PMIP6_SNMP_ENABLED: 'false',
      PMIP6_RADIUS_BIND: '127.0.0.1', PMIP6_RADIUS_AUTH_PORT: String(auth), PMIP6_RADIUS_ACCT_PORT: String(await freePort('udp')),
    };
    const a = await startSuiteProcess(env);
    const h = { authorization: 'Bearer secrets-test-token', 'content-type': 'application/json' };
    const api = (path: string, method = 'GET', body?: unknown) => fetch(`${a.base}${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    assert.equal((await api('/api/v1/aaa-clients', 'POST', { kind: 'radius', name: 'mag1', address: '127.0.0.1', secret: SECRET })).status, 201);
    assert.equal((await api('/api/v1/profiles', 'POST', { mnId: 'mn1@example.net', hnps: ['2001:db8:1:1::/64'] })).status, 201);
    const client = new RadiusAaaClient({ servers: [{ host: '127.0.0.1', port: auth, secret: SECRET }], nasIdentifier: 'mag1', timeoutMs: 500, retries: 4 });
    try {
      assert.equal((await client.authorize({ userName: 'mn1@example.net' })).status, 'accept', 'the server opened the sealed secret');
    } finally {
      client.close();
    }
    const surfaces = [await (await api('/readyz')).text(), await (await api('/metrics')).text(), await (await api('/api/v1/aaa-clients')).text(), await (await api('/api/v1/audit')).text()];
    for (const text of surfaces) assert.ok(!text.includes(SECRET), 'no secret in readyz, metrics, client list or audit');
    assert.equal(await stopProcess(a), 0);
    assert.ok(!a.out().includes(SECRET), 'no secret in any log line (level trace)');

    const bad = modes(dataDir).filter((f) => (f.mode & 0o077) !== 0);
    assert.deepEqual(bad, [], 'nothing in the data directory is open to group or others');
    assert.equal(lstatSync(dataDir).mode & 0o777, 0o700);
    assert.equal(lstatSync(join(dataDir, 'secret.key')).mode & 0o777, 0o600);

    const db = await openPglite(join(dataDir, 'pglite'));
    try {
      const rows = (await db.query<{ secret: string }>('SELECT secret FROM aaa_clients')).rows;
      assert.equal(rows.length, 1);
      assert.match(rows[0].secret, /^pmip6enc:v1:[0-9a-f]{8}:/, 'sealed at rest');
      assert.ok(!rows[0].secret.includes(SECRET));
      const audit = (await db.query<{ t: string }>('SELECT a::text AS t FROM audit_log a')).rows.map((r) => r.t).join('\n');
      assert.ok(audit.length > 0 && !audit.includes(SECRET), 'audit entries name the change, not the secret');
    } finally {
      await db.close();
    }

    // Key lost: the client cannot be opened; the RADIUS server refuses it and the log says why.
    renameSync(join(dataDir, 'secret.key'), join(dataDir, 'secret.key.lost'));
    const b = await startSuiteProcess(env);
    const client2 = new RadiusAaaClient({ servers: [{ host: '127.0.0.1', port: auth, secret: SECRET }], nasIdentifier: 'mag1', timeoutMs: 300, retries: 1 });
    try {
      assert.equal((await client2.authorize({ userName: 'mn1@example.net' })).status, 'error');
    } finally {
      client2.close();
    }
    assert.equal(await stopProcess(b), 0);
    assert.match(b.out(), /sealed with a key that is not configured/);
  });
});
