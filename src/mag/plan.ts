// What a mobility session asks of the LMA, from the MN's policy profile (RFC 5213 §6.2,
// §6.9.1.1 items 1-2; RFC 5844 §3.2.3.1): the LMA address, IPv6 and/or IPv4 service, the
// HNPs and IPv4 HoA to request. Pure. Used for a new session (attach.ts) and when a changed
// profile re-registers a live one (reregister.ts).
import { parseIpv4, parsePrefix, prefixToString } from '../mh/index.ts';
import { allowsIpv4, allowsIpv6 } from '../policy/profile.ts';
import type { Profile } from '../policy/profile.ts';
import { normalizeAddress } from './path.ts';
import { BLOCK_IPV4, BLOCK_IPV6 } from './pba.ts';
import type { MagConfig, MagDropCause, MagFailReason } from './types.ts';

export type SessionPlan =
  | {
      ok: true;
      lma: string;
      wantIpv6: boolean;
      wantIpv4: boolean;
      /** NON_ZERO HNPs to request (empty: one ALL_ZERO option, the LMA assigns). */
      hnps: string[];
      /** IPv4 HoA to request (null: 0.0.0.0, the LMA assigns). */
      ipv4HoA: string | null;
      ipv4PrefixLen: number;
      /** The profile or the configuration asks for GRE keys (RFC 5845). */
      wantGre: boolean;
    }
  | { ok: false; lma: string | null; drop: MagDropCause; reason: MagFailReason; error?: string };

/** The plan for a session of an MN with profile `p`, given its BLOCK_* bits (pba.ts). */
export function planSession(config: MagConfig, blocked: number, p: Profile | null): SessionPlan {
  if (!p || !p.enabled) return { ok: false, lma: null, drop: 'notEligible', reason: 'not-eligible' };
  const lmaText = p.lma ?? config.defaultLma;
  if (!lmaText) return { ok: false, lma: null, drop: 'notEligible', reason: 'no-lma' };
  const lma = normalizeAddress(lmaText);
  // RFC 5844 §3.2.3.1: the profile says which of IPv4/IPv6 the MN gets.
  let wantIpv6 = allowsIpv6(p);
  let wantIpv4 = config.requestIpv4 && allowsIpv4(p);
  if (!wantIpv6 && !wantIpv4) wantIpv6 = true; // nothing in the profile: let the LMA assign (ALL_ZERO HNP)
  if (blocked & BLOCK_IPV4) wantIpv4 = false;
  if (blocked & BLOCK_IPV6) wantIpv6 = false;
  const hnps: string[] = [];
  let ipv4HoA: string | null = null;
  try {
    if (wantIpv6) for (const h of p.hnps) {
      const q = parsePrefix(h);
      hnps.push(prefixToString(q.prefix, q.prefixLen));
    }
    if (wantIpv4 && p.ipv4HoA) ipv4HoA = ipv4Text(p.ipv4HoA);
  } catch (e) {
    return { ok: false, lma, drop: 'encode', reason: 'not-eligible', error: (e as Error).message };
  }
  if (!wantIpv6 && !wantIpv4) return { ok: false, lma, drop: 'blocked', reason: 'blocked' };
  const wantGre = config.greMode === 'always' || (config.greMode === 'profile' && p.greKeyPolicy !== 'none');
  return { ok: true, lma, wantIpv6, wantIpv4, hnps, ipv4HoA, ipv4PrefixLen: ipv4HoA ? (p.ipv4PrefixLength ?? 32) : 0, wantGre };
}

/** Dotted quad (validated) from profile text. */
function ipv4Text(s: string): string {
  const v = parseIpv4(s);
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}
