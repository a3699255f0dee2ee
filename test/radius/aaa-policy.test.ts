// The MAG's RADIUS glue (src/main/aaa-policy.ts) against our server on loopback: the Accept →
// Profile mapping (RFC 6572 §5.2), Access-Reject → not eligible, no answer → a policy error,
// the Mobile-Node-Identifier the MAG MUST use (§4.2) through the detector wrapper, and the
// radius.servers syntax.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { ManualDetector } from '../../src/attach/manual.ts';
import type { AttachDetachEvent } from '../../src/attach/types.ts';
import { AaaDetector } from '../../src/main/aaa-detector.ts';
import { RadiusMagPolicy, parseRadiusServer, profileFromAaa } from '../../src/main/aaa-policy.ts';
import { FeatureVector } from '../../src/policy/profile.ts';
import { RadiusAaaClient, makeProfile } from '../../src/radius/index.ts';
import { logger } from '../../src/util/log.ts';
import { SECRET, fixturePolicy, startServer } from './helpers.ts';

const log = logger('test');
const FV = FeatureVector;

describe('MAG profile source over RADIUS (RFC 6572 §5)', () => {
  let ctx: Awaited<ReturnType<typeof startServer>>;
  let client: RadiusAaaClient;
  let policy: RadiusMagPolicy;

  before(async () => {
    const pol = fixturePolicy();
    // An MN known by a privacy NAI whose PMIPv6 identity (Mobile-Node-Identifier) differs.
    pol.addProfile(makeProfile({ mnId: 'mn-real@example.net', hnps: ['2001:db8:77::/64'], lma: '2001:db8::7', mip6FeatureVector: FV.PMIP6_SUPPORTED }));
    const find = pol.findProfile.bind(pol);
    pol.findProfile = (id) => find(id === 'anon@example.net' ? 'mn-real@example.net' : id);
    ctx = await startServer(pol);
    client = new RadiusAaaClient({ servers: [{ host: '127.0.0.1', port: ctx.auth, acctPort: ctx.acct, secret: SECRET }], nasIdentifier: 'mag1', timeoutMs: 300, retries: 1, cacheTtlMs: 0 });
    policy = new RadiusMagPolicy(client, { featureVector: FV.PMIP6_SUPPORTED | FV.IP4_HOA_SUPPORTED, log });
  });
  after(async () => {
    client.close();
    await ctx.server.stop();
  });

  it('§5.2: the Accept becomes the shared Profile (LMA, HNPs, HoA/prefix length, gateway, DHCP servers, service, vector, interface id)', async () => {
    const p = await policy.profile('mn1@example.net');
    assert.ok(p);
    assert.equal(p.mnId, 'mn1@example.net');
    assert.equal(p.lma, '2001:db8::1');
    assert.deepEqual(p.hnps, ['2001:db8:1:1::/64', '2001:db8:2::/48']);
    assert.equal(p.hnpPool, null);
    assert.equal(p.ipv4HoA, '10.0.0.5');
    assert.equal(p.ipv4PrefixLength, 24);
    assert.equal(p.ipv4Pool, null);
    assert.equal(p.ipv4DefaultRouter, '10.0.0.1');
    assert.equal(p.dhcpv4Server, '10.0.0.2');
    assert.equal(p.dhcpv6Server, '2001:db8::53');
    assert.equal(p.serviceSelection, 'internet');
    assert.equal(p.mip6FeatureVector, FV.PMIP6_SUPPORTED | FV.IP4_HOA_SUPPORTED);
    assert.equal(p.interfaceId, '0211:22ff:fe33:4455');
    assert.equal(p.enabled, true);
  });

  it('§5.2: IPv4-only vector and an IPv4 LMA; no HNP means no IPv6 service', async () => {
    // A MAG that sends no vector gets the profile's (RFC 6572 §4.1).
    const p = (await new RadiusMagPolicy(client, { log }).profile('mn-v4@example.net'))!;
    assert.equal(p.mip6FeatureVector, FV.PMIP6_SUPPORTED | FV.IP4_HOA_ONLY_SUPPORTED);
    assert.equal(p.lma, '192.0.2.1');
    assert.deepEqual(p.hnps, []);
    assert.equal(p.hnpPool, null, 'IP4_HOA_ONLY: the LMA must not assign an HNP');
    assert.equal(p.ipv4HoA, '10.1.0.7');
  });

  it('RFC 5213 §6.9.1.1 item 1: Access-Reject → null (not eligible); counted', async () => {
    const before = policy.stats.reject;
    assert.equal(await policy.profile('mn-off@example.net'), null);
    assert.equal(await policy.profile('nobody@example.net'), null);
    assert.equal(policy.stats.reject, before + 2);
  });

  it('no answer → the lookup fails (the MAG reports policy-error, and a CoA keeps the binding); counted', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    const dead = new RadiusAaaClient({ servers: [{ host: '127.0.0.1', port: silent.address().port, secret: SECRET }], nasIdentifier: 'mag1', timeoutMs: 50, retries: 0 });
    const p = new RadiusMagPolicy(dead, { log });
    await assert.rejects(p.profile('mn1@example.net'), /RADIUS: timeout/);
    assert.deepEqual(p.stats, { accept: 0, reject: 0, error: 1 });
    dead.close();
    silent.close();
  });

  it('§4.2: the MAG uses the Mobile-Node-Identifier of the Accept; detach and presence are translated; one Access-Request', async () => {
    const inner = new ManualDetector();
    const seen: AttachDetachEvent[] = [];
    const det = new AaaDetector(inner, policy, () => false, log);
    det.onEvent((e) => seen.push(e));
    await det.start();
    const requests = ctx.server.stat('request:access');
    inner.attach({ mnId: 'anon@example.net', link: 'ap1', accessTechType: 4 });
    inner.detach({ mnId: 'anon@example.net', link: 'ap1' });
    for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(seen.map((e) => [e.kind, e.mnId]), [['attach', 'mn-real@example.net'], ['detach', 'mn-real@example.net']], 'in order, under the AAA identity');
    const p = await policy.profile('mn-real@example.net');
    assert.deepEqual(p?.hnps, ['2001:db8:77::/64']);
    assert.equal(ctx.server.stat('request:access'), requests + 1, 'the MAG got the resolved profile without asking again');
    assert.equal(policy.naiOf('mn-real@example.net'), 'anon@example.net');
    inner.markLost('anon@example.net', 'ap1');
    assert.equal(det.isAttached!('mn-real@example.net', 'ap1'), false);
    await det.stop();
  });

  it('profileFromAaa: authorised without addresses → the LMA assigns them (ALL_ZERO HNP, 0.0.0.0)', () => {
    const base = {
      mnId: null, serviceSelection: null, homeLmaIpv6: '2001:db8::1', homeLmaIpv4: null, visitedLmaIpv6: null, visitedLmaIpv4: null,
      hnps: [], visitedHnps: [], interfaceId: null, visitedInterfaceId: null, ipv4HoA: null, visitedIpv4HoA: null, dhcp4Server: null,
      visitedDhcp4Server: null, dhcp6Server: null, visitedDhcp6Server: null, ipv4Gateway: null, visitedIpv4Gateway: null,
      featureVector: FV.PMIP6_SUPPORTED | FV.IP4_HOA_SUPPORTED, sessionTimeout: null, class: null, cui: null,
    };
    const p = profileFromAaa(base, 'u@x');
    assert.equal(p.mnId, 'u@x');
    assert.equal(p.hnpPool, 'assigned-by-lma');
    assert.equal(p.ipv4Pool, 'assigned-by-lma');
    const v = profileFromAaa({ ...base, homeLmaIpv6: null, visitedLmaIpv6: '2001:db8::9', visitedHnps: ['2001:db8:9::/64'] }, 'u@x');
    assert.equal(v.lma, '2001:db8::9');
    assert.deepEqual(v.hnps, ['2001:db8:9::/64'], 'a visited LMA comes with the visited prefixes');
  });

  it('radius.servers entries: host[:port][/acctPort], IPv6 in brackets', () => {
    assert.deepEqual(parseRadiusServer('192.0.2.1', 's'), { host: '192.0.2.1', port: 1812, acctPort: 1813, secret: 's', name: '192.0.2.1:1812' });
    assert.deepEqual(parseRadiusServer('[2001:db8::1]:1645/1646', 's'), { host: '2001:db8::1', port: 1645, acctPort: 1646, secret: 's', name: '[2001:db8::1]:1645' });
    assert.equal(parseRadiusServer('2001:db8::1', 's').port, 1812);
    assert.throws(() => parseRadiusServer('aaa.example.net:1812', 's'), /host\[:port\]/);
  });
});
