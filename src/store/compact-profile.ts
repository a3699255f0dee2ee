// A profile as the profile directory holds it (issue 12: the directory keeps every provisioned
// MN in memory, so its entry is a large part of what a binding costs at 1,000,000 MNs).
//
// A Profile object is about 480 bytes on a 64-bit V8: twenty fields (~184 B), two Date objects
// (96 B each, plus a boxed double each) and a one-element array for the HNP. The compact entry
// keeps only what differs from MN to MN in its own fields (~90 B):
// - the MN-ID and the HNP strings are the very strings the binding cache keys by (one copy);
// - one HNP is held as the string itself, several as an array, none as null;
// - the IPv4 HoA and the MN link-layer identifiers, which few profiles have, in a record of their
//   own, null while both are unset;
// - the two times are split into small integers (ms = hi * 2^30 + lo, both his in one field; V8
//   keeps them in the object, where an epoch-millisecond double is a separate heap number);
// - the fields most MNs share (pools, LMA, service selection, GRE key policy, DHCP servers,
//   IPv4 prefix length and default router, interface identifier, feature vector, enabled) sit in
//   one shared, frozen record per distinct combination, interned in a bounded table.
// `expand` gives a Profile again: a fresh object per call whose arrays and strings are those
// of the profile packed (shared: callers must not modify them).
import type { GreKeyPolicy, Profile } from '../policy/profile.ts';

/** The fields most profiles share (one frozen record per distinct combination). */
interface Shared {
  readonly hnpPool: string | null;
  readonly ipv4PrefixLength: number | null;
  readonly ipv4Pool: string | null;
  readonly ipv4DefaultRouter: string | null;
  readonly lma: string | null;
  readonly lmaGroup: string | null;
  readonly serviceSelection: string | null;
  readonly greKeyPolicy: GreKeyPolicy;
  readonly dhcpv4Server: string | null;
  readonly dhcpv6Server: string | null;
  /** undefined: the profile had no such property (it is optional in Profile). */
  readonly interfaceId: string | null | undefined;
  readonly mip6FeatureVector: bigint;
  readonly enabled: boolean;
}

/** What few profiles have (an IPv4 HoA, MN link-layer identifiers): null in the entry while both are unset. */
interface Rare {
  readonly ipv4HoA: string | null;
  readonly mnLinkLayerIds: string[];
}

const SPLIT = 1073741824; // 2^30: ms = hi * 2^30 + lo, lo a small integer
const HI_BITS = 15; // two his in one small integer: 0 <= hi < 2^15, i.e. dates from 1970 to the year 3084
const HI_MAX = 1 << HI_BITS;
const NO_STRINGS: string[] = Object.freeze([]) as unknown as string[];

/**
 * One profile in ~90 bytes (see the file comment). Immutable. It reads as a Profile too
 * (getters; the dates and the HNP list are made when read): hot paths that only read a few
 * fields use it as it is (ProfileDirectory.peekView), everything else gets `expand`.
 */
export class CompactProfile implements Profile {
  /** cHi | uHi << 15, or -1 when a date is outside 1970..3084 (cLo / uLo then hold the whole ms). */
  private readonly his: number;
  private readonly cLo: number;
  private readonly uLo: number;
  constructor(
    readonly id: number,
    readonly mnId: string,
    /** One HNP, several, or none. */
    readonly hnp: string | readonly string[] | null,
    private readonly rare: Rare | null,
    readonly shared: Shared,
    createdMs: number,
    updatedMs: number,
  ) {
    const cHi = Math.floor(createdMs / SPLIT);
    const uHi = Math.floor(updatedMs / SPLIT);
    if (cHi >= 0 && cHi < HI_MAX && uHi >= 0 && uHi < HI_MAX) {
      this.his = cHi | (uHi << HI_BITS);
      // `| 0` (0 <= lo < 2^30): V8 keeps the result of double arithmetic as a boxed double even when integral.
      this.cLo = (createdMs - cHi * SPLIT) | 0;
      this.uLo = (updatedMs - uHi * SPLIT) | 0;
    } else {
      this.his = -1;
      this.cLo = createdMs;
      this.uLo = updatedMs;
    }
  }

  get ipv4HoA(): string | null {
    return this.rare === null ? null : this.rare.ipv4HoA;
  }
  get mnLinkLayerIds(): string[] {
    return this.rare === null ? NO_STRINGS : this.rare.mnLinkLayerIds;
  }
  get hnps(): string[] {
    const h = this.hnp;
    return h === null ? [] : typeof h === 'string' ? [h] : (h as string[]);
  }
  get hnpPool(): string | null {
    return this.shared.hnpPool;
  }
  get ipv4PrefixLength(): number | null {
    return this.shared.ipv4PrefixLength;
  }
  get ipv4Pool(): string | null {
    return this.shared.ipv4Pool;
  }
  get ipv4DefaultRouter(): string | null {
    return this.shared.ipv4DefaultRouter;
  }
  get lma(): string | null {
    return this.shared.lma;
  }
  get lmaGroup(): string | null {
    return this.shared.lmaGroup;
  }
  get serviceSelection(): string | null {
    return this.shared.serviceSelection;
  }
  get greKeyPolicy(): GreKeyPolicy {
    return this.shared.greKeyPolicy;
  }
  get dhcpv4Server(): string | null {
    return this.shared.dhcpv4Server;
  }
  get dhcpv6Server(): string | null {
    return this.shared.dhcpv6Server;
  }
  get interfaceId(): string | null | undefined {
    return this.shared.interfaceId;
  }
  get mip6FeatureVector(): bigint {
    return this.shared.mip6FeatureVector;
  }
  get enabled(): boolean {
    return this.shared.enabled;
  }
  get createdAt(): Date {
    return new Date(this.createdMs);
  }
  get updatedAt(): Date {
    return new Date(this.updatedMs);
  }

  get createdMs(): number {
    return this.his < 0 ? this.cLo : (this.his & (HI_MAX - 1)) * SPLIT + this.cLo;
  }

  get updatedMs(): number {
    return this.his < 0 ? this.uLo : (this.his >>> HI_BITS) * SPLIT + this.uLo;
  }
}

/**
 * Interns the shared records: every profile with the same pools, LMA, features... points at one
 * record. Bounded: past `max` distinct combinations new ones are kept per profile, uninterned.
 */
export class ProfilePacker {
  private readonly table = new Map<string, Shared>();
  constructor(private readonly max = 4096) {}

  /** Distinct shared records held. */
  get sharedRecords(): number {
    return this.table.size;
  }

  clear(): void {
    this.table.clear();
  }

  pack(p: Profile): CompactProfile {
    const h = p.hnps;
    const hnps = h.length === 0 ? null : h.length === 1 ? h[0] : h;
    const rare = p.ipv4HoA === null && p.mnLinkLayerIds.length === 0 ? null : Object.freeze({ ipv4HoA: p.ipv4HoA, mnLinkLayerIds: p.mnLinkLayerIds.length === 0 ? NO_STRINGS : p.mnLinkLayerIds });
    return new CompactProfile(p.id, p.mnId, hnps, rare, this.shared(p), p.createdAt.getTime(), p.updatedAt.getTime());
  }

  private shared(p: Profile): Shared {
    const key = [
      p.hnpPool, p.ipv4PrefixLength, p.ipv4Pool, p.ipv4DefaultRouter, p.lma, p.lmaGroup, p.serviceSelection, p.greKeyPolicy,
      p.dhcpv4Server, p.dhcpv6Server, p.interfaceId === undefined ? '\u0001' : p.interfaceId, p.mip6FeatureVector, p.enabled,
    ].map((v) => (v === null ? '\u0000' : String(v))).join('\u0002');
    const have = this.table.get(key);
    if (have !== undefined) return have;
    const s: Shared = Object.freeze({
      hnpPool: p.hnpPool, ipv4PrefixLength: p.ipv4PrefixLength, ipv4Pool: p.ipv4Pool, ipv4DefaultRouter: p.ipv4DefaultRouter,
      lma: p.lma, lmaGroup: p.lmaGroup, serviceSelection: p.serviceSelection, greKeyPolicy: p.greKeyPolicy,
      dhcpv4Server: p.dhcpv4Server, dhcpv6Server: p.dhcpv6Server, interfaceId: p.interfaceId,
      mip6FeatureVector: p.mip6FeatureVector, enabled: p.enabled,
    });
    if (this.table.size < this.max) this.table.set(key, s);
    return s;
  }
}

/** The Profile again (a fresh object; its arrays and strings are shared: do not modify them). */
export function expand(e: CompactProfile): Profile {
  const s = e.shared;
  const h = e.hnp;
  const p: Profile = {
    id: e.id,
    mnId: e.mnId,
    mnLinkLayerIds: e.mnLinkLayerIds,
    hnps: h === null ? [] : typeof h === 'string' ? [h] : (h as string[]),
    hnpPool: s.hnpPool,
    ipv4HoA: e.ipv4HoA,
    ipv4PrefixLength: s.ipv4PrefixLength,
    ipv4Pool: s.ipv4Pool,
    ipv4DefaultRouter: s.ipv4DefaultRouter,
    lma: s.lma,
    lmaGroup: s.lmaGroup,
    serviceSelection: s.serviceSelection,
    greKeyPolicy: s.greKeyPolicy,
    dhcpv4Server: s.dhcpv4Server,
    dhcpv6Server: s.dhcpv6Server,
    interfaceId: s.interfaceId,
    mip6FeatureVector: s.mip6FeatureVector,
    enabled: s.enabled,
    createdAt: new Date(e.createdMs),
    updatedAt: new Date(e.updatedMs),
  };
  if (s.interfaceId !== undefined) return p;
  const { interfaceId: _, ...without } = p; // the profile had no such property
  return without;
}
