// Profile prefixes on the registration path (RFC 5213 §5.3.2: the HNPs a new session gets).
// Every initial registration turns the profile's prefix text into bytes (for the PBA's HNP
// option) and a canonical key (for the binding cache's index). The codec's parsePrefix is
// meant for configuration (regular expressions, arrays, Buffer.alloc): here the common
// forms a store or an AAA server hands over ("2001:db8:1:1::/64", hex groups with at most
// one "::") are read in one pass; anything else (an IPv4 tail, odd text) goes to
// parsePrefix, which accepts or refuses exactly as before.
import { parsePrefix } from '../mh/index.ts';

export interface ParsedPrefix {
  prefix: Uint8Array;
  prefixLen: number;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  if (c >= 65 && c <= 70) return c - 55; // A-F
  return -1;
}

/**
 * Hex-group IPv6 prefix text with an optional single "::" and a /0..128 length; undefined
 * when the text is anything else (the caller then uses parsePrefix).
 */
export function quickPrefix(text: string): ParsedPrefix | undefined {
  const n = text.length;
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === n - 1 || n - slash > 4) return undefined;
  let len = 0;
  for (let i = slash + 1; i < n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    len = len * 10 + d;
  }
  if (len > 128) return undefined;
  // Groups are written left to right; the ones after "::" move to the right end at the end.
  const out = new Uint8Array(16);
  let count = 0;
  let gap = -1; // number of groups before "::"
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    // leading "::"
    if (text.charCodeAt(1) !== 58) return undefined;
    gap = 0;
    i = 2;
    if (i === slash) return { prefix: out, prefixLen: len };
  }
  for (;;) {
    let v = 0;
    let digits = 0;
    while (i < slash) {
      const h = hexVal(text.charCodeAt(i));
      if (h < 0) break;
      v = (v << 4) | h;
      i++;
      if (++digits > 4) return undefined;
    }
    if (digits === 0 || count === 8) return undefined;
    out[2 * count] = v >>> 8;
    out[2 * count + 1] = v & 0xff;
    count++;
    if (i === slash) break;
    if (text.charCodeAt(i) !== 58) return undefined; // "." (IPv4 tail) or junk
    i++;
    if (text.charCodeAt(i) === 58) {
      if (gap >= 0) return undefined; // a second "::"
      gap = count;
      i++;
      if (i === slash) break; // trailing "::"
    }
  }
  if (gap < 0) return count === 8 ? { prefix: out, prefixLen: len } : undefined;
  if (count > 7) return undefined;
  const tail = count - gap;
  if (tail > 0) {
    out.copyWithin(16 - 2 * tail, 2 * gap, 2 * count);
    out.fill(0, 2 * gap, 16 - 2 * tail);
  }
  return { prefix: out, prefixLen: len };
}

/** quickPrefix, else the codec's parser (which throws a TypeError on bad text). */
export function readPrefix(text: string): ParsedPrefix {
  return quickPrefix(text) ?? parsePrefix(text);
}

/**
 * True when `text` already is the canonical key of the prefix it was read as (what
 * pbu.ts prefixKey(prefix, len) gives: host bits cleared, RFC 5952 text, "/len"), checked
 * without building that text: the profile's own string then serves as the key (assign.ts
 * ownedPrefixes, every initial registration).
 */
export function isCanonicalPrefix(text: string, prefix: Uint8Array, len: number): boolean {
  for (let i = 0; i < 16; i++) {
    const bits = len - 8 * i;
    const keep = bits >= 8 ? 0xff : bits <= 0 ? 0 : (0xff << (8 - bits)) & 0xff;
    if ((prefix[i] & ~keep) !== 0) return false; // host bits set: the key differs
  }
  // The longest run of zero groups (length >= 2, the first of equals), as ipv6ToString.
  let bestStart = -1;
  let bestLen = 0;
  let runStart = -1;
  for (let i = 0; i <= 8; i++) {
    if (i < 8 && prefix[2 * i] === 0 && prefix[2 * i + 1] === 0) {
      if (runStart < 0) runStart = i;
    } else if (runStart >= 0) {
      if (i - runStart > bestLen && i - runStart >= 2) {
        bestStart = runStart;
        bestLen = i - runStart;
      }
      runStart = -1;
    }
  }
  if (bestStart === 0 && bestLen === 5 && prefix[10] === 0xff && prefix[11] === 0xff) return false; // IPv4-mapped: dotted text
  let p = 0;
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      if (i === 0 && text.charCodeAt(p++) !== 58) return false;
      if (text.charCodeAt(p++) !== 58) return false;
      i += bestLen - 1;
      continue;
    }
    const g = (prefix[2 * i] << 8) | prefix[2 * i + 1];
    for (let shift = g >= 0x1000 ? 12 : g >= 0x100 ? 8 : g >= 0x10 ? 4 : 0; shift >= 0; shift -= 4) {
      const d = (g >>> shift) & 0xf;
      if (text.charCodeAt(p++) !== (d < 10 ? 48 + d : 87 + d)) return false;
    }
    if (i < 7 && text.charCodeAt(p++) !== 58) return false;
  }
  if (text.charCodeAt(p++) !== 47) return false; // '/'
  // The length in decimal, no leading zero (no string built: this runs per initial registration).
  const digits = len >= 100 ? 3 : len >= 10 ? 2 : 1;
  if (text.length !== p + digits) return false;
  for (let k = digits - 1, v = len; k >= 0; k--, v = Math.floor(v / 10)) if (text.charCodeAt(p + k) !== 48 + (v % 10)) return false;
  return true;
}
