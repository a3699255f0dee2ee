/**
 * tshark as an independent oracle for the encoder. Every message type and
 * option is written into a pcap twice: (a) in IPv6 (next header 135, MH
 * checksum filled) and (b) in IPv4/UDP to port 5436 (RFC 5844 4: MH checksum
 * 0, UDP checksum valid). tshark must find no malformed frame and no
 * error-level expert info, and must read back the field values we encoded.
 * (tshark does not verify the MH checksum: property.test.ts does that.)
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  BaFlag,
  BaStatus,
  BrFlag,
  BuFlag,
  HandoffIndicator,
  HeartbeatFlag,
  PMIP6_CNTL_UDP_PORT,
  RevocationTrigger,
  encodeMessage,
  getOptions,
  ipv6ToString,
  mnIdFromNai,
  parseIpv4,
  parseIpv6,
  timestampFromMs,
} from '../../src/mh/index.ts';
import type { MhMessage } from '../../src/mh/index.ts';
import { makeMessageArb } from './arbitraries.ts';
import { ipv6Packet, pcapFile, udpOverIpv4 } from './pcap.ts';

const TSHARK = '/usr/bin/tshark';
const P6 = parseIpv6;
const SRC6 = P6('2001:db8:f::2'); // MAG Proxy-CoA
const DST6 = P6('2001:db8:f::1'); // LMAA
const SRC4 = parseIpv4('198.51.100.2');
const DST4 = parseIpv4('198.51.100.1');
const MAC = Buffer.from('001122334455', 'hex');

interface Showcase { name: string; msg: MhMessage; expect: Record<string, string[]> }

/** Every message type and every option, with the tshark field values they must produce. */
const showcase: Showcase[] = [
  {
    name: 'RFC 5213 8.1 PBU (HNP x2, MN-ID, HI, ATT, Timestamp, LLA, MN-LL-ID) + RFC 5844 IPv4 HoA Request + RFC 5845 GRE Key + RFC 5149 + RFC 5094',
    msg: {
      type: 'bu', seq: 0x1234, flags: BuFlag.A | BuFlag.P | BuFlag.T, lifetime: 900,
      options: [
        { type: 'hnp', prefixLen: 64, prefix: P6('2001:db8:1:1::') },
        { type: 'hnp', prefixLen: 56, prefix: P6('2001:db8:1:200::') },
        mnIdFromNai('mn1@example.net'),
        { type: 'handoffIndicator', hi: HandoffIndicator.NEW_INTERFACE },
        { type: 'accessTechType', att: 4 },
        { type: 'timestamp', value: timestampFromMs(1600000000500) },
        { type: 'linkLocalAddress', addr: P6('fe80::200:5eff:fe00:5213') },
        { type: 'mnLinkLayerId', id: MAC },
        { type: 'ipv4HoaRequest', prefixLen: 24, addr: parseIpv4('10.0.0.5') },
        { type: 'greKey', key: 12345 },
        { type: 'serviceSelection', id: Buffer.from('ims') },
        { type: 'vendorSpecific', vendorId: 9, subType: 1, data: Buffer.from('abcd', 'hex') },
      ],
    },
    expect: {
      'mip6.mhtype': ['5'], 'mip6.bu.seqnr': ['4660'], 'mip6.bu.lifetime': ['900'],
      'mip6.bu.a_flag': ['1'], 'mip6.bu.h_flag': ['0'], 'mip6.bu.p_flag': ['1'], 'mip6.bu.t_flag': ['1'], 'mip6.bu.f_flag': ['0'],
      'mip6.nemo.mnp.mnp': ['2001:db8:1:1::', '2001:db8:1:200::'], 'mip6.nemo.mnp.pfl': ['64', '56'],
      'mip6.mnid.subtype': ['1'], 'mip6.mnid.identifier': ['mn1@example.net'],
      'mip6.hi': ['1'], 'mip6.att': ['4'],
      'mip6.timestamp_tmp': ['Sep 13, 2020 12:26:40.500000000 UTC'],
      'mip6.lila_lla': ['fe80::200:5eff:fe00:5213'], 'mip6.mnlli.lli': ['001122334455'],
      'mip6.ipv4ha.ha': ['10.0.0.5'], 'mip6.ipv4ha.preflen': ['24'],
      'mip6.gre_key': ['12345'], 'mip6.ss.identifier': ['ims'], 'mip6.vsm.vendorId': ['9'], 'mip6.vsm.subtype': ['1'],
    },
  },
  {
    name: 'RFC 6275 6.1.7 BU with Alternate CoA, RFC 5555 IPv4 HoA / IPv4 CoA, RFC 6602 MN Group Id',
    msg: {
      type: 'bu', seq: 7, flags: BuFlag.A | BuFlag.H | BuFlag.F | BuFlag.B, lifetime: 0,
      options: [
        { type: 'altCoa', addr: P6('2001:db8:f::9') },
        { type: 'ipv4HomeAddress', prefixLen: 32, p: true, addr: parseIpv4('192.0.2.1') },
        { type: 'ipv4Coa', addr: parseIpv4('198.51.100.7') },
        { type: 'mnGroupId', subtype: 1, groupId: 1 },
      ],
    },
    expect: {
      'mip6.mhtype': ['5'], 'mip6.bu.seqnr': ['7'], 'mip6.bu.lifetime': ['0'],
      'mip6.bu.h_flag': ['1'], 'mip6.bu.p_flag': ['0'], 'mip6.bu.f_flag': ['1'], 'mip6.bu.b_flag': ['1'],
      'mip6.acoa.acoa': ['2001:db8:f::9'],
      'mip6.ipv4ha.ha': ['192.0.2.1'], 'mip6.ipv4ha.preflen': ['32'], 'mip6.ipv4ha.p_flag': ['1'],
      'mip6.ipv4coa.addr': ['198.51.100.7'], 'mip6.mng.sub_type': ['1'], 'mip6.mng.mng_id': ['1'],
    },
  },
  {
    name: 'RFC 5213 8.2 PBA accepted + RFC 5844 HoA Reply, Default-Router, DHCP mode + RFC 5845 uplink GRE key',
    msg: {
      type: 'ba', status: BaStatus.ACCEPTED, flags: BaFlag.P | BaFlag.T, seq: 0x1234, lifetime: 900,
      options: [
        mnIdFromNai('mn1@example.net'),
        { type: 'hnp', prefixLen: 64, prefix: P6('2001:db8:1:1::') },
        { type: 'handoffIndicator', hi: 1 },
        { type: 'accessTechType', att: 4 },
        { type: 'timestamp', value: timestampFromMs(1600000000500) },
        { type: 'linkLocalAddress', addr: P6('fe80::1') },
        { type: 'mnLinkLayerId', id: MAC },
        { type: 'ipv4HoaReply', status: 0, prefixLen: 24, addr: parseIpv4('10.0.0.5') },
        { type: 'ipv4DefaultRouter', addr: parseIpv4('10.0.0.1') },
        { type: 'ipv4DhcpSupportMode', server: true },
        { type: 'greKey', key: 67890 },
      ],
    },
    expect: {
      'mip6.mhtype': ['6'], 'mip6.ba.status': ['0'], 'mip6.ba.seqnr': ['4660'], 'mip6.ba.lifetime': ['900'],
      'mip6.ba.p_flag': ['1'], 'mip6.ba.t_flag': ['1'], 'mip6.ba.k_flag': ['0'],
      'mip6.mnid.identifier': ['mn1@example.net'], 'mip6.nemo.mnp.mnp': ['2001:db8:1:1::'],
      'mip6.hi': ['1'], 'mip6.att': ['4'], 'mip6.lila_lla': ['fe80::1'], 'mip6.mnlli.lli': ['001122334455'],
      'mip6.timestamp_tmp': ['Sep 13, 2020 12:26:40.500000000 UTC'],
      'mip6.ipv4aa.sts': ['0'], 'mip6.ipv4ha.ha': ['10.0.0.5'], 'mip6.ipv4ha.preflen': ['24'],
      'mip6.ipv4dra.dra': ['10.0.0.1'], 'mip6.ipv4dsm.s_flag': ['1'], 'mip6.gre_key': ['67890'],
    },
  },
  {
    name: 'RFC 5845 6.4 PBA rejected 163 + RFC 6275 6.2.4 Binding Refresh Advice + RFC 5555 NAT Detection, Address Ack + GRE Length 2',
    msg: {
      type: 'ba', status: BaStatus.GRE_KEY_OPTION_REQUIRED, flags: BaFlag.P, seq: 9, lifetime: 0,
      options: [
        { type: 'bindingRefreshAdvice', interval: 10 },
        { type: 'natDetection', f: true, refreshTime: 110 },
        { type: 'ipv4AddressAck', status: 128, prefixLen: 0, addr: 0 },
        { type: 'greKey', key: null },
        { type: 'mnId', subtype: 1, id: Buffer.alloc(0) },
      ],
    },
    expect: {
      'mip6.mhtype': ['6'], 'mip6.ba.status': ['163'], 'mip6.ba.seqnr': ['9'], 'mip6.bra.interval': ['10'],
      'mip6.natd.f_flag': ['1'], 'mip6.natd.refresh_t': ['110'], 'mip6.ipv4aa.sts': ['128'], 'mip6.mnid.subtype': ['1'],
    },
  },
  {
    name: 'RFC 6275 6.1.9 Binding Error status 2',
    msg: { type: 'be', status: 2, homeAddress: P6('2001:db8::1'), options: [] },
    expect: { 'mip6.mhtype': ['7'], 'mip6.be.status': ['2'], 'mip6.be.haddr': ['2001:db8::1'] },
  },
  {
    name: 'RFC 5847 3.3 Heartbeat request',
    msg: { type: 'heartbeat', flags: 0, seq: 0xffffffff, options: [] },
    expect: { 'mip6.mhtype': ['13'], 'mip6.hb.r_flag': ['0'], 'mip6.hb.u_flag': ['0'], 'mip6.hb.seqnr': ['4294967295'] },
  },
  {
    name: 'RFC 5847 3.3/3.4 unsolicited Heartbeat response with Restart Counter',
    msg: { type: 'heartbeat', flags: HeartbeatFlag.U | HeartbeatFlag.R, seq: 5, options: [{ type: 'restartCounter', counter: 42 }] },
    expect: { 'mip6.mhtype': ['13'], 'mip6.hb.r_flag': ['1'], 'mip6.hb.u_flag': ['1'], 'mip6.hb.seqnr': ['5'], 'mip6.rc': ['42'] },
  },
  {
    name: 'RFC 5846 5.1 BRI per-MN (P, V) with MN-ID, HNP, IPv4 HoA Request',
    msg: {
      type: 'bri', trigger: RevocationTrigger.INTER_MAG_HANDOVER_SAME_ACCESS_TYPE, seq: 0x0a0b, flags: BrFlag.P | BrFlag.V,
      options: [
        mnIdFromNai('mn1@example.net'),
        { type: 'hnp', prefixLen: 64, prefix: P6('2001:db8:1:1::') },
        { type: 'ipv4HoaRequest', prefixLen: 24, addr: parseIpv4('10.0.0.5') },
      ],
    },
    expect: {
      'mip6.mhtype': ['16'], 'mip6.bri_br.type': ['1'], 'mip6.bri_r.trigger': ['2'], 'mip6.bri_seqnr': ['2571'],
      'mip6.bri_ip': ['1'], 'mip6.bri_iv': ['1'], 'mip6.bri_ig': ['0'],
      'mip6.mnid.identifier': ['mn1@example.net'], 'mip6.nemo.mnp.mnp': ['2001:db8:1:1::'], 'mip6.ipv4ha.ha': ['10.0.0.5'],
    },
  },
  {
    name: 'RFC 5846 5.1 BRI global (P, G, trigger 128 Per-Peer Policy), no options',
    msg: { type: 'bri', trigger: RevocationTrigger.PER_PEER_POLICY, seq: 1, flags: BrFlag.P | BrFlag.G, options: [] },
    expect: { 'mip6.bri_br.type': ['1'], 'mip6.bri_r.trigger': ['128'], 'mip6.bri_ip': ['1'], 'mip6.bri_ig': ['1'] },
  },
  {
    name: 'RFC 5846 5.2 BRA status 128 (P, G) with MN-ID and HNP',
    msg: {
      type: 'bra', status: 128, seq: 0x0a0b, flags: BrFlag.P | BrFlag.G,
      options: [mnIdFromNai('mn1@example.net'), { type: 'hnp', prefixLen: 64, prefix: P6('2001:db8:1:1::') }],
    },
    expect: {
      'mip6.mhtype': ['16'], 'mip6.bri_br.type': ['2'], 'mip6.bri_status': ['128'], 'mip6.bri_seqnr': ['2571'],
      'mip6.bri_ap': ['1'], 'mip6.bri_av': ['0'], 'mip6.bri_ag': ['1'],
      'mip6.mnid.identifier': ['mn1@example.net'], 'mip6.nemo.mnp.mnp': ['2001:db8:1:1::'],
    },
  },
  {
    name: 'RFC 6275 9.2 unknown MH type (200) passes through',
    msg: { type: 'unknown', mhType: 200, data: Buffer.alloc(10, 0xab) },
    expect: { 'mip6.mhtype': ['200'] },
  },
];

/** Random valid messages that stay clear of types/options tshark would interpret differently. */
const randomMsgs: MhMessage[] = fc.sample(
  makeMessageArb({
    unknownOptionCode: fc.integer({ min: 100, max: 255 }), // not assigned/dissected by tshark 4.0
    unknownMhType: fc.integer({ min: 100, max: 255 }),
    vendorId: fc.integer({ min: 0, max: 10000 }), // avoid 10415 (3GPP), whose payload tshark dissects
  }),
  { numRuns: 600, seed: 5847 },
);

const allMsgs = [...showcase.map((s) => s.msg), ...randomMsgs];
const N = allMsgs.length;
const v6Frames = allMsgs.map((m) => encodeMessage(m, { src: SRC6, dst: DST6 }));
const v4Frames = allMsgs.map((m) => encodeMessage(m));
// Frames 1..N: IPv6; frames N+1..2N: IPv4/UDP 5436.
const packets = [
  ...v6Frames.map((mh) => ipv6Packet(SRC6, DST6, 135, mh)),
  ...v4Frames.map((mh) => udpOverIpv4(SRC4, DST4, PMIP6_CNTL_UDP_PORT, PMIP6_CNTL_UDP_PORT, mh)),
];

const FIELDS = [
  'frame.number', 'ipv6.nxt', 'udp.dstport', 'udp.checksum.status', 'ip.checksum.status',
  'mip6.proto', 'mip6.hlen', 'mip6.mhtype', 'mip6.csum',
  'mip6.bu.seqnr', 'mip6.ba.seqnr', 'mip6.hb.seqnr', 'mip6.bri_seqnr',
  ...new Set(showcase.flatMap((s) => Object.keys(s.expect))),
];

// The wire-format oracle is required (.ci/run installs it): a missing tshark fails, not skips.
if (!existsSync(TSHARK)) throw new Error(`${TSHARK} not found: install Debian's tshark (bash .ci/run does)`);
let dir = '';
let pcapPath = '';

function tshark(args: string[]): string {
  return execFileSync(TSHARK, ['-n', '-r', pcapPath, '-o', 'udp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir, TZ: 'UTC' },
  });
}

type Layers = Record<string, string[] | undefined>;
let frames: Layers[] = [];

describe('tshark oracle: MH over IPv6 (proto 135) and IPv4/UDP 5436 (RFC 5844 4)', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mh-tshark-'));
    pcapPath = join(dir, 'mh.pcap');
    writeFileSync(pcapPath, pcapFile(packets));
    const json = JSON.parse(tshark(['-T', 'json', ...FIELDS.flatMap((f) => ['-e', f])])) as { _source: { layers: Layers } }[];
    frames = json.map((p) => p._source.layers);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('tshark decodes every frame as a Mobility Header (no decode-as needed for UDP 5436)', () => {
    assert.equal(frames.length, 2 * N);
    for (let i = 0; i < 2 * N; i++) {
      const f = frames[i];
      assert.deepStrictEqual(f['mip6.proto'], ['59'], `frame ${i + 1}`);
      if (i < N) assert.deepStrictEqual(f['ipv6.nxt'], ['135']);
      else assert.deepStrictEqual(f['udp.dstport'], [String(PMIP6_CNTL_UDP_PORT)]);
    }
  });

  it('no frame is malformed or carries an error-level expert info; UDP and IPv4 checksums are good', () => {
    const bad = tshark([
      '-Y', '_ws.malformed || _ws.expert.severity >= error || udp.checksum.status == 0 || ip.checksum.status == 0',
      '-T', 'fields', '-e', 'frame.number', '-e', '_ws.expert.message',
    ]);
    assert.equal(bad.trim(), '', `frames with problems:\n${bad}`);
    for (let i = N; i < 2 * N; i++) {
      assert.deepStrictEqual(frames[i]['udp.checksum.status'], ['1'], `UDP checksum of frame ${i + 1}`);
      assert.deepStrictEqual(frames[i]['ip.checksum.status'], ['1']);
    }
  });

  it('RFC 6275 6.1.1: Header Len, MH Type and Checksum as encoded (0 over IPv4/UDP, RFC 5844 4)', () => {
    for (let i = 0; i < N; i++) {
      for (const [k, enc] of [[i, v6Frames[i]], [N + i, v4Frames[i]]] as const) {
        const f = frames[k];
        assert.deepStrictEqual(f['mip6.hlen'], [String(enc.length / 8 - 1)], `frame ${k + 1}`);
        assert.deepStrictEqual(f['mip6.mhtype'], [String(enc[2])]);
        const csum = '0x' + enc.readUInt16BE(4).toString(16).padStart(4, '0');
        assert.deepStrictEqual(f['mip6.csum'], [csum]);
      }
      assert.deepStrictEqual(frames[N + i]['mip6.csum'], ['0x0000']);
    }
  });

  for (let s = 0; s < showcase.length; s++) {
    const sc = showcase[s];
    it(`${sc.name}: tshark reads back the encoded fields`, () => {
      for (const k of [s, N + s]) {
        for (const [field, values] of Object.entries(sc.expect)) {
          assert.deepStrictEqual(frames[k][field], values, `${field} in frame ${k + 1}`);
        }
      }
    });
  }

  it('random messages: sequence numbers and Home Network Prefixes match in both carriages', () => {
    for (let i = showcase.length; i < N; i++) {
      const m = allMsgs[i];
      for (const k of [i, N + i]) {
        const f = frames[k];
        const seqField = { bu: 'mip6.bu.seqnr', ba: 'mip6.ba.seqnr', heartbeat: 'mip6.hb.seqnr', bri: 'mip6.bri_seqnr', bra: 'mip6.bri_seqnr' } as const;
        if (m.type !== 'unknown' && m.type !== 'be') assert.deepStrictEqual(f[seqField[m.type]], [String(m.seq)], `seq in frame ${k + 1}`);
        const hnps = getOptions(m, 'hnp').map((h) => ipv6ToString(h.prefix));
        assert.deepStrictEqual(f['mip6.nemo.mnp.mnp'] ?? [], hnps, `HNPs in frame ${k + 1}`);
      }
    }
  });
});
