// The binding cache's index by session id (bce.ts): ids come from BindingCache.allocId() and only
// grow, so the index is an array of id chunks rather than one hash table. A V8 Map rehashes all
// its entries when it doubles (0.7–2.6 s at 2^19–2^20 bindings, issue 12); here an add touches
// one chunk of at most CHUNK slots, and listing is in id (session-key) order.
//
// A chunk is dense (a CHUNK-slot array indexed by id) while at least a quarter full, else sparse
// (sorted id and value arrays, binary search): new chunks start sparse and become dense as ids
// fill them; a chunk whose bindings mostly left goes back to sparse, and an empty one is freed.
// So a few long-lived bindings in an old id range cost 16 bytes each, not a whole dense chunk.

const CHUNK_BITS = 12;
/** Slots in a dense chunk (32 KiB of pointers). */
export const CHUNK = 1 << CHUNK_BITS;
/** A sparse chunk becomes dense when it reaches this many entries... */
const TO_DENSE = CHUNK >> 2;
/** ...and a dense chunk sparse when it drops below this many (hysteresis: no flapping). */
const TO_SPARSE = CHUNK >> 3;

class Chunk<T> {
  /** Dense form: slot `id % CHUNK`, or null when sparse. */
  slots: (T | undefined)[] | null = null;
  /** Sparse form: ids ascending, values in the same order. */
  ids: number[] | null = [];
  vals: T[] | null = [];
  count = 0;
}

export interface HasId {
  readonly id: number;
}

export class IdIndex<T extends HasId> {
  /** Chunk number (Math.floor(id / CHUNK)) → chunk. */
  private readonly chunks = new Map<number, Chunk<T>>();
  /** The chunk numbers in `chunks`, ascending (for listing in id order). */
  private readonly order: number[] = [];
  private n = 0;

  get size(): number {
    return this.n;
  }

  /** Chunks held (for tests and memory accounting). */
  get chunkCount(): number {
    return this.order.length;
  }

  get(id: number): T | undefined {
    const c = this.chunks.get(Math.floor(id / CHUNK));
    if (c === undefined) return undefined;
    if (c.slots !== null) return c.slots[id % CHUNK];
    const i = search(c.ids!, id);
    return i >= 0 ? c.vals![i] : undefined;
  }

  /** Adds or replaces the value under `v.id` (a non-negative safe integer). */
  set(v: T): void {
    const id = v.id;
    if (!Number.isSafeInteger(id) || id < 0) throw new RangeError(`binding id ${id} out of range`);
    const k = Math.floor(id / CHUNK);
    let c = this.chunks.get(k);
    if (c === undefined) {
      c = new Chunk<T>();
      this.chunks.set(k, c);
      const o = this.order;
      if (o.length === 0 || o[o.length - 1] < k) o.push(k);
      else o.splice(-search(o, k) - 1, 0, k);
    }
    if (c.slots !== null) {
      const s = id % CHUNK;
      if (c.slots[s] === undefined) {
        c.count++;
        this.n++;
      }
      c.slots[s] = v;
      return;
    }
    const ids = c.ids!;
    const vals = c.vals!;
    if (ids.length === 0 || ids[ids.length - 1] < id) {
      ids.push(id); // the usual case: ids are handed out in increasing order
      vals.push(v);
    } else {
      const i = search(ids, id);
      if (i >= 0) {
        vals[i] = v;
        return;
      }
      ids.splice(-i - 1, 0, id);
      vals.splice(-i - 1, 0, v);
    }
    c.count++;
    this.n++;
    if (c.count >= TO_DENSE) toDense(c);
  }

  /** Removes the value under `id`; false if there was none. */
  delete(id: number): boolean {
    const k = Math.floor(id / CHUNK);
    const c = this.chunks.get(k);
    if (c === undefined) return false;
    if (c.slots !== null) {
      const s = id % CHUNK;
      if (c.slots[s] === undefined) return false;
      c.slots[s] = undefined;
    } else {
      const i = search(c.ids!, id);
      if (i < 0) return false;
      c.ids!.splice(i, 1);
      c.vals!.splice(i, 1);
    }
    c.count--;
    this.n--;
    if (c.count === 0) {
      this.chunks.delete(k);
      this.order.splice(search(this.order, k), 1);
    } else if (c.slots !== null && c.count < TO_SPARSE) toSparse(c);
    return true;
  }

  /** The value with the smallest id greater than `after`, if any. */
  next(after: number): T | undefined {
    const from = Math.floor(after) + 1;
    const o = this.order;
    let j = search(o, Math.floor(from / CHUNK));
    if (j < 0) j = -j - 1;
    for (; j < o.length; j++) {
      const c = this.chunks.get(o[j])!;
      if (c.slots !== null) {
        const base = o[j] * CHUNK;
        const slots = c.slots;
        for (let s = from > base ? from - base : 0; s < CHUNK; s++) if (slots[s] !== undefined) return slots[s];
      } else {
        const ids = c.ids!;
        let i = search(ids, from);
        if (i < 0) i = -i - 1;
        if (i < ids.length) return c.vals![i];
      }
    }
    return undefined;
  }

  /**
   * Values with an id greater than `after` (default: all), in id order. Safe while the index
   * changes: each step looks up the next id after the last one returned, so a value added
   * behind the cursor is not returned and one removed ahead is not.
   */
  *values(after = -1): IterableIterator<T> {
    for (let v = this.next(after); v !== undefined; v = this.next(v.id)) {
      yield v;
      // Fast path: walk the rest of a dense chunk while it stays dense (a chunk leaves the
      // dense form only by toSparse, which drops its slot array).
      const k = Math.floor(v.id / CHUNK);
      const c = this.chunks.get(k);
      const slots = c?.slots;
      if (c === undefined || slots == null) continue;
      for (let s = (v.id % CHUNK) + 1; s < CHUNK && c.slots === slots; s++) {
        const w = slots[s];
        if (w !== undefined) {
          yield w;
          v = w;
        }
      }
    }
  }
}

/** Index of `x` in ascending `a`, or -(insertion point) - 1. */
function search(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const m = a[mid];
    if (m < x) lo = mid + 1;
    else if (m > x) hi = mid - 1;
    else return mid;
  }
  return -lo - 1;
}

function toDense<T>(c: Chunk<T>): void {
  const slots = new Array<T | undefined>(CHUNK).fill(undefined);
  const ids = c.ids!;
  const vals = c.vals!;
  for (let i = 0; i < ids.length; i++) slots[ids[i] % CHUNK] = vals[i];
  c.slots = slots;
  c.ids = c.vals = null;
}

function toSparse<T extends HasId>(c: Chunk<T>): void {
  const ids: number[] = [];
  const vals: T[] = [];
  const slots = c.slots!;
  for (let s = 0; s < CHUNK; s++) {
    const v = slots[s];
    if (v !== undefined) {
      ids.push(v.id);
      vals.push(v);
    }
  }
  c.ids = ids;
  c.vals = vals;
  c.slots = null;
}
