// What the MAG sends on an access link, as whole Ethernet frames (no I/O):
// - the per-MN Router Advertisement (RFC 4861 §4.2; RFC 5213 §6.7, §6.8, §6.9.2 item 3):
//   from the fixed MAG link-local and link-layer address (RFC 6543), one Prefix Information
//   option per HNP (RFC 4861 §4.6.2), the tunnel MTU (§4.6.4);
// - a unicast Neighbor Solicitation, the probe of NUD (RFC 4861 §7.3.1, §7.2.2);
// - an MLDv2 General Query (RFC 3810 §5.1) on a new attachment, which a Linux host answers
//   with reports (it is how a host that sends no Router Solicitation after a move shows up).
import { parsePrefix } from '../mh/addr.ts';
import { Icmp6Type, NdOption, frame, multicastMac, solicitedNode } from './icmp6.ts';

/** RFC 4291 §2.7.1 all-nodes link-local multicast ff02::1. */
export const ALL_NODES = Buffer.from('ff020000000000000000000000000001', 'hex');

export interface RaPrefix {
  /** "2001:db8:1:1::/64" */
  prefix: string;
  /** L flag (RFC 4861 §4.6.2). */
  onLink: boolean;
  /** A flag: the MN may form an address by SLAAC (RFC 4862 §5.5.3). */
  autonomous: boolean;
  validS: number;
  preferredS: number;
}

export interface RaFields {
  srcMac: Uint8Array;
  dstMac: Uint8Array;
  /** The MAG link-local (RFC 5213 §6.8: the same on every MAG). */
  src: Uint8Array;
  /** The MN's link-local, or ff02::1 (RFC 4861 §6.2.6). */
  dst: Uint8Array;
  curHopLimit: number;
  /** M and O flags (RFC 4861 §4.2; RFC 5213 §6.4: the same on every access link for the MN). */
  managed: boolean;
  other: boolean;
  /** 0: not a default router (RFC 4861 §4.2), the withdrawal when the binding ends. */
  routerLifetimeS: number;
  reachableMs: number;
  retransMs: number;
  /** Source Link-Layer Address option (RFC 4861 §4.6.1); omitted when false. */
  includeSourceLinkLayer: boolean;
  /** MTU option (RFC 4861 §4.6.4); omitted when 0. */
  mtu: number;
  prefixes: RaPrefix[];
}

export function buildRouterAdvertisement(r: RaFields): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(16);
  head[0] = Icmp6Type.ROUTER_ADVERTISEMENT;
  head[4] = r.curHopLimit;
  head[5] = (r.managed ? 0x80 : 0) | (r.other ? 0x40 : 0);
  head.writeUInt16BE(r.routerLifetimeS, 6);
  head.writeUInt32BE(r.reachableMs, 8);
  head.writeUInt32BE(r.retransMs, 12);
  parts.push(head);
  if (r.includeSourceLinkLayer) parts.push(linkLayerOption(NdOption.SOURCE_LINK_LAYER_ADDRESS, r.srcMac));
  if (r.mtu > 0) {
    const o = Buffer.alloc(8);
    o[0] = NdOption.MTU;
    o[1] = 1;
    o.writeUInt32BE(r.mtu, 4);
    parts.push(o);
  }
  for (const p of r.prefixes) {
    const { prefix, prefixLen } = parsePrefix(p.prefix);
    const o = Buffer.alloc(32);
    o[0] = NdOption.PREFIX_INFORMATION;
    o[1] = 4;
    o[2] = prefixLen;
    o[3] = (p.onLink ? 0x80 : 0) | (p.autonomous ? 0x40 : 0);
    o.writeUInt32BE(p.validS >>> 0, 4);
    o.writeUInt32BE(p.preferredS >>> 0, 8);
    // RFC 4861 §4.6.2: bits past the prefix length are reserved, sent as zero.
    const masked = Buffer.from(prefix);
    for (let i = 0; i < 16; i++) {
      const keep = Math.max(0, Math.min(8, prefixLen - i * 8));
      masked[i] &= (0xff00 >> keep) & 0xff;
    }
    masked.copy(o, 16);
    parts.push(o);
  }
  return frame({ dstMac: r.dstMac, srcMac: r.srcMac, src: r.src, dst: r.dst, hopLimit: 255, icmp: Buffer.concat(parts) });
}

function linkLayerOption(type: number, mac: Uint8Array): Buffer {
  const o = Buffer.alloc(8);
  o[0] = type;
  o[1] = 1;
  o.set(mac, 2);
  return o;
}

/** NUD probe (RFC 4861 §7.2.2): unicast to the neighbour's cached link-layer address. */
export function buildNeighborSolicitation(o: { srcMac: Uint8Array; dstMac: Uint8Array; src: Uint8Array; target: Uint8Array; unicast: boolean }): Buffer {
  const m = Buffer.alloc(32);
  m[0] = Icmp6Type.NEIGHBOR_SOLICITATION;
  m.set(o.target, 8);
  linkLayerOption(NdOption.SOURCE_LINK_LAYER_ADDRESS, o.srcMac).copy(m, 24);
  const dst = o.unicast ? Buffer.from(o.target) : solicitedNode(o.target);
  return frame({ dstMac: o.unicast ? o.dstMac : multicastMac(dst), srcMac: o.srcMac, src: o.src, dst, hopLimit: 255, icmp: m });
}

/**
 * MLDv2 General Query (RFC 3810 §5.1): to ff02::1, hop limit 1, with a Router Alert option
 * (RFC 2711) in a Hop-by-Hop header (RFC 3810 §5). Multicast Address ::, no sources.
 * maxResponseMs < 32768 is sent as is (§5.1.3); QRV 2, QQIC 125 s (§9.1, §9.2).
 */
export function buildMldv2GeneralQuery(o: { srcMac: Uint8Array; dstMac?: Uint8Array; src: Uint8Array; maxResponseMs: number }): Buffer {
  const m = Buffer.alloc(28);
  m[0] = Icmp6Type.MLD_QUERY;
  m.writeUInt16BE(Math.min(32767, Math.max(0, Math.round(o.maxResponseMs))), 4);
  m[24] = 2; // S = 0, QRV = 2
  m[25] = 125; // QQIC
  // Next Header ICMPv6, length 0 (8 octets), Router Alert (type 5, length 2, value 0 = MLD), PadN (1, 0).
  const hbh = Uint8Array.from([58, 0, 5, 2, 0, 0, 1, 0]);
  return frame({ dstMac: o.dstMac ?? multicastMac(ALL_NODES), srcMac: o.srcMac, src: o.src, dst: ALL_NODES, hopLimit: 1, icmp: m, hopByHop: hbh });
}
