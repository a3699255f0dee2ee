// RFC 5213 §5.4.1.1 lookup (src/lma/lookup.ts) finds the BCE holding the PBU's first HNP among
// the MN's own BCEs before it asks the prefix index: a prefix belongs to one BCE, so both
// answers are the same. A random run of the changes the LMA makes (new sessions, prefixes
// taken over from another session, prefixes changed, sessions removed) checks it: every
// lookup with the MN's entry gives what the index alone gives.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Bce, BindingCache, MagPeer } from '../../src/lma/bce.ts';
import { lookupBce } from '../../src/lma/lookup.ts';
import type { LookupKey } from '../../src/lma/lookup.ts';
import { HandoffIndicator } from '../../src/mh/index.ts';
import type { MhTransport } from '../../src/transport/types.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

describe('§5.4.1.1 lookup: the MN\'s own BCE before the prefix index', () => {
  it('answers as the index does, whatever the MN, prefixes, MAG and HI', () => {
    const r = rng(7);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
    const cache = new BindingCache();
    const peers = ['192.0.2.1', '192.0.2.2'].map((a) => new MagPeer(a, a, 5436, '192.0.2.100', 'udp4', {} as MhTransport));
    const mns = Array.from({ length: 6 }, (_, i) => `mn${i}@example.net`);
    const prefixes = Array.from({ length: 10 }, (_, i) => `2001:db8:${i}::/64`);
    /** What the LMA does before giving a prefix to a session: the session holding it goes (assign.ts takeover). */
    const takeOver = (ps: string[], keep: Bce | null): void => {
      for (const p of ps) {
        const h = cache.byPrefix(p);
        if (h && h !== keep) cache.remove(h);
      }
    };
    const somePrefixes = (): string[] => [...new Set(Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick(prefixes)))];
    let compared = 0;
    let viaOwn = 0;
    for (let step = 0; step < 3000; step++) {
      const x = r();
      if (x < 0.3) {
        const ps = somePrefixes();
        takeOver(ps, null);
        const b = new Bce(cache.allocId(), pick(mns), null, pick([3, 4]), pick(peers));
        b.hnps = ps.length === 1 ? ps[0] : ps;
        cache.add(b);
      } else if (x < 0.45 && cache.size > 0) {
        const b = pick([...cache.byId.values()]);
        const ps = somePrefixes();
        takeOver(ps, b);
        cache.setHnps(b, ps);
      } else if (x < 0.55 && cache.size > 0) {
        cache.remove(pick([...cache.byId.values()]));
      }
      // Lookups of every kind of §5.4.1.1 key: prefixes held by this MN, by another, by nobody.
      for (let i = 0; i < 5; i++) {
        const mnId = pick(mns);
        const mine = cache.ofMn(mnId);
        // Half of them name the prefixes of one of the MN's sessions (a re-registration), in any order.
        const hnps = mine.length > 0 && r() < 0.5 ? pick(mine).hnpList().slice().sort(() => r() - 0.5) : somePrefixes();
        const k: LookupKey = {
          mnId,
          hnps,
          v4: 0,
          llId: null,
          att: pick([3, 4]),
          hi: pick([HandoffIndicator.NEW_INTERFACE, HandoffIndicator.HANDOFF_BETWEEN_MAGS, HandoffIndicator.UNKNOWN, HandoffIndicator.NOT_CHANGED]),
          dereg: r() < 0.1,
          coaKey: pick(peers).key,
          mine: cache.mnEntry(mnId),
        };
        const own = lookupBce(cache, k);
        const byIndex = lookupBce(cache, { ...k, mine: undefined }); // the prefix index alone
        assert.deepEqual(own, byIndex, `step ${step}: ${JSON.stringify({ mnId, hnps: k.hnps })}`);
        compared++;
        if (own.kind === 'update') viaOwn++;
      }
    }
    assert.ok(compared === 15000 && viaOwn > 500, `lookups that found the MN's session: ${viaOwn}`);
  });
});
