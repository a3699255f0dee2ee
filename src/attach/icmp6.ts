// Codec for the access-link packets the MAG sees and sends (no I/O): Ethernet II frames
// carrying IPv6 with ICMPv6 Neighbor Discovery (RFC 4861 §4) and MLD (RFC 2710 §3,
// RFC 3810 §5), optionally behind one Hop-by-Hop Options header (MLD's Router Alert,
// RFC 2711). Parsing returns a typed result or a typed error; it checks what RFC 4861
// §6.1.1 / §7.1.1 and RFC 3810 §5.1.14 / §5.2.13 ask a receiver to check, except that the
// caller decides what to do with each kind.
import { ipv6ToString } from '../mh/addr.ts';

/** EtherType of IPv6 (RFC 2464 §3). */
export const ETHERTYPE_IPV6 = 0x86dd;
/** IPv6 Next Header values (IANA): Hop-by-Hop Options 0, ICMPv6 58. */
export const NH_HOP_BY_HOP = 0;
export const NH_ICMPV6 = 58;

/** ICMPv6 types (RFC 4443 §2.1, RFC 4861 §4, RFC 2710 §3, RFC 3810 §5). */
export const Icmp6Type = {
  MLD_QUERY: 130,
  MLD_REPORT: 131,
  MLD_DONE: 132,
  ROUTER_SOLICITATION: 133,
  ROUTER_ADVERTISEMENT: 134,
  NEIGHBOR_SOLICITATION: 135,
  NEIGHBOR_ADVERTISEMENT: 136,
  MLDV2_REPORT: 143,
} as const;

/** Neighbor Discovery option types (RFC 4861 §4.6; RFC 6275 §7.3 for 7). */
export const NdOption = {
  SOURCE_LINK_LAYER_ADDRESS: 1,
  TARGET_LINK_LAYER_ADDRESS: 2,
  PREFIX_INFORMATION: 3,
  MTU: 5,
  ADVERTISEMENT_INTERVAL: 7,
} as const;

export type AccessPacketError =
  | 'short' // shorter than the headers it claims
  | 'notIpv6' // EtherType or IP version
  | 'notIcmpv6' // another upper layer, or an extension header chain we do not follow
  | 'checksum' // ICMPv6 checksum wrong (RFC 4443 §2.3)
  | 'hopLimit' // ND not 255 (RFC 4861), MLD not 1 (RFC 3810 §5.2.13)
  | 'code' // ICMP code not 0
  | 'badOption' // option length 0 or beyond the message (RFC 4861 §4.6)
  | 'badSource'; // e.g. an unspecified source with a link-layer address option (RFC 4861 §6.1.1, §7.1.1)

export interface AccessPacket {
  dstMac: string;
  srcMac: string;
  src: Uint8Array;
  dst: Uint8Array;
  hopLimit: number;
  /** ICMPv6 type (one of Icmp6Type, or another value: then only these fields). */
  type: number;
  /** NS / NA target (RFC 4861 §4.3, §4.4). */
  target?: Uint8Array;
  /** Source (1) or Target (2) Link-Layer Address option, colon hex. */
  sourceLinkLayer?: string;
  targetLinkLayer?: string;
  /** RA fields (RFC 4861 §4.2), for tests and oracles. */
  ra?: { curHopLimit: number; managed: boolean; other: boolean; routerLifetimeS: number; reachableMs: number; retransMs: number; mtu?: number; prefixes: PrefixInfo[] };
  /** NA flags (RFC 4861 §4.4). */
  na?: { router: boolean; solicited: boolean; override: boolean };
}

export interface PrefixInfo {
  prefix: string;
  prefixLen: number;
  onLink: boolean;
  autonomous: boolean;
  validS: number;
  preferredS: number;
}

export type ParseResult = { ok: true; packet: AccessPacket } | { ok: false; error: AccessPacketError };

export function macToString(b: Uint8Array, off = 0): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + b[off + i].toString(16).padStart(2, '0');
  return s;
}

export function macFromString(text: string): Buffer {
  const hex = text.toLowerCase().replace(/[:\-.]/g, '');
  if (!/^[0-9a-f]{12}$/.test(hex)) throw new TypeError(`not a 48-bit MAC address: ${text}`);
  return Buffer.from(hex, 'hex');
}

/** RFC 4443 §2.3: ones' complement sum over the IPv6 pseudo-header and the ICMPv6 message. */
export function icmp6Checksum(src: Uint8Array, dst: Uint8Array, icmp: Uint8Array): number {
  let sum = 0;
  const add16 = (b: Uint8Array) => {
    for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i] << 8) | b[i + 1];
    if (b.length & 1) sum += b[b.length - 1] << 8;
  };
  add16(src);
  add16(dst);
  sum += (icmp.length >>> 16) + (icmp.length & 0xffff);
  sum += NH_ICMPV6;
  add16(icmp);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Decodes one Ethernet frame from an access link. */
export function parseAccessFrame(f: Uint8Array): ParseResult {
  if (f.length < 14 + 40) return { ok: false, error: 'short' };
  const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
  if (v.getUint16(12) !== ETHERTYPE_IPV6 || f[14] >> 4 !== 6) return { ok: false, error: 'notIpv6' };
  const payloadLen = v.getUint16(18);
  if (14 + 40 + payloadLen > f.length) return { ok: false, error: 'short' };
  const end = 14 + 40 + payloadLen;
  let nh = f[20];
  let off = 54;
  if (nh === NH_HOP_BY_HOP) {
    if (off + 8 > end) return { ok: false, error: 'short' };
    nh = f[off];
    off += (f[off + 1] + 1) * 8;
  }
  if (nh !== NH_ICMPV6) return { ok: false, error: 'notIcmpv6' };
  if (off + 4 > end) return { ok: false, error: 'short' };
  const src = f.subarray(22, 38);
  const dst = f.subarray(38, 54);
  const icmp = f.subarray(off, end);
  if (icmp6Checksum(src, dst, icmp) !== 0) return { ok: false, error: 'checksum' };
  const type = icmp[0];
  const hopLimit = f[21];
  const p: AccessPacket = { dstMac: macToString(f, 0), srcMac: macToString(f, 6), src, dst, hopLimit, type };
  const nd = type >= Icmp6Type.ROUTER_SOLICITATION && type <= Icmp6Type.NEIGHBOR_ADVERTISEMENT;
  const mld = type === Icmp6Type.MLD_REPORT || type === Icmp6Type.MLD_DONE || type === Icmp6Type.MLDV2_REPORT || type === Icmp6Type.MLD_QUERY;
  if (!nd && !mld) return { ok: true, packet: p };
  if (icmp[1] !== 0) return { ok: false, error: 'code' };
  if (nd && hopLimit !== 255) return { ok: false, error: 'hopLimit' };
  if (mld && hopLimit !== 1) return { ok: false, error: 'hopLimit' };
  if (mld) return icmp.length >= (type === Icmp6Type.MLDV2_REPORT ? 8 : 24) ? { ok: true, packet: p } : { ok: false, error: 'short' };
  const optStart = { 133: 8, 134: 16, 135: 24, 136: 24 }[type as 133 | 134 | 135 | 136];
  if (icmp.length < optStart) return { ok: false, error: 'short' };
  const iv = new DataView(icmp.buffer, icmp.byteOffset, icmp.byteLength);
  if (type === Icmp6Type.NEIGHBOR_SOLICITATION || type === Icmp6Type.NEIGHBOR_ADVERTISEMENT) p.target = icmp.subarray(8, 24);
  if (type === Icmp6Type.NEIGHBOR_ADVERTISEMENT) p.na = { router: (icmp[4] & 0x80) !== 0, solicited: (icmp[4] & 0x40) !== 0, override: (icmp[4] & 0x20) !== 0 };
  if (type === Icmp6Type.ROUTER_ADVERTISEMENT) {
    p.ra = { curHopLimit: icmp[4], managed: (icmp[5] & 0x80) !== 0, other: (icmp[5] & 0x40) !== 0, routerLifetimeS: iv.getUint16(6), reachableMs: iv.getUint32(8), retransMs: iv.getUint32(12), prefixes: [] };
  }
  for (let o = optStart; o < icmp.length; ) {
    if (o + 2 > icmp.length || icmp[o + 1] === 0 || o + icmp[o + 1] * 8 > icmp.length) return { ok: false, error: 'badOption' };
    const t = icmp[o];
    const len = icmp[o + 1] * 8;
    if ((t === NdOption.SOURCE_LINK_LAYER_ADDRESS || t === NdOption.TARGET_LINK_LAYER_ADDRESS) && len >= 8) {
      if (t === NdOption.SOURCE_LINK_LAYER_ADDRESS) p.sourceLinkLayer = macToString(icmp, o + 2);
      else p.targetLinkLayer = macToString(icmp, o + 2);
    } else if (t === NdOption.PREFIX_INFORMATION && len === 32 && p.ra) {
      p.ra.prefixes.push({
        prefixLen: icmp[o + 2],
        onLink: (icmp[o + 3] & 0x80) !== 0,
        autonomous: (icmp[o + 3] & 0x40) !== 0,
        validS: iv.getUint32(o + 4),
        preferredS: iv.getUint32(o + 8),
        prefix: ipv6ToString(icmp.subarray(o + 16, o + 32)),
      });
    } else if (t === NdOption.MTU && len === 8 && p.ra) {
      p.ra.mtu = iv.getUint32(o + 4);
    }
    o += len;
  }
  // RFC 4861 §6.1.1 (RS) and §7.1.1 (NS): from the unspecified address, no source link-layer option.
  const unspecified = src.every((x) => x === 0);
  if (unspecified && p.sourceLinkLayer !== undefined && (type === Icmp6Type.ROUTER_SOLICITATION || type === Icmp6Type.NEIGHBOR_SOLICITATION)) {
    return { ok: false, error: 'badSource' };
  }
  return { ok: true, packet: p };
}

/** Ethernet + IPv6 (+ optional Hop-by-Hop) headers around an ICMPv6 message; fills its checksum. */
export function frame(o: { dstMac: Uint8Array; srcMac: Uint8Array; src: Uint8Array; dst: Uint8Array; hopLimit: number; icmp: Buffer; hopByHop?: Uint8Array }): Buffer {
  o.icmp.writeUInt16BE(0, 2);
  o.icmp.writeUInt16BE(icmp6Checksum(o.src, o.dst, o.icmp), 2);
  const hbh = o.hopByHop ?? new Uint8Array(0);
  const f = Buffer.alloc(14 + 40 + hbh.length + o.icmp.length);
  f.set(o.dstMac, 0);
  f.set(o.srcMac, 6);
  f.writeUInt16BE(ETHERTYPE_IPV6, 12);
  f.writeUInt32BE(0x60000000, 14); // version 6, traffic class 0, flow label 0
  f.writeUInt16BE(hbh.length + o.icmp.length, 18);
  f[20] = hbh.length ? NH_HOP_BY_HOP : NH_ICMPV6;
  f[21] = o.hopLimit;
  f.set(o.src, 22);
  f.set(o.dst, 38);
  f.set(hbh, 54);
  f.set(o.icmp, 54 + hbh.length);
  return f;
}

/** The Ethernet multicast address of an IPv6 multicast group (RFC 2464 §7): 33:33 + last 32 bits. */
export function multicastMac(group: Uint8Array): Buffer {
  return Buffer.from([0x33, 0x33, group[12], group[13], group[14], group[15]]);
}

/** Solicited-node multicast address of a unicast address (RFC 4291 §2.7.1): ff02::1:ffXX:XXXX. */
export function solicitedNode(a: Uint8Array): Buffer {
  const b = Buffer.alloc(16);
  b[0] = 0xff;
  b[1] = 0x02;
  b[11] = 0x01;
  b[12] = 0xff;
  b[13] = a[13];
  b[14] = a[14];
  b[15] = a[15];
  return b;
}
