// What the LMA asks of policy (RFC 5213 §5.3.1 checks 5-8, §5.3.2 prefix assignment;
// RFC 5844 §3.1.2): behind one interface, backed by the store (or by AAA, or a map in tests).
import type { Profile } from './profile.ts';

export interface LmaPolicySource {
  /** The MN's profile, or null when the MN is unknown (PBA status 153). */
  profile(mnId: string): Promise<Profile | null>;
  /** Whether the MAG at this Proxy-CoA may send proxy registrations (else status 154). */
  magAuthorized(proxyCoa: string, mnId: string): Promise<boolean>;
}

/** What the MAG asks of policy on attach (RFC 5213 §6.2): from AAA, the store, or static config. */
export interface MagPolicySource {
  /** The MN's profile (LMA address, HNPs, IPv4 HoA ...), or null when the MN is not eligible. */
  profile(mnId: string): Promise<Profile | null>;
}
