// Message construction from LMA state (open5gs "build"): the PBA exactly as RFC 5213
// §5.3.6 (+ RFC 5844 §3.1.2.6, RFC 5845 §5.2) says, Binding Error (RFC 6275 §9.2),
// Heartbeat (RFC 5847 §3.3), BRI and BRA (RFC 5846 §6.1). Pure: no I/O.
import {
  BaFlag,
  BrFlag,
  HeartbeatFlag,
  Ipv4HoaReplyStatus,
  MnIdSubtype,
  parsePrefix,
  timestampFromMs,
} from '../mh/index.ts';
import type {
  AccessTechTypeOption,
  BindingAck,
  BindingError,
  BindingRevocationAck,
  BindingRevocationIndication,
  GreKeyOption,
  HandoffIndicatorOption,
  Heartbeat,
  HnpOption,
  Ipv4HoaRequestOption,
  LinkLocalAddressOption,
  MnIdOption,
  MnLinkLayerIdOption,
  MobilityOption,
} from '../mh/index.ts';

/** The parts of a received PBU the PBA is built from (RFC 5213 §5.3.6). */
export interface PbuView {
  seq: number;
  flags: number;
  lifetime: number;
  mnIdOpt: MnIdOption | undefined;
  hnpOpts: HnpOption[];
  hi: number | undefined;
  att: number | undefined;
  timestamp: bigint | undefined;
  llIdOpt: MnLinkLayerIdOption | undefined;
  llaOpt: LinkLocalAddressOption | undefined;
  v4Reqs: Ipv4HoaRequestOption[];
  gre: GreKeyOption | undefined;
}

/** What the LMA decided, for the PBA. */
export interface PbaDecision {
  status: number;
  /** Granted lifetime, 4-second units (0 on reject / de-registration). */
  lifetime: number;
  /** Accepted: the session's HNPs (canonical text). */
  hnps?: readonly string[];
  /** Accepted: the same HNPs as options, when already at hand (saves parsing the text). */
  hnpOpts?: HnpOption[];
  /** Accepted: the session's IPv4 HoA (uint32), prefix length and default router. */
  v4?: { addr: number; prefixLen: number; router: number } | null;
  /** Rejected with an IPv4 request: the HoA Reply status (RFC 5844 §3.3.2). */
  v4ReplyStatus?: number;
  /** Link-local Address option value when the PBU had one (RFC 5213 §5.3.6). */
  lla?: Uint8Array;
  /** Timestamp to put instead of the PBU's (156/157: the LMA's time of day, ms). */
  nowMs?: number;
  /** GRE Key option: a key, null (Length 2, GRE mode only), or undefined (omit). */
  greKey?: number | null;
  /** RFC 5844 §4.2.2: IPv4-UDP encapsulation chosen (F flag accepted): NAT Detection option with F = 1. */
  udpEncap?: boolean;
}

const ALL_ZERO_16 = Buffer.alloc(16);
/** Immutable HI / ATT options for every value (the encoder only reads them). */
const HI_OPTS: HandoffIndicatorOption[] = Array.from({ length: 256 }, (_, hi) => Object.freeze({ type: 'handoffIndicator' as const, hi }));
const ATT_OPTS: AccessTechTypeOption[] = Array.from({ length: 256 }, (_, att) => Object.freeze({ type: 'accessTechType' as const, att }));
const EMPTY = Buffer.alloc(0);

/** RFC 5213 §5.3.6 status -> RFC 5844 §3.3.2 HoA Reply status for a rejected IPv4 request. */
export function v4ReplyStatusFor(status: number): number {
  switch (status) {
    case 170: // NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE
    case 171: // NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS (RFC 5844 §3.1.2.2: 129)
    case 129:
      return Ipv4HoaReplyStatus.ADMINISTRATIVELY_PROHIBITED;
    default: // 130 (RFC 5844 §3.1.2.2: 128) and everything else
      return Ipv4HoaReplyStatus.FAILURE_REASON_UNSPECIFIED;
  }
}

/** Accepted HNP options: reuse the PBU's option objects when they carry exactly the session's prefixes. */
function hnpOptionsFor(hnps: readonly string[], pbu: PbuView, pbuKeys: readonly string[] | undefined): HnpOption[] {
  if (pbuKeys !== undefined && pbuKeys.length === hnps.length && pbu.hnpOpts.length === hnps.length) {
    let same = true;
    for (let i = 0; i < hnps.length; i++) if (pbuKeys[i] !== hnps[i]) same = false;
    if (same) return pbu.hnpOpts;
  }
  const out: HnpOption[] = [];
  for (const h of hnps) {
    const p = parsePrefix(h);
    out.push({ type: 'hnp', prefixLen: p.prefixLen, prefix: p.prefix });
  }
  return out;
}

/**
 * The PBA for a PBU (RFC 5213 §5.3.6 with RFC 5844 §3.1.2.6 and RFC 5845 §5.2).
 * `pbuKeys` are the canonical texts of the PBU's HNP options, in order, if computed.
 */
export function buildPba(pbu: PbuView, d: PbaDecision, pbuKeys?: readonly string[]): BindingAck {
  const accepted = d.status < 128;
  const options: MobilityOption[] = [];
  // MN-ID: copied, or a zero-length identifier when the PBU had none.
  options.push(pbu.mnIdOpt ?? { type: 'mnId', subtype: MnIdSubtype.NAI, id: EMPTY });
  // HNPs.
  if (!accepted) {
    if (pbu.hnpOpts.length > 0) for (const o of pbu.hnpOpts) options.push(o);
    else if (pbu.v4Reqs.length === 0) options.push({ type: 'hnp', prefixLen: 0, prefix: ALL_ZERO_16 });
  } else if (pbu.hnpOpts.length > 0 || pbu.v4Reqs.length === 0) {
    // RFC 5844 §3.1.2.6: a PBU with only an IPv4 HoA Request gets no HNP option.
    const hnps = d.hnps ?? [];
    if (hnps.length > 0) for (const o of d.hnpOpts ?? hnpOptionsFor(hnps, pbu, pbuKeys)) options.push(o);
    else if (pbu.hnpOpts.length > 0) for (const o of pbu.hnpOpts) options.push(o); // selective de-registration echo
    else options.push({ type: 'hnp', prefixLen: 0, prefix: ALL_ZERO_16 });
  }
  options.push(HI_OPTS[pbu.hi ?? 0]);
  options.push(ATT_OPTS[pbu.att ?? 0]);
  if (pbu.timestamp !== undefined) {
    options.push({ type: 'timestamp', value: d.nowMs !== undefined ? timestampFromMs(d.nowMs) : pbu.timestamp });
  }
  if (pbu.llIdOpt) options.push(pbu.llIdOpt);
  if (pbu.llaOpt) options.push({ type: 'linkLocalAddress', addr: !accepted || d.lla === undefined ? pbu.llaOpt.addr : d.lla });
  // RFC 5844 §3.1.2.6: HoA Reply whenever an IPv4 HoA Request was made.
  if (pbu.v4Reqs.length > 0) {
    const req = pbu.v4Reqs[0];
    if (!accepted) {
      options.push({ type: 'ipv4HoaReply', status: d.v4ReplyStatus ?? v4ReplyStatusFor(d.status), prefixLen: req.prefixLen, addr: req.addr });
    } else if (d.v4) {
      options.push({ type: 'ipv4HoaReply', status: Ipv4HoaReplyStatus.SUCCESS, prefixLen: d.v4.prefixLen, addr: d.v4.addr });
      // Default-Router only on success (RFC 5844 §3.1.2.6). We read "success" as any accepted
      // status, so a GRE status-2 PBA (RFC 5845) still tells the MAG its router.
      options.push({ type: 'ipv4DefaultRouter', addr: d.v4.router });
    } else {
      // Accepted without IPv4 state (selective IPv4 de-registration): echo the request.
      options.push({ type: 'ipv4HoaReply', status: Ipv4HoaReplyStatus.SUCCESS, prefixLen: req.prefixLen, addr: req.addr });
    }
  }
  if (accepted && d.greKey !== undefined) options.push({ type: 'greKey', key: d.greKey });
  // The MAG picks IPv4-UDP only when the PBA carries NAT Detection with F = 1 (RFC 5844 §4.2.2);
  // refresh time all ones: no NAT keepalives (RFC 5844 assumes no NAT, RFC 5555 §3.2.2).
  if (accepted && d.udpEncap) options.push({ type: 'natDetection', f: true, refreshTime: 0xffffffff });
  return {
    type: 'ba',
    status: d.status,
    flags: BaFlag.P, // RFC 5213 §8.2; T never set: no TLV-header UDP support (RFC 5845 §7.2)
    seq: pbu.seq,
    lifetime: accepted ? d.lifetime : 0,
    options,
  };
}

/** RFC 6275 §9.2: Binding Error, status 2 (unrecognized MH Type). No home address in PMIPv6: ::. */
export function buildBindingError(status: number): BindingError {
  return { type: 'be', status, homeAddress: ALL_ZERO_16, options: [] };
}

/** RFC 5847 §3.3: a request (R=0) or a response (R=1, with our Restart Counter, §3.4). */
export function buildHeartbeat(seq: number, response: boolean, restartCounter: number, unsolicited = false): Heartbeat {
  return {
    type: 'heartbeat',
    flags: (response ? HeartbeatFlag.R : 0) | (unsolicited ? HeartbeatFlag.U : 0),
    seq: seq >>> 0,
    options: response ? [{ type: 'restartCounter', counter: restartCounter >>> 0 }] : [],
  };
}

/** RFC 5846 §8.1: BRI from the LMA. Per-peer (G) carries no options. */
export function buildBri(
  seq: number,
  trigger: number,
  opts: { global?: boolean; ipv4Only?: boolean; mnId?: MnIdOption; hnps?: readonly string[]; v4?: { addr: number; prefixLen: number } },
): BindingRevocationIndication {
  const options: MobilityOption[] = [];
  if (!opts.global) {
    if (opts.mnId) options.push(opts.mnId);
    if (!opts.ipv4Only) for (const o of hnpOptionsFor(opts.hnps ?? [], EMPTY_PBU, undefined)) options.push(o);
    if (opts.v4 && (opts.ipv4Only || (opts.hnps ?? []).length === 0)) {
      options.push({ type: 'ipv4HoaRequest', prefixLen: opts.v4.prefixLen, addr: opts.v4.addr });
    }
  }
  return {
    type: 'bri',
    trigger,
    seq: seq & 0xffff,
    flags: BrFlag.P | (opts.global ? BrFlag.G : 0) | (opts.ipv4Only ? BrFlag.V : 0),
    options,
  };
}

/** RFC 5846 §6.1.2: BRA copying sequence number and P, V, G from the BRI. */
export function buildBra(seq: number, briFlags: number, status: number, options: MobilityOption[] = []): BindingRevocationAck {
  return { type: 'bra', status, seq, flags: briFlags & (BrFlag.P | BrFlag.V | BrFlag.G), options };
}

const EMPTY_PBU: PbuView = {
  seq: 0, flags: 0, lifetime: 0, mnIdOpt: undefined, hnpOpts: [], hi: undefined, att: undefined, timestamp: undefined,
  llIdOpt: undefined, llaOpt: undefined, v4Reqs: [], gre: undefined,
};
