// The access-link codec (src/attach/icmp6.ts, build.ts) and the kernel filter (bpf.ts):
// golden bytes; scapy (Debian's python3-scapy) as an independent encoder of what an MN sends
// (RFC 4861 §4.1 RS, §4.3 NS, RFC 3810 §5.2 MLDv2 report) and decoder of what the MAG sends
// (§4.2 RA, §4.3 NS, RFC 3810 §5.1 query), checksums included; tshark decoding our frames with
// no malformed packet or error; hostile input never throws; the BPF program run by a small
// classic-BPF interpreter accepts exactly the ICMPv6 the detector reads.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseIpv6, ipv6ToString } from '../../src/mh/addr.ts';
import { Icmp6Type, icmp6Checksum, parseAccessFrame } from '../../src/attach/icmp6.ts';
import { ALL_NODES, buildMldv2GeneralQuery, buildNeighborSolicitation, buildRouterAdvertisement, type RaFields } from '../../src/attach/build.ts';
import { accessLinkFilter } from '../../src/attach/bpf.ts';
import { pcapFile } from '../mh/pcap.ts';
import { runBpf } from './bpf-vm.ts';

const PYTHON = '/usr/bin/python3';
const scapy = spawnSync(PYTHON, ['-c', 'import scapy.all'], { encoding: 'utf8' }).status === 0;
const TSHARK = '/usr/bin/tshark';
const MAG_MAC = Buffer.from('00005e005213', 'hex');
const MAG_LL = parseIpv6('fe80::200:5eff:fe00:5213');
const MN_MAC = Buffer.from('02005e100001', 'hex');
const MN_LL = parseIpv6('fe80::5eff:fe10:1');

function ra(over: Partial<RaFields> = {}): Buffer {
  return buildRouterAdvertisement({
    srcMac: MAG_MAC,
    dstMac: MN_MAC,
    src: MAG_LL,
    dst: MN_LL,
    curHopLimit: 64,
    managed: false,
    other: false,
    routerLifetimeS: 1800,
    reachableMs: 0,
    retransMs: 0,
    includeSourceLinkLayer: true,
    mtu: 1460,
    prefixes: [{ prefix: '2001:db8:77:1::/64', onLink: true, autonomous: true, validS: 2592000, preferredS: 604800 }],
    ...over,
  });
}

function py(script: string): string {
  return execFileSync(PYTHON, ['-c', `from scapy.all import *\nimport sys\n${script}`], { encoding: 'utf8' }).trim();
}

describe('RFC 4861 §4.2 Router Advertisement built by the MAG', () => {
  it('golden bytes: fixed link-local and MAC (RFC 6543), SLLA, MTU, one PIO with L and A', () => {
    const f = ra();
    assert.equal(
      f.toString('hex'),
      '02005e100001' + '00005e005213' + '86dd' +
        '60000000' + '0040' + '3a' + 'ff' + 'fe800000000000000200' + '5efffe005213' + 'fe80000000000000' + '00005efffe100001' +
        '8600' + f.subarray(56, 58).toString('hex') + '40' + '00' + '0708' + '00000000' + '00000000' +
        '0101' + '00005e005213' +
        '0501' + '0000' + '000005b4' +
        '0304' + '40' + 'c0' + '00278d00' + '00093a80' + '00000000' + '20010db8007700010000000000000000',
    );
    const p = parseAccessFrame(f);
    assert.ok(p.ok);
    assert.equal(p.packet.type, Icmp6Type.ROUTER_ADVERTISEMENT);
    assert.deepEqual(p.packet.ra, {
      curHopLimit: 64, managed: false, other: false, routerLifetimeS: 1800, reachableMs: 0, retransMs: 0, mtu: 1460,
      prefixes: [{ prefix: '2001:db8:77:1::', prefixLen: 64, onLink: true, autonomous: true, validS: 2592000, preferredS: 604800 }],
    });
    assert.equal(p.packet.sourceLinkLayer, '00:00:5e:00:52:13');
  });

  it('host bits past the prefix length are sent as zero (RFC 4861 §4.6.2)', () => {
    const p = parseAccessFrame(ra({ prefixes: [{ prefix: '2001:db8:77:1:ffff::1/64', onLink: true, autonomous: true, validS: 1, preferredS: 1 }] }));
    assert.ok(p.ok);
    assert.equal(p.packet.ra!.prefixes[0].prefix, '2001:db8:77:1::');
  });

  it('scapy decodes the RA, its checksum and every field; the withdrawal has router lifetime 0', { skip: !scapy && 'python3-scapy missing' }, () => {
    for (const withdraw of [false, true]) {
      const f = ra(withdraw ? { routerLifetimeS: 0, prefixes: [{ prefix: '2001:db8:77:1::/64', onLink: true, autonomous: true, validS: 0, preferredS: 0 }] } : {});
      const out = py(`p=Ether(bytes.fromhex('${f.toString('hex')}'))
ra=p[ICMPv6ND_RA]; c=ra.cksum; del ra.cksum; q=Ether(bytes(p))
pi=p[ICMPv6NDOptPrefixInfo]
print(p.src, p.dst, p[IPv6].src, p[IPv6].dst, p[IPv6].hlim, c==q[ICMPv6ND_RA].cksum, ra.routerlifetime, ra.M, ra.O, p[ICMPv6NDOptMTU].mtu, p[ICMPv6NDOptSrcLLAddr].lladdr, pi.prefix, pi.prefixlen, pi.L, pi.A, pi.validlifetime, pi.preferredlifetime)`);
      assert.equal(
        out,
        `00:00:5e:00:52:13 02:00:5e:10:00:01 fe80::200:5eff:fe00:5213 fe80::5eff:fe10:1 255 True ${withdraw ? 0 : 1800} 0 0 1460 00:00:5e:00:52:13 2001:db8:77:1:: 64 1 1 ${withdraw ? '0 0' : '2592000 604800'}`,
      );
    }
  });

  it('scapy decodes the NUD probe and the MLDv2 General Query (Router Alert, hop limit 1, checksums)', { skip: !scapy && 'python3-scapy missing' }, () => {
    const ns = buildNeighborSolicitation({ srcMac: MAG_MAC, dstMac: MN_MAC, src: MAG_LL, target: MN_LL, unicast: true });
    const out = py(`p=Ether(bytes.fromhex('${ns.toString('hex')}'))
n=p[ICMPv6ND_NS]; c=n.cksum; del n.cksum; q=Ether(bytes(p))
print(p.dst, p[IPv6].dst, p[IPv6].hlim, n.tgt, c==q[ICMPv6ND_NS].cksum, p[ICMPv6NDOptSrcLLAddr].lladdr)`);
    assert.equal(out, '02:00:5e:10:00:01 fe80::5eff:fe10:1 255 fe80::5eff:fe10:1 True 00:00:5e:00:52:13');
    const q = buildMldv2GeneralQuery({ srcMac: MAG_MAC, src: MAG_LL, maxResponseMs: 1000 });
    const out2 = py(`p=Ether(bytes.fromhex('${q.toString('hex')}'))
m=p[ICMPv6MLQuery2]; c=m.cksum; del m.cksum; r=Ether(bytes(p))
print(p.dst, p[IPv6].dst, p[IPv6].hlim, p[IPv6ExtHdrHopByHop].options[0].otype, m.mrd, m.mladdr, m.QRV, m.QQIC, c==r[ICMPv6MLQuery2].cksum)`);
    assert.equal(out2, '33:33:00:00:00:01 ff02::1 1 5 1000 :: 2 125 True');
  });

  it('tshark decodes RA, NS and MLDv2 query cleanly and reads back the prefix, lifetime and MTU', { skip: !existsSync(TSHARK) && 'tshark missing' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'at-pcap-'));
    try {
      const file = join(dir, 'a.pcap');
      writeFileSync(file, pcapFile([ra(), buildNeighborSolicitation({ srcMac: MAG_MAC, dstMac: MN_MAC, src: MAG_LL, target: MN_LL, unicast: true }), buildMldv2GeneralQuery({ srcMac: MAG_MAC, src: MAG_LL, maxResponseMs: 1000 })], 1));
      const bad = execFileSync(TSHARK, ['-r', file, '-Y', '_ws.malformed || _ws.expert.severity >= error'], { encoding: 'utf8' });
      assert.equal(bad.trim(), '');
      const fields = execFileSync(TSHARK, ['-r', file, '-T', 'fields', '-e', 'icmpv6.type', '-e', 'icmpv6.opt.prefix', '-e', 'icmpv6.nd.ra.router_lifetime', '-e', 'icmpv6.opt.mtu', '-e', 'icmpv6.checksum.status'], { encoding: 'utf8' });
      const lines = fields.trim().split('\n').map((l) => l.split('\t'));
      assert.deepEqual(lines[0], ['134', '2001:db8:77:1::', '1800', '1460', '1']);
      assert.equal(lines[1][0], '135');
      assert.equal(lines[2][0], '130');
      assert.deepEqual(lines.map((l) => l[4]), ['1', '1', '1']); // checksum good
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('what an MN sends, encoded by scapy, decoded by the MAG', { skip: !scapy && 'python3-scapy missing' }, () => {
  const frames = scapy
    ? py(`mac='02:00:5e:10:00:01'
print(bytes(Ether(src=mac,dst='33:33:00:00:00:02')/IPv6(src='fe80::5eff:fe10:1',dst='ff02::2',hlim=255)/ICMPv6ND_RS()/ICMPv6NDOptSrcLLAddr(lladdr=mac)).hex())
print(bytes(Ether(src=mac,dst='33:33:ff:10:00:01')/IPv6(src='::',dst='ff02::1:ff10:1',hlim=255)/ICMPv6ND_NS(tgt='fe80::5eff:fe10:1')).hex())
print(bytes(Ether(src=mac,dst='33:33:00:00:00:16')/IPv6(src='::',dst='ff02::16',hlim=1)/IPv6ExtHdrHopByHop(options=[RouterAlert()])/ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(rtype=4,dst='ff02::1:ff10:1')])).hex())
print(bytes(Ether(src=mac,dst='00:00:5e:00:52:13')/IPv6(src='fe80::5eff:fe10:1',dst='fe80::200:5eff:fe00:5213',hlim=255)/ICMPv6ND_NA(tgt='fe80::5eff:fe10:1',R=0,S=1,O=1)/ICMPv6NDOptDstLLAddr(lladdr=mac)).hex())
print(bytes(Ether(src=mac,dst='33:33:00:00:00:02')/IPv6(src='::',dst='ff02::2',hlim=255)/ICMPv6ND_RS()/ICMPv6NDOptSrcLLAddr(lladdr=mac)).hex())
print(bytes(Ether(src=mac,dst='33:33:00:00:00:02')/IPv6(src='fe80::5eff:fe10:1',dst='ff02::2',hlim=64)/ICMPv6ND_RS()).hex())
print(bytes(Ether(src=mac,dst='33:33:00:00:00:02')/IPv6(src='fe80::5eff:fe10:1',dst='ff02::2',hlim=255)/ICMPv6ND_RS(cksum=0x1234)).hex())
print(bytes(Ether(src=mac,dst='33:33:00:00:00:01')/IPv6(src='fe80::5eff:fe10:1',dst='ff02::1')/UDP(sport=5,dport=6)/b'x').hex())
print(bytes(Ether(src=mac,dst='33:33:00:00:00:01')/IPv6(src='fe80::5eff:fe10:1',dst='ff02::1')/ICMPv6EchoRequest()).hex())
print(bytes(Ether(src=mac,dst='ff:ff:ff:ff:ff:ff')/ARP()).hex())`)
        .split('\n')
        .map((h) => Buffer.from(h, 'hex'))
    : [];
  const [rs, dad, mld, na, rsUnspecWithSlla, rsHop64, rsBadSum, udp, echo, arp] = frames;

  it('RS (RFC 4861 §4.1): source link-local and SLLA', () => {
    const p = parseAccessFrame(rs);
    assert.ok(p.ok);
    assert.equal(p.packet.type, Icmp6Type.ROUTER_SOLICITATION);
    assert.equal(p.packet.srcMac, '02:00:5e:10:00:01');
    assert.equal(ipv6ToString(p.packet.src), 'fe80::5eff:fe10:1');
    assert.equal(p.packet.sourceLinkLayer, '02:00:5e:10:00:01');
  });

  it('DAD NS (RFC 4862 §5.4.2): unspecified source, tentative target', () => {
    const p = parseAccessFrame(dad);
    assert.ok(p.ok);
    assert.equal(p.packet.type, Icmp6Type.NEIGHBOR_SOLICITATION);
    assert.equal(ipv6ToString(p.packet.src), '::');
    assert.equal(ipv6ToString(p.packet.target!), 'fe80::5eff:fe10:1');
  });

  it('MLDv2 report behind a Hop-by-Hop Router Alert (RFC 3810 §5.2)', () => {
    const p = parseAccessFrame(mld);
    assert.ok(p.ok);
    assert.equal(p.packet.type, Icmp6Type.MLDV2_REPORT);
    assert.equal(p.packet.hopLimit, 1);
  });

  it('NA answering a NUD probe (RFC 4861 §4.4): flags and target', () => {
    const p = parseAccessFrame(na);
    assert.ok(p.ok);
    assert.deepEqual(p.packet.na, { router: false, solicited: true, override: true });
    assert.equal(p.packet.targetLinkLayer, '02:00:5e:10:00:01');
  });

  it('refused: RS from :: with SLLA (§6.1.1), hop limit not 255, bad checksum; other upper layers are not ICMPv6', () => {
    assert.deepEqual(parseAccessFrame(rsUnspecWithSlla), { ok: false, error: 'badSource' });
    assert.deepEqual(parseAccessFrame(rsHop64), { ok: false, error: 'hopLimit' });
    assert.deepEqual(parseAccessFrame(rsBadSum), { ok: false, error: 'checksum' });
    assert.deepEqual(parseAccessFrame(udp), { ok: false, error: 'notIcmpv6' });
    assert.deepEqual(parseAccessFrame(arp), { ok: false, error: 'short' });
  });

  it('the kernel filter (classic BPF) passes RS, DAD NS, MLDv2 report, NA, ARP and drops UDP, echo', () => {
    const prog = accessLinkFilter();
    const verdicts = [rs, dad, mld, na, udp, echo, arp].map((f) => runBpf(prog, f) > 0);
    assert.deepEqual(verdicts, [true, true, true, true, false, false, true]);
  });
});

describe('hostile frames', () => {
  it('never throw: random bytes, and every truncation and single-octet corruption of valid frames', () => {
    const valid = [ra(), buildNeighborSolicitation({ srcMac: MAG_MAC, dstMac: MN_MAC, src: MAG_LL, target: MN_LL, unicast: true }), buildMldv2GeneralQuery({ srcMac: MAG_MAC, src: MAG_LL, maxResponseMs: 1 })];
    for (const f of valid) {
      for (let n = 0; n < f.length; n++) assert.equal(parseAccessFrame(f.subarray(0, n)).ok, false);
      for (let i = 0; i < f.length; i++) {
        const g = Buffer.from(f);
        g[i] ^= 0x5a;
        parseAccessFrame(g);
      }
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => void parseAccessFrame(b)), { numRuns: 2000 });
  });

  it('an option of length 0 is refused (RFC 4861 §4.6)', () => {
    const f = ra();
    const g = Buffer.from(f);
    g[54 + 16 + 1] = 0; // the SLLA option's length
    // a correct checksum, so that the option check is what refuses it
    g.writeUInt16BE(0, 56);
    g.writeUInt16BE(icmp6Checksum(g.subarray(22, 38), g.subarray(38, 54), g.subarray(54)), 56);
    assert.deepEqual(parseAccessFrame(g), { ok: false, error: 'badOption' });
  });

  it('RA to ff02::1 when the MN has no link-local yet', () => {
    const p = parseAccessFrame(ra({ dst: ALL_NODES }));
    assert.ok(p.ok);
    assert.equal(ipv6ToString(p.packet.dst), 'ff02::1');
  });
});
