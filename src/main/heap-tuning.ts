// V8 heap sizing for the long-running `pmip6 start` process (issue 12: resident memory per
// binding). Its old generation is mostly state that lives as long as the process: the LMA's
// binding cache and the profile directory (1,000,000 of each is ~550 MB live). The garbage of
// the packet path dies young and is reclaimed by the scavenger; what reaches the old generation
// is mostly the cache growing and the profile preload's pages. V8's default limit for the next
// full collection is the live size times a factor of up to 2 or more, so with a large cache
// hundreds of MB of dead objects stay resident until a full collection comes: measured at
// 1,000,000 bindings, 600 to 1,270 resident bytes per binding for ~560 live. A growth step of
// 50% of the live size (config heapGrowingPercent) bounds that slack to half the state, for a
// few more full collections while the cache grows. Measured at the end of issue 12's work (same
// machine, same hour): at 1,000,000 bindings 788 bytes per binding with V8's default, 619 with
// 50%, 597 with 20%; but at 100,000 a 20% step cost 41-48 µs of CPU per initial registration
// against 31-32 with 50% or V8's default (more full collections while the cache grows), and a
// p99 of 13-16 ms against 7.5 ms. V8 keeps a minimum step of a few MB, so small heaps are not
// collected more often than before.
//
// The flag is process-wide and read by V8 at each full collection, so it is set at run time
// (v8.setFlagsFromString; V8 does not take it from NODE_OPTIONS). An operator's own
// `node --heap-growing-percent=N` (or in PMIP6_NODE_FLAGS, which bin/pmip6.js turns into node
// flags) is kept, as for the defaults of src/util/v8-flags.ts; heapGrowingPercent 0 leaves V8's default.
import { setFlagsFromString } from 'node:v8';
import { operatorGaveV8Flag } from '../util/v8-flags.ts';

/** The percent to set, or null to leave V8 alone (an explicit node flag, or 0 configured). */
export function heapGrowingPercent(configured: number, execArgv: readonly string[]): number | null {
  if (operatorGaveV8Flag('heap-growing-percent', execArgv, {})) return null;
  return configured > 0 ? configured : null;
}

/** Applies heapGrowingPercent to this process; returns what was set (null: nothing). */
export function tuneHeap(configured: number, execArgv: readonly string[] = process.execArgv): number | null {
  const p = heapGrowingPercent(configured, execArgv);
  if (p !== null) setFlagsFromString(`--heap-growing-percent=${p}`);
  return p;
}
