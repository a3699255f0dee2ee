// The LMA Binding Cache entry (RFC 5213 §5.1, RFC 5844 §3.1.1/§4.1.1, RFC 5845 §5.1) in a
// compact form; the cache of them with its lookup indexes and deadline heap is binding-cache.ts.
//
// Memory: a BCE is one object with small-integer fields where possible (sequence number,
// Handoff Indicator and ATT share one); one HNP is kept as a string (the same string is the
// index key), several as an array; IPv4 addresses are int32; the MAG and the tunnel are shared
// records; a MAG's bindings form an intrusive list through the BCEs; fields most bindings leave
// at their defaults (IPv4 HoA, prefix length and router, MAG link-local address, GRE keys) live
// in a record of their own, made on the first non-default value. Indexed fields change only through BindingCache methods.
import { MagPeer } from './mag-peer.ts';
import { F } from './bce-flags.ts';

export { MagPeer };
export { F };
// The cache of BCEs and its indexes (binding-cache.ts), exported here too: one import for both.
export { BindingCache } from './binding-cache.ts';

/** A shared tunnel in the data plane, reference-counted by the BCEs using it (RFC 5213 §5.6.1). */
export interface TunnelRef {
  key: string;
  encap: string;
  local: string;
  remote: string;
  greKeyIn: number | undefined;
  greKeyOut: number | undefined;
  refs: number;
  /** Resolves to the data plane's tunnel id; rejects if creation failed. */
  id: Promise<string>;
  /** The id once known (for synchronous reads). */
  resolved: string | null;
}

/**
 * Clock times in a BCE: ms relative to T0 (0 stays 0: "never"). Within about 24 days of T0 the
 * offset is a small integer (a V8 Smi, stored in the object); further away, or fractional, it
 * is still exact, just boxed like any other double (and V8 then boxes that field in every BCE:
 * the memory saving is gone, nothing else changes).
 */
const T0 = Date.now();
const at = (ms: number): number => {
  if (ms === 0) return 0;
  const d = ms > T0 ? ms - T0 : ms - T0 - 1;
  return d === (d | 0) ? d | 0 : d; // `| 0`: an int32 result, which V8 stores as a Smi (not as a boxed 5.0)
};
const TS_SPLIT = 1073741824; // 2^30
const time = (off: number): number => (off === 0 ? 0 : off > 0 ? off + T0 : off + T0 + 1);

/**
 * The part of a BCE that most bindings leave at its defaults (IPv6-only sessions without GRE
 * keys or a link-local address option): held apart, so such a BCE is 48 bytes smaller. A session
 * with an IPv4 HoA has its prefix length and router here too, so the HoA costs it nothing more.
 */
class BceExtra {
  v4 = 0;
  v4Len = 0;
  v4Router = 0;
  lla: string | null = null;
  greUp = 0;
  greDown = 0;
  ctx = 0;
}

export class Bce {
  /** Previous/next BCE at the same MAG. */
  pPrev: Bce | null = null;
  pNext: Bce | null = null;
  /** Position in the deadline heap, -1 when not in it. */
  heapIdx = -1;
  // Clock times (ms) are held as offsets from T0 (see `at` / `time`): small integers that V8
  // keeps in the object itself, where an epoch-millisecond value takes a boxed double each.
  private dl = 0;
  private hk = 0;
  private reg = 0;
  private ref = 0;
  private exp = 0;
  private pol = 0;
  /** When the deadline fires (ms, clock time): lifetime expiry or the end of MinDelayBeforeBCEDelete. */
  get deadline(): number {
    return time(this.dl);
  }
  set deadline(v: number) {
    this.dl = at(v);
  }
  /** The key the heap orders this BCE by (<= deadline, see schedule()). */
  get heapKey(): number {
    return time(this.hk);
  }
  set heapKey(v: number) {
    this.hk = at(v);
  }
  /** One HNP (string), several (array), or none. Canonical "2001:db8:1:1::/64". */
  hnps: string | string[] | null = null;
  /** IPv4 HoA as int32 (0 = none) (RFC 5844 §3.1.1). */
  get v4(): number {
    return this.x === null ? 0 : this.x.v4;
  }
  set v4(v: number) {
    if (this.x !== null || v !== 0) this.extra().v4 = v;
  }
  /** Fields most bindings leave at their defaults (see BceExtra), null while they all are. */
  private x: BceExtra | null = null;
  private extra(): BceExtra {
    return (this.x ??= new BceExtra());
  }
  /** IPv4 home network prefix length and default router (int32) (RFC 5844 §3.1.1). */
  get v4Len(): number {
    return this.x === null ? 0 : this.x.v4Len;
  }
  set v4Len(v: number) {
    if (this.x !== null || v !== 0) this.extra().v4Len = v;
  }
  get v4Router(): number {
    return this.x === null ? 0 : this.x.v4Router;
  }
  set v4Router(v: number) {
    if (this.x !== null || v !== 0) this.extra().v4Router = v;
  }
  /**
   * Routing context of the session's addresses: 0 the default, else 1 + the index of the MN's
   * service in LmaConfig.addressContexts. The IPv4 HoA is unique within a context only (RFC 5845 §1).
   */
  get ctx(): number {
    return this.x === null ? 0 : this.x.ctx;
  }
  set ctx(v: number) {
    if (this.x !== null || v !== 0) this.extra().ctx = v;
  }
  /** MAG link-local address on the MN's link (RFC 5213 §5.1). */
  get lla(): string | null {
    return this.x === null ? null : this.x.lla;
  }
  set lla(v: string | null) {
    if (this.x !== null || v !== null) this.extra().lla = v;
  }
  // Last accepted PBU timestamp (RFC 5213 §8.8 raw value as a number, ~2^48 today: NTP seconds
  // << 16), split as tsHi * 2^30 + tsLo: two small integers in the object (for any value below
  // 2^61), where the number itself would be a boxed double (16 bytes more per BCE). Exact for any
  // value (both halves are integers below 2^53); from 2^61 on V8 boxes tsHi: only memory changes.
  private tsHi = 0;
  private tsLo = 0;
  /** Last accepted PBU timestamp (RFC 5213 §8.8 raw value as a number), 0 in sequence-number mode. */
  get ts(): number {
    return this.tsHi * TS_SPLIT + this.tsLo;
  }
  set ts(v: number) {
    const hi = Math.floor(v / TS_SPLIT);
    // `| 0` where the value is an int32: V8 stores the result of double arithmetic as a (boxed)
    // double even when it is integral.
    this.tsHi = hi === (hi | 0) ? hi | 0 : hi;
    this.tsLo = (v - hi * TS_SPLIT) | 0; // 0 <= lo < 2^30
  }
  /**
   * Sequence number (16 bits, RFC 6275 §6.1.7), Handoff Indicator (8 bits, RFC 5213 §8.3) and
   * Access Technology Type (8 bits, RFC 5213 §8.4) in one small integer: seq | att << 16 | hi << 24.
   */
  private sah = 0;
  get seq(): number {
    return this.sah & 0xffff;
  }
  set seq(v: number) {
    this.sah = (this.sah & ~0xffff) | (v & 0xffff);
  }
  get att(): number {
    return (this.sah >>> 16) & 0xff;
  }
  set att(v: number) {
    this.sah = (this.sah & ~0xff0000) | ((v & 0xff) << 16);
  }
  get hi(): number {
    return this.sah >>> 24;
  }
  set hi(v: number) {
    this.sah = (this.sah & 0xffffff) | ((v & 0xff) << 24);
  }
  lifetime = 0;
  get registeredAt(): number {
    return time(this.reg);
  }
  set registeredAt(v: number) {
    this.reg = at(v);
  }
  get refreshedAt(): number {
    return time(this.ref);
  }
  set refreshedAt(v: number) {
    this.ref = at(v);
  }
  get expiresAt(): number {
    return time(this.exp);
  }
  set expiresAt(v: number) {
    this.exp = at(v);
  }
  /** When the policy bits were last checked against the profile (0: never). */
  get policyAt(): number {
    return time(this.pol);
  }
  set policyAt(v: number) {
    this.pol = at(v);
  }
  flags = 0;
  /** RFC 5845 keys as int32 (uplink chosen by us, downlink by the MAG). */
  get greUp(): number {
    return this.x === null ? 0 : this.x.greUp;
  }
  set greUp(v: number) {
    if (this.x !== null || v !== 0) this.extra().greUp = v;
  }
  get greDown(): number {
    return this.x === null ? 0 : this.x.greDown;
  }
  set greDown(v: number) {
    if (this.x !== null || v !== 0) this.extra().greDown = v;
  }
  tunnel: TunnelRef | null = null;
  constructor(
    readonly id: number,
    readonly mnId: string,
    /** MN-LL-ID hex ("02:00:00:00:00:01"), null = ALL_ZERO (RFC 5213 §5.1). */
    public llId: string | null,
    att: number,
    public peer: MagPeer,
  ) {
    this.att = att;
  }

  get sessionKey(): string {
    return String(this.id);
  }

  hnpList(): string[] {
    const h = this.hnps;
    return h === null ? [] : typeof h === 'string' ? [h] : h;
  }

  hnpCount(): number {
    const h = this.hnps;
    return h === null ? 0 : typeof h === 'string' ? 1 : h.length;
  }

  hasHnp(p: string): boolean {
    const h = this.hnps;
    return h === null ? false : typeof h === 'string' ? h === p : h.includes(p);
  }
}
