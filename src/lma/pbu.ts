// A received PBU, parsed once into what RFC 5213 §5.3 processing needs, and the policy
// answer for it (RFC 5213 §5.3.1 steps 5-8, RFC 5844 §3.1.2.1, RFC 5845 §5.2).
import { BuFlag, ipv6ToString, MnIdSubtype, naiFromMnId } from '../mh/index.ts';
import type { BindingUpdate, MnIdOption } from '../mh/index.ts';
import type { MhTransport, Peer } from '../transport/types.ts';
import { allowsIpv4, allowsIpv6 } from '../policy/profile.ts';
import { decodeIdentifier } from '../policy/identifier.ts';
import type { Profile } from '../policy/profile.ts';
import type { PbuView } from './build.ts';
import { canonicalSource } from './sender.ts';
import type { MagRecord } from './sender.ts';
import { F } from './bce.ts';

export interface PbuJob {
  v: PbuView;
  /** MN-Identifier as text ('' when the option is missing, empty or unusable). */
  mnId: string;
  /** The MN-ID option's NAI is not a usable identifier (NUL, control characters, broken UTF-8: src/policy/identifier.ts). */
  mnIdBad: boolean;
  /** Canonical text of every HNP option, in order (ALL_ZERO ones included). */
  optKeys: string[];
  /** The NON_ZERO ones, without duplicates (RFC 5213 §5.4.1.1 key). */
  hnpKeys: string[];
  /** MN-LL-ID as lowercase hex with colons; null when absent or ALL_ZERO (RFC 5213 §6.9.1.1). */
  llId: string | null;
  /** Raw RFC 5213 §8.8 timestamp as a number (exact below 2^53), 0 when absent. */
  tsNum: number;
  /** Proxy-CoA: the Alternate CoA if present (accepted only when it is the sending MAG's own, sender.ts), else the source address. */
  coa: string;
  /** The Alternate Care-of Address option's address, when present. */
  altCoa: string | undefined;
  /** MAG UDP port, -1 when not UDP/memory. */
  port: number;
  /**
   * Peer key: the Proxy-CoA. A MAG's identity is its address, not address and UDP source port
   * (RFC 5213 §5.3.5 compares addresses); the PBA still goes to the port the PBU came from.
   */
  coaKey: string;
  /** LMAA for this PBU: the address it was sent to, or the configured one. */
  local: string;
  /** Source address for the PBA (= PBU destination), when the transport knows it. */
  replyFrom: string | undefined;
  /** PBA destination (= PBU source address and port, RFC 5213 §5.3.6, RFC 5844 §4.1.3.2). */
  replyTo: Peer;
  carriage: string;
  t: MhTransport;
  /** Arrival time, ms. */
  at: number;
  /** The sending MAG's record, when the LMA has a MAG table (sender.ts). */
  mag?: MagRecord;
  /** Set when resumed after MaxDelayBeforeNewBCEAssign (RFC 5213 §5.4.1.2 (4)). */
  afterWait?: boolean;
}

const scratch = Buffer.alloc(16);

/** Canonical "addr/len" of an HNP option value, host bits cleared. */
export function prefixKey(prefix: Uint8Array, len: number): string {
  if (len >= 128) return `${ipv6ToString(prefix)}/${len}`;
  if (isZero(prefix)) return `::/${len}`; // ALL_ZERO (RFC 5213 §6.9.1.1): every initial registration
  const full = len >>> 3;
  for (let i = 0; i < 16; i++) scratch[i] = i < full ? prefix[i] : 0;
  const rem = len & 7;
  if (rem) scratch[full] = prefix[full] & (0xff << (8 - rem));
  return `${ipv6ToString(scratch)}/${len}`;
}

function isZero(a: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return false;
  return true;
}

function hex(a: Uint8Array): string {
  let s = '';
  for (let i = 0; i < a.length; i++) s += (i ? ':' : '') + (a[i] < 16 ? '0' : '') + a[i].toString(16);
  return s;
}

/** MN-ID text: the NAI for subtype 1 (RFC 4283), otherwise "x-mnid-<subtype>:<hex>". */
export function mnIdText(o: MnIdOption): string {
  if (o.subtype === MnIdSubtype.NAI) return naiFromMnId(o) ?? '';
  return o.id.length === 0 ? '' : `x-mnid-${o.subtype}:${hex(o.id)}`;
}

/** MN-ID text as mnIdText, or null when an NAI is not a usable identifier (checked at the edge, before any lookup). */
export function checkedMnIdText(o: MnIdOption): string | null {
  if (o.subtype !== MnIdSubtype.NAI || o.id.length === 0) return mnIdText(o);
  const ascii = printableAscii(o.id);
  if (ascii !== null) return ascii;
  const d = decodeIdentifier(o.id);
  return d.ok ? d.text : null;
}

/**
 * The common NAI (RFC 7542: printable ASCII, at most 72 octets here) as text in one pass with
 * no intermediate Buffer; null for anything else (decodeIdentifier judges it). Printable ASCII
 * is what decodeIdentifier accepts without question: no NUL, no control character, no UTF-8.
 */
function printableAscii(id: Uint8Array): string | null {
  const n = id.length;
  if (n > 72) return null;
  for (let i = 0; i < n; i++) {
    const b = id[i];
    if (b < 0x20 || b >= 0x7f) return null;
  }
  return (Buffer.isBuffer(id) ? id : Buffer.from(id.buffer, id.byteOffset, n)).toString('latin1');
}

/** The MN-ID option for a BCE's MN-ID text (RFC 5846 §8.1 BRI). */
export function mnIdOption(mnId: string): MnIdOption {
  const m = /^x-mnid-(\d+):([0-9a-f:]*)$/.exec(mnId);
  if (m) return { type: 'mnId', subtype: Number(m[1]), id: Buffer.from(m[2].replace(/:/g, ''), 'hex') };
  return { type: 'mnId', subtype: MnIdSubtype.NAI, id: Buffer.from(mnId, 'utf8') };
}

export interface PbuSource {
  t: MhTransport;
  from: Peer;
  local: string | undefined;
  carriage: string;
  /** LMAA when `local` is unknown or a wildcard. */
  lmaa: string;
}

/** One pass over the options (RFC 5213 §8.1: at most one of each, except HNP; the first wins). */
export function parsePbu(bu: BindingUpdate, src: PbuSource, at: number): PbuJob {
  const v: PbuView = {
    seq: bu.seq, flags: bu.flags, lifetime: bu.lifetime, mnIdOpt: undefined, hnpOpts: [], hi: undefined, att: undefined,
    timestamp: undefined, llIdOpt: undefined, llaOpt: undefined, v4Reqs: [], gre: undefined,
  };
  let altCoa: Uint8Array | undefined;
  const optKeys: string[] = [];
  let hnpKeys: string[] | undefined;
  for (const o of bu.options) {
    switch (o.type) {
      case 'mnId': v.mnIdOpt ??= o; break;
      case 'hnp': {
        v.hnpOpts.push(o);
        const k = prefixKey(o.prefix, o.prefixLen);
        optKeys.push(k);
        if (!isZero(o.prefix)) {
          hnpKeys ??= [];
          if (!hnpKeys.includes(k)) hnpKeys.push(k);
        }
        break;
      }
      case 'handoffIndicator': if (v.hi === undefined) v.hi = o.hi; break;
      case 'accessTechType': if (v.att === undefined) v.att = o.att; break;
      case 'timestamp': if (v.timestamp === undefined) v.timestamp = o.value; break;
      case 'mnLinkLayerId': v.llIdOpt ??= o; break;
      case 'linkLocalAddress': v.llaOpt ??= o; break;
      case 'ipv4HoaRequest': v.v4Reqs.push(o); break;
      case 'greKey': v.gre ??= o; break;
      case 'altCoa': altCoa ??= o.addr; break;
      default: break; // RFC 6275 §6.2.1: skip what we do not use
    }
  }
  const alt = altCoa ? ipv6ToString(altCoa) : undefined;
  const coa = alt ?? canonicalSource(src.from.address);
  const port = src.from.port ?? -1;
  const local = src.local !== undefined && src.local !== '0.0.0.0' && src.local !== '::' ? src.local : src.lmaa;
  const mnId = v.mnIdOpt ? checkedMnIdText(v.mnIdOpt) : '';
  return {
    v,
    mnId: mnId ?? '',
    mnIdBad: mnId === null,
    optKeys,
    hnpKeys: hnpKeys ?? NONE,
    llId: v.llIdOpt && v.llIdOpt.id.length > 0 && !isZero(v.llIdOpt.id) ? hex(v.llIdOpt.id) : null,
    tsNum: v.timestamp === undefined ? 0 : Number(v.timestamp),
    coa,
    altCoa: alt,
    port,
    coaKey: coa,
    local,
    replyFrom: src.local,
    replyTo: src.from,
    carriage: src.carriage,
    t: src.t,
    at,
  };
}

const NONE: string[] = [];

/** The peer key of a signalling source (see PbuJob.coaKey): its address, whatever the port. */
export function peerKeyOf(from: Peer): string {
  return canonicalSource(from.address);
}

/** RFC 6275 §6.1.7 / RFC 5213 §8.1 flags. */
export function ackRequested(j: PbuJob): boolean {
  return (j.v.flags & BuFlag.A) !== 0;
}

/* ---------------------------------------------------------------- policy */

export const POLICY_BITS = F.POL_V6 | F.POL_V4 | F.POL_GRE_OPT | F.POL_GRE_REQ | F.POL_MAG_OK;

export interface Policy {
  magOk: boolean;
  /** The profile when fetched; null = unknown MN (153) unless `snapshot`. */
  profile: Profile | null;
  /** From a BCE's cached bits: no profile object, the MN is known and enabled. */
  snapshot: boolean;
  enabled: boolean;
  /** Profile names another LMA (153). */
  otherLma: boolean;
  /** F.POL_* bits. */
  bits: number;
  /** When the source was asked, if in an earlier turn (clock time): what a snapshot of it dates from. */
  askedAt: number | undefined;
}

export function policyBitsOf(p: Profile, magOk: boolean): number {
  let bits = magOk ? F.POL_MAG_OK : 0;
  if (allowsIpv6(p)) bits |= F.POL_V6;
  if (allowsIpv4(p)) bits |= F.POL_V4;
  if (p.greKeyPolicy === 'optional') bits |= F.POL_GRE_OPT;
  else if (p.greKeyPolicy === 'required') bits |= F.POL_GRE_REQ;
  return bits;
}

export function policyFromProfile(p: Profile | null, magOk: boolean, served: readonly string[], askedAt?: number): Policy {
  if (!p) return { magOk, profile: null, snapshot: false, enabled: false, otherLma: false, bits: 0, askedAt };
  const otherLma = served.length > 0 && p.lma !== null && !served.includes(p.lma);
  return { magOk, profile: p, snapshot: false, enabled: p.enabled, otherLma, bits: policyBitsOf(p, magOk), askedAt };
}

/** Shared snapshot policies by (bits >>> 5): POLICY_BITS are the five bits 32 .. 512 (bce-flags.ts). */
const snapshots: (Policy | undefined)[] = new Array<Policy | undefined>(32).fill(undefined);

/** A policy from a BCE's cached bits (immutable, shared per bit pattern). */
export function policyFromSnapshot(bits: number): Policy {
  const i = (bits & POLICY_BITS) >>> 5;
  let p = snapshots[i];
  if (p === undefined) {
    p = Object.freeze({ magOk: (bits & F.POL_MAG_OK) !== 0, profile: null, snapshot: true, enabled: true, otherLma: false, bits: bits & POLICY_BITS, askedAt: undefined });
    snapshots[i] = p;
  }
  return p;
}
