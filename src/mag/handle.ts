// Pure decisions on received messages: does a PBA answer our PBU (RFC 5213 §6.9.1.2 items
// 3, 5, 6), what did the LMA grant (§6.9.1.2 items 12-15, RFC 5844 §3.2.3.2, RFC 5845 §5.1),
// what does a status code ask us to do (§6.9.1.2 items 7-11, RFC 5844, RFC 5845), and
// what a BRI asks of a MAG (RFC 5846 §6.2.1, §9.1). The state machine applies the result.
import {
  BaStatus,
  BraStatus,
  BrFlag,
  Ipv4HoaReplyStatus,
  RevocationTrigger,
  bytesEqual,
  getOption,
  getOptions,
  ipv4ToString,
  ipv6ToString,
  isAllZero,
  lifetimeToSeconds,
  naiFromMnId,
  prefixToString,
} from '../mh/index.ts';
import type { BindingAck, BindingRevocationIndication } from '../mh/index.ts';
import { linkLayerIdBytes } from './build.ts';

/** What the outstanding PBU carried, for the echo checks. */
export interface SentPbu {
  hi: number;
  att: number;
  mnLinkLayerId: string | null;
  /** Timestamp option value sent, or null in sequence-number mode. */
  timestamp: bigint | null;
}

/**
 * RFC 5213 §6.9.1.2 item 6: the LMA echoes HI, ATT, MN-LL-ID and MN-ID. A PBA whose echo
 * differs is ignored. (An absent option is not "different": the PBU's values stand.) The
 * MN-ID was already used to find the entry. Returns the name of the first differing option.
 */
export function echoMismatch(ba: BindingAck, sent: SentPbu): string | null {
  const hi = getOption(ba, 'handoffIndicator');
  if (hi && hi.hi !== sent.hi) return 'handoffIndicator';
  const att = getOption(ba, 'accessTechType');
  if (att && att.att !== sent.att) return 'accessTechType';
  const ll = getOption(ba, 'mnLinkLayerId');
  if (ll) {
    const want = sent.mnLinkLayerId ? linkLayerIdBytes(sent.mnLinkLayerId) : null;
    if (!want || !bytesEqual(ll.id, want)) return 'mnLinkLayerId';
  }
  return null;
}

/**
 * RFC 5213 §6.9.1.2 items 3, 6 and 12 with §5.3.6 / §8.2: an accepted PBA carries the MN-ID,
 * Handoff Indicator and Access Technology Type options, the MN-LL-ID and Timestamp options
 * when the PBU had them, and an HNP option when IPv6 was asked for and no IPv4 HoA Reply
 * stands in. The name of the first one missing, or null. Such a PBA is ignored (issue 9).
 */
export function missingOption(ba: BindingAck, sent: SentPbu, askedIpv6: boolean): string | null {
  if (!getOption(ba, 'mnId')) return 'mnId';
  if (!getOption(ba, 'handoffIndicator')) return 'handoffIndicator';
  if (!getOption(ba, 'accessTechType')) return 'accessTechType';
  if (sent.mnLinkLayerId && !getOption(ba, 'mnLinkLayerId')) return 'mnLinkLayerId';
  if (sent.timestamp !== null && !getOption(ba, 'timestamp')) return 'timestamp';
  if (askedIpv6 && !getOption(ba, 'hnp') && !getOption(ba, 'ipv4HoaReply')) return 'hnp';
  return null;
}

/**
 * RFC 5213 §5.5 (timestamp mode): an accepted PBA echoes the PBU's Timestamp. A different
 * value means the PBA is not the answer to this transmission.
 */
export function timestampMatches(ba: BindingAck, sent: SentPbu): boolean {
  if (sent.timestamp === null) return true;
  const ts = getOption(ba, 'timestamp');
  return !ts || ts.value === sent.timestamp;
}

export interface Granted {
  lifetimeS: number;
  /** NON_ZERO HNPs of the PBA, canonical text. */
  hnps: string[];
  /** IPv4 HoA Reply (RFC 5844 §3.3.2), when present. */
  ipv4: { status: number; addr: string; prefixLen: number } | null;
  ipv4DefaultRouter: string | null;
  /** RFC 5844 §3.3.4 S flag: MAG is the DHCP server. */
  dhcpServer: boolean;
  /** GRE Key option: undefined = absent, null = present without key (Length 2), number = uplink key. */
  greKey: number | null | undefined;
  /** NON_ZERO Link-local Address option. */
  linkLocal: string | null;
  /** RFC 5844 §4 / RFC 5555 §3.2.2: NAT Detection with F = IPv4-UDP encapsulation. */
  udpEncap: boolean;
}

export function granted(ba: BindingAck): Granted {
  const hnps: string[] = [];
  for (const h of getOptions(ba, 'hnp')) if (!isAllZero(h.prefix)) hnps.push(prefixToString(h.prefix, h.prefixLen));
  const r = getOption(ba, 'ipv4HoaReply');
  const dr = getOption(ba, 'ipv4DefaultRouter');
  const dhcp = getOption(ba, 'ipv4DhcpSupportMode');
  const gre = getOption(ba, 'greKey');
  const ll = getOption(ba, 'linkLocalAddress');
  const nat = getOption(ba, 'natDetection');
  return {
    lifetimeS: lifetimeToSeconds(ba.lifetime),
    hnps,
    ipv4: r ? { status: r.status, addr: ipv4ToString(r.addr), prefixLen: r.prefixLen } : null,
    ipv4DefaultRouter: dr ? ipv4ToString(dr.addr) : null,
    dhcpServer: dhcp ? dhcp.server : false,
    greKey: gre ? gre.key : undefined,
    linkLocal: ll && !isAllZero(ll.addr) ? ipv6ToString(ll.addr) : null,
    udpEncap: nat ? nat.f : false,
  };
}

/** IPv4 HoA Reply accepted (RFC 5844 §3.3.2: 0..127 success) with a usable address. */
export function ipv4Granted(g: Granted): boolean {
  return g.ipv4 !== null && g.ipv4.status < Ipv4HoaReplyStatus.FAILURE_REASON_UNSPECIFIED && g.ipv4.addr !== '0.0.0.0';
}

/** The MAG's reaction to a PBA status for a registration or re-registration. */
export type StatusAction =
  | 'accept' // < 128 (RFC 6275 §6.1.8)
  | 'block' // 152: no more PBUs for this MN until administrative action (§6.9.1.2 item 7)
  | 'retryAllZeroHnp' // 155: request one ALL_ZERO HNP instead (§6.9.1.2 item 10)
  | 'resync' // 156: re-register after syncing the clock (§6.9.1.2 item 9)
  | 'reregister' // 157: re-register at once (§6.9.1.2 item 8)
  | 'retryWithGre' // 163 (RFC 5845 §5.1)
  | 'retryWithoutIpv4' // 170 (RFC 5844 §3.2.3.2): no IPv4 until admin action
  | 'retryDynamicIpv4' // 171: ask for 0.0.0.0 instead of the specific address
  | 'retryWithoutIpv6' // 172: no HNPs until admin action
  | 'resyncSequence' // 135 in sequence-number mode (RFC 6275 §11.7.3)
  | 'fail'; // any other >= 128 (§6.9.1.2 item 11)

export function statusAction(status: number): StatusAction {
  if (status < 128) return 'accept';
  switch (status) {
    case BaStatus.PROXY_REG_NOT_ENABLED: return 'block';
    case BaStatus.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX: return 'retryAllZeroHnp';
    case BaStatus.TIMESTAMP_MISMATCH: return 'resync';
    case BaStatus.TIMESTAMP_LOWER_THAN_PREV_ACCEPTED: return 'reregister';
    case BaStatus.GRE_KEY_OPTION_REQUIRED: return 'retryWithGre';
    case BaStatus.NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE: return 'retryWithoutIpv4';
    case BaStatus.NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS: return 'retryDynamicIpv4';
    case BaStatus.NOT_AUTHORIZED_FOR_IPV6_MOBILITY_SERVICE: return 'retryWithoutIpv6';
    case BaStatus.SEQUENCE_NUMBER_OUT_OF_WINDOW: return 'resyncSequence';
    default: return 'fail'; // incl. 173: we never send more than one IPv4 HoA Request
  }
}

/* ------------------------------------------------------------------------ */
/* Binding Revocation Indication (RFC 5846 §9.1, MAG as responder)           */
/* ------------------------------------------------------------------------ */

export type BriDecision =
  /** §6.2: discard, no BRA (format failures). */
  | { kind: 'discard'; reason: string }
  /** Answer with this status and touch nothing. */
  | { kind: 'reject'; status: number }
  /** G=1, trigger 128: every binding with this LMA. */
  | { kind: 'allPeer' }
  /** Per-MN (G=0) or G=1 trigger 129: these MN-IDs, optionally narrowed to these HNPs; V = IPv4 HoA only. */
  | {
      kind: 'mns';
      mnIds: string[];
      hnps: string[];
      ipv4Only: boolean;
      ipv4HoA: string | null;
      handover: boolean;
      global: boolean;
    };

const PER_MN_TRIGGER_MAX = RevocationTrigger.POSSIBLE_OUT_OF_SYNC_BCE_STATE;

export function decideBri(bri: BindingRevocationIndication): BriDecision {
  const p = (bri.flags & BrFlag.P) !== 0;
  const g = (bri.flags & BrFlag.G) !== 0;
  const v = (bri.flags & BrFlag.V) !== 0;
  const t = bri.trigger;
  const globalTrigger = t === RevocationTrigger.PER_PEER_POLICY || t === RevocationTrigger.REVOKING_MOBILITY_NODE_LOCAL_POLICY;
  // A MAG holds proxy bindings only: a BRI without P names no binding we could have.
  if (!p) return { kind: 'reject', status: BraStatus.BINDING_DOES_NOT_EXIST };
  if (g) {
    // §6.2.1: per-MN trigger with G set -> "Revocation Function NOT Supported".
    if (!globalTrigger) {
      return t <= PER_MN_TRIGGER_MAX
        ? { kind: 'reject', status: BraStatus.REVOCATION_FUNCTION_NOT_SUPPORTED }
        : { kind: 'reject', status: BraStatus.REVOCATION_TRIGGER_NOT_SUPPORTED };
    }
    if (t === RevocationTrigger.PER_PEER_POLICY) {
      // §9.1: P set and no mobility options, else the BRI is malformed for this intent.
      if (bri.options.length > 0) return { kind: 'discard', reason: 'per-peer BRI carries options' };
      return { kind: 'allPeer' };
    }
    const mnIds = mnIdsOf(bri);
    if (mnIds.length === 0) return { kind: 'reject', status: BraStatus.REVOKED_MOBILE_NODES_IDENTITY_REQUIRED };
    return { kind: 'mns', mnIds, hnps: [], ipv4Only: false, ipv4HoA: null, handover: false, global: true };
  }
  if (globalTrigger) return { kind: 'reject', status: BraStatus.REVOCATION_FUNCTION_NOT_SUPPORTED };
  if (t > PER_MN_TRIGGER_MAX) return { kind: 'reject', status: BraStatus.REVOCATION_TRIGGER_NOT_SUPPORTED };
  const mnIds = mnIdsOf(bri);
  // RFC 5846 §5.1: with P the MN-ID option is mandatory.
  if (mnIds.length === 0) return { kind: 'reject', status: BraStatus.REVOKED_MOBILE_NODES_IDENTITY_REQUIRED };
  const hnps: string[] = [];
  for (const h of getOptions(bri, 'hnp')) if (!isAllZero(h.prefix)) hnps.push(prefixToString(h.prefix, h.prefixLen));
  let ipv4HoA: string | null = null;
  if (v) {
    const req = getOption(bri, 'ipv4HoaRequest');
    if (!req) return { kind: 'reject', status: BraStatus.IPV4_HOME_ADDRESS_OPTION_REQUIRED };
    ipv4HoA = ipv4ToString(req.addr);
  }
  const handover =
    t === RevocationTrigger.INTER_MAG_HANDOVER_SAME_ACCESS_TYPE ||
    t === RevocationTrigger.INTER_MAG_HANDOVER_DIFFERENT_ACCESS_TYPE ||
    t === RevocationTrigger.INTER_MAG_HANDOVER_UNKNOWN;
  return { kind: 'mns', mnIds, hnps, ipv4Only: v, ipv4HoA, handover, global: false };
}

function mnIdsOf(bri: BindingRevocationIndication): string[] {
  const out: string[] = [];
  for (const o of getOptions(bri, 'mnId')) {
    const nai = naiFromMnId(o);
    if (nai) out.push(nai);
  }
  return out;
}
