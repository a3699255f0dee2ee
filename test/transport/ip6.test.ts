// The raw IPv6 Mobility Header transport (RFC 6275 §6.1, protocol 135) between two network
// namespaces joined by a veth pair: what the kernel and the native filter deliver, drop and
// count. Each namespace runs an agent process (test/helpers/ns-agent.ts) that opens the
// sockets there.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, netnsUnavailable } from '../helpers/netns.ts';
import { Agent } from '../helpers/ns-agent-client.ts';
import { encodeMessage, parseIpv6, setMhChecksum, verifyMhChecksum } from '../../src/mh/index.ts';

const A1 = '2001:db8:f1::1';
const A3 = '2001:db8:f1::3';
const B2 = '2001:db8:f1::2';
const B4 = '2001:db8:f1::4';

const skip = netnsUnavailable();

type Rx = { hex: string; from: { address: string; port?: number }; local: string; carriage: string; ifindex: number; hopLimit: number };
type Stats = Record<string, number>;

/** A heartbeat request (RFC 5847 §3.1), 16 octets, checksum left 0. */
const heartbeat = (seq: number): Buffer => encodeMessage({ type: 'heartbeat', flags: 0, seq, options: [] });

describe('raw IPv6 MH transport between namespaces (RFC 6275 §6.1, §9.2)', { skip: skip ?? false }, () => {
  const lab = new Lab('ip6t');
  let a: Agent;
  let b: Agent;
  before(async () => {
    const na = lab.ns('a');
    const nb = lab.ns('b');
    const [ia, ib] = lab.link(na, nb);
    na.addAddress(ia, `${A1}/64`);
    na.addAddress(ia, `${A3}/64`);
    nb.addAddress(ib, `${B2}/64`);
    nb.addAddress(ib, `${B4}/64`);
    [a, b] = await Promise.all([Agent.start(lab, na), Agent.start(lab, nb)]);
    // An LMA-like socket (never a BA: MH Type 6 filtered in C), a wildcard one accepting only A1,
    // and on B a MAG-like socket plus one without kernel checksumming to forge datagrams.
    const notBa = Array.from({ length: 256 }, (_, t) => t).filter((t) => t !== 6);
    await a.call('open', { name: 'a', options: { addresses: [A1], types: notBa } });
    await a.call('open', { name: 'w', options: { addresses: ['::'], accept: [A1] } });
    await b.call('open', { name: 'b', options: { addresses: [B2] } });
    await b.call('open', { name: 'forge', options: { addresses: ['::'], checksum: false, accept: ['2001:db8:f1::99'] } });
  });
  after(async () => {
    await lab.cleanup();
  });

  it('§6.1: an MH crosses with its source, destination, interface and hop limit; the kernel fills the checksum (offset 4)', async () => {
    const hb = heartbeat(7);
    assert.deepEqual(await b.call('send', { name: 'b', hex: hb.toString('hex'), to: A1 }), []);
    const [m] = await a.call<Rx[]>('take', { name: 'a', n: 1 });
    assert.equal(m.from.address, B2);
    assert.equal(m.from.port, undefined, 'raw IPv6 has no port');
    assert.equal(m.local, A1);
    assert.equal(m.carriage, 'ip6');
    assert.ok(m.ifindex > 0, 'arrival interface (IPV6_PKTINFO)');
    assert.equal(m.hopLimit, 64);
    const got = Buffer.from(m.hex, 'hex');
    assert.equal(got.length, hb.length);
    assert.deepEqual(got.subarray(6), hb.subarray(6));
    assert.notEqual(got.readUInt16BE(4), 0, 'checksum filled by the sending kernel');
    assert.ok(verifyMhChecksum(got, parseIpv6(B2), parseIpv6(A1)), 'and right for the IPv6 pseudo-header');
    // The wildcard socket saw it too (its accept list has A1); the socket on B2 did not see its own MH.
    assert.equal((await a.call<Rx[]>('take', { name: 'w', n: 1 })).length, 1);
    assert.equal((await b.call<Rx[]>('take', { name: 'b', n: 1, ms: 100 })).length, 0);
  });

  it('a reply leaves from the chosen source address (IPV6_PKTINFO) and arrives from it', async () => {
    await a.call('send', { name: 'w', hex: heartbeat(8).toString('hex'), to: B2, from: A3 });
    const [m] = await b.call<Rx[]>('take', { name: 'b', n: 1 });
    assert.equal(m.from.address, A3);
    assert.equal(m.local, B2);
    await a.call('send', { name: 'a', hex: heartbeat(9).toString('hex'), to: B2 });
    const [m2] = await b.call<Rx[]>('take', { name: 'b', n: 1 });
    assert.equal(m2.from.address, A1, 'a socket bound to an address sends from it');
  });

  it('what one turn sends leaves in one batch (sendmmsg): each from its chosen source; a refused datagram is reported with its destination, the others still go', async () => {
    const before = await a.call<Stats>('stats', { name: 'w' });
    const packets = Array.from({ length: 40 }, (_, i) => ({ hex: heartbeat(100 + i).toString('hex'), to: B2, from: i % 2 ? A3 : A1 }));
    packets.splice(20, 0, { hex: heartbeat(99).toString('hex'), to: '2001:db8:dead::1', from: A1 }); // no route there
    const errors = await a.call<string[]>('sendMany', { name: 'w', packets });
    assert.equal(errors.length, 1);
    assert.match(errors[0], /2001:db8:dead::1/);
    const got = await b.call<Rx[]>('take', { name: 'b', n: 40 });
    assert.equal(got.length, 40);
    assert.deepEqual(
      got.map((m) => [Buffer.from(m.hex, 'hex').readUInt32BE(8), m.from.address]),
      Array.from({ length: 40 }, (_, i) => [100 + i, i % 2 ? A3 : A1]),
      'in order, each from its source',
    );
    const after = await a.call<Stats>('stats', { name: 'w' });
    assert.equal(after.txPackets - before.txPackets, 40);
    assert.equal(after.txErrors - before.txErrors, 1);
  });

  it('sendInto: MHs written in place into the batch leave as send() sends them, in order, each from its source', async () => {
    const packets = Array.from({ length: 30 }, (_, i) => ({ hex: heartbeat(200 + i).toString('hex'), to: B2, from: i % 2 ? A3 : A1, into: i % 3 !== 0 }));
    assert.deepEqual(await a.call<string[]>('sendMany', { name: 'w', packets }), []);
    const got = await b.call<Rx[]>('take', { name: 'b', n: 30 });
    assert.deepEqual(
      got.map((m) => [Buffer.from(m.hex, 'hex').subarray(6).toString('hex'), m.from.address]),
      packets.map((p) => [Buffer.from(p.hex, 'hex').subarray(6).toString('hex'), p.from]),
    );
  });

  it('§9.2: a wrong checksum is discarded silently by the kernel and counted in its drop counter', async () => {
    const before = await a.call<Stats>('stats', { name: 'a' });
    const bad = heartbeat(10);
    bad.writeUInt16BE(0x1234, 4);
    await b.call('send', { name: 'forge', hex: bad.toString('hex'), to: A1, from: B2 });
    const good = setMhChecksum(heartbeat(11), parseIpv6(B2), parseIpv6(A1));
    await b.call('send', { name: 'forge', hex: good.toString('hex'), to: A1, from: B2 });
    const got = await a.call<Rx[]>('take', { name: 'a', n: 1 });
    assert.equal(got.length, 1);
    assert.equal(Buffer.from(got[0].hex, 'hex').readUInt32BE(8), 11, 'only the one with the right checksum arrives');
    const after = await a.call<Stats>('stats', { name: 'a' });
    assert.equal(after.kernelDrops - before.kernelDrops, 1);
    assert.equal(after.delivered - before.delivered, 1);
    await a.call('take', { name: 'w', n: 1 });
  });

  it('filters in C: a type outside the set, a destination outside the accept list, an oversized datagram; counted and logged once per cause and peer', async () => {
    await a.call('logs');
    const before = await a.call<Stats>('stats', { name: 'a' });
    const beforeW = await a.call<Stats>('stats', { name: 'w' });
    const ba = encodeMessage({ type: 'ba', status: 0, flags: 0, seq: 1, lifetime: 0, options: [] });
    for (let i = 0; i < 3; i++) await b.call('send', { name: 'b', hex: ba.toString('hex'), to: A1 });
    // To A3: the socket bound to A1 never sees it (the kernel filters by the bound address); the wildcard one drops it in C.
    await b.call('send', { name: 'b', hex: heartbeat(12).toString('hex'), to: A3 });
    // More than an MH can be (RFC 6275 §6.1.1: at most 2048 octets).
    const big = Buffer.alloc(2056);
    big[0] = 59;
    big[1] = 255;
    big[2] = 13;
    await b.call('send', { name: 'b', hex: big.toString('hex'), to: A1 });
    const delivered = await a.call<Rx[]>('take', { name: 'w', n: 3, ms: 1000 });
    assert.deepEqual(delivered.map((m) => Buffer.from(m.hex, 'hex')[2]), [6, 6, 6], 'the wildcard socket takes the BAs (no type filter), not the rest');
    assert.equal((await a.call<Rx[]>('take', { name: 'a', n: 1, ms: 200 })).length, 0);
    const after = await a.call<Stats>('stats', { name: 'a' });
    const afterW = await a.call<Stats>('stats', { name: 'w' });
    assert.equal(after.typeFiltered - before.typeFiltered, 3);
    assert.equal(after.oversized - before.oversized, 1);
    assert.equal(afterW.wrongDestination - beforeW.wrongDestination, 1);
    assert.equal(afterW.oversized - beforeW.oversized, 1);
    const logs = await a.call<{ cause: string; peer: string; socket: string; mhType?: number }[]>('logs');
    const lines = (socket: string, cause: string) => logs.filter((l) => l.socket === socket && l.cause === cause && l.peer === B2);
    assert.equal(lines(A1, 'type-filtered').length, 1, 'three drops, one line');
    assert.equal(lines(A1, 'type-filtered')[0].mhType, 6);
    assert.equal(lines(A1, 'oversized').length, 1);
    assert.equal(lines('::', 'wrong-destination').length, 1);
    assert.equal(lines('::', 'oversized').length, 1);
  });

  it('without CAP_NET_RAW, opening the transport fails with one line that says so', async () => {
    const na = lab.namespaces[0];
    const weak = await Agent.start(lab, na, ['setpriv', '--bounding-set=-net_raw', '--inh-caps=-net_raw']);
    await assert.rejects(weak.call('open', { name: 'x', options: { addresses: [A1], what: 'test' } }), (e: Error & { name: string }) => {
      assert.equal(e.name, 'Ip6TransportUnavailableError');
      assert.match(e.message, /^test on 2001:db8:f1::1: IPv6 transport .* unavailable: the process lacks CAP_NET_RAW/);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
    await weak.call('exit');
  });

  it('the reported source is the IPv6 source of the packet (what the LMA authorises by): B4, not B2', async () => {
    await b.call('send', { name: 'forge', hex: setMhChecksum(heartbeat(13), parseIpv6(B4), parseIpv6(A1)).toString('hex'), to: A1, from: B4 });
    const [m] = await a.call<Rx[]>('take', { name: 'a', n: 1 });
    assert.equal(m.from.address, B4);
    await a.call('take', { name: 'w', n: 1 });
  });
});
