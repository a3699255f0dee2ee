// LMA counters: one plain object per LMA (running totals the SNMP agent reads as
// Counter32, RFC 6475 pmip6BindingRegCounters) and the same numbers on the process
// prom-client registry, pulled at scrape time (no work on the packet path).
import { Counter, Gauge } from 'prom-client';
import { registry } from '../metrics/registry.ts';
import type { DecodeErrorCode } from '../mh/index.ts';
import type { BindingEventKind } from './types.ts';
import { SENDER_REFUSALS, type SenderRefusal } from './sender.ts';

export const RX_TYPES = [
  'pbu', 'bu', 'pba', 'be', 'heartbeat_request', 'heartbeat_response', 'bri', 'bra', 'unknown',
] as const;
export type RxType = (typeof RX_TYPES)[number];

export const TX_TYPES = ['pba', 'be', 'heartbeat_request', 'heartbeat_response', 'bri', 'bra'] as const;
export type TxType = (typeof TX_TYPES)[number];

/** Why a received datagram was dropped without an answer. */
export const DROP_CAUSES = [
  // decoder (RFC 6275 §9.2), one per DecodeErrorCode; 'bad-option-value' is an option field no
  // message can carry (HNP Prefix Length > 128, IPv4 prefix length > 32), nothing a PBA could echo
  'truncated', 'bad-payload-proto', 'bad-header-len', 'bad-checksum', 'bad-option-length', 'bad-option-value', 'option-overrun', 'bad-br-type',
  'oversized', // more than an MH can be
  'bu-not-proxy', // a BU without the P flag: we are not a MIPv6 home agent
  'unexpected-ba', // a BA/PBA sent to an LMA
  'unexpected-be', // a Binding Error we cannot attribute
  'bra-unknown-seq', // RFC 5846 §6.2.2: no outstanding BRI with that sequence number
  'heartbeat-unmatched', // a heartbeat response with no request outstanding
  'be-rate-limited', // RFC 6275 §9.2: Binding Error not sent, over the rate limit
  'policy-unavailable', // the policy source failed and no cached policy could stand in
  'unencodable-reply', // the reply would not fit an MH (e.g. echoing hundreds of HNPs)
  'internal-error', // an exception in processing (counted, logged, the process keeps going)
  'refusal-rate-limited', // a PBU refused from memory (sender.ts) whose 154 was over the reply rate
  'mn-queue-full', // the MN already has maxQueuedPerMn PBUs waiting: this one is dropped (the MAG retransmits)
  'mn-queues-full', // maxPendingMns MNs already have work waiting
] as const;
export type DropCause = (typeof DROP_CAUSES)[number];
const _decodeCausesAreDropCauses: DecodeErrorCode extends DropCause ? true : never = true;
void _decodeCausesAreDropCauses;

/** PBUs answered with nothing, as RFC 5213 says. */
export const IGNORE_REASONS = [
  'dereg-coa-mismatch', // §5.3.5 (1): de-registration from a MAG that no longer holds the binding
  'dereg-no-session', // §5.4.1.x: lifetime 0 and no session matches
  'replaced-while-waiting', // §5.4.1.2 (4): a newer PBU replaced one waiting for MaxDelayBeforeNewBCEAssign
  'no-ack-requested', // RFC 6275 §10.3.1: A flag clear and accepted
] as const;
export type IgnoreReason = (typeof IGNORE_REASONS)[number];

/** Which RFC 5213 §5.5 timestamp check refused a PBU (status 157 for 'lower', 156 for the rest). */
export const TIMESTAMP_REJECTS = [
  'lower', // 157: older than the last accepted timestamp of the MN
  'equal', // 156: the same as the last accepted one (a replay, or a retransmission with its old timestamp)
  'behind', // 156: more than TimestampValidityWindow before the PBU's arrival time (path.ts arrivedAt)
  'ahead', // 156: more than TimestampValidityWindow after it
] as const;
export type TimestampReject = (typeof TIMESTAMP_REJECTS)[number];

const BINDING_EVENTS: readonly BindingEventKind[] = ['created', 'refreshed', 'handed-off', 'deregistered', 'expired', 'revoked'];

export interface LmaCounters {
  rx: Record<RxType, number>;
  tx: Record<TxType, number>;
  /** PBAs sent by status code (index = status). */
  pbaByStatus: number[];
  dropped: Record<DropCause, number>;
  pbuIgnored: Record<IgnoreReason, number>;
  /** PBUs refused from memory before any per-MN work (sender.ts), by cause (answered 154 within the reply rate). */
  refused: Record<SenderRefusal, number>;
  /** PBUs refused by the timestamp checks (RFC 5213 §5.5), by the check that failed. */
  timestampRejects: Record<TimestampReject, number>;
  bindings: Record<BindingEventKind, number>;
  /** RFC 6475 registration counters (RFC 5213 §5.3.2 - §5.3.5). */
  reg: { initial: number; extensionNoHandoff: number; extensionAfterHandoff: number; deregistrations: number };
  heartbeat: { missed: number; peersUnreachable: number; peerRestarts: number };
  revocation: { initiated: number; acknowledged: number; timedOut: number; received: number };
  persist: { writes: number; errors: number; commits: number; journalled: number; waits: number; waitFailures: number };
  /** PBUs whose MN-ID is not a usable identifier (answered 153 without a lookup). */
  badMnIds: number;
  /** Send failures reported by a transport. */
  sendErrors: number;
  /** When these counters started (ms since 1970). */
  discontinuityTime: number;
}

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  const o = {} as Record<K, number>;
  for (const k of keys) o[k] = 0;
  return o;
}

export function newCounters(now: number): LmaCounters {
  return {
    rx: zeros(RX_TYPES),
    tx: zeros(TX_TYPES),
    pbaByStatus: new Array<number>(256).fill(0),
    dropped: zeros(DROP_CAUSES),
    pbuIgnored: zeros(IGNORE_REASONS),
    refused: zeros(SENDER_REFUSALS),
    timestampRejects: zeros(TIMESTAMP_REJECTS),
    bindings: zeros(BINDING_EVENTS),
    reg: { initial: 0, extensionNoHandoff: 0, extensionAfterHandoff: 0, deregistrations: 0 },
    heartbeat: { missed: 0, peersUnreachable: 0, peerRestarts: 0 },
    revocation: { initiated: 0, acknowledged: 0, timedOut: 0, received: 0 },
    persist: { writes: 0, errors: 0, commits: 0, journalled: 0, waits: 0, waitFailures: 0 },
    badMnIds: 0,
    sendErrors: 0,
    discontinuityTime: now,
  };
}

/* ---------------------------------------------------------------- prom-client */

export interface CounterSource {
  readonly counters: LmaCounters;
  readonly bindingCount: number;
  readonly peerCount: number;
}

/** Every running LMA of the process; the metrics below sum over them (usually one). */
const sources = new Set<CounterSource>();

export function registerCounterSource(s: CounterSource): void {
  sources.add(s);
}

export function unregisterCounterSource(s: CounterSource): void {
  sources.delete(s);
}

function sum(f: (c: LmaCounters) => number): number {
  let n = 0;
  for (const s of sources) n += f(s.counters);
  return n;
}

/** A counter whose values are copied from the plain objects at scrape time. */
function pulled<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[],
  fill: (set: (labels: Record<L, string>, v: number) => void) => void,
): Counter<L> {
  return new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect(this: Counter<L>) {
      this.reset();
      fill((labels, v) => {
        if (v > 0 || labelNames.length === 0) this.inc(labels as never, v);
      });
    },
  });
}

pulled('pmip6_lma_pbu_received_total', 'Proxy Binding Updates received (RFC 5213 §5.3.1)', [], (set) =>
  set({}, sum((c) => c.rx.pbu)),
);
pulled('pmip6_lma_messages_received_total', 'Mobility Header messages received by the LMA, by type', ['type'] as const, (set) => {
  for (const t of RX_TYPES) set({ type: t }, sum((c) => c.rx[t]));
});
pulled('pmip6_lma_messages_sent_total', 'Mobility Header messages sent by the LMA, by type', ['type'] as const, (set) => {
  for (const t of TX_TYPES) set({ type: t }, sum((c) => c.tx[t]));
});
pulled('pmip6_lma_pba_sent_total', 'Proxy Binding Acknowledgements sent, by status (RFC 5213 §8.9)', ['status'] as const, (set) => {
  for (let s = 0; s < 256; s++) {
    const v = sum((c) => c.pbaByStatus[s]);
    if (v > 0) set({ status: String(s) }, v);
  }
});
pulled('pmip6_lma_rx_dropped_total', 'Received Mobility Header datagrams dropped, by cause', ['cause'] as const, (set) => {
  for (const k of DROP_CAUSES) set({ cause: k }, sum((c) => c.dropped[k]));
});
pulled('pmip6_lma_pbu_ignored_total', 'PBUs left unanswered as RFC 5213 says, by reason', ['reason'] as const, (set) => {
  for (const k of IGNORE_REASONS) set({ reason: k }, sum((c) => c.pbuIgnored[k]));
});
pulled('pmip6_lma_pbu_refused_total', 'PBUs refused from memory before any per-MN work (RFC 5213 §5.3.1 steps 5-6, RFC 5844 §4.1.1), by cause', ['cause'] as const, (set) => {
  for (const k of SENDER_REFUSALS) set({ cause: k }, sum((c) => c.refused[k]));
});
pulled('pmip6_lma_pbu_timestamp_rejected_total', 'PBUs refused by the RFC 5213 §5.5 timestamp checks, by check: lower (157), equal, behind or ahead of the arrival time by more than TimestampValidityWindow (156)', ['reason'] as const, (set) => {
  for (const k of TIMESTAMP_REJECTS) set({ reason: k }, sum((c) => c.timestampRejects[k]));
});
pulled('pmip6_lma_binding_events_total', 'Binding cache changes, by event', ['event'] as const, (set) => {
  for (const k of BINDING_EVENTS) set({ event: k }, sum((c) => c.bindings[k]));
});
pulled('pmip6_lma_heartbeat_events_total', 'RFC 5847 heartbeat events (missed, peer_unreachable, peer_restart)', ['event'] as const, (set) => {
  set({ event: 'missed' }, sum((c) => c.heartbeat.missed));
  set({ event: 'peer_unreachable' }, sum((c) => c.heartbeat.peersUnreachable));
  set({ event: 'peer_restart' }, sum((c) => c.heartbeat.peerRestarts));
});
pulled('pmip6_lma_revocation_events_total', 'RFC 5846 revocation events (initiated, acknowledged, timed_out, received)', ['event'] as const, (set) => {
  set({ event: 'initiated' }, sum((c) => c.revocation.initiated));
  set({ event: 'acknowledged' }, sum((c) => c.revocation.acknowledged));
  set({ event: 'timed_out' }, sum((c) => c.revocation.timedOut));
  set({ event: 'received' }, sum((c) => c.revocation.received));
});
pulled('pmip6_lma_persist_total', 'Binding rows written by group commit: ok (committed to the store), journalled (to the local journal while the store failed), error (failed store or journal attempts)', ['result'] as const, (set) => {
  set({ result: 'ok' }, sum((c) => c.persist.writes));
  set({ result: 'journalled' }, sum((c) => c.persist.journalled));
  set({ result: 'error' }, sum((c) => c.persist.errors));
});
pulled('pmip6_lma_commit_waits_total', 'PBAs held until their binding was durable (result ok, or failed: no PBA sent, the MAG retransmits)', ['result'] as const, (set) => {
  set({ result: 'ok' }, sum((c) => c.persist.waits - c.persist.waitFailures));
  set({ result: 'failed' }, sum((c) => c.persist.waitFailures));
});
pulled('pmip6_lma_bad_mn_identifiers_total', 'PBUs refused with 153 because their MN-ID is not a usable identifier (NUL, control or bidirectional control characters, broken UTF-8)', [], (set) => set({}, sum((c) => c.badMnIds)));
pulled('pmip6_lma_send_errors_total', 'Transport send failures', [], (set) => set({}, sum((c) => c.sendErrors)));

new Gauge({
  name: 'pmip6_lma_bindings',
  help: 'Binding cache entries held',
  registers: [registry],
  collect(this: Gauge) {
    let n = 0;
    for (const s of sources) n += s.bindingCount;
    this.set(n);
  },
});
new Gauge({
  name: 'pmip6_lma_mag_peers',
  help: 'MAGs the LMA holds bindings with',
  registers: [registry],
  collect(this: Gauge) {
    let n = 0;
    for (const s of sources) n += s.peerCount;
    this.set(n);
  },
});
