/**
 * Mobility Header checksum (RFC 6275 6.1.1): 16-bit one's complement of the
 * one's complement sum of the IPv6 pseudo-header (RFC 2460 8.1: source,
 * destination, upper-layer length = MH length, three zero octets, next
 * header 135) followed by the whole MH with its Checksum field taken as zero.
 *
 * Over IPv4/UDP (RFC 5844 4) the MH checksum is 0 and ignored: don't call these.
 */
import { IPPROTO_MH } from './types.ts';

/** Checksum field offset inside the MH. */
export const MH_CHECKSUM_OFFSET = 4;

function sumWords(b: Uint8Array, start: number, end: number, acc: number): number {
  let i = start;
  // Two words per step; the accumulator stays far below 2^53 for any MH (<= 2048 octets).
  for (; i + 3 < end; i += 4) acc += ((b[i] << 8) | b[i + 1]) + ((b[i + 2] << 8) | b[i + 3]);
  for (; i + 1 < end; i += 2) acc += (b[i] << 8) | b[i + 1];
  if (i < end) acc += b[i] << 8; // odd length: pad with a zero octet
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return acc;
}

function checkAddr(a: Uint8Array, name: string): void {
  if (a.length !== 16) throw new TypeError(`${name} must be a 16-byte IPv6 address, got ${a.length}`);
}

/** One's complement sum (unfolded) of the pseudo-header for an MH of `length` octets. */
function pseudoSum(src: Uint8Array, dst: Uint8Array, length: number): number {
  checkAddr(src, 'src');
  checkAddr(dst, 'dst');
  let acc = sumWords(src, 0, 16, 0);
  acc = sumWords(dst, 0, 16, acc);
  return acc + Math.floor(length / 0x10000) + (length & 0xffff) + IPPROTO_MH;
}

/**
 * Compute the MH checksum of `mh` (the whole Mobility Header), treating the
 * Checksum field at offset 4 as zero whatever it holds. Returns the 16-bit value
 * to put in the field.
 */
export function mhChecksum(mh: Uint8Array, src: Uint8Array, dst: Uint8Array): number {
  let acc = pseudoSum(src, dst, mh.length);
  acc = sumWords(mh, 0, Math.min(MH_CHECKSUM_OFFSET, mh.length), acc);
  acc = sumWords(mh, MH_CHECKSUM_OFFSET + 2, mh.length, acc);
  return ~fold(acc) & 0xffff;
}

/** Compute and write the checksum into `mh` in place; returns `mh`. */
export function setMhChecksum<T extends Uint8Array>(mh: T, src: Uint8Array, dst: Uint8Array): T {
  const c = mhChecksum(mh, src, dst);
  mh[MH_CHECKSUM_OFFSET] = c >>> 8;
  mh[MH_CHECKSUM_OFFSET + 1] = c & 0xff;
  return mh;
}

/** True if the Checksum field of `mh` is correct for these addresses. */
export function verifyMhChecksum(mh: Uint8Array, src: Uint8Array, dst: Uint8Array): boolean {
  if (mh.length < MH_CHECKSUM_OFFSET + 2) return false;
  // Sum including the transmitted checksum must be all ones (0xffff, or its
  // one's complement twin 0 which a non-empty pseudo-header cannot produce).
  const acc = sumWords(mh, 0, mh.length, pseudoSum(src, dst, mh.length));
  return fold(acc) === 0xffff;
}
