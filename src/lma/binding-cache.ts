// The LMA binding cache (RFC 5213 §5.1): the BCEs (bce.ts) by id and the lookup indexes RFC
// 5213 §5.4.1 and RFC 5844 §3.1.2.7 need (MN-ID, HNP, IPv4 HoA, MN-ID+ATT+MN-LL-ID, Proxy-CoA),
// and one deadline heap for every BCE timer (lifetime expiry, MinDelayBeforeBCEDelete).
// Indexed fields of a BCE change only through these methods.
import { DeadlineHeap } from './deadline-heap.ts';
import type { MagPeer } from './mag-peer.ts';
import { F } from './bce-flags.ts';
import type { Bce } from './bce.ts';
import { IdIndex } from './id-index.ts';
import { hnpShard, mnShard, numShard, shards } from './sharded-map.ts';

const llKey = (mnId: string, att: number, llId: string): string => `${mnId}\u0000${att}\u0000${llId}`;
/** byV4 key: the int32 address in the default context (as before contexts), above 2^32 in another. */
const v4Key = (v4: number, ctx: number): number => (ctx === 0 ? v4 | 0 : ctx * 4294967296 + (v4 >>> 0));

export class BindingCache {
  // No index is one big Map (issue 12: a Map's doubling stalls the loop for seconds at 2^20):
  // ids in id chunks (id-index.ts), keys over hash shards (sharded-map.ts).
  /** Every BCE by id; values() lists in id (session-key) order. */
  readonly byId = new IdIndex<Bce>();
  private readonly byMn = shards<string, Bce | Bce[]>();
  private readonly byHnp = shards<string, Bce>();
  private readonly byV4 = shards<number, Bce>();
  /** Keyed by llKey (which starts with the MN-ID: sharded like byMn). */
  private readonly byLl = shards<string, Bce>();
  readonly peers = new Map<string, MagPeer>();
  /** Every BCE timer (lifetime expiry, MinDelayBeforeBCEDelete) in one heap. */
  private readonly heap = new DeadlineHeap<Bce>();
  private nextId = 1;

  get size(): number {
    return this.byId.size;
  }

  allocId(): number {
    return this.nextId++;
  }

  /** After restoring persisted bindings: never hand out an id again. */
  reserveId(id: number): void {
    if (id >= this.nextId) this.nextId = id + 1;
  }

  get(id: number): Bce | undefined {
    return this.byId.get(id);
  }

  /** The MN's BCE, or its BCEs when it has several (no allocation: for the packet path). */
  mnEntry(mnId: string): Bce | Bce[] | undefined {
    return this.byMn[mnShard(mnId)].get(mnId);
  }

  /** Every BCE of one MN (RFC 5213 §5.4: one per attached interface). */
  ofMn(mnId: string): readonly Bce[] {
    const v = this.byMn[mnShard(mnId)].get(mnId);
    return v === undefined ? EMPTY : Array.isArray(v) ? v : [v];
  }

  countOfMn(mnId: string): number {
    const v = this.byMn[mnShard(mnId)].get(mnId);
    return v === undefined ? 0 : Array.isArray(v) ? v.length : 1;
  }

  /** The only BCE of the MN, or undefined when it has none or several. */
  onlyOfMn(mnId: string): Bce | undefined {
    const v = this.byMn[mnShard(mnId)].get(mnId);
    return v === undefined || Array.isArray(v) ? undefined : v;
  }

  byPrefix(prefix: string): Bce | undefined {
    return this.byHnp[hnpShard(prefix)].get(prefix);
  }

  /** The session holding an IPv4 HoA in a routing context (default: the default context). */
  byIpv4(v4: number, ctx = 0): Bce | undefined {
    const k = v4Key(v4, ctx);
    return this.byV4[numShard(k)].get(k);
  }

  byLinkLayer(mnId: string, att: number, llId: string): Bce | undefined {
    const k = llKey(mnId, att, llId);
    return this.byLl[mnShard(k)].get(k);
  }

  *mnIds(): IterableIterator<string> {
    for (const m of this.byMn) yield* m.keys();
  }

  /** Whether this BCE object is (still) in the cache. */
  has(b: Bce): boolean {
    return (b.flags & F.LIVE) !== 0;
  }

  add(b: Bce): void {
    b.flags |= F.LIVE;
    this.byId.set(b);
    const mn = this.byMn[mnShard(b.mnId)];
    const cur = mn.get(b.mnId);
    if (cur === undefined) mn.set(b.mnId, b);
    else if (Array.isArray(cur)) cur.push(b);
    else mn.set(b.mnId, [cur, b]);
    for (const p of b.hnpList()) this.byHnp[hnpShard(p)].set(p, b);
    if (b.v4 !== 0) this.v4Index(b, true);
    if (b.llId !== null) this.llIndex(b, true);
    this.linkPeer(b, b.peer);
  }

  remove(b: Bce): void {
    if (this.byId.get(b.id) !== b) return;
    b.flags &= ~F.LIVE;
    this.byId.delete(b.id);
    const mn = this.byMn[mnShard(b.mnId)];
    const cur = mn.get(b.mnId);
    if (cur === b) mn.delete(b.mnId);
    else if (Array.isArray(cur)) {
      const i = cur.indexOf(b);
      if (i >= 0) cur.splice(i, 1);
      if (cur.length === 1) mn.set(b.mnId, cur[0]);
    }
    this.unindexHnps(b);
    if (b.v4 !== 0) this.v4Index(b, false);
    if (b.llId !== null) this.llIndex(b, false);
    this.unlinkPeer(b);
    this.heap.remove(b);
  }

  setHnps(b: Bce, hnps: string[]): void {
    this.unindexHnps(b);
    b.hnps = hnps.length === 0 ? null : hnps.length === 1 ? hnps[0] : hnps.slice();
    for (const p of hnps) this.byHnp[hnpShard(p)].set(p, b);
  }

  /** Sets the IPv4 HoA, and with `ctx` the session's routing context. */
  setIpv4(b: Bce, v4: number, ctx = b.ctx): void {
    if (b.v4 !== 0) this.v4Index(b, false);
    b.v4 = v4 | 0;
    b.ctx = ctx;
    if (b.v4 !== 0) this.v4Index(b, true);
  }

  setLinkLayer(b: Bce, att: number, llId: string | null): void {
    if (b.att === att && b.llId === llId) return;
    if (b.llId !== null) this.llIndex(b, false);
    b.att = att;
    b.llId = llId;
    if (llId !== null) this.llIndex(b, true);
  }

  private unindexHnps(b: Bce): void {
    for (const p of b.hnpList()) {
      const m = this.byHnp[hnpShard(p)];
      if (m.get(p) === b) m.delete(p);
    }
  }

  /** Enters (or, if it is this BCE's, removes) the BCE's IPv4 HoA key. */
  private v4Index(b: Bce, enter: boolean): void {
    const k = v4Key(b.v4, b.ctx);
    const m = this.byV4[numShard(k)];
    if (enter) m.set(k, b);
    else if (m.get(k) === b) m.delete(k);
  }

  /** Enters (or, if it is this BCE's, removes) the BCE's MN-ID+ATT+MN-LL-ID key. */
  private llIndex(b: Bce, enter: boolean): void {
    const k = llKey(b.mnId, b.att, b.llId!);
    const m = this.byLl[mnShard(k)];
    if (enter) m.set(k, b);
    else if (m.get(k) === b) m.delete(k);
  }

  /** Moves a BCE to another MAG (RFC 5213 §5.3.4). */
  setPeer(b: Bce, peer: MagPeer): void {
    if (b.peer === peer) return;
    this.unlinkPeer(b);
    b.peer = peer;
    this.linkPeer(b, peer);
  }

  /** Bindings at one MAG (a copy, safe to mutate the cache while iterating). */
  ofPeer(peer: MagPeer): Bce[] {
    const out: Bce[] = [];
    for (let b = peer.head; b !== null; b = b.pNext) out.push(b);
    return out;
  }

  /** Drops a peer record with no bindings and nothing outstanding. */
  maybeForgetPeer(peer: MagPeer): void {
    if (peer.count === 0 && peer.brisOutstanding === 0 && this.peers.get(peer.key) === peer) this.peers.delete(peer.key);
  }

  private linkPeer(b: Bce, peer: MagPeer): void {
    b.pPrev = null;
    b.pNext = peer.head;
    if (peer.head !== null) peer.head.pPrev = b;
    peer.head = b;
    peer.count++;
    if (!this.peers.has(peer.key)) this.peers.set(peer.key, peer);
  }

  private unlinkPeer(b: Bce): void {
    const peer = b.peer;
    if (b.pPrev !== null) b.pPrev.pNext = b.pNext;
    else if (peer.head === b) peer.head = b.pNext;
    else return; // not linked
    if (b.pNext !== null) b.pNext.pPrev = b.pPrev;
    b.pPrev = b.pNext = null;
    peer.count--;
  }

  /* ------------------------------------------------------------ deadlines */

  /** Sets (or moves) the BCE's deadline (deadline-heap.ts). */
  schedule(b: Bce, at: number): void {
    this.heap.schedule(b, at);
  }

  /** The earliest heap key (a lower bound of the earliest deadline), or Infinity. */
  nextDeadline(): number {
    return this.heap.nextDeadline();
  }

  /** Removes and returns a BCE whose deadline is <= now, if any. */
  popDue(now: number): Bce | undefined {
    return this.heap.popDue(now);
  }
}

const EMPTY: readonly Bce[] = Object.freeze([]) as readonly Bce[];
