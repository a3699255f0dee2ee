// Binding Cache entry existence test (RFC 5213 §5.4.1, applied in its order; RFC 5844
// §3.1.2.1 / §3.1.2.7 for IPv4 HoA keys). Pure: reads the cache, decides, changes nothing.
import { BaStatus, HandoffIndicator } from '../mh/index.ts';
import { F } from './bce.ts';
import type { Bce, BindingCache } from './bce.ts';

export interface LookupKey {
  mnId: string;
  /** NON_ZERO HNPs of the PBU, canonical text, without duplicates. */
  hnps: readonly string[];
  /** NON_ZERO IPv4 HoA of the IPv4 HoA Request option (int32), 0 if none / ALL_ZERO. */
  v4: number;
  /** MN-LL-ID hex, null when absent or ALL_ZERO. */
  llId: string | null;
  att: number;
  hi: number;
  /** Lifetime 0 = de-registration. */
  dereg: boolean;
  /** The MAG's peer key (Proxy-CoA [+ port]). */
  coaKey: string;
  /** The MN's BCE or BCEs as the cache holds them now (BindingCache.mnEntry): looked up once per PBU. */
  mine: Bce | Bce[] | undefined;
}

export type Lookup =
  | { kind: 'new' }
  | { kind: 'update'; bce: Bce }
  | { kind: 'reject'; status: number }
  /** Lifetime 0 and no session: silently ignored (§5.4.1.1 (6), §5.4.1.2 (5), §5.4.1.3 (4)). */
  | { kind: 'ignore' }
  /** HI = 4 and one BCE elsewhere: wait for the old MAG's de-registration (§5.4.1.2 (4), §5.4.1.3 (3)). */
  | { kind: 'wait'; bce: Bce };

const NEW: Lookup = { kind: 'new' };
const IGNORE: Lookup = { kind: 'ignore' };

function newOrIgnore(k: LookupKey): Lookup {
  return k.dereg ? IGNORE : NEW;
}

function sameHnpSet(b: Bce, hnps: readonly string[]): boolean {
  if (b.hnpCount() !== hnps.length) return false;
  for (const p of hnps) if (!b.hasHnp(p)) return false;
  return true;
}

/**
 * The only BCE of the MN and HI = 4: wait for the previous MAG, unless there is nothing
 * to wait for: it already de-registered, or it is this very MAG with the same access
 * technology (a MAG that lost its state cannot de-register from elsewhere), or the PBU is
 * itself a de-registration (then §5.3.5 (1) decides by Proxy-CoA).
 */
function unknownHandoff(k: LookupKey, only: Bce): Lookup {
  if (k.dereg || (only.flags & F.DEREG) !== 0 || (only.peer.key === k.coaKey && only.att === k.att)) {
    return { kind: 'update', bce: only };
  }
  return { kind: 'wait', bce: only };
}

/**
 * Extension, not in RFC 5213: a PBU naming no NON_ZERO prefix from the MAG that holds the MN's
 * only session, with the same ATT, and HI = 5 (a re-registration) or HI = 1 (the MAG's first
 * PBU again: a retransmission, RFC 5213 §6.9.4, sent because the PBA was slow; the MAG takes
 * whichever PBA comes first). §5.4.1.2 (5) / §5.4.1.3 (4) would make it a new session that
 * supersedes the first, with new GRE keys the MAG never learns if it kept the first PBA.
 */
function sameMagReRegistration(k: LookupKey, only: Bce | undefined): boolean {
  return (
    only !== undefined &&
    (k.hi === HandoffIndicator.NOT_CHANGED || k.hi === HandoffIndicator.NEW_INTERFACE) &&
    only.peer.key === k.coaKey &&
    only.att === k.att
  );
}

/**
 * The MN's BCE holding prefix `p`, if one does. A prefix belongs to one BCE (the index maps it
 * to that BCE: bce.ts byHnp), so this is what cache.byPrefix(p) answers whenever it finds one:
 * the common re-registration finds its session without a lookup in the 100,000-entry index.
 */
function ownerAmong(mine: Bce | Bce[] | undefined, p: string): Bce | undefined {
  if (mine === undefined) return undefined;
  if (!Array.isArray(mine)) return mine.hasHnp(p) ? mine : undefined;
  for (const b of mine) if (b.hasHnp(p)) return b;
  return undefined;
}

export function lookupBce(cache: BindingCache, k: LookupKey): Lookup {
  // §5.4.1.1: at least one HNP with a NON_ZERO value; key: any of them (the first one found).
  if (k.hnps.length > 0) {
    let found = ownerAmong(k.mine, k.hnps[0]);
    if (!found) {
      for (const p of k.hnps) {
        found = cache.byPrefix(p);
        if (found) break;
      }
    }
    if (!found) return newOrIgnore(k); // (2)
    if (found.mnId !== k.mnId) return { kind: 'reject', status: BaStatus.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX }; // (3)
    if (!sameHnpSet(found, k.hnps)) return { kind: 'reject', status: BaStatus.BCE_PBU_PREFIX_SET_DO_NOT_MATCH }; // (4)
    return matchesSession(k, found) ? { kind: 'update', bce: found } : newOrIgnore(k); // (5), (6)
  }
  // RFC 5844 §3.1.2.7: no NON_ZERO HNP but a NON_ZERO IPv4 HoA: §5.4.1.1 with the IPv4 HoA as the key.
  if (k.v4 !== 0) {
    // The MN's own session with that address first (it may be in a routing context of its own),
    // else whoever holds it in the default context.
    const found = ownV4(k.mine, k.v4) ?? cache.byIpv4(k.v4);
    if (!found) return newOrIgnore(k);
    // §5.4.1.1 (3) says 155; with an IPv4 key the IPv4 code tells the MAG what to retry (RFC 5844 §3.2.3.2: 0.0.0.0).
    if (found.mnId !== k.mnId) return { kind: 'reject', status: BaStatus.NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS };
    return matchesSession(k, found) ? { kind: 'update', bce: found } : newOrIgnore(k);
  }
  const only = k.mine === undefined || Array.isArray(k.mine) ? undefined : k.mine;
  // §5.4.1.2: MN-LL-ID present; key: (MN-ID, ATT, MN-LL-ID).
  if (k.llId !== null) {
    const m = cache.byLinkLayer(k.mnId, k.att, k.llId);
    if (m) return { kind: 'update', bce: m }; // (2)
    if (only && k.hi === HandoffIndicator.HANDOFF_BETWEEN_INTERFACES) return { kind: 'update', bce: only }; // (3)
    if (only && k.hi === HandoffIndicator.UNKNOWN) return unknownHandoff(k, only); // (4)
    if (sameMagReRegistration(k, only) && only!.llId === null) return { kind: 'update', bce: only! };
    return newOrIgnore(k); // (5)
  }
  // §5.4.1.3: neither; key: MN-ID.
  if (only) {
    if (k.hi === HandoffIndicator.HANDOFF_BETWEEN_INTERFACES || k.hi === HandoffIndicator.HANDOFF_BETWEEN_MAGS) {
      return { kind: 'update', bce: only }; // (2)
    }
    if (k.hi === HandoffIndicator.UNKNOWN) return unknownHandoff(k, only); // (3)
    if (sameMagReRegistration(k, only)) return { kind: 'update', bce: only };
  }
  return newOrIgnore(k); // (4)
}

function ownV4(mine: Bce | Bce[] | undefined, v4: number): Bce | undefined {
  if (mine === undefined) return undefined;
  if (!Array.isArray(mine)) return mine.v4 === (v4 | 0) ? mine : undefined;
  return mine.find((b) => b.v4 === (v4 | 0));
}

/** §5.4.1.1 (5): the conditions under which a full prefix match updates the BCE. */
function matchesSession(k: LookupKey, b: Bce): boolean {
  const sameAtt = k.att === b.att;
  if (k.llId !== null && k.llId === b.llId && sameAtt) return true;
  if (k.hi === HandoffIndicator.HANDOFF_BETWEEN_INTERFACES) return true;
  if (k.llId === null && b.llId === null && sameAtt && k.hi === HandoffIndicator.HANDOFF_BETWEEN_MAGS) return true;
  if (k.coaKey === b.peer.key && sameAtt) return true;
  return false;
}
