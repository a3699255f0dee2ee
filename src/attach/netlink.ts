// rtnetlink codec (no I/O) for the attach detector: link events (RTM_NEWLINK / RTM_DELLINK,
// rtnetlink(7)), the dump request that learns the initial state, and the two requests that
// give an access interface the fixed MAG link-layer address and link-local address of
// RFC 6543 (RTM_SETLINK with IFLA_ADDRESS, RTM_NEWADDR with IFA_F_NODAD). Netlink is in host
// byte order. Numbers from linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h.
import { endianness } from 'node:os';

const LE = endianness() === 'LE';

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_SETLINK = 19;
export const RTM_NEWADDR = 20;
/** Multicast group of link events (RTMGRP_LINK). */
export const RTMGRP_LINK = 1;

const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_REPLACE = 0x100;
const NLM_F_DUMP = 0x300;
const NLM_F_CREATE = 0x400;
const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_FLAGS = 8;
const IFA_F_NODAD = 0x02;
const IFA_F_PERMANENT = 0x80;
const AF_INET = 2;
const AF_INET6 = 10;
const RT_SCOPE_LINK = 253;
/** net/if.h interface flags. */
const IFF_UP = 0x1;
const IFF_LOWER_UP = 0x10000;

export interface LinkMessage {
  kind: 'link';
  deleted: boolean;
  ifindex: number;
  ifname: string | null;
  mac: string | null;
  /** Administratively up and with carrier (IFF_UP and IFF_LOWER_UP). */
  up: boolean;
}

export type NetlinkMessage = LinkMessage | { kind: 'ack'; seq: number; error: number } | { kind: 'done'; seq: number } | { kind: 'other'; type: number };

const u16 = (b: Uint8Array, o: number) => (LE ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1]);
const u32 = (b: Buffer, o: number) => (LE ? b.readUInt32LE(o) : b.readUInt32BE(o));
const i32 = (b: Buffer, o: number) => (LE ? b.readInt32LE(o) : b.readInt32BE(o));

/** Every message in one netlink datagram; a truncated tail is ignored. */
export function parseNetlink(d: Buffer): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  for (let o = 0; o + 16 <= d.length; ) {
    const len = u32(d, o);
    if (len < 16 || o + len > d.length) break;
    const type = u16(d, o + 4);
    const seq = u32(d, o + 8);
    if (type === NLMSG_ERROR && len >= 20) out.push({ kind: 'ack', seq: len >= 36 ? u32(d, o + 16 + 12) : seq, error: -i32(d, o + 16) });
    else if (type === NLMSG_DONE) out.push({ kind: 'done', seq });
    else if ((type === RTM_NEWLINK || type === RTM_DELLINK) && len >= 32) out.push(parseLink(d.subarray(o, o + len), type === RTM_DELLINK));
    else out.push({ kind: 'other', type });
    o += (len + 3) & ~3;
  }
  return out;
}

function parseLink(m: Buffer, deleted: boolean): LinkMessage {
  const ifindex = i32(m, 20);
  const flags = u32(m, 24);
  let ifname: string | null = null;
  let mac: string | null = null;
  for (let o = 32; o + 4 <= m.length; ) {
    const len = u16(m, o);
    const type = u16(m, o + 2) & 0x3fff;
    if (len < 4 || o + len > m.length) break;
    const v = m.subarray(o + 4, o + len);
    if (type === IFLA_IFNAME) ifname = v.toString('latin1').replace(/\0.*$/s, '');
    else if (type === IFLA_ADDRESS && v.length === 6) mac = [...v].map((x) => x.toString(16).padStart(2, '0')).join(':');
    o += (len + 3) & ~3;
  }
  return { kind: 'link', deleted, ifindex, ifname, mac, up: !deleted && (flags & IFF_UP) !== 0 && (flags & IFF_LOWER_UP) !== 0 };
}

function header(type: number, flags: number, seq: number, bodyLen: number): Buffer {
  const b = Buffer.alloc(16 + bodyLen);
  const w32 = (v: number, o: number) => (LE ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  const w16 = (v: number, o: number) => (LE ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  w32(b.length, 0);
  w16(type, 4);
  w16(flags, 6);
  w32(seq, 8);
  return b;
}

function attr(type: number, value: Uint8Array): Buffer {
  const b = Buffer.alloc((4 + value.length + 3) & ~3);
  if (LE) {
    b.writeUInt16LE(4 + value.length, 0);
    b.writeUInt16LE(type, 2);
  } else {
    b.writeUInt16BE(4 + value.length, 0);
    b.writeUInt16BE(type, 2);
  }
  b.set(value, 4);
  return b;
}

function withAttrs(h: Buffer, attrs: Buffer[]): Buffer {
  const out = Buffer.concat([h, ...attrs]);
  if (LE) out.writeUInt32LE(out.length, 0);
  else out.writeUInt32BE(out.length, 0);
  return out;
}

function ifinfo(b: Buffer, ifindex: number): void {
  // struct ifinfomsg { family, pad, type, index, flags, change } after the header.
  if (LE) b.writeInt32LE(ifindex, 20);
  else b.writeInt32BE(ifindex, 20);
}

/** RTM_GETLINK dump: every interface, answered with RTM_NEWLINK messages then NLMSG_DONE. */
export function buildGetLinks(seq: number): Buffer {
  return header(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq, 16);
}

/** RTM_SETLINK: the interface's link-layer address (RFC 6543 FixedMAGLinkLayerAddressOnAllAccessLinks). */
export function buildSetLinkAddress(seq: number, ifindex: number, mac: Uint8Array): Buffer {
  const h = header(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, seq, 16);
  ifinfo(h, ifindex);
  return withAttrs(h, [attr(IFLA_ADDRESS, mac)]);
}

/** RTM_NEWADDR: an IPv6 link-local address (RFC 5213 §6.8 the MAG's), no DAD, permanent, idempotent. */
export function buildAddLinkLocal(seq: number, ifindex: number, address: Uint8Array): Buffer {
  const h = header(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, seq, 8);
  // struct ifaddrmsg { family, prefixlen, flags, scope, index }.
  h[16] = AF_INET6;
  h[17] = 64;
  h[18] = IFA_F_NODAD | IFA_F_PERMANENT;
  h[19] = RT_SCOPE_LINK;
  if (LE) h.writeUInt32LE(ifindex, 20);
  else h.writeUInt32BE(ifindex, 20);
  const flags = Buffer.alloc(4);
  if (LE) flags.writeUInt32LE(IFA_F_NODAD | IFA_F_PERMANENT);
  else flags.writeUInt32BE(IFA_F_NODAD | IFA_F_PERMANENT);
  return withAttrs(h, [attr(IFA_LOCAL, address), attr(IFA_ADDRESS, address), attr(IFA_FLAGS, flags)]);
}

/**
 * RTM_NEWADDR: an IPv4 address /32 (the MN's default router, RFC 5844 §3.4.1), so the kernel
 * answers the MN's ARP for it with the interface's (fixed) link-layer address. Idempotent.
 */
export function buildAddIpv4(seq: number, ifindex: number, address: Uint8Array): Buffer {
  const h = header(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, seq, 8);
  h[16] = AF_INET;
  h[17] = 32;
  h[18] = IFA_F_PERMANENT;
  h[19] = 0; // RT_SCOPE_UNIVERSE
  if (LE) h.writeUInt32LE(ifindex, 20);
  else h.writeUInt32BE(ifindex, 20);
  return withAttrs(h, [attr(IFA_LOCAL, address), attr(IFA_ADDRESS, address)]);
}
