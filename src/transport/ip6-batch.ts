// Batched sending for the raw IPv6 MH transport (issue 12), as the UDP one has
// (udp-native.ts): what one turn of the event loop sends through a socket leaves in sendmmsg
// calls at the end of the turn (or when the queue is full), not one sendmsg each. Destinations
// and sources are handed to the addon as 16 octets each (parsed once per address text, bounded);
// an address with a zone ("fe80::1%eth0") is not batched: the caller sends it on its own, and
// the kernel resolves the zone as before. A datagram the kernel refuses is reported with its
// errno and destination, like an unbatched send.
import { isIPv6 } from 'node:net';
import { parseIpv6 } from '../mh/addr.ts';
import type { MhSocket } from './native.ts';
import type { MhWriter } from './types.ts';

const MAX_BATCH = 256;
const OUT_BYTES = 256 * 1024;
const MAX_ADDRESSES = 4096;

/** The addon's batched send (MhSocket.sendBatch); absent in addons built before it. */
export type SendBatch = NonNullable<MhSocket['sendBatch']>;

export class Ip6SendQueue {
  private readonly out = Buffer.allocUnsafe(OUT_BYTES);
  private readonly info = new Uint32Array(MAX_BATCH * 4);
  private readonly addrs = new Uint8Array(MAX_BATCH * 32);
  private readonly errs = new Int32Array(MAX_BATCH);
  /** Destinations of the queued datagrams (for error reports). */
  private readonly dests: string[] = [];
  private count = 0;
  private used = 0;
  private scheduled = false;
  /** Address text -> its 16 octets; null: not batchable (zone, or not IPv6 text). */
  private readonly octets = new Map<string, Uint8Array | null>();

  constructor(
    private readonly socket: MhSocket,
    /** A datagram the kernel refused: its errno and destination. */
    private readonly failed: (errno: number, to: string) => void,
  ) {}

  /** Queues one datagram; false when it cannot be batched (the caller sends it on its own). */
  add(data: Uint8Array, to: string, from: string | undefined): boolean {
    const d = this.addressOctets(to);
    const s = from === undefined ? undefined : this.addressOctets(from);
    if (d === null || s === null || data.length > OUT_BYTES) return false;
    if (this.count === MAX_BATCH || this.used + data.length > OUT_BYTES) this.flush();
    this.out.set(data, this.used);
    this.queued(this.used, data.length, d, s, to);
    return true;
  }

  /**
   * Queues one datagram written in place by `write(arg, out, off)` (at least `room` octets free
   * at `off`; returns the length): no Buffer, no copy. False, with nothing written, when the
   * addresses cannot be batched; what `write` throws comes out, and nothing is queued then.
   */
  addInto<T>(write: MhWriter<T>, arg: T, room: number, to: string, from: string | undefined): boolean {
    const d = this.addressOctets(to);
    const s = from === undefined ? undefined : this.addressOctets(from);
    if (d === null || s === null) return false;
    if (this.count === MAX_BATCH || this.used + room > OUT_BYTES) this.flush();
    const off = this.used;
    const n = write(arg, this.out, off);
    if (!(n >= 0 && n <= room)) throw new RangeError(`datagram writer returned ${n} octets for a room of ${room}`);
    this.queued(off, n, d, s, to);
    return true;
  }

  private queued(off: number, length: number, d: Uint8Array, s: Uint8Array | undefined, to: string): void {
    const i = this.count;
    this.info[4 * i] = off;
    this.info[4 * i + 1] = length;
    this.info[4 * i + 2] = 0; // no zone: scope id 0
    this.info[4 * i + 3] = s === undefined ? 0 : 1;
    this.addrs.set(d, 32 * i);
    if (s !== undefined) this.addrs.set(s, 32 * i + 16);
    this.dests[i] = to;
    this.count++;
    this.used = off + length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushLater);
    }
  }

  private readonly flushLater = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /** Sends what is queued now. */
  flush(): void {
    const n = this.count;
    if (n === 0) return;
    this.count = 0;
    this.used = 0;
    const sent = this.socket.sendBatch!(this.out, this.info, this.addrs, n, this.errs);
    if (sent < n) for (let i = 0; i < n; i++) if (this.errs[i] !== 0) this.failed(this.errs[i], this.dests[i]);
  }

  private addressOctets(text: string): Uint8Array | null {
    let o = this.octets.get(text);
    if (o === undefined) {
      try {
        o = text.includes('%') || !isIPv6(text) ? null : parseIpv6(text.toLowerCase());
      } catch {
        o = null; // the unbatched send reports it
      }
      if (this.octets.size >= MAX_ADDRESSES) this.octets.clear(); // keyed by what peers send: bounded
      this.octets.set(text, o);
    }
    return o;
  }
}
