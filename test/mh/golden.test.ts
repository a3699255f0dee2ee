/**
 * Golden bytes: every expected octet below was written by hand from the RFC
 * figures (RFC 6275 6.1/6.2, 5213 8, 4283 3, 5555 3, 5844 3.3, 5845 6.1,
 * 5846 5, 5847 3.3/3.4, 6602 4.3), not captured from the encoder.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BaFlag,
  BrFlag,
  BuFlag,
  HeartbeatFlag,
  decodeMessage,
  encodeMessage,
  encodeMessageInto,
  mhChecksum,
  parseIpv4,
  parseIpv6,
  timestampFromMs,
  verifyMhChecksum,
} from '../../src/mh/index.ts';
import type { MhMessage, MobilityOption } from '../../src/mh/index.ts';

/** Hex with spaces, newlines and `# comments` allowed. */
function hex(s: string): Buffer {
  return Buffer.from(s.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex');
}

function roundTrip(msg: MhMessage, expected: Buffer): void {
  const enc = encodeMessage(msg);
  assert.equal(enc.toString('hex'), expected.toString('hex'));
  // In place (a transport's reused batch buffer, holding anything): the same octets, at an
  // odd offset, and nothing written outside them.
  for (const junk of [0x00, 0xa5, 0xff]) {
    const room = Buffer.alloc(expected.length + 8, junk);
    assert.equal(encodeMessageInto(msg, room, 3), expected.length);
    assert.equal(room.subarray(3, 3 + expected.length).toString('hex'), expected.toString('hex'), `buffer filled with ${junk}`);
    assert.ok(room.subarray(0, 3).every((x) => x === junk) && room.subarray(3 + expected.length).every((x) => x === junk));
  }
  const dec = decodeMessage(expected);
  assert.ok(dec.ok, dec.ok ? '' : JSON.stringify(dec.error));
  assert.deepStrictEqual(dec.msg, msg);
}

const P6 = (s: string): Buffer => parseIpv6(s);

describe('RFC 6275 6.1 messages without options', () => {
  it('RFC 6275 6.1.7: BU with no options is 16 octets, Header Len 1, 4 octets of PadN', () => {
    roundTrip(
      { type: 'bu', seq: 0x1234, flags: BuFlag.A | BuFlag.H, lifetime: 5, options: [] },
      hex(`3b 01 05 00  0000   # Payload Proto 59, Header Len 1, MH Type 5, Reserved, Checksum 0
           1234 c000 0005     # Sequence #, A|H, Lifetime 5 (20 s)
           01 02 0000         # PadN, Length 2 (4 octets)`),
    );
  });

  it('RFC 6275 6.1.8 / RFC 5213 8.2: PBA with no options is 16 octets, Header Len 1', () => {
    roundTrip(
      { type: 'ba', status: 0, flags: BaFlag.P, seq: 0x1234, lifetime: 0x96, options: [] },
      hex(`3b 01 06 00 0000  00 20  1234 0096  01 02 0000`),
    );
  });

  it('RFC 6275 6.1.9: Binding Error with no options is 24 octets, Header Len 2, no padding', () => {
    roundTrip(
      { type: 'be', status: 2, homeAddress: P6('2001:db8::1'), options: [] },
      hex(`3b 02 07 00 0000  02 00  20010db8 00000000 00000000 00000001`),
    );
  });

  it('RFC 5847 3.3: Heartbeat request (R=0) with a 32-bit sequence number', () => {
    roundTrip(
      { type: 'heartbeat', flags: 0, seq: 0x01020304, options: [] },
      hex(`3b 01 0d 00 0000  0000  01020304  01 02 0000`),
    );
  });

  it('RFC 5847 3.3/3.4: Heartbeat response with Restart Counter is 24 octets, Header Len 2 (digest 5 example)', () => {
    roundTrip(
      { type: 'heartbeat', flags: HeartbeatFlag.R, seq: 5, options: [{ type: 'restartCounter', counter: 42 }] },
      hex(`3b 02 0d 00 0000  0001  00000005   # R=1, seq 5
           01 00                             # offset 12: PadN Length 0 (2 octets) -> 4n+2
           1c 04 0000002a                    # offset 14: Restart Counter 42
           01 02 0000                        # offset 20: PadN Length 2 -> 24`),
    );
  });

  it('RFC 5847 3.3: unsolicited Heartbeat response sets U and R (0x0003)', () => {
    roundTrip(
      { type: 'heartbeat', flags: HeartbeatFlag.U | HeartbeatFlag.R, seq: 0xffffffff, options: [] },
      hex(`3b 01 0d 00 0000  0003  ffffffff  01 02 0000`),
    );
  });

  it('RFC 5846 5.1: BRI with no options is 16 octets, Header Len 1; P and G in octet 10', () => {
    roundTrip(
      { type: 'bri', trigger: 1, seq: 0x0a0b, flags: BrFlag.P | BrFlag.G, options: [] },
      hex(`3b 01 10 00 0000  01 01  0a0b  a0 00  01 02 0000   # B.R. Type 1, trigger 1, P|G`),
    );
  });

  it('RFC 5846 5.2: BRA status 128 (Binding Does NOT Exist) with P, V', () => {
    roundTrip(
      { type: 'bra', status: 128, seq: 0x0a0b, flags: BrFlag.P | BrFlag.V, options: [] },
      hex(`3b 01 10 00 0000  02 80  0a0b  c0 00  01 02 0000`),
    );
  });
});

describe('RFC 5213 8: full PBU and PBA', () => {
  const mac = hex('001122334455');
  it('RFC 5213 8.1, 8.3-8.8: PBU with HNP, MN-ID, HI, ATT, Timestamp, LLA, MN-LL-ID; every alignment met', () => {
    const msg: MhMessage = {
      type: 'bu', seq: 1, flags: BuFlag.A | BuFlag.P, lifetime: 900,
      options: [
        { type: 'hnp', prefixLen: 64, prefix: P6('2001:db8:1:1::') },
        { type: 'mnId', subtype: 1, id: Buffer.from('mn@a.b') },
        { type: 'handoffIndicator', hi: 1 },
        { type: 'accessTechType', att: 4 },
        { type: 'timestamp', value: timestampFromMs(1600000000500) },
        { type: 'linkLocalAddress', addr: P6('fe80::1') },
        { type: 'mnLinkLayerId', id: mac },
      ],
    };
    const expected = hex(`
      3b 0b 05 00 0000                  # Header Len 11 -> 96 octets
      0001 8200 0384                    # seq 1, A|P, lifetime 900 (3600 s)
      16 12 00 40 20010db8000100010000000000000000   # off 12 (8n+4): HNP /64
      08 07 01 6d6e40612e62             # off 32: MN-ID, NAI "mn@a.b"
      17 02 00 01                       # off 41: HI 1
      18 02 00 04                       # off 45: ATT 4
      00                                # off 49: Pad1 -> 50 = 8n+2
      1b 08 00005f5e1000 8000           # off 50: Timestamp 1600000000.5 s
      01 00                             # off 60: PadN 2 -> 62 = 8n+6
      1a 10 fe800000000000000000000000000001   # off 62: Link-local Address
      19 08 0000 001122334455           # off 80 (4n): MN-LL-ID
      01 04 00000000                    # off 90: PadN 6 -> 96`);
    assert.equal(expected.length, 96);
    roundTrip(msg, expected);
  });

  it('RFC 5213 8.2, RFC 5844 3.3.2-3.3.4, RFC 5845 6.1: PBA with IPv4 HoA Reply, Default-Router, DHCP mode, GRE key', () => {
    const msg: MhMessage = {
      type: 'ba', status: 0, flags: BaFlag.P, seq: 1, lifetime: 900,
      options: [
        { type: 'mnId', subtype: 1, id: Buffer.from('mn@a.b') },
        { type: 'hnp', prefixLen: 64, prefix: P6('2001:db8:1:1::') },
        { type: 'ipv4HoaReply', status: 0, prefixLen: 24, addr: parseIpv4('10.0.0.5') },
        { type: 'ipv4DefaultRouter', addr: parseIpv4('10.0.0.1') },
        { type: 'ipv4DhcpSupportMode', server: true },
        { type: 'greKey', key: 12345 },
      ],
    };
    const expected = hex(`
      3b 09 06 00 0000  00 20 0001 0384
      08 07 01 6d6e40612e62             # off 12: MN-ID
      01 05 0000000000                  # off 21: PadN 7 -> 28 = 8n+4
      16 12 00 40 20010db8000100010000000000000000   # off 28: HNP
      25 06 00 60 0a000005              # off 48 (4n): IPv4 HoA Reply, status 0, /24 (24<<2), 10.0.0.5
      26 06 0000 0a000001               # off 56: IPv4 Default-Router 10.0.0.1
      27 02 00 01                       # off 64: DHCP Support Mode, S=1
      21 06 0000 00003039               # off 68 (4n): GRE Key 12345
      01 02 0000                        # off 76: PadN 4 -> 80`);
    roundTrip(msg, expected);
  });
});

/** One option in a BU (options start at offset 12): expected option area hex from there. */
const optionCases: { name: string; opt: MobilityOption; area: string }[] = [
  { name: 'RFC 6275 6.2.4: Binding Refresh Advice (2n)', opt: { type: 'bindingRefreshAdvice', interval: 10 },
    area: '02 02 000a' },
  { name: 'RFC 6275 6.2.5: Alternate Care-of Address (8n+6)', opt: { type: 'altCoa', addr: P6('2001:db8:f::1') },
    area: '01 00  03 10 20010db8000f0000 0000000000000001' },
  { name: 'RFC 4283 3: MN-ID subtype 1 (NAI), no alignment', opt: { type: 'mnId', subtype: 1, id: Buffer.from('mn@a.b') },
    area: '08 07 01 6d6e40612e62  01 01 00' },
  { name: 'RFC 5213 5.3.5 / RFC 4283 3: MN-ID with zero-length identifier (Length 1)',
    opt: { type: 'mnId', subtype: 1, id: Buffer.alloc(0) }, area: '08 01 01  00' },
  { name: 'RFC 5094: Vendor-Specific (4n+2)', opt: { type: 'vendorSpecific', vendorId: 9, subType: 1, data: hex('abcd') },
    area: '01 00  13 07 00000009 01 abcd  00' },
  { name: 'RFC 5149: Service Selection', opt: { type: 'serviceSelection', id: Buffer.from('ims') },
    area: '14 03 696d73  01 05 0000000000' },
  { name: 'RFC 5213 8.3: Home Network Prefix (8n+4)', opt: { type: 'hnp', prefixLen: 48, prefix: P6('2001:db8:aa::') },
    area: '16 12 00 30 20010db800aa0000 0000000000000000' },
  { name: 'RFC 5213 8.3: all-zero HNP asks the LMA to assign', opt: { type: 'hnp', prefixLen: 0, prefix: Buffer.alloc(16) },
    area: '16 12 00 00 00000000000000000000000000000000' },
  { name: 'RFC 5213 8.4: Handoff Indicator', opt: { type: 'handoffIndicator', hi: 5 }, area: '17 02 00 05' },
  { name: 'RFC 5213 8.5: Access Technology Type', opt: { type: 'accessTechType', att: 8 }, area: '18 02 00 08' },
  { name: 'RFC 5213 8.6: MN Link-layer Identifier (EUI-48)', opt: { type: 'mnLinkLayerId', id: hex('001122334455') },
    area: '19 08 0000 001122334455  01 00' },
  { name: 'RFC 5213 8.7: Link-local Address (8n+6)', opt: { type: 'linkLocalAddress', addr: P6('fe80::200:5eff:fe00:5213') },
    area: '01 00  1a 10 fe800000000000000200 5efffe005213' },
  { name: 'RFC 5213 8.8: Timestamp (8n+2)', opt: { type: 'timestamp', value: 0x0000_5f5e_1000_8000n },
    area: '01 04 00000000  1b 08 00005f5e10008000  01 02 0000' },
  { name: 'RFC 5213 8.8: Timestamp with every bit of both 32-bit halves in use', opt: { type: 'timestamp', value: 0xfedc_ba98_8765_4321n },
    area: '01 04 00000000  1b 08 fedcba9887654321  01 02 0000' },
  { name: 'RFC 5213 8.8: Timestamp, largest value', opt: { type: 'timestamp', value: 0xffff_ffff_ffff_ffffn },
    area: '01 04 00000000  1b 08 ffffffffffffffff  01 02 0000' },
  { name: 'RFC 5847 3.4: Restart Counter (4n+2)', opt: { type: 'restartCounter', counter: 7 },
    area: '01 00  1c 04 00000007  01 02 0000' },
  { name: 'RFC 5555 3.1.1: IPv4 Home Address, /32 with P flag', opt: { type: 'ipv4HomeAddress', prefixLen: 32, p: true, addr: parseIpv4('192.0.2.1') },
    area: '1d 06 82 00 c0000201  01 02 0000' },
  { name: 'RFC 5555 3.2.1: IPv4 Address Acknowledgement', opt: { type: 'ipv4AddressAck', status: 128, prefixLen: 0, addr: 0 },
    area: '1e 06 80 00 00000000  01 02 0000' },
  { name: 'RFC 5555 3.2.2: NAT Detection, F=1, refresh 110 s', opt: { type: 'natDetection', f: true, refreshTime: 110 },
    area: '1f 06 8000 0000006e  01 02 0000' },
  { name: 'RFC 5555 3.1.2: IPv4 Care-of Address', opt: { type: 'ipv4Coa', addr: parseIpv4('198.51.100.7') },
    area: '20 06 0000 c6336407  01 02 0000' },
  { name: 'RFC 5845 6.1: GRE Key, Length 6', opt: { type: 'greKey', key: 0xdeadbeef },
    area: '21 06 0000 deadbeef  01 02 0000' },
  { name: 'RFC 5845 6.1: GRE Key, Length 2 (no key field)', opt: { type: 'greKey', key: null }, area: '21 02 0000' },
  { name: 'RFC 5844 3.3.1: IPv4 HoA Request 0.0.0.0 (LMA allocates)', opt: { type: 'ipv4HoaRequest', prefixLen: 0, addr: 0 },
    area: '24 06 0000 00000000  01 02 0000' },
  { name: 'RFC 5844 3.3.1: IPv4 HoA Request 10.0.0.5/24', opt: { type: 'ipv4HoaRequest', prefixLen: 24, addr: parseIpv4('10.0.0.5') },
    area: '24 06 6000 0a000005  01 02 0000' },
  { name: 'RFC 5844 3.3.2: IPv4 HoA Reply, status 132', opt: { type: 'ipv4HoaReply', status: 132, prefixLen: 0, addr: 0 },
    area: '25 06 84 00 00000000  01 02 0000' },
  { name: 'RFC 5844 3.3.3: IPv4 Default-Router Address', opt: { type: 'ipv4DefaultRouter', addr: parseIpv4('10.0.0.1') },
    area: '26 06 0000 0a000001  01 02 0000' },
  { name: 'RFC 5844 3.3.4: IPv4 DHCP Support Mode, S=0 (relay)', opt: { type: 'ipv4DhcpSupportMode', server: false },
    area: '27 02 0000' },
  { name: 'RFC 6602 4.3: Mobile Node Group Identifier, ALL-SESSIONS', opt: { type: 'mnGroupId', subtype: 1, groupId: 1 },
    area: '32 06 01 00 00000001  01 02 0000' },
  { name: 'RFC 6275 6.2.1: an option we do not interpret (Nonce Indices) is kept raw', opt: { type: 'unknown', code: 4, data: hex('00010002') },
    area: '04 04 00010002  01 04 00000000' },
];

describe('Mobility options: golden bytes in a BU (options start at offset 12)', () => {
  for (const c of optionCases) {
    it(c.name, () => {
      const area = hex(c.area);
      const total = 12 + area.length;
      assert.equal(total % 8, 0, 'test vector must end on 8 octets');
      const expected = Buffer.concat([hex(`3b ${(total / 8 - 1).toString(16).padStart(2, '0')} 05 00 0000 0001 8200 0001`), area]);
      roundTrip({ type: 'bu', seq: 1, flags: BuFlag.A | BuFlag.P, lifetime: 1, options: [c.opt] }, expected);
    });
  }
});

describe('RFC 6275 6.1.1: checksum', () => {
  const src = P6('2001:db8::2');
  const dst = P6('2001:db8::1');
  // BU of the first test. Hand sum of 16-bit words:
  //   pseudo-header: src 2001+0db8+0002 = 2dbb, dst 2001+0db8+0001 = 2dba, length 0010, next header 0087
  //   MH: 3b01 0500 [0000] 1234 c000 0005 0102 0000
  //   total 16f48 -> fold 6f49 -> one's complement 90b6
  const bu = hex('3b01 0500 0000 1234 c000 0005 0102 0000');
  it('RFC 6275 6.1.1: checksum of a BU equals the hand-computed 0x90b6', () => {
    assert.equal(mhChecksum(bu, src, dst), 0x90b6);
    const enc = encodeMessage({ type: 'bu', seq: 0x1234, flags: BuFlag.A | BuFlag.H, lifetime: 5, options: [] }, { src, dst });
    assert.equal(enc.toString('hex'), '3b01050090b61234c000000501020000');
    assert.ok(verifyMhChecksum(enc, src, dst));
  });

  it('RFC 6275 9.2: a wrong checksum is reported as bad-checksum; swapping src/dst changes nothing but a wrong address fails', () => {
    const enc = hex('3b01050090b61234c000000501020000');
    assert.equal(decodeMessage(enc, { src, dst }).ok, true);
    // One's complement sum is commutative: swapped addresses still verify.
    assert.equal(decodeMessage(enc, { src: dst, dst: src }).ok, true);
    const other = decodeMessage(enc, { src, dst: P6('2001:db8::3') });
    assert.equal(other.ok, false);
    assert.equal(!other.ok && other.error.code, 'bad-checksum');
    const flipped = Buffer.from(enc);
    flipped[9] ^= 0x01;
    const r = decodeMessage(flipped, { src, dst });
    assert.equal(!r.ok && r.error.code, 'bad-checksum');
  });

  it('RFC 5844 4: without addresses the checksum is 0 and is not checked on decode', () => {
    const enc = encodeMessage({ type: 'heartbeat', flags: 0, seq: 1, options: [] });
    assert.equal(enc.readUInt16BE(4), 0);
    assert.equal(decodeMessage(enc).ok, true);
  });
});
