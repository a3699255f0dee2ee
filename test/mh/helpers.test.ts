/** Address text, timestamp, lifetime, NAI and option-accessor helpers. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  BaFlag,
  BuFlag,
  RFC6543_MAG_LINK_LOCAL_ADDRESS,
  countOptions,
  getOption,
  getOptions,
  ipv4FromBytes,
  ipv4ToBytes,
  ipv4ToString,
  ipv6ToString,
  isAccepted,
  isAllZero,
  isPba,
  isPbu,
  lifetimeToSeconds,
  mnIdFromNai,
  naiFromMnId,
  parseIpv4,
  parseIpv6,
  parsePrefix,
  prefixToString,
  secondsToLifetime,
  timestampFromMs,
  timestampToMs,
} from '../../src/mh/index.ts';
import type { MhMessage } from '../../src/mh/index.ts';

describe('IPv6 text (RFC 4291 2.2 input, RFC 5952 output)', () => {
  const cases: [string, string, string][] = [
    ['2001:db8::1', '20010db8000000000000000000000001', '2001:db8::1'],
    ['2001:DB8:0:0:1:0:0:1', '20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['::', '00000000000000000000000000000000', '::'],
    ['::1', '00000000000000000000000000000001', '::1'],
    ['1::', '00010000000000000000000000000000', '1::'],
    ['2001:db8:0:1:1:1:1:1', '20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
    ['2001:0:0:1:0:0:0:1', '20010000000000010000000000000001', '2001:0:0:1::1'],
    ['fe80::200:5eff:fe00:5213', 'fe800000000000000200' + '5efffe005213', 'fe80::200:5eff:fe00:5213'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201', '::ffff:192.0.2.1'],
    ['64:ff9b::192.0.2.33', '0064ff9b0000000000000000c0000221', '64:ff9b::c000:221'],
  ];
  for (const [text, bytes, canonical] of cases) {
    it(`parses ${text} and prints ${canonical}`, () => {
      const b = parseIpv6(text);
      assert.equal(b.toString('hex'), bytes);
      assert.equal(ipv6ToString(b), canonical);
    });
  }
  it('RFC 6543 constant is fe80::200:5eff:fe00:5213', () => {
    assert.equal(ipv6ToString(RFC6543_MAG_LINK_LOCAL_ADDRESS), 'fe80::200:5eff:fe00:5213');
  });
  it('rejects malformed text', () => {
    for (const bad of ['', ':', ':::', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '1.2.3.4::', '::1.2.3', '1:2:3:4:5:6:7:8::']) {
      assert.throws(() => parseIpv6(bad), TypeError, bad);
    }
  });
  it('print/parse round-trips every address (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (a) => {
      const b = Buffer.from(a);
      assert.deepStrictEqual(parseIpv6(ipv6ToString(b)), b);
    }), { numRuns: 2000 });
  });
  it('prefix text', () => {
    const p = parsePrefix('2001:db8:1:1::/64');
    assert.equal(p.prefixLen, 64);
    assert.equal(prefixToString(p.prefix, p.prefixLen), '2001:db8:1:1::/64');
    assert.throws(() => parsePrefix('2001:db8::/129'), TypeError);
    assert.throws(() => parsePrefix('2001:db8::'), TypeError);
    assert.ok(isAllZero(parsePrefix('::/0').prefix));
  });
});

describe('IPv4 as uint32', () => {
  it('parses, prints and converts', () => {
    assert.equal(parseIpv4('10.0.0.1'), 0x0a000001);
    assert.equal(parseIpv4('255.255.255.255'), 0xffffffff);
    assert.equal(ipv4ToString(0xc0000201), '192.0.2.1');
    assert.equal(ipv4ToBytes(0xc6336407).toString('hex'), 'c6336407');
    assert.equal(ipv4FromBytes(Buffer.from('c6336407', 'hex')), 0xc6336407);
    for (const bad of ['1.2.3', '1.2.3.256', 'a.b.c.d', '1.2.3.4.5', '']) assert.throws(() => parseIpv4(bad), TypeError);
  });
});

describe('RFC 5213 8.8: Timestamp helpers', () => {
  it('48-bit seconds since 1970 and 16-bit 1/65536 fraction', () => {
    assert.equal(timestampFromMs(0), 0n);
    assert.equal(timestampFromMs(1000), 0x10000n);
    assert.equal(timestampFromMs(1600000000500), 0x5f5e1000_8000n);
    assert.equal(timestampToMs(0x5f5e1000_8000n), 1600000000500);
    assert.equal(timestampToMs(0x1_4000n), 1250);
    assert.throws(() => timestampFromMs(-1), RangeError);
  });
  it('is monotonic and loses less than 1/65.536 ms (property)', () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 4e12, noNaN: true }), fc.double({ min: 0, max: 4e12, noNaN: true }), (a, b) => {
      const ta = timestampFromMs(a);
      const tb = timestampFromMs(b);
      if (a < b) assert.ok(ta <= tb);
      const back = timestampToMs(ta);
      assert.ok(back <= a + 1e-6 && a - back < 1000 / 65536 + 1e-3, `${a} -> ${back}`);
    }), { numRuns: 2000 });
  });
});

describe('RFC 6275 6.1.7: Lifetime in 4-second units', () => {
  it('converts and never turns a positive duration into 0', () => {
    assert.equal(lifetimeToSeconds(900), 3600);
    assert.equal(secondsToLifetime(3600), 900);
    assert.equal(secondsToLifetime(1), 1);
    assert.equal(secondsToLifetime(5), 2);
    assert.equal(secondsToLifetime(0), 0);
    assert.equal(secondsToLifetime(-3), 0);
    assert.equal(secondsToLifetime(1e9), 0xffff);
    assert.equal(lifetimeToSeconds(0xffff), 262140);
  });
});

describe('RFC 4283 3.1: MN-ID NAI and option accessors', () => {
  const msg: MhMessage = {
    type: 'bu', seq: 1, flags: BuFlag.A | BuFlag.P, lifetime: 1,
    options: [
      mnIdFromNai('mn1@example.net'),
      { type: 'hnp', prefixLen: 64, prefix: parseIpv6('2001:db8:1::') },
      { type: 'hnp', prefixLen: 64, prefix: parseIpv6('2001:db8:2::') },
    ],
  };
  it('builds and reads an NAI', () => {
    const id = getOption(msg, 'mnId');
    assert.equal(naiFromMnId(id), 'mn1@example.net');
    assert.equal(naiFromMnId({ type: 'mnId', subtype: 3, id: Buffer.from('1') }), undefined);
    assert.equal(naiFromMnId(undefined), undefined);
  });
  it('finds options in wire order (RFC 5213 8.1: HNP may repeat)', () => {
    const hnps = getOptions(msg, 'hnp');
    assert.deepStrictEqual(hnps.map((h) => prefixToString(h.prefix, h.prefixLen)), ['2001:db8:1::/64', '2001:db8:2::/64']);
    assert.equal(countOptions(msg, 'hnp'), 2);
    assert.equal(getOption(msg, 'timestamp'), undefined);
    assert.equal(getOption({ type: 'unknown', mhType: 99, data: Buffer.alloc(2) }, 'hnp'), undefined);
  });
  it('RFC 5213 8.1/8.2: P flag tests and accepted status (< 128)', () => {
    assert.ok(isPbu(msg));
    assert.ok(!isPbu({ ...msg, flags: BuFlag.A } as MhMessage));
    assert.ok(isPba({ type: 'ba', status: 0, flags: BaFlag.P, seq: 1, lifetime: 1, options: [] }));
    assert.ok(isAccepted(0) && isAccepted(127) && !isAccepted(128));
  });
});
