// One min-heap for every timer of the LMA's binding cache (bce.ts): lifetime expiry and
// MinDelayBeforeBCEDelete (RFC 5213 §5.3.3, §5.3.5), no per-binding timer or closure.
// The items carry their own position (heapIdx), so removal is O(log n) without a search.

/** What the heap orders: an item with its deadline, its heap key and its position. */
export interface HeapItem {
  /** When it fires (ms). */
  deadline: number;
  /** The key the heap orders it by (<= deadline, see schedule()). */
  heapKey: number;
  /** Position in the heap, -1 when not in it. */
  heapIdx: number;
}

export class DeadlineHeap<T extends HeapItem> {
  private readonly h: T[] = [];

  get size(): number {
    return this.h.length;
  }

  // Lazy keys: an item sits in the heap under `heapKey` <= `deadline`. Moving a deadline later
  // (every re-registration) only writes `deadline`; the entry is re-keyed when it reaches
  // the top. Moving it earlier (de-registration) sifts at once.

  /** Sets (or moves) the item's deadline. */
  schedule(b: T, at: number): void {
    b.deadline = at;
    if (b.heapIdx < 0) {
      b.heapKey = at;
      b.heapIdx = this.h.length;
      this.h.push(b);
      this.siftUp(b.heapIdx);
    } else if (at < b.heapKey) {
      b.heapKey = at;
      this.siftUp(b.heapIdx);
    }
  }

  /** The earliest heap key (a lower bound of the earliest deadline), or Infinity. */
  nextDeadline(): number {
    return this.h.length === 0 ? Infinity : this.h[0].heapKey;
  }

  /** Removes and returns an item whose deadline is <= now, if any. */
  popDue(now: number): T | undefined {
    const h = this.h;
    while (h.length > 0 && h[0].heapKey <= now) {
      const top = h[0];
      if (top.deadline > now) {
        // re-key a deadline that moved later
        top.heapKey = top.deadline;
        this.siftDown(0);
        continue;
      }
      this.remove(top);
      return top;
    }
    return undefined;
  }

  remove(b: T): void {
    const i = b.heapIdx;
    if (i < 0) return;
    const h = this.h;
    const last = h.pop()!;
    b.heapIdx = -1;
    if (last !== b) {
      h[i] = last;
      last.heapIdx = i;
      this.siftUp(i);
      this.siftDown(last.heapIdx);
    }
  }

  private siftUp(i: number): void {
    const h = this.h;
    const x = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].heapKey <= x.heapKey) break;
      h[i] = h[p];
      h[i].heapIdx = i;
      i = p;
    }
    h[i] = x;
    x.heapIdx = i;
  }

  private siftDown(i: number): void {
    const h = this.h;
    const n = h.length;
    const x = h[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && h[c + 1].heapKey < h[c].heapKey) c++;
      if (h[c].heapKey >= x.heapKey) break;
      h[i] = h[c];
      h[i].heapIdx = i;
      i = c;
    }
    h[i] = x;
    x.heapIdx = i;
  }
}
