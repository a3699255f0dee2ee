// ARP (RFC 826) on an access link, no I/O: what an IPv4-only MN sends (its requests for the
// default router, gratuitous announcements of a static address, RFC 5227 probes) attaches it
// like any first frame; and the MAG's reachability probe for an IPv4-only MN is a unicast ARP
// request for its home address (RFC 5227 §2.1.1 form: sender protocol address 0.0.0.0 when
// the MAG has none on the link), the IPv4 counterpart of a NUD Neighbor Solicitation.
import { macToString } from './icmp6.ts';

export const ETHERTYPE_ARP = 0x0806;
const HTYPE_ETHERNET = 1;
const PTYPE_IPV4 = 0x0800;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

export interface ArpPacket {
  srcMac: string;
  op: number;
  senderMac: string;
  senderIp: number;
  targetIp: number;
}

export function parseArpFrame(f: Uint8Array): { ok: true; arp: ArpPacket } | { ok: false; error: 'short' | 'notArp' } {
  if (f.length < 14 + 28) return { ok: false, error: 'short' };
  const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
  if (v.getUint16(12) !== ETHERTYPE_ARP || v.getUint16(14) !== HTYPE_ETHERNET || v.getUint16(16) !== PTYPE_IPV4 || f[18] !== 6 || f[19] !== 4) {
    return { ok: false, error: 'notArp' };
  }
  return { ok: true, arp: { srcMac: macToString(f, 6), op: v.getUint16(20), senderMac: macToString(f, 22), senderIp: v.getUint32(28), targetIp: v.getUint32(38) } };
}

/** A unicast ARP request to `dstMac` asking who has `targetIp` (RFC 826), from `srcMac` / `senderIp`. */
export function buildArpRequest(o: { srcMac: Uint8Array; dstMac: Uint8Array; senderIp: number; targetIp: number }): Buffer {
  return buildArp(ARP_REQUEST, o);
}

/**
 * A unicast ARP reply to `dstMac`: `senderIp` is at `srcMac` (RFC 826). Sent to an MN when its
 * IPv4 binding arrives, it resolves the MN's pending request for its default router at once,
 * instead of at the MN's next retry (a second later): an existing entry is updated by any reply.
 */
export function buildArpReply(o: { srcMac: Uint8Array; dstMac: Uint8Array; senderIp: number; targetIp: number }): Buffer {
  return buildArp(ARP_REPLY, o);
}

function buildArp(op: number, o: { srcMac: Uint8Array; dstMac: Uint8Array; senderIp: number; targetIp: number }): Buffer {
  const f = Buffer.alloc(14 + 28);
  f.set(o.dstMac, 0);
  f.set(o.srcMac, 6);
  f.writeUInt16BE(ETHERTYPE_ARP, 12);
  f.writeUInt16BE(HTYPE_ETHERNET, 14);
  f.writeUInt16BE(PTYPE_IPV4, 16);
  f[18] = 6;
  f[19] = 4;
  f.writeUInt16BE(op, 20);
  f.set(o.srcMac, 22);
  f.writeUInt32BE(o.senderIp >>> 0, 28);
  // Target hardware address: ignored in a request (RFC 826), zero; the asker's in a reply.
  if (op === ARP_REPLY) f.set(o.dstMac, 32);
  f.writeUInt32BE(o.targetIp >>> 0, 38);
  return f;
}
