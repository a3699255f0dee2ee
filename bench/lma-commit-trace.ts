// `npx tsx bench/lma-commit-trace.ts <trace.json> [alloc.json]`: summary of a group-commit trace
// (src/lma/commit-trace.ts; run the LMA bench with PMIP6BENCH_COMMIT_TRACE=<trace.json>, and
// PMIP6BENCH_ALLOC_PROF=<alloc.json> for the allocation sampling). Issue 12: where the p99 of
// initial registrations comes from (the wait for the batch in flight, the batch's own commit,
// scavenges) and what an initial registration allocates.
import { readFileSync } from 'node:fs';

interface Trace {
  loop: { p50: number; p99: number; max: number; mean: number };
  toStart: number[];
  toEnd: number[];
  batches: [number, number, number, number][];
  pbuToPba: number[];
  gcs: [number, number, number][];
}

const pc = (xs: number[], ps = [50, 90, 99, 99.9, 100]): string => {
  const s = [...xs].sort((a, b) => a - b);
  return ps.map((p) => `p${p} ${(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN).toFixed(2)}`).join('  ');
};

const GC_KIND: Record<number, string> = { 1: 'scavenge', 2: 'minor mark-sweep', 4: 'mark-compact', 8: 'incremental', 16: 'weak callbacks' };

function summariseTrace(t: Trace): void {
  const d = t.batches.filter((x) => x[3] > 0);
  console.log(`durable changes ${t.toEnd.length}, batches with durable rows ${d.length}`);
  console.log(`  queued -> batch start (ms)  ${pc(t.toStart)}`);
  console.log(`  queued -> batch end (ms)    ${pc(t.toEnd)}`);
  console.log(`  PBU arrival -> PBA (ms)     ${pc(t.pbuToPba)}`);
  console.log(`  batch rows                  ${pc(d.map((x) => x[2]))}`);
  console.log(`  batch write (ms)            ${pc(d.map((x) => x[1] - x[0]))}`);
  console.log(`  event loop delay (ms): p50 ${t.loop.p50.toFixed(2)}  p99 ${t.loop.p99.toFixed(2)}  max ${t.loop.max.toFixed(1)}`);
  if (d.length === 0) return;
  // The initial phase: from the durable batches after the warm-up (3 %) to the last one.
  const lo = d[Math.floor(d.length * 0.03)][0];
  const hi = d[d.length - 1][1];
  const gcs = t.gcs.filter((g) => g[0] >= lo && g[0] <= hi);
  const byKind = new Map<number, number[]>();
  for (const g of gcs) byKind.set(g[2], [...(byKind.get(g[2]) ?? []), g[1]]);
  console.log(`  garbage collections in the initial phase (${((hi - lo) / 1000).toFixed(1)} s, ${fmtN(d.reduce((a, x) => a + x[3], 0))} durable rows in all):`);
  for (const [k, v] of byKind) console.log(`    ${(GC_KIND[k] ?? String(k)).padEnd(16)} ${String(v.length).padStart(5)}  total ${v.reduce((a, x) => a + x, 0).toFixed(0)} ms  ${pc(v, [50, 90, 100])}`);
  const slow = d.filter((x) => x[1] - x[0] > 5);
  let withGc = 0;
  for (const x of slow) if (gcs.some((g) => g[0] < x[1] && g[0] + g[1] > x[0])) withGc++;
  console.log(`  batches written in over 5 ms: ${slow.length}, ${withGc} of them with a GC pause inside`);
}

const fmtN = (n: number): string => Math.round(n).toLocaleString('en-US');

interface ProfNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: ProfNode[];
}

/** Bytes sampled per durable change (the sampling window holds 50,000), by function (self). */
function summariseAlloc(head: ProfNode, per = 50_000): void {
  const self = new Map<string, number>();
  let total = 0;
  const walk = (n: ProfNode): void => {
    const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}`;
    self.set(key, (self.get(key) ?? 0) + n.selfSize);
    total += n.selfSize;
    for (const c of n.children) walk(c);
  };
  walk(head);
  console.log(`allocated per initial registration (sampled): ${fmtN(total / per)} bytes; by function (self):`);
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${fmtN(v / per).padStart(6)}  ${k}`);
}

const [tracePath, allocPath] = process.argv.slice(2);
if (!tracePath) {
  console.error('usage: tsx bench/lma-commit-trace.ts <trace.json> [alloc.json]');
  process.exit(2);
}
summariseTrace(JSON.parse(readFileSync(tracePath, 'utf8')) as Trace);
if (allocPath) summariseAlloc((JSON.parse(readFileSync(allocPath, 'utf8')) as { head: ProfNode }).head);
