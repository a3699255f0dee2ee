// Public surface of the Diameter module (RFC 6733 base, RFC 7155 NASREQ, RFC 5779 PMIPv6).
export { DiameterServer, decideAdmission, addressAllowed, type DiameterServerOptions, type PushOutcome } from './server.ts';
export { DiameterAaaClient, type DiameterClientOptions, type ServerRequest, type ServerRequestHandler } from './client.ts';
export type { DiameterPolicy, DiameterPeer, DiameterLmaRequest } from './policy.ts';
export { MemoryDiameterPolicy } from './memory-policy.ts';
export { loadTls, normalizeFingerprint, type TlsFiles, type TlsMaterial } from './path.ts';
export { parseDiameterUri, type DiameterUri } from './values.ts';
export { App, Avp, Cmd, Result, TerminationCause, DisconnectCause } from './constants.ts';
