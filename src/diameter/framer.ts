// Splits a TCP/TLS byte stream into Diameter messages by their Message Length (RFC 6733 §3),
// keeping partial input between reads (as pg-protocol's parser does): a message split across
// reads is joined, several messages in one read are all returned. Messages that arrive whole
// inside one read are views into it (no copy). Pure: no sockets, no clock.
//
// A stream whose next header cannot be trusted is unparseable (§2.1: "reset the connection"):
// a version other than 1, a Message Length below the 20-octet header, or above the largest
// message this node accepts. The framer then stops and reports why; the caller closes.
import { DIAMETER_VERSION, HEADER_LENGTH } from './constants.ts';

export type FramingError =
  /** `header`: the 20 header octets, so the caller can answer DIAMETER_UNSUPPORTED_VERSION first. */
  | { kind: 'unsupported_version'; version: number; header: Buffer | null }
  | { kind: 'length_below_header'; length: number }
  | { kind: 'too_long'; length: number; max: number };

export interface FramerResult {
  messages: Buffer[];
  /** Set once the stream is unparseable; no further messages are returned. */
  error: FramingError | null;
}

export class Framer {
  private parts: Buffer[] = [];
  private buffered = 0;
  private failed: FramingError | null = null;

  /** `maxMessageSize`: the largest Message Length accepted (octets). */
  constructor(readonly maxMessageSize = 65_536) {}

  /** Octets held from an incomplete message. */
  get pending(): number {
    return this.buffered;
  }

  push(chunk: Buffer): FramerResult {
    const messages: Buffer[] = [];
    if (this.failed) return { messages, error: this.failed };
    let data = chunk;
    if (this.buffered > 0) {
      // Finish the held message first; only its missing octets are copied from this chunk.
      this.parts.push(chunk);
      this.buffered += chunk.length;
      if (this.buffered < 4) return { messages, error: null };
      const joined = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.buffered);
      this.parts = [];
      this.buffered = 0;
      data = joined;
    }
    let off = 0;
    while (data.length - off >= 4) {
      const version = data[off];
      const length = data.readUIntBE(off + 1, 3);
      if (version !== DIAMETER_VERSION) {
        const header = data.length - off >= HEADER_LENGTH ? Buffer.from(data.subarray(off, off + HEADER_LENGTH)) : null;
        this.failed = { kind: 'unsupported_version', version, header };
        return { messages, error: this.failed };
      }
      if (length < HEADER_LENGTH) {
        this.failed = { kind: 'length_below_header', length };
        return { messages, error: this.failed };
      }
      if (length > this.maxMessageSize) {
        this.failed = { kind: 'too_long', length, max: this.maxMessageSize };
        return { messages, error: this.failed };
      }
      if (data.length - off < length) break;
      messages.push(data.subarray(off, off + length));
      off += length;
    }
    if (off < data.length) {
      // Keep the tail (a copy: the caller may reuse nothing, but a small tail should not pin a big read).
      const tail = Buffer.from(data.subarray(off));
      this.parts = [tail];
      this.buffered = tail.length;
    }
    return { messages, error: null };
  }
}
