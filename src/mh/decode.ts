/**
 * Mobility Header decoder. Never throws on any packet: every problem becomes
 * `{ ok: false, error: { code, reason, offset } }` so receivers can count drops
 * per cause.
 *
 * Check order (RFC 6275 9.2, with framing first):
 *   1. at least 8 octets, else `truncated`;
 *   2. checksum, when src/dst are given (`bad-checksum`; drop silently);
 *   3. (Header Len + 1) * 8 equals the datagram length (`truncated` if it
 *      announces more, `bad-header-len` if less);
 *   4. unknown MH Type -> `{ ok: true, msg: { type: 'unknown' } }` so the caller
 *      can send Binding Error status 2;
 *   5. Payload Proto 59, else `bad-payload-proto` (ICMP Param Problem pointer 0);
 *   6. length not below the type's fixed part, else `bad-header-len` (pointer 1);
 *   7. type-specific fields, then option TLVs: Length per option (`bad-option-length`),
 *      then fields no message can carry, such as a prefix length beyond the address
 *      size (`bad-option-value`), so that whatever decodes can be encoded again.
 */
import { verifyMhChecksum } from './checksum.ts';
import { decodeOptions, get16, get32, take } from './options-decode.ts';
import {
  BrType,
  IPPROTO_NONE,
  MH_BA,
  MH_BE,
  MH_BINDING_REVOCATION,
  MH_BU,
  MH_FIXED_LENGTH,
  MH_HEARTBEAT,
} from './types.ts';
import type { DecodeError, DecodeErrorCode, DecodeOptions, DecodeResult, MhMessage, MobilityOption } from './types.ts';

function fail(code: DecodeErrorCode, reason: string, offset?: number): DecodeResult {
  const error: DecodeError = offset === undefined ? { code, reason } : { code, reason, offset };
  return { ok: false, error };
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Fixed part length per MH Type for the types we decode; 0 = not handled. */
const FIXED = new Uint8Array(256);
FIXED[MH_BU] = MH_FIXED_LENGTH[MH_BU];
FIXED[MH_BA] = MH_FIXED_LENGTH[MH_BA];
FIXED[MH_BE] = MH_FIXED_LENGTH[MH_BE];
FIXED[MH_HEARTBEAT] = MH_FIXED_LENGTH[MH_HEARTBEAT];
FIXED[MH_BINDING_REVOCATION] = MH_FIXED_LENGTH[MH_BINDING_REVOCATION];

/** The MH Type octet of a datagram, or -1 if it is too short to have one (for cheap filtering). */
export function peekMhType(buf: Uint8Array): number {
  return buf.length >= 3 ? buf[2] : -1;
}

/** Decode one Mobility Header occupying all of `input`. */
export function decodeMessage(input: Uint8Array, opts?: DecodeOptions): DecodeResult {
  const buf = asBuffer(input);
  const n = buf.length;
  if (n < 8) return fail('truncated', `${n} octets, the MH needs at least 8`, 0);

  if (opts?.src && opts.dst && !verifyMhChecksum(buf, opts.src, opts.dst)) {
    return fail('bad-checksum', 'MH checksum does not match the pseudo-header', 4);
  }

  const total = (buf[1] + 1) * 8;
  if (total > n) return fail('truncated', `Header Len says ${total} octets, datagram has ${n}`, 1);
  if (total < n) return fail('bad-header-len', `Header Len says ${total} octets, datagram has ${n}`, 1);

  const mhType = buf[2];
  const fixed = FIXED[mhType];
  const zeroCopy = opts?.zeroCopy === true;

  if (fixed === 0) {
    // RFC 6275 9.2: unknown MH Type -> Binding Error status 2 (caller's job).
    return { ok: true, msg: { type: 'unknown', mhType, data: take(buf, 6, n, zeroCopy) } };
  }
  if (buf[0] !== IPPROTO_NONE) return fail('bad-payload-proto', `Payload Proto ${buf[0]}, expected ${IPPROTO_NONE}`, 0);
  if (total < fixed) {
    return fail('bad-header-len', `MH Type ${mhType} needs ${fixed} octets, Header Len gives ${total}`, 1);
  }

  if (mhType === MH_BINDING_REVOCATION) {
    const brType = buf[6];
    if (brType !== BrType.BRI && brType !== BrType.BRA) {
      return fail('bad-br-type', `Binding Revocation Type ${brType} is neither BRI (1) nor BRA (2)`, 6);
    }
  }

  const res = decodeOptions(buf, fixed, n, zeroCopy);
  if (!res.ok) return res;
  const options: MobilityOption[] = res.options;

  let msg: MhMessage;
  switch (mhType) {
    case MH_BU: // RFC 6275 6.1.7
      msg = { type: 'bu', seq: get16(buf, 6), flags: get16(buf, 8), lifetime: get16(buf, 10), options };
      break;
    case MH_BA: // RFC 6275 6.1.8
      msg = {
        type: 'ba', status: buf[6], flags: buf[7], seq: get16(buf, 8), lifetime: get16(buf, 10), options,
      };
      break;
    case MH_BE: // RFC 6275 6.1.9
      msg = { type: 'be', status: buf[6], homeAddress: take(buf, 8, 24, zeroCopy), options };
      break;
    case MH_HEARTBEAT: // RFC 5847 3.3
      msg = { type: 'heartbeat', flags: get16(buf, 6), seq: get32(buf, 8), options };
      break;
    default: // MH_BINDING_REVOCATION, RFC 5846 5.1 / 5.2
      msg = buf[6] === BrType.BRI
        ? { type: 'bri', trigger: buf[7], seq: get16(buf, 8), flags: buf[10], options }
        : { type: 'bra', status: buf[7], seq: get16(buf, 8), flags: buf[10], options };
  }
  return { ok: true, msg };
}
