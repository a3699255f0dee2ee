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
import { optionSpec, padForSpec, writeOption, writePad } from './options.ts';
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
  const buf = Buffer.allocUnsafe(total).fill(0);
  buf[0] = IPPROTO_NONE;
  buf[1] = total / 8 - 1;
  buf.writeUInt8(mhTypeOf(msg), 2);
  // buf[3] Reserved, buf[4..5] Checksum: 0
  switch (msg.type) {
    case 'bu': // RFC 6275 6.1.7
      buf.writeUInt16BE(msg.seq, 6);
      buf.writeUInt16BE(msg.flags, 8);
      buf.writeUInt16BE(msg.lifetime, 10);
      break;
    case 'ba': // RFC 6275 6.1.8
      buf.writeUInt8(msg.status, 6);
      buf.writeUInt8(msg.flags, 7);
      buf.writeUInt16BE(msg.seq, 8);
      buf.writeUInt16BE(msg.lifetime, 10);
      break;
    case 'be': // RFC 6275 6.1.9
      buf.writeUInt8(msg.status, 6);
      checkAddr16(msg.homeAddress, 'be.homeAddress');
      buf.set(msg.homeAddress, 8);
      break;
    case 'heartbeat': // RFC 5847 3.3
      buf.writeUInt16BE(msg.flags, 6);
      buf.writeUInt32BE(msg.seq, 8);
      break;
    case 'bri': // RFC 5846 5.1
      buf[6] = BrType.BRI;
      buf.writeUInt8(msg.trigger, 7);
      buf.writeUInt16BE(msg.seq, 8);
      buf.writeUInt8(msg.flags, 10);
      break;
    case 'bra': // RFC 5846 5.2
      buf[6] = BrType.BRA;
      buf.writeUInt8(msg.status, 7);
      buf.writeUInt16BE(msg.seq, 8);
      buf.writeUInt8(msg.flags, 10);
      break;
    case 'unknown':
      buf.set(msg.data, 6);
      break;
  }
  if (msg.type !== 'unknown') {
    let off = fixedLength(msg);
    const options = msg.options;
    for (let i = 0; i < options.length; i++) {
      const spec = specScratch[i];
      off = writePad(buf, off, padForSpec(spec, off));
      off = writeOption(buf, off, options[i], spec & 0xff);
    }
    writePad(buf, off, total - off);
  }
  if (opts?.src && opts.dst) setMhChecksum(buf, opts.src, opts.dst);
  return buf;
}
