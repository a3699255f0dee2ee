// `npm run bench -- cache-growth [--bindings=1000000] [--rounds=3]`: the binding cache's index
// growth (issue 12). Fills a BindingCache with --bindings BCEs (MN-ID, one HNP, an MN-LL-ID on
// every third) and reports the longest single add() (one V8 Map doubling rehashes every entry:
// seconds at 2^20), how many adds took over 10 / 50 ms, the mean MN-ID and HNP lookup on fresh
// key strings (as a PBU brings them: V8 hashes each anew), and the heap the indexes take per
// binding. Load on a shared machine inflates single wall-clock samples (a preemption looks like
// a stall): the longest add is also given in process CPU time, and the summary takes the best
// of the rounds. The baseline is the previous cache's index layout (one Map per index, byId in
// insertion order), measured in the same run; rounds alternate baseline and new.
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Bce, BindingCache, MagPeer } from '../src/lma/bce.ts';
import { MemoryHub } from '../src/transport/memory.ts';
import { hnpOf, mnId } from './lma-parts.ts';
import { opt } from './lma.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** The previous BindingCache indexes (bce.ts before issue 12): one Map each. */
class MapIndexes {
  readonly byId = new Map<number, Bce>();
  private readonly byMn = new Map<string, Bce | Bce[]>();
  private readonly byHnp = new Map<string, Bce>();
  private readonly byLl = new Map<string, Bce>();
  add(b: Bce): void {
    this.byId.set(b.id, b);
    const cur = this.byMn.get(b.mnId);
    if (cur === undefined) this.byMn.set(b.mnId, b);
    else if (Array.isArray(cur)) cur.push(b);
    else this.byMn.set(b.mnId, [cur, b]);
    for (const p of b.hnpList()) this.byHnp.set(p, b);
    if (b.llId !== null) this.byLl.set(`${b.mnId}\u0000${b.att}\u0000${b.llId}`, b);
  }
  mnEntry(mnId: string): Bce | Bce[] | undefined {
    return this.byMn.get(mnId);
  }
  byPrefix(p: string): Bce | undefined {
    return this.byHnp.get(p);
  }
}

interface Cache {
  add(b: Bce): void;
  mnEntry(mnId: string): Bce | Bce[] | undefined;
  byPrefix(p: string): Bce | undefined;
}

interface Result {
  maxAddMs: number;
  /** Longest add in process CPU time (not inflated when the machine preempts us). */
  maxAddCpuMs: number;
  over10: number;
  over50: number;
  addNs: number;
  mnGetNs: number;
  hnpGetNs: number;
  bytesPerBinding: number;
}

/** A fresh copy of a string, with no hash computed yet (as pbu.ts makes it from the packet). */
const GET_PASSES = 8;

const fresh = (s: string): string => Buffer.from(s, 'latin1').toString('latin1');

function measure(make: () => Cache, bces: Bce[], peer: MagPeer): { cache: Cache; res: Result } {
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const c = make();
  let maxAddMs = 0;
  let maxAddCpuMs = 0;
  let over10 = 0;
  let over50 = 0;
  const t0 = performance.now();
  for (const b of bces) {
    const cpu = process.cpuUsage();
    const a = performance.now();
    c.add(b);
    const d = performance.now() - a;
    if (d > 1) {
      const u = process.cpuUsage(cpu);
      maxAddCpuMs = Math.max(maxAddCpuMs, (u.user + u.system) / 1000);
    }
    if (d > maxAddMs) maxAddMs = d;
    if (d > 10) over10++;
    if (d > 50) over50++;
  }
  const addNs = ((performance.now() - t0) * 1e6) / bces.length;
  gc();
  const bytesPerBinding = (process.memoryUsage().heapUsed - heap0) / bces.length;
  void peer;
  return { cache: c, res: { maxAddMs, maxAddCpuMs, over10, over50, addNs, mnGetNs: 0, hnpGetNs: 0, bytesPerBinding } };
}

/**
 * Lookups in a scattered order on fresh strings (built before the clock starts), both layouts
 * held at once and passes alternating between them (load drifts less within a pair); best of
 * GET_PASSES passes each.
 */
function lookups(caches: Cache[], bces: Bce[]): { mn: number; hnp: number }[] {
  const n = bces.length;
  const order = Array.from({ length: Math.min(n, 200_000) }, (_, i) => (Math.imul(i, 0x9e3779b1 | 0) >>> 0) % n);
  const out = caches.map(() => ({ mn: Infinity, hnp: Infinity }));
  for (let pass = 0; pass < GET_PASSES; pass++) {
    caches.forEach((c, w) => {
      const mnKeys = order.map((x) => fresh(bces[x].mnId));
      const hnpKeys = order.map((x) => fresh(bces[x].hnps as string));
      let hits = 0;
      let t = performance.now();
      for (const k of mnKeys) if (c.mnEntry(k) !== undefined) hits++;
      out[w].mn = Math.min(out[w].mn, ((performance.now() - t) * 1e6) / mnKeys.length);
      t = performance.now();
      for (const k of hnpKeys) if (c.byPrefix(k) !== undefined) hits++;
      out[w].hnp = Math.min(out[w].hnp, ((performance.now() - t) * 1e6) / hnpKeys.length);
      if (hits !== 2 * order.length) throw new Error(`lookups missed: ${hits}`);
    });
  }
  return out;
}

const fmt = (r: Result): string =>
  `longest add ${r.maxAddMs.toFixed(1)} ms (CPU ${r.maxAddCpuMs.toFixed(1)} ms), adds >10 ms ${r.over10}, >50 ms ${r.over50}, mean add ${r.addNs.toFixed(0)} ns, ` +
  `MN-ID get ${r.mnGetNs.toFixed(0)} ns, HNP get ${r.hnpGetNs.toFixed(0)} ns, index heap ${r.bytesPerBinding.toFixed(0)} B/binding`;

export async function run(args: string[]): Promise<void> {
  const n = Number(opt(args, 'bindings', '1000000'));
  const rounds = Math.max(1, Number(opt(args, 'rounds', '3')));
  const hub = new MemoryHub();
  const peer = new MagPeer('2001:db8::2', '2001:db8::2', -1, '2001:db8::1', 'memory', hub.endpoint('2001:db8::1'));
  // One set of BCEs for both layouts (the new cache links them into the peer's list; the
  // list is reset between rounds).
  const bces = Array.from({ length: n }, (_, i) => {
    const b = new Bce(i + 1, mnId(i), i % 3 === 0 ? `02:00:${(i >>> 24).toString(16)}:${((i >>> 16) & 255).toString(16)}:${((i >>> 8) & 255).toString(16)}:${(i & 255).toString(16)}` : null, 4, peer);
    b.hnps = hnpOf(i);
    return b;
  });
  const reset = (): void => {
    for (const b of bces) b.pPrev = b.pNext = null;
    peer.head = null;
    peer.count = 0;
  };
  process.stdout.write(`${n} bindings, ${rounds} round(s), baseline = one Map per index\n`);
  const all: Record<'base' | 'new', Result[]> = { base: [], new: [] };
  for (let r = 0; r < rounds; r++) {
    const base = measure(() => new MapIndexes(), bces, peer);
    reset();
    const neu = measure(() => new BindingCache(), bces, peer);
    const [lb, ln] = lookups([base.cache, neu.cache], bces);
    [base.res.mnGetNs, base.res.hnpGetNs, neu.res.mnGetNs, neu.res.hnpGetNs] = [lb.mn, lb.hnp, ln.mn, ln.hnp];
    for (const [which, res] of [['base', base.res], ['new', neu.res]] as const) {
      all[which].push(res);
      process.stdout.write(`round ${r + 1} ${which.padEnd(4)}: ${fmt(res)}\n`);
    }
  }
  const best = (rs: Result[], k: keyof Result): number => Math.min(...rs.map((x) => x[k]));
  for (const k of ['maxAddMs', 'maxAddCpuMs', 'mnGetNs', 'hnpGetNs', 'addNs'] as const) {
    process.stdout.write(`${k}: base ${best(all.base, k).toFixed(1)}, new ${best(all.new, k).toFixed(1)}, ratio new/base ${(best(all.new, k) / best(all.base, k)).toFixed(2)}\n`);
  }
}
