// Diameter data types (RFC 6733 §4.2 basic, §4.3 derived): value bytes ⇄ typed values.
// Pure. Decoders return null (or a typed error) on bad input, never throw; encoders take
// values the caller has checked and throw only on programming errors (an IP that is not one).
import { isUtf8 } from 'node:buffer';
import { AddressFamily } from './constants.ts';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from '../radius/values.ts';

// ------------------------------------------------------------------ basic (§4.2)

export const encU32 = (n: number): Buffer => {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
export const encI32 = (n: number): Buffer => {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n | 0);
  return b;
};
export const encU64 = (n: bigint): Buffer => {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt.asUintN(64, n));
  return b;
};
export const encI64 = (n: bigint): Buffer => {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64BE(BigInt.asIntN(64, n));
  return b;
};
export const encF32 = (n: number): Buffer => {
  const b = Buffer.allocUnsafe(4);
  b.writeFloatBE(n);
  return b;
};
export const encF64 = (n: number): Buffer => {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleBE(n);
  return b;
};

export const decU32 = (v: Buffer): number | null => (v.length === 4 ? v.readUInt32BE(0) : null);
export const decI32 = (v: Buffer): number | null => (v.length === 4 ? v.readInt32BE(0) : null);
/** Unsigned64 as bigint: values above 2^53 stay exact (MIP6-Feature-Vector uses bit 48). */
export const decU64 = (v: Buffer): bigint | null => (v.length === 8 ? v.readBigUInt64BE(0) : null);
export const decI64 = (v: Buffer): bigint | null => (v.length === 8 ? v.readBigInt64BE(0) : null);
export const decF32 = (v: Buffer): number | null => (v.length === 4 ? v.readFloatBE(0) : null);
export const decF64 = (v: Buffer): number | null => (v.length === 8 ? v.readDoubleBE(0) : null);

// ------------------------------------------------------------------ UTF8String, DiameterIdentity (§4.3.1)

/** UTF8String: null when the octets are not valid UTF-8 (prohibited by §4.3.1). */
export function decUtf8(v: Buffer): string | null {
  // ASCII fast path: identities, NAIs and Session-Ids are nearly always ASCII.
  let ascii = true;
  for (let i = 0; i < v.length; i++) {
    if (v[i] > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return v.toString('latin1');
  return isUtf8(v) ? v.toString('utf8') : null;
}

export const encUtf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/**
 * DiameterIdentity: an FQDN or realm in ASCII (§4.3.1; IDNs in A-label form, Appendix D).
 * Accepts letters, digits, '-', '.', '_' (seen in deployed identities), 1-255 octets.
 */
export function decIdentity(v: Buffer): string | null {
  if (v.length === 0 || v.length > 255) return null;
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f;
    if (!ok) return null;
  }
  return v.toString('latin1');
}

/** RFC 6733 §5.6.4 / Appendix D: identities compare case-insensitively (ASCII). */
export const sameIdentity = (a: string, b: string): boolean => a.length === b.length && a.toLowerCase() === b.toLowerCase();

// ------------------------------------------------------------------ Address (§4.3.1)

export type AddressValue =
  | { family: 4; address: string }
  | { family: 6; address: string }
  /** Another address family (E.164, ...): kept as octets. */
  | { family: number; raw: Buffer };

/** Address: 2-octet AddressType (IANA address family) + the address. Null when malformed. */
export function decAddress(v: Buffer): AddressValue | null {
  if (v.length < 2) return null;
  const fam = v.readUInt16BE(0);
  if (fam === AddressFamily.Ipv4) return v.length === 6 ? { family: 4, address: formatIpv4(v, 2) } : null;
  if (fam === AddressFamily.Ipv6) return v.length === 18 ? { family: 6, address: formatIpv6(v, 2) } : null;
  return { family: fam, raw: Buffer.from(v.subarray(2)) };
}

/** The IP text of an Address value, or null for other families / malformed values. */
export function decIpAddress(v: Buffer): string | null {
  const a = decAddress(v);
  return a && 'address' in a ? a.address : null;
}

/** IPv4 or IPv6 text → Address value; null when the text is neither. */
export function encAddress(ip: string): Buffer | null {
  const v4 = parseIpv4(ip);
  if (v4) {
    const b = Buffer.allocUnsafe(6);
    b.writeUInt16BE(AddressFamily.Ipv4, 0);
    v4.copy(b, 2);
    return b;
  }
  const v6 = parseIpv6(ip);
  if (v6) {
    const b = Buffer.allocUnsafe(18);
    b.writeUInt16BE(AddressFamily.Ipv6, 0);
    v6.copy(b, 2);
    return b;
  }
  return null;
}

// ------------------------------------------------------------------ Time (§4.3.1)

/** Seconds between 1900-01-01 (NTP era 0) and 1970-01-01. */
const NTP_UNIX_OFFSET = 2_208_988_800;
const TWO32 = 4_294_967_296;

/**
 * Time: the first four octets of an NTP timestamp (seconds since 1900, UTC). §4.3.1 requires
 * the SNTP extension to 2104 (RFC 4330 §3): a value with the top bit clear is in era 1,
 * counted from 2036-02-07T06:28:16Z.
 */
export function decTime(v: Buffer): Date | null {
  if (v.length !== 4) return null;
  const s = v.readUInt32BE(0);
  const ntp = s & 0x80000000 ? s : s + TWO32;
  return new Date((ntp - NTP_UNIX_OFFSET) * 1000);
}

/** Date → Time value (seconds, modulo 2^32; valid from 1968 to 2104 under the rule above). */
export function encTime(d: Date | number): Buffer {
  const ms = typeof d === 'number' ? d : d.getTime();
  const ntp = Math.floor(ms / 1000) + NTP_UNIX_OFFSET;
  return encU32(ntp % TWO32);
}

// ------------------------------------------------------------------ DiameterURI (§4.3.1)

export interface DiameterUri {
  secure: boolean;
  host: string;
  port: number;
  transport: 'tcp' | 'sctp' | 'udp';
  protocol: 'diameter' | 'radius' | 'tacacs+';
}

/**
 * "aaa://" FQDN [":" port] [";transport=" tcp|sctp|udp] [";protocol=" diameter|radius|tacacs+],
 * "aaas://" for transport security. Default port 3868 (aaa) or 5658 (aaas), transport tcp.
 * An IPv6 literal is accepted in brackets. Null when malformed.
 */
export function parseDiameterUri(s: string): DiameterUri | null {
  const m = /^(aaas?):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?((?:;[a-z]+=[a-z+]+)*)$/.exec(s.trim());
  if (!m) return null;
  const secure = m[1] === 'aaas';
  const host = m[2].startsWith('[') ? m[2].slice(1, -1) : m[2];
  if (m[2].startsWith('[') && !parseIpv6(host)) return null;
  const port = m[3] ? Number(m[3]) : secure ? 5658 : 3868;
  if (port < 1 || port > 65535) return null;
  let transport: DiameterUri['transport'] = 'tcp';
  let protocol: DiameterUri['protocol'] = 'diameter';
  for (const p of m[4].split(';').filter(Boolean)) {
    const [k, v] = p.split('=');
    if (k === 'transport' && (v === 'tcp' || v === 'sctp' || v === 'udp')) transport = v;
    else if (k === 'protocol' && (v === 'diameter' || v === 'radius' || v === 'tacacs+')) protocol = v;
    else return null;
  }
  // §4.3.1: UDP MUST NOT be used with protocol diameter.
  if (transport === 'udp' && protocol === 'diameter') return null;
  return { secure, host, port, transport, protocol };
}

export function formatDiameterUri(u: DiameterUri): string {
  const host = parseIpv6(u.host) ? `[${u.host}]` : u.host;
  return `${u.secure ? 'aaas' : 'aaa'}://${host}:${u.port};transport=${u.transport};protocol=${u.protocol}`;
}

// ------------------------------------------------------------------ MIP6-Home-Link-Prefix (RFC 5447 §4.2.4)

export interface HomeLinkPrefix {
  /** "2001:db8:1:1::/64". */
  prefix: string;
  length: number;
  /** RFC 5779 §5.3: an all-zero address asks the HAAA to assign the prefix. */
  unspecified: boolean;
}

/**
 * MIP6-Home-Link-Prefix: prefix length (1 octet) + 16 octets, trailing bits after the length
 * zero (RFC 5447 §4.2.4). Null when the length is wrong, above 128 or host bits are set.
 */
export function decHomeLinkPrefix(v: Buffer): HomeLinkPrefix | null {
  if (v.length !== 17) return null;
  const len = v[0];
  if (len > 128) return null;
  let zero = true;
  for (let bit = 0; bit < 128; bit++) {
    const set = (v[1 + (bit >> 3)] >> (7 - (bit & 7))) & 1;
    if (set) {
      zero = false;
      if (bit >= len) return null;
    }
  }
  return { prefix: `${formatIpv6(v, 1)}/${len}`, length: len, unspecified: zero };
}

/** "2001:db8::/64" → 17 octets; null when not an IPv6 prefix with host bits clear. */
export function encHomeLinkPrefix(prefix: string): Buffer | null {
  const slash = prefix.indexOf('/');
  if (slash < 0) return null;
  const len = Number(prefix.slice(slash + 1));
  const addr = parseIpv6(prefix.slice(0, slash));
  if (!addr || !Number.isInteger(len) || len < 0 || len > 128) return null;
  for (let bit = len; bit < 128; bit++) if ((addr[bit >> 3] >> (7 - (bit & 7))) & 1) return null;
  const b = Buffer.allocUnsafe(17);
  b[0] = len;
  addr.copy(b, 1);
  return b;
}
