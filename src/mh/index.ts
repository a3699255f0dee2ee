/**
 * Mobility Header codec (RFC 6275 6.1/6.2 and the PMIPv6 extensions).
 * Import everything MH-related from here: `import { ... } from '../mh/index.ts'`.
 *
 *   encodeMessage(msg, { src?, dst? }) -> Buffer       (checksum only if src and dst)
 *   encodeMessageInto(msg, buf, off) -> length         (into a caller's buffer, checksum 0)
 *   decodeMessage(buf, { src?, dst?, zeroCopy? }) -> { ok, msg } | { ok: false, error }
 *   mhChecksum / setMhChecksum / verifyMhChecksum       (IPv6 pseudo-header, next header 135)
 *   ipv6ToString / parseIpv6 / prefixToString / parsePrefix / ipv4ToString / parseIpv4
 *   getOption / getOptions / countOptions, timestampFromMs / timestampToMs,
 *   lifetimeToSeconds / secondsToLifetime, mnIdFromNai / naiFromMnId, isPbu / isPba
 */
export * from './types.ts';
export * from './addr.ts';
export { mhChecksum, setMhChecksum, verifyMhChecksum, MH_CHECKSUM_OFFSET } from './checksum.ts';
export { encodeMessage, encodeMessageInto, encodedLength } from './encode.ts';
export { decodeMessage, peekMhType } from './decode.ts';
export * from './helpers.ts';
