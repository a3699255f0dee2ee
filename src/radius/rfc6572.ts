// RFC 6572 mapping: policy profile → Access-Accept attributes (server side) and
// Access-Accept / CoA attributes → typed profile (client and DAE side). Pure.
import { FeatureVector, allowsIpv4, allowsIpv6, type Profile } from '../policy/profile.ts';
import type { AttrWriter } from './attrs.ts';
import type { Packet } from './codec.ts';
import { Attr } from './constants.ts';
import {
  decodeInteger,
  decodeInteger64,
  decodeIpv4PrefixValue,
  decodeIpv6PrefixValue,
  formatIfid,
  formatIpv4,
  formatIpv6,
  formatIpv6Prefix,
  parseIpv4,
  parseIpv6,
} from './values.ts';

/**
 * The profile fields the RADIUS server reads. `interfaceId` (RFC 6572 §4.10, attribute 153) is
 * not in the shared Profile type yet; a policy may supply it.
 */
export type RadiusProfile = Profile & { interfaceId?: string | null };

// ------------------------------------------------------------------ feature vector (§4.1)

const FV = FeatureVector;

/** RFC 6572 §4.1: IP4_HOA_ONLY requires PMIP6 and excludes IP4_HOA. Returns why, or null. */
export function contradictoryFeatureVector(fv: bigint): string | null {
  if (fv & FV.IP4_HOA_ONLY_SUPPORTED) {
    if (!(fv & FV.PMIP6_SUPPORTED)) return 'IP4_HOA_ONLY_SUPPORTED without PMIP6_SUPPORTED';
    if (fv & FV.IP4_HOA_SUPPORTED) return 'IP4_HOA_ONLY_SUPPORTED together with IP4_HOA_SUPPORTED';
  }
  return null;
}

/**
 * The profile's authorised vector. A profile with no vector set (0) authorises what it
 * provisions: PMIPv6, plus IPv4 HoA (dual stack) or IPv4 only, from allowsIpv6/allowsIpv4.
 */
export function effectiveFeatureVector(p: RadiusProfile): bigint {
  if (p.mip6FeatureVector !== 0n) return p.mip6FeatureVector;
  const v6 = allowsIpv6(p);
  const v4 = allowsIpv4(p);
  if (!v6 && !v4) return 0n;
  if (v4 && !v6) return FV.PMIP6_SUPPORTED | FV.IP4_HOA_ONLY_SUPPORTED;
  return v4 ? FV.PMIP6_SUPPORTED | FV.IP4_HOA_SUPPORTED : FV.PMIP6_SUPPORTED;
}

export interface ServiceDecision {
  /** Authorised MIP6-Feature-Vector to return, or null to send none. */
  featureVector: bigint | null;
  ipv6: boolean;
  ipv4: boolean;
}

/**
 * Decide the authorised capabilities (RFC 5447 §4.2.5: bits announced by both sides are
 * mutually supported; RFC 5779 §5.2: PMIP6_SUPPORTED set in the answer = authorised).
 * Without a requested vector the profile's vector is returned as is.
 */
export function decideService(requested: bigint | undefined, p: RadiusProfile): { ok: true; decision: ServiceDecision } | { ok: false; reason: string } {
  if (requested !== undefined) {
    const why = contradictoryFeatureVector(requested);
    if (why) return { ok: false, reason: `contradictory MIP6-Feature-Vector in request: ${why}` };
  }
  const pfv = effectiveFeatureVector(p);
  const pwhy = contradictoryFeatureVector(pfv);
  if (pwhy) return { ok: false, reason: `profile MIP6-Feature-Vector is contradictory: ${pwhy}` };
  const answer = requested === undefined ? pfv : requested & pfv;
  if (requested !== undefined && requested & FV.PMIP6_SUPPORTED && !(answer & FV.PMIP6_SUPPORTED)) {
    return { ok: false, reason: 'PMIPv6 service not authorised for this MN' };
  }
  const v4only = (answer & FV.IP4_HOA_ONLY_SUPPORTED) !== 0n;
  if (v4only && !allowsIpv4(p)) return { ok: false, reason: 'IPv4-only service without an IPv4 home address' };
  const ipv4 = allowsIpv4(p) && (requested === undefined || (answer & (FV.IP4_HOA_SUPPORTED | FV.IP4_HOA_ONLY_SUPPORTED)) !== 0n);
  return {
    ok: true,
    // §4.1: with IP4_HOA_ONLY the Accept SHOULD NOT carry an IPv6 HNP.
    decision: { featureVector: requested === undefined && pfv === 0n ? null : answer, ipv6: !v4only, ipv4 },
  };
}

/** Service-Selection check (RFC 5149 names; compared after NFKC normalisation, RFC 6572 §4.3). */
export function serviceAllowed(requested: string | undefined, p: RadiusProfile): boolean {
  if (requested === undefined) return true;
  if (p.serviceSelection === null) return false;
  return requested === p.serviceSelection || requested.normalize('NFKC') === p.serviceSelection.normalize('NFKC');
}

function ipFamily(s: string): 4 | 6 | 0 {
  if (parseIpv4(s)) return 4;
  if (parseIpv6(s)) return 6;
  return 0;
}

// ------------------------------------------------------------------ profile → Accept

/**
 * Access-Accept attributes for a MAG (RFC 6572 §5.2 table): 145, 146, 147|149 (LMA by
 * family; an FQDN cannot be carried: no RADIUS attribute exists, aaa-mib.md §7.4), 151 per HNP,
 * 153, 155, 157, 159, 161, 124. Returns warnings for profile data that could not be sent.
 */
export function writeMagAccept(w: AttrWriter, p: RadiusProfile, d: ServiceDecision): string[] {
  const warnings: string[] = [];
  w.text(Attr.MobileNodeIdentifier, p.mnId);
  if (p.serviceSelection) w.text(Attr.ServiceSelection, p.serviceSelection);
  if (p.lma) {
    const fam = ipFamily(p.lma);
    if (fam === 6) w.ipv6(Attr.Pmip6HomeLmaIpv6Address, p.lma);
    else if (fam === 4) w.ipv4(Attr.Pmip6HomeLmaIpv4Address, p.lma);
    else warnings.push(`LMA '${p.lma}' is not an IP address; RADIUS has no LMA FQDN attribute`);
  }
  writeAddressing(w, p, d, true);
  if (d.ipv4 && p.dhcpv4Server) w.ipv4(Attr.Pmip6HomeDhcp4ServerAddress, p.dhcpv4Server);
  if (d.ipv6 && p.dhcpv6Server) w.ipv6(Attr.Pmip6HomeDhcp6ServerAddress, p.dhcpv6Server);
  if (d.featureVector !== null) w.integer64(Attr.Mip6FeatureVector, d.featureVector);
  return warnings;
}

/** 151 per HNP, 153, 155, 161 (shared by the MAG and LMA interfaces). */
function writeAddressing(w: AttrWriter, p: RadiusProfile, d: ServiceDecision, withHnps: boolean): void {
  if (d.ipv6 && withHnps) for (const h of p.hnps) w.ipv6Prefix(Attr.Pmip6HomeHnPrefix, h);
  if (p.interfaceId) w.ifid(Attr.Pmip6HomeInterfaceId, p.interfaceId);
  if (d.ipv4 && p.ipv4HoA) {
    w.ipv4Prefix(Attr.Pmip6HomeIpv4HoA, p.ipv4HoA, p.ipv4PrefixLength ?? 32, true);
    if (p.ipv4DefaultRouter) w.ipv4(Attr.Pmip6HomeIpv4Gateway, p.ipv4DefaultRouter);
  }
}

/**
 * Access-Accept attributes for an LMA authorisation (RFC 6572 §6.2 table): 146, 151 per HNP,
 * 153, 155, 161, 124. §4.8/§4.12: the Accept MUST carry 151/155 if the request had them.
 */
export function writeLmaAccept(w: AttrWriter, p: RadiusProfile, d: ServiceDecision): void {
  if (p.serviceSelection) w.text(Attr.ServiceSelection, p.serviceSelection);
  writeAddressing(w, p, d, true);
  if (d.featureVector !== null) w.integer64(Attr.Mip6FeatureVector, d.featureVector);
}

// ------------------------------------------------------------------ Accept → typed profile

export interface Ipv4HoA {
  address: string;
  prefixLength: number;
}

/** The profile as a MAG or LMA learns it from an Access-Accept or CoA-Request. */
export interface AaaProfile {
  /** Mobile-Node-Identifier (145): the MAG MUST use it in the PBU when present (§4.2). */
  mnId: string | null;
  serviceSelection: string | null;
  homeLmaIpv6: string | null;
  homeLmaIpv4: string | null;
  visitedLmaIpv6: string | null;
  visitedLmaIpv4: string | null;
  /** Home network prefixes "2001:db8:1::/64" (151). */
  hnps: string[];
  visitedHnps: string[];
  interfaceId: string | null;
  visitedInterfaceId: string | null;
  ipv4HoA: Ipv4HoA | null;
  visitedIpv4HoA: Ipv4HoA | null;
  dhcp4Server: string | null;
  visitedDhcp4Server: string | null;
  dhcp6Server: string | null;
  visitedDhcp6Server: string | null;
  ipv4Gateway: string | null;
  visitedIpv4Gateway: string | null;
  featureVector: bigint | null;
  sessionTimeout: number | null;
  /** Class (25), to be echoed in accounting (RFC 2865 §5.25). */
  class: Buffer | null;
  cui: Buffer | null;
}

export type ProfileParseError = { attribute: number; reason: string };

/** A profile with nothing in it, filled by the RADIUS (below) and Diameter (RFC 5779) parsers. */
export function emptyAaaProfile(): AaaProfile {
  return {
    mnId: null, serviceSelection: null, homeLmaIpv6: null, homeLmaIpv4: null, visitedLmaIpv6: null,
    visitedLmaIpv4: null, hnps: [], visitedHnps: [], interfaceId: null, visitedInterfaceId: null,
    ipv4HoA: null, visitedIpv4HoA: null, dhcp4Server: null, visitedDhcp4Server: null, dhcp6Server: null,
    visitedDhcp6Server: null, ipv4Gateway: null, visitedIpv4Gateway: null, featureVector: null,
    sessionTimeout: null, class: null, cui: null,
  };
}

/** The LMA address a MAG should use: home IPv6, home IPv4, then visited (RFC 6572 §5.1). */
export function preferredLma(p: AaaProfile): string | null {
  return p.homeLmaIpv6 ?? p.homeLmaIpv4 ?? p.visitedLmaIpv6 ?? p.visitedLmaIpv4;
}

/**
 * Parse RFC 6572 attributes. Malformed values of these attributes fail the whole parse: a
 * client must not act on a half-understood profile. A contradictory MIP6-Feature-Vector in an
 * Accept MUST be treated as a Reject (§4.1): reported as an error too.
 */
export function parseProfile(pkt: Pick<Packet, 'attributes'>): { ok: true; profile: AaaProfile } | { ok: false; error: ProfileParseError } {
  const p = emptyAaaProfile();
  const bad = (attribute: number, reason: string) => ({ ok: false as const, error: { attribute, reason } });
  for (const { type, value: v } of pkt.attributes) {
    switch (type) {
      case Attr.MobileNodeIdentifier: p.mnId = v.toString('utf8'); break;
      case Attr.ServiceSelection: p.serviceSelection = v.toString('utf8'); break;
      case Attr.Pmip6HomeLmaIpv6Address:
      case Attr.Pmip6VisitedLmaIpv6Address:
      case Attr.Pmip6HomeDhcp6ServerAddress:
      case Attr.Pmip6VisitedDhcp6ServerAddress: {
        if (v.length !== 16) return bad(type, 'ipv6addr must be 16 octets');
        const a = formatIpv6(v);
        if (type === Attr.Pmip6HomeLmaIpv6Address) p.homeLmaIpv6 = a;
        else if (type === Attr.Pmip6VisitedLmaIpv6Address) p.visitedLmaIpv6 = a;
        else if (type === Attr.Pmip6HomeDhcp6ServerAddress) p.dhcp6Server = a;
        else p.visitedDhcp6Server = a;
        break;
      }
      case Attr.Pmip6HomeLmaIpv4Address:
      case Attr.Pmip6VisitedLmaIpv4Address:
      case Attr.Pmip6HomeDhcp4ServerAddress:
      case Attr.Pmip6VisitedDhcp4ServerAddress:
      case Attr.Pmip6HomeIpv4Gateway:
      case Attr.Pmip6VisitedIpv4Gateway: {
        if (v.length !== 4) return bad(type, 'ipv4addr must be 4 octets');
        const a = formatIpv4(v);
        if (type === Attr.Pmip6HomeLmaIpv4Address) p.homeLmaIpv4 = a;
        else if (type === Attr.Pmip6VisitedLmaIpv4Address) p.visitedLmaIpv4 = a;
        else if (type === Attr.Pmip6HomeDhcp4ServerAddress) p.dhcp4Server = a;
        else if (type === Attr.Pmip6VisitedDhcp4ServerAddress) p.visitedDhcp4Server = a;
        else if (type === Attr.Pmip6HomeIpv4Gateway) p.ipv4Gateway = a;
        else p.visitedIpv4Gateway = a;
        break;
      }
      case Attr.Pmip6HomeHnPrefix:
      case Attr.Pmip6VisitedHnPrefix: {
        const r = decodeIpv6PrefixValue(v);
        if (!r.ok) return bad(type, r.error);
        (type === Attr.Pmip6HomeHnPrefix ? p.hnps : p.visitedHnps).push(formatIpv6Prefix(r.addr, r.length));
        break;
      }
      case Attr.Pmip6HomeInterfaceId:
      case Attr.Pmip6VisitedInterfaceId:
        if (v.length !== 8) return bad(type, 'ifid must be 8 octets');
        if (type === Attr.Pmip6HomeInterfaceId) p.interfaceId = formatIfid(v);
        else p.visitedInterfaceId = formatIfid(v);
        break;
      case Attr.Pmip6HomeIpv4HoA:
      case Attr.Pmip6VisitedIpv4HoA: {
        const r = decodeIpv4PrefixValue(v, true);
        if (!r.ok) return bad(type, r.error);
        const hoa = { address: formatIpv4(r.addr), prefixLength: r.length };
        if (type === Attr.Pmip6HomeIpv4HoA) p.ipv4HoA = hoa;
        else p.visitedIpv4HoA = hoa;
        break;
      }
      case Attr.Mip6FeatureVector: {
        const n = decodeInteger64(v);
        if (n === null) return bad(type, 'MIP6-Feature-Vector must be 8 octets');
        const why = contradictoryFeatureVector(n);
        if (why) return bad(type, `contradictory feature vector: ${why}`);
        p.featureVector = n;
        break;
      }
      case Attr.SessionTimeout: {
        const n = decodeInteger(v);
        if (n === null) return bad(type, 'Session-Timeout must be 4 octets');
        p.sessionTimeout = n;
        break;
      }
      case Attr.Class: p.class = Buffer.from(v); break;
      case Attr.ChargeableUserIdentity: p.cui = Buffer.from(v); break;
      default: break;
    }
  }
  return { ok: true, profile: p };
}
