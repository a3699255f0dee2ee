// Minimal BER (X.690) reader and writer for the SNMP message envelope: the agent checks
// community and SNMPv3 USM headers itself before net-snmp decodes the PDU, and writes
// its own Report PDUs (RFC 3412 §7.1 step 3, RFC 3414 §3.2). Definite lengths only
// (RFC 3417 §8: SNMP uses the definite form). Readers throw BerError on bad input.

export class BerError extends Error {}

export const Tag = {
  Integer: 0x02,
  OctetString: 0x04,
  Null: 0x05,
  Oid: 0x06,
  Sequence: 0x30,
  Counter32: 0x41,
  Gauge32: 0x42,
  TimeTicks: 0x43,
  GetRequest: 0xa0,
  GetNextRequest: 0xa1,
  Response: 0xa2,
  SetRequest: 0xa3,
  Trap: 0xa4,
  GetBulkRequest: 0xa5,
  InformRequest: 0xa6,
  SNMPv2Trap: 0xa7,
  Report: 0xa8,
} as const;

/** Tags of Confirmed Class PDUs (RFC 3411 §2.8). */
export const CONFIRMED_PDUS: ReadonlySet<number> = new Set([
  Tag.GetRequest,
  Tag.GetNextRequest,
  Tag.SetRequest,
  Tag.GetBulkRequest,
  Tag.InformRequest,
]);

export interface Tlv {
  tag: number;
  /** Offset of the tag octet. */
  tlvStart: number;
  /** Offset of the first content octet. */
  start: number;
  /** Offset after the last content octet. */
  end: number;
}

export class BerReader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  peekTag(): number {
    if (this.pos >= this.end) throw new BerError('unexpected end');
    return this.buf[this.pos];
  }

  /** Reads a tag and definite length; checks the tag when `tag` is given. */
  read(tag?: number): Tlv {
    const b = this.buf;
    let p = this.pos;
    const tlvStart = p;
    if (p + 2 > this.end) throw new BerError('truncated TLV');
    const t = b[p++];
    if ((t & 0x1f) === 0x1f) throw new BerError('multi-octet tags are not used by SNMP');
    if (tag !== undefined && t !== tag) throw new BerError(`expected tag 0x${tag.toString(16)}, got 0x${t.toString(16)}`);
    let len = b[p++];
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0) throw new BerError('indefinite length');
      if (n > 4 || p + n > this.end) throw new BerError('bad length');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + b[p++];
    }
    if (p + len > this.end) throw new BerError('content overruns its container');
    this.pos = p + len;
    return { tag: t, tlvStart, start: p, end: p + len };
  }

  /** Enters a constructed value: returns a reader over its content. */
  sequence(tag: number = Tag.Sequence): BerReader {
    const tlv = this.read(tag);
    return new BerReader(this.buf, tlv.start, tlv.end);
  }

  /** INTEGER (any tag with integer encoding) as a number; at most 5 content octets. */
  integer(tag: number = Tag.Integer): number {
    const { start, end } = this.read(tag);
    const n = end - start;
    if (n < 1 || n > 5) throw new BerError('bad integer length');
    let v = this.buf[start] & 0x80 ? -1 : 0;
    for (let i = start; i < end; i++) v = v * 256 + this.buf[i];
    return v;
  }

  /** OCTET STRING content (a view into the buffer) and its offset. */
  octets(tag: number = Tag.OctetString): { value: Buffer; start: number } {
    const { start, end } = this.read(tag);
    return { value: this.buf.subarray(start, end), start };
  }
}

// ---------------------------------------------------------------- writer

/** An encodable node; `mark` records where its content lands in the final buffer. */
export type BerNode =
  | { tag: number; content?: Buffer; children?: BerNode[]; mark?: { offset: number }; encoded?: undefined }
  /** A complete TLV encoded elsewhere. */
  | { encoded: Buffer };

function lengthOctets(len: number): Buffer {
  if (len < 0x80) return Buffer.from([len]);
  const out: number[] = [];
  while (len > 0) {
    out.unshift(len & 0xff);
    len = Math.floor(len / 256);
  }
  return Buffer.from([0x80 | out.length, ...out]);
}

function contentLength(node: BerNode): number {
  if (node.encoded) return node.encoded.length;
  if (node.content) return node.content.length;
  let n = 0;
  for (const c of node.children ?? []) n += encodedLength(c);
  return n;
}

function encodedLength(node: BerNode): number {
  if (node.encoded) return node.encoded.length;
  const len = contentLength(node);
  return 1 + lengthOctets(len).length + len;
}

export function encode(node: BerNode): Buffer {
  const out = Buffer.alloc(encodedLength(node));
  write(node, out, 0);
  return out;
}

function write(node: BerNode, out: Buffer, at: number): number {
  if (node.encoded) {
    node.encoded.copy(out, at);
    return at + node.encoded.length;
  }
  const len = contentLength(node);
  out[at++] = node.tag;
  const lo = lengthOctets(len);
  lo.copy(out, at);
  at += lo.length;
  if (node.mark) node.mark.offset = at;
  if (node.content) {
    node.content.copy(out, at);
    return at + node.content.length;
  }
  for (const c of node.children ?? []) at = write(c, out, at);
  return at;
}

export const ber = {
  seq: (...children: BerNode[]): BerNode => ({ tag: Tag.Sequence, children }),
  constructed: (tag: number, ...children: BerNode[]): BerNode => ({ tag, children }),
  int: (v: number, tag: number = Tag.Integer): BerNode => ({ tag, content: integerOctets(v) }),
  octets: (v: Buffer | Uint8Array | string, mark?: { offset: number }): BerNode => ({
    tag: Tag.OctetString,
    content: typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v),
    mark,
  }),
  raw: (tag: number, content: Buffer): BerNode => ({ tag, content }),
  encoded: (tlv: Buffer): BerNode => ({ encoded: tlv }),
  oid: (oid: readonly number[]): BerNode => ({ tag: Tag.Oid, content: oidOctets(oid) }),
};

function integerOctets(v: number): Buffer {
  if (!Number.isSafeInteger(v)) throw new RangeError(`not an integer: ${v}`);
  const out: number[] = [];
  let x = v;
  for (;;) {
    const byte = ((x % 256) + 256) % 256;
    out.unshift(byte);
    x = Math.floor(x / 256);
    if ((x === 0 && !(byte & 0x80)) || (x === -1 && byte & 0x80)) break;
  }
  return Buffer.from(out);
}

function oidOctets(oid: readonly number[]): Buffer {
  if (oid.length < 2) throw new RangeError('an OID has at least two sub-identifiers');
  const out: number[] = [oid[0] * 40 + oid[1]];
  for (let i = 2; i < oid.length; i++) {
    let v = oid[i];
    const tmp = [v & 0x7f];
    v = Math.floor(v / 128);
    while (v > 0) {
      tmp.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(...tmp);
  }
  return Buffer.from(out);
}

/** Sub-identifiers of a dotted OID string. */
export function parseOid(text: string): number[] {
  const parts = text.split('.');
  const out = new Array<number>(parts.length);
  for (let i = 0; i < parts.length; i++) out[i] = +parts[i];
  return out;
}
