// IP address and prefix text helpers for the store, API and pools: parsing with clear
// reasons, RFC 5952 canonical text, and bigint arithmetic for allocating from pools.
import { isIPv4, isIPv6 } from 'node:net';

export type Family = 4 | 6;

export interface Prefix {
  family: Family;
  /** Network address as an unsigned integer (32 or 128 bits). */
  value: bigint;
  length: number;
}

export function ipv4ToBigInt(s: string): bigint {
  return s.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}

export function bigIntToIpv4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((sh) => Number((v >> sh) & 0xffn)).join('.');
}

export function ipv6ToBigInt(s: string): bigint {
  let text = s;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // Embedded IPv4 tail (::ffff:1.2.3.4).
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = ipv4ToBigInt(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const fill = rest !== undefined ? 8 - h.length - r.length : 0;
  const groups = [...h, ...Array<string>(fill).fill('0'), ...r];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** RFC 5952 canonical text: lowercase, no leading zeros, longest zero run (>1 group) as ::. */
export function bigIntToIpv6(v: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function addressToBigInt(s: string): { family: Family; value: bigint } | null {
  if (isIPv4(s)) return { family: 4, value: ipv4ToBigInt(s) };
  if (isIPv6(s)) return { family: 6, value: ipv6ToBigInt(s) };
  return null;
}

/** Canonical text of an address, or null if it is not one. */
export function canonicalAddress(s: string): string | null {
  const a = addressToBigInt(s);
  if (!a) return null;
  return a.family === 4 ? bigIntToIpv4(a.value) : bigIntToIpv6(a.value);
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Parses "2001:db8:1:1::/64" or "10.0.0.0/24". Host bits must be zero. */
export function parsePrefix(text: string, family?: Family): ParseResult<Prefix> {
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(text);
  if (!m) return { ok: false, reason: `"${text}" is not a prefix (address/length)` };
  const addr = addressToBigInt(m[1]);
  if (!addr) return { ok: false, reason: `"${m[1]}" is not an IP address` };
  if (family && addr.family !== family) return { ok: false, reason: `"${text}" is not an IPv${family} prefix` };
  const length = Number(m[2]);
  const bits = addr.family === 4 ? 32 : 128;
  if (length > bits) return { ok: false, reason: `prefix length ${length} exceeds ${bits}` };
  const hostMask = (1n << BigInt(bits - length)) - 1n;
  if ((addr.value & hostMask) !== 0n) return { ok: false, reason: `"${text}" has host bits set beyond /${length}` };
  return { ok: true, value: { family: addr.family, value: addr.value, length } };
}

export function prefixToString(p: Prefix): string {
  return `${p.family === 4 ? bigIntToIpv4(p.value) : bigIntToIpv6(p.value)}/${p.length}`;
}

/** Canonical text of a prefix, or null. */
export function canonicalPrefix(text: string, family?: Family): string | null {
  const r = parsePrefix(text, family);
  return r.ok ? prefixToString(r.value) : null;
}

/** The index-th sub-prefix of the given length inside `pool`. */
export function subPrefix(pool: Prefix, length: number, index: bigint): Prefix {
  const bits = pool.family === 4 ? 32 : 128;
  return { family: pool.family, value: pool.value + (index << BigInt(bits - length)), length };
}

/** How many sub-prefixes of `length` fit in `pool`. */
export function subPrefixCount(pool: Prefix, length: number): bigint {
  return 1n << BigInt(length - pool.length);
}
