// Diameter message and AVP framing (RFC 6733 §3 header, §4.1 AVP header, §4.4 Grouped).
// Pure: bytes in, typed messages out; decoders return typed errors that carry the RFC 6733
// Result-Code to answer with and the Failed-AVP content (§7.5), never throw. AVPs that are
// not understood are kept (their data is a view into the received bytes).
import { AVP_HEADER_LENGTH, AVP_VENDOR_HEADER_LENGTH, AvpFlag, CmdFlag, DIAMETER_VERSION, HEADER_LENGTH, Result } from './constants.ts';

export interface DiameterHeader {
  version: number;
  /** Command Flags octet: R P E T (CmdFlag). */
  flags: number;
  commandCode: number;
  applicationId: number;
  hopByHop: number;
  endToEnd: number;
}

/** One AVP as received: header fields, and views of its value and of the whole AVP made on first use. */
export class RawAvp {
  private d: Buffer | undefined;
  private r: Buffer | undefined;

  constructor(
    readonly code: number,
    /** AVP Flags octet: V M P (AvpFlag). */
    readonly flags: number,
    /** 0 when the V bit is clear (the IETF space). */
    readonly vendorId: number,
    private readonly src: Buffer,
    private readonly start: number,
    private readonly headerLength: number,
    /** AVP Length: header + value, without padding. */
    readonly length: number,
  ) {}

  /** The value (a view, without header or padding). */
  get data(): Buffer {
    return (this.d ??= this.src.subarray(this.start + this.headerLength, this.start + this.length));
  }

  get dataLength(): number {
    return this.length - this.headerLength;
  }

  /** The whole AVP as received (header + data, no padding): what Failed-AVP carries (§7.5). */
  get raw(): Buffer {
    return (this.r ??= this.src.subarray(this.start, this.start + this.length));
  }
}

export interface DiameterMessage extends DiameterHeader {
  avps: RawAvp[];
  /** The message as received. */
  bytes: Buffer;
}

export const isRequest = (h: Pick<DiameterHeader, 'flags'>): boolean => (h.flags & CmdFlag.R) !== 0;
export const isError = (h: Pick<DiameterHeader, 'flags'>): boolean => (h.flags & CmdFlag.E) !== 0;
export const pad4 = (n: number): number => (n + 3) & ~3;

export type DecodeErrorKind =
  | 'truncated_header'
  | 'unsupported_version'
  | 'bad_message_length'
  | 'bad_avp_length'
  | 'too_deep';

export interface DecodeError {
  kind: DecodeErrorKind;
  /** Result-Code for the answer (RFC 6733 §7.1). */
  resultCode: number;
  detail: string;
  /** Failed-AVP content (§7.5): the offending AVP, or its header with a zero-filled minimum payload. */
  failedAvp?: Buffer;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: DecodeError };

const fail = (kind: DecodeErrorKind, resultCode: number, detail: string, failedAvp?: Buffer): { ok: false; error: DecodeError } => ({
  ok: false,
  error: { kind, resultCode, detail, failedAvp },
});

/** The 20-octet header (§3); needs at least 20 octets. */
export function decodeHeader(b: Buffer, off = 0): Decoded<DiameterHeader & { length: number }> {
  if (b.length - off < HEADER_LENGTH) return fail('truncated_header', Result.InvalidMessageLength, `${b.length - off} octets, a header is ${HEADER_LENGTH}`);
  const word0 = b.readUInt32BE(off);
  const word1 = b.readUInt32BE(off + 4);
  return {
    ok: true,
    value: {
      version: word0 >>> 24,
      length: word0 & 0xffffff,
      flags: word1 >>> 24,
      commandCode: word1 & 0xffffff,
      applicationId: b.readUInt32BE(off + 8),
      hopByHop: b.readUInt32BE(off + 12),
      endToEnd: b.readUInt32BE(off + 16),
    },
  };
}

/**
 * Failed-AVP content for an AVP whose length is unusable (§7.1.5 DIAMETER_INVALID_AVP_LENGTH):
 * a copy of the header as received and a zero-filled payload of `minData` octets.
 */
function badLengthAvp(b: Buffer, off: number, end: number, minData: number): Buffer {
  const hdr = Math.min(end - off, AVP_VENDOR_HEADER_LENGTH);
  const vendor = hdr >= 5 && (b[off + 4] & AvpFlag.V) !== 0;
  const hlen = vendor ? AVP_VENDOR_HEADER_LENGTH : AVP_HEADER_LENGTH;
  const out = Buffer.alloc(hlen + pad4(minData));
  b.copy(out, 0, off, off + Math.min(hdr, hlen));
  out.writeUIntBE(hlen + minData, 5, 3);
  return out;
}

/**
 * AVPs in b[start, end) (§4.1): each padded to 4 octets. An AVP length below its header, or an
 * AVP (or its padding) running past `end`, is DIAMETER_INVALID_AVP_LENGTH (5014).
 */
export function decodeAvps(b: Buffer, start: number, end: number): Decoded<RawAvp[]> {
  const out: RawAvp[] = [];
  let off = start;
  while (off < end) {
    if (end - off < AVP_HEADER_LENGTH) return fail('bad_avp_length', Result.InvalidAvpLength, `${end - off} stray octets after the last AVP`, badLengthAvp(b, off, end, 0));
    const code = b.readUInt32BE(off);
    const fl = b.readUInt32BE(off + 4);
    const flags = fl >>> 24;
    const len = fl & 0xffffff;
    const vendor = (flags & AvpFlag.V) !== 0;
    const hlen = vendor ? AVP_VENDOR_HEADER_LENGTH : AVP_HEADER_LENGTH;
    if (len < hlen || off + len > end || (vendor && end - off < AVP_VENDOR_HEADER_LENGTH)) {
      return fail('bad_avp_length', Result.InvalidAvpLength, `AVP ${code} length ${len} at offset ${off - start}`, badLengthAvp(b, off, end, 0));
    }
    const next = off + pad4(len);
    if (next > end) return fail('bad_avp_length', Result.InvalidAvpLength, `AVP ${code} padding runs past its container`, Buffer.from(b.subarray(off, off + len)));
    out.push(new RawAvp(code, flags, vendor ? b.readUInt32BE(off + 8) : 0, b, off, hlen, len));
    off = next;
  }
  return { ok: true, value: out };
}

/**
 * One whole message (the framer hands exactly `length` octets): header checks (§3: version 1,
 * length a multiple of 4 and equal to the octets given), then the AVPs. A request with the E bit
 * set is for the caller to answer (DIAMETER_INVALID_HDR_BITS); the decoder only frames.
 */
export function decodeMessage(b: Buffer): Decoded<DiameterMessage> {
  if (b.length < HEADER_LENGTH) return fail('truncated_header', Result.InvalidMessageLength, `${b.length} octets, a header is ${HEADER_LENGTH}`);
  const word0 = b.readUInt32BE(0);
  const version = word0 >>> 24;
  const length = word0 & 0xffffff;
  if (version !== DIAMETER_VERSION) return fail('unsupported_version', Result.UnsupportedVersion, `version ${version}`);
  if (length !== b.length || length % 4 !== 0) {
    return fail('bad_message_length', Result.InvalidMessageLength, `Message Length ${length} for ${b.length} octets`);
  }
  const avps = decodeAvps(b, HEADER_LENGTH, length);
  if (!avps.ok) return avps;
  const word1 = b.readUInt32BE(4);
  const value: DiameterMessage = {
    version,
    flags: word1 >>> 24,
    commandCode: word1 & 0xffffff,
    applicationId: b.readUInt32BE(8),
    hopByHop: b.readUInt32BE(12),
    endToEnd: b.readUInt32BE(16),
    avps: avps.value,
    bytes: b,
  };
  return { ok: true, value };
}

/** The AVPs inside a Grouped AVP's data (§4.4). */
export function decodeGrouped(data: Buffer): Decoded<RawAvp[]> {
  return decodeAvps(data, 0, data.length);
}

// ------------------------------------------------------------------ lookups

/** First AVP with this code (vendor 0 unless given). */
export function findAvp(avps: readonly RawAvp[], code: number, vendorId = 0): RawAvp | undefined {
  for (let i = 0; i < avps.length; i++) {
    const a = avps[i];
    if (a.code === code && a.vendorId === vendorId) return a;
  }
  return undefined;
}

export function findAll(avps: readonly RawAvp[], code: number, vendorId = 0): RawAvp[] {
  const out: RawAvp[] = [];
  for (const a of avps) if (a.code === code && a.vendorId === vendorId) out.push(a);
  return out;
}

// ------------------------------------------------------------------ encoding

/**
 * Builds a message or a run of AVPs into one growing buffer: header (optional), AVPs with their
 * padding, Grouped AVPs by nesting. The P flag is never set (§4.1: SHOULD be 0).
 */
export class AvpWriter {
  private buf: Buffer;
  private len = 0;
  private readonly withHeader: boolean;

  constructor(header?: Omit<DiameterHeader, 'version'>, size = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(size, HEADER_LENGTH));
    this.withHeader = header !== undefined;
    if (header) {
      this.buf.writeUInt32BE(DIAMETER_VERSION << 24, 0);
      this.buf.writeUInt32BE((((header.flags & 0xff) << 24) | (header.commandCode & 0xffffff)) >>> 0, 4);
      this.buf.writeUInt32BE(header.applicationId >>> 0, 8);
      this.buf.writeUInt32BE(header.hopByHop >>> 0, 12);
      this.buf.writeUInt32BE(header.endToEnd >>> 0, 16);
      this.len = HEADER_LENGTH;
    }
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  private head(code: number, flags: number, vendorId: number, dataLen: number): void {
    const v = vendorId !== 0;
    const hlen = v ? AVP_VENDOR_HEADER_LENGTH : AVP_HEADER_LENGTH;
    this.room(hlen + dataLen + 3);
    const f = (v ? flags | AvpFlag.V : flags & ~AvpFlag.V) & ~AvpFlag.P;
    this.buf.writeUInt32BE(code >>> 0, this.len);
    this.buf.writeUInt32BE((((f & 0xff) << 24) | (hlen + dataLen)) >>> 0, this.len + 4);
    if (v) this.buf.writeUInt32BE(vendorId >>> 0, this.len + 8);
    this.len += hlen;
  }

  private padTo4(): void {
    while (this.len & 3) this.buf[this.len++] = 0;
  }

  /** An AVP with these value octets. */
  octets(code: number, data: Uint8Array, flags: number = AvpFlag.M, vendorId = 0): this {
    this.head(code, flags, vendorId, data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
    this.padTo4();
    return this;
  }

  /** UTF8String / DiameterIdentity / DiameterURI value from text. */
  utf8(code: number, s: string, flags: number = AvpFlag.M, vendorId = 0): this {
    const n = Buffer.byteLength(s, 'utf8');
    this.head(code, flags, vendorId, n);
    this.buf.write(s, this.len, n, 'utf8');
    this.len += n;
    this.padTo4();
    return this;
  }

  u32(code: number, v: number, flags: number = AvpFlag.M, vendorId = 0): this {
    this.head(code, flags, vendorId, 4);
    this.buf.writeUInt32BE(v >>> 0, this.len);
    this.len += 4;
    return this;
  }

  i32(code: number, v: number, flags: number = AvpFlag.M, vendorId = 0): this {
    this.head(code, flags, vendorId, 4);
    this.buf.writeInt32BE(v | 0, this.len);
    this.len += 4;
    return this;
  }

  u64(code: number, v: bigint, flags: number = AvpFlag.M, vendorId = 0): this {
    this.head(code, flags, vendorId, 8);
    this.buf.writeBigUInt64BE(BigInt.asUintN(64, v), this.len);
    this.len += 8;
    return this;
  }

  i64(code: number, v: bigint, flags: number = AvpFlag.M, vendorId = 0): this {
    this.head(code, flags, vendorId, 8);
    this.buf.writeBigInt64BE(BigInt.asIntN(64, v), this.len);
    this.len += 8;
    return this;
  }

  /** A Grouped AVP (§4.4): `fill` writes the members into this writer. */
  group(code: number, fill: (w: this) => void, flags: number = AvpFlag.M, vendorId = 0): this {
    const start = this.len;
    this.head(code, flags, vendorId, 0);
    fill(this);
    this.buf.writeUIntBE(this.len - start, start + 5, 3);
    return this;
  }

  /** Already encoded AVPs (each padded). */
  raw(avps: Uint8Array): this {
    this.room(avps.length);
    this.buf.set(avps, this.len);
    this.len += avps.length;
    return this;
  }

  get length(): number {
    return this.len;
  }

  /** The bytes written; with a header, its Message Length is filled in. */
  bytes(): Buffer {
    if (this.withHeader) this.buf.writeUIntBE(this.len, 1, 3);
    return this.buf.subarray(0, this.len);
  }
}

/** An AVP as bytes (header, value, padding). */
export function encodeAvp(code: number, data: Uint8Array, flags: number = AvpFlag.M, vendorId = 0): Buffer {
  return new AvpWriter(undefined, data.length + 16).octets(code, data, flags, vendorId).bytes();
}
