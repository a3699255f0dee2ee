// The BCE's compact layout (src/lma/bce.ts): times kept as small-integer offsets read back
// exactly, the rarely used fields (IPv4 prefix length and router, MAG link-local address, GRE
// keys) read their defaults without a record of their own and keep what is written, and the
// binding cache's indexes and deadline heap behave the same with them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Bce, BindingCache, MagPeer } from '../../src/lma/bce.ts';
import { MemoryHub } from '../../src/transport/memory.ts';

const hub = new MemoryHub();
const t = hub.endpoint('2001:db8::1');
const peer = new MagPeer('2001:db8::2', '2001:db8::2', -1, '2001:db8::1', 'memory', t);

describe('BCE compact layout', () => {
  it('reads defaults for the rarely used fields without holding a record for them', () => {
    const b = new Bce(1, 'mn1@example.net', null, 4, peer);
    assert.deepEqual([b.v4Len, b.v4Router, b.lla, b.greUp, b.greDown], [0, 0, null, 0, 0]);
    b.v4Len = 0;
    b.lla = null;
    b.greDown = 0;
    assert.equal((b as unknown as { x: unknown }).x, null, 'writing defaults makes no record');
  });

  it('keeps what is written, and back to the defaults', () => {
    const b = new Bce(2, 'mn2@example.net', '02:00:00:00:00:02', 4, peer);
    b.v4Len = 24;
    b.v4Router = 0x0a000001;
    b.lla = 'fe80::1';
    b.greUp = -2;
    b.greDown = 0x7fffffff;
    assert.deepEqual([b.v4Len, b.v4Router, b.lla, b.greUp, b.greDown], [24, 0x0a000001, 'fe80::1', -2, 0x7fffffff]);
    b.v4Len = b.v4Router = b.greUp = b.greDown = 0;
    b.lla = null;
    assert.deepEqual([b.v4Len, b.v4Router, b.lla, b.greUp, b.greDown], [0, 0, null, 0, 0]);
  });

  it('keeps sequence number, Handoff Indicator and ATT apart in their shared integer, at their bounds', () => {
    const b = new Bce(4, 'mn4@example.net', null, 255, peer);
    assert.deepEqual([b.seq, b.hi, b.att], [0, 0, 255]);
    b.seq = 65535;
    b.hi = 255;
    assert.deepEqual([b.seq, b.hi, b.att], [65535, 255, 255]);
    b.att = 0;
    assert.deepEqual([b.seq, b.hi, b.att], [65535, 255, 0]);
    b.seq = 0;
    assert.deepEqual([b.seq, b.hi, b.att], [0, 255, 0]);
    for (const [seq, hi, att] of [[1, 5, 4], [32768, 1, 1], [12345, 0, 200]]) {
      b.seq = seq;
      b.hi = hi;
      b.att = att;
      assert.deepEqual([b.seq, b.hi, b.att], [seq, hi, att]);
    }
  });

  it('holds the IPv4 HoA with the other IPv4 fields, and finds it through the cache', () => {
    const c = new BindingCache();
    const b = new Bce(c.allocId(), 'mn5@example.net', null, 4, peer);
    b.v4 = 0;
    assert.equal((b as unknown as { x: unknown }).x, null, 'no IPv4 HoA, no record');
    c.add(b);
    c.setIpv4(b, 0xc0a80001);
    assert.equal(b.v4, 0xc0a80001 | 0);
    assert.equal(c.byIpv4(0xc0a80001), b);
    c.setIpv4(b, 0);
    assert.equal(b.v4, 0);
    assert.equal(c.byIpv4(0xc0a80001), undefined);
  });

  it('reads PBU timestamps back exactly, as small integers for today\'s values', () => {
    const b = new Bce(6, 'mn6@example.net', null, 4, peer);
    const now = (BigInt(Math.floor(Date.now() / 1000) + 2208988800) << 16n) | 0x1234n; // RFC 5213 §8.8 timestamp
    for (const v of [0, 1, Number(now), Number(now) + 1, 2 ** 30 - 1, 2 ** 30, 2 ** 61 - 2 ** 9, 2 ** 53 - 1, Number(0xffffffffffffffffn), Number(0x0123456789abcdefn)]) {
      b.ts = v;
      assert.equal(b.ts, v);
    }
    for (const v of [Number(now), Number(0x0123456789abcdefn)]) {
      b.ts = v;
      const { tsHi, tsLo } = b as unknown as { tsHi: number; tsLo: number };
      assert.ok(Number.isInteger(tsHi) && tsHi < 2 ** 31 && tsLo >= 0 && tsLo < 2 ** 30, `${v}: ${tsHi}, ${tsLo}`);
    }
  });

  it('reads clock times back exactly, near and far from the process start', () => {
    const b = new Bce(3, 'mn3@example.net', null, 4, peer);
    for (const ms of [Date.now(), Date.now() + 900_000.5, Date.now() - 40 * 86_400_000, 1, 0]) {
      b.expiresAt = ms;
      b.registeredAt = ms;
      assert.equal(b.expiresAt, ms);
      assert.equal(b.registeredAt, ms);
    }
  });

  it('indexes and times out bindings through the cache', () => {
    const c = new BindingCache();
    const now = Date.now();
    const bs = [0, 1, 2].map((i) => {
      const b = new Bce(c.allocId(), `mn${i}@example.net`, null, 4, peer);
      b.hnps = `2001:db8:${i}::/64`;
      c.add(b);
      c.schedule(b, now + 1000 * (3 - i));
      return b;
    });
    assert.equal(c.byPrefix('2001:db8:1::/64'), bs[1]);
    assert.equal(c.onlyOfMn('mn2@example.net'), bs[2]);
    c.schedule(bs[2], now + 10_000); // later: re-keyed lazily
    assert.equal(c.popDue(now + 1500), undefined);
    assert.equal(c.popDue(now + 2500), bs[1]);
    assert.equal(c.popDue(now + 3500), bs[0]);
    assert.equal(c.popDue(now + 3500), undefined, 'bs[2] moved to +10 s');
    assert.equal(c.popDue(now + 10_000), bs[2]);
    c.remove(bs[0]);
    assert.equal(c.byPrefix('2001:db8:0::/64'), undefined);
    assert.equal(c.size, 2);
  });
});
