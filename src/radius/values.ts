// RADIUS attribute value codecs (RFC 8044 data types) for the types the `radius` package
// lacks: ipv4addr (§3.4), ipv6addr (§3.9), ipv6prefix (§3.10), ipv4prefix (§3.11),
// ifid (§3.8), integer (§3.1), integer64 (§3.12), text (§3.5), string/octets (§3.6).
// Pure: no I/O. Parsers return null on malformed input, they never throw.

// ---------------------------------------------------------------- IPv4

/** Dotted quad → 4 octets, or null. Strict: four decimal octets, no leading zeros beyond "0". */
export function parseIpv4(s: string): Buffer | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = Buffer.allocUnsafe(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (p.length === 0 || p.length > 3 || (p.length > 1 && p[0] === '0')) return null;
    let n = 0;
    for (let j = 0; j < p.length; j++) {
      const c = p.charCodeAt(j) - 48;
      if (c < 0 || c > 9) return null;
      n = n * 10 + c;
    }
    if (n > 255) return null;
    out[i] = n;
  }
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

/** Parse one side of "::" into 16-bit groups; the last group may be a dotted IPv4 (RFC 4291 §2.2). */
function parseGroups(s: string, allowV4Tail: boolean): number[] | null {
  if (s === '') return [];
  const parts = s.split(':');
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (i === parts.length - 1 && allowV4Tail && p.includes('.')) {
      const v4 = parseIpv4(p);
      if (!v4) return null;
      out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else {
      const n = parseHexGroup(p);
      if (n < 0) return null;
      out.push(n);
    }
  }
  return out;
}

/** IPv6 text (RFC 4291 §2.2, any valid form) → 16 octets, or null. No zone ids. */
export function parseIpv6(s: string): Buffer | null {
  if (s.length < 2 || s.length > 45) return null;
  const dc = s.indexOf('::');
  let groups: number[];
  if (dc >= 0) {
    if (s.indexOf('::', dc + 1) >= 0) return null;
    const head = parseGroups(s.slice(0, dc), false);
    const tail = parseGroups(s.slice(dc + 2), true);
    if (!head || !tail || head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const g = parseGroups(s, true);
    if (!g || g.length !== 8) return null;
    groups = g;
  }
  const out = Buffer.allocUnsafe(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(groups[i], i * 2);
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
