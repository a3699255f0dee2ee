// The MAG/LMA RADIUS client: retransmission, failover, cache, and response validation.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { AttrWriter } from '../../src/radius/attrs.ts';
import { RadiusAaaClient } from '../../src/radius/client.ts';
import { decodePacket, encodeResponse } from '../../src/radius/codec.ts';
import { Attr, Code } from '../../src/radius/constants.ts';
import { SECRET, startServer } from './helpers.ts';

/** A scripted UDP server: `answer(n, pkt)` decides per received datagram (n from 0). */
async function fakeServer(answer: (n: number, pkt: Buffer) => Buffer | null): Promise<{ port: number; received: Buffer[]; close: () => void }> {
  const sock = dgram.createSocket('udp4');
  const received: Buffer[] = [];
  sock.on('message', (m, r) => {
    const resp = answer(received.length, m);
    received.push(m);
    if (resp) sock.send(resp, r.port, r.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { port: sock.address().port, received, close: () => sock.close() };
}

function acceptFor(req: Buffer, secret: string, withMa = true): Buffer {
  const d = decodePacket(req);
  assert.ok(d.ok);
  const attrs = new AttrWriter().ipv6(Attr.Pmip6HomeLmaIpv6Address, '2001:db8::7').ipv6Prefix(Attr.Pmip6HomeHnPrefix, '2001:db8:7::/64').bytes();
  return encodeResponse(Code.AccessAccept, d.packet.identifier, d.packet.authenticator, attrs, Buffer.from(secret), withMa);
}

describe('RADIUS client (MAG/LMA side)', () => {
  let real: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    real = await startServer();
  });
  after(async () => real.server.stop());

  it('RFC 5080 §2.2.1: retransmits the identical packet after a timeout', async () => {
    const fake = await fakeServer((n, pkt) => (n === 0 ? null : acceptFor(pkt, SECRET)));
    const c = new RadiusAaaClient({ servers: [{ host: '127.0.0.1', port: fake.port, secret: SECRET }], nasIdentifier: 'mag1', timeoutMs: 100, retries: 2 });
    try {
      const r = await c.authorize({ userName: 'a@example.net' });
      assert.equal(r.status, 'accept');
      assert.equal(fake.received.length, 2);
      assert.deepEqual(fake.received[1], fake.received[0], 'same Identifier, Authenticator and attributes');
      assert.equal(fake.received[0][20], Attr.MessageAuthenticator, 'Message-Authenticator first in our requests');
    } finally {
      c.close();
      fake.close();
    }
  });

  it('fails over to the next server and remembers the dead one', async () => {
    const silent = await fakeServer(() => null);
    const c = new RadiusAaaClient({
      servers: [{ host: '127.0.0.1', port: silent.port, secret: SECRET, name: 'primary' }, { host: '127.0.0.1', port: real.auth, secret: SECRET, name: 'secondary' }],
      nasIdentifier: 'mag1', timeoutMs: 100, retries: 1, deadTimeMs: 60_000, cacheTtlMs: 0,
    });
    try {
      const r = await c.authorize({ userName: 'mn1@example.net' });
      assert.ok(r.status === 'accept');
      assert.equal(r.server, 'secondary');
      assert.equal(silent.received.length, 2, 'first send + one retransmission');
      const r2 = await c.authorize({ userName: 'mn1@example.net' });
      assert.ok(r2.status === 'accept' && r2.server === 'secondary');
      assert.equal(silent.received.length, 2, 'dead server skipped while its dead time runs');
    } finally {
      c.close();
      silent.close();
    }
  });

  it('all servers silent: a typed timeout', async () => {
    const silent = await fakeServer(() => null);
    const c = new RadiusAaaClient({ servers: [{ host: '127.0.0.1', port: silent.port, secret: SECRET }], nasIdentifier: 'mag1', timeoutMs: 50, retries: 1 });
    try {
      assert.deepEqual(await c.authorize({ userName: 'x@example.net' }), { status: 'error', error: 'timeout' });
    } finally {
      c.close();
      silent.close();
    }
  });

  it('caches an Accept for the configured time; invalidate() forgets it', async () => {
    let now = 1_000_000;
    const c = new RadiusAaaClient({ servers: [{ host: '127.0.0.1', port: real.auth, secret: SECRET }], nasIdentifier: 'mag1', cacheTtlMs: 5000, now: () => now });
    try {
      const sent = (): number => real.server.stat('request:access');
      const n0 = sent();
      const a = await c.authorize({ userName: 'mn1@example.net' });
      assert.ok(a.status === 'accept' && !a.cached);
      const b = await c.authorize({ userName: 'mn1@example.net' });
      assert.ok(b.status === 'accept' && b.cached);
      assert.equal(sent(), n0 + 1);
      now += 6000;
      const d = await c.authorize({ userName: 'mn1@example.net' });
      assert.ok(d.status === 'accept' && !d.cached, 'expired');
      c.invalidate('mn1@example.net');
      const e = await c.authorize({ userName: 'mn1@example.net' });
      assert.ok(e.status === 'accept' && !e.cached);
      assert.equal(sent(), n0 + 3);
      // Concurrent identical requests share one exchange.
      c.invalidate('mn1@example.net');
      await Promise.all([c.authorize({ userName: 'mn1@example.net' }), c.authorize({ userName: 'mn1@example.net' })]);
      assert.equal(sent(), n0 + 4);
      // Rejects are not cached.
      await c.authorize({ userName: 'nobody@example.net' });
      await c.authorize({ userName: 'nobody@example.net' });
      assert.equal(sent(), n0 + 6);
    } finally {
      c.close();
    }
  });

  it('RFC 2865 §3 / RFC 3579 §3.2: forged or unsigned responses are discarded', async () => {
    // First answer signed with the wrong secret, second without Message-Authenticator, third good.
    const fake = await fakeServer((n, pkt) => (n === 0 ? acceptFor(pkt, 'wrong') : n === 1 ? acceptFor(pkt, SECRET, false) : acceptFor(pkt, SECRET)));
    const c = new RadiusAaaClient({ servers: [{ host: '127.0.0.1', port: fake.port, secret: SECRET }], nasIdentifier: 'mag1', timeoutMs: 80, retries: 3 });
    try {
      const r = await c.authorize({ userName: 'a@example.net' });
      assert.ok(r.status === 'accept');
      assert.equal(fake.received.length, 3);
      assert.equal(r.profile.homeLmaIpv6, '2001:db8::7');
    } finally {
      c.close();
      fake.close();
    }
  });

  it('RFC 6572 §4.1: a contradictory vector in an Accept is treated as a Reject', async () => {
    const fake = await fakeServer((_n, pkt) => {
      const d = decodePacket(pkt);
      assert.ok(d.ok);
      const attrs = new AttrWriter().integer64(Attr.Mip6FeatureVector, 0x0001030000000000n).bytes();
      return encodeResponse(Code.AccessAccept, d.packet.identifier, d.packet.authenticator, attrs, Buffer.from(SECRET));
    });
    const c = new RadiusAaaClient({ servers: [{ host: '127.0.0.1', port: fake.port, secret: SECRET }], nasIdentifier: 'mag1', timeoutMs: 200 });
    try {
      const r = await c.authorize({ userName: 'a@example.net' });
      assert.equal(r.status, 'error');
      assert.ok(r.status === 'error' && r.error === 'malformed_accept');
    } finally {
      c.close();
      fake.close();
    }
  });
});
