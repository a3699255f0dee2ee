// With PostgreSQL unreachable the API answers 503 and /readyz says so; both recover on
// their own when it returns (the outage is a TCP proxy the test cuts and restores).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPgDatabase } from '../helpers/db.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { openPostgres } from '../../src/store/pg.ts';
import { migrate } from '../../src/store/migrate.ts';
import { storeOn, type Store } from '../../src/store/index.ts';
import { createApp } from '../../src/api/app.ts';

describe('database outage (PostgreSQL)', () => {
  let created: Awaited<ReturnType<typeof createPgDatabase>>;
  let proxy: TcpProxy;
  let store: Store;
  let server: Server;
  let base: string;
  const auth = { authorization: 'Bearer outage-token-123' };

  before(async () => {
    created = await createPgDatabase();
    proxy = new TcpProxy('127.0.0.1', 5432);
    await proxy.up();
    const url = new URL(created.url);
    url.host = `127.0.0.1:${proxy.port}`;
    const db = await openPostgres(url.toString(), { connectionTimeoutMillis: 1000 });
    await migrate(db);
    store = storeOn(db);
    server = createServer(createApp({ store, token: 'outage-token-123', readyTimeoutMs: 1500 }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await proxy.up().catch(() => undefined);
    await store.close().catch(() => undefined);
    await proxy.down();
    await created.drop();
  });

  it('reports 503 while the database is away and recovers without a restart', async () => {
    const create = (mnId: string) => fetch(`${base}/api/v1/profiles`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ mnId, hnps: [] }) });
    assert.equal((await create('before@example.net')).status, 201);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);

    await proxy.down();
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { checks: { database: { status: string } } }).checks.database.status, 'down');
    const during = await create('during@example.net');
    assert.equal(during.status, 503);
    assert.equal(during.headers.get('retry-after'), '5');
    assert.equal(((await during.json()) as { error: { code: string } }).error.code, 'database_unavailable');
    const list = await fetch(`${base}/api/v1/profiles`, { headers: auth });
    assert.equal(list.status, 503);

    await proxy.up();
    let readyAgain = 0;
    for (let i = 0; i < 20 && readyAgain !== 200; i++) {
      readyAgain = (await fetch(`${base}/readyz`)).status;
      if (readyAgain !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(readyAgain, 200);
    assert.equal((await create('after@example.net')).status, 201);
    const names = ((await (await fetch(`${base}/api/v1/profiles`, { headers: auth })).json()) as { items: { mnId: string }[] }).items.map((p) => p.mnId);
    assert.deepEqual(names.sort(), ['after@example.net', 'before@example.net'], 'nothing half-written during the outage');
  });
});
