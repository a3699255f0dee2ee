// The access-link detector's decisions on a manual clock with injected link events and frames:
// RFC 5213 §6.9.1.1 attach from the first frame of a known host, §6.13 / mn-ar-if §7 detach
// (link down, interface gone, NUD per RFC 4861 §7.3), the MLDv2 General Query on link up
// (mn-ar-if §6), and hostile input: unknown / multicast / second MACs, attach storms, the
// host bound. RA scheduling (RFC 4861 §6.2.4, §6.2.6) is in ra.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccessLinkDetector } from '../../src/attach/detector.ts';
import { LinkLayerDirectory } from '../../src/attach/directory.ts';
import type { AccessLinkConfig } from '../../src/attach/config.ts';
import type { AttachDetachEvent } from '../../src/attach/types.ts';
import { Icmp6Type } from '../../src/attach/icmp6.ts';
import { ipv6ToString } from '../../src/mh/addr.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { FakeIo, dadNs, mldReport, neighborAdvertisement, routerSolicitation } from './fake-io.ts';
import { parseArpFrame } from '../../src/attach/arp.ts';

/** An ARP frame from mac (RFC 826): op 1 request, 2 reply. */
function arp(mac: string, op: number, senderIp: number, targetIp: number): Buffer {
  const m = Buffer.from(mac.replace(/:/g, ''), 'hex');
  const f = Buffer.alloc(42);
  f.fill(0xff, 0, 6);
  m.copy(f, 6);
  f.writeUInt16BE(0x0806, 12);
  f.writeUInt16BE(1, 14);
  f.writeUInt16BE(0x0800, 16);
  f[18] = 6;
  f[19] = 4;
  f.writeUInt16BE(op, 20);
  m.copy(f, 22);
  f.writeUInt32BE(senderIp, 28);
  f.writeUInt32BE(targetIp, 38);
  return f;
}

const MAC1 = '02:00:5e:10:00:01';
const MAC2 = '02:00:5e:10:00:02';

async function setup(cfg: Partial<AccessLinkConfig> = {}) {
  const clock = new ManualClock();
  const io = new FakeIo();
  const dir = new LinkLayerDirectory();
  dir.set('mn1@example.net', [MAC1]);
  dir.set('mn2@example.net', [MAC2]);
  const d = new AccessLinkDetector({ interfaces: ['acc*', 'eth9'], holdDownMs: 1000, ...cfg }, { clock, io, identify: (m) => dir.lookup(m), random: () => 0.5 });
  const events: AttachDetachEvent[] = [];
  d.onEvent((e) => events.push(e));
  await d.start();
  return { clock, io, d, events, dir };
}

describe('attach (RFC 5213 §6.9.1.1)', () => {
  it('an access interface coming up gets the fixed addresses and an MLDv2 General Query; the first MLD report of a known MAC attaches its MN', async () => {
    const { io, d, events } = await setup();
    io.link(5, 'acc0', false);
    assert.deepEqual(io.configured, [5]);
    assert.deepEqual(io.take(5), []); // down: nothing sent
    io.link(5, 'acc0', true);
    const q = io.take(5);
    assert.equal(q.length, 1);
    assert.equal(q[0].type, Icmp6Type.MLD_QUERY);
    assert.equal(q[0].srcMac, '00:00:5e:00:52:13');
    assert.equal(ipv6ToString(q[0].src), 'fe80::200:5eff:fe00:5213');
    io.rx(5, mldReport(MAC1));
    assert.deepEqual(events, [{ kind: 'attach', mnId: 'mn1@example.net', mnLinkLayerId: MAC1, accessTechType: 3, link: 'acc0' }]);
    assert.equal(d.isAttached('mn1@example.net', 'acc0'), true);
    assert.equal(d.isAttached('mn1@example.net', 'acc1'), false);
    // Later frames of the same MN change nothing.
    io.rx(5, routerSolicitation(MAC1));
    io.rx(5, dadNs(MAC1));
    assert.equal(events.length, 1);
    assert.equal(d.attached()[0].linkLocal, 'fe80::5eff:fe10:1');
  });

  it('a DAD NS or an RS attaches as well; our own looped frames and outgoing frames do not', async () => {
    const { io, events } = await setup();
    io.link(5, 'acc0', true);
    io.link(6, 'acc1', true);
    io.rx(5, io.ports.get(5)!.sent[0]); // our query, looped back
    io.rx(5, dadNs(MAC1), 4); // PACKET_OUTGOING
    assert.equal(events.length, 0);
    io.rx(5, dadNs(MAC1));
    io.rx(6, routerSolicitation(MAC2));
    assert.deepEqual(events.map((e) => [e.kind, e.mnId, e.link]), [['attach', 'mn1@example.net', 'acc0'], ['attach', 'mn2@example.net', 'acc1']]);
  });

  it('interfaces not configured are left alone (no socket, no query)', async () => {
    const { io } = await setup();
    io.link(7, 'eth0', true);
    io.link(8, 'eth9', true);
    assert.equal(io.ports.has(7), false);
    assert.equal(io.ports.has(8), true);
  });
});

describe('hostile input: dropped, counted, the rest carries on', () => {
  it('unknown MACs, multicast source MACs, a second host on a point-to-point link, malformed frames, foreign RAs', async () => {
    const { io, d, events } = await setup();
    io.link(5, 'acc0', true);
    for (let i = 0; i < 100; i++) io.rx(5, mldReport(`02:00:00:00:00:${(i % 256).toString(16).padStart(2, '0')}`));
    assert.equal(d.counters.dropped.unknownMac, 100);
    io.rx(5, mldReport('03:00:5e:10:00:01'));
    assert.equal(d.counters.dropped.badSourceMac, 1);
    io.rx(5, Buffer.from('not a frame'));
    assert.equal(d.counters.dropped.malformed, 1);
    io.rx(5, mldReport(MAC1));
    io.rx(5, mldReport(MAC2)); // a known MN, but this link already has one
    assert.equal(d.counters.dropped.secondHost, 1);
    assert.deepEqual(events.map((e) => e.mnId), ['mn1@example.net']);
  });

  it('a flood: past maxFramesPerSecond per interface frames are dropped unread; the next second reads again', async () => {
    const { io, d, clock } = await setup({ maxFramesPerSecond: 200 });
    io.link(5, 'acc0', true);
    io.link(6, 'acc1', true);
    for (let i = 0; i < 1000; i++) io.rx(5, mldReport('02:00:00:00:01:01'));
    assert.equal(d.counters.dropped.unknownMac, 200);
    assert.equal(d.counters.dropped.rateLimited, 800);
    io.rx(6, mldReport(MAC2)); // another interface is not affected
    assert.equal(d.isAttached('mn2@example.net', 'acc1'), true);
    io.rx(5, mldReport(MAC1));
    assert.equal(d.isAttached('mn1@example.net', 'acc0'), false);
    clock.advance(1000);
    io.rx(5, mldReport(MAC1));
    assert.equal(d.isAttached('mn1@example.net', 'acc0'), true);
  });

  it('a MAC already attached on another link (spoofed) is refused until the first detaches', async () => {
    const { io, d, events } = await setup();
    io.link(5, 'acc0', true);
    io.link(6, 'acc1', true);
    io.rx(5, mldReport(MAC1));
    io.rx(6, mldReport(MAC1));
    assert.equal(d.counters.dropped.duplicateMac, 1);
    assert.deepEqual(events.map((e) => `${e.kind} ${e.link}`), ['attach acc0']);
    io.link(5, 'acc0', false);
    io.rx(6, mldReport(MAC1));
    assert.deepEqual(events.map((e) => `${e.kind} ${e.link}`), ['attach acc0', 'detach acc0', 'attach acc1']);
  });

  it('a socket that cannot be opened is counted; other interfaces work', async () => {
    const { io, d, events } = await setup();
    io.failOpen = true;
    io.link(5, 'acc0', true);
    assert.equal(d.counters.dropped.openFailed, 1);
    io.failOpen = false;
    io.link(6, 'acc1', true);
    io.rx(6, mldReport(MAC1));
    assert.equal(events.length, 1);
  });

  it('more MNs than maxHosts: the extra one is refused until a place frees up', async () => {
    const { io, d, events } = await setup({ maxHosts: 1 });
    io.link(5, 'acc0', true);
    io.link(6, 'acc1', true);
    io.rx(5, mldReport(MAC1));
    io.rx(6, mldReport(MAC2));
    assert.equal(d.counters.dropped.tooManyHosts, 1);
    io.link(5, 'acc0', false);
    io.rx(6, mldReport(MAC2));
    assert.deepEqual(events.map((e) => `${e.kind} ${e.mnId}`), ['attach mn1@example.net', 'detach mn1@example.net', 'attach mn2@example.net']);
  });

  it('an MN flapping its link 100 times a second: at most one attach per holdDownMs; after the storm it is attached', async () => {
    const { io, d, clock, events } = await setup({ holdDownMs: 1000 });
    for (let i = 0; i < 100; i++) {
      io.link(5, 'acc0', true);
      io.rx(5, mldReport(MAC1));
      io.link(5, 'acc0', false);
      clock.advance(10);
    }
    const attaches = events.filter((e) => e.kind === 'attach').length;
    assert.equal(attaches, 1);
    assert.ok(d.counters.dropped.holdDown >= 90, JSON.stringify(d.counters));
    // After the hold-down it attaches at once; back within the next hold-down, its report is
    // held back, and a query goes out when the hold-down ends.
    io.link(5, 'acc0', true);
    io.rx(5, mldReport(MAC1));
    assert.equal(d.isAttached('mn1@example.net', 'acc0'), true);
    io.link(5, 'acc0', false);
    clock.advance(100);
    io.link(5, 'acc0', true);
    io.take(5);
    io.rx(5, mldReport(MAC1));
    assert.equal(d.isAttached('mn1@example.net', 'acc0'), false);
    clock.advance(1000);
    assert.ok(io.take(5).some((p) => p.type === Icmp6Type.MLD_QUERY));
    io.rx(5, mldReport(MAC1));
    assert.equal(d.isAttached('mn1@example.net', 'acc0'), true);
    assert.equal(events.at(-1)!.kind, 'attach');
  });
});

describe('detach (RFC 5213 §6.13, mn-ar-if §7)', () => {
  it('link down, and an interface that disappears (moved to another MAG), detach the MN', async () => {
    const { io, d, events } = await setup();
    io.link(5, 'acc0', true);
    io.link(6, 'acc1', true);
    io.rx(5, mldReport(MAC1));
    io.rx(6, mldReport(MAC2));
    io.link(5, 'acc0', false);
    assert.equal(d.isAttached('mn1@example.net', 'acc0'), false);
    io.link(6, 'acc1', false, true);
    assert.equal(io.ports.get(6)!.closed, true);
    assert.deepEqual(events.filter((e) => e.kind === 'detach').map((e) => [e.mnId, e.link, e.mnLinkLayerId]), [['mn1@example.net', 'acc0', MAC1], ['mn2@example.net', 'acc1', MAC2]]);
    assert.deepEqual(d.counters.detaches, { linkDown: 2, unreachable: 0, stopped: 0 });
  });

  it('NUD: silence for reachableTimeMs starts unicast NS probes to its link-local; an NA keeps it; no answer detaches it', async () => {
    const { io, d, clock, events } = await setup({ reachableTimeMs: 30_000, nudProbes: 3, nudRetransMs: 1000 });
    io.link(5, 'acc0', true);
    io.rx(5, routerSolicitation(MAC1));
    io.take(5);
    clock.advance(29_999);
    assert.deepEqual(io.take(5), []);
    clock.advance(1);
    const [probe] = io.take(5);
    assert.equal(probe.type, Icmp6Type.NEIGHBOR_SOLICITATION);
    assert.equal(probe.dstMac, MAC1);
    assert.equal(ipv6ToString(probe.dst), 'fe80::5eff:fe10:1');
    assert.equal(ipv6ToString(probe.target!), 'fe80::5eff:fe10:1');
    io.rx(5, neighborAdvertisement(MAC1));
    clock.advance(10_000);
    assert.equal(d.isAttached('mn1@example.net', 'acc0'), true);
    clock.advance(30_000 + 3 * 1000);
    assert.equal(io.take(5).filter((p) => p.type === Icmp6Type.NEIGHBOR_SOLICITATION).length, 3);
    assert.equal(d.isAttached('mn1@example.net', 'acc0'), false);
    assert.equal(events.at(-1)!.kind, 'detach');
    assert.equal(d.counters.detaches.unreachable, 1);
  });

  it('NUD for an MN that has no address yet: MLD queries to its MAC instead', async () => {
    const { io, clock } = await setup({ reachableTimeMs: 1000, nudProbes: 1, nudRetransMs: 100 });
    io.link(5, 'acc0', true);
    io.rx(5, mldReport(MAC1));
    io.take(5);
    clock.advance(1000);
    const [q] = io.take(5);
    assert.equal(q.type, Icmp6Type.MLD_QUERY);
    assert.equal(q.dstMac, MAC1);
  });

  it('an IPv4-only MN: its ARP attaches it, NUD asks for its home address by unicast ARP, the reply keeps it, silence detaches it', async () => {
    const { io, d, clock, events } = await setup({ reachableTimeMs: 1000, nudProbes: 2, nudRetransMs: 100 });
    io.link(5, 'acc0', true);
    io.take(5);
    // RFC 5227 announcement of a static 10.77.0.5: sender = target = its address.
    io.rx(5, arp(MAC1, 1, 0x0a4d0005, 0x0a4d0005));
    assert.deepEqual(events.map((e) => `${e.kind} ${e.mnId}`), ['attach mn1@example.net']);
    d.advertise('mn1@example.net', 'acc0', { hnps: [], lifetimeS: 60, ipv4: { address: '10.77.0.5', prefixLen: 24, defaultRouter: '10.77.0.1' } });
    // No RA for an IPv4-only MN; one ARP reply telling it where its default router is (its request may be pending).
    const told = io.ports.get(5)!.sent.splice(0);
    assert.equal(told.length, 1);
    const reply = parseArpFrame(told[0]);
    assert.ok(reply.ok);
    assert.deepEqual([reply.arp.op, reply.arp.senderMac, reply.arp.senderIp, reply.arp.targetIp, told[0].subarray(0, 6).toString('hex')], [2, '00:00:5e:00:52:13', 0x0a4d0001, 0x0a4d0005, '02005e100001']);
    clock.advance(1000);
    const sent = io.ports.get(5)!.sent.splice(0);
    assert.equal(sent.length, 1);
    const probe = parseArpFrame(sent[0]);
    assert.ok(probe.ok);
    assert.deepEqual([probe.arp.op, probe.arp.senderMac, probe.arp.senderIp, probe.arp.targetIp, sent[0].subarray(0, 6).toString('hex')], [1, '00:00:5e:00:52:13', 0x0a4d0001, 0x0a4d0005, '02005e100001']);
    io.rx(5, arp(MAC1, 2, 0x0a4d0005, 0x0a4d0001));
    clock.advance(500);
    assert.equal(d.isAttached('mn1@example.net', 'acc0'), true);
    clock.advance(1000 + 2 * 100);
    assert.equal(d.isAttached('mn1@example.net', 'acc0'), false);
    assert.equal(d.counters.detaches.unreachable, 1);
    assert.equal(d.counters.sent.arp, 4);
  });

  it('stop() forgets every MN and closes the sockets, but reports no detach (the MAG decides whether to de-register)', async () => {
    const { io, d, events } = await setup();
    io.link(5, 'acc0', true);
    io.rx(5, mldReport(MAC1));
    await d.stop();
    assert.deepEqual(events.map((e) => e.kind), ['attach']);
    assert.equal(io.ports.get(5)!.closed, true);
    assert.equal(d.counters.detaches.stopped, 1);
    assert.deepEqual(d.attached(), []);
  });
});
