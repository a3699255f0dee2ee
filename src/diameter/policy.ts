// The narrow interface the Diameter server runs on. The store adapter (src/main/diameter-policy.ts)
// implements it on the policy store and the profile directory; tests and the bench use
// MemoryDiameterPolicy. Every async method may reject: the server then answers
// DIAMETER_UNABLE_TO_COMPLY (5012) and counts `policy_error`.
import type { LmaAuthorizationResult } from '../radius/policy.ts';
import type { RadiusProfile } from '../radius/rfc6572.ts';

/** A Diameter peer (MAG or LMA) provisioned as an AAA client of kind diameter. */
export interface DiameterPeer {
  /** Its DiameterIdentity (Origin-Host of its CER). */
  identity: string;
  /** Its realm (Origin-Realm of its CER must match). */
  realm: string;
  /** Label for logs and metrics. */
  name: string;
  /** Source addresses or prefixes ("192.0.2.10", "2001:db8::/64") allowed to claim the identity. */
  addresses: string[];
  /** SHA-256 fingerprint (lowercase hex) of the TLS certificate allowed to claim it, or null. */
  certificateFingerprint: string | null;
  /** RFC 5779: 'mag' (§4.1) or 'lma' (may also ask §4.2 PBU authorisation, for its own addresses). */
  role: 'mag' | 'lma';
  /** Role 'lma': LMA addresses it may name besides the address it connects from. */
  lmaAddresses: string[];
}

/** An LMA's authorisation request (RFC 5779 §4.2), decoded. */
export interface DiameterLmaRequest {
  /** MN identity: User-Name (§4.2.1: the PBU's MN-ID). */
  mnId: string;
  userName: string | null;
  /** The LMA's address from MIP6-Agent-Info (§4.2.2), or null. */
  lmaAddress: string | null;
  hnps: 'delegate' | string[] | null;
  ipv4HoA: 'delegate' | { address: string; prefixLength: number } | null;
  serviceSelection: string | null;
  callingStationId: string | null;
  /** The peer's name (for the audit log). */
  peer: string;
}

export interface DiameterPolicy {
  /**
   * The peer provisioned under this identity, or null. Answered from memory (a CER from an
   * unknown host costs no database query); identities compare case-insensitively.
   */
  findPeer(identity: string): DiameterPeer | null | Promise<DiameterPeer | null>;
  /** The MN's profile, or null. Disabled profiles come back with enabled=false. */
  findProfile(mnId: string): Promise<RadiusProfile | null>;
  /** The profile if it is in memory now (undefined: ask findProfile). */
  peekProfile?(mnId: string): RadiusProfile | null | undefined;
  /** RFC 5779 §4.2: check, record the LMA, assign delegated HNP / IPv4 HoA. Idempotent. */
  authorizeLma(req: DiameterLmaRequest): Promise<LmaAuthorizationResult>;
}
