// The narrow policy interface the RADIUS server and the dynamic-authorisation client run on.
// The store-backed adapter (PostgreSQL/PGlite) implements it outside src/radius; tests use
// MemoryRadiusPolicy (memory-policy.ts). Every method may reject: the server then drops the
// request (the NAS retransmits) and counts `policy_error`.
import type { RadiusProfile } from './rfc6572.ts';

/** An AAA client (NAS: MAG or LMA) allowed to talk to the server, keyed by source address. */
export interface RadiusClient {
  /** Source IP address as the socket reports it ("192.0.2.10", "2001:db8::10"; IPv4-mapped IPv6 is unmapped first). */
  address: string;
  /** Shared secret (RFC 2865 §3); never empty. */
  secret: Buffer | string;
  /**
   * Drop Access-Requests without a valid Message-Authenticator (BlastRADIUS, CVE-2024-3596).
   * Store default: true. Set false only for legacy NASes; Authorize-Only (Service-Type 17)
   * and Status-Server requests need it regardless.
   */
  requireMessageAuthenticator: boolean;
  /** Label used in logs and metrics. */
  name: string;
  /** RFC 6572: 'lma' clients may send Authorize-Only (§6) for their own address; absent = 'mag'. */
  role?: 'mag' | 'lma';
  /** Role 'lma': addresses it may name as its own besides `address` (an LMAA other than its RADIUS source). */
  lmaAddresses?: readonly string[];
  /** UDP port of the client's Dynamic Authorization Server (RFC 5176 §2.3); default 3799. */
  daePort?: number;
  /** Per-client request rate limit (requests/second); default from the server options. */
  maxRequestsPerSecond?: number;
}

/** The LMA's authorisation request (RFC 6572 §6.1), decoded. */
export interface LmaAuthorizationRequest {
  /** MN identity: Mobile-Node-Identifier (145), else User-Name. */
  mnId: string;
  userName: string | null;
  /** The LMA's own address as reported in 147/149 (RFC 6572 §6.1), or null. */
  lmaAddress: string | null;
  /** 151 values: 'delegate' when the LMA sent "::/128" (assign for me), else the prefixes it assigned. */
  hnps: 'delegate' | string[] | null;
  /** 155: 'delegate' for "0.0.0.0/32", the address the LMA assigned, or null when absent. */
  ipv4HoA: 'delegate' | { address: string; prefixLength: number } | null;
  serviceSelection: string | null;
  callingStationId: string | null;
  nasIdentifier: string | null;
  /** The RADIUS client (LMA) that asked. */
  client: RadiusClient;
}

export type LmaAuthorizationResult =
  /** The profile after the update: delegated HNP/HoA filled in, the LMA recorded. */
  | { ok: true; profile: RadiusProfile }
  /** Sent as Reply-Message in the Access-Reject (RFC 6572 §6.1). */
  | { ok: false; reason: string };

export type AcctStatusType = 'start' | 'stop' | 'interim-update' | 'accounting-on' | 'accounting-off' | 'other';

/** One Accounting-Request (RFC 2866 §5, RFC 6572 §7.3), decoded. */
export interface AccountingRecord {
  /**
   * Idempotency key: hex SHA-256 of the client address and the request's attributes other than
   * Acct-Delay-Time and Proxy-State. A NAS retransmission after the duplicate cache expired
   * has the same key: the store can `ON CONFLICT DO NOTHING`.
   */
  key: string;
  receivedAt: Date;
  clientName: string;
  /** Source address of the NAS: the address to send CoA/Disconnect-Requests to. */
  clientAddress: string;
  statusType: AcctStatusType;
  statusTypeValue: number;
  sessionId: string | null;
  multiSessionId: string | null;
  userName: string | null;
  /** Mobile-Node-Identifier (145), else User-Name. */
  mnId: string | null;
  nasIpAddress: string | null;
  nasIpv6Address: string | null;
  nasIdentifier: string | null;
  /** With Gigawords folded in (RFC 2869 §5.1/5.2). */
  inputOctets: bigint | null;
  outputOctets: bigint | null;
  inputPackets: number | null;
  outputPackets: number | null;
  sessionTime: number | null;
  terminateCause: number | null;
  delayTime: number | null;
  eventTimestamp: Date | null;
  serviceSelection: string | null;
  lmaAddress: string | null;
  hnps: string[];
  ipv4HoA: string | null;
  callingStationId: string | null;
  featureVector: bigint | null;
}

/**
 * Where an MN's session lives, for RFC 5176 requests: learnt from accounting (Start /
 * Interim-Update without a later Stop, Accounting-On/Off closing all of a NAS's sessions).
 */
export interface RadiusSession {
  mnId: string;
  userName: string | null;
  acctSessionId: string | null;
  /** The NAS (MAG) source address recorded with the accounting; CoA goes there. */
  clientAddress: string;
  nasIdentifier: string | null;
  nasIpAddress: string | null;
  nasIpv6Address: string | null;
}

export interface RadiusPolicy {
  /** The client whose packets come from this source address, or null (packet dropped, counted `unknown_client`). */
  findClientByAddress(address: string): Promise<RadiusClient | null>;
  /**
   * Optional: the same answer from memory (a client table kept current elsewhere), or undefined
   * to ask findClientByAddress. With it, packets from unknown sources cost no lookup and no memory.
   */
  clientNow?(address: string): RadiusClient | null | undefined;
  /** The MN's profile by MN-Identifier / NAI (RFC 6572 §5.1), or null. Disabled profiles are returned with enabled=false. */
  findProfile(mnId: string): Promise<RadiusProfile | null>;
  /**
   * Optional: the one profile whose mnLinkLayerIds hold this link-layer address ("02:00:5e:10:00:01"),
   * or null (none, or more than one). Asked when a MAG's User-Name names no MN but its
   * Calling-Station-Id (RFC 2865 §5.31) carries the MN's MAC: a MAG that knows an MN only by
   * its link-layer address (src/attach/, mag.access.identity=aaa). RFC 6572 defines no such
   * lookup; the Accept's Mobile-Node-Identifier then tells the MAG the MN-ID (§4.2).
   */
  findProfileByLinkLayerId?(linkLayerId: string): Promise<RadiusProfile | null>;
  /**
   * Authorise an LMA's PBU (RFC 6572 §6.1): check the MN may be anchored at that LMA, record the
   * LMA address (dynamic assignment, RFC 6097), and assign delegated HNP / IPv4-HoA from the
   * profile's pools. Must be idempotent for a repeated request of the same MN.
   */
  authorizeLma(req: LmaAuthorizationRequest): Promise<LmaAuthorizationResult>;
  /** Store one accounting record; resolve only after it is committed (RFC 2866 §2: respond after recording). */
  recordAccounting(rec: AccountingRecord): Promise<void>;
  /** Active accounting sessions of an MN, newest first (RFC 5176 targets). */
  findSessions(mnId: string): Promise<RadiusSession[]>;
}
