// The access link's DHCPv4 server (RFC 5844 §3.4): the codec against scapy (client messages
// it encodes, our replies it decodes with their IPv4 and UDP checksums) and tshark; the
// RFC 2131 §4.3 decisions; and the detector end to end with a real Mag and a fake LMA that
// assigns IPv4 home addresses: DISCOVER attaches, is held until the PBA, then offered.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DhcpType, buildDhcpReply, ipv4Num, ipv4Text, parseDhcpFrame, type DhcpRequest } from '../../src/attach/dhcp4.ts';
import { decideDhcp } from '../../src/attach/dhcp-server.ts';
import { accessLinkFilter } from '../../src/attach/bpf.ts';
import { AccessLinkDetector } from '../../src/attach/detector.ts';
import { RecordingDataPlane } from '../../src/dataplane/recording.ts';
import { Mag, mapPolicy, type MagEvent } from '../../src/mag/index.ts';
import { pcapFile } from '../mh/pcap.ts';
import { profile, world, MAG_A } from '../mag/harness.ts';
import { runBpf } from './bpf-vm.ts';
import { FakeIo } from './fake-io.ts';

const PYTHON = '/usr/bin/python3';
const scapy = spawnSync(PYTHON, ['-c', 'import scapy.all'], { encoding: 'utf8' }).status === 0;
const MAC = '02:00:5e:10:00:03';

function py(script: string): string {
  return execFileSync(PYTHON, ['-c', `from scapy.all import *\n${script}`], { encoding: 'utf8' }).trim();
}

/** Client messages, encoded by scapy: [discover, request selecting, request init-reboot, request renewing, release, udp-to-68, chaddr spoofed]. */
const client = scapy
  ? py(`mac='${MAC}'
def m(opts, ciaddr='0.0.0.0', src='0.0.0.0', dst='255.255.255.255', dport=67, chaddr=mac, flags=0x8000):
    return bytes(Ether(src=mac,dst='ff:ff:ff:ff:ff:ff')/IP(src=src,dst=dst)/UDP(sport=68,dport=dport)/BOOTP(chaddr=mac2str(chaddr),xid=0x1234,flags=flags,ciaddr=ciaddr)/DHCP(options=opts+['end'])).hex()
print(m([('message-type','discover')]))
print(m([('message-type','request'),('server_id','10.0.0.1'),('requested_addr','10.0.0.5')]))
print(m([('message-type','request'),('requested_addr','10.0.0.5')]))
print(m([('message-type','request')], ciaddr='10.0.0.5', src='10.0.0.5', dst='10.0.0.1', flags=0))
print(m([('message-type','release'),('server_id','10.0.0.1')], ciaddr='10.0.0.5', src='10.0.0.5', dst='10.0.0.1', flags=0))
print(m([('message-type','discover')], dport=68))
print(m([('message-type','discover')], chaddr='02:00:00:00:00:99'))`)
      .split('\n')
      .map((h) => Buffer.from(h, 'hex'))
  : [];

function req(over: Partial<DhcpRequest>): DhcpRequest {
  return { srcMac: MAC, xid: 1, broadcast: true, ciaddr: 0, giaddr: 0, chaddr: MAC, type: DhcpType.DISCOVER, requestedIp: null, serverId: null, clientId: null, ...over };
}

const LEASE = { address: ipv4Num('10.0.0.5'), prefixLen: 24, router: ipv4Num('10.0.0.1') };
const SID = ipv4Num('10.0.0.1');

describe('DHCPv4 codec (RFC 2131 §2, RFC 2132)', { skip: !scapy && 'python3-scapy missing' }, () => {
  it('parses what scapy sends: DISCOVER, REQUEST in SELECTING / INIT-REBOOT / RENEWING, RELEASE', () => {
    const [disc, sel, reboot, renew, release] = client.map((f) => parseDhcpFrame(f));
    assert.ok(disc.ok && sel.ok && reboot.ok && renew.ok && release.ok);
    assert.deepEqual([disc.msg.type, disc.msg.xid, disc.msg.broadcast, disc.msg.chaddr], [DhcpType.DISCOVER, 0x1234, true, MAC]);
    assert.deepEqual([ipv4Text(sel.msg.serverId!), ipv4Text(sel.msg.requestedIp!)], ['10.0.0.1', '10.0.0.5']);
    assert.equal(reboot.msg.serverId, null);
    assert.equal(ipv4Text(renew.msg.ciaddr), '10.0.0.5');
    assert.equal(release.msg.type, DhcpType.RELEASE);
  });

  it('our OFFER and NAK, decoded by scapy: addresses, options, IPv4 and UDP checksums', () => {
    const disc = parseDhcpFrame(client[0]);
    assert.ok(disc.ok);
    const offer = buildDhcpReply({ type: DhcpType.OFFER, req: disc.msg, serverMac: Buffer.from('00005e005213', 'hex'), serverId: SID, yiaddr: LEASE.address, leaseS: 3600, subnetMask: ipv4Num('255.255.255.0'), router: SID, mtu: 1460 });
    const out = py(`p=Ether(bytes.fromhex('${offer.toString('hex')}'))
ic=p[IP].chksum; uc=p[UDP].chksum; del p[IP].chksum; del p[UDP].chksum; q=Ether(bytes(p))
o=dict(x for x in p[DHCP].options if isinstance(x, tuple))
print(p.dst, p[IP].src, p[IP].dst, p[UDP].sport, p[UDP].dport, p[BOOTP].op, p[BOOTP].yiaddr, hex(p[BOOTP].xid), ic==q[IP].chksum, uc==q[UDP].chksum, o['message-type'], o['server_id'], o['lease_time'], o['subnet_mask'], o['router'], o['interface-mtu'])`);
    assert.equal(out, 'ff:ff:ff:ff:ff:ff 10.0.0.1 255.255.255.255 67 68 2 10.0.0.5 0x1234 True True 2 10.0.0.1 3600 255.255.255.0 10.0.0.1 1460');
    const renew = parseDhcpFrame(client[3]);
    assert.ok(renew.ok);
    const ack = buildDhcpReply({ type: DhcpType.ACK, req: renew.msg, serverMac: Buffer.from('00005e005213', 'hex'), serverId: SID, yiaddr: LEASE.address, leaseS: 3600 });
    assert.equal(py(`p=Ether(bytes.fromhex('${ack.toString('hex')}')); print(p.dst, p[IP].dst, p[BOOTP].ciaddr)`), `${MAC} 10.0.0.5 10.0.0.5`);
  });

  it('tshark decodes the reply without error', { skip: !existsSync('/usr/bin/tshark') && 'tshark missing' }, () => {
    const disc = parseDhcpFrame(client[0]);
    assert.ok(disc.ok);
    const dir = mkdtempSync(join(tmpdir(), 'at-dhcp-'));
    try {
      const f = join(dir, 'd.pcap');
      writeFileSync(f, pcapFile([buildDhcpReply({ type: DhcpType.OFFER, req: disc.msg, serverMac: Buffer.from('00005e005213', 'hex'), serverId: SID, yiaddr: LEASE.address, leaseS: 60, mtu: 1460 })], 1));
      assert.equal(execFileSync('/usr/bin/tshark', ['-r', f, '-Y', '_ws.malformed || _ws.expert.severity >= error'], { encoding: 'utf8' }).trim(), '');
      assert.equal(execFileSync('/usr/bin/tshark', ['-r', f, '-T', 'fields', '-e', 'dhcp.option.dhcp', '-e', 'dhcp.ip.your'], { encoding: 'utf8' }).trim(), '2\t10.0.0.5');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the kernel filter passes DHCP to port 67 and drops UDP to 68; hostile bytes never throw', () => {
    assert.equal(runBpf(accessLinkFilter(), client[0]) > 0, true);
    assert.equal(runBpf(accessLinkFilter(), client[5]) > 0, false);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => void parseDhcpFrame(b)), { numRuns: 2000 });
    for (let n = 0; n < client[0].length; n += 7) assert.equal(parseDhcpFrame(client[0].subarray(0, n)).ok, false);
  });
});

describe('RFC 2131 §4.3 decisions with the LMA-assigned lease', () => {
  it('before the PBA everything is held (RFC 5844 §3.4.3); after it OFFER / ACK / NAK', () => {
    assert.deepEqual(decideDhcp(req({}), null, null), { kind: 'hold' });
    assert.deepEqual(decideDhcp(req({}), LEASE, SID), { kind: 'reply', type: DhcpType.OFFER, yiaddr: LEASE.address, full: true });
    const selecting = req({ type: DhcpType.REQUEST, serverId: SID, requestedIp: LEASE.address });
    assert.equal((decideDhcp(selecting, LEASE, SID) as { type: number }).type, DhcpType.ACK);
    assert.deepEqual(decideDhcp({ ...selecting, serverId: ipv4Num('192.0.2.1') }, LEASE, SID), { kind: 'ignore', why: 'otherServer' });
    assert.equal((decideDhcp({ ...selecting, requestedIp: ipv4Num('10.0.0.9') }, LEASE, SID) as { type: number }).type, DhcpType.NAK);
    const reboot = req({ type: DhcpType.REQUEST, requestedIp: LEASE.address });
    assert.deepEqual(decideDhcp(reboot, null, null), { kind: 'hold' });
    assert.equal((decideDhcp(reboot, LEASE, SID) as { type: number }).type, DhcpType.ACK);
    const renewOther = req({ type: DhcpType.REQUEST, ciaddr: ipv4Num('10.9.9.9') });
    assert.equal((decideDhcp(renewOther, LEASE, SID) as { type: number }).type, DhcpType.NAK);
    assert.deepEqual(decideDhcp(req({ type: DhcpType.RELEASE }), LEASE, SID), { kind: 'ignore', why: 'release' });
  });
});

describe('the detector serves DHCPv4 from the binding (RFC 5844 §3.4)', { skip: !scapy && 'python3-scapy missing' }, () => {
  it('a DISCOVER attaches an IPv4 MN, is held until PBA 0 and then offered the LMA\'s IPv4 HoA; no RA for an IPv4-only MN; a spoofed chaddr gets nothing', async () => {
    const p = profile('v4@example.net', { hnps: [], hnpPool: null, ipv4Pool: 'v4' });
    const w = world({ profiles: [p] });
    const io = new FakeIo();
    const det = new AccessLinkDetector({ interfaces: ['acc*'], reachableTimeMs: 1e9 }, { clock: w.clock, io, identify: (m) => (m === MAC ? 'v4@example.net' : null), random: () => 0.5 });
    const events: MagEvent[] = [];
    const mag = new Mag({ id: 'mag-a', proxyCoa: MAG_A, heartbeatIntervalS: 0, requestIpv4: true }, { clock: w.clock, transport: w.hub.endpoint(MAG_A), dataPlane: new RecordingDataPlane(), policy: mapPolicy([p]), detector: det, advertiser: det, events: { emit: (e) => void events.push(e) } });
    await mag.start();
    io.link(5, 'acc0', true);
    io.take(5);
    io.rx(5, client[6]); // chaddr not its MAC
    assert.equal(det.counters.dropped.dhcpSpoofed, 1);
    w.lma.respond = () => 'drop';
    io.rx(5, client[0]);
    await w.advance(0);
    assert.equal(det.counters.dhcp.held, 1);
    assert.deepEqual(io.ports.get(5)!.sent, []);
    w.lma.respond = null;
    await w.advance(1000);
    const reg = events.find((e) => e.type === 'registered');
    assert.ok(reg && reg.type === 'registered' && reg.ipv4HoA);
    const frames = io.ports.get(5)!.sent.splice(0);
    const type = (f: Buffer) => f.readUInt16BE(12);
    // The OFFER, and the ARP reply for the default router the MAG volunteers with a new IPv4 binding.
    assert.equal(frames.filter((f) => type(f) === 0x86dd).length, 0, 'no RA (nothing IPv6) for an IPv4-only MN');
    assert.ok(frames.every((f) => type(f) === 0x0800 || type(f) === 0x0806), 'only IPv4 and ARP');
    const sent = frames.filter((f) => type(f) === 0x0800);
    assert.equal(sent.length, 1, 'one OFFER');
    const out = py(`p=Ether(bytes.fromhex('${sent[0].toString('hex')}'))
o=dict(x for x in p[DHCP].options if isinstance(x, tuple))
print(o['message-type'], p[BOOTP].yiaddr, o['router'], o['server_id'], o['subnet_mask'], o['interface-mtu'])`);
    assert.equal(out, `2 ${reg.ipv4HoA} 10.0.0.1 10.0.0.1 255.255.255.0 1452`);
    await mag.stop();
  });
});
