// Bad input to an LMA on raw IPv6 sockets (protocol 135), between two network namespaces:
// every kind of malformed or unwelcome Mobility Header once, then all of them as fast as
// one sender can push them. RFC 6275 §9.2 (checksum, MH Type, Payload Proto, Header Len),
// RFC 5213 §5.3.1 (an unprovisioned MAG), §6.2.1 (unknown options are skipped), RFC 5847
// §3.3 (heartbeats are always answered). The LMA runs in an agent process inside its
// namespace (test/helpers/ns-agent.ts); the test reads its counters and log lines, and a
// capture on the MAG side, decoded by tshark.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, netnsUnavailable } from '../helpers/netns.ts';
import { Agent } from '../helpers/ns-agent-client.ts';
import { Capture, mhChecksumOk, mhFrames, problems, tshark } from '../helpers/capture.ts';
import { encodeMessage, mhChecksum, parseIpv6 } from '../../src/mh/index.ts';
import { buildPbu } from './driver.ts';

const LMAA = '2001:db8:f2::1';
const OTHER = '2001:db8:f2::3'; // configured in the LMA's namespace, no socket bound to it
const MAG = '2001:db8:f2::2'; // provisioned and authorised
const STRANGER = '2001:db8:f2::4'; // not provisioned
const HNP = '2001:db8:100:1::/64';

const skip = netnsUnavailable();

type Rx = { hex: string; from: { address: string } };
type Counters = { rx: Record<string, number>; tx: Record<string, number>; dropped: Record<string, number>; pbaByStatus: Record<string, number>; bindings: number; transport: Record<string, number> };
type Pkt = { hex: string; to: string; from: string; via: string };

const hex = (b: Buffer): string => b.toString('hex');
const heartbeat = (): Buffer => encodeMessage({ type: 'heartbeat', flags: 0, seq: 1, options: [] });
function pbu(mnId: string, hnps: string[], hi: number, seq = 1): Buffer {
  return encodeMessage(buildPbu({ mnId, hnps, hi, extra: [{ type: 'unknown', code: 200, data: Buffer.from('unknown option') }] }, Date.now, seq));
}

/** Every kind of bad (and a few good) datagrams; `via` is the agent's socket that sends it. */
function mixture(): Record<string, Pkt> {
  const m = (b: Buffer, to = LMAA, from = MAG): Pkt => ({ hex: hex(b), to, from, via: 'm' });
  const badProto = heartbeat();
  badProto[0] = 6; // RFC 6275 §9.2: Payload Proto must be 59
  const shortBu = Buffer.from([59, 0, 5, 0, 0, 0, 0, 0]); // Header Len 0: a BU needs 16 octets
  const longer = Buffer.concat([heartbeat(), Buffer.alloc(8)]); // Header Len says 16, datagram has 24
  const unknownType = heartbeat();
  unknownType[2] = 200;
  const ba = encodeMessage({ type: 'ba', status: 0, flags: 0, seq: 1, lifetime: 0, options: [] });
  const oversized = Buffer.alloc(2056);
  oversized.set([59, 255, 13]);
  const badSum = heartbeat();
  badSum.writeUInt16BE(0x1234, 4);
  // Four octets (no room for a checksum field): sent without kernel checksumming, with octets
  // 2-3 chosen so that the sum over the pseudo-header still verifies at the LMA's kernel.
  const truncated = Buffer.from([59, 0, 0, 0]);
  truncated.writeUInt16BE(mhChecksum(truncated, parseIpv6(MAG), parseIpv6(LMAA)), 2);
  assert.notEqual(truncated[2], 6, 'the filler must not look like a BA');
  return {
    pbu: m(pbu('mn1@example.net', ['::/0'], 1)),
    unprovisioned: m(pbu('mn2@example.net', ['::/0'], 1), LMAA, STRANGER),
    heartbeat: m(heartbeat()),
    badProto: m(badProto),
    shortBu: m(shortBu),
    longer: m(longer),
    unknownType: m(unknownType),
    ba: m(ba),
    oversized: m(oversized),
    otherHost: m(heartbeat(), OTHER),
    badSum: { ...m(badSum), via: 'forge' },
    truncated: { ...m(truncated), via: 'forge' },
  };
}

describe('LMA on raw IPv6: bad input (RFC 6275 §9.2, RFC 5213 §5.3.1)', { skip: skip ?? false }, () => {
  const lab = new Lab('bad');
  const dir = mkdtempSync(join(tmpdir(), 'pmip6-ip6-bad-'));
  let lma: Agent;
  let mag: Agent;
  let capture: Capture;
  before(async () => {
    const nl = lab.ns('lma');
    const nm = lab.ns('mag');
    const [il, im] = lab.link(nl, nm);
    nl.addAddress(il, `${LMAA}/64`);
    nl.addAddress(il, `${OTHER}/64`);
    nm.addAddress(im, `${MAG}/64`);
    nm.addAddress(im, `${STRANGER}/64`);
    [lma, mag] = await Promise.all([Agent.start(lab, nl), Agent.start(lab, nm)]);
    await lma.call('lma', {
      address: LMAA,
      types: Array.from({ length: 256 }, (_, t) => t).filter((t) => t !== 6), // as lma-role.ts opens it
      mags: [MAG],
      profiles: [{ mnId: 'mn1@example.net', hnps: [HNP] }, { mnId: 'mn2@example.net', hnps: ['2001:db8:100:2::/64'] }],
    });
    await mag.call('open', { name: 'm', options: { addresses: ['::'], accept: [MAG, STRANGER] } });
    await mag.call('open', { name: 'forge', options: { addresses: ['::'], checksum: false, accept: ['2001:db8:f2::99'] } });
    capture = await Capture.start(lab, nm, join(dir, 'mag.pcapng'), (marker) => mag.call('probe', { marker }));
  });
  after(async () => {
    await capture?.stop();
    await lab.cleanup();
  });

  it('each once: PBA, PBA 154, heartbeat answer, Binding Error 2, ICMPv6 Parameter Problems; the rest dropped and counted, logged once', async () => {
    const pkts = mixture();
    for (const p of Object.values(pkts)) await mag.call('flood', { name: 'm', packets: [p], repeat: 1 });
    const answers = await mag.call<Rx[]>('take', { name: 'm', n: 4, ms: 3000 });
    const byType = (t: number) => answers.filter((a) => Buffer.from(a.hex, 'hex')[2] === t);
    assert.equal(answers.length, 4, JSON.stringify(answers));
    const pbas = byType(6).map((a) => ({ to: a.from.address, status: Buffer.from(a.hex, 'hex')[6] }));
    assert.deepEqual(pbas.map((p) => p.status).sort((x, y) => x - y), [0, 154], 'PBA 0 for the MAG, 154 (MAG_NOT_AUTHORIZED_FOR_PROXY_REG) for the stranger');
    assert.equal(byType(13).length, 1, 'RFC 5847 §3.3: heartbeat answered');
    assert.equal(Buffer.from(byType(7)[0].hex, 'hex')[6], 2, 'RFC 6275 §9.2: Binding Error, status 2 (unrecognized MH Type)');

    const c = await lma.call<Counters>('lmaCounters');
    assert.equal(c.rx.pbu, 2);
    assert.deepEqual(c.pbaByStatus, { 0: 1, 154: 1 });
    assert.equal(c.bindings, 1, 'the unknown option was skipped (RFC 6275 §6.2.1), the binding made');
    assert.equal(c.rx.heartbeat_request, 1);
    assert.equal(c.rx.unknown, 1);
    assert.equal(c.tx.be, 1);
    assert.equal(c.dropped['bad-payload-proto'], 1);
    assert.equal(c.dropped['bad-header-len'], 2);
    assert.equal(c.dropped.truncated, 1);
    assert.equal(c.transport.typeFiltered, 1, 'the BA, in C');
    assert.equal(c.transport.oversized, 1);
    assert.equal(c.transport.kernelDrops, 1, 'the bad checksum, by the kernel');
    assert.equal(c.transport.icmpSent, 3, 'Payload Proto and Header Len (twice): ICMPv6 Parameter Problem');
    assert.equal(c.transport.delivered, 8, 'nothing addressed to the other address reached the LMA');

    const logs = await lma.call<{ cause?: string; peer?: string }[]>('logs');
    for (const cause of ['bad-payload-proto', 'bad-header-len', 'truncated', 'type-filtered', 'oversized']) {
      assert.equal(logs.filter((l) => l.cause === cause && l.peer === MAG).length, 1, `one line for ${cause}`);
    }

    await capture.stop();
    const file = capture.file;
    const icmp = tshark(['-r', file, '-Y', 'icmpv6.type == 4', '-T', 'fields', '-E', 'occurrence=f', '-e', 'ipv6.src', '-e', 'ipv6.dst', '-e', 'icmpv6.code', '-e', 'icmpv6.pointer'])
      .split('\n').filter(Boolean).map((l) => l.split('\t'));
    const fromLma = icmp.filter(([src]) => src === LMAA).map(([, dst, code, ptr]) => `${dst} code ${code} pointer ${ptr}`).sort();
    assert.deepEqual(fromLma, [`${MAG} code 0 pointer 40`, `${MAG} code 0 pointer 41`, `${MAG} code 0 pointer 41`], 'pointers into the invoking packet: Payload Proto (40), Header Len (41)');
    assert.ok(icmp.some(([src, dst, code]) => src === OTHER && dst === MAG && code === '1'), 'the MH to the other address: refused by that host (unrecognized Next Header), not by the LMA');
    const sent = mhFrames(file, `mipv6 && !icmpv6 && ipv6.src == ${LMAA}`);
    assert.equal(sent.length, 4);
    for (const fr of sent) assert.ok(mhChecksumOk(fr.src, fr.dst, fr.mh), `checksum of frame ${fr.frame}`);
    assert.deepEqual(problems(file, `ipv6.src == ${LMAA} && !icmpv6`), [], 'what the LMA sent decodes clean');
  });

  it('a flood of all of it: every delivered datagram counted once, each cause logged once per peer, ICMPv6 and Binding Errors rate-limited, the LMA still answers', async () => {
    await lma.call('logs');
    const before = await lma.call<Counters>('lmaCounters');
    const pkts = Object.values(mixture());
    const repeat = 2000;
    const r = await mag.call<{ sent: number; errors: number }>('flood', { name: 'm', packets: pkts, repeat });
    assert.equal(r.sent, pkts.length * repeat);
    // Settled when the LMA's socket has seen nothing new (received or dropped by the kernel) for three looks in a row.
    let c = await lma.call<Counters>('lmaCounters');
    for (let last = -1, same = 0; same < 3; ) {
      const seen = c.transport.rxPackets + c.transport.kernelDrops;
      same = seen === last ? same + 1 : 0;
      last = seen;
      await new Promise((res) => setTimeout(res, 300));
      c = await lma.call<Counters>('lmaCounters');
    }
    const d = (f: (x: Counters) => number): number => f(c) - f(before);
    const counted = d((x) => x.rx.pbu + x.rx.unknown + x.rx.heartbeat_request + x.dropped['bad-payload-proto'] + x.dropped['bad-header-len'] + x.dropped.truncated);
    assert.equal(counted, d((x) => x.transport.delivered), 'every datagram handed to the LMA counted once');
    assert.equal(d((x) => x.transport.rxPackets), d((x) => x.transport.delivered + x.transport.typeFiltered + x.transport.oversized));
    assert.ok(d((x) => x.transport.kernelDrops) > 0, 'bad checksums (and any receive-buffer overflow) counted by the kernel');
    assert.ok(d((x) => x.transport.icmpRateLimited) > 0, 'RFC 4443 §2.4 (f): ICMPv6 errors rate-limited');
    assert.ok(d((x) => x.dropped['be-rate-limited']) > 0, 'RFC 6275 §9.2: Binding Errors rate-limited');
    const logs = await lma.call<{ cause?: string; peer?: string }[]>('logs');
    assert.equal(logs.filter((l) => l.cause === 'bad-payload-proto').length, 0, 'already logged for this peer: counted only');

    // Still there: a re-registration of mn1 from its MAG gets PBA 0.
    await mag.call('take', { name: 'm', n: 0, ms: 0 });
    await mag.call('flood', { name: 'm', packets: [{ hex: hex(pbu('mn1@example.net', [HNP], 5, 7777)), to: LMAA, from: MAG, via: 'm' }], repeat: 1 });
    const answers = await mag.call<Rx[]>('take', { name: 'm', n: 1, ms: 3000 });
    const pba = answers.map((a) => Buffer.from(a.hex, 'hex')).find((b) => b[2] === 6 && b.readUInt16BE(8) === 7777);
    assert.ok(pba, 'a PBA came back');
    assert.equal(pba[6], 0);
  });
});
