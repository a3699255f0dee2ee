// The Diameter codec against hand-written bytes (RFC 6733 §3 header, §4.1 AVP header, §4.2/§4.3
// data types, §4.4 Grouped) and property round trips (fast-check). Decoders never throw.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AvpWriter, decodeGrouped, decodeMessage, encodeAvp, findAvp, type RawAvp } from '../../src/diameter/codec.ts';
import { buildDwr, type LocalNode } from '../../src/diameter/build.ts';
import { App, Avp, AvpFlag, Cmd, CmdFlag, Result } from '../../src/diameter/constants.ts';
import { checkAvps, MAX_GROUP_DEPTH } from '../../src/diameter/validate.ts';
import {
  decAddress, decHomeLinkPrefix, decI32, decI64, decIdentity, decTime, decU32, decU64, decUtf8, encAddress,
  encHomeLinkPrefix, encI32, encI64, encTime, encU64, formatDiameterUri, parseDiameterUri,
} from '../../src/diameter/values.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const node: LocalNode = {
  originHost: 'mag1.example.net', originRealm: 'example.net', hostIpAddresses: [], vendorId: 0,
  productName: 'x', firmwareRevision: 1, originStateId: 0x01020304, authApplicationIds: [1],
};

describe('RFC 6733 §3, §4.1: header and AVP bytes', () => {
  it('§5.5.1 DWR: version 1, length, R flag, command 280, application 0, identifiers; AVPs padded to 4', () => {
    const b = buildDwr(node, { hopByHop: 0x11223344, endToEnd: 0x55667788 });
    const want = hex(`
      01 00004c  80 000118  00000000  11223344  55667788
      00000108 40 000018 6d6167312e6578616d706c652e6e6574
      00000128 40 000013 6578616d706c652e6e6574 00
      00000116 40 00000c 01020304`);
    assert.equal(b.toString('hex'), want.toString('hex'));
    const d = decodeMessage(b);
    assert.ok(d.ok);
    assert.equal(d.value.commandCode, Cmd.DeviceWatchdog);
    assert.equal(d.value.flags, CmdFlag.R);
    assert.equal(d.value.hopByHop, 0x11223344);
    assert.equal(d.value.endToEnd, 0x55667788);
    assert.deepEqual(d.value.avps.map((a) => [a.code, a.flags, a.data.length]), [[264, 0x40, 16], [296, 0x40, 11], [278, 0x40, 4]]);
  });

  it('§4.1.1: a vendor-specific AVP carries the Vendor-ID after the V bit; vendor 0 never does', () => {
    assert.equal(encodeAvp(1, Buffer.from('ab'), AvpFlag.M, 10415).toString('hex'), hex('00000001 c0 00000e 000028af 6162 0000').toString('hex'));
    // The V bit is cleared for vendor 0 whatever the caller passed (§4.1.1: MUST NOT use 0).
    assert.equal(encodeAvp(1, Buffer.from('ab'), AvpFlag.M | AvpFlag.V, 0).toString('hex'), hex('00000001 40 00000a 6162 0000').toString('hex'));
  });

  it('§4.4: a Grouped AVP holds padded members; its length is a multiple of 4', () => {
    const w = new AvpWriter();
    w.group(Avp.Mip6AgentInfo, (g) => g.octets(Avp.MipHomeAgentAddress, encAddress('2001:db8::1')!).utf8(Avp.DestinationHost, 'a'));
    const b = w.bytes();
    assert.equal(b.toString('hex'), hex(`000001e6 40 000030
      0000014e 40 00001a 0002 20010db8000000000000000000000001 0000
      00000125 40 000009 61 000000`).toString('hex'));
    const inner = decodeGrouped(b.subarray(8));
    assert.ok(inner.ok);
    assert.deepEqual(inner.value.map((a) => a.code), [334, 293]);
  });
});

describe('RFC 6733 §4.2, §4.3: data types', () => {
  it('Unsigned64 keeps all 64 bits (MIP6-Feature-Vector bit 48 and values past 2^53)', () => {
    for (const v of [0n, 1n, 0x0001000000000000n, 2n ** 53n + 1n, 2n ** 64n - 1n]) assert.equal(decU64(encU64(v)), v);
    assert.equal(decI64(encI64(-(2n ** 63n))), -(2n ** 63n));
    assert.equal(decI32(encI32(-5)), -5);
    assert.equal(decU32(Buffer.alloc(3)), null);
  });

  it('Address: AddressType 1 (IPv4) and 2 (IPv6); other families kept as octets; wrong lengths rejected', () => {
    assert.equal(encAddress('192.0.2.7')!.toString('hex'), '0001c0000207');
    assert.deepEqual(decAddress(encAddress('2001:db8::5')!), { family: 6, address: '2001:db8::5' });
    assert.deepEqual(decAddress(hex('0008 31323334')), { family: 8, raw: Buffer.from('1234') });
    assert.equal(decAddress(hex('0001 c00002')), null);
    assert.equal(decAddress(hex('01')), null);
    assert.equal(encAddress('not-an-ip'), null);
  });

  it('Time: NTP seconds; values with the top bit clear are after 2036-02-07 (RFC 4330 §3, required by §4.3.1)', () => {
    assert.equal(decTime(hex('00000000'))!.toISOString(), '2036-02-07T06:28:16.000Z');
    assert.equal(decTime(hex('80000000'))!.toISOString(), '1968-01-20T03:14:08.000Z');
    const d = new Date('2026-05-01T12:00:00Z');
    assert.equal(decTime(encTime(d))!.toISOString(), d.toISOString());
    const later = new Date('2040-01-01T00:00:00Z');
    assert.equal(decTime(encTime(later))!.toISOString(), later.toISOString());
  });

  it('UTF8String rejects invalid UTF-8; DiameterIdentity is an ASCII FQDN', () => {
    assert.equal(decUtf8(Buffer.from('räksmörgås')), 'räksmörgås');
    assert.equal(decUtf8(hex('c328')), null);
    assert.equal(decIdentity(Buffer.from('aaa.example.net')), 'aaa.example.net');
    assert.equal(decIdentity(Buffer.from('a b')), null);
  });

  it('DiameterURI: aaa:// 3868 and aaas:// 5658 by default, transport and protocol parameters, UDP forbidden for diameter', () => {
    assert.deepEqual(parseDiameterUri('aaa://host.example.com'), { secure: false, host: 'host.example.com', port: 3868, transport: 'tcp', protocol: 'diameter' });
    assert.deepEqual(parseDiameterUri('aaas://[2001:db8::1]:6666;transport=tcp'), { secure: true, host: '2001:db8::1', port: 6666, transport: 'tcp', protocol: 'diameter' });
    assert.equal(parseDiameterUri('aaa://host.example.com:1813;transport=udp;protocol=radius')?.protocol, 'radius');
    assert.equal(parseDiameterUri('aaa://h;transport=udp'), null);
    assert.equal(parseDiameterUri('http://h'), null);
    assert.equal(formatDiameterUri(parseDiameterUri('aaas://[2001:db8::1]')!), 'aaas://[2001:db8::1]:5658;transport=tcp;protocol=diameter');
  });

  it('MIP6-Home-Link-Prefix (RFC 5447 §4.2.4): length octet + 16 octets, trailing bits zero; all zeros = unspecified (RFC 5779 §5.3)', () => {
    assert.equal(encHomeLinkPrefix('2001:db8:1:1::/64')!.toString('hex'), '4020010db8000100010000000000000000');
    assert.deepEqual(decHomeLinkPrefix(encHomeLinkPrefix('2001:db8:1:1::/64')!), { prefix: '2001:db8:1:1::/64', length: 64, unspecified: false });
    assert.equal(decHomeLinkPrefix(encHomeLinkPrefix('::/0')!)!.unspecified, true);
    assert.equal(encHomeLinkPrefix('2001:db8::1/64'), null, 'host bits');
    assert.equal(decHomeLinkPrefix(hex('40 20010db8000000000000000000000001')), null, 'host bits');
    assert.equal(decHomeLinkPrefix(hex('81 00000000000000000000000000000000')), null, 'length > 128');
  });
});

describe('RFC 6733 §7: decode errors are typed and carry the Result-Code and Failed-AVP', () => {
  const msg = (avps: string, length?: number): Buffer => {
    const body = hex(avps);
    const b = Buffer.concat([hex('01 000000 80 000109 00000001 00000001 00000002'), body]);
    b.writeUIntBE(length ?? b.length, 1, 3);
    return b;
  };

  it('§3: version 1 only (5011); Message Length must match and be a multiple of 4 (5015)', () => {
    const v2 = msg('');
    v2[0] = 2;
    assert.deepEqual(decodeMessage(v2), { ok: false, error: { kind: 'unsupported_version', resultCode: Result.UnsupportedVersion, detail: 'version 2', failedAvp: undefined } });
    const r = decodeMessage(msg('', 24));
    assert.ok(!r.ok && r.error.resultCode === Result.InvalidMessageLength);
    assert.ok(!decodeMessage(Buffer.alloc(12)).ok);
  });

  it('§4.1: an AVP length below its header or past the message is DIAMETER_INVALID_AVP_LENGTH with the header and a zero payload', () => {
    const short = decodeMessage(msg('00000001 40 000004 00000000'));
    assert.ok(!short.ok);
    assert.equal(short.error.resultCode, Result.InvalidAvpLength);
    assert.equal(short.error.failedAvp!.toString('hex'), '0000000140000008');
    const over = decodeMessage(msg('00000001 40 000020 00000000'));
    assert.ok(!over.ok && over.error.resultCode === Result.InvalidAvpLength);
    // A vendor AVP too short for its Vendor-ID.
    const v = decodeMessage(msg('00000001 c0 000008 00000000'));
    assert.ok(!v.ok && v.error.resultCode === Result.InvalidAvpLength);
  });

  it('§4.4: a Grouped AVP whose last member lacks its padding is malformed (5014)', () => {
    const g = decodeGrouped(hex('00000001 40 000009 41'));
    assert.ok(!g.ok && g.error.resultCode === Result.InvalidAvpLength);
  });

  it('§4.1: an unknown AVP with the M bit → 5001 with the AVP; without it the AVP is kept', () => {
    const kept = decodeMessage(msg('0000fff0 00 00000c 01020304'));
    assert.ok(kept.ok);
    assert.equal(kept.value.avps[0].code, 0xfff0);
    assert.equal(checkAvps(kept.value.avps), null);
    const m = decodeMessage(msg('0000fff0 40 00000c 01020304'));
    assert.ok(m.ok);
    const p = checkAvps(m.value.avps)!;
    assert.equal(p.resultCode, Result.AvpUnsupported);
    assert.equal(p.failedAvp.toString('hex'), '0000fff04000000c01020304');
    // A vendor AVP with M is not understood either.
    const v = decodeMessage(msg('00000001 c0 000010 000028af 01020304'));
    assert.ok(v.ok && checkAvps(v.value.avps)!.resultCode === Result.AvpUnsupported);
  });

  it('§4.2: a known AVP whose length does not fit its type → 5014; invalid UTF-8 → 5004', () => {
    const u32 = decodeMessage(msg('00000102 40 00000a 0001 0000'));
    assert.ok(u32.ok);
    assert.equal(checkAvps(u32.value.avps)!.resultCode, Result.InvalidAvpLength);
    const utf = decodeMessage(msg('00000001 40 00000a c328 0000'));
    assert.ok(utf.ok);
    assert.equal(checkAvps(utf.value.avps)!.resultCode, Result.InvalidAvpValue);
  });

  it(`§4.4: Grouped AVPs nested deeper than ${MAX_GROUP_DEPTH} are refused (5004), members are checked`, () => {
    let inner = encodeAvp(Avp.ServiceSelection, Buffer.from('x'));
    for (let i = 0; i < MAX_GROUP_DEPTH + 1; i++) inner = encodeAvp(Avp.ServiceConfiguration, inner);
    const d = decodeGrouped(inner);
    assert.ok(d.ok);
    assert.equal(checkAvps(d.value)!.resultCode, Result.InvalidAvpValue);
    const bad = encodeAvp(Avp.Mip6AgentInfo, encodeAvp(0xfff1, Buffer.from('abcd')));
    const b = decodeGrouped(bad);
    assert.ok(b.ok && checkAvps(b.value)!.resultCode === Result.AvpUnsupported);
  });
});

// ------------------------------------------------------------------ properties

const avpArb: fc.Arbitrary<{ code: number; flags: number; vendorId: number; data: Uint8Array }> = fc.record({
  code: fc.integer({ min: 0, max: 0xffffffff }),
  flags: fc.constantFrom(0, AvpFlag.M, AvpFlag.M | AvpFlag.P, AvpFlag.P),
  vendorId: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0xffffffff })),
  data: fc.uint8Array({ maxLength: 40 }),
});

describe('properties (fast-check)', () => {
  it('encode → decode gives the header and every AVP back (code, vendor, flags without P, value)', () => {
    fc.assert(fc.property(
      fc.record({ flags: fc.constantFrom(0, CmdFlag.R, CmdFlag.R | CmdFlag.P, CmdFlag.P | CmdFlag.E), commandCode: fc.integer({ min: 0, max: 0xffffff }), applicationId: fc.integer({ min: 0, max: 0xffffffff }), hopByHop: fc.integer({ min: 0, max: 0xffffffff }), endToEnd: fc.integer({ min: 0, max: 0xffffffff }) }),
      fc.array(avpArb, { maxLength: 12 }),
      (h, avps) => {
        const w = new AvpWriter(h);
        for (const a of avps) w.octets(a.code, a.data, a.flags, a.vendorId);
        const b = w.bytes();
        assert.equal(b.length % 4, 0);
        const d = decodeMessage(Buffer.from(b));
        assert.ok(d.ok);
        assert.deepEqual({ ...d.value, avps: undefined, bytes: undefined }, { version: 1, ...h, avps: undefined, bytes: undefined });
        assert.deepEqual(d.value.avps.map((a: RawAvp) => [a.code, a.vendorId, a.flags, Buffer.from(a.data).toString('hex')]), avps.map((a) => [a.code, a.vendorId, (a.flags & ~AvpFlag.P) | (a.vendorId ? AvpFlag.V : 0), Buffer.from(a.data).toString('hex')]));
      },
    ), { numRuns: 1500 });
  });

  it('nested Grouped AVPs round-trip', () => {
    const tree: fc.Arbitrary<unknown> = fc.letrec((t) => ({
      node: fc.oneof({ depthSize: 'small' }, fc.uint8Array({ maxLength: 12 }), fc.array(t('node'), { maxLength: 3 })),
    })).node;
    const write = (w: AvpWriter, n: unknown, code: number): void => {
      if (n instanceof Uint8Array) w.octets(code, n);
      else w.group(code, (g) => (n as unknown[]).forEach((c, i) => write(g, c, code + i + 1)));
    };
    const read = (data: Buffer, n: unknown): void => {
      if (n instanceof Uint8Array) return assert.equal(data.toString('hex'), Buffer.from(n).toString('hex'));
      const g = decodeGrouped(data);
      assert.ok(g.ok);
      assert.equal(g.value.length, (n as unknown[]).length);
      (n as unknown[]).forEach((c, i) => read(g.value[i].data, c));
    };
    fc.assert(fc.property(tree, (n) => {
      const w = new AvpWriter();
      write(w, n, 1000);
      const top = decodeGrouped(w.bytes());
      assert.ok(top.ok);
      read(top.value[0].data, n);
    }), { numRuns: 800 });
  });

  it('any bytes: decodeMessage and checkAvps return a result, never throw', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.boolean(), (bytes, fix) => {
      const b = Buffer.from(bytes);
      if (fix && b.length >= 20) {
        b[0] = 1;
        b.writeUIntBE(b.length, 1, 3);
      }
      const d = decodeMessage(b);
      if (d.ok) checkAvps(d.value.avps);
    }), { numRuns: 5000 });
  });

  it('Unsigned64, Address and Time values round-trip', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (v) => assert.equal(decU64(encU64(v)), v)));
    fc.assert(fc.property(fc.ipV4(), (ip) => assert.deepEqual(decAddress(encAddress(ip)!), { family: 4, address: ip })));
    fc.assert(fc.property(fc.integer({ min: Date.UTC(1970, 0, 1) / 1000, max: Date.UTC(2100, 0, 1) / 1000 }), (s) => assert.equal(decTime(encTime(s * 1000))!.getTime(), s * 1000)));
  });
});

describe('lookups', () => {
  it('findAvp finds the first AVP of a code in the IETF space only', () => {
    const w = new AvpWriter({ flags: 0, commandCode: Cmd.AA, applicationId: App.Nasreq, hopByHop: 1, endToEnd: 1 });
    w.utf8(Avp.UserName, 'v', AvpFlag.M, 99).utf8(Avp.UserName, 'a').utf8(Avp.UserName, 'b');
    const d = decodeMessage(w.bytes());
    assert.ok(d.ok);
    assert.equal(findAvp(d.value.avps, Avp.UserName)!.data.toString(), 'a');
    assert.equal(findAvp(d.value.avps, Avp.UserName, 99)!.data.toString(), 'v');
  });
});
