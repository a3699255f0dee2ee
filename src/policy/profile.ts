// The mobile node's policy profile (RFC 5213 §6.2 "policy profile", RFC 5844 §3.1,
// RFC 6572 §5): what AAA hands to MAGs and LMAs, and what the store keeps.
// This is the domain type shared by store/, api/, radius/, lma/ and mag/.

/** GRE key policy for the mobility session (RFC 5845). */
export type GreKeyPolicy = 'none' | 'optional' | 'required';

export interface Profile {
  /** Stable database id. */
  id: number;
  /** MN-Identifier, NAI form (RFC 4283 subtype 1), e.g. "mn1@example.net". */
  mnId: string;
  /** MN link-layer identifiers (RFC 5213 §8.6), lowercase hex with colons, e.g. "02:00:00:00:00:01". */
  mnLinkLayerIds: string[];
  /** Home network prefixes, "2001:db8:1:1::/64"; fixed ones and those drawn from hnpPool. */
  hnps: string[];
  /** Name of an IPv6 prefix pool to allocate an HNP from when `hnps` is empty at creation. */
  hnpPool: string | null;
  /** IPv4 home address (RFC 5844), dotted quad, fixed or drawn from ipv4Pool. */
  ipv4HoA: string | null;
  /** Prefix length of the IPv4 home network (RFC 5844 §3.3: "IPv4 home network prefix length"). */
  ipv4PrefixLength: number | null;
  /** Name of an IPv4 address pool the HoA is drawn from. */
  ipv4Pool: string | null;
  /** IPv4 default router for the MN (RFC 5844 IPv4 Default-Router Address option, RADIUS 161). */
  ipv4DefaultRouter: string | null;
  /** Assigned LMA: an IPv6 or IPv4 address or FQDN of an LMA (LMAA). */
  lma: string | null;
  /** LMA group name, when the MN may be anchored at any LMA of a group. */
  lmaGroup: string | null;
  /** Service selection (RFC 5149), like an APN. */
  serviceSelection: string | null;
  greKeyPolicy: GreKeyPolicy;
  dhcpv4Server: string | null;
  dhcpv6Server: string | null;
  /** 64-bit interface identifier assigned to the MN (RFC 6572 §4.10), "0200:5eff:fe00:5213". */
  interfaceId?: string | null;
  /** MIP6-Feature-Vector bits (RFC 5447 / 5779 / 6572), 64-bit. */
  mip6FeatureVector: bigint;
  /** Administrative enable flag: a disabled MN is refused by AAA and LMA (status 152). */
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** MIP6-Feature-Vector bit values (RFC 5447 §4.2.5, RFC 5779 §5.5, RFC 6572 §4.1). */
export const FeatureVector = {
  MIP6_INTEGRATED: 0x0000000000000001n,
  LOCAL_HOME_AGENT_ASSIGNMENT: 0x0000000000000002n,
  PMIP6_SUPPORTED: 0x0000010000000000n,
  IP4_HOA_SUPPORTED: 0x0000020000000000n,
  LOCAL_MAG_ROUTING_SUPPORTED: 0x0000040000000000n,
  IP4_TRANSPORT_SUPPORTED: 0x0000800000000000n,
  IP4_HOA_ONLY_SUPPORTED: 0x0001000000000000n,
} as const;

/** IPv6 mobility service is authorised when the MN has (or may draw) a home network prefix. */
export function allowsIpv6(p: Pick<Profile, 'hnps' | 'hnpPool'>): boolean {
  return p.hnps.length > 0 || p.hnpPool !== null;
}

/** IPv4 mobility service is authorised when the MN has (or may draw) an IPv4 home address. */
export function allowsIpv4(p: Pick<Profile, 'ipv4HoA' | 'ipv4Pool'>): boolean {
  return p.ipv4HoA !== null || p.ipv4Pool !== null;
}
