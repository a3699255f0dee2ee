// Read-only view of a MAG for the API and the SNMP agent: snapshots, never live objects.
import type { Bul, Bule } from './bul.ts';
import type { Heartbeats } from './heartbeat.ts';
import type { BuleInfo, MagBulView, MagCounters } from './types.ts';

/** What the view reads: the Binding Update List, the LMA peers, the counters (the Mag class). */
export interface ViewSource {
  readonly bul: Bul;
  readonly heartbeats: Heartbeats;
  readonly counters: MagCounters;
}

export function createView(mag: ViewSource): MagBulView {
  const bul = mag.bul;
  return {
    size: () => bul.size(),
    counts: () => bul.counts(),
    get: (mnId, link) => bul.get(mnId, link)?.info(),
    getByIndex: (mnIndex, llIndex) => bul.getByIndex(mnIndex, llIndex)?.info(),
    list(limit = Infinity) {
      const out: BuleInfo[] = [];
      for (const b of bul.entries()) {
        if (out.length >= limit) break;
        out.push(b.info());
      }
      return out;
    },
    entriesFrom(after) {
      return infos(after ? bul.entriesAfter(after.mnIndex, after.llIndex) : bul.entries());
    },
    lmas: () => [...mag.heartbeats.peers.values()].map((p) => p.info()),
    counters: () => structuredClone(mag.counters),
  };
}

function* infos(it: IterableIterator<Bule>): IterableIterator<BuleInfo> {
  for (const b of it) yield b.info();
}
