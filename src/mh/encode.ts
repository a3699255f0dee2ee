/**
 * Mobility Header encoder (RFC 6275 6.1.1): common header, per-type fixed
 * part, options with Pad1/PadN for their alignment, trailing padding to a
 * multiple of 8 octets, Header Len, Payload Proto 59, optional checksum.
 *
 * Encoding is from our own state, so invalid input (a 15-byte address, a
 * prefix length of 129, too many options) is a programming error: it throws
 * a RangeError/TypeError. Decoding never throws (see decode.ts).
 */
import { setMhChecksum } from './checksum.ts';
import { optionSpec, padForSpec, put16, put32, putBytes, u16, u32, u8, writeOption, writePad } from './options.ts';
import {
  BrType,
  IPPROTO_NONE,
  MH_BA,
  MH_BE,
  MH_BINDING_REVOCATION,
  MH_BU,
  MH_FIXED_LENGTH,
  MH_HEARTBEAT,
  MH_MAX_LENGTH,
} from './types.ts';
import type { EncodeOptions, MhMessage, MobilityOption } from './types.ts';

/** Packed option specs of the message being encoded (encode is synchronous: one scratch suffices). */
let specScratch = new Int32Array(64);

function fixedLength(msg: MhMessage): number {
  switch (msg.type) {
    case 'bu': return MH_FIXED_LENGTH[MH_BU];
    case 'ba': return MH_FIXED_LENGTH[MH_BA];
    case 'be': return MH_FIXED_LENGTH[MH_BE];
    case 'heartbeat': return MH_FIXED_LENGTH[MH_HEARTBEAT];
    case 'bri':
    case 'bra': return MH_FIXED_LENGTH[MH_BINDING_REVOCATION];
    case 'unknown': return 6 + msg.data.length;
  }
}

function mhTypeOf(msg: MhMessage): number {
  switch (msg.type) {
    case 'bu': return MH_BU;
    case 'ba': return MH_BA;
    case 'be': return MH_BE;
    case 'heartbeat': return MH_HEARTBEAT;
    case 'bri':
    case 'bra': return MH_BINDING_REVOCATION;
    case 'unknown': return msg.mhType;
  }
}

/** Length in octets the MH for `msg` will have (validates the options). */
export function encodedLength(msg: MhMessage): number {
  return layout(msg);
}

/** First pass: option specs into specScratch, returns the padded total. */
function layout(msg: MhMessage): number {
  let off = fixedLength(msg);
  if (msg.type === 'unknown') {
    if (off < 8 || off % 8 !== 0 || off > MH_MAX_LENGTH) {
      throw new RangeError(`unknown MH: 6 + data.length must be a multiple of 8 in 8..${MH_MAX_LENGTH}, got ${off}`);
    }
    return off;
  }
  const opts: MobilityOption[] = msg.options;
  if (opts.length > specScratch.length) specScratch = new Int32Array(Math.max(opts.length, 2 * specScratch.length));
  for (let i = 0; i < opts.length; i++) {
    const spec = optionSpec(opts[i]);
    specScratch[i] = spec;
    off += padForSpec(spec, off) + 2 + (spec & 0xff);
  }
  const total = (off + 7) & ~7;
  if (total > MH_MAX_LENGTH) throw new RangeError(`MH would be ${total} octets, more than ${MH_MAX_LENGTH}`);
  return total;
}

function checkAddr16(a: Uint8Array, what: string): void {
  if (a.length !== 16) throw new RangeError(`${what}: expected 16 bytes, got ${a.length}`);
}

/**
 * Encode a message into a new Buffer. With `opts.src` and `opts.dst` the MH
 * checksum is computed over the IPv6 pseudo-header; without them it is 0 (for
 * IPv4/UDP carriage, RFC 5844 4, or a raw socket where the kernel fills it).
 */
export function encodeMessage(msg: MhMessage, opts?: EncodeOptions): Buffer {
  const total = layout(msg);
  const buf = Buffer.allocUnsafe(total);
  writeLaidOut(msg, buf, 0, total);
  if (opts?.src && opts.dst) setMhChecksum(buf, opts.src, opts.dst);
  return buf;
}

/**
 * Encode a message into `buf` at `off` (the same octets as encodeMessage, checksum 0:
 * IPv4/UDP carriage or a raw socket where the kernel fills it) and return its length.
 * For a transport's outgoing batch buffer: no Buffer per message. What lies in
 * `buf` past the returned length is untouched; too little room is a RangeError
 * (nothing is written then).
 */
export function encodeMessageInto(msg: MhMessage, buf: Uint8Array, off: number): number {
  const total = layout(msg);
  if (!(off >= 0 && off + total <= buf.length)) throw new RangeError(`MH of ${total} octets does not fit at ${off} in ${buf.length}`);
  writeLaidOut(msg, buf, off, total);
  return total;
}

/**
 * Second pass, after layout(msg) (whose option specs are in specScratch): the `total`
 * octets at `base`, with plain byte stores (Buffer's write helpers validate every
 * argument). Every octet is written, Reserved fields and padding as zeros (RFC 6275
 * 6.1.1, 6.2.3): the buffer may hold anything (a transport's reused batch buffer).
 */
function writeLaidOut(msg: MhMessage, buf: Uint8Array, base: number, total: number): void {
  // Validate the fixed part before writing anything.
  switch (msg.type) {
    case 'bu': u16(msg.seq, 'bu.seq'); u16(msg.flags, 'bu.flags'); u16(msg.lifetime, 'bu.lifetime'); break;
    case 'ba': u8(msg.status, 'ba.status'); u8(msg.flags, 'ba.flags'); u16(msg.seq, 'ba.seq'); u16(msg.lifetime, 'ba.lifetime'); break;
    case 'be': u8(msg.status, 'be.status'); checkAddr16(msg.homeAddress, 'be.homeAddress'); break;
    case 'heartbeat': u16(msg.flags, 'heartbeat.flags'); u32(msg.seq, 'heartbeat.seq'); break;
    case 'bri': u8(msg.trigger, 'bri.trigger'); u16(msg.seq, 'bri.seq'); u8(msg.flags, 'bri.flags'); break;
    case 'bra': u8(msg.status, 'bra.status'); u16(msg.seq, 'bra.seq'); u8(msg.flags, 'bra.flags'); break;
    case 'unknown': u8(msg.mhType, 'unknown.mhType'); break;
  }
  const b = base;
  buf[b] = IPPROTO_NONE;
  buf[b + 1] = total / 8 - 1;
  buf[b + 2] = mhTypeOf(msg);
  buf[b + 3] = 0; // Reserved
  buf[b + 4] = 0; // Checksum: 0 here
  buf[b + 5] = 0;
  switch (msg.type) {
    case 'bu': // RFC 6275 6.1.7
      put16(buf, b + 6, msg.seq);
      put16(buf, b + 8, msg.flags);
      put16(buf, b + 10, msg.lifetime);
      break;
    case 'ba': // RFC 6275 6.1.8
      buf[b + 6] = msg.status;
      buf[b + 7] = msg.flags;
      put16(buf, b + 8, msg.seq);
      put16(buf, b + 10, msg.lifetime);
      break;
    case 'be': // RFC 6275 6.1.9
      buf[b + 6] = msg.status;
      buf[b + 7] = 0; // Reserved
      putBytes(buf, b + 8, msg.homeAddress);
      break;
    case 'heartbeat': // RFC 5847 3.3
      put16(buf, b + 6, msg.flags);
      put32(buf, b + 8, msg.seq >>> 0);
      break;
    case 'bri': // RFC 5846 5.1
      buf[b + 6] = BrType.BRI;
      buf[b + 7] = msg.trigger;
      put16(buf, b + 8, msg.seq);
      buf[b + 10] = msg.flags;
      buf[b + 11] = 0; // Reserved
      break;
    case 'bra': // RFC 5846 5.2
      buf[b + 6] = BrType.BRA;
      buf[b + 7] = msg.status;
      put16(buf, b + 8, msg.seq);
      buf[b + 10] = msg.flags;
      buf[b + 11] = 0; // Reserved
      break;
    case 'unknown':
      buf.set(msg.data, b + 6);
      break;
  }
  if (msg.type !== 'unknown') {
    // Pad and option offsets are MH offsets (RFC 6275 6.2.1 alignment), written at base + offset.
    let off = fixedLength(msg);
    const options = msg.options;
    for (let i = 0; i < options.length; i++) {
      const spec = specScratch[i];
      const pad = padForSpec(spec, off);
      writePad(buf, b + off, pad);
      off = writeOption(buf, b + off + pad, options[i], spec & 0xff) - b;
    }
    writePad(buf, b + off, total - off);
  }
}
