// Mobility Header over IPv6 itself (RFC 6275 §6.1: IP protocol 135), the PMIPv6 base
// transport (RFC 5213 §6.10.1), on raw sockets from the native addon (native/src/mh_socket.c).
// One socket per local address, bound to it, so the kernel delivers only MHs sent to that
// address (every raw protocol-135 socket sees every MH otherwise) and a reply can leave from
// the address the request was sent to (RFC 5213 §5.3.6). The kernel computes the MH checksum
// on send and drops bad ones on receive (IPV6_CHECKSUM 4, RFC 6275 §6.1.1 / §9.2); the
// native code filters wrong destinations, unwanted MH Types and oversized datagrams before
// JavaScript sees them and hands the rest over in batches. The source address reported for
// a datagram is the IPv6 source of the packet: the LMA may authorise by it.
import { isIPv6 } from 'node:net';
import { logger, type Logger } from '../util/log.ts';
import { LogOnce } from '../util/log-once.ts';
import { Ip6TransportUnavailableError, rawMhSupport, type MhSocket, type NativeAddon } from './native.ts';
import { retire, track, untrack } from './ip6-metrics.ts';
import { queuedSince, type MhTransport, type MhWriter, type Peer, type ReceivedMh } from './types.ts';
import { MH_MAX_LENGTH } from '../mh/constants.ts';
import { Ip6SendQueue } from './ip6-batch.ts';

export interface Ip6TransportOptions {
  /** Local IPv6 addresses, one raw socket each ("::" = all: every MH on the host arrives). */
  addresses: string[];
  /** With addresses ["::"]: the destinations to deliver (default all; at most 16). */
  accept?: string[];
  /** MH Types to deliver (RFC 6275 §6.1.2 numbers); default every type. Others are counted and dropped in C. */
  types?: readonly number[];
  /** Kernel checksumming (IPV6_CHECKSUM 4); false only for tests that forge checksums. */
  checksum?: boolean;
  /** SO_RCVBUF / SO_SNDBUF in bytes (default 8 MiB / 4 MiB; as root beyond net.core.rmem_max). */
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** Datagrams per recvmmsg (default 64). */
  batch?: number;
  /** Send what one turn of the event loop sends in sendmmsg batches at its end (default true; ip6-batch.ts). */
  batchedSend?: boolean;
  /** ICMPv6 Parameter Problem messages per second (RFC 4443 §2.4 (f) rate limit; default 10). */
  icmpRatePerS?: number;
  /** Who opens it, for the error message when it cannot be opened (default "IPv6 transport"). */
  what?: string;
  /** The addon (tests inject one; default: native/build). */
  addonPath?: string;
  logger?: Logger;
}

/** Names of the errno values a raw IPv6 send can meet (Linux numbers). */
const ERRNO_NAMES: Record<number, string> = { 1: 'EPERM', 11: 'EAGAIN', 13: 'EACCES', 22: 'EINVAL', 90: 'EMSGSIZE', 99: 'EADDRNOTAVAIL', 101: 'ENETUNREACH', 105: 'ENOBUFS', 113: 'EHOSTUNREACH' };

export type Ip6DropCause = 'oversized' | 'wrong-destination' | 'type-filtered';
const CAUSES: Record<number, Ip6DropCause> = { 1: 'oversized', 2: 'wrong-destination', 3: 'type-filtered' };

/** Counters kept in JavaScript, next to the native ones (MhSocket.stats()). */
export interface Ip6TransportCounters {
  sendErrors: number;
  icmpRateLimited: number;
  handlerErrors: number;
}

interface Bound {
  socket: MhSocket;
  address: string;
  wildcard: boolean;
  /** Batched sending, when on and the addon has it. */
  queue: Ip6SendQueue | null;
}

export class Ip6Transport implements MhTransport {
  private handler: ((m: ReceivedMh) => void) | undefined;
  private errorHandler: ((e: Error) => void) | undefined;
  private closed = false;
  private readonly bound: Bound[] = [];
  private readonly once: LogOnce;
  private readonly log: Logger;
  readonly counters: Ip6TransportCounters = { sendErrors: 0, icmpRateLimited: 0, handlerErrors: 0 };
  private icmpTokens: number;
  private icmpLast = Date.now();
  private readonly icmpRate: number;

  private constructor(o: Ip6TransportOptions, addon: NativeAddon) {
    this.log = o.logger ?? logger('transport-ip6');
    this.once = new LogOnce(this.log, 'IPv6 MH transport');
    this.icmpRate = o.icmpRatePerS ?? 10;
    this.icmpTokens = this.icmpRate;
    const types = typeSet(o.types);
    try {
      for (const address of o.addresses) {
        const socket = new addon.MhSocket({
          address,
          accept: address === '::' ? o.accept : undefined,
          types,
          checksum: o.checksum ?? true,
          recvBufferSize: o.recvBufferSize ?? 8 * 1024 * 1024,
          sendBufferSize: o.sendBufferSize ?? 4 * 1024 * 1024,
          batch: o.batch,
          onPackets: (n, data, info, src, dst, drops, times) => this.onPackets(address, n, data, info, src, dst, drops, times),
        });
        const queue = o.batchedSend !== false && typeof socket.sendBatch === 'function' ? new Ip6SendQueue(socket, (errno, to) => this.sendFailed(errno, to)) : null;
        this.bound.push({ socket, address, wildcard: address === '::', queue });
      }
    } catch (e) {
      for (const b of this.bound) b.socket.close();
      throw e;
    }
    track(this);
  }

  /**
   * Opens one raw socket per address. Throws Ip6TransportUnavailableError, naming the
   * reason in one sentence, when the addon is missing or the process lacks CAP_NET_RAW;
   * a system error (e.g. EADDRNOTAVAIL for an address this host does not have) otherwise.
   */
  static open(o: Ip6TransportOptions): Ip6Transport {
    const what = o.what ?? 'IPv6 transport';
    if (o.addresses.length === 0) throw new TypeError(`${what}: no IPv6 address to bind`);
    for (const a of o.addresses) if (!isIPv6(a)) throw new TypeError(`${what}: not an IPv6 address: ${a}`);
    const s = rawMhSupport(o.addonPath);
    if (!s.ok) throw new Ip6TransportUnavailableError(s.reason, `${what} on ${o.addresses.join(', ')}`);
    return new Ip6Transport(o, s.addon);
  }

  private onPackets(socket: string, n: number, data: Buffer, info: Uint32Array, src: string[], dst: string[], drops: (number | string)[] | undefined, times: Float64Array | undefined): void {
    if (drops !== undefined) {
      for (let i = 0; i + 2 < drops.length; i += 3) {
        const cause = CAUSES[drops[i] as number] ?? 'unknown';
        this.once.warn(cause, drops[i + 1] as string, { socket, mhType: drops[i + 2] });
      }
    }
    const h = this.handler;
    if (h === undefined || this.closed) return;
    for (let i = 0; i < n; i++) {
      const off = info[i * 4];
      const m: ReceivedMh = {
        data: data.subarray(off, off + info[i * 4 + 1]),
        from: { address: src[i] },
        local: dst[i],
        carriage: 'ip6',
        ifindex: info[i * 4 + 2],
        hopLimit: info[i * 4 + 3],
        queuedMs: times === undefined ? undefined : queuedSince(times[i], Date.now()),
      };
      try {
        h(m);
      } catch (e) {
        this.counters.handlerErrors++;
        this.errorHandler?.(e as Error);
      }
    }
  }

  private pick(from: string | undefined): Bound {
    if (from !== undefined) {
      for (const b of this.bound) if (b.address === from) return b;
      for (const b of this.bound) if (b.wildcard) return b;
    }
    return this.bound[0];
  }

  /** Sends from the socket bound to `from` (else a wildcard one, with `from` as the source, else the first). */
  send(data: Buffer, to: Peer, from?: string): void {
    if (this.closed) return;
    const b = this.pick(from);
    if (b.queue !== null && b.queue.add(data, to.address, b.wildcard ? from : undefined)) return;
    const err = b.wildcard && from !== undefined ? b.socket.send(data, to.address, from) : b.socket.send(data, to.address);
    if (err !== 0) this.sendFailed(err, to.address);
  }

  /**
   * MhTransport.sendInto: written straight into the socket's outgoing batch; an address that
   * cannot be batched (a zone) is written into a scratch buffer and sent at once (the addon's
   * send copies it into the kernel before returning).
   */
  sendInto<T>(write: MhWriter<T>, arg: T, to: Peer, from?: string): void {
    if (this.closed) return;
    const b = this.pick(from);
    if (b.queue !== null && b.queue.addInto(write, arg, MH_MAX_LENGTH, to.address, b.wildcard ? from : undefined)) return;
    const n = write(arg, this.scratch, 0);
    const data = this.scratch.subarray(0, n);
    const err = b.wildcard && from !== undefined ? b.socket.send(data, to.address, from) : b.socket.send(data, to.address);
    if (err !== 0) this.sendFailed(err, to.address);
  }

  private readonly scratch = Buffer.alloc(MH_MAX_LENGTH);

  private sendFailed(errno: number, to: string): void {
    this.counters.sendErrors++;
    const e = Object.assign(new Error(`sendmsg to ${to} over raw IPv6 failed: errno ${errno}${errno === 11 ? ' (EAGAIN: send buffer full)' : ''}`), { errno, code: ERRNO_NAMES[errno] ?? `E${errno}`, address: to });
    this.errorHandler?.(e);
  }

  /**
   * RFC 6275 §9.2: ICMPv6 Parameter Problem, Code 0, to the source of `m`, `pointer` octets
   * into its MH (0: Payload Proto, 1: Header Len). Rate-limited as RFC 4443 §2.4 (f) asks.
   */
  parameterProblem(m: ReceivedMh, pointer: number): void {
    if (this.closed || m.carriage !== 'ip6') return;
    const now = Date.now();
    this.icmpTokens = Math.min(this.icmpRate, this.icmpTokens + ((now - this.icmpLast) * this.icmpRate) / 1000);
    this.icmpLast = now;
    if (this.icmpTokens < 1) {
      this.counters.icmpRateLimited++;
      return;
    }
    this.icmpTokens -= 1;
    const b = this.pick(m.local);
    const local = m.local ?? b.address;
    b.socket.parameterProblem(pointer, m.data, m.from.address, local, m.hopLimit ?? 64);
  }

  onReceive(handler: (m: ReceivedMh) => void): void {
    this.handler = handler;
  }

  onError(handler: (e: Error) => void): void {
    this.errorHandler = handler;
  }

  /** The first bound address (raw sockets have no port). */
  localAddress(): Peer {
    return { address: this.bound[0].address };
  }

  localAddresses(): Peer[] {
    return this.bound.map((b) => ({ address: b.address }));
  }

  /** Native counters summed over the sockets, and the JavaScript ones. */
  stats(): Record<string, number> {
    const sum: Record<string, number> = {};
    for (const b of this.bound) {
      const s = b.socket.stats();
      for (const [k, v] of Object.entries(s)) if (k !== 'lastRxError' && k !== 'recvBufferSize') sum[k] = (sum[k] ?? 0) + Math.max(0, v);
    }
    return { ...sum, ...this.counters };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    retire(this);
    this.closed = true;
    for (const b of this.bound) {
      b.queue?.flush();
      b.socket.close();
    }
    untrack(this);
  }
}

/** The 32-octet bit set the native socket takes. */
export function typeSet(types: readonly number[] | undefined): Uint8Array | undefined {
  if (types === undefined) return undefined;
  const set = new Uint8Array(32);
  for (const t of types) {
    if (!Number.isInteger(t) || t < 0 || t > 255) throw new RangeError(`MH Type out of range: ${t}`);
    set[t >> 3] |= 1 << (t & 7);
  }
  return set;
}

/** Every MH Type except `excluded` (e.g. an LMA never receives a Binding Acknowledgement). */
export function allTypesBut(...excluded: number[]): number[] {
  const out: number[] = [];
  for (let t = 0; t < 256; t++) if (!excluded.includes(t)) out.push(t);
  return out;
}

/** Convenience like openUdpTransport. */
export function openIp6Transport(o: Ip6TransportOptions): Ip6Transport {
  return Ip6Transport.open(o);
}
