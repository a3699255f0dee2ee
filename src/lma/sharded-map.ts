// Hash-sharded Maps for the binding cache's key indexes (bce.ts: MN-ID, HNP, IPv4 HoA, MN-LL).
// A V8 Map doubles by rehashing every entry in one step: 131–574 ms per set past 2^19 entries,
// seconds per BindingCache.add when several indexes grow on the same add (issue 12). Split over
// SHARDS Maps by a cheap hash of the key, each Map holds 1/SHARDS of the keys, so one growth
// rehashes 1/SHARDS of them, and the shards reach their growth points on different adds.
//
// The shard hash reads only the few characters that vary between keys (not the whole string,
// which V8 hashes again for the Map itself): for an NAI the end of the user part ("mn000123" in
// "mn000123@example.net"), for an HNP the end of the prefix's significant groups ("1:2" in
// "2001:db8:1:2::/64"), mixed with the length by a multiplicative (Fibonacci) hash.

const SHARD_BITS = 6;
export const SHARDS = 1 << SHARD_BITS;
const GOLDEN = 0x9e3779b1 | 0;

/** Six characters ending at `e` (outside the string: 0) and the length, mixed to a shard. */
function mix(s: string, e: number): number {
  // charCodeAt outside the string is NaN, which `|` and `<<` read as 0.
  const lo = s.charCodeAt(e - 1) | (s.charCodeAt(e - 2) << 8) | (s.charCodeAt(e - 3) << 16) | (s.charCodeAt(e - 4) << 24);
  const hi = s.charCodeAt(e - 5) | (s.charCodeAt(e - 6) << 8) | (s.length << 16);
  const h = Math.imul(lo, GOLDEN) ^ hi;
  return Math.imul(h ^ (h >>> 15), 0x85ebca6b | 0) >>> (32 - SHARD_BITS);
}

/** Shard of an MN-ID (an NAI, RFC 4282, or "x-mnid-<subtype>:<hex>"), or of a key starting with one. */
export function mnShard(mnId: string): number {
  const e = mnId.indexOf('@');
  return mix(mnId, e < 0 ? mnId.length : e);
}

/** Shard of an HNP in canonical text ("2001:db8:1:2::/64"). */
export function hnpShard(p: string): number {
  // One-character search (a "::" search made the HNP lookup ~20% slower); a trailing "::" skipped.
  let e = p.indexOf('/');
  if (e < 0) e = p.length;
  if (p.charCodeAt(e - 1) === 0x3a && p.charCodeAt(e - 2) === 0x3a) e -= 2;
  return mix(p, e);
}

/** Shard of a number key (the byV4 key: an int32 address, context above 2^32). */
export function numShard(k: number): number {
  return Math.imul(k | 0, GOLDEN) >>> (32 - SHARD_BITS);
}

/** SHARDS empty Maps. */
export function shards<K, V>(): Map<K, V>[] {
  return Array.from({ length: SHARDS }, () => new Map<K, V>());
}

