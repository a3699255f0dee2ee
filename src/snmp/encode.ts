// Response encoding (RFC 3416 PDUs in RFC 3417 BER). Varbinds are encoded one by one so
// GETBULK knows the exact size as it goes (RFC 3416 §4.2.3); OIDs are written straight from
// their dotted text. net-snmp's encoder parses every OID with a regular expression and grows
// its buffer as it writes: in a profile of a 100,000-row walk it cost more than the lookups.
import { Tag } from './ber.ts';
import { T } from './mib.ts';

export interface EncodableVarbind {
  oid: string;
  type: number;
  value: unknown;
}

const scratch = Buffer.alloc(4096);

function headerLength(len: number): number {
  return len < 0x80 ? 2 : len < 0x100 ? 3 : len < 0x10000 ? 4 : len < 0x1000000 ? 5 : 6;
}

function writeHeader(out: Buffer, at: number, tag: number, len: number): number {
  out[at++] = tag;
  if (len < 0x80) out[at++] = len;
  else if (len < 0x100) {
    out[at++] = 0x81;
    out[at++] = len;
  } else if (len < 0x10000) {
    out[at++] = 0x82;
    out[at++] = len >> 8;
    out[at++] = len & 0xff;
  } else {
    out[at++] = 0x83;
    out[at++] = (len >> 16) & 0xff;
    out[at++] = (len >> 8) & 0xff;
    out[at++] = len & 0xff;
  }
  return at;
}

/** TLV with the given content. */
export function tlv(tag: number, content: Buffer): Buffer {
  const out = Buffer.allocUnsafe(headerLength(content.length) + content.length);
  const at = writeHeader(out, 0, tag, content.length);
  content.copy(out, at);
  return out;
}

/** TLV around several already-encoded parts. */
export function tlvOf(tag: number, parts: readonly Buffer[]): Buffer {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = Buffer.allocUnsafe(headerLength(len) + len);
  let at = writeHeader(out, 0, tag, len);
  for (const p of parts) {
    p.copy(out, at);
    at += p.length;
  }
  return out;
}

/** Writes OID sub-identifiers in base 128; returns the new offset. */
function writeSubId(out: Buffer, at: number, v: number): number {
  if (v < 0x80) {
    out[at++] = v;
    return at;
  }
  let n = 0;
  for (let x = v; x > 0; x = Math.floor(x / 128)) n++;
  for (let k = n - 1; k >= 0; k--) {
    const d = Math.floor(v / 128 ** k) % 128;
    out[at++] = k > 0 ? d | 0x80 : d;
  }
  return at;
}

/** Content octets of a dotted OID into `out` at `at`; returns the end offset. */
function writeOidContent(out: Buffer, at: number, oid: string): number {
  let arc = 0;
  let first = 0;
  let cur = 0;
  let digits = 0;
  for (let i = 0; i <= oid.length; i++) {
    const c = i < oid.length ? oid.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0) throw new RangeError(`bad OID ${oid}`);
      if (arc === 0) {
        if (cur > 2) throw new RangeError(`bad OID ${oid}`);
        first = cur;
      } else if (arc === 1) at = writeSubId(out, at, first * 40 + cur);
      else at = writeSubId(out, at, cur);
      arc++;
      cur = 0;
      digits = 0;
    } else {
      const d = c - 48;
      if (d < 0 || d > 9) throw new RangeError(`bad OID ${oid}`);
      cur = cur * 10 + d;
      digits++;
    }
  }
  if (arc === 1) at = writeSubId(out, at, first * 40);
  return at;
}

/** BER content octets of a dotted OID. */
export function oidContent(oid: string): Buffer {
  const end = writeOidContent(scratch, 0, oid);
  return Buffer.from(scratch.subarray(0, end));
}

/** BER content octets of an OID given as sub-identifiers (at least two). */
export function subIdsContent(ids: readonly number[]): Buffer {
  let at = writeSubId(scratch, 0, ids[0] * 40 + ids[1]);
  for (let i = 2; i < ids.length; i++) at = writeSubId(scratch, at, ids[i]);
  return Buffer.from(scratch.subarray(0, at));
}

/** Dotted text of an OID given as content octets plus trailing sub-identifiers. */
export function oidText(prefix: Buffer, suffix: readonly number[] = []): string {
  const ids: number[] = [];
  let v = 0;
  for (let i = 0; i < prefix.length; i++) {
    v = v * 128 + (prefix[i] & 0x7f);
    if (!(prefix[i] & 0x80)) {
      if (ids.length === 0) ids.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else ids.push(v);
      v = 0;
    }
  }
  return [...ids, ...suffix].join('.');
}

function uintOctets(v: number): number {
  return v < 0x80 ? 1 : v < 0x8000 ? 2 : v < 0x800000 ? 3 : v < 0x80000000 ? 4 : 5;
}

function intOctets(v: number): number {
  if (v >= 0) return uintOctets(v);
  return v >= -0x80 ? 1 : v >= -0x8000 ? 2 : v >= -0x800000 ? 3 : 4;
}

function writeInt(out: Buffer, at: number, tag: number, v: number): number {
  const n = intOctets(v);
  out[at++] = tag;
  out[at++] = n;
  for (let k = n - 1; k >= 0; k--) out[at++] = Math.floor(v / 256 ** k) & 0xff;
  return at;
}

/** A varbind to encode: name = `prefix` (OID content octets) followed by `suffix` sub-identifiers. */
export interface VarbindParts {
  prefix: Buffer;
  suffix: readonly number[];
  type: number;
  value: unknown;
}

/** One varbind TLV (RFC 3416 VarBind) for a dotted OID. */
export function encodeVarbind(vb: EncodableVarbind): Buffer {
  return encodeVarbindParts(oidContent(vb.oid), NO_SUFFIX, vb.type, vb.value);
}

const NO_SUFFIX: readonly number[] = [];

/** One varbind TLV. Throws on a value its type cannot carry. */
export function encodeVarbindParts(prefix: Buffer, suffix: readonly number[], type: number, v: unknown): Buffer {
  // Small values are written as a TLV into vscratch; octet values stay in their own buffer.
  let vlen = 0;
  let valueBuf: Buffer | undefined;
  let valueTag = 0;
  switch (type) {
    case T.Integer:
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) throw new RangeError('bad Integer32');
      vlen = writeInt(vscratch, 0, Tag.Integer, v);
      break;
    case T.Counter32:
    case T.Gauge32:
    case T.TimeTicks:
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError('bad unsigned value');
      vlen = writeInt(vscratch, 0, type, v);
      break;
    case T.OctetString:
    case OPAQUE:
    case COUNTER64:
      valueBuf = typeof v === 'string' && type === T.OctetString ? Buffer.from(v, 'utf8') : Buffer.isBuffer(v) ? v : v instanceof Uint8Array ? Buffer.from(v) : undefined;
      if (!valueBuf) throw new RangeError('bad octet value');
      valueTag = type;
      break;
    case IPADDRESS: {
      const parts = typeof v === 'string' ? v.split('.').map(Number) : [];
      if (parts.length !== 4 || parts.some((x) => !(x >= 0 && x <= 255))) throw new RangeError('bad IpAddress');
      valueBuf = Buffer.from(parts);
      valueTag = IPADDRESS;
      break;
    }
    case T.Oid:
      if (typeof v !== 'string') throw new RangeError('bad OID value');
      valueBuf = oidContent(v);
      valueTag = Tag.Oid;
      break;
    case BOOLEAN:
      vscratch[0] = BOOLEAN;
      vscratch[1] = 1;
      vscratch[2] = v ? 0xff : 0;
      vlen = 3;
      break;
    case T.Null:
    case T.NoSuchObject:
    case T.NoSuchInstance:
    case T.EndOfMibView:
      vscratch[0] = type;
      vscratch[1] = 0;
      vlen = 2;
      break;
    default:
      throw new RangeError(`cannot encode type ${type}`);
  }
  let nameLen = prefix.copy(scratch, 0);
  for (let i = 0; i < suffix.length; i++) nameLen = writeSubId(scratch, nameLen, suffix[i]);
  const valueLen = valueBuf ? headerLength(valueBuf.length) + valueBuf.length : vlen;
  const inner = headerLength(nameLen) + nameLen + valueLen;
  const out = Buffer.allocUnsafe(headerLength(inner) + inner);
  let o = writeHeader(out, 0, Tag.Sequence, inner);
  o = writeHeader(out, o, Tag.Oid, nameLen);
  o += scratch.copy(out, o, 0, nameLen);
  if (valueBuf) {
    o = writeHeader(out, o, valueTag, valueBuf.length);
    valueBuf.copy(out, o);
  } else {
    vscratch.copy(out, o, 0, vlen);
  }
  return out;
}

const vscratch = Buffer.alloc(16);
const BOOLEAN = 0x01;
const IPADDRESS = 0x40;
const OPAQUE = 0x44;
const COUNTER64 = 0x46;

/** An INTEGER TLV. */
export function intTlv(v: number): Buffer {
  const out = Buffer.allocUnsafe(2 + intOctets(v));
  writeInt(out, 0, Tag.Integer, v);
  return out;
}

/** Response-PDU (RFC 3416 §3) from encoded varbinds. */
export function responsePdu(requestId: number, errorStatus: number, errorIndex: number, varbinds: readonly Buffer[]): Buffer {
  return tlvOf(Tag.Response, [intTlv(requestId), intTlv(errorStatus), intTlv(errorIndex), tlvOf(Tag.Sequence, varbinds)]);
}

/** Size a Response PDU would have, for `varbindBytes` octets of varbinds. */
export function responsePduSize(requestId: number, varbindBytes: number): number {
  const inner = 2 + intOctets(requestId) + 3 + 3 + headerLength(varbindBytes) + varbindBytes;
  return headerLength(inner) + inner;
}

/** An SNMPv2c message (RFC 1901) around a PDU. */
export function communityMessage(community: Buffer, pdu: Buffer): Buffer {
  return tlvOf(Tag.Sequence, [intTlv(1), tlv(Tag.OctetString, community), pdu]);
}
