// An IPv4 UDP socket with batched I/O through the native addon (native/src/udp_mmsg.c):
// datagrams arrive in recvmmsg batches, one JavaScript call per batch, and what is sent
// during one turn of the event loop leaves in one sendmmsg call at the end of the turn
// (setImmediate). Used by UdpTransport (udp.ts) for IPv4 addresses when the addon is built;
// without it, or with its option batched: false (lma.udpBatched), UdpTransport uses node:dgram.
import { loadNative } from './native.ts';
import { queuedSince } from './types.ts';
import type { MhWriter } from './types.ts';

/** The addon's UdpSocket (native/src/udp_mmsg.c). */
interface NativeUdpSocket {
  sendBatch(data: Uint8Array, info: Uint32Array, count: number): number;
  stats(): BatchedUdpStats;
  port(): number;
  close(): void;
}

type NativeUdpCtor = new (o: {
  address: string;
  port: number;
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** UDP_SEGMENT runs of equal datagrams to one destination (default true; off by itself where the kernel refuses). */
  gso?: boolean;
  /** times: kernel receive stamps (SO_TIMESTAMPNS, ms since 1970, 0 = none); absent from older builds. */
  onPackets: (count: number, data: Buffer, info: Uint32Array, times?: Float64Array) => void;
}) => NativeUdpSocket;

export interface BatchedUdpStats {
  rxBatches: number;
  rxPackets: number;
  truncated: number;
  rxErrors: number;
  txBatches: number;
  txPackets: number;
  txErrors: number;
  lastTxError: number;
  /** Messages that carried a run of datagrams with UDP_SEGMENT (absent from older builds). */
  txGsoRuns?: number;
  /** Runs the kernel refused to segment (then sent one by one, and segmentation turned off). */
  gsoFailures?: number;
  /** 1 while segmentation is on, 0 once off. */
  gso?: number;
  /** The kernel's drop count for the socket (full receive buffer); -1 when closed. */
  kernelDrops: number;
}

/** The native UdpSocket class, or undefined (addon missing or an older build). */
export function nativeUdp(): NativeUdpCtor | undefined {
  const n = loadNative();
  const ctor = n.ok ? (n.addon as unknown as { UdpSocket?: NativeUdpCtor }).UdpSocket : undefined;
  return typeof ctor === 'function' ? ctor : undefined;
}

const MAX_BATCH = 256;
const OUT_BYTES = 256 * 1024;

function ipv4ToU32(a: string): number | undefined {
  const p = a.split('.');
  if (p.length !== 4) return undefined;
  let v = 0;
  for (const x of p) {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 0 || n > 255 || x === '') return undefined;
    v = v * 256 + n;
  }
  return v;
}

export class BatchedUdpSocket {
  private readonly sock: NativeUdpSocket;
  private readonly out = Buffer.allocUnsafe(OUT_BYTES);
  private readonly info = new Uint32Array(MAX_BATCH * 4);
  private count = 0;
  private used = 0;
  private scheduled = false;
  /** Address text <-> number, both directions, bounded (peers are few: MAGs). */
  private readonly names = new Map<number, string>();
  private readonly numbers = new Map<string, number>();

  constructor(
    ctor: NativeUdpCtor,
    o: { address: string; port: number; recvBufferSize?: number; sendBufferSize?: number; gso?: boolean },
    private readonly onMessage: (data: Buffer, address: string, port: number, queuedMs: number | undefined) => void,
    private readonly onError: (e: Error) => void,
  ) {
    try {
      this.sock = new ctor({ ...o, onPackets: (count, data, info, times) => this.received(count, data, info, times) });
    } catch (e) {
      // Like node:dgram's bind errors: the address and port, so start-up can name them (src/main/errors.ts).
      const err = e as NodeJS.ErrnoException & { address?: string; port?: number };
      if (err && typeof err === 'object') {
        err.address ??= o.address;
        err.port ??= o.port;
      }
      throw e;
    }
  }

  port(): number {
    return this.sock.port();
  }

  stats(): BatchedUdpStats {
    return this.sock.stats();
  }

  private received(count: number, data: Buffer, info: Uint32Array, times: Float64Array | undefined): void {
    // The wall clock is read per datagram, just before its handler (which reads the LMA's clock
    // at once, path.ts arrivedAt): one read per batch made every datagram handled after a stall
    // inside the batch (a handler blocking the loop: a collection, a Map growing past 2^19) look
    // as if it arrived when the stall ended, and a stall over TimestampValidityWindow turned
    // fresh PBUs into 156 (issue 12).
    for (let i = 0; i < count; i++) {
      const off = info[i * 4];
      const a = info[i * 4 + 2];
      let name = this.names.get(a);
      if (name === undefined) {
        name = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
        if (this.names.size >= 4096) this.names.clear();
        this.names.set(a, name);
      }
      try {
        this.onMessage(data.subarray(off, off + info[i * 4 + 1]), name, info[i * 4 + 3], times === undefined ? undefined : queuedSince(times[i], Date.now()));
      } catch (e) {
        this.onError(e as Error);
      }
    }
  }

  /** Queues one datagram; the queue leaves at the end of this turn of the event loop (or when full). */
  send(data: Uint8Array, port: number, address: string): void {
    const a = this.addressNumber(address);
    if (a === undefined) return;
    if (data.length > OUT_BYTES) {
      this.onError(new Error(`datagram of ${data.length} octets is too long`));
      return;
    }
    if (this.count === MAX_BATCH || this.used + data.length > OUT_BYTES) this.flush();
    this.out.set(data, this.used);
    this.queued(this.used, data.length, a, port);
  }

  /**
   * Queues one datagram written in place: `write(arg, out, off)` writes it into the outgoing
   * buffer (at least `room` octets free at `off`) and returns its length; no copy, no Buffer.
   * What `write` throws comes out of here and nothing is queued.
   */
  sendInto<T>(write: MhWriter<T>, arg: T, room: number, port: number, address: string): void {
    const a = this.addressNumber(address);
    if (a === undefined) return;
    if (this.count === MAX_BATCH || this.used + room > OUT_BYTES) this.flush();
    const off = this.used;
    const n = write(arg, this.out, off);
    if (!(n >= 0 && n <= room)) {
      this.onError(new Error(`datagram writer returned ${n} octets for a room of ${room}`));
      return;
    }
    this.queued(off, n, a, port);
  }

  private addressNumber(address: string): number | undefined {
    let a = this.numbers.get(address);
    if (a === undefined) {
      a = ipv4ToU32(address);
      if (a === undefined) {
        this.onError(new Error(`not an IPv4 address: ${address}`));
        return undefined;
      }
      if (this.numbers.size >= 4096) this.numbers.clear();
      this.numbers.set(address, a);
    }
    return a;
  }

  private queued(off: number, length: number, a: number, port: number): void {
    const k = this.count * 4;
    this.info[k] = off;
    this.info[k + 1] = length;
    this.info[k + 2] = a;
    this.info[k + 3] = port;
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
    const sent = this.sock.sendBatch(this.out, this.info, n);
    if (sent < n) this.onError(new Error(`UDP send: the kernel refused ${n - sent} of ${n} datagrams (errno ${this.sock.stats().lastTxError})`));
  }

  close(): void {
    this.flush();
    this.sock.close();
  }
}
