/**
 * Address helpers for the MH codec: IPv6 as 16-byte buffers, IPv4 as uint32.
 * Text output follows RFC 5952 (lowercase, longest run of two or more zero
 * groups compressed, first run on a tie). Parsers throw a TypeError on bad
 * input; they are meant for configuration and tests, not the packet path.
 */
import type { Ipv4Num, Ipv6Bytes } from './types.ts';

function group(a: Uint8Array, i: number): number {
  return (a[2 * i] << 8) | a[2 * i + 1];
}

/** Hex text of every octet value: without leading zero, and as two digits. */
const BYTE_HEX = Array.from({ length: 256 }, (_, b) => b.toString(16));
const BYTE_HEX2 = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** A group's hex text without leading zeros, from two table reads (on the PBU path: no number formatting). */
function groupHex(g: number): string {
  const hi = g >>> 8;
  return hi === 0 ? BYTE_HEX[g] : BYTE_HEX[hi] + BYTE_HEX2[g & 0xff];
}

/** RFC 5952 text of a 16-byte IPv6 address. */
export function ipv6ToString(addr: Uint8Array): string {
  if (addr.length !== 16) throw new TypeError(`IPv6 address must be 16 bytes, got ${addr.length}`);
  // Longest run of zero groups (length >= 2).
  let bestStart = -1;
  let bestLen = 0;
  let runStart = -1;
  for (let i = 0; i <= 8; i++) {
    if (i < 8 && group(addr, i) === 0) {
      if (runStart < 0) runStart = i;
    } else if (runStart >= 0) {
      const len = i - runStart;
      if (len > bestLen && len >= 2) {
        bestStart = runStart;
        bestLen = len;
      }
      runStart = -1;
    }
  }
  // IPv4-mapped (::ffff:a.b.c.d) keeps its dotted tail (RFC 5952 5).
  if (bestStart === 0 && bestLen === 5 && group(addr, 5) === 0xffff) {
    return `::ffff:${addr[12]}.${addr[13]}.${addr[14]}.${addr[15]}`;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    out += groupHex(group(addr, i));
    if (i < 7) out += ':';
  }
  return out;
}

function parseGroups(part: string, text: string, allowV4: boolean): number[] {
  if (part === '') return [];
  const groups: number[] = [];
  const pieces = part.split(':');
  for (let k = 0; k < pieces.length; k++) {
    const p = pieces[k];
    if (allowV4 && k === pieces.length - 1 && p.includes('.')) {
      const v4 = parseIpv4(p);
      groups.push(v4 >>> 16, v4 & 0xffff);
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(p)) throw new TypeError(`invalid IPv6 address: ${text}`);
    groups.push(parseInt(p, 16));
  }
  return groups;
}

/** Parse IPv6 text (with `::` compression and an optional dotted IPv4 tail) into 16 bytes. */
export function parseIpv6(text: string): Buffer {
  const dbl = text.indexOf('::');
  let groups: number[];
  if (dbl >= 0) {
    if (text.indexOf('::', dbl + 1) >= 0) throw new TypeError(`invalid IPv6 address: ${text}`);
    const head = parseGroups(text.slice(0, dbl), text, false);
    const tail = parseGroups(text.slice(dbl + 2), text, true);
    const fill = 8 - head.length - tail.length;
    if (fill < 1) throw new TypeError(`invalid IPv6 address: ${text}`);
    groups = head.concat(new Array<number>(fill).fill(0), tail);
  } else {
    groups = parseGroups(text, text, true);
    if (groups.length !== 8) throw new TypeError(`invalid IPv6 address: ${text}`);
  }
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(groups[i], 2 * i);
  return out;
}

/** "2001:db8:1::/64" from prefix bytes and length. */
export function prefixToString(prefix: Uint8Array, prefixLen: number): string {
  return `${ipv6ToString(prefix)}/${prefixLen}`;
}

/** Parse "2001:db8:1::/64" into prefix bytes (host bits kept as written) and length 0..128. */
export function parsePrefix(text: string): { prefix: Buffer; prefixLen: number } {
  const slash = text.indexOf('/');
  if (slash < 0) throw new TypeError(`invalid IPv6 prefix (no length): ${text}`);
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) throw new TypeError(`invalid IPv6 prefix length: ${text}`);
  const prefixLen = Number(lenText);
  if (prefixLen > 128) throw new TypeError(`invalid IPv6 prefix length: ${text}`);
  return { prefix: parseIpv6(text.slice(0, slash)), prefixLen };
}

/** Byte-wise equality of two addresses/identifiers. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True if every octet is zero (RFC 5213 ALL_ZERO). */
export function isAllZero(a: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return false;
  return true;
}

/** Dotted-quad text of a uint32 IPv4 address. */
export function ipv4ToString(addr: Ipv4Num): string {
  return `${(addr >>> 24) & 0xff}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

/** Parse dotted-quad IPv4 text into a uint32. */
export function parseIpv4(text: string): Ipv4Num {
  const parts = text.split('.');
  if (parts.length !== 4) throw new TypeError(`invalid IPv4 address: ${text}`);
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) throw new TypeError(`invalid IPv4 address: ${text}`);
    const n = Number(p);
    if (n > 255) throw new TypeError(`invalid IPv4 address: ${text}`);
    v = v * 256 + n;
  }
  return v >>> 0;
}

/** IPv4 uint32 from 4 bytes (network order). */
export function ipv4FromBytes(b: Uint8Array): Ipv4Num {
  if (b.length !== 4) throw new TypeError(`IPv4 address must be 4 bytes, got ${b.length}`);
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

/** 4 bytes (network order) from an IPv4 uint32. */
export function ipv4ToBytes(addr: Ipv4Num): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(addr >>> 0, 0);
  return out;
}

/** A copy of an IPv6 address as a Buffer (for keys, storage). */
export function ipv6Copy(addr: Ipv6Bytes): Buffer {
  return Buffer.from(addr);
}
