// RADIUS attribute value codecs (RFC 8044 data types) for the types the `radius` package
// lacks: ipv4addr (§3.4), ipv6addr (§3.9), ipv6prefix (§3.10), ipv4prefix (§3.11),
// ifid (§3.8), integer (§3.1), integer64 (§3.12), text (§3.5), string/octets (§3.6).
// Pure: no I/O. Parsers return null on malformed input, they never throw.

// ---------------------------------------------------------------- IPv4

/**
 * Dotted quad in s[start, end) → 32-bit value, or -1. Strict: four decimal octets, no leading
 * zeros beyond "0". A scanner without intermediate strings: it runs for every encoded address.
 */
function ipv4At(s: string, start: number, end: number): number {
  let v = 0;
  let octets = 0;
  let i = start;
  for (;;) {
    const os = i;
    let n = 0;
    while (i < end) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      n = n * 10 + c;
      i++;
      if (i - os > 3) return -1;
    }
    const len = i - os;
    if (len === 0 || n > 255 || (len > 1 && s.charCodeAt(os) === 48)) return -1;
    v = v * 256 + n;
    if (++octets === 4) return i === end ? v : -1;
    if (i >= end || s.charCodeAt(i) !== 46) return -1; // '.'
    i++;
  }
}

/** Dotted quad → 4 octets, or null. Strict: four decimal octets, no leading zeros beyond "0". */
export function parseIpv4(s: string): Buffer | null {
  const v = ipv4At(s, 0, s.length);
  if (v < 0) return null;
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(v);
  return out;
}

export function formatIpv4(b: Buffer, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

// ---------------------------------------------------------------- IPv6

function parseHexGroup(g: string): number {
  if (g.length === 0 || g.length > 4) return -1;
  let n = 0;
  for (let i = 0; i < g.length; i++) {
    const c = g.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else return -1;
    n = (n << 4) | d;
  }
  return n;
}

const groups = new Uint16Array(8);

/**
 * IPv6 text (RFC 4291 §2.2, any valid form) → 16 octets, or null. No zone ids. At most one
 * "::"; groups of 1-4 hex digits; the last group may be a dotted IPv4 address (not before the
 * "::"). One pass over the characters, no intermediate strings or arrays.
 */
export function parseIpv6(s: string): Buffer | null {
  const n = s.length;
  if (n < 2 || n > 45) return null;
  let count = 0;
  /** Group index where "::" stands, or -1. */
  let gap = -1;
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return null;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    let j = i;
    let v = 0;
    while (j < n && j - i < 5) {
      const c = s.charCodeAt(j);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else break;
      v = (v << 4) | d;
      j++;
    }
    if (j < n && s.charCodeAt(j) === 46) {
      // '.': the rest is an IPv4 address filling the last two groups.
      if (count > 6) return null;
      const v4 = ipv4At(s, i, n);
      if (v4 < 0) return null;
      groups[count++] = v4 >>> 16;
      groups[count++] = v4 & 0xffff;
      break;
    }
    const len = j - i;
    if (len === 0 || len > 4 || count === 8) return null;
    groups[count++] = v;
    if (j === n) break;
    if (s.charCodeAt(j) !== 58) return null;
    if (j + 1 < n && s.charCodeAt(j + 1) === 58) {
      if (gap >= 0) return null;
      gap = count;
      i = j + 2;
    } else {
      i = j + 1;
      if (i === n) return null; // a trailing single ':'
    }
  }
  if (gap < 0 ? count !== 8 : count > 7) return null;
  const out = Buffer.allocUnsafe(16);
  const zeros = gap < 0 ? 0 : 8 - count;
  const split = gap < 0 ? 8 : gap;
  let o = 0;
  for (let k = 0; k < split; k++, o += 2) {
    out[o] = groups[k] >>> 8;
    out[o + 1] = groups[k] & 0xff;
  }
  for (let k = 0; k < zeros; k++, o += 2) out[o] = out[o + 1] = 0;
  for (let k = split; k < count; k++, o += 2) {
    out[o] = groups[k] >>> 8;
    out[o + 1] = groups[k] & 0xff;
  }
  return out;
}

/** 16 octets → canonical text (RFC 5952 §4: lowercase, no leading zeros, longest run of ≥2 zero groups as "::"). */
export function formatIpv6(b: Buffer, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + 2 * i] << 8) | b[off + 2 * i + 1]);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  if (bestStart < 0) return g.map((x) => x.toString(16)).join(':');
  const head = g.slice(0, bestStart).map((x) => x.toString(16)).join(':');
  const tail = g.slice(bestStart + bestLen).map((x) => x.toString(16)).join(':');
  return `${head}::${tail}`;
}

// ---------------------------------------------------------------- prefixes

export interface Ipv6Prefix {
  /** Canonical address text of the prefix (host bits zero). */
  prefix: string;
  length: number;
}

/** "2001:db8::/64" → { address octets, length }, or null. Host bits must be zero. */
export function parseIpv6Prefix(s: string): { addr: Buffer; length: number } | null {
  const slash = s.indexOf('/');
  if (slash < 0) return null;
  const addr = parseIpv6(s.slice(0, slash));
  const lenText = s.slice(slash + 1);
  if (!addr || !/^\d{1,3}$/.test(lenText)) return null;
  const length = Number(lenText);
  if (length > 128) return null;
  if (!hostBitsZero(addr, length)) return null;
  return { addr, length };
}

function hostBitsZero(addr: Buffer, length: number): boolean {
  for (let bit = length; bit < addr.length * 8; bit++) {
    if (addr[bit >> 3] & (0x80 >> (bit & 7))) return false;
  }
  return true;
}

/**
 * ipv6prefix value (RFC 8044 §3.10, RFC 6572 §4.8): Reserved(0) | Prefix-Length | Prefix,
 * with only ceil(length/8) prefix octets. The all-zero prefix "::" is sent with length 128
 * (RFC 6572 §4.8: delegation to the AAA).
 */
export function encodeIpv6PrefixValue(addr: Buffer, length: number): Buffer {
  const n = Math.ceil(length / 8);
  const out = Buffer.alloc(2 + n);
  out[1] = length;
  addr.copy(out, 2, 0, n);
  return out;
}

export type PrefixDecodeError = 'bad_length' | 'prefix_length_out_of_range' | 'host_bits_set';

/**
 * Decode an ipv6prefix value. Reserved is ignored (RFC 6572 §4.8); fewer prefix octets than
 * the length needs are taken as zero (RFC 8044 only says "up to 16"); host bits must be zero.
 */
export function decodeIpv6PrefixValue(v: Buffer): { ok: true; addr: Buffer; length: number } | { ok: false; error: PrefixDecodeError } {
  if (v.length < 2 || v.length > 18) return { ok: false, error: 'bad_length' };
  const length = v[1];
  if (length > 128) return { ok: false, error: 'prefix_length_out_of_range' };
  const addr = Buffer.alloc(16);
  v.copy(addr, 0, 2);
  if (!hostBitsZero(addr, length)) return { ok: false, error: 'host_bits_set' };
  return { ok: true, addr, length };
}

export function formatIpv6Prefix(addr: Buffer, length: number): string {
  return `${formatIpv6(addr)}/${length}`;
}

/**
 * ipv4prefix value (RFC 8044 §3.11; RFC 6572 §4.12 draws 10 reserved bits + 6-bit length,
 * wire-compatible): Reserved(0) | Prefix-Length | IPv4(4). PMIP6-*-IPv4-HoA (155/156) carries
 * the MN's *address* with its prefix length, so callers choose whether host bits are kept.
 */
export function encodeIpv4PrefixValue(addr: Buffer, length: number, keepHostBits: boolean): Buffer {
  const out = Buffer.alloc(6);
  out[1] = length;
  addr.copy(out, 2, 0, 4);
  if (!keepHostBits) maskBits(out.subarray(2), length);
  return out;
}

function maskBits(b: Buffer, length: number): void {
  for (let bit = length; bit < b.length * 8; bit++) b[bit >> 3] &= ~(0x80 >> (bit & 7));
}

export function decodeIpv4PrefixValue(v: Buffer, keepHostBits: boolean): { ok: true; addr: Buffer; length: number } | { ok: false; error: PrefixDecodeError } {
  if (v.length !== 6) return { ok: false, error: 'bad_length' };
  const length = v[1];
  if (length > 32) return { ok: false, error: 'prefix_length_out_of_range' };
  const addr = Buffer.from(v.subarray(2, 6));
  if (!keepHostBits && !hostBitsZero(addr, length)) return { ok: false, error: 'host_bits_set' };
  return { ok: true, addr, length };
}

// ---------------------------------------------------------------- ifid, integers

/** Interface identifier text "0211:22ff:fe33:4455" (four 16-bit hex groups) or 16 hex digits → 8 octets. */
export function parseIfid(s: string): Buffer | null {
  const groups = s.includes(':') ? s.split(':') : s.length === 16 ? s.match(/.{4}/g) ?? [] : [];
  if (groups.length !== 4) return null;
  const out = Buffer.allocUnsafe(8);
  for (let i = 0; i < 4; i++) {
    const n = parseHexGroup(groups[i]);
    if (n < 0) return null;
    out.writeUInt16BE(n, i * 2);
  }
  return out;
}

/** 8 octets → "xxxx:xxxx:xxxx:xxxx" (FreeRADIUS prints ifid the same way). */
export function formatIfid(b: Buffer, off = 0): string {
  const g: string[] = [];
  for (let i = 0; i < 4; i++) g.push(b.readUInt16BE(off + 2 * i).toString(16).padStart(4, '0'));
  return g.join(':');
}

export function encodeInteger(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export function encodeInteger64(n: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt.asUintN(64, n));
  return b;
}

export function decodeInteger(v: Buffer): number | null {
  return v.length === 4 ? v.readUInt32BE(0) : null;
}

export function decodeInteger64(v: Buffer): bigint | null {
  return v.length === 8 ? v.readBigUInt64BE(0) : null;
}

/** Strip the IPv4-mapped prefix a dual-stack socket reports ("::ffff:192.0.2.1" → "192.0.2.1"). */
export function unmapAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}
