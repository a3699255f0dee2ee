import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AttrWriter } from '../../src/radius/attrs.ts';
import {
  decodePacket,
  encodeRequest,
  encodeResponse,
  verifyRequestAuthenticator,
  verifyRequestMessageAuthenticator,
  verifyResponse,
} from '../../src/radius/codec.ts';
import { Attr, Code } from '../../src/radius/constants.ts';
import { contradictoryFeatureVector, parseProfile } from '../../src/radius/rfc6572.ts';
import {
  decodeIpv4PrefixValue,
  decodeIpv6PrefixValue,
  encodeIpv6PrefixValue,
  formatIpv6,
  parseIfid,
  parseIpv4,
  parseIpv6,
  parseIpv6Prefix,
} from '../../src/radius/values.ts';
import { FeatureVector } from '../../src/policy/profile.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const SECRET = Buffer.from('xyzzy5461');

describe('RFC 8044 value types', () => {
  it('§3.9 ipv6addr: parses all text forms and prints RFC 5952 canonical text', () => {
    for (const [inp, out] of [
      ['2001:db8::1', '2001:db8::1'],
      ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['::', '::'],
      ['::1', '::1'],
      ['1::', '1::'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ] as const) {
      const b = parseIpv6(inp);
      assert.ok(b, inp);
      assert.equal(formatIpv6(b), out);
    }
    for (const bad of ['', ':', '1:2:3:4:5:6:7:8:9', '1::2::3', 'g::1', '12345::', '1:2:3:4:5:6:7', '::1.2.3']) {
      assert.equal(parseIpv6(bad), null, bad);
    }
  });

  it('§3.4 ipv4addr: strict dotted quad', () => {
    assert.deepEqual([...parseIpv4('192.0.2.1')!], [192, 0, 2, 1]);
    for (const bad of ['1.2.3', '1.2.3.256', '01.2.3.4', '1.2.3.4.5', 'a.b.c.d', '']) assert.equal(parseIpv4(bad), null, bad);
  });

  it('§3.10 ipv6prefix / RFC 6572 §4.8: Reserved|Prefix-Length|only the needed prefix octets', () => {
    const p = parseIpv6Prefix('2001:db8:1:1::/64')!;
    assert.deepEqual(encodeIpv6PrefixValue(p.addr, p.length), hex('00 40 20010db800010001'));
    const p48 = parseIpv6Prefix('2001:db8:2::/48')!;
    assert.deepEqual(encodeIpv6PrefixValue(p48.addr, p48.length), hex('00 30 20010db80002'));
    const p0 = parseIpv6Prefix('::/0')!;
    assert.deepEqual(encodeIpv6PrefixValue(p0.addr, p0.length), hex('00 00'));
    // Delegation value "::" carries Prefix-Length 128 (§4.8).
    const d = parseIpv6Prefix('::/128')!;
    assert.deepEqual(encodeIpv6PrefixValue(d.addr, d.length), Buffer.concat([hex('0080'), Buffer.alloc(16)]));
    // Host bits must be zero.
    assert.equal(parseIpv6Prefix('2001:db8::1/64'), null);
    assert.equal(parseIpv6Prefix('2001:db8::/129'), null);
  });

  it('§3.10 ipv6prefix decode: host bits, length limits, short prefix octets', () => {
    assert.deepEqual(decodeIpv6PrefixValue(hex('00 81')), { ok: false, error: 'prefix_length_out_of_range' });
    assert.deepEqual(decodeIpv6PrefixValue(hex('00 40 20010db800010001 01')), { ok: false, error: 'host_bits_set' });
    assert.deepEqual(decodeIpv6PrefixValue(hex('00')), { ok: false, error: 'bad_length' });
    const r = decodeIpv6PrefixValue(hex('00 40 20010db8'));
    assert.ok(r.ok);
    assert.equal(formatIpv6(r.addr), '2001:db8::');
    // Reserved is ignored on receipt (RFC 6572 §4.8).
    assert.ok(decodeIpv6PrefixValue(hex('ff 40 20010db800010001')).ok);
  });

  it('§3.11 ipv4prefix / RFC 6572 §4.12: the HoA keeps its host bits; prefix length ≤ 32', () => {
    const w = new AttrWriter();
    w.ipv4Prefix(Attr.Pmip6HomeIpv4HoA, '10.0.0.5', 24, true);
    assert.deepEqual(w.view(), hex('9b 08 00 18 0a000005'));
    const w2 = new AttrWriter();
    w2.ipv4Prefix(156, '10.0.0.5', 24, false);
    assert.deepEqual(w2.view(), hex('9c 08 00 18 0a000000'));
    const r = decodeIpv4PrefixValue(hex('00 18 0a000005'), true);
    assert.ok(r.ok && r.length === 24);
    assert.deepEqual(decodeIpv4PrefixValue(hex('00 21 0a000005'), true), { ok: false, error: 'prefix_length_out_of_range' });
    assert.deepEqual(decodeIpv4PrefixValue(hex('00 18 0a000005'), false), { ok: false, error: 'host_bits_set' });
  });

  it('§3.8 ifid and §3.12 integer64 (MIP6-Feature-Vector, RFC 5447)', () => {
    assert.deepEqual(parseIfid('0211:22ff:fe33:4455'), hex('021122fffe334455'));
    assert.deepEqual(parseIfid('021122fffe334455'), hex('021122fffe334455'));
    assert.equal(parseIfid('1:2:3'), null);
    const w = new AttrWriter();
    w.integer64(Attr.Mip6FeatureVector, FeatureVector.PMIP6_SUPPORTED | FeatureVector.IP4_HOA_SUPPORTED);
    assert.deepEqual(w.view(), hex('7c 0a 0000030000000000'));
  });

  it('RFC 6572 §4.1: contradictory feature vectors', () => {
    const FV = FeatureVector;
    assert.equal(contradictoryFeatureVector(FV.PMIP6_SUPPORTED | FV.IP4_HOA_SUPPORTED), null);
    assert.ok(contradictoryFeatureVector(FV.PMIP6_SUPPORTED | FV.IP4_HOA_SUPPORTED | FV.IP4_HOA_ONLY_SUPPORTED));
    assert.ok(contradictoryFeatureVector(FV.IP4_HOA_ONLY_SUPPORTED));
    const w = new AttrWriter();
    w.integer64(Attr.Mip6FeatureVector, FV.IP4_HOA_ONLY_SUPPORTED);
    const r = parseProfile({ attributes: [{ type: Attr.Mip6FeatureVector, value: w.view().subarray(2) }] });
    assert.equal(r.ok, false, 'a contradictory Accept is treated as a Reject');
  });

  it('attribute values over 253 octets are refused', () => {
    assert.throws(() => new AttrWriter().text(Attr.UserName, 'x'.repeat(254)), /max 253/);
  });
});

describe('RFC 5997 §6 test vectors (secret "xyzzy5461")', () => {
  it('§6.1 Status-Server Message-Authenticator verifies, and a flipped bit does not', () => {
    const req = hex('0c da 00 26 8a 54 f4 68 6f b3 94 c5 28 66 e3 02 18 5d 06 23 50 12 5a 66 5e 2e 1e 84 11 f3 e2 43 82 20 97 c8 4f a3');
    const d = decodePacket(req);
    assert.ok(d.ok);
    assert.equal(verifyRequestMessageAuthenticator(d.packet, SECRET), true);
    assert.equal(verifyRequestMessageAuthenticator(d.packet, Buffer.from('xyzzy5462')), false);
    const bad = Buffer.from(req);
    bad[30] ^= 1;
    const d2 = decodePacket(bad);
    assert.ok(d2.ok);
    assert.equal(verifyRequestMessageAuthenticator(d2.packet, SECRET), false);
  });

  it('§6.1 Response Authenticator of the Access-Accept', () => {
    const reqAuth = hex('8a 54 f4 68 6f b3 94 c5 28 66 e3 02 18 5d 06 23');
    const resp = hex('02 da 00 14 ef 0d 55 2a 4b f2 d6 93 ec 2b 6f e8 b5 41 1d 66');
    const d = decodePacket(resp);
    assert.ok(d.ok);
    assert.equal(verifyResponse(d.packet, reqAuth, SECRET, false), 'ok');
    // The vector has no Message-Authenticator: a client requiring one drops it (BlastRADIUS).
    assert.equal(verifyResponse(d.packet, reqAuth, SECRET, true), 'missing_message_authenticator');
    assert.equal(verifyResponse(d.packet, Buffer.alloc(16), SECRET, false), 'bad_authenticator');
  });

  it('§6.3 verbose Status-Server (MA after NAS-IP-Address) verifies wherever the MA sits', () => {
    const req = hex('0c 47 00 2c bf 58 de 56 ae 40 8a d3 b7 0c 85 13 f9 b0 3f be 04 06 c0 00 02 10 50 12 85 2d 6f ec 61 e7 ed 74 b8 e3 2d ac 2f 2a 5f b2');
    const d = decodePacket(req);
    assert.ok(d.ok);
    assert.equal(verifyRequestMessageAuthenticator(d.packet, SECRET), true);
  });
});

describe('RFC 2865 §3 framing and authenticators', () => {
  it('responses carry Message-Authenticator first (BlastRADIUS) and verify against the request', () => {
    const { packet: req, authenticator } = encodeRequest(Code.AccessRequest, 7, new AttrWriter().text(Attr.UserName, 'a@b').bytes(), SECRET);
    assert.equal(req[20], Attr.MessageAuthenticator, 'MA first in requests too');
    const dreq = decodePacket(req);
    assert.ok(dreq.ok && verifyRequestMessageAuthenticator(dreq.packet, SECRET));
    const attrs = new AttrWriter().text(Attr.ReplyMessage, 'hi').bytes();
    const resp = encodeResponse(Code.AccessAccept, 7, authenticator, attrs, SECRET);
    assert.equal(resp[20], Attr.MessageAuthenticator);
    assert.equal(resp[21], 18);
    const d = decodePacket(resp);
    assert.ok(d.ok);
    assert.equal(verifyResponse(d.packet, authenticator, SECRET, true), 'ok');
    // Tamper with an attribute but fix nothing: Response Authenticator catches it.
    const t = Buffer.from(resp);
    t[t.length - 1] ^= 0x20;
    const dt = decodePacket(t);
    assert.ok(dt.ok);
    assert.equal(verifyResponse(dt.packet, authenticator, SECRET, true), 'bad_authenticator');
  });

  it('Accounting-Response: Response Authenticator with and without Message-Authenticator (FreeRADIUS MA rule)', () => {
    const req = encodeRequest(Code.AccountingRequest, 9, new AttrWriter().integer(Attr.AcctStatusType, 1).bytes(), SECRET, true);
    for (const withMa of [false, true]) {
      const resp = encodeResponse(Code.AccountingResponse, 9, req.authenticator, Buffer.alloc(0), SECRET, withMa, Code.AccountingRequest);
      const d = decodePacket(resp);
      assert.ok(d.ok);
      assert.equal(verifyResponse(d.packet, req.authenticator, SECRET, withMa, Code.AccountingRequest), 'ok', `withMa=${withMa}`);
    }
  });

  it('RFC 2866 §3 / RFC 5176 §3.4: Accounting and CoA Request Authenticators', () => {
    for (const code of [Code.AccountingRequest, Code.CoaRequest, Code.DisconnectRequest]) {
      const { packet } = encodeRequest(code, 1, new AttrWriter().integer(Attr.AcctStatusType, 1).bytes(), SECRET, true);
      const d = decodePacket(packet);
      assert.ok(d.ok);
      assert.equal(verifyRequestAuthenticator(d.packet, SECRET), true);
      assert.equal(verifyRequestMessageAuthenticator(d.packet, SECRET), true);
      assert.equal(verifyRequestAuthenticator(d.packet, Buffer.from('other')), false);
    }
  });

  it('decode errors are typed: short, bad Length, truncated, oversize, bad attribute length, bad MA', () => {
    const ok = encodeRequest(Code.AccessRequest, 1, new AttrWriter().text(Attr.UserName, 'u').bytes(), SECRET).packet;
    assert.deepEqual(decodePacket(ok.subarray(0, 19)), { ok: false, error: 'short_packet' });
    const badLen = Buffer.from(ok);
    badLen.writeUInt16BE(19, 2);
    assert.deepEqual(decodePacket(badLen), { ok: false, error: 'bad_length_field' });
    badLen.writeUInt16BE(4097, 2);
    assert.deepEqual(decodePacket(badLen), { ok: false, error: 'bad_length_field' });
    const trunc = Buffer.from(ok);
    trunc.writeUInt16BE(ok.length + 1, 2);
    assert.deepEqual(decodePacket(trunc), { ok: false, error: 'truncated' });
    assert.deepEqual(decodePacket(Buffer.alloc(5000)), { ok: false, error: 'oversize' });
    const attrLen = Buffer.from(ok);
    attrLen[39] = 1; // User-Name length 1
    assert.deepEqual(decodePacket(attrLen), { ok: false, error: 'bad_attribute_length' });
    const maLen = Buffer.concat([ok.subarray(0, 20), hex('50 05 000000')]);
    maLen.writeUInt16BE(maLen.length, 2);
    assert.deepEqual(decodePacket(maLen), { ok: false, error: 'bad_message_authenticator' });
    // Padding beyond Length is ignored (RFC 2865 §3).
    const padded = Buffer.concat([ok, Buffer.alloc(7)]);
    const d = decodePacket(padded);
    assert.ok(d.ok && d.packet.raw.length === ok.length);
  });

  it('decodePacket never throws on arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (bytes) => {
        const b = Buffer.from(bytes);
        if (b.length >= 4) b.writeUInt16BE(Math.min(b.length, 4096), 2);
        const r = decodePacket(b);
        if (r.ok) parseProfile(r.packet);
      }),
      { numRuns: 5000 },
    );
  });
});
