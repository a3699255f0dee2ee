/**
 * Mobility option TLVs (RFC 6275 6.2): layout, alignment, encode, decode.
 *
 * Alignment "xn+y" (RFC 6275 6.2.1, IPv6 convention): the option's Type octet
 * sits at an MH offset congruent to y modulo x. The encoder inserts Pad1 (one
 * octet) or PadN (two or more) before each option to reach it.
 */
import { OptType } from './types.ts';
import type { DecodeError, MobilityOption } from './types.ts';

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
function u32(v: number, what: string): number {
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
      if (opt.value < 0n || opt.value > 0xffffffffffffffffn) throw new RangeError('timestamp: not a uint64');
      return 8 | A_8N2;
    case 'restartCounter': return 4 | A_4N2;
    case 'ipv4HomeAddress': checkPrefixLen(opt.prefixLen, 63, 'ipv4HomeAddress'); return 6 | A_4N;
    case 'ipv4AddressAck': checkPrefixLen(opt.prefixLen, 63, 'ipv4AddressAck'); return 6 | A_4N;
    case 'natDetection': return 6 | A_4N;
    case 'ipv4Coa': return 6 | A_4N;
    case 'greKey': return (opt.key === null ? 2 : 6) | A_4N;
    case 'ipv4HoaRequest': checkPrefixLen(opt.prefixLen, 63, 'ipv4HoaRequest'); return 6 | A_4N;
    case 'ipv4HoaReply': checkPrefixLen(opt.prefixLen, 63, 'ipv4HoaReply'); return 6 | A_4N;
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

/**
 * Write `n` octets of padding at `off` (Pad1 for one, PadN for more; RFC 6275
 * 6.2.2, 6.2.3). Assumes `buf` is zero-filled there. Returns the new offset.
 */
export function writePad(buf: Buffer, off: number, n: number): number {
  if (n === 1) {
    buf[off] = OptType.PAD1;
  } else if (n >= 2) {
    buf[off] = OptType.PADN;
    buf[off + 1] = n - 2;
  }
  return off + n;
}

/**
 * Write one option's Type, Length and data at `off` (no padding). `len` is
 * `optionDataLength(opt)`. Assumes `buf` is zero-filled (Reserved fields = 0).
 * Returns the offset after the option.
 */
export function writeOption(buf: Buffer, off: number, opt: MobilityOption, len: number): number {
  buf[off + 1] = len;
  const d = off + 2;
  switch (opt.type) {
    case 'bindingRefreshAdvice':
      buf[off] = OptType.BINDING_REFRESH_ADVICE;
      buf.writeUInt16BE(opt.interval, d);
      break;
    case 'altCoa':
      buf[off] = OptType.ALTERNATE_COA;
      buf.set(opt.addr, d);
      break;
    case 'mnId':
      buf[off] = OptType.MN_ID;
      buf.writeUInt8(opt.subtype, d);
      buf.set(opt.id, d + 1);
      break;
    case 'vendorSpecific':
      buf[off] = OptType.VENDOR_SPECIFIC;
      buf.writeUInt32BE(u32(opt.vendorId, 'vendorId'), d);
      buf.writeUInt8(opt.subType, d + 4);
      buf.set(opt.data, d + 5);
      break;
    case 'serviceSelection':
      buf[off] = OptType.SERVICE_SELECTION;
      buf.set(opt.id, d);
      break;
    case 'hnp':
      buf[off] = OptType.HOME_NETWORK_PREFIX;
      buf[d + 1] = opt.prefixLen; // d: Reserved
      buf.set(opt.prefix, d + 2);
      break;
    case 'handoffIndicator':
      buf[off] = OptType.HANDOFF_INDICATOR;
      buf.writeUInt8(opt.hi, d + 1);
      break;
    case 'accessTechType':
      buf[off] = OptType.ACCESS_TECHNOLOGY_TYPE;
      buf.writeUInt8(opt.att, d + 1);
      break;
    case 'mnLinkLayerId':
      buf[off] = OptType.MN_LINK_LAYER_ID;
      buf.set(opt.id, d + 2); // d..d+1: Reserved
      break;
    case 'linkLocalAddress':
      buf[off] = OptType.LINK_LOCAL_ADDRESS;
      buf.set(opt.addr, d);
      break;
    case 'timestamp':
      buf[off] = OptType.TIMESTAMP;
      buf.writeBigUInt64BE(opt.value, d);
      break;
    case 'restartCounter':
      buf[off] = OptType.RESTART_COUNTER;
      buf.writeUInt32BE(u32(opt.counter, 'counter'), d);
      break;
    case 'ipv4HomeAddress':
      buf[off] = OptType.IPV4_HOME_ADDRESS;
      buf[d] = (opt.prefixLen << 2) | (opt.p ? 0x02 : 0);
      buf.writeUInt32BE(u32(opt.addr, 'addr'), d + 2);
      break;
    case 'ipv4AddressAck':
      buf[off] = OptType.IPV4_ADDRESS_ACK;
      buf.writeUInt8(opt.status, d);
      buf[d + 1] = opt.prefixLen << 2;
      buf.writeUInt32BE(u32(opt.addr, 'addr'), d + 2);
      break;
    case 'natDetection':
      buf[off] = OptType.NAT_DETECTION;
      buf[d] = opt.f ? 0x80 : 0;
      buf.writeUInt32BE(u32(opt.refreshTime, 'refreshTime'), d + 2);
      break;
    case 'ipv4Coa':
      buf[off] = OptType.IPV4_COA;
      buf.writeUInt32BE(u32(opt.addr, 'addr'), d + 2);
      break;
    case 'greKey':
      buf[off] = OptType.GRE_KEY;
      if (opt.key !== null) buf.writeUInt32BE(u32(opt.key, 'key'), d + 2);
      break;
    case 'ipv4HoaRequest':
      buf[off] = OptType.IPV4_HOA_REQUEST;
      buf[d] = opt.prefixLen << 2;
      buf.writeUInt32BE(u32(opt.addr, 'addr'), d + 2);
      break;
    case 'ipv4HoaReply':
      buf[off] = OptType.IPV4_HOA_REPLY;
      buf.writeUInt8(opt.status, d);
      buf[d + 1] = opt.prefixLen << 2;
      buf.writeUInt32BE(u32(opt.addr, 'addr'), d + 2);
      break;
    case 'ipv4DefaultRouter':
      buf[off] = OptType.IPV4_DEFAULT_ROUTER;
      buf.writeUInt32BE(u32(opt.addr, 'addr'), d + 2);
      break;
    case 'ipv4DhcpSupportMode':
      buf[off] = OptType.IPV4_DHCP_SUPPORT_MODE;
      buf[d + 1] = opt.server ? 0x01 : 0;
      break;
    case 'mnGroupId':
      buf[off] = OptType.MN_GROUP_ID;
      buf.writeUInt8(opt.subtype, d);
      buf.writeUInt32BE(u32(opt.groupId, 'groupId'), d + 2);
      break;
    case 'unknown':
      buf[off] = opt.code;
      buf.set(opt.data, d);
      break;
  }
  return d + len;
}

/* ------------------------------------------------------------------------ */
/* Decoding                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * Allowed Length values for the option types we interpret: a fixed value, or
 * a minimum (negative entry = "at least -n"). 0 in the table = not interpreted.
 */
const FIXED_LEN = new Int16Array(256);
FIXED_LEN[OptType.BINDING_REFRESH_ADVICE] = 2;
FIXED_LEN[OptType.ALTERNATE_COA] = 16;
FIXED_LEN[OptType.MN_ID] = -1; // subtype + identifier (identifier may be empty)
FIXED_LEN[OptType.VENDOR_SPECIFIC] = -5; // vendor id + sub-type + data
FIXED_LEN[OptType.SERVICE_SELECTION] = -1;
FIXED_LEN[OptType.HOME_NETWORK_PREFIX] = 18;
FIXED_LEN[OptType.HANDOFF_INDICATOR] = 2;
FIXED_LEN[OptType.ACCESS_TECHNOLOGY_TYPE] = 2;
FIXED_LEN[OptType.MN_LINK_LAYER_ID] = -2; // reserved + identifier
FIXED_LEN[OptType.LINK_LOCAL_ADDRESS] = 16;
FIXED_LEN[OptType.TIMESTAMP] = 8;
FIXED_LEN[OptType.RESTART_COUNTER] = 4;
FIXED_LEN[OptType.IPV4_HOME_ADDRESS] = 6;
FIXED_LEN[OptType.IPV4_ADDRESS_ACK] = 6;
FIXED_LEN[OptType.NAT_DETECTION] = 6;
FIXED_LEN[OptType.IPV4_COA] = 6;
FIXED_LEN[OptType.GRE_KEY] = 6; // or 2: special-cased
FIXED_LEN[OptType.IPV4_HOA_REQUEST] = 6;
FIXED_LEN[OptType.IPV4_HOA_REPLY] = 6;
FIXED_LEN[OptType.IPV4_DEFAULT_ROUTER] = 6;
FIXED_LEN[OptType.IPV4_DHCP_SUPPORT_MODE] = 2;
FIXED_LEN[OptType.MN_GROUP_ID] = 6;

function lengthOk(t: number, len: number): boolean {
  const f = FIXED_LEN[t];
  if (f === 0) return true;
  if (f > 0) return len === f || (t === OptType.GRE_KEY && len === 2);
  return len >= -f;
}

export type OptionsResult = { ok: true; options: MobilityOption[] } | { ok: false; error: DecodeError };

/**
 * The bytes `buf[a, b)`: a view when `zeroCopy`, else a fresh copy. Small
 * fields (addresses, identifiers) are copied with a plain loop, which beats
 * Buffer#copy's call overhead at these sizes.
 */
export function take(buf: Buffer, a: number, b: number, zeroCopy: boolean): Buffer {
  if (zeroCopy) return buf.subarray(a, b);
  const n = b - a;
  const out = Buffer.allocUnsafe(n);
  if (n <= 32) {
    for (let i = 0; i < n; i++) out[i] = buf[a + i];
  } else {
    buf.copy(out, 0, a, b);
  }
  return out;
}

/**
 * Decode the option area `buf[start, end)` (offsets are MH offsets). Pad1/PadN
 * are skipped; unknown types are kept as `{ type: 'unknown' }`. Never throws.
 * Byte fields are copies unless `zeroCopy` (then views into `buf`).
 */
export function decodeOptions(buf: Buffer, start: number, end: number, zeroCopy: boolean): OptionsResult {
  const options: MobilityOption[] = [];
  let off = start;
  while (off < end) {
    const t = buf[off];
    if (t === OptType.PAD1) {
      off++;
      continue;
    }
    if (off + 2 > end) {
      return { ok: false, error: { code: 'option-overrun', reason: `option ${t} has no Length octet`, offset: off } };
    }
    const len = buf[off + 1];
    const d = off + 2;
    const next = d + len;
    if (next > end) {
      return {
        ok: false,
        error: { code: 'option-overrun', reason: `option ${t} (Length ${len}) runs past the MH end`, offset: off },
      };
    }
    if (!lengthOk(t, len)) {
      return {
        ok: false,
        error: { code: 'bad-option-length', reason: `option ${t} with invalid Length ${len}`, offset: off + 1 },
      };
    }
    switch (t) {
      case OptType.PADN:
        break; // RFC 6275 6.2.3: contents ignored
      case OptType.BINDING_REFRESH_ADVICE:
        options.push({ type: 'bindingRefreshAdvice', interval: buf.readUInt16BE(d) });
        break;
      case OptType.ALTERNATE_COA:
        options.push({ type: 'altCoa', addr: take(buf, d, d + 16, zeroCopy) });
        break;
      case OptType.MN_ID:
        options.push({ type: 'mnId', subtype: buf[d], id: take(buf, d + 1, next, zeroCopy) });
        break;
      case OptType.VENDOR_SPECIFIC:
        options.push({ type: 'vendorSpecific', vendorId: buf.readUInt32BE(d), subType: buf[d + 4], data: take(buf, d + 5, next, zeroCopy) });
        break;
      case OptType.SERVICE_SELECTION:
        options.push({ type: 'serviceSelection', id: take(buf, d, next, zeroCopy) });
        break;
      case OptType.HOME_NETWORK_PREFIX:
        options.push({ type: 'hnp', prefixLen: buf[d + 1], prefix: take(buf, d + 2, d + 18, zeroCopy) });
        break;
      case OptType.HANDOFF_INDICATOR:
        options.push({ type: 'handoffIndicator', hi: buf[d + 1] });
        break;
      case OptType.ACCESS_TECHNOLOGY_TYPE:
        options.push({ type: 'accessTechType', att: buf[d + 1] });
        break;
      case OptType.MN_LINK_LAYER_ID:
        options.push({ type: 'mnLinkLayerId', id: take(buf, d + 2, next, zeroCopy) });
        break;
      case OptType.LINK_LOCAL_ADDRESS:
        options.push({ type: 'linkLocalAddress', addr: take(buf, d, d + 16, zeroCopy) });
        break;
      case OptType.TIMESTAMP:
        options.push({ type: 'timestamp', value: buf.readBigUInt64BE(d) });
        break;
      case OptType.RESTART_COUNTER:
        options.push({ type: 'restartCounter', counter: buf.readUInt32BE(d) });
        break;
      case OptType.IPV4_HOME_ADDRESS:
        options.push({ type: 'ipv4HomeAddress', prefixLen: buf[d] >>> 2, p: (buf[d] & 0x02) !== 0, addr: buf.readUInt32BE(d + 2) });
        break;
      case OptType.IPV4_ADDRESS_ACK:
        options.push({ type: 'ipv4AddressAck', status: buf[d], prefixLen: buf[d + 1] >>> 2, addr: buf.readUInt32BE(d + 2) });
        break;
      case OptType.NAT_DETECTION:
        options.push({ type: 'natDetection', f: (buf[d] & 0x80) !== 0, refreshTime: buf.readUInt32BE(d + 2) });
        break;
      case OptType.IPV4_COA:
        options.push({ type: 'ipv4Coa', addr: buf.readUInt32BE(d + 2) });
        break;
      case OptType.GRE_KEY:
        options.push({ type: 'greKey', key: len === 6 ? buf.readUInt32BE(d + 2) : null });
        break;
      case OptType.IPV4_HOA_REQUEST:
        options.push({ type: 'ipv4HoaRequest', prefixLen: buf[d] >>> 2, addr: buf.readUInt32BE(d + 2) });
        break;
      case OptType.IPV4_HOA_REPLY:
        options.push({ type: 'ipv4HoaReply', status: buf[d], prefixLen: buf[d + 1] >>> 2, addr: buf.readUInt32BE(d + 2) });
        break;
      case OptType.IPV4_DEFAULT_ROUTER:
        options.push({ type: 'ipv4DefaultRouter', addr: buf.readUInt32BE(d + 2) });
        break;
      case OptType.IPV4_DHCP_SUPPORT_MODE:
        options.push({ type: 'ipv4DhcpSupportMode', server: (buf[d + 1] & 0x01) !== 0 });
        break;
      case OptType.MN_GROUP_ID:
        options.push({ type: 'mnGroupId', subtype: buf[d], groupId: buf.readUInt32BE(d + 2) });
        break;
      default:
        // RFC 6275 6.2.1: skip what we don't understand; keep it for counting/relaying.
        options.push({ type: 'unknown', code: t, data: take(buf, d, next, zeroCopy) });
    }
    off = next;
  }
  return { ok: true, options };
}
