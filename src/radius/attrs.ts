// Attribute list builder: typed writers for the RFC 8044 data types we send.
// Pure. Throws RadiusEncodeError on values that cannot be encoded (bad address text,
// value over 253 octets, list over 4096 octets): those are caller bugs or bad store data.
import { RadiusEncodeError } from './codec.ts';
import {
  encodeInteger,
  encodeInteger64,
  encodeIpv4PrefixValue,
  encodeIpv6PrefixValue,
  parseIfid,
  parseIpv4,
  parseIpv6,
  parseIpv6Prefix,
} from './values.ts';

const MAX_VALUE = 253;

export class AttrWriter {
  private buf: Buffer;
  private off = 0;

  constructor(initial = 512) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  get length(): number {
    return this.off;
  }

  private ensure(n: number): void {
    if (this.off + n <= this.buf.length) return;
    if (this.off + n > 4096) throw new RadiusEncodeError('attributes exceed 4096 octets');
    const nb = Buffer.allocUnsafe(Math.min(4096, Math.max(this.buf.length * 2, this.off + n)));
    this.buf.copy(nb, 0, 0, this.off);
    this.buf = nb;
  }

  /** Any attribute from raw value octets (string/octets type, RFC 8044 §3.6). */
  octets(type: number, value: Buffer): this {
    if (value.length > MAX_VALUE) throw new RadiusEncodeError(`attribute ${type}: value of ${value.length} octets (max 253)`);
    this.ensure(2 + value.length);
    this.buf[this.off] = type;
    this.buf[this.off + 1] = value.length + 2;
    value.copy(this.buf, this.off + 2);
    this.off += value.length + 2;
    return this;
  }

  /** text (RFC 8044 §3.5): UTF-8, no NUL termination. Empty text is not sent (RFC 2865 §5). */
  text(type: number, s: string): this {
    if (s.length === 0) return this;
    return this.octets(type, Buffer.from(s, 'utf8'));
  }

  integer(type: number, n: number): this {
    return this.octets(type, encodeInteger(n));
  }

  integer64(type: number, n: bigint): this {
    return this.octets(type, encodeInteger64(n));
  }

  ipv4(type: number, addr: string): this {
    const b = parseIpv4(addr);
    if (!b) throw new RadiusEncodeError(`attribute ${type}: bad IPv4 address '${addr}'`);
    return this.octets(type, b);
  }

  ipv6(type: number, addr: string): this {
    const b = parseIpv6(addr);
    if (!b) throw new RadiusEncodeError(`attribute ${type}: bad IPv6 address '${addr}'`);
    return this.octets(type, b);
  }

  /** ipv6prefix "2001:db8:1::/48" (host bits must be zero; "::/128" is the delegation value). */
  ipv6Prefix(type: number, prefix: string): this {
    const p = parseIpv6Prefix(prefix);
    if (!p) throw new RadiusEncodeError(`attribute ${type}: bad IPv6 prefix '${prefix}'`);
    return this.octets(type, encodeIpv6PrefixValue(p.addr, p.length));
  }

  /** ipv4prefix; keepHostBits for PMIP6-*-IPv4-HoA, which carries an address (RFC 6572 §4.12). */
  ipv4Prefix(type: number, addr: string, length: number, keepHostBits: boolean): this {
    const b = parseIpv4(addr);
    if (!b || !Number.isInteger(length) || length < 0 || length > 32) {
      throw new RadiusEncodeError(`attribute ${type}: bad IPv4 prefix '${addr}/${length}'`);
    }
    return this.octets(type, encodeIpv4PrefixValue(b, length, keepHostBits));
  }

  ifid(type: number, id: string): this {
    const b = parseIfid(id);
    if (!b) throw new RadiusEncodeError(`attribute ${type}: bad interface id '${id}'`);
    return this.octets(type, b);
  }

  /** Append already-encoded attribute octets (e.g. echoed Proxy-State). */
  raw(bytes: Buffer | null): this {
    if (!bytes || bytes.length === 0) return this;
    this.ensure(bytes.length);
    bytes.copy(this.buf, this.off);
    this.off += bytes.length;
    return this;
  }

  /** A view of the encoded attributes; valid until the next write. */
  view(): Buffer {
    return this.buf.subarray(0, this.off);
  }

  /** An owned copy. */
  bytes(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.off));
  }
}
