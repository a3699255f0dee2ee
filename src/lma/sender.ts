// Who sent this PBU, and may it speak for this MN? Decided from memory, before any per-MN
// queue or policy query (RFC 5213 §5.3.1 steps 5-6 -> status 154):
//
//   1. The packet's source address is a provisioned, authorised MAG (the MagTable, held in
//      memory by the caller and kept current by the store's change notifications).
//   2. An Alternate Care-of Address option names the Proxy-CoA only where the source cannot:
//      over IPv4/UDP the IPv4 Proxy-CoA IS the source address (RFC 5844 §4.1.1), so an
//      Alternate-CoA there is refused; elsewhere it must be one of the sending MAG's own
//      provisioned Proxy-CoAs (RFC 5213 §4: the LMA MUST authorise the MAG).
//   3. RFC 5213 §4 authorisation scope: a MAG limited to MNs by realm, by list or by prefix
//      serves only those (the prefix check needs the profile: inScopeByPrefix, step 7).
// Pure: the table is injected, nothing here waits.
import { isIPv4 } from 'node:net';
import { addressToBigInt, canonicalAddress } from '../util/ip.ts';

/** RFC 5213 §4: which MNs a MAG may register. null = every provisioned MN. */
export interface MagScope {
  /** NAI realms ("example.net" matches "mn@example.net"). */
  realms: readonly string[];
  /** MN identifiers, exactly. */
  mnIds: readonly string[];
  /** IPv6/IPv4 prefixes: every home prefix (and IPv4 HoA) of the MN lies inside one of them. */
  prefixes: readonly string[];
}

export interface MagRecord {
  id: string;
  /** Canonical addresses. */
  proxyCoas: readonly string[];
  authorized: boolean;
  scope: MagScope | null;
}

/** What the LMA knows about MAGs, from memory. */
export interface MagTable {
  /** The MAG owning this (canonical) source address, or undefined. */
  bySource(address: string): MagRecord | undefined;
}

export type SenderVerdict =
  | { ok: true; mag: MagRecord | undefined }
  | { ok: false; cause: SenderRefusal };

export const SENDER_REFUSALS = ['unknown-source', 'mag-not-authorized', 'alt-coa-over-ipv4', 'alt-coa-not-own', 'out-of-scope'] as const;
export type SenderRefusal = (typeof SENDER_REFUSALS)[number];

/**
 * Source address text -> its canonical text, for the few MAG addresses a transport reports
 * again and again (two regular-expression tests per PBU otherwise). Bounded: keyed by what
 * the network sends.
 */
const canonical = new Map<string, string>();
const MAX_CANONICAL = 4096;

/** Canonical text of an address as the transport reported it (IPv4-mapped IPv6 unmapped). */
export function canonicalSource(address: string): string {
  let c = canonical.get(address);
  if (c === undefined) {
    c = canonicalText(address);
    if (canonical.size >= MAX_CANONICAL) canonical.clear();
    canonical.set(address, c);
  }
  return c;
}

function canonicalText(address: string): string {
  if (isIPv4(address)) return address; // the transports report dotted quads as is
  const a = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  return canonicalAddress(a) ?? a;
}

/**
 * Steps 1-3 above. `table` undefined (unit tests with a map policy): every source is a MAG
 * whose only Proxy-CoA is the source address.
 */
export function judgeSender(table: MagTable | undefined, src: { address: string; carriage: string }, altCoa: string | undefined, mnId: string): SenderVerdict {
  const source = canonicalSource(src.address);
  const mag = table?.bySource(source);
  if (table && !mag) return { ok: false, cause: 'unknown-source' };
  if (mag && !mag.authorized) return { ok: false, cause: 'mag-not-authorized' };
  if (altCoa !== undefined) {
    const alt = canonicalSource(altCoa);
    if (src.carriage === 'udp4') return { ok: false, cause: 'alt-coa-over-ipv4' }; // RFC 5844 §4.1.1
    const own = mag ? mag.proxyCoas.includes(alt) : alt === source;
    if (!own) return { ok: false, cause: 'alt-coa-not-own' };
  }
  if (mag?.scope && !inScopeById(mag.scope, mnId)) {
    // Realm/list scope says no; a prefix scope may still say yes once the profile is known.
    if (mag.scope.prefixes.length === 0) return { ok: false, cause: 'out-of-scope' };
  }
  return { ok: true, mag };
}

/** Realm or list scope (RFC 5213 §4). */
export function inScopeById(scope: MagScope, mnId: string): boolean {
  if (scope.mnIds.includes(mnId)) return true;
  const at = mnId.lastIndexOf('@');
  if (at >= 0) {
    const realm = mnId.slice(at + 1).toLowerCase();
    for (const r of scope.realms) if (r.toLowerCase() === realm) return true;
  }
  return false;
}

/**
 * Full scope check once the profile is known: id/realm, or every home prefix and IPv4 HoA
 * inside one of the scope's prefixes. A profile without fixed prefixes (pool-assigned) is
 * in a prefix scope only through its id or realm.
 */
export function inScope(scope: MagScope | null, mnId: string, hnps: readonly string[], ipv4HoA: string | null): boolean {
  if (!scope) return true;
  if (inScopeById(scope, mnId)) return true;
  if (scope.prefixes.length === 0) return false;
  const addrs = [...hnps, ...(ipv4HoA ? [`${ipv4HoA}/32`] : [])];
  if (addrs.length === 0) return false;
  return addrs.every((p) => scope.prefixes.some((s) => prefixWithin(p, s)));
}

/** "a/len" inside "b/len2" (same family, len >= len2, same leading len2 bits). */
export function prefixWithin(inner: string, outer: string): boolean {
  const a = splitPrefix(inner);
  const b = splitPrefix(outer);
  if (!a || !b || a.family !== b.family || a.len < b.len) return false;
  const shift = BigInt((a.family === 6 ? 128 : 32) - b.len);
  return a.value >> shift === b.value >> shift;
}

function splitPrefix(p: string): { family: 4 | 6; value: bigint; len: number } | null {
  const i = p.indexOf('/');
  const a = addressToBigInt(i < 0 ? p : p.slice(0, i));
  if (!a) return null;
  const len = i < 0 ? (a.family === 6 ? 128 : 32) : Number(p.slice(i + 1));
  return Number.isInteger(len) ? { family: a.family, value: a.value, len } : null;
}
