// Issue 9: 100,000 unauthenticated API requests to random paths, over real HTTP/1.1 (pipelined
// on a few connections): every one refused, the metric series stay the same few (the route
// template or 'unmatched', never the request path) and the heap does not grow with them.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../src/api/app.ts';
import { registry } from '../../src/metrics/registry.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { migrate } from '../../src/store/migrate.ts';
import { storeOn, type Store } from '../../src/store/index.ts';
import { heapAfterGc } from '../helpers/heap.ts';

/** Sends `n` pipelined requests on one connection; resolves with the status codes seen. */
function pipeline(port: number, n: number, path: (i: number) => string): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const codes = new Map<string, number>();
    let seen = 0;
    let tail = '';
    sock.setEncoding('latin1');
    sock.on('data', (chunk: string) => {
      const text = tail + chunk;
      const re = /HTTP\/1\.1 (\d{3})/g;
      let m: RegExpExecArray | null;
      let last = 0;
      while ((m = re.exec(text)) !== null) {
        codes.set(m[1], (codes.get(m[1]) ?? 0) + 1);
        seen++;
        last = re.lastIndex;
      }
      tail = text.slice(Math.max(last, text.length - 16));
      if (seen === n) {
        sock.end();
        resolve(codes);
      }
    });
    sock.on('error', reject);
    let i = 0;
    const write = (): void => {
      while (i < n) {
        const method = i % 3 === 0 ? 'POST' : 'GET';
        const req = `${method} ${path(i)} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n${i % 2 ? 'Authorization: Bearer wrong\r\n' : ''}\r\n`;
        i++;
        if (!sock.write(req)) {
          sock.once('drain', write);
          return;
        }
      }
    };
    write();
  });
}

const series = (): number => {
  const m = registry.getSingleMetric('pmip6_api_requests_total') as unknown as { hashMap: Record<string, unknown> } | undefined;
  return m ? Object.keys(m.hashMap).length : 0;
};

describe('issue 9: unauthenticated API flood', () => {
  let store: Store;
  let server: Server;
  let port: number;

  before(async () => {
    const db = await openPglite();
    await migrate(db);
    store = storeOn(db);
    server = createServer(createApp({ store, token: 'the-right-token-1234' }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await store.close();
  });

  it('100,000 requests to random paths: all refused, metric series and heap flat', async () => {
    const rnd = (i: number) => `/${i % 5 === 0 ? 'api/v1/' : ''}${(i * 2654435761 >>> 0).toString(36)}/${i}?q=${i}`;
    await Promise.all([0, 1].map((c) => pipeline(port, 1000, (i) => rnd(i + c * 1000)))); // warm-up: JIT, first series
    const series0 = series();
    const heap0 = heapAfterGc();
    const per = 25_000;
    const results = await Promise.all([0, 1, 2, 3].map((c) => pipeline(port, per, (i) => rnd(10_000 + c * per + i))));
    const codes = new Map<string, number>();
    for (const r of results) for (const [k, v] of r) codes.set(k, (codes.get(k) ?? 0) + v);
    assert.equal([...codes.values()].reduce((a, b) => a + b, 0), 100_000);
    assert.deepEqual([...codes.keys()].sort(), ['401', '404'], 'refused (401 under /api/v1, 404 elsewhere), nothing served');
    assert.equal(series(), series0, 'no metric series per path');
    assert.ok(series() <= 8, `metric series: ${series()}`);
    const grown = heapAfterGc() - heap0;
    assert.ok(grown < 8 * 1024 * 1024, `heap grew by ${grown} bytes`);
    const text = await registry.metrics();
    assert.doesNotMatch(text, /route="\/[0-9a-z]+\/\d+/, 'no request path in a label');
  });
});
