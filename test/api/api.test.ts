// Operator API over real HTTP on an embedded store: every resource, every error path,
// bulk import, and the OpenAPI document checked against the real routes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openPglite } from '../../src/store/pglite.ts';
import { migrate } from '../../src/store/migrate.ts';
import { storeOn, type Store } from '../../src/store/index.ts';
import { createApp } from '../../src/api/app.ts';
import { routeDocs } from '../../src/api/http.ts';
import { toOpenApiPath } from '../../src/api/openapi.ts';
import type { Express } from 'express';

const TOKEN = 'test-token-0123456789';

describe('operator API (/api/v1)', () => {
  let store: Store;
  let server: Server;
  let app: Express;
  let base: string;
  const changes: { before: unknown; after: unknown }[] = [];
  /** Peer-directory reloads the API finished before answering (onPeerChange). */
  const peerReloads: string[] = [];

  const call = async (method: string, path: string, body?: unknown, opts: { token?: string | null; type?: string; raw?: string } = {}) => {
    const headers: Record<string, string> = {};
    const tok = opts.token === undefined ? TOKEN : opts.token;
    if (tok) headers.authorization = `Bearer ${tok}`;
    let payload: string | undefined;
    if (opts.raw !== undefined) {
      payload = opts.raw;
      headers['content-type'] = opts.type ?? 'application/json';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${base}${path}`, { method, headers, body: payload });
    const text = await res.text();
    let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, body: json };
  };

  before(async () => {
    const db = await openPglite();
    await migrate(db);
    store = storeOn(db);
    app = createApp({
      store, token: TOKEN, onProfileChange: (c) => changes.push(c),
      onPeerChange: async (t) => {
        await new Promise((r) => setTimeout(r, 5)); // an answer sent before this resolves would miss the push below
        peerReloads.push(t);
      },
    });
    server = createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await store.close();
  });

  it('requires the bearer token on /api/v1 (401 without it or with a wrong one)', async () => {
    assert.equal((await call('GET', '/api/v1/profiles', undefined, { token: null })).status, 401);
    const wrong = await call('GET', '/api/v1/profiles', undefined, { token: 'nope' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.code, 'unauthorized');
    assert.equal((await call('GET', '/healthz', undefined, { token: null })).status, 200);
  });

  it('creates a profile from the documented JSON and lists, reads, patches, replaces and deletes it', async () => {
    const c = await call('POST', '/api/v1/profiles', { mnId: 'mn1@example.net', hnps: ['2001:db8:1:1::/64'], lma: '2001:db8::1' });
    assert.equal(c.status, 201);
    assert.deepEqual(c.body.hnps, ['2001:db8:1:1::/64']);
    assert.equal(c.body.lma, '2001:db8::1');
    const g = await call('GET', `/api/v1/profiles/${encodeURIComponent('mn1@example.net')}`);
    assert.equal(g.status, 200);
    assert.equal(g.body.mnId, 'mn1@example.net');
    const p = await call('PATCH', '/api/v1/profiles/mn1@example.net', { ipv4HoA: '10.0.0.5', ipv4PrefixLength: 24, interfaceId: '02005EFFFE005213' });
    assert.equal(p.status, 200);
    assert.equal(p.body.ipv4HoA, '10.0.0.5');
    assert.equal(p.body.interfaceId, '0200:5eff:fe00:5213', 'RFC 6572 §4.10 interface identifier, canonical form');
    assert.deepEqual(p.body.hnps, ['2001:db8:1:1::/64']);
    const put = await call('PUT', '/api/v1/profiles/mn1@example.net', { hnps: ['2001:db8:1:2::/64'], enabled: false });
    assert.equal(put.status, 200);
    assert.equal(put.body.ipv4HoA, null, 'PUT replaces: omitted fields take their defaults');
    assert.equal(put.body.enabled, false);
    assert.equal(changes.length, 2, 'the change hook (RADIUS CoA) saw both updates');
    const l = await call('GET', '/api/v1/profiles?enabled=false&limit=10');
    assert.equal(l.body.total, 1);
    assert.equal(l.body.limit, 10);
    assert.equal((await call('DELETE', '/api/v1/profiles/mn1@example.net')).status, 204);
    assert.equal((await call('GET', '/api/v1/profiles/mn1@example.net')).status, 404);
  });

  it('paginates and filters the profile list', async () => {
    for (let i = 0; i < 7; i++) assert.equal((await call('POST', '/api/v1/profiles', { mnId: `page${i}@example.net`, hnps: [`2001:db8:70:${i}::/64`] })).status, 201);
    const p1 = await call('GET', '/api/v1/profiles?q=page&limit=3&offset=0');
    const p3 = await call('GET', '/api/v1/profiles?q=page&limit=3&offset=6');
    assert.equal(p1.body.total, 7);
    assert.equal(p1.body.items.length, 3);
    assert.equal(p3.body.items.length, 1);
    assert.equal((await call('GET', '/api/v1/profiles?hnp=2001:db8:70:3::/64')).body.items[0].mnId, 'page3@example.net');
    const bad = await call('GET', '/api/v1/profiles?limit=0');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /limit/);
  });

  it('rejects invalid JSON, wrong types, malformed prefixes and addresses with a 400 naming the field', async () => {
    const cases: [unknown, string, string?][] = [
      [undefined, '(body)', '{"mnId": '],
      [{ mnId: 42 }, 'mnId'],
      [{ mnId: 'x@example.net', hnps: '2001:db8::/64' }, 'hnps'],
      [{ mnId: 'x@example.net', hnps: ['2001:db8::/129'] }, 'hnps.0'],
      [{ mnId: 'x@example.net', hnps: ['2001:db8::1/64'] }, 'hnps.0'],
      [{ mnId: 'x@example.net', hnps: ['10.0.0.0/8'] }, 'hnps.0'],
      [{ mnId: 'x@example.net', ipv4HoA: '10.0.0.300' }, 'ipv4HoA'],
      [{ mnId: 'x@example.net', lma: 'not an address!' }, 'lma'],
      [{ mnId: 'x@example.net', enabled: 'yes' }, 'enabled'],
      [{ mnId: 'x@example.net', colour: 'blue' }, '(body)'],
      [{ mnId: 'x@example.net', mip6FeatureVector: '0x1ffffffffffffffff' }, 'mip6FeatureVector'],
      [{ mnId: 'x@example.net', interfaceId: '0200:5eff:fe00' }, 'interfaceId'],
    ];
    for (const [body, field, raw] of cases) {
      const r = raw !== undefined ? await call('POST', '/api/v1/profiles', undefined, { raw }) : await call('POST', '/api/v1/profiles', body);
      assert.equal(r.status, 400, JSON.stringify(body ?? raw));
      if (raw === undefined) assert.ok(r.body.error.fields.some((f: { field: string }) => f.field === field), `${JSON.stringify(body)} -> ${JSON.stringify(r.body)}`);
      else assert.equal(r.body.error.code, 'invalid_json');
    }
    assert.equal((await call('GET', '/api/v1/profiles/x@example.net')).status, 404, 'nothing was written');
  });

  it('answers 409 for duplicate identifiers, taken prefixes and overlapping pools, 422 for unknown pools', async () => {
    assert.equal((await call('POST', '/api/v1/profiles', { mnId: 'd@example.net', hnps: ['2001:db8:d::/64'] })).status, 201);
    const dup = await call('POST', '/api/v1/profiles', { mnId: 'd@example.net', hnps: ['2001:db8:e::/64'] });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.fields[0].field, 'mnId');
    const taken = await call('POST', '/api/v1/profiles', { mnId: 'e@example.net', hnps: ['2001:db8:d::/48'] });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.error.fields[0].field, 'hnps');
    assert.equal((await call('POST', '/api/v1/pools', { name: 'p1', prefix: '2001:db8:100::/48', assignLength: 64 })).status, 201);
    const ov = await call('POST', '/api/v1/pools', { name: 'p2', prefix: '2001:db8:100::/40' });
    assert.equal(ov.status, 409);
    assert.equal(ov.body.error.fields[0].field, 'prefix');
    const badLen = await call('POST', '/api/v1/pools', { name: 'p3', prefix: '10.0.0.0/24', assignLength: 30 });
    assert.equal(badLen.status, 400);
    const unknown = await call('POST', '/api/v1/profiles', { mnId: 'f@example.net', hnpPool: 'nope' });
    assert.equal(unknown.status, 422);
    assert.equal(unknown.body.error.fields[0].field, 'hnpPool');
    const fromPool = await call('POST', '/api/v1/profiles', { mnId: 'g@example.net', hnpPool: 'p1' });
    assert.equal(fromPool.status, 201);
    assert.deepEqual(fromPool.body.hnps, ['2001:db8:100::/64']);
    assert.equal((await call('GET', '/api/v1/pools/p1')).body.used, 1);
    assert.equal((await call('DELETE', '/api/v1/pools/p1')).status, 409, 'a pool in use cannot go');
  });

  it('imports CSV all-or-nothing, reporting every bad row with its line number', async () => {
    const bad = ['mnId,hnps,ipv4HoA,lma', 'imp1@example.net,2001:db8:a0::/64,,2001:db8::1', 'imp2@example.net,2001:db8:a1::1/64,,', 'imp3@example.net,,10.1.1.999,', 'imp1@example.net,2001:db8:a2::/64,,', 'imp4@example.net,2001:db8:d::/64,,'].join('\n');
    const r = await call('POST', '/api/v1/profiles/import', undefined, { raw: bad, type: 'text/csv' });
    assert.equal(r.status, 422);
    assert.equal(r.body.ok, false);
    assert.equal(r.body.imported, 0);
    const lines = r.body.errors.map((e: { line: number }) => e.line);
    assert.deepEqual(lines, [3, 4, 5, 6], JSON.stringify(r.body.errors));
    assert.equal(r.body.errors.find((e: { line: number }) => e.line === 6).field, 'hnps', 'a prefix already in the store is caught too');
    assert.equal((await call('GET', '/api/v1/profiles/imp1@example.net')).status, 404, 'nothing imported');
    const good = ['mnId,hnps,lma,enabled', 'imp1@example.net,2001:db8:a0::/64;2001:db8:a3::/64,2001:db8::1,true', '"imp2@example.net",2001:db8:a1::/64,,false'].join('\r\n');
    const ok = await call('POST', '/api/v1/profiles/import', undefined, { raw: good, type: 'text/csv' });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(ok.body.imported, 2);
    assert.deepEqual((await call('GET', '/api/v1/profiles/imp1@example.net')).body.hnps, ['2001:db8:a0::/64', '2001:db8:a3::/64']);
    const js = await call('POST', '/api/v1/profiles/import?dryRun=true', [{ mnId: 'j1@example.net' }, { mnId: 'j2@example.net', hnps: ['bad'] }]);
    assert.equal(js.status, 422);
    assert.deepEqual(js.body.errors.map((e: { line: number }) => e.line), [2]);
  });

  it('manages LMAs, MAGs and AAA clients; secrets are write-only', async () => {
    assert.equal((await call('POST', '/api/v1/lmas', { name: 'lma1', ipv6Address: '2001:db8::1' })).status, 201);
    assert.equal((await call('POST', '/api/v1/lmas', { name: 'lma2' })).status, 400);
    assert.equal((await call('PUT', '/api/v1/lmas/lma1', { ipv6Address: '2001:db8::1', adminState: 'drain' })).body.adminState, 'drain');
    const m = await call('POST', '/api/v1/mags', { id: 'mag1', proxyCoa: ['2001:db8:f::1'], authorized: true });
    assert.equal(m.status, 201);
    assert.deepEqual(peerReloads, ['mags'], 'the MAG table is current in this process before the 201');
    assert.equal((await call('POST', '/api/v1/mags', { id: 'mag2', proxyCoa: ['2001:db8:f::1'] })).status, 409);
    assert.equal((await call('POST', '/api/v1/mags', { id: 'mag3', proxyCoa: ['nope'] })).status, 400);
    const c = await call('POST', '/api/v1/aaa-clients', { kind: 'radius', address: '192.0.2.10', secret: 'supersecret' });
    assert.equal(c.status, 201);
    assert.equal(c.body.secret, undefined);
    assert.equal(c.body.hasSecret, true);
    assert.deepEqual(peerReloads, ['mags', 'aaa_clients'], 'the client table is current in this process before the 201');
    const list = await call('GET', '/api/v1/aaa-clients');
    assert.ok(!JSON.stringify(list.body).includes('supersecret'));
    assert.equal((await call('POST', '/api/v1/aaa-clients', { kind: 'radius', address: '192.0.2.10', secret: 'anothersecret' })).status, 409);
    assert.equal((await call('POST', '/api/v1/aaa-clients', { kind: 'radius', address: '192.0.2.11', secret: 'short' })).status, 400);
    assert.equal((await call('POST', '/api/v1/aaa-clients', { kind: 'diameter', identity: 'mag1.example.net', realm: 'example.net' })).status, 201);
    // Diameter peers: who may claim the identity (RFC 6733 §5.3): addresses/prefixes, a TLS certificate fingerprint.
    const d = await call('POST', '/api/v1/aaa-clients', { kind: 'diameter', identity: 'mag2.example.net', realm: 'example.net', allowedAddresses: ['2001:db8:f::1', '192.0.2.0/24'], tlsFingerprint: 'AB:'.repeat(31) + 'AB' });
    assert.equal(d.status, 201);
    assert.deepEqual(d.body.allowedAddresses, ['2001:db8:f::1/128', '192.0.2.0/24']);
    assert.equal(d.body.tlsFingerprint, 'ab'.repeat(32));
    assert.equal((await call('POST', '/api/v1/aaa-clients', { kind: 'diameter', identity: 'mag3.example.net', realm: 'example.net', allowedAddresses: ['not-an-ip'] })).status, 400);
    assert.equal((await call('POST', '/api/v1/aaa-clients', { kind: 'diameter', identity: 'mag3.example.net', realm: 'example.net', tlsFingerprint: 'abc' })).status, 400);
    assert.equal((await call('GET', '/api/v1/aaa-clients/abc')).status, 400);
    assert.equal((await call('DELETE', `/api/v1/aaa-clients/${c.body.id}`)).status, 204);
    const audit = await call('GET', '/api/v1/audit?resource=aaa-client');
    assert.ok(audit.body.items.length >= 3);
    const page = await call('GET', '/api/v1/audit?resource=aaa-client&limit=1');
    assert.equal(page.body.items.length, 1);
    assert.equal(page.body.total, audit.body.items.length, 'total counts every entry, not the page');
    assert.ok(!JSON.stringify(audit.body).includes('supersecret'));
  });

  it('serves read-only bindings and accounting', async () => {
    const now = Date.now();
    await store.bindings.upsert({ lmaId: 'lma1', sessionKey: 'k', mnId: 'b@example.net', mnLlId: null, att: 4, proxyCoa: '2001:db8:f::1', hnps: ['2001:db8:b::/64'], ipv4HoA: null, lifetimeS: 30, registeredAt: new Date(now), expiresAt: new Date(now + 30000), state: {} });
    const b = await call('GET', '/api/v1/bindings');
    assert.equal(b.status, 200);
    assert.equal(b.body.items[0].mnId, 'b@example.net');
    assert.equal((await call('GET', '/api/v1/bindings/b@example.net')).body.total, 1);
    assert.equal((await call('GET', '/api/v1/bindings/nobody@example.net')).status, 404);
    assert.equal((await call('POST', '/api/v1/bindings', {})).status, 404, 'bindings are read-only');
    await store.accounting.record({ statusType: 'Start', sessionId: 's', mnId: 'b@example.net', nasAddress: null, nasIdentifier: 'mag1', clientAddress: '127.0.0.1' });
    assert.equal((await call('GET', '/api/v1/accounting?mnId=b@example.net')).body.total, 1);
  });

  it('publishes /metrics and /readyz', async () => {
    const m = await fetch(`${base}/metrics`);
    assert.match(await m.text(), /pmip6_api_requests_total\{method="POST",route="\/profiles",status="201"\}/);
    const r = await call('GET', '/readyz', undefined, { token: null });
    assert.equal(r.status, 200);
    assert.equal(r.body.checks.database.status, 'up');
  });

  it('OpenAPI document matches the real routes, both ways', async () => {
    const doc = (await call('GET', '/openapi.json', undefined, { token: null })).body;
    assert.equal(doc.openapi, '3.1.0');
    // Walk express's real router stack for /api/v1 routes.
    const real = new Set<string>();
    const walk = (stack: any[], prefix: string) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      for (const layer of stack) {
        if (layer.route) for (const m of Object.keys(layer.route.methods)) real.add(`${m} ${prefix}${toOpenApiPath(layer.route.path)}`);
        else if (layer.handle?.stack) walk(layer.handle.stack, prefix + (typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : ''));
      }
    };
    walk((app as any).router.stack, ''); // eslint-disable-line @typescript-eslint/no-explicit-any
    const documented = new Set<string>();
    for (const [p, ops] of Object.entries(doc.paths as Record<string, object>)) for (const m of Object.keys(ops)) documented.add(`${m} ${p}`);
    const apiReal = [...real].filter((r) => r.includes('/api/v1/'));
    assert.ok(apiReal.length >= 25, `found ${apiReal.length} real routes`);
    for (const r of real) assert.ok(documented.has(r), `route ${r} is not documented`);
    for (const d of documented) assert.ok(real.has(d), `documented ${d} has no route`);
    assert.equal(routeDocs.length, apiReal.length);
    for (const [, ops] of Object.entries(doc.paths as Record<string, Record<string, { responses: object }>>)) {
      for (const op of Object.values(ops)) assert.ok(op.responses, 'every operation documents its responses');
    }
  });
});
