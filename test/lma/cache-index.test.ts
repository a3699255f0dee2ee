// The binding cache's indexes (issue 12): the id index in id chunks (src/lma/id-index.ts) and
// the hash-sharded key indexes (src/lma/sharded-map.ts), alone and through BindingCache and
// BindingsView (listing order, paging, delete, chunk freeing, shard distribution, bounds).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Bce, BindingCache, MagPeer } from '../../src/lma/bce.ts';
import { CHUNK, IdIndex } from '../../src/lma/id-index.ts';
import { SHARDS, hnpShard, mnShard, numShard } from '../../src/lma/sharded-map.ts';
import { BindingsView } from '../../src/lma/view.ts';
import { MemoryHub } from '../../src/transport/memory.ts';

const hub = new MemoryHub();
const t = hub.endpoint('2001:db8::1');
const peer = new MagPeer('2001:db8::2', '2001:db8::2', -1, '2001:db8::1', 'memory', t);
const ids = (it: Iterable<{ id: number }>): number[] => [...it].map((v) => v.id);
const rec = (id: number): { id: number } => ({ id });

describe('IdIndex', () => {
  it('lists in id order whatever the insertion order, and pages from a cursor', () => {
    const x = new IdIndex<{ id: number }>();
    const order = [5, 3 * CHUNK + 7, 1, CHUNK, 2, CHUNK - 1, 3 * CHUNK, 0];
    for (const id of order) x.set(rec(id));
    const sorted = [...order].sort((a, b) => a - b);
    assert.deepEqual(ids(x.values()), sorted);
    assert.equal(x.size, order.length);
    assert.deepEqual(ids(x.values(2)), sorted.filter((i) => i > 2));
    assert.deepEqual(ids(x.values(CHUNK - 1)), sorted.filter((i) => i > CHUNK - 1));
    assert.deepEqual(ids(x.values(2.5)), sorted.filter((i) => i > 2.5));
    assert.deepEqual(ids(x.values(3 * CHUNK + 7)), []);
    assert.equal(x.next(-10)?.id, 0);
    assert.equal(x.get(CHUNK)?.id, CHUNK);
    assert.equal(x.get(CHUNK + 1), undefined);
    assert.equal(x.get(99 * CHUNK), undefined);
  });

  it('turns a filling chunk dense and an emptying one sparse, with the same answers, and frees empty chunks', () => {
    const x = new IdIndex<{ id: number }>();
    const n = 3 * CHUNK;
    for (let id = 1; id <= n; id++) x.set(rec(id));
    const chunks = x.chunkCount;
    assert.equal(chunks, 4); // ids 1..3*CHUNK span chunks 0..3
    // Keep every 16th id: each chunk drops below an eighth, goes sparse.
    for (let id = 1; id <= n; id++) if (id % 16 !== 0) assert.equal(x.delete(id), true);
    assert.equal(x.delete(1), false, 'deleting twice');
    const kept = Array.from({ length: n / 16 }, (_, i) => (i + 1) * 16);
    assert.deepEqual(ids(x.values()), kept);
    for (const id of kept) assert.equal(x.get(id)?.id, id);
    assert.equal(x.get(17), undefined);
    assert.equal(x.size, kept.length);
    // Refill one chunk out of order: back to dense, still in order.
    for (let id = 2 * CHUNK - 1; id >= CHUNK; id--) x.set(rec(id));
    assert.deepEqual(ids(x.values(CHUNK - 1)).slice(0, CHUNK), Array.from({ length: CHUNK }, (_, i) => CHUNK + i));
    // Empty everything: no chunk is left.
    for (const v of [...x.values()]) x.delete(v.id);
    assert.equal(x.size, 0);
    assert.equal(x.chunkCount, 0);
    assert.deepEqual(ids(x.values()), []);
  });

  it('replaces a value under the same id without counting it twice', () => {
    const x = new IdIndex<{ id: number; v: string }>();
    x.set({ id: 7, v: 'a' });
    x.set({ id: 7, v: 'b' });
    assert.equal(x.size, 1);
    assert.equal(x.get(7)?.v, 'b');
  });

  it('iterates safely while values are removed and added', () => {
    const x = new IdIndex<{ id: number }>();
    for (let id = 1; id <= 2 * CHUNK; id++) x.set(rec(id));
    const seen: number[] = [];
    for (const v of x.values()) {
      seen.push(v.id);
      x.delete(v.id + 1); // the next one never shows
      if (v.id === 1) x.set(rec(0)); // behind the cursor: not listed
    }
    assert.deepEqual(seen, Array.from({ length: CHUNK }, (_, i) => 1 + 2 * i));
  });

  it('takes ids up to 2^53 - 1 and refuses others', () => {
    const x = new IdIndex<{ id: number }>();
    const big = [2 ** 32 + 5, 2 ** 31, Number.MAX_SAFE_INTEGER];
    for (const id of big) x.set(rec(id));
    assert.deepEqual(ids(x.values()), [2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]);
    assert.equal(x.get(Number.MAX_SAFE_INTEGER)?.id, Number.MAX_SAFE_INTEGER);
    for (const id of [-1, 1.5, NaN, Infinity, 2 ** 53]) assert.throws(() => x.set(rec(id)), RangeError);
    assert.equal(x.get(-1), undefined);
    assert.equal(x.get(NaN), undefined);
  });
});

describe('key shards', () => {
  // Largest shard over the mean, for keys of one form.
  function skew(keys: string[] | number[], shard: (k: never) => number): number {
    const n = new Array<number>(SHARDS).fill(0);
    for (const k of keys) {
      const s = shard(k as never);
      assert.ok(Number.isInteger(s) && s >= 0 && s < SHARDS, `shard ${s} in range`);
      n[s]++;
    }
    return Math.max(...n) / (keys.length / SHARDS);
  }

  it('spreads MN-IDs, HNPs and IPv4 keys of the forms in use evenly', () => {
    const N = 65536;
    const cases: [string, string[] | number[], (k: never) => number][] = [
      ['NAI, zero-padded', Array.from({ length: N }, (_, i) => `mn${String(i).padStart(6, '0')}@example.net`), mnShard],
      ['NAI, bench form', Array.from({ length: N }, (_, i) => `ob${i}@bench.example`), mnShard],
      ['NAI, IMSI', Array.from({ length: N }, (_, i) => `0${310260000000000 + i * 7}@nai.epc.mnc260.mcc310.3gppnetwork.org`), mnShard],
      ['MN-ID, no realm', Array.from({ length: N }, (_, i) => `x-mnid-1:02:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`), mnShard],
      ['HNP /64', Array.from({ length: N }, (_, i) => `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`), hnpShard],
      ['HNP /56', Array.from({ length: N }, (_, i) => `2001:db8:${(i >> 8).toString(16)}:${((i & 255) << 8).toString(16)}::/56`), hnpShard],
      ['HNP, no "::"', Array.from({ length: N }, (_, i) => `2001:db8:1:2:3:4:5:${i.toString(16)}/128`), hnpShard],
      ['IPv4', Array.from({ length: N }, (_, i) => (0x0a000000 + i) | 0), numShard],
      ['IPv4, other context', Array.from({ length: N }, (_, i) => 2 * 4294967296 + 0xc0a80000 + i), numShard],
    ];
    for (const [name, keys, f] of cases) {
      const s = skew(keys, f);
      assert.ok(s < 1.5, `${name}: largest shard ${s.toFixed(2)}x the mean`);
    }
  });

  it('gives a shard for any string, also empty and one-character ones', () => {
    for (const k of ['', '@', 'a', '::', '/', '@@x', '\u{1f600}@x']) {
      for (const f of [mnShard, hnpShard]) {
        const s = f(k);
        assert.ok(Number.isInteger(s) && s >= 0 && s < SHARDS);
      }
    }
  });
});

describe('BindingCache indexes', () => {
  it('finds every BCE by each key across shards, lists by id, and forgets removed ones', () => {
    const c = new BindingCache();
    const all: Bce[] = [];
    for (let i = 0; i < 3000; i++) {
      const b = new Bce(c.allocId(), `mn${i}@example.net`, i % 3 === 0 ? `02:00:00:00:${(i >> 8).toString(16)}:${(i & 255).toString(16)}` : null, 4, peer);
      c.add(b);
      c.setHnps(b, i % 5 === 0 ? [`2001:db8:1:${i.toString(16)}::/64`, `2001:db8:2:${i.toString(16)}::/64`] : [`2001:db8:1:${i.toString(16)}::/64`]);
      if (i % 2 === 0) c.setIpv4(b, 0x0a000000 + i, i % 4);
      all.push(b);
    }
    // A second BCE of one MN (RFC 5213 §5.4).
    const second = new Bce(c.allocId(), 'mn7@example.net', null, 5, peer);
    c.add(second);
    assert.equal(c.size, 3001);
    assert.deepEqual([...c.byId.values()].map((b) => b.id), [...all, second].map((b) => b.id));
    assert.equal(new Set(c.mnIds()).size, 3000);
    for (let i = 0; i < 3000; i++) {
      const b = all[i];
      assert.equal(c.get(b.id), b);
      assert.equal(c.mnEntry(b.mnId) === b || c.ofMn(b.mnId).includes(b), true);
      assert.equal(c.byPrefix(`2001:db8:1:${i.toString(16)}::/64`), b);
      if (i % 5 === 0) assert.equal(c.byPrefix(`2001:db8:2:${i.toString(16)}::/64`), b);
      if (i % 2 === 0) assert.equal(c.byIpv4(0x0a000000 + i, i % 4), b);
      if (b.llId !== null) assert.equal(c.byLinkLayer(b.mnId, 4, b.llId), b);
    }
    assert.deepEqual(c.ofMn('mn7@example.net'), [all[7], second]);
    for (const b of all) c.remove(b);
    assert.equal(c.size, 1);
    assert.equal(c.onlyOfMn('mn7@example.net'), second);
    assert.equal(c.byPrefix('2001:db8:1:0::/64'), undefined);
    assert.equal(c.byIpv4(0x0a000000, 0), undefined);
    assert.equal(c.byLinkLayer('mn0@example.net', 4, '02:00:00:00:0:0'), undefined);
    assert.deepEqual([...c.mnIds()], ['mn7@example.net']);
    assert.equal(c.byId.chunkCount, 1);
  });

  it('lists restored bindings (added out of id order) and pages them in session-key order', () => {
    const c = new BindingCache();
    const restored = [900, 12, 5000, 13, 4097, 1];
    for (const id of restored) {
      c.reserveId(id);
      c.add(new Bce(id, `mn${id}@example.net`, null, 4, peer));
    }
    const fresh = new Bce(c.allocId(), 'fresh@example.net', null, 4, peer);
    assert.equal(fresh.id, 5001);
    c.add(fresh);
    const v = new BindingsView(c);
    const keys = [...restored, 5001].sort((a, b) => a - b).map(String);
    assert.deepEqual(v.list({ limit: 1000 }).items.map((b) => b.sessionKey), keys);
    assert.deepEqual(v.list({ offset: 2, limit: 3 }), { items: keys.slice(2, 5).map((k) => v.get(k)!), total: keys.length });
    assert.deepEqual([...v.from('13')].map((b) => b.sessionKey), keys.slice(3));
    assert.deepEqual([...v.from()].map((b) => b.sessionKey), keys);
    assert.deepEqual([...v.from('x')], []);
  });
});
