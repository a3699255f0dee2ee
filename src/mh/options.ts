/**
 * Mobility option TLVs (RFC 6275 6.2): alignment table and encoding. Decoding
 * is in options-decode.ts.
 *
 * Alignment "xn+y" (RFC 6275 6.2.1, IPv6 convention): the option's Type octet
 * sits at an MH offset congruent to y modulo x. The encoder inserts Pad1 (one
 * octet) or PadN (two or more) before each option to reach it.
 */
import { OptType } from './types.ts';
import type { MobilityOption } from './types.ts';

/** [x, y] alignment per option type tag; [1, 0] = no requirement. */
const ALIGN: Record<MobilityOption['type'], readonly [number, number]> = {
  bindingRefreshAdvice: [2, 0], // RFC 6275 6.2.4: 2n
  altCoa: [8, 6], // RFC 6275 6.2.5: 8n+6
  mnId: [1, 0], // RFC 4283 3: none
  vendorSpecific: [4, 2], // RFC 5094 3: 4n+2
  serviceSelection: [1, 0], // RFC 5149: none
  hnp: [8, 4], // RFC 5213 8.3: 8n+4
  handoffIndicator: [1, 0], // RFC 5213 8.4: none
  accessTechType: [1, 0], // RFC 5213 8.5: none
  // RFC 5213 8.6: "aligned appropriately" for the identifier size. We choose 4n:
  // the 16-bit Reserved lands on 2n and the identifier on 4n.
  mnLinkLayerId: [4, 0],
  linkLocalAddress: [8, 6], // RFC 5213 8.7: 8n+6
  timestamp: [8, 2], // RFC 5213 8.8: 8n+2
  restartCounter: [4, 2], // RFC 5847 3.4: 4n+2
  ipv4HomeAddress: [4, 0], // RFC 5555 3.1.1: 4n
  ipv4AddressAck: [4, 0], // RFC 5555 3.2.1: 4n
  natDetection: [4, 0], // RFC 5555 3.2.2: 4n
  ipv4Coa: [4, 0], // RFC 5555 3.1.2: 4n
  greKey: [4, 0], // RFC 5845 6.1: 4n
  ipv4HoaRequest: [4, 0], // RFC 5844 3.3.1: 4n
  ipv4HoaReply: [4, 0], // RFC 5844 3.3.2: 4n
  ipv4DefaultRouter: [4, 0], // RFC 5844 3.3.3: 4n
  ipv4DhcpSupportMode: [1, 0], // RFC 5844 3.3.4: none
  // RFC 6602 4.3 states none; 4n puts the 32-bit group id on a natural boundary.
  mnGroupId: [4, 0],
  unknown: [1, 0],
};

/** Alignment [x, y] of an option (exported for tests). */
export function optionAlignment(opt: MobilityOption): readonly [number, number] {
  return ALIGN[opt.type];
}

function needLen(b: Uint8Array, len: number, what: string): void {
  if (b.length !== len) throw new RangeError(`${what}: expected ${len} bytes, got ${b.length}`);
}

/**
 * An IPv4 address or other 32-bit field as uint32. Accepts the int32 values
 * that JS bit operations produce (e.g. `192 << 24`); anything else out of range throws.
 */
export function u32(v: number, what: string): number {
  if (Number.isInteger(v) && v >= -0x80000000 && v <= 0xffffffff) return v >>> 0;
  throw new RangeError(`${what}: ${v} is not a 32-bit value`);
}

function checkMax(b: Uint8Array, max: number, what: string, min = 0): void {
  if (b.length > max || b.length < min) {
    throw new RangeError(`${what}: length must be ${min}..${max}, got ${b.length}`);
  }
}

function checkPrefixLen(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${what}: prefix length ${v} not in 0..${max}`);
}

/*
 * Packed option spec used by the encoder: Length value in bits 0-7, alignment
 * mask (x - 1) in bits 8-11, y in bits 12-15. One switch gives both, so the
 * encoder needs no per-option lookups or tuples. Must agree with ALIGN above
 * (the property tests check encoder output against ALIGN).
 */
const A_NONE = 0;
const A_2N = 1 << 8;
const A_4N = 3 << 8;
const A_4N2 = (3 << 8) | (2 << 12);
const A_8N2 = (7 << 8) | (2 << 12);
const A_8N4 = (7 << 8) | (4 << 12);
const A_8N6 = (7 << 8) | (6 << 12);

/** Length field value of an option (octets after Type and Length). Validates the option. */
export function optionDataLength(opt: MobilityOption): number {
  return optionSpec(opt) & 0xff;
}

/** Packed Length + alignment of an option (see above). Throws on invalid options. */
export function optionSpec(opt: MobilityOption): number {
  switch (opt.type) {
    case 'bindingRefreshAdvice': return 2 | A_2N;
    case 'altCoa': needLen(opt.addr, 16, 'altCoa.addr'); return 16 | A_8N6;
    case 'mnId': checkMax(opt.id, 254, 'mnId.id'); return (1 + opt.id.length) | A_NONE;
    case 'vendorSpecific': checkMax(opt.data, 250, 'vendorSpecific.data'); return (5 + opt.data.length) | A_4N2;
    case 'serviceSelection': checkMax(opt.id, 255, 'serviceSelection.id', 1); return opt.id.length | A_NONE;
    case 'hnp':
      needLen(opt.prefix, 16, 'hnp.prefix');
      checkPrefixLen(opt.prefixLen, 128, 'hnp');
      return 18 | A_8N4;
    case 'handoffIndicator': return 2 | A_NONE;
    case 'accessTechType': return 2 | A_NONE;
    case 'mnLinkLayerId': checkMax(opt.id, 253, 'mnLinkLayerId.id'); return (2 + opt.id.length) | A_4N;
    case 'linkLocalAddress': needLen(opt.addr, 16, 'linkLocalAddress.addr'); return 16 | A_8N6;
    case 'timestamp':
      // asUintN(64, v) === v: 0 <= v < 2^64, without two BigInt comparisons per PBA.
      if (typeof opt.value !== 'bigint' || BigInt.asUintN(64, opt.value) !== opt.value) throw new RangeError('timestamp: not a uint64');
      return 8 | A_8N2;
    case 'restartCounter': return 4 | A_4N2;
    case 'ipv4HomeAddress': checkPrefixLen(opt.prefixLen, 32, 'ipv4HomeAddress'); return 6 | A_4N;
    case 'ipv4AddressAck': checkPrefixLen(opt.prefixLen, 32, 'ipv4AddressAck'); return 6 | A_4N;
    case 'natDetection': return 6 | A_4N;
    case 'ipv4Coa': return 6 | A_4N;
    case 'greKey': return (opt.key === null ? 2 : 6) | A_4N;
    case 'ipv4HoaRequest': checkPrefixLen(opt.prefixLen, 32, 'ipv4HoaRequest'); return 6 | A_4N;
    case 'ipv4HoaReply': checkPrefixLen(opt.prefixLen, 32, 'ipv4HoaReply'); return 6 | A_4N;
    case 'ipv4DefaultRouter': return 6 | A_4N;
    case 'ipv4DhcpSupportMode': return 2 | A_NONE;
    case 'mnGroupId': return 6 | A_4N;
    case 'unknown':
      if (!Number.isInteger(opt.code) || opt.code < 2 || opt.code > 255) {
        throw new RangeError(`unknown option: code ${opt.code} not in 2..255 (Pad1/PadN are inserted by the encoder)`);
      }
      checkMax(opt.data, 255, 'unknown.data');
      return opt.data.length | A_NONE;
  }
}

/** Padding octets needed at MH offset `off` before an option with packed spec `spec`. */
export function padForSpec(spec: number, off: number): number {
  return ((spec >>> 12) - off) & ((spec >>> 8) & 0xf);
}

/** A one-octet field: an integer 0..255, else RangeError (as Buffer#writeUInt8 threw). */
export function u8(v: number, what: string): number {
  if ((v & 0xff) !== v) throw new RangeError(`${what}: ${v} is not in 0..255`);
  return v;
}

/** A two-octet field: an integer 0..65535, else RangeError. */
export function u16(v: number, what: string): number {
  if ((v & 0xffff) !== v) throw new RangeError(`${what}: ${v} is not in 0..65535`);
  return v;
}

/** Big-endian 16 bits at `o`: plain byte stores (Buffer's write helpers validate every argument). */
export function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

/** Big-endian 32 bits at `o` (`v` already a uint32). */
export function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

const scratch64 = new DataView(new ArrayBuffer(8));

/** Big-endian 64 bits at `o` (`v` already checked to be a uint64): no BigInt shifts, which allocate. */
export function put64(b: Uint8Array, o: number, v: bigint): void {
  scratch64.setBigUint64(0, v);
  for (let i = 0; i < 8; i++) b[o + i] = scratch64.getUint8(i);
}

/** `src` at `o`: a plain loop for the short fields of options (addresses, identifiers), else set. */
export function putBytes(b: Uint8Array, o: number, src: Uint8Array): void {
  const n = src.length;
  if (n <= 32) for (let i = 0; i < n; i++) b[o + i] = src[i];
  else b.set(src, o);
}

/**
 * Write `n` octets of padding at `off` (Pad1 for one, PadN for more; RFC 6275
 * 6.2.2, 6.2.3). Returns the new offset.
 */
export function writePad(buf: Uint8Array, off: number, n: number): number {
  if (n === 1) {
    buf[off] = OptType.PAD1;
  } else if (n >= 2) {
    buf[off] = OptType.PADN;
    buf[off + 1] = n - 2;
    for (let i = off + 2; i < off + n; i++) buf[i] = 0; // RFC 6275 6.2.3: zero-valued octets
  }
  return off + n;
}

/**
 * Write one option's Type, Length and data at `off` (no padding). `len` is
 * `optionDataLength(opt)`. Writes every octet, Reserved ones as 0 (the buffer
 * may hold anything: a transport's reused batch buffer).
 * Returns the offset after the option. Out-of-range field values throw a RangeError.
 */
export function writeOption(buf: Uint8Array, off: number, opt: MobilityOption, len: number): number {
  buf[off + 1] = len;
  const d = off + 2;
  switch (opt.type) {
    case 'bindingRefreshAdvice':
      buf[off] = OptType.BINDING_REFRESH_ADVICE;
      put16(buf, d, u16(opt.interval, 'bindingRefreshAdvice.interval'));
      break;
    case 'altCoa':
      buf[off] = OptType.ALTERNATE_COA;
      putBytes(buf, d, opt.addr);
      break;
    case 'mnId':
      buf[off] = OptType.MN_ID;
      buf[d] = u8(opt.subtype, 'mnId.subtype');
      putBytes(buf, d + 1, opt.id);
      break;
    case 'vendorSpecific':
      buf[off] = OptType.VENDOR_SPECIFIC;
      put32(buf, d, u32(opt.vendorId, 'vendorId'));
      buf[d + 4] = u8(opt.subType, 'vendorSpecific.subType');
      putBytes(buf, d + 5, opt.data);
      break;
    case 'serviceSelection':
      buf[off] = OptType.SERVICE_SELECTION;
      putBytes(buf, d, opt.id);
      break;
    case 'hnp':
      buf[off] = OptType.HOME_NETWORK_PREFIX;
      buf[d] = 0; // Reserved
      buf[d + 1] = opt.prefixLen;
      putBytes(buf, d + 2, opt.prefix);
      break;
    case 'handoffIndicator':
      buf[off] = OptType.HANDOFF_INDICATOR;
      buf[d] = 0; // Reserved
      buf[d + 1] = u8(opt.hi, 'handoffIndicator.hi');
      break;
    case 'accessTechType':
      buf[off] = OptType.ACCESS_TECHNOLOGY_TYPE;
      buf[d] = 0; // Reserved
      buf[d + 1] = u8(opt.att, 'accessTechType.att');
      break;
    case 'mnLinkLayerId':
      buf[off] = OptType.MN_LINK_LAYER_ID;
      buf[d] = 0; // Reserved (16 bits)
      buf[d + 1] = 0;
      putBytes(buf, d + 2, opt.id);
      break;
    case 'linkLocalAddress':
      buf[off] = OptType.LINK_LOCAL_ADDRESS;
      putBytes(buf, d, opt.addr);
      break;
    case 'timestamp': {
      // Two 32-bit halves: the range was checked in optionSpec.
      buf[off] = OptType.TIMESTAMP;
      put64(buf, d, opt.value);
      break;
    }
    case 'restartCounter':
      buf[off] = OptType.RESTART_COUNTER;
      put32(buf, d, u32(opt.counter, 'counter'));
      break;
    case 'ipv4HomeAddress':
      buf[off] = OptType.IPV4_HOME_ADDRESS;
      buf[d] = (opt.prefixLen << 2) | (opt.p ? 0x02 : 0);
      buf[d + 1] = 0; // Reserved
      put32(buf, d + 2, u32(opt.addr, 'addr'));
      break;
    case 'ipv4AddressAck':
      buf[off] = OptType.IPV4_ADDRESS_ACK;
      buf[d] = u8(opt.status, 'ipv4AddressAck.status');
      buf[d + 1] = opt.prefixLen << 2;
      put32(buf, d + 2, u32(opt.addr, 'addr'));
      break;
    case 'natDetection':
      buf[off] = OptType.NAT_DETECTION;
      buf[d] = opt.f ? 0x80 : 0;
      buf[d + 1] = 0; // Reserved
      put32(buf, d + 2, u32(opt.refreshTime, 'refreshTime'));
      break;
    case 'ipv4Coa':
      buf[off] = OptType.IPV4_COA;
      buf[d] = 0; // Reserved (16 bits)
      buf[d + 1] = 0;
      put32(buf, d + 2, u32(opt.addr, 'addr'));
      break;
    case 'greKey':
      buf[off] = OptType.GRE_KEY;
      buf[d] = 0; // Reserved (16 bits)
      buf[d + 1] = 0;
      if (opt.key !== null) put32(buf, d + 2, u32(opt.key, 'key'));
      break;
    case 'ipv4HoaRequest':
      buf[off] = OptType.IPV4_HOA_REQUEST;
      buf[d] = opt.prefixLen << 2;
      buf[d + 1] = 0; // Reserved
      put32(buf, d + 2, u32(opt.addr, 'addr'));
      break;
    case 'ipv4HoaReply':
      buf[off] = OptType.IPV4_HOA_REPLY;
      buf[d] = u8(opt.status, 'ipv4HoaReply.status');
      buf[d + 1] = opt.prefixLen << 2;
      put32(buf, d + 2, u32(opt.addr, 'addr'));
      break;
    case 'ipv4DefaultRouter':
      buf[off] = OptType.IPV4_DEFAULT_ROUTER;
      buf[d] = 0; // Reserved (16 bits)
      buf[d + 1] = 0;
      put32(buf, d + 2, u32(opt.addr, 'addr'));
      break;
    case 'ipv4DhcpSupportMode':
      buf[off] = OptType.IPV4_DHCP_SUPPORT_MODE;
      buf[d] = 0; // Reserved
      buf[d + 1] = opt.server ? 0x01 : 0;
      break;
    case 'mnGroupId':
      buf[off] = OptType.MN_GROUP_ID;
      buf[d] = u8(opt.subtype, 'mnGroupId.subtype');
      buf[d + 1] = 0; // Reserved
      put32(buf, d + 2, u32(opt.groupId, 'groupId'));
      break;
    case 'unknown':
      buf[off] = opt.code;
      putBytes(buf, d, opt.data);
      break;
  }
  return d + len;
}
