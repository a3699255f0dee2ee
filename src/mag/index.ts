/**
 * The Mobile Access Gateway (RFC 5213 §6): Binding Update List, PBU/PBA state machine,
 * retransmission, refresh, de-registration, heartbeats (RFC 5847), revocation responder
 * (RFC 5846 §9.1). Wiring: `new Mag(config, { clock, transport, dataPlane, policy, detector, events })`,
 * then `await mag.start()`.
 */
export { Mag } from './sm.ts';
export { MAG_DEFAULTS, resolveMagConfig, newMagCounters } from './types.ts';
export type {
  BuleInfo,
  BuleState,
  LmaPeerInfo,
  MagBulView,
  MagConfig,
  MagConfigInput,
  MagCounters,
  MagDeps,
  MagDropCause,
  MagEvent,
  MagEventSink,
  MagFailReason,
  MagGreMode,
  MagMessageKind,
} from './types.ts';
export { normalizeAddress } from './path.ts';
export type { ReRegisterResult } from './reregister.ts';
export { fanOut, collectEvents } from './events.ts';
export { templatePolicy, mapPolicy, profileFrom } from './policy.ts';
export type { ProfileTemplate } from './policy.ts';
