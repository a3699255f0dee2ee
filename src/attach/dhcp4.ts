// DHCPv4 codec for the MAG's access-link DHCP server (RFC 5844 §3.4: the MAG hands the MN
// the IPv4 home address the LMA assigned). No I/O. Message format RFC 2131 §2 (BOOTP,
// RFC 951), options RFC 2132, carried in Ethernet / IPv4 (RFC 791) / UDP (RFC 768).
import { macToString } from './icmp6.ts';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
const MAGIC_COOKIE = 0x63825363; // RFC 2131 §3
const BOOTREQUEST = 1;
const BOOTREPLY = 2;

/** RFC 2132 §9.6 DHCP Message Type values. */
export const DhcpType = { DISCOVER: 1, OFFER: 2, REQUEST: 3, DECLINE: 4, ACK: 5, NAK: 6, RELEASE: 7, INFORM: 8 } as const;

/** RFC 2132 option codes used here. */
export const DhcpOption = {
  SUBNET_MASK: 1,
  ROUTER: 3,
  INTERFACE_MTU: 26,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  RENEWAL_T1: 58,
  REBINDING_T2: 59,
  CLIENT_ID: 61,
  END: 255,
  PAD: 0,
} as const;

export interface DhcpRequest {
  srcMac: string;
  xid: number;
  /** RFC 2131 §2 flags: the broadcast bit. */
  broadcast: boolean;
  ciaddr: number;
  giaddr: number;
  chaddr: string;
  type: number;
  requestedIp: number | null;
  serverId: number | null;
  clientId: Buffer | null;
}

export type DhcpParseError = 'short' | 'notDhcp' | 'ipChecksum' | 'udpChecksum' | 'notRequest' | 'noMessageType' | 'badOption';

export function ipv4Text(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

export function ipv4Num(text: string): number {
  const p = text.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new TypeError(`not an IPv4 address: ${text}`);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

function sum16(b: Uint8Array, acc = 0): number {
  for (let i = 0; i + 1 < b.length; i += 2) acc += (b[i] << 8) | b[i + 1];
  if (b.length & 1) acc += b[b.length - 1] << 8;
  return acc;
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function udpChecksum(src: Uint8Array, dst: Uint8Array, udp: Uint8Array): number {
  const c = fold(sum16(udp, sum16(src, sum16(dst)) + 17 + udp.length));
  return c === 0 ? 0xffff : c;
}

/** A client's DHCP message in an Ethernet frame (IPv4, UDP to port 67). */
export function parseDhcpFrame(f: Uint8Array): { ok: true; msg: DhcpRequest } | { ok: false; error: DhcpParseError } {
  if (f.length < 14 + 20 + 8) return { ok: false, error: 'short' };
  const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
  if (v.getUint16(12) !== 0x0800 || f[14] >> 4 !== 4) return { ok: false, error: 'notDhcp' };
  const ihl = (f[14] & 0xf) * 4;
  const total = v.getUint16(16);
  if (ihl < 20 || total < ihl + 8 || 14 + total > f.length) return { ok: false, error: 'short' };
  if (f[23] !== 17 || (v.getUint16(20) & 0x3fff) !== 0) return { ok: false, error: 'notDhcp' };
  if (fold(sum16(f.subarray(14, 14 + ihl))) !== 0) return { ok: false, error: 'ipChecksum' };
  const u = 14 + ihl;
  const ulen = v.getUint16(u + 4);
  if (v.getUint16(u + 2) !== DHCP_SERVER_PORT) return { ok: false, error: 'notDhcp' };
  if (ulen < 8 || u + ulen > 14 + total) return { ok: false, error: 'short' };
  if (v.getUint16(u + 6) !== 0) {
    const udp = Buffer.from(f.subarray(u, u + ulen));
    const sent = udp.readUInt16BE(6);
    udp.writeUInt16BE(0, 6);
    if (udpChecksum(f.subarray(26, 30), f.subarray(30, 34), udp) !== sent) return { ok: false, error: 'udpChecksum' };
  }
  const d = u + 8;
  const end = u + ulen;
  if (end - d < 240) return { ok: false, error: 'short' };
  if (f[d] !== BOOTREQUEST || f[d + 1] !== 1 || f[d + 2] !== 6) return { ok: false, error: 'notRequest' };
  if (v.getUint32(d + 236) !== MAGIC_COOKIE) return { ok: false, error: 'notDhcp' };
  const msg: DhcpRequest = {
    srcMac: macToString(f, 6),
    xid: v.getUint32(d + 4),
    broadcast: (v.getUint16(d + 10) & 0x8000) !== 0,
    ciaddr: v.getUint32(d + 12),
    giaddr: v.getUint32(d + 24),
    chaddr: macToString(f, d + 28),
    type: 0,
    requestedIp: null,
    serverId: null,
    clientId: null,
  };
  for (let o = d + 240; o < end; ) {
    const code = f[o];
    if (code === DhcpOption.END) break;
    if (code === DhcpOption.PAD) {
      o++;
      continue;
    }
    if (o + 2 > end || o + 2 + f[o + 1] > end) return { ok: false, error: 'badOption' };
    const len = f[o + 1];
    const val = f.subarray(o + 2, o + 2 + len);
    if (code === DhcpOption.MESSAGE_TYPE && len === 1) msg.type = val[0];
    else if (code === DhcpOption.REQUESTED_IP && len === 4) msg.requestedIp = v.getUint32(o + 2);
    else if (code === DhcpOption.SERVER_ID && len === 4) msg.serverId = v.getUint32(o + 2);
    else if (code === DhcpOption.CLIENT_ID && len >= 2) msg.clientId = Buffer.from(val);
    o += 2 + len;
  }
  if (msg.type === 0) return { ok: false, error: 'noMessageType' };
  return { ok: true, msg };
}

export interface DhcpReplyFields {
  type: number;
  req: DhcpRequest;
  serverMac: Uint8Array;
  serverId: number;
  yiaddr: number;
  /** Options beyond the message type and server identifier (RFC 2131 §4.3.1 Table 3). */
  leaseS?: number;
  subnetMask?: number;
  router?: number;
  mtu?: number;
}

/**
 * A server reply as an Ethernet frame, addressed per RFC 2131 §4.1: to ciaddr when the client
 * has one, broadcast when it asks (or for a NAK), else to yiaddr at its MAC.
 */
export function buildDhcpReply(r: DhcpReplyFields): Buffer {
  const opts: number[] = [DhcpOption.MESSAGE_TYPE, 1, r.type];
  const u32 = (code: number, x: number) => opts.push(code, 4, x >>> 24, (x >>> 16) & 255, (x >>> 8) & 255, x & 255);
  u32(DhcpOption.SERVER_ID, r.serverId);
  if (r.leaseS !== undefined) {
    u32(DhcpOption.LEASE_TIME, r.leaseS);
    u32(DhcpOption.RENEWAL_T1, Math.floor(r.leaseS / 2)); // RFC 2131 §4.4.5 defaults
    u32(DhcpOption.REBINDING_T2, Math.floor(r.leaseS * 0.875));
  }
  if (r.subnetMask !== undefined) u32(DhcpOption.SUBNET_MASK, r.subnetMask);
  if (r.router !== undefined) u32(DhcpOption.ROUTER, r.router);
  if (r.mtu !== undefined && r.mtu >= 68) opts.push(DhcpOption.INTERFACE_MTU, 2, r.mtu >> 8, r.mtu & 255);
  opts.push(DhcpOption.END);
  const bootp = Buffer.alloc(240 + opts.length);
  bootp[0] = BOOTREPLY;
  bootp[1] = 1;
  bootp[2] = 6;
  bootp.writeUInt32BE(r.req.xid, 4);
  bootp.writeUInt16BE(r.req.broadcast ? 0x8000 : 0, 10);
  bootp.writeUInt32BE(r.type === DhcpType.ACK ? r.req.ciaddr : 0, 12);
  bootp.writeUInt32BE(r.yiaddr >>> 0, 16);
  bootp.writeUInt32BE(r.req.giaddr, 24);
  Buffer.from(r.req.chaddr.replace(/:/g, ''), 'hex').copy(bootp, 28);
  bootp.writeUInt32BE(MAGIC_COOKIE, 236);
  Buffer.from(opts).copy(bootp, 240);
  const bcast = r.type === DhcpType.NAK || (r.req.ciaddr === 0 && r.req.broadcast);
  const dstIp = r.req.ciaddr !== 0 && r.type !== DhcpType.NAK ? r.req.ciaddr : bcast ? 0xffffffff : r.yiaddr;
  const dstMac = bcast ? Buffer.from('ffffffffffff', 'hex') : Buffer.from(r.req.chaddr.replace(/:/g, ''), 'hex');
  const f = Buffer.alloc(14 + 20 + 8 + bootp.length);
  dstMac.copy(f, 0);
  f.set(r.serverMac, 6);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(20 + 8 + bootp.length, 16);
  f[22] = 64; // TTL
  f[23] = 17;
  f.writeUInt32BE(r.serverId >>> 0, 26);
  f.writeUInt32BE(dstIp >>> 0, 30);
  f.writeUInt16BE(fold(sum16(f.subarray(14, 34))), 24);
  f.writeUInt16BE(DHCP_SERVER_PORT, 34);
  f.writeUInt16BE(DHCP_CLIENT_PORT, 36);
  f.writeUInt16BE(8 + bootp.length, 38);
  bootp.copy(f, 42);
  f.writeUInt16BE(udpChecksum(f.subarray(26, 30), f.subarray(30, 34), f.subarray(34)), 40);
  return f;
}

/** Netmask of a prefix length (RFC 950). */
export function maskOf(len: number): number {
  return len <= 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}
