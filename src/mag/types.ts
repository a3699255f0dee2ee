// The MAG's public shapes: configuration (RFC 5213 §9.2/§9.3, RFC 6275 §12, RFC 5847 §5),
// injected dependencies, the event sink, the read-only Binding Update List view and the
// plain counters. Everything here is data; the state machine is in sm.ts.
import { HandoffIndicator, RFC6543_MAG_LINK_LOCAL_ADDRESS, Rfc5847Defaults, Rfc6275, ipv6ToString } from '../mh/index.ts';
import type { AttachDetector, RouterAdvertiser } from '../attach/types.ts';
import type { DataPlane } from '../dataplane/types.ts';
import type { MagPolicySource } from '../policy/source.ts';
import type { MhTransport } from '../transport/types.ts';
import type { Clock } from '../util/clock.ts';
import type { Logger } from '../util/log.ts';

/** Which GRE Key option (RFC 5845) policy the MAG follows. */
export type MagGreMode =
  /** From the MN's profile: greKeyPolicy 'optional' | 'required' asks for GRE, 'none' does not. */
  | 'profile'
  /** Ask for GRE for every MN (unless the LMA says status 2 or omits the option). */
  | 'always'
  /** Never offer GRE; still answers status 163 by retrying with a key. */
  | 'never';

export interface MagConfig {
  /** MAG name: a label in logs and metrics. */
  id: string;
  /** Proxy-CoA (RFC 5213 §2.2): our address towards the LMA, the local end of the tunnels. */
  proxyCoa: string;
  /** LMAA when the MN's profile names none (RFC 5213 §6.2: the LMAA is mandatory policy). */
  defaultLma: string | null;
  /** UDP port of the LMA (RFC 5844 §4: 5436). */
  lmaPort: number;
  /** Lifetime requested in each PBU, seconds (encoded in 4-second units, RFC 6275 §6.1.7). */
  lifetimeS: number;
  /** RFC 5213 §9.3 TimestampBasedApproachInUse: Timestamp option + per-MAG sequence counter. */
  timestampMode: boolean;
  /**
   * RFC 5213 §9.1 TimestampValidityWindow, ms: the LMA's time carried by a 157 raises the next
   * timestamp of that one binding, never beyond our clock plus this window.
   */
  timestampValidityWindowMs: number;
  /**
   * Set the H (home registration) flag. RFC 5213 §6.9.1.5 and §8.1 require only A and P;
   * H is an RFC 6275 mobile-node request whose §10.3.1 processing RFC 5213 §5.3 replaces,
   * so the default is false. An interop knob for LMAs that insist on H.
   */
  homeRegistrationFlag: boolean;
  /** RFC 5844 §4 ForceIPv4UDPEncapsulationSupport: set F in PBUs (default false). */
  forceUdpEncapsulation: boolean;
  /** Handoff Indicator of an initial PBU when the attach event gives none (RFC 5213 §6.9.1.1: 4 = unknown). */
  defaultHandoffIndicator: number;
  /**
   * RFC 5213 §9.3 FixedMAGLinkLocalAddressOnAllAccessLinks. Non-zero (RFC 6543 default):
   * no Link-local Address option. "::" (ALL_ZERO): the PBU carries the option and the LMA assigns one.
   */
  fixedMagLinkLocal: string;
  /** RFC 6275 §12 INITIAL_BINDACK_TIMEOUT (RFC 5213 §6.9.4 item 1), ms. */
  initialBindackTimeoutMs: number;
  /** RFC 6275 §12 MAX_BINDACK_TIMEOUT, ms. */
  maxBindackTimeoutMs: number;
  /** Retransmissions of a registration PBU before giving up (RFC 5213 §6.9.4 bounds it at our choice). */
  maxRetransmissions: number;
  /** Retransmissions of a de-registration (RFC 5213 §6.9.1.4: 0, delete after INITIAL_BINDACK_TIMEOUT). */
  deregRetransmissions: number;
  /** RFC 6275 §11.8 MAX_UPDATE_RATE: PBUs per second per mobility session. */
  maxUpdateRate: number;
  /** Re-register after this fraction of the granted lifetime (RFC 5213 §6.9.1.3). */
  refreshRatio: number;
  /** Ask for an IPv4 home address (RFC 5844 §3.2.3.1) when the profile allows IPv4. */
  requestIpv4: boolean;
  greMode: MagGreMode;
  /** Status-driven re-sends (155, 156, 157, 163, 170-172, 135) per registration before giving up. */
  maxStatusRetries: number;
  /** Wait before re-registering after status 156 when no time-sync hook is given, ms. */
  resyncDelayMs: number;
  /** RFC 5847 §5 HEARTBEAT_INTERVAL, seconds; 0 disables our requests (we still answer). */
  heartbeatIntervalS: number;
  /** RFC 5847 §5 MISSING_HEARTBEATS_ALLOWED. */
  missingHeartbeatsAllowed: number;
  /** RFC 5847 §3.2 our Restart Counter (main/ persists it and bumps it on a state-losing start). */
  restartCounter: number;
  /** First PBU sequence number in timestamp mode (default random). */
  initialSeq?: number;
}

export type MagConfigInput = Partial<MagConfig> & { proxyCoa: string };

export const MAG_DEFAULTS: Omit<MagConfig, 'proxyCoa'> = {
  id: 'mag1',
  defaultLma: null,
  lmaPort: 5436,
  lifetimeS: 300,
  timestampMode: true,
  timestampValidityWindowMs: 300,
  homeRegistrationFlag: false,
  forceUdpEncapsulation: false,
  defaultHandoffIndicator: HandoffIndicator.UNKNOWN,
  fixedMagLinkLocal: ipv6ToString(RFC6543_MAG_LINK_LOCAL_ADDRESS),
  initialBindackTimeoutMs: Rfc6275.INITIAL_BINDACK_TIMEOUT_MS,
  maxBindackTimeoutMs: Rfc6275.MAX_BINDACK_TIMEOUT_MS,
  maxRetransmissions: 6,
  deregRetransmissions: 0,
  maxUpdateRate: Rfc6275.MAX_UPDATE_RATE_PER_S,
  refreshRatio: 0.75,
  requestIpv4: true,
  greMode: 'profile',
  maxStatusRetries: 3,
  resyncDelayMs: 5000,
  heartbeatIntervalS: Rfc5847Defaults.HEARTBEAT_INTERVAL_S,
  missingHeartbeatsAllowed: Rfc5847Defaults.MISSING_HEARTBEATS_ALLOWED,
  restartCounter: 0,
};

export function resolveMagConfig(input: MagConfigInput): MagConfig {
  const c = { ...MAG_DEFAULTS, ...stripUndefined(input) } as MagConfig;
  if (!c.proxyCoa) throw new RangeError('mag.proxyCoa is required');
  if (!(c.refreshRatio > 0 && c.refreshRatio < 1)) throw new RangeError(`mag.refreshRatio must be in (0, 1), got ${c.refreshRatio}`);
  if (!(c.lifetimeS >= 4 && c.lifetimeS <= 262140)) throw new RangeError(`mag.lifetimeS must be 4..262140, got ${c.lifetimeS}`);
  if (c.maxUpdateRate < 1) throw new RangeError('mag.maxUpdateRate must be >= 1');
  if (c.initialBindackTimeoutMs <= 0 || c.maxBindackTimeoutMs < c.initialBindackTimeoutMs) {
    throw new RangeError('mag: need 0 < initialBindackTimeoutMs <= maxBindackTimeoutMs');
  }
  return c;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/* ------------------------------------------------------------------------ */
/* Dependencies and events                                                   */
/* ------------------------------------------------------------------------ */

export interface MagDeps {
  clock: Clock;
  transport: MhTransport;
  dataPlane: DataPlane;
  policy: MagPolicySource;
  /** Attach/detach source; also asked `isAttached` before refreshes (RFC 5213 §6.13). */
  detector?: AttachDetector;
  events?: MagEventSink;
  /** Per-MN Router Advertisements on the access link (RFC 5213 §6.7): told of every binding result (access.ts). */
  advertiser?: RouterAdvertiser;
  /**
   * RFC 5213 §6.9.1.2 item 9: after status 156 re-register only once the clock is synced to the
   * domain time source. Resolves true when synced. Without it the MAG waits resyncDelayMs.
   */
  timeSync?: () => Promise<boolean>;
  log?: Logger;
}

export type MagFailReason =
  | 'rejected' // PBA status >= 128 (status in the event)
  | 'timeout' // no PBA after the bounded retransmissions
  | 'not-eligible' // no profile or profile disabled (RFC 5213 §6.9.1.1 item 1)
  | 'no-lma' // profile names no LMA and no default is configured
  | 'policy-error' // the policy source failed
  | 'blocked' // an earlier 152 (RFC 5213 §6.9.1.2 item 7) until administrative action
  | 'option-mismatch' // PBA echoed different HI/ATT/LL-ID/MN-ID (§6.9.1.2 item 6): held
  | 'dataplane' // tunnel/route set-up failed; the binding is de-registered
  | 'expired'; // the binding lifetime ran out while refreshing

export type MagEvent =
  | {
      type: 'registered';
      mnId: string;
      link: string;
      lma: string;
      hnps: string[];
      ipv4HoA: string | null;
      lifetimeS: number;
      handoffIndicator: number;
    }
  | { type: 'refreshed'; mnId: string; link: string; lma: string; hnps: string[]; ipv4HoA: string | null; lifetimeS: number }
  | { type: 'deregistered'; mnId: string; link: string; lma: string; acked: boolean }
  | { type: 'failed'; mnId: string; link: string; lma: string | null; status: number | null; reason: MagFailReason }
  | { type: 'revoked'; mnId: string; link: string; lma: string; trigger: number; ipv4Only: boolean }
  | { type: 'lmaUnreachable'; lma: string; missing: number }
  | { type: 'lmaReachable'; lma: string }
  /** previous: the LMA's earlier Restart Counter; -1 when an unsolicited response (U = 1) announced the restart before we had learnt it. */
  | { type: 'lmaRestarted'; lma: string; restartCounter: number; previous: number };

export interface MagEventSink {
  emit(event: MagEvent): void;
}

/* ------------------------------------------------------------------------ */
/* Read-only view (API, SNMP agent)                                          */
/* ------------------------------------------------------------------------ */

export type BuleState = 'registering' | 'registered' | 'refreshing' | 'deregistering' | 'held';

/** A snapshot of one Binding Update List entry (RFC 5213 §6.1; PMIPV6-MIB pmip6MagBLEntry). */
export interface BuleInfo {
  mnId: string;
  /** PMIPV6-MIB Pmip6MnIndex: per MN, > 0, assigned in increasing order. */
  mnIndex: number;
  /** PMIPV6-MIB Pmip6MnLLIndex: per interface (mobility session) of that MN, > 0. */
  llIndex: number;
  /** Access link (if-id of the point-to-point link). */
  link: string;
  mnLinkLayerId: string | null;
  accessTechType: number;
  state: BuleState;
  lma: string;
  lmaPort: number;
  /** Assigned HNPs (or the requested ones before the first PBA 0). */
  hnps: string[];
  hnpsAssigned: boolean;
  ipv4HoA: string | null;
  ipv4PrefixLength: number | null;
  ipv4DefaultRouter: string | null;
  /** RFC 5844 §3.3.4: the MAG acts as DHCP server (true) or relay. */
  dhcpServer: boolean;
  magLinkLocal: string | null;
  /** Handoff Indicator of the initial PBU. */
  handoffIndicator: number;
  /** Lifetime granted by the last PBA 0, seconds (0 before). */
  lifetimeS: number;
  /** ms since 1970 of the last accepted PBA (pmip6MagBLTimeRecentlyAccepted), null before. */
  acceptedAt: number | null;
  expiresAt: number | null;
  /** Sequence number of the last PBU sent. */
  seq: number;
  lastStatus: number | null;
  greKeyDownlink: number | null;
  greKeyUplink: number | null;
  tunnelId: string | null;
  retransmissions: number;
}

export interface LmaPeerInfo {
  address: string;
  port: number;
  reachable: boolean;
  restartCounter: number | null;
  missingHeartbeats: number;
  heartbeatSupported: boolean;
  greSupported: boolean;
}

export interface MagBulView {
  size(): number;
  counts(): Record<BuleState, number> & { total: number };
  /** The session of mnId on link, or mnId's only/first session when link is omitted. */
  get(mnId: string, link?: string): BuleInfo | undefined;
  getByIndex(mnIndex: number, llIndex: number): BuleInfo | undefined;
  /** Every entry in (mnIndex, llIndex) order; `limit` caps the count. */
  list(limit?: number): BuleInfo[];
  /** Entries strictly after (mnIndex, llIndex) in index order (SNMP GETNEXT); from the first without a key. */
  entriesFrom(after?: { mnIndex: number; llIndex: number }): IterableIterator<BuleInfo>;
  lmas(): LmaPeerInfo[];
  counters(): Readonly<MagCounters>;
}

/* ------------------------------------------------------------------------ */
/* Counters                                                                  */
/* ------------------------------------------------------------------------ */

export type MagMessageKind =
  | 'pbu'
  | 'pba'
  | 'heartbeatRequest'
  | 'heartbeatResponse'
  | 'bri'
  | 'bra'
  | 'bindingError'
  | 'other';

export type MagDropCause =
  | 'decode' // the codec rejected the datagram
  | 'notProxy' // BA without P (not a PBA)
  | 'unmatched' // PBA matching no outstanding PBU (§6.9.1.2 item 5)
  | 'optionMismatch' // §6.9.1.2 item 6
  | 'optionMissing' // accepted PBA without an option §5.3.6 / §8.2 require (MN-ID, HI, ATT, MN-LL-ID, Timestamp, HNP)
  | 'timestamp' // accepted PBA whose Timestamp is not the one we sent (§5.5)
  | 'unexpectedType' // BU, BRA, unknown MH type...
  | 'unknownPeer' // heartbeat response from a peer we never asked
  | 'staleHeartbeat' // heartbeat response with an unknown sequence number
  | 'badBri' // BRI failing §9.1 validation (no BRA sent)
  | 'unknownMn' // detach for an MN with no BULE
  | 'notEligible' // attach for an MN with no (enabled) profile
  | 'blocked' // attach for an MN blocked after 152
  | 'dataplane' // tunnel/route operation failed
  | 'encode'; // we could not encode a message (bad profile data)

export interface MagCounters {
  sent: Record<MagMessageKind, number>;
  received: Record<MagMessageKind, number>;
  /** PBAs received by status code. */
  pbaStatus: Record<number, number>;
  dropped: Record<MagDropCause, number>;
  retransmissions: number;
  /** PBUs held back by the MAX_UPDATE_RATE cap. */
  rateLimited: number;
  bindings: {
    registered: number;
    refreshed: number;
    deregistered: number;
    failed: number;
    revoked: number;
  };
  lmaRestarts: number;
  lmaUnreachable: number;
}

export function newMagCounters(): MagCounters {
  const kinds = (): Record<MagMessageKind, number> => ({
    pbu: 0,
    pba: 0,
    heartbeatRequest: 0,
    heartbeatResponse: 0,
    bri: 0,
    bra: 0,
    bindingError: 0,
    other: 0,
  });
  return {
    sent: kinds(),
    received: kinds(),
    pbaStatus: {},
    dropped: {
      decode: 0,
      notProxy: 0,
      unmatched: 0,
      optionMismatch: 0,
      optionMissing: 0,
      timestamp: 0,
      unexpectedType: 0,
      unknownPeer: 0,
      staleHeartbeat: 0,
      badBri: 0,
      unknownMn: 0,
      notEligible: 0,
      blocked: 0,
      dataplane: 0,
      encode: 0,
    },
    retransmissions: 0,
    rateLimited: 0,
    bindings: { registered: 0, refreshed: 0, deregistered: 0, failed: 0, revoked: 0 },
    lmaRestarts: 0,
    lmaUnreachable: 0,
  };
}
