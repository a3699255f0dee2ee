// The MAG's DHCPv4 server on an access link (RFC 5844 §3.4, server mode, §3.4.1), for MNs
// with an IPv4 home address:
// - the address it hands out is the IPv4 HoA the LMA assigned (PBA status 0 with an IPv4
//   Address Acknowledgement option); until the PBA arrives DISCOVERs and REQUESTs are held
//   (§3.4.3: "drops or delays"), the last one answered as soon as the binding is in;
// - the server identifier is one fixed address on every MAG (§3.4.1: the MN's IPv4 default
//   router, or a configured domain-wide one), so a RENEWING client after a move is answered
//   by the new MAG;
// - replies carry Subnet Mask, Router and Interface MTU (§3.4.1), and the lease time.
// Decisions follow RFC 2131 §4.3.1 (DISCOVER), §4.3.2 (REQUEST in SELECTING, INIT-REBOOT,
// RENEWING/REBINDING), §4.3.5 (INFORM); RELEASE and DECLINE are counted (RFC 5844 §3.4.3
// ties RELEASE to de-registering the IPv4 session, which the MAG does not yet offer).
import { buildDhcpReply, DhcpType, ipv4Num, maskOf, type DhcpRequest } from './dhcp4.ts';

export interface Ipv4Lease {
  address: number;
  prefixLen: number;
  router: number | null;
}

export type DhcpDecision =
  | { kind: 'reply'; type: number; yiaddr: number; full: boolean }
  | { kind: 'hold' }
  | { kind: 'ignore'; why: 'otherServer' | 'release' | 'decline' | 'unexpected' };

/** RFC 2131 §4.3: what to answer `req` with, given the MN's lease (null before the PBA). */
export function decideDhcp(req: DhcpRequest, lease: Ipv4Lease | null, serverId: number | null): DhcpDecision {
  switch (req.type) {
    case DhcpType.DISCOVER:
      return lease ? { kind: 'reply', type: DhcpType.OFFER, yiaddr: lease.address, full: true } : { kind: 'hold' };
    case DhcpType.REQUEST: {
      if (req.serverId !== null) {
        // SELECTING (§4.3.2): a REQUEST naming another server says the client chose it.
        if (serverId === null || req.serverId !== serverId) return { kind: 'ignore', why: 'otherServer' };
        if (!lease) return { kind: 'hold' };
        return req.requestedIp === lease.address ? { kind: 'reply', type: DhcpType.ACK, yiaddr: lease.address, full: true } : nak();
      }
      // INIT-REBOOT (requested IP, no ciaddr) or RENEWING/REBINDING (ciaddr).
      const asked = req.requestedIp ?? (req.ciaddr !== 0 ? req.ciaddr : null);
      if (asked === null) return { kind: 'ignore', why: 'unexpected' };
      if (!lease) return { kind: 'hold' };
      return asked === lease.address ? { kind: 'reply', type: DhcpType.ACK, yiaddr: lease.address, full: true } : nak();
    }
    case DhcpType.INFORM:
      return lease ? { kind: 'reply', type: DhcpType.ACK, yiaddr: 0, full: false } : { kind: 'hold' };
    case DhcpType.RELEASE:
      return { kind: 'ignore', why: 'release' };
    case DhcpType.DECLINE:
      return { kind: 'ignore', why: 'decline' };
    default:
      return { kind: 'ignore', why: 'unexpected' };
  }
}

function nak(): DhcpDecision {
  return { kind: 'reply', type: DhcpType.NAK, yiaddr: 0, full: false };
}

export interface DhcpServerConfig {
  /** Server identifier; '' = the MN's IPv4 default router (RFC 5844 §3.4.1). */
  serverId: string;
  leaseS: number;
  mtu: number;
  magMac: Uint8Array;
}

/** Builds the reply frame for a decision; null when there is no server identifier to send from. */
export function dhcpReplyFrame(c: DhcpServerConfig, req: DhcpRequest, d: Extract<DhcpDecision, { kind: 'reply' }>, lease: Ipv4Lease | null): Buffer | null {
  const serverId = serverIdOf(c, lease);
  if (serverId === null) return null;
  const withLease = d.full && lease !== null;
  return buildDhcpReply({
    type: d.type,
    req,
    serverMac: c.magMac,
    serverId,
    yiaddr: d.yiaddr,
    leaseS: withLease && d.type !== DhcpType.NAK ? c.leaseS : undefined,
    subnetMask: lease && d.type !== DhcpType.NAK ? maskOf(lease.prefixLen) : undefined,
    router: lease && d.type !== DhcpType.NAK ? (lease.router ?? undefined) : undefined,
    mtu: lease && d.type !== DhcpType.NAK && c.mtu > 0 ? c.mtu : undefined,
  });
}

export function serverIdOf(c: DhcpServerConfig, lease: Ipv4Lease | null): number | null {
  if (c.serverId) return ipv4Num(c.serverId);
  return lease?.router ?? null;
}
