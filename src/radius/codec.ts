// RADIUS packet framing and authenticators (RFC 2865 §3, RFC 2866 §3, RFC 3579 §3.2,
// RFC 5176 §2.3/§3.4, RFC 5997 §3). MD5/HMAC-MD5 from md5.ts (cheaper than node:crypto at
// these sizes). Our own codec: the `radius` package compares
// authenticators as strings, keeps the secret in module state, emits Message-Authenticator last
// and allocates 4 KiB per encode (see bench/radius-codec.ts for the measurement).
// Pure: no I/O, no clock. Decoders return typed errors and never throw; secrets are passed to
// every call, never stored.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hmacKey, hmacMd5, md5, type HmacKey } from './md5.ts';
import { Attr, Code, HEADER_LENGTH, MA_ATTR_LENGTH, MAX_PACKET_LENGTH } from './constants.ts';

export interface Attribute {
  type: number;
  /** Value octets (a view into the packet for decoded attributes). */
  value: Buffer;
}

export interface Packet {
  code: number;
  identifier: number;
  /** The 16-octet Authenticator field (a view into raw). */
  authenticator: Buffer;
  attributes: Attribute[];
  /** The packet up to its Length field (padding beyond Length dropped, RFC 2865 §3). */
  raw: Buffer;
  /** Offset in raw of the Message-Authenticator *value*, or -1 when absent. */
  maOffset: number;
}

export type DecodeErrorCause =
  | 'short_packet' // fewer than 20 octets
  | 'bad_length_field' // Length < 20 or > 4096
  | 'truncated' // datagram shorter than Length (RFC 2865 §3: silently discard)
  | 'oversize' // datagram longer than the configured maximum
  | 'bad_attribute_length' // an attribute Length < 2 or running past Length
  | 'bad_message_authenticator'; // Message-Authenticator not 18 octets long, or repeated

export type DecodeResult = { ok: true; packet: Packet } | { ok: false; error: DecodeErrorCause };

const ZERO16 = Buffer.alloc(16);

/** Decode and validate framing. Attribute values are views into the datagram (no copy). */
export function decodePacket(buf: Buffer, maxDatagram = MAX_PACKET_LENGTH): DecodeResult {
  if (buf.length < HEADER_LENGTH) return { ok: false, error: 'short_packet' };
  if (buf.length > maxDatagram) return { ok: false, error: 'oversize' };
  const length = (buf[2] << 8) | buf[3];
  if (length < HEADER_LENGTH || length > MAX_PACKET_LENGTH) return { ok: false, error: 'bad_length_field' };
  if (buf.length < length) return { ok: false, error: 'truncated' };
  const raw = length === buf.length ? buf : buf.subarray(0, length);
  const attributes: Attribute[] = [];
  let maOffset = -1;
  let off = HEADER_LENGTH;
  while (off < length) {
    if (off + 2 > length) return { ok: false, error: 'bad_attribute_length' };
    const type = raw[off];
    const alen = raw[off + 1];
    if (alen < 2 || off + alen > length) return { ok: false, error: 'bad_attribute_length' };
    if (type === Attr.MessageAuthenticator) {
      if (alen !== MA_ATTR_LENGTH || maOffset >= 0) return { ok: false, error: 'bad_message_authenticator' };
      maOffset = off + 2;
    }
    attributes.push({ type, value: raw.subarray(off + 2, off + alen) });
    off += alen;
  }
  return {
    ok: true,
    packet: { code: raw[0], identifier: raw[1], authenticator: raw.subarray(4, 20), attributes, raw, maOffset },
  };
}

/** First attribute of a type, or undefined. */
export function getAttr(p: Pick<Packet, 'attributes'>, type: number): Buffer | undefined {
  for (const a of p.attributes) if (a.type === type) return a.value;
  return undefined;
}

export function getAll(p: Pick<Packet, 'attributes'>, type: number): Buffer[] {
  const out: Buffer[] = [];
  for (const a of p.attributes) if (a.type === type) out.push(a.value);
  return out;
}

// ------------------------------------------------------------------ authenticators

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Codes whose Request Authenticator is random (RFC 2865 §3, RFC 5997 §3). */
export function hasRandomAuthenticator(code: number): boolean {
  return code === Code.AccessRequest || code === Code.StatusServer;
}

/**
 * HMAC-MD5 Message-Authenticator over raw with the Authenticator field replaced by `auth` and
 * the MA value taken as zeros (RFC 3579 §3.2, RFC 5176 §3.4).
 */
function computeMa(raw: Buffer, maOffset: number, auth: Buffer, secret: Buffer): Buffer {
  return hmacMd5(keyFor(secret), raw.subarray(0, 4), auth, raw.subarray(HEADER_LENGTH, maOffset), ZERO16, raw.subarray(maOffset + 16));
}

/** HMAC key pads per secret Buffer (callers keep one Buffer per client/peer). */
const hmacKeys = new WeakMap<Buffer, HmacKey>();
function keyFor(secret: Buffer): HmacKey {
  let k = hmacKeys.get(secret);
  if (!k) {
    k = hmacKey(secret);
    hmacKeys.set(secret, k);
  }
  return k;
}

/** MD5(raw with Authenticator field := auth | secret). */
function md5WithAuth(raw: Buffer, auth: Buffer, secret: Buffer): Buffer {
  return md5(raw.subarray(0, 4), auth, raw.subarray(HEADER_LENGTH), secret);
}

/**
 * Verify a request's Message-Authenticator (constant time). Access-Request and Status-Server use
 * their own Request Authenticator; Accounting-, CoA- and Disconnect-Request take it as zeros
 * (RFC 5176 §3.4; FreeRADIUS does the same for accounting). Returns false when absent.
 */
export function verifyRequestMessageAuthenticator(p: Packet, secret: Buffer): boolean {
  if (p.maOffset < 0) return false;
  const auth = hasRandomAuthenticator(p.code) ? p.authenticator : ZERO16;
  return safeEqual(computeMa(p.raw, p.maOffset, auth, secret), p.raw.subarray(p.maOffset, p.maOffset + 16));
}

/**
 * Verify the Request Authenticator of Accounting-, CoA- and Disconnect-Request:
 * MD5(Code|Identifier|Length|16 zero octets|Attributes|Secret) (RFC 2866 §3, RFC 5176 §2.3).
 */
export function verifyRequestAuthenticator(p: Packet, secret: Buffer): boolean {
  return safeEqual(md5WithAuth(p.raw, ZERO16, secret), p.authenticator);
}

/**
 * Verify a response against the request it answers: Response Authenticator
 * MD5(Code|Id|Length|RequestAuth|Attributes|Secret) (RFC 2865 §3) and, when present or
 * required, the Message-Authenticator computed with the Request Authenticator (RFC 3579 §3.2).
 */
export function verifyResponse(
  resp: Packet,
  requestAuthenticator: Buffer,
  secret: Buffer,
  requireMessageAuthenticator: boolean,
  requestCode: number = Code.AccessRequest,
): 'ok' | 'bad_authenticator' | 'bad_message_authenticator' | 'missing_message_authenticator' {
  if (resp.maOffset < 0 && requireMessageAuthenticator) return 'missing_message_authenticator';
  if (!safeEqual(md5WithAuth(resp.raw, requestAuthenticator, secret), resp.authenticator)) return 'bad_authenticator';
  if (resp.maOffset >= 0) {
    const ma = computeMa(resp.raw, resp.maOffset, maAuthenticatorFor(resp.code, requestCode, requestAuthenticator), secret);
    if (!safeEqual(ma, resp.raw.subarray(resp.maOffset, resp.maOffset + 16))) return 'bad_message_authenticator';
  }
  return 'ok';
}

// ------------------------------------------------------------------ encoding

export class RadiusEncodeError extends Error {
  override readonly name = 'RadiusEncodeError';
}

/**
 * Assemble header + (Message-Authenticator first) + attribute octets into one buffer.
 * Message-Authenticator goes immediately after the header (BlastRADIUS mitigation,
 * draft-ietf-radext-deprecating-radius; RFC 3579 allows any position).
 */
function assemble(code: number, id: number, auth: Buffer, attrs: Buffer, withMa: boolean): Buffer {
  const len = HEADER_LENGTH + (withMa ? MA_ATTR_LENGTH : 0) + attrs.length;
  if (len > MAX_PACKET_LENGTH) throw new RadiusEncodeError(`packet would be ${len} octets (max ${MAX_PACKET_LENGTH})`);
  const out = Buffer.allocUnsafe(len);
  out[0] = code;
  out[1] = id & 0xff;
  out.writeUInt16BE(len, 2);
  auth.copy(out, 4);
  let off = HEADER_LENGTH;
  if (withMa) {
    out[off] = Attr.MessageAuthenticator;
    out[off + 1] = MA_ATTR_LENGTH;
    ZERO16.copy(out, off + 2);
    off += MA_ATTR_LENGTH;
  }
  attrs.copy(out, off);
  return out;
}

function md5Packet(pkt: Buffer, secret: Buffer): Buffer {
  return md5(pkt, secret);
}

function hmacPacket(pkt: Buffer, secret: Buffer): Buffer {
  return hmacMd5(keyFor(secret), pkt);
}

/**
 * Encode a request. Access-Request / Status-Server: random authenticator, Message-Authenticator
 * over the packet (RFC 3579 §3.2). Accounting-/CoA-/Disconnect-Request: Message-Authenticator with
 * a zero authenticator, then the Request Authenticator MD5 (RFC 2866 §3, RFC 5176 §3.4).
 */
export function encodeRequest(
  code: number,
  identifier: number,
  attrs: Buffer,
  secret: Buffer,
  withMa = true,
): { packet: Buffer; authenticator: Buffer } {
  const random = hasRandomAuthenticator(code);
  const auth = random ? randomBytes(16) : ZERO16;
  const ma = withMa || code === Code.StatusServer; // RFC 5997 §3: Status-Server MUST carry it
  const pkt = assemble(code, identifier, auth, attrs, ma);
  if (ma) hmacPacket(pkt, secret).copy(pkt, HEADER_LENGTH + 2);
  if (!random) md5Packet(pkt, secret).copy(pkt, 4);
  return { packet: pkt, authenticator: Buffer.from(pkt.subarray(4, 20)) };
}

/**
 * The Authenticator field value while computing a response's Message-Authenticator: the
 * Request Authenticator (RFC 3579 §3.2, RFC 5176 §3.4), except for an Accounting-Response to
 * an Accounting-Request, where FreeRADIUS (and so radclient) uses 16 zero octets as for the
 * request itself; no RFC defines that case, interop decides.
 */
export function maAuthenticatorFor(responseCode: number, requestCode: number, requestAuthenticator: Buffer): Buffer {
  return responseCode === Code.AccountingResponse && requestCode === Code.AccountingRequest ? ZERO16 : requestAuthenticator;
}

/**
 * Encode a response to a request: Message-Authenticator (first) computed with the Request
 * Authenticator in place, then Response Authenticator MD5 (RFC 2865 §3, RFC 3579 §3.2).
 */
export function encodeResponse(
  code: number,
  identifier: number,
  requestAuthenticator: Buffer,
  attrs: Buffer,
  secret: Buffer,
  withMa = true,
  requestCode: number = Code.AccessRequest,
): Buffer {
  const pkt = assemble(code, identifier, requestAuthenticator, attrs, withMa);
  if (withMa) {
    const maAuth = maAuthenticatorFor(code, requestCode, requestAuthenticator);
    if (maAuth !== requestAuthenticator) maAuth.copy(pkt, 4);
    hmacPacket(pkt, secret).copy(pkt, HEADER_LENGTH + 2);
    requestAuthenticator.copy(pkt, 4);
  }
  md5Packet(pkt, secret).copy(pkt, 4);
  return pkt;
}

/** Proxy-State attributes of a request, re-encoded for echoing unchanged (RFC 2865 §5.33). */
export function proxyStateBytes(p: Packet): Buffer | null {
  let parts: Buffer[] | null = null;
  for (const a of p.attributes) {
    if (a.type !== Attr.ProxyState) continue;
    parts ??= [];
    parts.push(Buffer.from([a.type, a.value.length + 2]), a.value);
  }
  return parts ? Buffer.concat(parts) : null;
}
