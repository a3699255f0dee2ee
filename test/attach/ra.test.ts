// Per-MN Router Advertisements driven by the MAG's binding results (RFC 5213 §6.7, §6.8,
// §6.9.1.2; RFC 4861 §6.2.4, §6.2.6; RFC 6543): a real Mag, the access-link detector on an
// injected link, a fake LMA, a manual clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccessLinkDetector } from '../../src/attach/detector.ts';
import type { AccessLinkConfig } from '../../src/attach/config.ts';
import { Icmp6Type, type AccessPacket } from '../../src/attach/icmp6.ts';
import { RecordingDataPlane } from '../../src/dataplane/recording.ts';
import { Mag, mapPolicy, type MagEvent } from '../../src/mag/index.ts';
import { ipv6ToString } from '../../src/mh/addr.ts';
import { BrFlag, mnIdFromNai } from '../../src/mh/index.ts';
import { profile, world, MAG_A } from '../mag/harness.ts';
import { FakeIo, mldReport, routerSolicitation } from './fake-io.ts';

const MAC1 = '02:00:5e:10:00:01';
const MAC2 = '02:00:5e:10:00:02';
const MN1 = 'mn1@example.net';
const MN2 = 'mn2@example.net';

async function setup(cfg: Partial<AccessLinkConfig> = {}) {
  const w = world({ profiles: [profile(MN1, { hnps: ['2001:db8:1:1::/64'] }), profile(MN2, { hnps: ['2001:db8:2:1::/64', '2001:db8:2:2::/64'] })] });
  const io = new FakeIo();
  const macs = new Map([[MAC1, MN1], [MAC2, MN2]]);
  const det = new AccessLinkDetector({ interfaces: ['acc*'], raMaxIntervalS: 600, raDelayMs: 500, reachableTimeMs: 1e9, ...cfg }, { clock: w.clock, io, identify: (m) => macs.get(m) ?? null, random: () => 0.5 });
  const events: MagEvent[] = [];
  const mag = new Mag(
    { id: 'mag-a', proxyCoa: MAG_A, heartbeatIntervalS: 0, initialSeq: 100, lifetimeS: 300 },
    { clock: w.clock, transport: w.hub.endpoint(MAG_A), dataPlane: new RecordingDataPlane(), policy: mapPolicy([profile(MN1, { hnps: ['2001:db8:1:1::/64'] }), profile(MN2, { hnps: ['2001:db8:2:1::/64', '2001:db8:2:2::/64'] })]), detector: det, advertiser: det, events: { emit: (e) => void events.push(e) } },
  );
  await mag.start();
  io.link(5, 'acc0', true);
  io.link(6, 'acc1', true);
  io.take(5);
  io.take(6);
  return { w, io, det, mag, events };
}

const ras = (ps: AccessPacket[]) => ps.filter((p) => p.type === Icmp6Type.ROUTER_ADVERTISEMENT);

describe('RFC 5213 §6.7: the RA follows the PBA', () => {
  it('nothing before the PBA; after PBA 0 one RA with only that MN\'s HNPs, from the fixed link-local and MAC, to the MN', async () => {
    const { w, io } = await setup();
    w.lma.respond = () => 'drop';
    io.rx(5, mldReport(MAC1)); // from ::, before DAD
    io.rx(6, routerSolicitation(MAC2));
    await w.advance(0);
    assert.deepEqual(ras(io.take(5)), []);
    assert.deepEqual(ras(io.take(6)), []);
    w.lma.respond = null;
    await w.advance(1000); // the retransmission is answered
    const [ra1] = ras(io.take(5));
    const [ra2] = ras(io.take(6));
    assert.ok(ra1 && ra2);
    assert.deepEqual(ra1.ra!.prefixes.map((p) => `${p.prefix}/${p.prefixLen}`), ['2001:db8:1:1::/64']);
    assert.deepEqual(ra2.ra!.prefixes.map((p) => `${p.prefix}/${p.prefixLen} L${+p.onLink} A${+p.autonomous}`), ['2001:db8:2:1::/64 L1 A1', '2001:db8:2:2::/64 L1 A1']);
    for (const r of [ra1, ra2]) {
      assert.equal(r.srcMac, '00:00:5e:00:52:13');
      assert.equal(ipv6ToString(r.src), 'fe80::200:5eff:fe00:5213');
      assert.equal(r.hopLimit, 255);
      assert.equal(r.ra!.routerLifetimeS, 1800);
      assert.equal(r.ra!.mtu, 1452);
    }
    assert.equal(ra1.dstMac, MAC1);
    assert.equal(ra2.dstMac, MAC2);
    // MN2 spoke from its link-local: unicast to it; MN1 has none yet: ff02::1 (to its MAC).
    assert.equal(ipv6ToString(ra2.dst), 'fe80::5eff:fe10:2');
    assert.equal(ipv6ToString(ra1.dst), 'ff02::1');
  });

  it('a rejected registration (PBA status 152) sends no RA, then or later', async () => {
    const { w, io, events } = await setup();
    w.lma.respond = () => ({ status: 152, options: [mnIdFromNai(MN1)] });
    io.rx(5, mldReport(MAC1));
    await w.advance(5000);
    assert.ok(events.some((e) => e.type === 'failed'));
    io.rx(5, routerSolicitation(MAC1));
    await w.advance(700_000);
    assert.deepEqual(ras(io.take(5)), []);
  });

  it('RS: answered after a random delay up to MAX_RA_DELAY_TIME, one at a time (RFC 4861 §6.2.6)', async () => {
    const { w, io } = await setup({ raDelayMs: 500 });
    io.rx(5, routerSolicitation(MAC1));
    await w.advance(0);
    io.take(5);
    for (let i = 0; i < 50; i++) io.rx(5, routerSolicitation(MAC1));
    await w.advance(249);
    assert.deepEqual(ras(io.take(5)), []);
    await w.advance(1);
    assert.equal(ras(io.take(5)).length, 1); // random() = 0.5 -> 250 ms
  });

  it('an RS from :: is answered to ff02::1 no sooner than MIN_DELAY_BETWEEN_RAS after the last multicast RA (RFC 4861 §6.2.6)', async () => {
    const { w, io } = await setup({ raDelayMs: 500 });
    io.rx(5, mldReport(MAC1)); // from ::: the MN has no link-local yet
    await w.advance(0);
    assert.equal(ipv6ToString(ras(io.take(5))[0].dst), 'ff02::1');
    io.rx(5, routerSolicitation(MAC1, Buffer.alloc(16)));
    await w.advance(2999);
    assert.deepEqual(ras(io.take(5)), []);
    await w.advance(1);
    assert.equal(ras(io.take(5)).length, 1);
  });

  it('unsolicited RAs: the first three at most 16 s apart (RFC 4861 §6.2.4), then every [Min, Max]RtrAdvInterval', async () => {
    const { w, io } = await setup({ raMaxIntervalS: 600 });
    io.rx(5, mldReport(MAC1));
    await w.advance(0);
    assert.equal(ras(io.take(5)).length, 1);
    await w.advance(16_000);
    assert.equal(ras(io.take(5)).length, 1);
    await w.advance(16_000);
    assert.equal(ras(io.take(5)).length, 1);
    await w.advance(16_000);
    assert.equal(ras(io.take(5)).length, 0);
    // random 0.5: (198 + 600) / 2 = 399 s after the third.
    await w.advance(399_000 - 16_000);
    assert.equal(ras(io.take(5)).length, 1);
  });

  it('the binding ends while the MN is on the link (revocation): one RA with router and prefix lifetimes 0, then silence', async () => {
    const { w, io, events } = await setup();
    io.rx(5, mldReport(MAC1));
    await w.advance(0);
    io.take(5);
    w.lma.sendBri({ address: MAG_A, port: 5436 }, { trigger: 1, seq: 7, flags: BrFlag.P, options: [mnIdFromNai(MN1)] });
    await w.advance(0);
    assert.ok(events.some((e) => e.type === 'revoked'));
    const [wd] = ras(io.take(5));
    assert.equal(wd.ra!.routerLifetimeS, 0);
    assert.deepEqual(wd.ra!.prefixes.map((p) => [p.validS, p.preferredS]), [[0, 0]]);
    io.rx(5, routerSolicitation(MAC1));
    await w.advance(700_000);
    assert.deepEqual(ras(io.take(5)), []);
  });

  it('the MN leaves (link down): de-registration, and nothing is sent on the dead link', async () => {
    const { w, io, events } = await setup();
    io.rx(5, mldReport(MAC1));
    await w.advance(0);
    io.take(5);
    io.link(5, 'acc0', false);
    await w.advance(2000);
    assert.ok(events.some((e) => e.type === 'deregistered' && e.mnId === MN1));
    assert.deepEqual(io.take(5), []);
    assert.equal(w.lma.lastPbu().lifetime, 0);
  });

  it('a refresh keeps the schedule: no extra RA per refresh', async () => {
    const { w, io, events } = await setup({ raMaxIntervalS: 600 });
    io.rx(5, mldReport(MAC1));
    await w.advance(0);
    await w.advance(48_000); // the initial three
    io.take(5);
    await w.advance(230_000); // a refresh at 0.75 x 300 s
    assert.ok(events.some((e) => e.type === 'refreshed'));
    assert.equal(ras(io.take(5)).length, 0);
  });
});
