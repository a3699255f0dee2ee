// OrderedTable: a TableView (view.ts) kept sorted by SNMP index, for the roles' views
// and the tests' fake. Index encoders for the INDEX clauses of PMIPV6-MIB.
//
// Storage is a list of sorted chunks (at most CHUNK entries each): lookups and successor
// queries are two binary searches (O(log n)); inserts and deletes move at most one chunk
// (O(sqrt n) worst case), so keeping 100,000 bindings sorted costs microseconds per change.
import type { InetAddr, TableEntry, TableView } from './view.ts';

/** Lexicographic comparison of two lists of sub-identifiers (RFC 2578 §7.7 ordering). */
export function compareIndex(a: readonly number[], b: readonly number[]): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const d = a[i] - b[i];
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

const CHUNK = 512;

interface Entry<R> extends TableEntry<R> {
  readonly index: readonly number[];
  row: R;
}

export class OrderedTable<R> implements TableView<R> {
  private chunks: Entry<R>[][] = [];
  private count = 0;
  /**
   * Finger: the position of the entry next() returned last. A walk asks for the successor of
   * exactly that entry (same index array), which is then O(1); any change invalidates it.
   */
  private fingerIndex: readonly number[] | undefined;
  private fingerChunk = 0;
  private fingerPos = 0;

  get size(): number {
    return this.count;
  }

  /** Insert or replace the row at `index` (the array is kept; do not mutate it afterwards). */
  set(index: readonly number[], row: R): void {
    this.fingerIndex = undefined;
    if (this.chunks.length === 0) {
      this.chunks.push([{ index, row }]);
      this.count = 1;
      return;
    }
    const ci = this.chunkFor(index);
    const chunk = this.chunks[ci];
    const pos = lowerBound(chunk, index);
    if (pos < chunk.length && compareIndex(chunk[pos].index, index) === 0) {
      chunk[pos].row = row;
      return;
    }
    chunk.splice(pos, 0, { index, row });
    this.count++;
    if (chunk.length > CHUNK * 2) this.chunks.splice(ci + 1, 0, chunk.splice(CHUNK));
  }

  delete(index: readonly number[]): boolean {
    this.fingerIndex = undefined;
    if (this.chunks.length === 0) return false;
    const ci = this.chunkFor(index);
    const chunk = this.chunks[ci];
    const pos = lowerBound(chunk, index);
    if (pos >= chunk.length || compareIndex(chunk[pos].index, index) !== 0) return false;
    chunk.splice(pos, 1);
    this.count--;
    if (chunk.length === 0) this.chunks.splice(ci, 1);
    return true;
  }

  get(index: readonly number[]): R | undefined {
    if (this.chunks.length === 0) return undefined;
    const chunk = this.chunks[this.chunkFor(index)];
    const pos = lowerBound(chunk, index);
    return pos < chunk.length && compareIndex(chunk[pos].index, index) === 0 ? chunk[pos].row : undefined;
  }

  next(after: readonly number[]): TableEntry<R> | undefined {
    const chunks = this.chunks;
    if (chunks.length === 0) return undefined;
    if (after === this.fingerIndex) {
      let ci = this.fingerChunk;
      let pos = this.fingerPos + 1;
      if (pos >= chunks[ci].length) {
        ci++;
        pos = 0;
      }
      return this.land(ci, pos);
    }
    // First chunk whose last index is > after.
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = chunks[mid];
      if (compareIndex(c[c.length - 1].index, after) > 0) hi = mid;
      else lo = mid + 1;
    }
    if (lo === chunks.length) return undefined;
    return this.land(lo, upperBound(chunks[lo], after));
  }

  private land(ci: number, pos: number): TableEntry<R> | undefined {
    if (ci >= this.chunks.length) {
      this.fingerIndex = undefined;
      return undefined;
    }
    const e = this.chunks[ci][pos];
    this.fingerIndex = e.index;
    this.fingerChunk = ci;
    this.fingerPos = pos;
    return e;
  }

  /** All entries in order (tests, small tables). */
  *entries(): IterableIterator<TableEntry<R>> {
    for (const c of this.chunks) yield* c;
  }

  clear(): void {
    this.chunks = [];
    this.count = 0;
    this.fingerIndex = undefined;
  }

  /** Chunk that holds `index` or where it would be inserted. */
  private chunkFor(index: readonly number[]): number {
    const chunks = this.chunks;
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = chunks[mid];
      if (compareIndex(c[c.length - 1].index, index) >= 0) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** First position whose index is >= key. */
function lowerBound<R>(chunk: Entry<R>[], key: readonly number[]): number {
  let lo = 0;
  let hi = chunk.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareIndex(chunk[mid].index, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First position whose index is > key. */
function upperBound<R>(chunk: Entry<R>[], key: readonly number[]): number {
  let lo = 0;
  let hi = chunk.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareIndex(chunk[mid].index, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---------------------------------------------------------------- index encoders

/**
 * An InetAddressType + InetAddress index pair (not IMPLIED): type, length, octets
 * (RFC 4001 §4.1, RFC 2578 §7.7).
 */
export function inetIndex(addr: InetAddr): number[] {
  const out = new Array<number>(addr.octets.length + 2);
  out[0] = addr.type;
  out[1] = addr.octets.length;
  for (let i = 0; i < addr.octets.length; i++) out[i + 2] = addr.octets[i];
  return out;
}

/** Decodes an InetAddressType + InetAddress index at `from`; undefined when malformed. */
export function parseInetIndex(index: readonly number[], from = 0): { addr: InetAddr; end: number } | undefined {
  const type = index[from];
  const len = index[from + 1];
  if (type === undefined || len === undefined || from + 2 + len > index.length) return undefined;
  const octets = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    const v = index[from + 2 + i];
    if (v > 255) return undefined;
    octets[i] = v;
  }
  return { addr: { type: type as InetAddr['type'], octets }, end: from + 2 + len };
}

/** pmip6BindingCacheTable index (mip6BindingCacheEntry: home address type and address). */
export function bindingCacheIndex(homeAddress: InetAddr): number[] {
  return inetIndex(homeAddress);
}

/** pmip6MagBLTable index (mip6MnBLEntry: home address, then the node = LMA address). */
export function bulIndex(homeAddress: InetAddr, lmaAddress: InetAddr): number[] {
  return [...inetIndex(homeAddress), ...inetIndex(lmaAddress)];
}

/** pmip6{Lma,Mag}HomeNetworkPrefixTable index: MN index, MN-LL index, prefix type and address. */
export function hnpIndex(mnIndex: number, mnLLIndex: number, prefix: InetAddr): number[] {
  return [mnIndex, mnLLIndex, ...inetIndex(prefix)];
}

/** IPv6 address text to an InetAddr (ipv6(2)), or IPv4 dotted quad to ipv4(1). */
export function inetAddr(text: string): InetAddr {
  if (text.includes(':')) return { type: 2, octets: ipv6Octets(text) };
  const parts = text.split('.').map((p) => Number(p));
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new RangeError(`not an IPv4 or IPv6 address: ${text}`);
  }
  return { type: 1, octets: Uint8Array.from(parts) };
}

function ipv6Octets(text: string): Uint8Array {
  const pct = text.indexOf('%');
  if (pct >= 0) text = text.slice(0, pct);
  let head = text;
  let tail = '';
  const dbl = text.indexOf('::');
  if (dbl >= 0) {
    head = text.slice(0, dbl);
    tail = text.slice(dbl + 2);
  }
  const toGroups = (s: string): number[] => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (g.includes('.')) {
        const v4 = inetAddr(g).octets;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new RangeError(`not an IPv6 address: ${text}`);
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const h = toGroups(head);
  const t = toGroups(tail);
  const fill = 8 - h.length - t.length;
  if (fill < 0 || (dbl < 0 && fill !== 0)) throw new RangeError(`not an IPv6 address: ${text}`);
  const groups = [...h, ...new Array<number>(fill).fill(0), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}
