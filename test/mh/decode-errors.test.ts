/**
 * Decoder checks (RFC 6275 9.2 and per-option Length rules) and encoder
 * input validation. Inputs are hand-written hex.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BuFlag, MH_BE, decodeMessage, encodeMessage, parseIpv6 } from '../../src/mh/index.ts';
import type { DecodeErrorCode, DecodeResult, MhMessage, MobilityOption } from '../../src/mh/index.ts';

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex');
}

function expectError(r: DecodeResult, code: DecodeErrorCode, offset?: number): void {
  assert.equal(r.ok, false, 'expected a decode error');
  if (r.ok) return;
  assert.equal(r.error.code, code, r.error.reason);
  assert.equal(typeof r.error.reason, 'string');
  if (offset !== undefined) assert.equal(r.error.offset, offset);
}

/** A BU (fixed part 12 octets) whose option area is `area`, padded by the test author to 8n. */
function buWith(area: string): Buffer {
  const a = hex(area);
  const total = 12 + a.length;
  assert.equal(total % 8, 0);
  return Buffer.concat([hex(`3b ${(total / 8 - 1).toString(16).padStart(2, '0')} 05 00 0000 0001 8200 0001`), a]);
}

describe('RFC 6275 9.2: Mobility Header checks', () => {
  it('RFC 6275 6.1.1: fewer than 8 octets is truncated', () => {
    for (let n = 0; n < 8; n++) expectError(decodeMessage(Buffer.alloc(n, 0x3b)), 'truncated', 0);
  });

  it('RFC 6275 6.1.1: Header Len announcing more octets than received is truncated (pointer 1)', () => {
    expectError(decodeMessage(hex('3b 02 05 00 0000 0001 8200 0001 01020000')), 'truncated', 1);
  });

  it('RFC 6275 6.1.1: a datagram longer than Header Len says is bad-header-len (pointer 1)', () => {
    expectError(decodeMessage(hex('3b 00 05 00 0000 0001 8200 0001 01020000')), 'bad-header-len', 1);
    // not a multiple of 8
    expectError(decodeMessage(hex('3b 01 05 00 0000 0001 8200 0001 01020000 00')), 'bad-header-len', 1);
  });

  it('RFC 6275 9.2: Header Len below the fixed size of the type is bad-header-len (pointer 1)', () => {
    // BU needs 12 octets, Header Len 0 gives 8.
    expectError(decodeMessage(hex('3b 00 05 00 0000 0001')), 'bad-header-len', 1);
    // BA, Heartbeat, BRI likewise.
    for (const t of ['06', '0d', '10']) expectError(decodeMessage(hex(`3b 00 ${t} 00 0000 0100`)), 'bad-header-len', 1);
    // Binding Error needs 24 octets: 16 is too short.
    expectError(decodeMessage(hex(`3b 01 07 00 0000 0200 20010db8000000000000`)), 'bad-header-len', 1);
    assert.equal(MH_BE, 7);
  });

  it('RFC 6275 9.2: Payload Proto other than 59 is bad-payload-proto (pointer 0)', () => {
    expectError(decodeMessage(hex('3a 01 05 00 0000 0001 8200 0001 01020000')), 'bad-payload-proto', 0);
    expectError(decodeMessage(hex('00 01 06 00 0000 0000 0001 0001 01020000')), 'bad-payload-proto', 0);
  });

  it('RFC 6275 9.2: an unknown MH Type decodes to UnknownMh (for Binding Error status 2), before the Payload Proto check', () => {
    for (const t of [0, 1, 8, 12, 14, 17, 19, 20, 200, 255]) {
      const b = hex(`3b 01 00 00 0000 0102030405060708090a`);
      b[2] = t;
      const r = decodeMessage(b);
      assert.ok(r.ok);
      assert.deepStrictEqual(r.msg, { type: 'unknown', mhType: t, data: hex('0102030405060708090a') });
      b[0] = 6; // RFC 6275 9.2 lists the MH Type check before the Payload Proto check
      const r2 = decodeMessage(b);
      assert.ok(r2.ok && r2.msg.type === 'unknown');
    }
  });

  it('RFC 5846 5: Binding Revocation Type other than 1 or 2 is bad-br-type (offset 6)', () => {
    for (const t of ['00', '03', 'ff']) {
      expectError(decodeMessage(hex(`3b 01 10 00 0000 ${t} 00 0001 8000 01020000`)), 'bad-br-type', 6);
    }
  });

  it('RFC 6275 6.1.8: reserved bits and the Reserved octet are ignored but flags keep unknown bits', () => {
    const r = decodeMessage(hex('3b 01 06 ff 0000 00 ff 0001 0001 01020000'));
    assert.ok(r.ok && r.msg.type === 'ba');
    assert.equal(r.msg.flags, 0xff);
  });
});

describe('RFC 6275 6.2: option TLV checks', () => {
  it('RFC 6275 6.2.1: an option running past the end is option-overrun (at the option offset)', () => {
    // HNP claims 18 octets, only 4 remain.
    expectError(decodeMessage(buWith('16 12 00 40')), 'option-overrun', 12);
    // A type octet in the last position with no Length octet.
    expectError(decodeMessage(buWith('01 01 00 17')), 'option-overrun', 15);
  });

  it('RFC 6275 6.2.2/6.2.3: Pad1 and PadN (any content) are skipped and never exposed', () => {
    const r = decodeMessage(buWith('00 00 01 00  01 02 ffff  00 00 00 00'));
    assert.ok(r.ok && r.msg.type === 'bu');
    assert.deepStrictEqual(r.msg.options, []);
  });

  it('RFC 6275 6.2.1: unknown option types are skipped and kept as { type: unknown }', () => {
    const r = decodeMessage(buWith('05 02 aabb  fe 00  01 04 00000000'));
    assert.ok(r.ok && r.msg.type === 'bu');
    assert.deepStrictEqual(r.msg.options, [
      { type: 'unknown', code: 5, data: hex('aabb') },
      { type: 'unknown', code: 0xfe, data: Buffer.alloc(0) },
    ]);
  });

  it('RFC 6275 6.2.1: the decoder accepts options that do not meet their alignment', () => {
    // HNP at offset 13 (should be 8n+4), HI right after.
    const r = decodeMessage(buWith('00 16 12 00 40 20010db8000100010000000000000000 17 02 00 03 000000'));
    assert.ok(r.ok && r.msg.type === 'bu');
    assert.deepStrictEqual(r.msg.options, [
      { type: 'hnp', prefixLen: 64, prefix: parseIpv6('2001:db8:1:1::') },
      { type: 'handoffIndicator', hi: 3 },
    ]);
  });

  // [RFC section, option type, a Length the RFC does not allow]
  const badLengths: [string, number, number][] = [
    ['RFC 6275 6.2.4 Binding Refresh Advice Length 2', 2, 3],
    ['RFC 6275 6.2.5 Alternate CoA Length 16', 3, 15],
    ['RFC 4283 3 MN-ID Length >= 1 (subtype)', 8, 0],
    ['RFC 5094 Vendor-Specific Length >= 5', 19, 4],
    ['RFC 5149 Service Selection Length >= 1', 20, 0],
    ['RFC 5213 8.3 HNP Length 18', 22, 17],
    ['RFC 5213 8.3 HNP Length 18 (longer)', 22, 19],
    ['RFC 5213 8.4 HI Length 2', 23, 3],
    ['RFC 5213 8.5 ATT Length 2', 24, 1],
    ['RFC 5213 8.6 MN-LL-ID Length >= 2', 25, 1],
    ['RFC 5213 8.7 Link-local Address Length 16', 26, 17],
    ['RFC 5213 8.8 Timestamp Length 8', 27, 7],
    ['RFC 5847 3.4 Restart Counter Length 4', 28, 6],
    ['RFC 5555 3.1.1 IPv4 Home Address Length 6', 29, 4],
    ['RFC 5555 3.2.1 IPv4 Address Ack Length 6', 30, 7],
    ['RFC 5555 3.2.2 NAT Detection Length 6', 31, 2],
    ['RFC 5555 3.1.2 IPv4 CoA Length 6', 32, 4],
    ['RFC 5845 6.1 GRE Key Length 2 or 6', 33, 4],
    ['RFC 5845 6.1 GRE Key Length 2 or 6 (0)', 33, 0],
    ['RFC 5844 3.3.1 IPv4 HoA Request Length 6', 36, 5],
    ['RFC 5844 3.3.2 IPv4 HoA Reply Length 6', 37, 8],
    ['RFC 5844 3.3.3 IPv4 Default-Router Length 6', 38, 4],
    ['RFC 5844 3.3.4 IPv4 DHCP Support Mode Length 2', 39, 4],
    ['RFC 6602 4.3 MN Group Identifier Length 6', 50, 4],
  ];
  for (const [name, type, len] of badLengths) {
    it(`${name}: Length ${len} is bad-option-length (pointing at the Length octet)`, () => {
      // Option at offset 12, then pad the whole thing out to 8n with Pad1s.
      const body = Buffer.concat([Buffer.from([type, len]), Buffer.alloc(len)]);
      const padded = Buffer.concat([body, Buffer.alloc((8 - ((12 + body.length) % 8)) % 8)]);
      expectError(decodeMessage(buWith(padded.toString('hex'))), 'bad-option-length', 13);
    });
  }
});

describe('Option values no message can carry: bad-option-value (pointing at the field)', () => {
  // [RFC section, option area at MH offset 12 (padded to 8n), offset of the offending field]
  const bad: [string, string, number][] = [
    ['RFC 5213 8.3 HNP Prefix Length 129', '16 12 00 81 20010db8000100010000000000000000', 15],
    ['RFC 5213 8.3 HNP Prefix Length 255', '16 12 00 ff 20010db8000100010000000000000000', 15],
    ['RFC 5555 3.1.1 IPv4 Home Address Prefix Length 33', '1d 06 86 00 0a000005  00 00 00 00', 14],
    ['RFC 5555 3.2.1 IPv4 Address Ack Prefix Length 63', '1e 06 00 fc 0a000005  00 00 00 00', 15],
    ['RFC 5844 3.3.1 IPv4 HoA Request Prefix Length 33', '24 06 84 00 0a000005  00 00 00 00', 14],
    ['RFC 5844 3.3.2 IPv4 HoA Reply Prefix Length 40', '25 06 00 a0 0a000005  00 00 00 00', 15],
  ];
  for (const [name, area, offset] of bad) {
    it(`${name} is refused with a typed error, not decoded into something the encoder refuses`, () => {
      expectError(decodeMessage(buWith(area)), 'bad-option-value', offset);
      expectError(decodeMessage(buWith(area), { zeroCopy: true }), 'bad-option-value', offset);
    });
  }

  it('the largest meaningful values decode and re-encode to the same bytes (HNP /128, IPv4 /32)', () => {
    const cases: [string, MobilityOption][] = [
      ['16 12 00 80 20010db8000100010000000000000001', { type: 'hnp', prefixLen: 128, prefix: parseIpv6('2001:db8:1:1::1') }],
      ['24 06 80 00 0a000005  01 02 0000', { type: 'ipv4HoaRequest', prefixLen: 32, addr: 0x0a000005 }],
      ['25 06 00 80 0a000005  01 02 0000', { type: 'ipv4HoaReply', status: 0, prefixLen: 32, addr: 0x0a000005 }],
      ['1d 06 82 00 0a000005  01 02 0000', { type: 'ipv4HomeAddress', prefixLen: 32, p: true, addr: 0x0a000005 }],
      ['1e 06 00 80 0a000005  01 02 0000', { type: 'ipv4AddressAck', status: 0, prefixLen: 32, addr: 0x0a000005 }],
    ];
    for (const [area, opt] of cases) {
      const bytes = buWith(area);
      const r = decodeMessage(bytes);
      assert.ok(r.ok && r.msg.type === 'bu', area);
      assert.deepStrictEqual(r.msg.options, [opt]);
      assert.deepStrictEqual(encodeMessage(r.msg), bytes, area);
    }
  });

  it('an IPv4 prefix length of 32 with the Reserved bits set still decodes (RFC 5844 3.3.1: Reserved is ignored)', () => {
    const r = decodeMessage(buWith('24 06 83 00 0a000005  00 00 00 00'));
    assert.ok(r.ok && r.msg.type === 'bu');
    assert.deepStrictEqual(r.msg.options, [{ type: 'ipv4HoaRequest', prefixLen: 32, addr: 0x0a000005 }]);
  });

  it('the first bad value ends decoding even after good options (one cause per message)', () => {
    // HI, ATT, then an HNP with Prefix Length 200 at offset 20 (8n+4).
    const r = decodeMessage(buWith('17 02 00 01 18 02 00 04 16 12 00 c8 20010db8000100010000000000000000'));
    expectError(r, 'bad-option-value', 23);
  });

  it('values that are merely unassigned still decode: the receiver decides (RFC 5213 8.4 Handoff Indicator 200)', () => {
    const r = decodeMessage(buWith('17 02 00 c8 01 06 000000000000'));
    assert.ok(r.ok && r.msg.type === 'bu');
    assert.deepStrictEqual(r.msg.options, [{ type: 'handoffIndicator', hi: 200 }]);
  });
});

describe('Decoder output ownership', () => {
  const b = hex('3b 03 05 00 0000 0001 8200 0001  16 12 00 40 20010db8000100010000000000000000');
  it('default: byte fields are copies, unaffected by later changes to the input', () => {
    const r = decodeMessage(b);
    assert.ok(r.ok && r.msg.type === 'bu' && r.msg.options[0].type === 'hnp');
    const prefix = r.msg.options[0].prefix;
    const saved = Buffer.from(b);
    b[16] = 0xff;
    assert.equal(prefix[0], 0x20);
    saved.copy(b);
  });
  it('zeroCopy: byte fields are views into the input', () => {
    const r = decodeMessage(b, { zeroCopy: true });
    assert.ok(r.ok && r.msg.type === 'bu' && r.msg.options[0].type === 'hnp');
    assert.equal(r.msg.options[0].prefix.buffer, b.buffer);
  });
  it('accepts a plain Uint8Array as input', () => {
    const u = new Uint8Array(b);
    const r = decodeMessage(u);
    assert.ok(r.ok && r.msg.type === 'bu');
  });
});

describe('Encoder input validation (programming errors throw)', () => {
  const bu = (options: MobilityOption[]): MhMessage => ({ type: 'bu', seq: 1, flags: BuFlag.A | BuFlag.P, lifetime: 1, options });
  it('rejects addresses and prefixes that are not 16 octets', () => {
    assert.throws(() => encodeMessage(bu([{ type: 'hnp', prefixLen: 64, prefix: Buffer.alloc(15) }])), RangeError);
    assert.throws(() => encodeMessage(bu([{ type: 'altCoa', addr: Buffer.alloc(4) }])), RangeError);
    assert.throws(() => encodeMessage({ type: 'be', status: 2, homeAddress: Buffer.alloc(4), options: [] }), RangeError);
  });
  it('rejects out-of-range prefix lengths, values and identifiers', () => {
    assert.throws(() => encodeMessage(bu([{ type: 'hnp', prefixLen: 129, prefix: Buffer.alloc(16) }])), RangeError);
    assert.throws(() => encodeMessage(bu([{ type: 'ipv4HoaRequest', prefixLen: 64, addr: 0 }])), RangeError);
    // IPv4 prefix lengths end at 32 although the field has 6 bits (the decoder refuses the same values)
    for (const type of ['ipv4HoaRequest', 'ipv4HomeAddress'] as const) {
      assert.throws(() => encodeMessage(bu([{ type, prefixLen: 33, addr: 0, p: false }])), RangeError);
    }
    assert.throws(() => encodeMessage(bu([{ type: 'ipv4HoaReply', status: 0, prefixLen: 33, addr: 0 }])), RangeError);
    assert.throws(() => encodeMessage(bu([{ type: 'ipv4AddressAck', status: 0, prefixLen: 63, addr: 0 }])), RangeError);
    assert.throws(() => encodeMessage(bu([{ type: 'mnId', subtype: 1, id: Buffer.alloc(255) }])), RangeError);
    assert.throws(() => encodeMessage(bu([{ type: 'serviceSelection', id: Buffer.alloc(0) }])), RangeError);
    assert.throws(() => encodeMessage(bu([{ type: 'handoffIndicator', hi: 256 }])), RangeError);
    assert.throws(() => encodeMessage(bu([{ type: 'timestamp', value: -1n }])), RangeError);
    assert.throws(() => encodeMessage(bu([{ type: 'ipv4Coa', addr: 2 ** 32 }])), RangeError);
    assert.throws(() => encodeMessage({ type: 'bu', seq: 65536, flags: 0, lifetime: 0, options: [] }), RangeError);
    assert.throws(() => encodeMessage(bu([{ type: 'unknown', code: 1, data: Buffer.alloc(0) }])), RangeError);
  });
  it('accepts IPv4 addresses written as negative int32 (JS bit operations)', () => {
    const enc = encodeMessage(bu([{ type: 'ipv4Coa', addr: (192 << 24) | 1 }]));
    const r = decodeMessage(enc);
    assert.ok(r.ok && r.msg.type === 'bu');
    assert.deepStrictEqual(r.msg.options[0], { type: 'ipv4Coa', addr: 0xc0000001 });
  });
  it('RFC 6275 6.1.1: refuses an MH over 2048 octets (Header Len is 8 bits)', () => {
    const many: MobilityOption[] = [];
    // First HNP at 12 (8n+4) takes 20 octets; each next one needs 4 octets of PadN first: 12 + 20 + 84 * 24 = 2048.
    for (let i = 0; i < 86; i++) many.push({ type: 'hnp', prefixLen: 64, prefix: Buffer.alloc(16) });
    assert.throws(() => encodeMessage(bu(many)), RangeError);
    const max = encodeMessage(bu(many.slice(0, 85)));
    assert.equal(max.length, 2048);
    assert.equal(max[1], 255);
    const r = decodeMessage(max);
    assert.ok(r.ok && r.msg.type === 'bu' && r.msg.options.length === 85);
  });
  it('UnknownMh must already be a multiple of 8 octets', () => {
    assert.throws(() => encodeMessage({ type: 'unknown', mhType: 20, data: Buffer.alloc(3) }), RangeError);
    const enc = encodeMessage({ type: 'unknown', mhType: 20, data: Buffer.alloc(10, 1) });
    assert.equal(enc.toString('hex'), '3b011400' + '0000' + '01'.repeat(10));
  });
});
