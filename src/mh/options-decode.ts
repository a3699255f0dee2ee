/**
 * Mobility option TLV decoding (RFC 6275 6.2) with per-option Length checks
 * from each option's RFC, and value checks where a field cannot mean anything
 * (a prefix length beyond the address size). Never throws.
 */
import { OptType } from './types.ts';
import type { DecodeError, MobilityOption } from './types.ts';

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

/** Largest prefix length an option's field can mean: IPv6 128 (RFC 5213 8.3), IPv4 32 (RFC 5555 3.1, RFC 5844 3.3). */
const MAX_V6_PREFIX = 128;
const MAX_V4_PREFIX = 32;

function badValue(what: string, value: number, max: number, offset: number): OptionsResult {
  return { ok: false, error: { code: 'bad-option-value', reason: `${what} Prefix Length ${value} is more than ${max}`, offset } };
}

/** Big-endian 16 bits: plain byte loads (Buffer's read helpers check their arguments on every call). */
export function get16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

/** Big-endian 32 bits, unsigned. */
export function get32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

const scratch64 = new DataView(new ArrayBuffer(8));

/** Big-endian 64 bits as a bigint: one BigInt made (Buffer#readBigUInt64BE makes four). */
function get64(b: Uint8Array, o: number): bigint {
  for (let i = 0; i < 8; i++) scratch64.setUint8(i, b[o + i]);
  return scratch64.getBigUint64(0);
}

/**
 * Handoff Indicator and Access Technology Type options (RFC 5213 8.4, 8.5) for every value,
 * shared and frozen: two objects fewer per PBU. Decoded options are read, never changed.
 */
const HI_OPTS: readonly MobilityOption[] = Array.from({ length: 256 }, (_, hi) => Object.freeze({ type: 'handoffIndicator' as const, hi }));
const ATT_OPTS: readonly MobilityOption[] = Array.from({ length: 256 }, (_, att) => Object.freeze({ type: 'accessTechType' as const, att }));

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
        options.push({ type: 'bindingRefreshAdvice', interval: get16(buf, d) });
        break;
      case OptType.ALTERNATE_COA:
        options.push({ type: 'altCoa', addr: take(buf, d, d + 16, zeroCopy) });
        break;
      case OptType.MN_ID:
        options.push({ type: 'mnId', subtype: buf[d], id: take(buf, d + 1, next, zeroCopy) });
        break;
      case OptType.VENDOR_SPECIFIC:
        options.push({ type: 'vendorSpecific', vendorId: get32(buf, d), subType: buf[d + 4], data: take(buf, d + 5, next, zeroCopy) });
        break;
      case OptType.SERVICE_SELECTION:
        options.push({ type: 'serviceSelection', id: take(buf, d, next, zeroCopy) });
        break;
      case OptType.HOME_NETWORK_PREFIX:
        if (buf[d + 1] > MAX_V6_PREFIX) return badValue('Home Network Prefix option', buf[d + 1], MAX_V6_PREFIX, d + 1);
        options.push({ type: 'hnp', prefixLen: buf[d + 1], prefix: take(buf, d + 2, d + 18, zeroCopy) });
        break;
      case OptType.HANDOFF_INDICATOR:
        options.push(HI_OPTS[buf[d + 1]]);
        break;
      case OptType.ACCESS_TECHNOLOGY_TYPE:
        options.push(ATT_OPTS[buf[d + 1]]);
        break;
      case OptType.MN_LINK_LAYER_ID:
        options.push({ type: 'mnLinkLayerId', id: take(buf, d + 2, next, zeroCopy) });
        break;
      case OptType.LINK_LOCAL_ADDRESS:
        options.push({ type: 'linkLocalAddress', addr: take(buf, d, d + 16, zeroCopy) });
        break;
      case OptType.TIMESTAMP:
        options.push({ type: 'timestamp', value: get64(buf, d) });
        break;
      case OptType.RESTART_COUNTER:
        options.push({ type: 'restartCounter', counter: get32(buf, d) });
        break;
      case OptType.IPV4_HOME_ADDRESS:
        if (buf[d] >>> 2 > MAX_V4_PREFIX) return badValue('IPv4 Home Address option', buf[d] >>> 2, MAX_V4_PREFIX, d);
        options.push({ type: 'ipv4HomeAddress', prefixLen: buf[d] >>> 2, p: (buf[d] & 0x02) !== 0, addr: get32(buf, d + 2) });
        break;
      case OptType.IPV4_ADDRESS_ACK:
        if (buf[d + 1] >>> 2 > MAX_V4_PREFIX) return badValue('IPv4 Address Acknowledgement option', buf[d + 1] >>> 2, MAX_V4_PREFIX, d + 1);
        options.push({ type: 'ipv4AddressAck', status: buf[d], prefixLen: buf[d + 1] >>> 2, addr: get32(buf, d + 2) });
        break;
      case OptType.NAT_DETECTION:
        options.push({ type: 'natDetection', f: (buf[d] & 0x80) !== 0, refreshTime: get32(buf, d + 2) });
        break;
      case OptType.IPV4_COA:
        options.push({ type: 'ipv4Coa', addr: get32(buf, d + 2) });
        break;
      case OptType.GRE_KEY:
        options.push({ type: 'greKey', key: len === 6 ? get32(buf, d + 2) : null });
        break;
      case OptType.IPV4_HOA_REQUEST:
        if (buf[d] >>> 2 > MAX_V4_PREFIX) return badValue('IPv4 Home Address Request option', buf[d] >>> 2, MAX_V4_PREFIX, d);
        options.push({ type: 'ipv4HoaRequest', prefixLen: buf[d] >>> 2, addr: get32(buf, d + 2) });
        break;
      case OptType.IPV4_HOA_REPLY:
        if (buf[d + 1] >>> 2 > MAX_V4_PREFIX) return badValue('IPv4 Home Address Reply option', buf[d + 1] >>> 2, MAX_V4_PREFIX, d + 1);
        options.push({ type: 'ipv4HoaReply', status: buf[d], prefixLen: buf[d + 1] >>> 2, addr: get32(buf, d + 2) });
        break;
      case OptType.IPV4_DEFAULT_ROUTER:
        options.push({ type: 'ipv4DefaultRouter', addr: get32(buf, d + 2) });
        break;
      case OptType.IPV4_DHCP_SUPPORT_MODE:
        options.push({ type: 'ipv4DhcpSupportMode', server: (buf[d + 1] & 0x01) !== 0 });
        break;
      case OptType.MN_GROUP_ID:
        options.push({ type: 'mnGroupId', subtype: buf[d], groupId: get32(buf, d + 2) });
        break;
      default:
        // RFC 6275 6.2.1: skip what we don't understand; keep it for counting/relaying.
        options.push({ type: 'unknown', code: t, data: take(buf, d, next, zeroCopy) });
    }
    off = next;
  }
  return { ok: true, options };
}
