// Server behaviour with real sockets on loopback: RFC 5080 duplicates, RFC 2866 answer-after-
// commit, per-client rate limit, drop causes, and the RFC 6572 answers as our client parses them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AttrWriter } from '../../src/radius/attrs.ts';
import { RadiusAaaClient } from '../../src/radius/client.ts';
import { decodePacket, encodeRequest, verifyResponse } from '../../src/radius/codec.ts';
import { Attr, Code } from '../../src/radius/constants.ts';
import { registry } from '../../src/metrics/registry.ts';
import { FeatureVector } from '../../src/policy/profile.ts';
import { makeProfile } from '../../src/radius/memory-policy.ts';
import { SECRET, exchange, fixturePolicy, startServer } from './helpers.ts';

const S = Buffer.from(SECRET);

function accessRequest(id: number, user = 'mn1@example.net'): { packet: Buffer; authenticator: Buffer } {
  const w = new AttrWriter().text(Attr.UserName, user).text(Attr.NasIdentifier, 'mag1');
  return encodeRequest(Code.AccessRequest, id, w.bytes(), S, true);
}

describe('RADIUS server', () => {
  let ctx: Awaited<ReturnType<typeof startServer>>;
  let client: RadiusAaaClient;

  before(async () => {
    ctx = await startServer(fixturePolicy(), { rateLimit: { perSecond: 1_000_000, burst: 1_000_000 } });
    client = new RadiusAaaClient({ servers: [{ host: '127.0.0.1', port: ctx.auth, acctPort: ctx.acct, secret: SECRET }], nasIdentifier: 'mag1', timeoutMs: 500, retries: 1, cacheTtlMs: 0 });
  });
  after(async () => {
    client.close();
    await ctx.server.stop();
  });

  it('RFC 6572 §5.1: the MAG client gets a typed profile from the Accept', async () => {
    const r = await client.authorize({ userName: 'mn1@example.net', serviceSelection: 'internet', featureVector: FeatureVector.PMIP6_SUPPORTED | FeatureVector.IP4_HOA_SUPPORTED });
    assert.equal(r.status, 'accept');
    assert.ok(r.status === 'accept');
    assert.equal(r.profile.mnId, 'mn1@example.net');
    assert.equal(r.profile.homeLmaIpv6, '2001:db8::1');
    assert.deepEqual(r.profile.hnps, ['2001:db8:1:1::/64', '2001:db8:2::/48']);
    assert.deepEqual(r.profile.ipv4HoA, { address: '10.0.0.5', prefixLength: 24 });
    assert.equal(r.profile.ipv4Gateway, '10.0.0.1');
    assert.equal(r.profile.interfaceId, '0211:22ff:fe33:4455');
    assert.equal(r.profile.featureVector, FeatureVector.PMIP6_SUPPORTED | FeatureVector.IP4_HOA_SUPPORTED);
  });

  it('RFC 6572 §4.1/RFC 5447: the authorised vector is the intersection; IPv4 withheld when not asked', async () => {
    const r = await client.authorize({ userName: 'mn1@example.net', featureVector: FeatureVector.PMIP6_SUPPORTED });
    assert.ok(r.status === 'accept');
    assert.equal(r.profile.featureVector, FeatureVector.PMIP6_SUPPORTED);
    assert.equal(r.profile.ipv4HoA, null);
    assert.equal(r.profile.hnps.length, 2);
  });

  it('RFC 6572 §4.1: a profile without a vector authorises what it provisions', async () => {
    ctx.policy.addProfile(makeProfile({ mnId: 'mn-novec@example.net', hnps: ['2001:db8:44::/64'], ipv4HoA: '10.4.0.4', ipv4PrefixLength: 24, lma: '2001:db8::1' }));
    const r = await client.authorize({ userName: 'mn-novec@example.net', featureVector: FeatureVector.PMIP6_SUPPORTED | FeatureVector.IP4_HOA_SUPPORTED });
    assert.ok(r.status === 'accept');
    assert.equal(r.profile.featureVector, FeatureVector.PMIP6_SUPPORTED | FeatureVector.IP4_HOA_SUPPORTED);
    assert.deepEqual(r.profile.ipv4HoA, { address: '10.4.0.4', prefixLength: 24 });
  });

  it('RFC 6572 §4.8: HN-Prefix on the wire has only the needed prefix octets', async () => {
    const { packet, authenticator } = accessRequest(9);
    const resp = await exchange(ctx.auth, packet);
    assert.ok(resp);
    const d = decodePacket(resp);
    assert.ok(d.ok);
    assert.equal(verifyResponse(d.packet, authenticator, S, true), 'ok');
    const hnps = d.packet.attributes.filter((a) => a.type === Attr.Pmip6HomeHnPrefix).map((a) => a.value.toString('hex'));
    assert.deepEqual(hnps, ['004020010db800010001', '003020010db80002']);
    assert.equal(d.packet.attributes[0].type, Attr.MessageAuthenticator);
  });

  it('RFC 6572 §6.1: LMA authorisation reports its prefix; a foreign prefix is refused with Reply-Message', async () => {
    const lma = new RadiusAaaClient({ servers: [{ host: '127.0.0.1', port: ctx.auth, secret: SECRET }], nasIdentifier: 'lma1', timeoutMs: 500, retries: 1 });
    try {
      const ok = await lma.authorizeLma({ mnId: 'mn1@example.net', lmaAddress: '2001:db8::1', hnps: ['2001:db8:1:1::/64'], ipv4HoA: 'delegate' });
      assert.ok(ok.status === 'accept');
      assert.deepEqual(ok.profile.hnps, ['2001:db8:1:1::/64', '2001:db8:2::/48']);
      assert.deepEqual(ok.profile.ipv4HoA, { address: '10.0.0.5', prefixLength: 24 });
      const bad = await lma.authorizeLma({ mnId: 'mn1@example.net', lmaAddress: '2001:db8::1', hnps: ['2001:db8:77::/64'] });
      assert.ok(bad.status === 'reject');
      assert.match(bad.replyMessage ?? '', /not the MN's/);
      const wrongLma = await lma.authorizeLma({ mnId: 'mn1@example.net', lmaAddress: '2001:db8::99' });
      assert.equal(wrongLma.status, 'reject');
    } finally {
      lma.close();
    }
  });

  it('RFC 6572 §6 (issue 9): Authorize-Only only from an LMA client, for its own address; a MAG client is refused', async () => {
    // A server where 127.0.0.1 is a MAG client.
    const magOnly = await startServer(fixturePolicy().addClient({ address: '127.0.0.1', secret: SECRET, requireMessageAuthenticator: true, name: 'mag1' }));
    const asMag = new RadiusAaaClient({ servers: [{ host: '127.0.0.1', port: magOnly.auth, secret: SECRET }], nasIdentifier: 'mag1', timeoutMs: 500, retries: 1 });
    const asLma = new RadiusAaaClient({ servers: [{ host: '127.0.0.1', port: ctx.auth, secret: SECRET }], nasIdentifier: 'lma1', timeoutMs: 500, retries: 1 });
    try {
      const fromMag = await asMag.authorizeLma({ mnId: 'mn1@example.net', lmaAddress: '127.0.0.1' });
      assert.equal(fromMag.status, 'reject');
      assert.match(fromMag.status === 'reject' ? fromMag.replyMessage ?? '' : '', /LMA clients only/);
      const elsewhere = await asLma.authorizeLma({ mnId: 'mn1@example.net', lmaAddress: '2001:db8::77' });
      assert.equal(elsewhere.status, 'reject');
      assert.match(elsewhere.status === 'reject' ? elsewhere.replyMessage ?? '' : '', /not the client's own/);
      assert.equal((await asLma.authorizeLma({ mnId: 'mn1@example.net', lmaAddress: '2001:db8::1' })).status, 'accept', 'one of its LMA addresses');
      const own = await asLma.authorizeLma({ mnId: 'mn1@example.net', lmaAddress: '127.0.0.1' });
      assert.doesNotMatch(own.status === 'reject' ? own.replyMessage ?? '' : '', /LMA clients only|not the client's own/, 'its source address is its own (the MN is anchored elsewhere: the policy decides)');
    } finally {
      asMag.close();
      asLma.close();
      await magOnly.server.stop();
    }
  });

  it('RFC 5080 §2.2.2: a retransmission gets the identical cached response', async () => {
    const { packet } = accessRequest(42);
    const dgram = await import('node:dgram');
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    try {
      const first = await exchange(ctx.auth, packet, { sock });
      const dups = ctx.server.stat('duplicate');
      const second = await exchange(ctx.auth, packet, { sock });
      assert.ok(first && second);
      assert.deepEqual(second, first);
      assert.equal(ctx.server.stat('duplicate'), dups + 1);
      // Same tuple, new authenticator: a new request, processed again.
      const fresh = accessRequest(42);
      const third = await exchange(ctx.auth, fresh.packet, { sock });
      assert.ok(third);
      assert.notDeepEqual(third, first);
      assert.equal(ctx.server.stat('duplicate'), dups + 1);
    } finally {
      sock.close();
    }
  });

  it('RFC 2866 §2: Accounting-Response only after the record is committed; none if it fails', async () => {
    ctx.policy.accountingDelayMs = 200;
    const t0 = Date.now();
    const r = await client.accounting({ statusType: 'start', sessionId: 'commit-1', userName: 'mn1@example.net', mnId: 'mn1@example.net' });
    assert.equal(r.ok, true);
    assert.ok(Date.now() - t0 >= 190, 'answer waited for the commit');
    assert.ok(ctx.policy.accounting.some((x) => x.sessionId === 'commit-1'));
    ctx.policy.accountingDelayMs = 0;
    // A failing store: no answer (client retransmits once, store fails twice, times out).
    ctx.policy.failNext = 2;
    const before = ctx.server.stat('policy_error');
    const lost = await client.accounting({ statusType: 'stop', sessionId: 'commit-2', userName: 'mn1@example.net' });
    assert.equal(lost.ok, false);
    assert.equal(ctx.server.stat('policy_error'), before + 2);
  });

  it('RFC 2865 §3: malformed and unexpected packets are dropped and counted per cause', async () => {
    const ok = accessRequest(1).packet;
    const cases: [string, Buffer][] = [
      ['short_packet', ok.subarray(0, 10)],
      ['truncated', (() => { const b = Buffer.from(ok); b.writeUInt16BE(ok.length + 10, 2); return b; })()],
      ['bad_length_field', (() => { const b = Buffer.from(ok); b.writeUInt16BE(5, 2); return b; })()],
      ['bad_attribute_length', (() => { const b = Buffer.from(ok); b[ok.length - 1 - 5] = 0; const x = Buffer.concat([b, Buffer.from([1, 0])]); x.writeUInt16BE(x.length, 2); return x; })()],
      ['unexpected_code', (() => { const b = Buffer.from(ok); b[0] = 99; return b; })()],
      ['unexpected_code', encodeRequest(Code.AccountingRequest, 3, new AttrWriter().integer(Attr.AcctStatusType, 1).bytes(), S).packet],
      ['oversize', Buffer.concat([ok, Buffer.alloc(5000)])],
    ];
    for (const [cause, pkt] of cases) {
      const before = ctx.server.stat(cause);
      const resp = await exchange(ctx.auth, pkt, { waitMs: 150 });
      assert.equal(resp, null, cause);
      assert.equal(ctx.server.stat(cause), before + 1, cause);
    }
    const metrics = await registry.getSingleMetricAsString('pmip6_radius_dropped_total');
    assert.match(metrics, /cause="short_packet"/);
    assert.match(metrics, /client="mag1"/);
  });

  it('RFC 2865 §3: packets from an unknown source address are dropped and counted', async () => {
    const before = ctx.server.stat('unknown_client');
    const resp = await exchange(ctx.auth, accessRequest(5).packet, { bindAddress: '127.0.0.9', waitMs: 200 });
    assert.equal(resp, null);
    assert.equal(ctx.server.stat('unknown_client'), before + 1);
  });

  it('per-client rate limit drops the excess', async () => {
    const pol = fixturePolicy();
    pol.clients.get('127.0.0.1')!.maxRequestsPerSecond = 5;
    const small = await startServer(pol, { rateLimit: { perSecond: 5, burst: 5 } });
    try {
      let answered = 0;
      const dgram = await import('node:dgram');
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
      sock.on('message', () => answered++);
      for (let i = 0; i < 20; i++) sock.send(accessRequest(i).packet, small.auth, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 300));
      sock.close();
      assert.ok(answered >= 5 && answered <= 6, `answered ${answered}`);
      assert.ok(small.server.stat('rate_limited') >= 14);
    } finally {
      await small.server.stop();
    }
  });

  it('drops are logged once per cause and client, counted every time', async () => {
    const { pino } = await import('pino');
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (l: string) => lines.push(l) });
    const own = await startServer(fixturePolicy(), { logger: log });
    try {
      const short = accessRequest(1).packet.subarray(0, 12);
      for (let i = 0; i < 5; i++) await exchange(own.auth, short, { waitMs: 30 });
      for (let i = 0; i < 3; i++) await exchange(own.auth, Buffer.alloc(3), { waitMs: 30 });
      const truncated = Buffer.from(accessRequest(2).packet);
      truncated.writeUInt16BE(truncated.length + 4, 2);
      for (let i = 0; i < 3; i++) await exchange(own.auth, truncated, { waitMs: 30 });
      assert.equal(own.server.stat('short_packet'), 8);
      assert.equal(own.server.stat('truncated'), 3);
      const drops = lines.map((l) => JSON.parse(l) as { cause?: string; client?: string }).filter((l) => l.cause);
      assert.deepEqual(drops.map((d) => `${d.cause}/${d.client}`), ['short_packet/mag1', 'truncated/mag1']);
    } finally {
      await own.server.stop();
    }
  });

  it('prom-client exposes requests, responses and duplicates per client', async () => {
    const text = await registry.metrics();
    assert.match(text, /pmip6_radius_requests_total\{listener="auth",client="mag1",kind="access"\} [1-9]/);
    assert.match(text, /pmip6_radius_responses_total\{listener="auth",client="mag1",code="access_accept"\} [1-9]/);
    assert.match(text, /pmip6_radius_duplicates_total\{listener="auth",client="mag1"\} [1-9]/);
    assert.match(text, /pmip6_radius_requests_total\{listener="acct",client="mag1",kind="accounting"\} [1-9]/);
  });

  it('the default dual-stack "::" listener serves IPv4 clients (IPv4-mapped source unmapped)', async (t) => {
    let dual: Awaited<ReturnType<typeof startServer>>;
    try {
      dual = await startServer(fixturePolicy(), { hosts: ['::'] });
    } catch {
      t.skip('no IPv6 on this host');
      return;
    }
    try {
      const { packet, authenticator } = accessRequest(3);
      const resp = await exchange(dual.auth, packet);
      assert.ok(resp, 'answered');
      const d = decodePacket(resp);
      assert.ok(d.ok && d.packet.code === Code.AccessAccept);
      assert.equal(verifyResponse(d.packet, authenticator, S, true), 'ok');
    } finally {
      await dual.server.stop();
    }
  });

  it('RFC 5997: Status-Server from the client API', async () => {
    assert.deepEqual(await client.status(), [{ server: `127.0.0.1:${ctx.auth}`, up: true }]);
  });
});
