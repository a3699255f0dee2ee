// RFC 5779 mapping: the policy profile ⇄ PMIPv6 AVPs. Server side: the answer to a MAG (§4.1,
// §7.1) and to an LMA (§4.2, §7.2). Client side: an answer → the profile a MAG or LMA acts on
// (the same AaaProfile the RADIUS client yields, so the MAG and LMA wiring is shared). Pure.
//
// Choices where RFC 5779 leaves room (see README.md):
// - one MIP6-Agent-Info per home network prefix (RFC 5447 §4.2.1 allows several instances; a
//   MIP6-Agent-Info holds one MIP6-Home-Link-Prefix), each naming the LMA: MIP-Home-Agent-Address
//   for an IP address, MIP-Home-Agent-Host for an FQDN (RFC 5447 §4.2.3), the all-zero address
//   when the profile names no LMA (§5.1: the receiver ignores it);
// - Service-Selection in the MAG's answer (§5.8 text; the §7.1 table says 0) and a
//   Service-Configuration pairing it with the LMA (§5.9);
// - to the LMA, MIP-Home-Agent-Address is all zeros and MIP-Home-Agent-Host absent (§4.2.2).
import { Avp } from './constants.ts';
import { decodeGrouped, findAll, findAvp, type AvpWriter, type RawAvp } from './codec.ts';
import { decAddress, decHomeLinkPrefix, decU32, decU64, decUtf8, encAddress, encHomeLinkPrefix } from './values.ts';
import { contradictoryFeatureVector, emptyAaaProfile, type AaaProfile, type ProfileParseError, type RadiusProfile, type ServiceDecision } from '../radius/rfc6572.ts';
import { parseIpv4, parseIpv6 } from '../radius/values.ts';

const ZERO6 = encAddress('::')!;
const ZERO4 = encAddress('0.0.0.0')!;

function ipFamily(s: string): 4 | 6 | 0 {
  if (parseIpv4(s)) return 4;
  if (parseIpv6(s)) return 6;
  return 0;
}

/** MIP-Home-Agent-Host (RFC 4004 §7.11): {Destination-Realm}{Destination-Host}; the realm is the FQDN's domain. */
function writeAgentHost(w: AvpWriter, fqdn: string, realm: string): void {
  const dot = fqdn.indexOf('.');
  const r = dot > 0 && dot < fqdn.length - 1 ? fqdn.slice(dot + 1) : realm;
  w.group(Avp.MipHomeAgentHost, (g) => g.utf8(Avp.DestinationRealm, r).utf8(Avp.DestinationHost, fqdn));
}

/** MIP6-Agent-Info for one HNP (or none) towards a MAG (RFC 5447 §4.2.1 + RFC 5779 §5.1). */
function writeAgentInfo(w: AvpWriter, p: RadiusProfile, hnp: string | null, v4: boolean, realm: string): void {
  w.group(Avp.Mip6AgentInfo, (g) => {
    const lma = p.lma;
    const fam = lma ? ipFamily(lma) : 0;
    if (lma && fam) g.octets(Avp.MipHomeAgentAddress, encAddress(lma)!);
    else if (lma) writeAgentHost(g, lma, realm);
    else g.octets(Avp.MipHomeAgentAddress, ZERO6);
    const hlp = hnp ? encHomeLinkPrefix(hnp) : null;
    if (hlp) g.octets(Avp.Mip6HomeLinkPrefix, hlp);
    if (v4 && p.ipv4HoA) g.octets(Avp.Pmip6Ipv4HomeAddress, encAddress(p.ipv4HoA)!);
  });
}

/**
 * A MAG's answer (§7.1 ANS): Mobile-Node-Identifier, MIP6-Agent-Info per HNP (LMA, HNP, IPv4
 * HoA), PMIP6-DHCP-Server-Address per family, Service-Selection and Service-Configuration,
 * MIP6-Feature-Vector. The IPv4 default router and interface identifier have no RFC 5779 AVP.
 */
export function writeMagAnswer(w: AvpWriter, p: RadiusProfile, d: ServiceDecision, realm: string): void {
  w.utf8(Avp.MobileNodeIdentifier, p.mnId);
  const hnps = d.ipv6 ? p.hnps : [];
  if (hnps.length === 0) writeAgentInfo(w, p, null, d.ipv4, realm);
  hnps.forEach((h, i) => writeAgentInfo(w, p, h, d.ipv4 && i === 0, realm));
  if (d.ipv4 && p.dhcpv4Server) w.octets(Avp.Pmip6DhcpServerAddress, encAddress(p.dhcpv4Server)!);
  if (d.ipv6 && p.dhcpv6Server) w.octets(Avp.Pmip6DhcpServerAddress, encAddress(p.dhcpv6Server)!);
  if (p.serviceSelection) {
    w.utf8(Avp.ServiceSelection, p.serviceSelection);
    w.group(Avp.ServiceConfiguration, (g) => {
      writeAgentInfo(g, p, hnps[0] ?? null, d.ipv4, realm);
      g.utf8(Avp.ServiceSelection, p.serviceSelection!);
    });
  }
  if (d.featureVector !== null) w.u64(Avp.Mip6FeatureVector, d.featureVector);
}

/**
 * An LMA's answer (§4.2.2, §4.2.3, §7.2 ANS): MIP6-Agent-Info with the all-zero
 * MIP-Home-Agent-Address (no HAAA-driven relocation), the HNP(s) and IPv4 HoA assigned;
 * Service-Selection, MIP6-Feature-Vector, User-Name.
 */
export function writeLmaAnswer(w: AvpWriter, p: RadiusProfile, d: ServiceDecision, userName: string | null): void {
  if (userName) w.utf8(Avp.UserName, userName);
  const hnps = d.ipv6 ? p.hnps : [];
  const v4 = d.ipv4 && p.ipv4HoA ? encAddress(p.ipv4HoA) : null;
  const info = (hnp: string | null, withV4: boolean): void => {
    w.group(Avp.Mip6AgentInfo, (g) => {
      g.octets(Avp.MipHomeAgentAddress, ZERO6);
      const hlp = hnp ? encHomeLinkPrefix(hnp) : null;
      if (hlp) g.octets(Avp.Mip6HomeLinkPrefix, hlp);
      if (withV4 && v4) g.octets(Avp.Pmip6Ipv4HomeAddress, v4);
    });
  };
  if (hnps.length === 0) {
    if (v4) info(null, true);
  } else hnps.forEach((h, i) => info(h, i === 0));
  if (p.serviceSelection) w.utf8(Avp.ServiceSelection, p.serviceSelection);
  if (d.featureVector !== null) w.u64(Avp.Mip6FeatureVector, d.featureVector);
}

// ------------------------------------------------------------------ requests (server side)

/** What an LMA's request carries in MIP6-Agent-Info (§4.2.2, §4.2.3). */
export interface LmaAgentInfo {
  /** The LMA's address (MIP-Home-Agent-Address, not all zeros) or FQDN (MIP-Home-Agent-Host). */
  lmaAddress: string | null;
  lmaHost: string | null;
  /** 'delegate' for the all-zero prefix (§5.3), else the prefixes the LMA assigned. */
  hnps: 'delegate' | string[] | null;
  /** 'delegate' for 0.0.0.0 (§5.2), else the address the LMA assigned. */
  ipv4HoA: 'delegate' | string | null;
}

export type AgentInfoResult = { ok: true; value: LmaAgentInfo } | { ok: false; failed: RawAvp; reason: string };

/** Reads every MIP6-Agent-Info of a request (LMA → HAAA). */
export function readAgentInfo(avps: readonly RawAvp[]): AgentInfoResult {
  const v: LmaAgentInfo = { lmaAddress: null, lmaHost: null, hnps: null, ipv4HoA: null };
  const prefixes: string[] = [];
  let delegate = false;
  for (const g of findAll(avps, Avp.Mip6AgentInfo)) {
    const inner = decodeGrouped(g.data);
    if (!inner.ok) return { ok: false, failed: g, reason: inner.error.detail };
    for (const a of inner.value) {
      if (a.vendorId !== 0) continue;
      if (a.code === Avp.MipHomeAgentAddress) {
        const addr = decAddress(a.data);
        if (!addr || !('address' in addr)) return { ok: false, failed: a, reason: 'MIP-Home-Agent-Address is not an IP address' };
        if (addr.address !== '::' && addr.address !== '0.0.0.0') v.lmaAddress ??= addr.address;
      } else if (a.code === Avp.MipHomeAgentHost) {
        const hi = decodeGrouped(a.data);
        const dh = hi.ok ? findAvp(hi.value, Avp.DestinationHost) : undefined;
        if (dh) v.lmaHost ??= decUtf8(dh.data);
      } else if (a.code === Avp.Mip6HomeLinkPrefix) {
        const hlp = decHomeLinkPrefix(a.data);
        if (!hlp) return { ok: false, failed: a, reason: 'malformed MIP6-Home-Link-Prefix' };
        if (hlp.unspecified) delegate = true;
        else prefixes.push(hlp.prefix);
      } else if (a.code === Avp.Pmip6Ipv4HomeAddress) {
        const addr = decAddress(a.data);
        if (!addr || addr.family !== 4 || !('address' in addr)) return { ok: false, failed: a, reason: 'PMIP6-IPv4-Home-Address must be an IPv4 Address' };
        v.ipv4HoA = addr.address === '0.0.0.0' ? 'delegate' : addr.address;
      }
    }
  }
  v.hnps = delegate ? 'delegate' : prefixes.length > 0 ? prefixes : null;
  return { ok: true, value: v };
}

// ------------------------------------------------------------------ answers (client side)

/**
 * The profile in a successful AA-Answer. A malformed PMIPv6 AVP, or a contradictory
 * MIP6-Feature-Vector (RFC 5447 / RFC 6572 §4.1 rule), fails the whole answer: a MAG must not
 * act on a half-understood profile.
 */
export function readAnswerProfile(avps: readonly RawAvp[]): { ok: true; profile: AaaProfile; lmaHost: string | null } | { ok: false; error: ProfileParseError } {
  const p = emptyAaaProfile();
  let lmaHost: string | null = null;
  const bad = (attribute: number, reason: string) => ({ ok: false as const, error: { attribute, reason } });
  const agent = (g: RawAvp): ProfileParseError | null => {
    const inner = decodeGrouped(g.data);
    if (!inner.ok) return { attribute: Avp.Mip6AgentInfo, reason: inner.error.detail };
    for (const a of inner.value) {
      if (a.code === Avp.MipHomeAgentAddress) {
        const addr = decAddress(a.data);
        if (!addr || !('address' in addr)) return { attribute: a.code, reason: 'not an IP address' };
        // RFC 5779 §5.1: an all-zero address is ignored.
        if (addr.family === 6 && addr.address !== '::') p.homeLmaIpv6 ??= addr.address;
        if (addr.family === 4 && addr.address !== '0.0.0.0') p.homeLmaIpv4 ??= addr.address;
      } else if (a.code === Avp.MipHomeAgentHost) {
        const hi = decodeGrouped(a.data);
        const dh = hi.ok ? findAvp(hi.value, Avp.DestinationHost) : undefined;
        if (dh) lmaHost ??= decUtf8(dh.data);
      } else if (a.code === Avp.Mip6HomeLinkPrefix) {
        const hlp = decHomeLinkPrefix(a.data);
        if (!hlp) return { attribute: a.code, reason: 'malformed MIP6-Home-Link-Prefix' };
        // RFC 5779 §5.3: the low 64 bits of an HNP given to a MAG MUST be zero.
        if (!hlp.unspecified && !p.hnps.includes(hlp.prefix)) p.hnps.push(hlp.prefix);
      } else if (a.code === Avp.Pmip6Ipv4HomeAddress) {
        const addr = decAddress(a.data);
        if (!addr || addr.family !== 4 || !('address' in addr)) return { attribute: a.code, reason: 'not an IPv4 address' };
        if (addr.address !== '0.0.0.0') p.ipv4HoA ??= { address: addr.address, prefixLength: 32 };
      }
    }
    return null;
  };
  for (const a of avps) {
    if (a.vendorId !== 0) continue;
    switch (a.code) {
      case Avp.MobileNodeIdentifier: p.mnId = decUtf8(a.data); break;
      case Avp.ServiceSelection: p.serviceSelection = decUtf8(a.data); break;
      case Avp.Mip6AgentInfo: {
        const e = agent(a);
        if (e) return { ok: false, error: e };
        break;
      }
      case Avp.ServiceConfiguration: {
        const inner = decodeGrouped(a.data);
        if (!inner.ok) return bad(a.code, inner.error.detail);
        for (const m of inner.value) {
          if (m.code === Avp.Mip6AgentInfo) {
            const e = agent(m);
            if (e) return { ok: false, error: e };
          } else if (m.code === Avp.ServiceSelection) p.serviceSelection ??= decUtf8(m.data);
        }
        break;
      }
      case Avp.Pmip6DhcpServerAddress: {
        const addr = decAddress(a.data);
        if (!addr || !('address' in addr)) return bad(a.code, 'not an IP address');
        if (addr.family === 4) p.dhcp4Server ??= addr.address;
        else p.dhcp6Server ??= addr.address;
        break;
      }
      case Avp.Mip6FeatureVector: {
        const n = decU64(a.data);
        if (n === null) return bad(a.code, 'MIP6-Feature-Vector must be 8 octets');
        const why = contradictoryFeatureVector(n);
        if (why) return bad(a.code, `contradictory feature vector: ${why}`);
        p.featureVector = n;
        break;
      }
      case Avp.SessionTimeout: p.sessionTimeout = decU32(a.data); break;
      case Avp.Class: p.class = Buffer.from(a.data); break;
      default:
    }
  }
  return { ok: true, profile: p, lmaHost };
}

export { ZERO4 };
