// Issue 9: 100,000 RADIUS packets from sources that are not clients, against the RADIUS role
// as pmip6 runs it (StoreRadiusPolicy on PGlite, the client table in memory from the peer
// directory): each dropped from memory (no database query, nothing remembered per source),
// while a provisioned client still gets its Access-Accept. A client added through the store
// is served as soon as its change notification arrives.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { AttrWriter } from '../../src/radius/attrs.ts';
import { RadiusAaaClient } from '../../src/radius/client.ts';
import { encodeRequest } from '../../src/radius/codec.ts';
import { Attr, Code } from '../../src/radius/constants.ts';
import { RadiusServer } from '../../src/radius/server.ts';
import { StoreRadiusPolicy } from '../../src/main/radius-policy.ts';
import { openPeerDirectory, type PeerDirectory } from '../../src/store/peer-directory.ts';
import { aaaClientInputSchema, profileInputSchema } from '../../src/policy/validate.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { migrate } from '../../src/store/migrate.ts';
import { storeOn, type Store } from '../../src/store/index.ts';
import type { Db } from '../../src/store/db.ts';
import { until } from '../helpers/until.ts';
import { heapAfterGc } from '../helpers/heap.ts';

const SECRET = 'flood-test-secret';

describe('issue 9: RADIUS packets from unknown sources', () => {
  let store: Store;
  let peers: PeerDirectory;
  let server: RadiusServer;
  let queries = 0;

  before(async () => {
    const db = await openPglite();
    await migrate(db);
    store = storeOn({ ...db, query: (sql: string, params?: unknown[]) => ((queries++), db.query(sql, params)) } as Db);
    await store.aaaClients.create(aaaClientInputSchema.parse({ kind: 'radius', name: 'mag1', address: '127.0.0.1', secret: SECRET }), 'test');
    await store.profiles.create(profileInputSchema.parse({ mnId: 'mn1@example.net', hnps: ['2001:db8:1:1::/64'] }), 'test');
    peers = await openPeerDirectory(store);
    server = new RadiusServer({ policy: new StoreRadiusPolicy(store, { peers }), hosts: ['127.0.0.1'], authPort: 0, acctPort: 0 });
    peers.onChange(() => server.invalidateClients());
    await server.start();
  });
  after(async () => {
    await server.stop();
    await peers.close();
    await store.close();
  });

  it('100,000 Access-Requests from 64 unknown sources: dropped from memory, no database query; the client is still served', async () => {
    const socks: dgram.Socket[] = [];
    for (let i = 0; i < 64; i++) {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, `127.0.1.${i + 2}`, r));
      socks.push(s);
    }
    const client = new RadiusAaaClient({ servers: [{ host: '127.0.0.1', port: server.ports.auth, secret: SECRET }], nasIdentifier: 'mag1', timeoutMs: 300, retries: 5, cacheTtlMs: 0 });
    const q0 = queries;
    const unknown0 = server.stat('unknown_client');
    const heap0 = heapAfterGc();
    let accepts = 0;
    try {
      for (let n = 0; n < 100_000; n++) {
        const w = new AttrWriter().text(Attr.UserName, `forged${n}@example.net`).text(Attr.NasIdentifier, 'x');
        const { packet } = encodeRequest(Code.AccessRequest, n & 0xff, w.bytes(), Buffer.from('guess'), true);
        socks[n % socks.length].send(packet, server.ports.auth, '127.0.0.1');
        if (n % 10_000 === 5_000) {
          const r = await client.authorize({ userName: 'mn1@example.net' });
          if (r.status === 'accept') accepts++;
        }
        if (n % 64 === 63) await new Promise((r) => setImmediate(r)); // one datagram per source, then let the server read
      }
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      client.close();
      for (const s of socks) s.close();
    }
    const dropped = server.stat('unknown_client') - unknown0;
    assert.equal(accepts, 10, 'the provisioned client got every Accept during the flood');
    assert.ok(dropped > 50_000, `unknown sources dropped: ${dropped}`);
    // The 10 legitimate requests read one profile each (batched); the flood reads nothing.
    assert.ok(queries - q0 <= 10, `database queries during the flood: ${queries - q0}`);
    const grown = heapAfterGc() - heap0;
    assert.ok(grown < 8 * 1024 * 1024, `heap grew by ${grown} bytes`);
  });

  it('a client added through the store is served once its notification arrives (no restart)', async () => {
    await store.aaaClients.create(aaaClientInputSchema.parse({ kind: 'radius', name: 'mag2', address: '127.0.0.3', secret: 'second-secret' }), 'test');
    await until('the new client in the table', () => peers.radiusClient('127.0.0.3'));
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.3', r));
    try {
      const w = new AttrWriter().text(Attr.UserName, 'mn1@example.net').text(Attr.NasIdentifier, 'mag2');
      const { packet } = encodeRequest(Code.AccessRequest, 1, w.bytes(), Buffer.from('second-secret'), true);
      const reply = new Promise<Buffer>((r) => sock.once('message', r));
      sock.send(packet, server.ports.auth, '127.0.0.1');
      assert.equal((await reply)[0], Code.AccessAccept);
    } finally {
      sock.close();
    }
  });
});
