// The data plane behind one interface (docs/ARCHITECTURE.md): the role state machines say
// what forwarding state must exist (RFC 5213 §5.6 LMA, §6.10 MAG); an implementation
// makes it so: a recording no-op for unit tests, kernel tunnels, or a user-space forwarder.

export type TunnelEncap = 'ip6ip6' | 'ip4ip6' | 'ipip' | 'ip4-udp' | 'gre';

/** A bidirectional tunnel between a MAG's Proxy-CoA and an LMA address (RFC 5213 §5.6.1). */
export interface TunnelSpec {
  /** Local tunnel endpoint (LMA: LMAA; MAG: Proxy-CoA). */
  local: string;
  /** Remote tunnel endpoint (LMA: Proxy-CoA; MAG: LMAA). */
  remote: string;
  encap: TunnelEncap;
  /** RFC 5845 GRE keys for this session when encap = 'gre' (per-binding tunnels). */
  greKeyIn?: number;
  greKeyOut?: number;
  /**
   * LMA: the service (RFC 5149) whose routing context the tunnel and its routes belong to
   * (dataplane.contexts); absent or unknown = the default context.
   */
  context?: string;
}

/** Opaque handle of a tunnel the data plane created. */
export type TunnelId = string;

export interface DataPlane {
  /** Creates (or returns the existing) tunnel; shared by every MN with the same endpoints. */
  ensureTunnel(spec: TunnelSpec): Promise<TunnelId>;
  /** Removes a tunnel no binding uses any more (dynamic tunnels, RFC 5213 §5.6.1). */
  removeTunnel(id: TunnelId): Promise<void>;
  /** Routes a home network prefix (IPv6 "2001:db8:1:1::/64") or IPv4 HoA ("10.0.0.5/32") over a tunnel. */
  addRoute(prefix: string, tunnel: TunnelId, opts?: { mnLink?: string }): Promise<void>;
  removeRoute(prefix: string, tunnel: TunnelId): Promise<void>;
  /**
   * The ifIndex of the network interface that carries the tunnel on this host (the user-space
   * forwarder's TUN device), or null: an unknown tunnel, or a data plane with no device.
   * What PMIPV6-MIB's pmip6BindingTunnelIfIdentifier / pmip6MagBLTunnelIfIdentifier report
   * (see tunnelIfIdentifier).
   */
  tunnelIfIndex?(tunnel: TunnelId): number | null;
  close?(): Promise<void>;
}

/**
 * RFC 6475 pmip6BindingTunnelIfIdentifier / pmip6MagBLTunnelIfIdentifier ("the interface
 * identifier of the bidirectional tunnel ... local to the anchor/gateway, learnt when the
 * tunnel is created", Ipv6AddressIfIdentifierTC: 0..8 octets): the ifIndex of the tunnel's
 * interface in network byte order (4 octets), empty when there is none. A TUN device has no
 * link-layer address and so no IPv6 interface identifier of its own; its ifIndex is the
 * host-local identifier of the tunnel, the same value IF-MIB's ifIndex shows for it.
 */
export function tunnelIfIdentifier(ifindex: number | null | undefined): Uint8Array {
  if (ifindex === null || ifindex === undefined || !Number.isInteger(ifindex) || ifindex <= 0) return new Uint8Array(0);
  const o = new Uint8Array(4);
  new DataView(o.buffer).setUint32(0, ifindex >>> 0);
  return o;
}
