// Deciding what an accepted PBU gets (RFC 5213 §5.3.2 prefixes, §5.3.6 link-local address,
// RFC 5844 §3.1.2.2 IPv4 HoA and §4.1.3.1 F flag, RFC 5845 §5.2 GRE keys), and when a new
// session may take over what another session of the same MN holds. Pure decisions over the
// cache and the profile; apply.ts commits them.
import { BaStatus, BuFlag, HandoffIndicator, ipv6ToString, lifetimeToSeconds, parseIpv4, parseIpv6 } from '../mh/index.ts';
import type { HnpOption } from '../mh/index.ts';
import type { Profile } from '../policy/profile.ts';
import { F } from './bce.ts';
import type { Bce } from './bce.ts';
import type { LmaContext } from './context.ts';
import type { ApplyContext } from './apply.ts';
import { prefixKey } from './pbu.ts';
import { isCanonicalPrefix, readPrefix } from './prefix.ts';
import type { PbuJob } from './pbu.ts';

export function grantedSeconds(ctx: LmaContext, j: PbuJob): number {
  return Math.min(lifetimeToSeconds(j.v.lifetime), ctx.cfg.maxLifetimeS);
}

export function isZero(a: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return false;
  return true;
}

/** RFC 5213 §5.3.6 Link-local Address rules; also stores the value in the BCE. */
export function linkLocal(ctx: ApplyContext, j: PbuJob, b: Bce): Uint8Array | undefined {
  const o = j.v.llaOpt;
  if (!o) return undefined;
  if (!isZero(o.addr)) {
    b.lla = ipv6ToString(o.addr);
    return o.addr;
  }
  if (b.lla !== null) return parseIpv6(b.lla);
  const gen = ctx.newLinkLocal(b);
  b.lla = ipv6ToString(gen);
  return gen;
}

/** RFC 5844 §4.1.3.1: F=1 over IPv4 needs AcceptForcedIPv4UDPEncapsulationRequest. */
export function forcedUdpRefused(ctx: LmaContext, j: PbuJob): boolean {
  return j.carriage === 'udp4' && (j.v.flags & BuFlag.F) !== 0 && !ctx.cfg.acceptForcedIpv4UdpEncapsulation;
}

export interface GreDecision {
  reject?: number;
  /** Accepted-PBA status: 0, 2 (GRE not required) or 3 (GRE without TLV header). */
  status: number;
  enable: boolean;
  keys: boolean;
  down: number;
}

/** RFC 5845 §5.2 and §3.3.2 against the profile's GRE key policy. */
export function decideGre(bits: number, j: PbuJob): GreDecision {
  const opt = j.v.gre;
  const required = (bits & F.POL_GRE_REQ) !== 0;
  const optional = (bits & F.POL_GRE_OPT) !== 0;
  if (!opt) return required ? { reject: BaStatus.GRE_KEY_OPTION_REQUIRED, status: 0, enable: false, keys: false, down: 0 } : NO_GRE;
  if (!required && !optional) return { status: BaStatus.GRE_KEY_OPTION_NOT_REQUIRED, enable: false, keys: false, down: 0 };
  const keys = opt.key !== null;
  // T flag: we do not do the UDP TLV header (RFC 5845 §7.2), so GRE is accepted without it.
  const status = (j.v.flags & BuFlag.T) !== 0 ? BaStatus.GRE_TUNNELING_BUT_TLV_HEADER_NOT_SUPPORTED : 0;
  return { status, enable: true, keys, down: keys ? opt.key! | 0 : 0 };
}
const NO_GRE: GreDecision = { status: 0, enable: false, keys: false, down: 0 };

export function applyGre(ctx: ApplyContext, b: Bce, g: GreDecision): void {
  if (!g.enable) {
    b.flags &= ~(F.GRE | F.GRE_KEYS);
    b.greDown = 0;
    return;
  }
  b.flags |= F.GRE;
  if (g.keys) {
    b.flags |= F.GRE_KEYS;
    b.greDown = g.down;
    if (b.greUp === 0) b.greUp = ctx.newUplinkKey(b); // kept for the session's lifetime (RFC 5845 §3.3.2)
  } else {
    b.flags &= ~F.GRE_KEYS;
    b.greDown = 0;
  }
}

/** The profile's prefixes: canonical texts and, at the same index, the option to put in a PBA. */
export interface OwnedPrefixes {
  keys: string[];
  opts: HnpOption[];
}

/** A profile has a handful of prefixes at most (16 by validation): arrays, no Map per PBU. */
export function ownedPrefixes(p: Profile): OwnedPrefixes {
  const out: OwnedPrefixes = { keys: [], opts: [] };
  for (const h of p.hnps) {
    try {
      const x = readPrefix(h);
      // The profile's own string when it is already canonical: one copy per prefix in memory,
      // shared by the profile directory, the BCE and the prefix index (issue 12); checked
      // without building the canonical text (one less string per initial registration).
      let k = h;
      if (!isCanonicalPrefix(h, x.prefix, x.prefixLen)) {
        const c = prefixKey(x.prefix, x.prefixLen);
        if (c !== h) k = c;
      }
      if (out.keys.includes(k)) continue; // the first spelling wins
      out.keys.push(k);
      out.opts.push({ type: 'hnp', prefixLen: x.prefixLen, prefix: x.prefix });
    } catch {
      // a prefix the store should not have accepted: skip it
    }
  }
  return out;
}

export function v4Of(text: string | null): number {
  if (!text) return 0;
  try {
    return parseIpv4(text) | 0;
  } catch {
    return 0;
  }
}

/** A default router when the profile names none: the first host of the home network. */
export function defaultRouterFor(v4: number, len: number): number {
  if (len >= 31 || len <= 0) return 0;
  const mask = (0xffffffff << (32 - len)) | 0;
  const net = v4 & mask;
  const r = (net + 1) | 0;
  return r === v4 ? (net + 2) | 0 : r;
}

/**
 * A new session may take prefixes (or the IPv4 HoA) another session of the same MN holds:
 * one being de-registered; otherwise never one with a different MN-LL-ID (another
 * interface); one at this very MAG (the MAG lost its state); or, unless the MAG says
 * "new interface" (HI 1/6), one at another MAG (the MN moved).
 */
export function mayTakeOver(ctx: LmaContext, j: PbuJob, h: Bce): boolean {
  if (h.flags & F.DEREG) return true;
  if (!ctx.cfg.takeOverPrefixesOfSameMn) return false;
  // Two different link-layer identifiers are two interfaces: never.
  if (h.llId !== null && j.llId !== null && h.llId !== j.llId) return false;
  if (h.peer.key === j.coaKey) return true;
  const hi = j.v.hi;
  return hi !== HandoffIndicator.NEW_INTERFACE && hi !== HandoffIndicator.NEW_INTERFACE_SHARING_PREFIXES;
}

export interface V4Assignment {
  reject?: number;
  addr: number;
  len: number;
  router: number;
  /** Routing context (Bce.ctx). */
  ctx: number;
  holder?: Bce;
}

/** The routing context of a profile's addresses: 1 + its service's index in addressContexts, else 0. */
export function contextOf(ctx: LmaContext, p: Profile): number {
  const s = p.serviceSelection;
  return s === null ? 0 : ctx.cfg.addressContexts.indexOf(s) + 1;
}

/** RFC 5844 §3.1.2.2: the IPv4 HoA for a request, from the profile (unique within its routing context). */
export function assignV4(ctx: LmaContext, j: PbuJob, p: Profile, self: Bce | null, takeover: Set<Bce>): V4Assignment {
  const req = j.v.v4Reqs[0];
  const pv4 = v4Of(p.ipv4HoA);
  const none = { addr: 0, len: 0, router: 0, ctx: 0 };
  if (req.addr !== 0 && (req.addr | 0) !== pv4) return { reject: BaStatus.NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS, ...none };
  if (pv4 === 0) return { reject: BaStatus.INSUFFICIENT_RESOURCES, ...none };
  const c = contextOf(ctx, p);
  const h = ctx.cache.byIpv4(pv4, c);
  if (h && h !== self) {
    if (h.mnId !== j.mnId || !(takeover.has(h) || mayTakeOver(ctx, j, h))) return { reject: BaStatus.INSUFFICIENT_RESOURCES, ...none };
    takeover.add(h);
  }
  const len = p.ipv4PrefixLength ?? (req.prefixLen > 0 && req.prefixLen <= 32 ? req.prefixLen : 32);
  return { addr: pv4, len, router: v4Of(p.ipv4DefaultRouter) || defaultRouterFor(pv4, len), ctx: c };
}

/** RFC 5213 §5.3.2 (1)-(3): prefixes for a session from the profile; `self` is the BCE being extended. */
export function assignHnps(ctx: LmaContext, j: PbuJob, p: Profile, self: Bce | null, takeover: Set<Bce>): { reject?: number; hnps: string[]; opts?: HnpOption[] } {
  const owned = ownedPrefixes(p);
  const keys = owned.keys;
  if (j.hnpKeys.length > 0) {
    for (const k of j.hnpKeys) {
      if (!keys.includes(k)) return { reject: BaStatus.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, hnps: [] };
      const h = ctx.cache.byPrefix(k);
      if (h && h !== self) {
        if (h.mnId !== j.mnId || !(takeover.has(h) || mayTakeOver(ctx, j, h))) {
          return { reject: BaStatus.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX, hnps: [] };
        }
        takeover.add(h);
      }
    }
    return { hnps: j.hnpKeys.map((k) => keys[keys.indexOf(k)]) }; // the owned strings (shared), not the PBU's
  }
  // ALL_ZERO: every prefix of the profile no other session holds.
  const hnps: string[] = [];
  for (const k of keys) {
    const h = ctx.cache.byPrefix(k);
    if (!h || h === self || takeover.has(h)) hnps.push(k);
  }
  if (hnps.length === 0) {
    for (const k of keys) {
      const h = ctx.cache.byPrefix(k)!;
      if (h.mnId === j.mnId && mayTakeOver(ctx, j, h)) {
        takeover.add(h);
        hnps.push(k);
      }
    }
    // the superseded sessions' other prefixes come along
    if (hnps.length > 0) {
      for (const k of keys) {
        const h = ctx.cache.byPrefix(k);
        if (h && takeover.has(h) && !hnps.includes(k)) hnps.push(k);
      }
    }
  }
  if (hnps.length === 0) return { reject: BaStatus.INSUFFICIENT_RESOURCES, hnps };
  // Usually every owned prefix, in the profile's order: its options as they are.
  if (hnps.length === keys.length && hnps.every((k, i) => keys[i] === k)) return { hnps, opts: owned.opts };
  return { hnps, opts: hnps.map((k) => owned.opts[keys.indexOf(k)]) };
}

export function removeTakenOver(ctx: LmaContext, takeover: Set<Bce>): Promise<void>[] {
  const out: Promise<void>[] = [];
  for (const h of takeover) out.push(ctx.removeBce(h, 'deregistered', 'superseded'));
  return out;
}

