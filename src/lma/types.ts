// The LMA's public shapes: configuration (RFC 5213 §9.1, RFC 5844 §5, RFC 5846 §11,
// RFC 5847 §5 variables), injected dependencies, events, the persistence hook and the
// read-only binding record the API and logs use.
import type { Clock } from '../util/clock.ts';
import type { MhTransport } from '../transport/types.ts';
import type { DataPlane } from '../dataplane/types.ts';
import type { LmaPolicySource } from '../policy/source.ts';
import type { Profile } from '../policy/profile.ts';
import type { Logger } from '../util/log.ts';
import type { CommitSignal, NewRows, PersistedBinding } from '../store/repos/bindings.ts';
import type { MagTable } from './sender.ts';
import { Rfc5213Defaults, Rfc5846Defaults, Rfc5847Defaults } from '../mh/index.ts';

export interface LmaConfig {
  /** Name of this LMA in the store (persisted bindings are keyed by it) and in logs. */
  lmaId: string;
  /** LMAA used as tunnel endpoint when the transport cannot tell the local address (IPv6 or IPv4). */
  address: string;
  /** IPv4-LMAA (RFC 5844 §4) when the PBU came over IPv4 and the local address is unknown. */
  ipv4Address: string;
  /** RFC 5213 §9.1 MinDelayBeforeBCEDelete. */
  minDelayBeforeBceDeleteMs: number;
  /** RFC 5213 §9.1 MaxDelayBeforeNewBCEAssign. */
  maxDelayBeforeNewBceAssignMs: number;
  /** RFC 5213 §5.4.1.2 (4) / §5.4.1.3 (3): the "MAY create a new session without waiting" knob. */
  createNewBceWithoutWaiting: boolean;
  /**
   * When a new session (HI=4 after the wait, or a NON_ZERO HNP request, RFC 5213 §5.4.1.1 (6))
   * needs prefixes that another session of the same MN holds, move them to the new session
   * (the old one is removed) instead of refusing with 130/155. Per-MN-Prefix profiles have no
   * "different prefix" to give, so without this a MAG that says "handoff state unknown" would be refused.
   */
  takeOverPrefixesOfSameMn: boolean;
  /** RFC 5213 §9.1 TimestampValidityWindow. */
  timestampValidityWindowMs: number;
  /** RFC 5213 §9.3 TimestampBasedApproachInUse: false = sequence numbers order PBUs, a Timestamp option is ignored. */
  timestampBasedApproachInUse: boolean;
  /** RFC 5213 §9.3 MobileNodeGeneratedTimestampInUse. */
  mobileNodeGeneratedTimestampInUse: boolean;
  /** Longest lifetime granted, seconds (the PBU's request is capped to it). */
  maxLifetimeS: number;
  /** RFC 5844 §5 AcceptForcedIPv4UDPEncapsulationRequest. */
  acceptForcedIpv4UdpEncapsulation: boolean;
  /** RFC 5847 §5 HEARTBEAT_INTERVAL; 0 disables sending heartbeat requests (responses are always sent). */
  heartbeatIntervalMs: number;
  /** RFC 5847 §5 MISSING_HEARTBEATS_ALLOWED. */
  missingHeartbeatsAllowed: number;
  /** RFC 5847 §3.2 "further action is local": delete (true) or only mark (false) a restarted MAG's bindings. */
  deleteBindingsOnPeerRestart: boolean;
  /** RFC 5846 §11 BRIMaxRetriesNumber, InitMINDelayBRIs, MAX_BRACK_TIMEOUT. */
  briMaxRetries: number;
  initMinDelayBrisMs: number;
  maxBrackTimeoutMs: number;
  /** RFC 5846 §8.1: on HI=4 with one existing BCE, ask the old MAG with a BRI instead of only waiting. */
  revokeOnUnknownHandoff: boolean;
  /** RFC 5846 §8.2: accept a MAG's global (per-peer) BRI for its own bindings. */
  allowMagGlobalRevocation: boolean;
  /** How long a BCE's policy snapshot spares a re-registration from the policy source. */
  policyCacheTtlMs: number;
  /** Binding Errors per second (RFC 6275 §9.2 unknown MH Type), token bucket of the same depth. */
  bindingErrorRatePerS: number;
  /**
   * Addresses and names under which this LMA is the MN's anchor. When non-empty, a profile
   * whose `lma` is set to something else gets 153 (RFC 5213 §5.3.1 step 7). Empty: not checked.
   */
  servedLmaNames: string[];
  /**
   * Services (RFC 5149) with a routing context of their own (dataplane.contexts): an MN whose
   * profile names one gets its IPv4 HoA in that context's address space (the same private
   * address may be another context's MN's) and its tunnel and routes in that context. Empty:
   * one context, every IPv4 HoA unique.
   */
  addressContexts: string[];
  /** Longest time a lazy change (a refresh, a de-registration, an expiry) waits to be written to the binding store. */
  persistIntervalMs: number;
  /** Bounds on work queued by what PBUs say: MNs with PBUs pending, PBUs queued per MN (dropped beyond, counted). */
  maxPendingMns: number;
  maxQueuedPerMn: number;
  /** 154 answers per second to PBUs refused from memory (unknown source, forged Alternate-CoA); beyond: dropped, counted. */
  refusalRatePerS: number;
  /**
   * Acknowledged means durable: PBA 0 for a new or changed binding only after it is committed
   * (commit.ts). False = write-behind only, for comparison in benches; never in service.
   */
  durableAcks: boolean;
  /** While the binding store fails: shortest time between attempts (meanwhile batches go to the journal). */
  commitRetryMs: number;
  /** A binding store commit not done within this time counts as failed. */
  commitTimeoutMs: number;
  /**
   * A refresh that changes only the lifetime is acknowledged before it is written (lazily)
   * when the lifetime already written lasts at least this long; otherwise its PBA waits for
   * the commit like any change. Covers a restart and the MAGs' re-registration after it.
   */
  lazyRefreshMarginMs: number;
}

export const defaultLmaConfig: LmaConfig = {
  lmaId: 'lma',
  address: '::1',
  ipv4Address: '127.0.0.1',
  minDelayBeforeBceDeleteMs: Rfc5213Defaults.MIN_DELAY_BEFORE_BCE_DELETE_MS,
  maxDelayBeforeNewBceAssignMs: Rfc5213Defaults.MAX_DELAY_BEFORE_NEW_BCE_ASSIGN_MS,
  createNewBceWithoutWaiting: false,
  takeOverPrefixesOfSameMn: true,
  addressContexts: [],
  timestampValidityWindowMs: Rfc5213Defaults.TIMESTAMP_VALIDITY_WINDOW_MS,
  mobileNodeGeneratedTimestampInUse: Rfc5213Defaults.MOBILE_NODE_GENERATED_TIMESTAMP_IN_USE,
  timestampBasedApproachInUse: true,
  maxLifetimeS: 3600,
  acceptForcedIpv4UdpEncapsulation: false,
  heartbeatIntervalMs: Rfc5847Defaults.HEARTBEAT_INTERVAL_S * 1000,
  missingHeartbeatsAllowed: Rfc5847Defaults.MISSING_HEARTBEATS_ALLOWED,
  deleteBindingsOnPeerRestart: false,
  briMaxRetries: Rfc5846Defaults.BRI_MAX_RETRIES_NUMBER,
  initMinDelayBrisMs: Rfc5846Defaults.INIT_MIN_DELAY_BRIS_MS,
  maxBrackTimeoutMs: Rfc5846Defaults.MAX_BRACK_TIMEOUT_MS,
  revokeOnUnknownHandoff: true,
  allowMagGlobalRevocation: true,
  policyCacheTtlMs: 300_000,
  bindingErrorRatePerS: 10,
  servedLmaNames: [],
  persistIntervalMs: 1000,
  maxPendingMns: 20_000,
  maxQueuedPerMn: 16,
  refusalRatePerS: 100,
  durableAcks: true,
  commitRetryMs: 1000,
  commitTimeoutMs: 5000,
  lazyRefreshMarginMs: 60_000,
};

/** The binding store port (group commit, restart recovery). `BindingRepo` (src/store) fits it as is. */
export interface BindingStore {
  /**
   * One transaction: every upsert and deletion of one LMA's rows, or none. Resolves once
   * committed. `signal` aborted: the caller gave up waiting; the transaction must not commit
   * after that (roll back instead), or an old batch could land after a newer one.
   * `fresh`: how many of the upserts (the first ones) are rows of new sessions, never written
   * before (a hint: a store may insert them without looking for an existing row).
   */
  commit(lmaId: string, upserts: readonly PersistedBinding[], removals: readonly string[], signal?: CommitSignal, fresh?: number): Promise<void>;
  /** Optional: a batch of new rows only, encoded by their owner (commit(lmaId, rows.rows(), [], signal, rows.count) otherwise). */
  insertNew?(lmaId: string, rows: NewRows, signal?: CommitSignal): Promise<void>;
  loadLive(lmaId: string, now?: Date): Promise<PersistedBinding[]>;
}

/**
 * Local, durable journal of batches the binding store could not take (database outage):
 * appended (and flushed to disk) before the PBAs go out, written to the store when it
 * returns, read at start to overlay the store's rows.
 */
export interface BindingJournal {
  append(upserts: readonly PersistedBinding[], removals: readonly string[]): Promise<void>;
  /** Everything appended and not cleared, coalesced by session key (null: deleted), oldest first. */
  load(): Promise<Map<string, PersistedBinding | null>>;
  clear(): Promise<void>;
}

/** What a RestartCounterStore holds: the counter, and whether the run that stored it stopped cleanly. */
export interface RestartCounterState {
  counter: number;
  /** False while a run is going (and after a crash); true after a clean stop. */
  cleanStop: boolean;
}

/** Where the RFC 5847 §3.2 Restart Counter survives restarts (a file in dataDir, a row ...). Durable when save resolves. */
export interface RestartCounterStore {
  load(): Promise<RestartCounterState | null>;
  save(state: RestartCounterState): Promise<void>;
}

/** What a policy source that can answer from memory says (see MemoryLmaPolicy). */
export interface PolicyAnswer {
  profile: Profile | null;
  magAuthorized: boolean;
}

/**
 * Optional capability of a policy source that holds answers in memory (a map, a
 * prefetched or cached copy of the store): `policyNow` answers at once, or returns
 * undefined when the answer must come from `profile` / `magAuthorized`. The LMA then
 * decides an initial registration without waiting for promises (RFC 5213 §5.3.1 checks
 * 5-8 are the same either way).
 */
export interface MemoryLmaPolicy {
  policyNow?(mnId: string, proxyCoa: string): PolicyAnswer | undefined;
  /**
   * A number that changes whenever any answer of policyNow may change (a profile or the MAG
   * table changed, memory dropped); undefined while the source does not follow changes. A
   * binding's policy snapshot taken after the number last changed serves its re-registrations
   * past lma.policyCacheTtl (handle.ts), for at most POLICY_FOLLOWED_MAX_MS.
   */
  policyGeneration?(): number | undefined;
}

export interface LmaDeps {
  transport: MhTransport | MhTransport[];
  dataPlane: DataPlane;
  policy: LmaPolicySource & MemoryLmaPolicy;
  /** Provisioned MAGs in memory (sender.ts): PBUs from other sources get 154 before any per-MN work. */
  mags?: MagTable;
  clock?: Clock;
  events?: LmaEventSink;
  store?: BindingStore;
  /** Where batches go while the store fails (without one, PBAs wait for the store). */
  journal?: BindingJournal;
  restartCounterStore?: RestartCounterStore;
  /**
   * MAGs to tell about a restart that lost state (RFC 5847 §3.2 unsolicited Heartbeat
   * Response) besides those of the restored bindings, e.g. the provisioned ones.
   */
  knownMags?: () => Promise<{ address: string; port?: number }[]>;
  logger?: Logger;
  config?: Partial<LmaConfig>;
}

/** A binding as the API, logs and events see it (a snapshot; camelCase JSON). */
export interface BindingInfo {
  sessionKey: string;
  mnId: string;
  /** MN link-layer identifier, lowercase hex with colons, or null (RFC 5213 §5.1: ALL_ZERO). */
  mnLinkLayerId: string | null;
  accessTechnologyType: number;
  handoffIndicator: number;
  proxyCoa: string;
  /** UDP source port of the MAG (RFC 5844 §4), when signalling runs over UDP. */
  magPort: number | null;
  /** LMAA: local end of the tunnel and source of our signalling for this binding. */
  lmaAddress: string;
  carriage: string;
  hnps: string[];
  ipv4HoA: string | null;
  ipv4PrefixLength: number | null;
  ipv4DefaultRouter: string | null;
  /** MAG link-local address on the MN's link (RFC 5213 §5.3.6), when one was negotiated. */
  magLinkLocalAddress: string | null;
  lifetimeS: number;
  registeredAt: string;
  refreshedAt: string;
  expiresAt: string;
  state: 'active' | 'deregistering';
  /** RFC 5846 §8.1 "revocation in progress". */
  revoking: boolean;
  /** The MAG restarted (RFC 5847 §3.2) since this binding was last refreshed. */
  peerRestarted: boolean;
  /** False while the MAG misses more than MISSING_HEARTBEATS_ALLOWED heartbeats (RFC 5847 §3.1). */
  magReachable: boolean;
  /** RFC 5213 §8.8 timestamp of the last accepted PBU as ms since 1970, or null (sequence numbers). */
  timestampMs: number | null;
  sequence: number;
  tunnel: { encap: string; greKeyUplink: number | null; greKeyDownlink: number | null } | null;
}

export type BindingEventKind = 'created' | 'refreshed' | 'handed-off' | 'deregistered' | 'expired' | 'revoked';

export interface BindingEvent {
  kind: BindingEventKind;
  /** ms since 1970 (the injected clock). */
  at: number;
  binding: BindingInfo;
  /** handed-off: where it was before. */
  previousProxyCoa?: string;
  /**
   * Why: 'min-delay-elapsed' (de-registration done), 'superseded' (a new session took its
   * prefixes), 'selective' (IPv4 or IPv6 part only), 'peer-restart', 'bri-acknowledged',
   * 'bri-timeout', 'mag-initiated', 'lifetime' ...
   */
  reason?: string;
}

export type PeerEventKind = 'unreachable' | 'reachable' | 'restarted' | 'heartbeat-unsupported';

export interface PeerEvent {
  kind: PeerEventKind;
  at: number;
  address: string;
  port: number | null;
  /** Bindings the LMA holds with this MAG at the time. */
  bindings: number;
  /** restarted: the old and new Restart Counter (RFC 5847 §3.2). */
  previousRestartCounter?: number;
  restartCounter?: number;
}

/** What the LMA tells the rest of the process (log already written; SNMP, API, audit listen). */
export interface LmaEventSink {
  binding?(e: BindingEvent): void;
  peer?(e: PeerEvent): void;
  /** false: do not send 'refreshed' events (re-registrations are the hot path; each event is a snapshot). */
  refreshed?: boolean;
}

/** A MAG the LMA holds bindings with (or recently heard from). */
export interface PeerInfo {
  address: string;
  port: number | null;
  carriage: string;
  bindings: number;
  reachable: boolean;
  missingHeartbeats: number;
  restartCounter: number | null;
  heartbeatSupported: boolean;
}

/** How a revocation ended (RFC 5846 §6.2.2, §6.3). */
export interface RevocationOutcome {
  /** 'acknowledged' = BRA received; 'timeout' = retries exhausted; 'not-found' = nothing to revoke. */
  result: 'acknowledged' | 'timeout' | 'not-found' | 'superseded';
  /** BRA status when acknowledged (RFC 5846 §5.2). */
  status?: number;
  /** Bindings removed. */
  removed: number;
}
