/**
 * The Local Mobility Anchor (RFC 5213 §5, RFC 5844 §3.1/§4.1, RFC 5845 §5, RFC 5846 §8,
 * RFC 5847). Import from here: `import { Lma } from '../lma/index.ts'`.
 *
 *   new Lma({ transport, dataPlane, policy, clock?, events?, store?, journal?, restartCounterStore?, knownMags?, logger?, config? })
 *   (a policy that holds its answers in memory may also offer policyNow(): MemoryLmaPolicy)
 *   lma.start() / lma.stop() / lma.settle()
 *   lma.bindings (BindingsView: get, list, ofMobileNode, from, size) / lma.binding(key) / lma.peers()
 *   lma.revokeBinding(key) / lma.revokeMobileNode(mnId) / lma.revokePeer(address, port?)
 *   lma.counters (plain running totals) / lma.restartCounter
 */
export { Lma } from './lma.ts';
export { BindingsView } from './view.ts';
export type { BindingListQuery } from './view.ts';
export { defaultLmaConfig } from './types.ts';
export type {
  BindingEvent,
  BindingEventKind,
  BindingInfo,
  BindingJournal,
  BindingStore,
  LmaConfig,
  LmaDeps,
  LmaEventSink,
  MemoryLmaPolicy,
  PeerEvent,
  PeerEventKind,
  PeerInfo,
  PolicyAnswer,
  RestartCounterState,
  RestartCounterStore,
  RevocationOutcome,
} from './types.ts';
export { DROP_CAUSES, IGNORE_REASONS, RX_TYPES, TX_TYPES } from './counters.ts';
export type { DropCause, IgnoreReason, LmaCounters, RxType, TxType } from './counters.ts';
