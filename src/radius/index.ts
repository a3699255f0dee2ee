// Public surface of the RADIUS module (RFC 2865/2866/5176/5997 with RFC 6572 content).
// Nothing outside src/radius imports the `radius` package or these files' internals.
export { RadiusServer, type RadiusServerOptions } from './server.ts';
export {
  RadiusAaaClient,
  type RadiusAaaClientOptions,
  type RadiusServerAddress,
  type MagAuthorizeRequest,
  type LmaAuthorizeRequest,
  type AuthorizeResult,
  type AccountingRequest,
} from './client.ts';
export {
  DynamicAuthorizer,
  DaeServer,
  type DynamicAuthorizerOptions,
  type DaeOutcome,
  type DaeServerOptions,
  type DaeClient,
  type DaeRequest,
  type DaeResult,
} from './dae.ts';
export type {
  RadiusPolicy,
  RadiusClient,
  RadiusSession,
  AccountingRecord,
  AcctStatusType,
  LmaAuthorizationRequest,
  LmaAuthorizationResult,
} from './policy.ts';
export { MemoryRadiusPolicy, makeProfile } from './memory-policy.ts';
export { preferredLma, type AaaProfile, type Ipv4HoA, type RadiusProfile } from './rfc6572.ts';
export { Attr, Code, ErrorCause } from './constants.ts';
