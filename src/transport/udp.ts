// Mobility Header over UDP (RFC 5844 §4: IPv4 / UDP / MH, port 5436, MH checksum 0 and
// the UDP checksum used instead - Node's dgram always fills it). One socket per local
// address, IPv4 and IPv6 alike, so a reply can leave from the address the request was
// sent to (`send(..., from)`); sockets on a wildcard address cannot tell the destination
// of a datagram (Node has no IP_PKTINFO), so `local` is reported only for specific ones.
// IPv4 sockets use the native addon's batched socket when it is built (udp-native.ts:
// recvmmsg / sendmmsg, one JavaScript call per received batch); otherwise node:dgram.
import dgram from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import { MH_MAX_LENGTH, PMIP6_CNTL_UDP_PORT } from '../mh/index.ts';
import type { MhTransport, MhWriter, Peer, ReceivedMh } from './types.ts';
import { BatchedUdpSocket, nativeUdp, type BatchedUdpStats } from './udp-native.ts';

export interface UdpTransportOptions {
  /** Local addresses to bind, IPv4 and/or IPv6 (default ['0.0.0.0']). */
  addresses?: string[];
  /** UDP port (default 5436; 0 = any free port, the same one for every address). */
  port?: number;
  /** SO_RCVBUF / SO_SNDBUF in bytes (default 8 MiB / 4 MiB; the kernel may cap them, see net.core.rmem_max). */
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** IPv4: batched I/O through the native addon when it is built (default true). */
  batched?: boolean;
  /**
   * Batched IPv4: a run of equal-sized datagrams to one peer leaves as one UDP_SEGMENT message
   * (udp(7) GSO; the peer receives the same datagrams). Default true; turned off by itself
   * where the kernel or the route refuses it.
   */
  gso?: boolean;
}

interface Bound {
  /** node:dgram, or (IPv4 with the addon) the batched native socket. */
  socket: dgram.Socket | BatchedUdpSocket;
  address: string;
  family: 4 | 6;
  wildcard: boolean;
  carriage: 'udp4' | 'udp6';
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

export class UdpTransport implements MhTransport {
  private handler: ((m: ReceivedMh) => void) | undefined;
  private errorHandler: ((e: Error) => void) | undefined;
  private closed = false;
  private constructor(
    private readonly bound: Bound[],
    private readonly port: number,
  ) {}

  /** Binds every address (port 0: the kernel's choice for the first, reused for the others). */
  static async open(opts: UdpTransportOptions = {}): Promise<UdpTransport> {
    const addresses = opts.addresses && opts.addresses.length > 0 ? opts.addresses : ['0.0.0.0'];
    let port = opts.port ?? PMIP6_CNTL_UDP_PORT;
    const bound: Bound[] = [];
    // eslint-disable-next-line prefer-const -- the batched sockets' callbacks reach it once it exists
    let t: UdpTransport | undefined;
    try {
      for (const address of addresses) {
        const family: 4 | 6 = isIPv6(address) ? 6 : 4;
        if (!isIPv4(address) && !isIPv6(address)) throw new TypeError(`not an IP address: ${address}`);
        const ctor = family === 4 && opts.batched !== false ? nativeUdp() : undefined;
        if (ctor) {
          const b: Bound = { socket: null as unknown as BatchedUdpSocket, address, family, wildcard: WILDCARDS.has(address), carriage: 'udp4' };
          b.socket = new BatchedUdpSocket(
            ctor,
            { address, port, recvBufferSize: opts.recvBufferSize ?? 8 * 1024 * 1024, sendBufferSize: opts.sendBufferSize ?? 4 * 1024 * 1024, gso: opts.gso ?? true },
            (data, from, fromPort, queuedMs) => t?.deliver(b, data, from, fromPort, queuedMs),
            (e) => t?.errorHandler?.(e),
          );
          if (port === 0) port = b.socket.port();
          bound.push(b);
          continue;
        }
        const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6 });
        await new Promise<void>((resolve, reject) => {
          const onError = (e: Error): void => reject(e);
          socket.once('error', onError);
          socket.bind({ address, port, exclusive: true }, () => {
            socket.off('error', onError);
            resolve();
          });
        });
        if (port === 0) port = socket.address().port;
        trySet(() => socket.setRecvBufferSize(opts.recvBufferSize ?? 8 * 1024 * 1024));
        trySet(() => socket.setSendBufferSize(opts.sendBufferSize ?? 4 * 1024 * 1024));
        bound.push({ socket, address, family, wildcard: WILDCARDS.has(address), carriage: family === 6 ? 'udp6' : 'udp4' });
      }
    } catch (e) {
      for (const b of bound) b.socket.close();
      throw e;
    }
    t = new UdpTransport(bound, port);
    for (const b of bound) if (!(b.socket instanceof BatchedUdpSocket)) t.listen(b, b.socket);
    return t;
  }

  private listen(b: Bound, socket: dgram.Socket): void {
    socket.on('message', (data, rinfo) => {
      try {
        this.deliver(b, data, rinfo.address, rinfo.port, undefined);
      } catch (e) {
        this.errorHandler?.(e as Error);
      }
    });
    socket.on('error', (e) => this.errorHandler?.(e));
  }

  private deliver(b: Bound, data: Buffer, address: string, port: number, queuedMs: number | undefined): void {
    const h = this.handler;
    if (h === undefined || this.closed) return;
    h({ data, from: { address, port }, local: b.wildcard ? undefined : b.address, carriage: b.carriage, queuedMs });
  }

  /** Batched-socket counters per IPv4 address (empty on node:dgram). */
  batchStats(): Record<string, BatchedUdpStats> {
    const r: Record<string, BatchedUdpStats> = {};
    for (const b of this.bound) if (b.socket instanceof BatchedUdpSocket) r[b.address] = b.socket.stats();
    return r;
  }

  /** Sends from the socket bound to `from` if there is one, else from the first socket of the right family. */
  send(data: Buffer, to: Peer, from?: string): void {
    const b = this.socketFor(to, from);
    if (b === undefined) return;
    if (b.socket instanceof BatchedUdpSocket) b.socket.send(data, to.port ?? PMIP6_CNTL_UDP_PORT, to.address);
    else b.socket.send(data, to.port ?? PMIP6_CNTL_UDP_PORT, to.address, this.onSent);
  }

  /**
   * MhTransport.sendInto: on a batched socket the MH is written straight into its outgoing
   * batch; on node:dgram into a scratch buffer, then copied (dgram keeps what it is given
   * until sent).
   */
  sendInto<T>(write: MhWriter<T>, arg: T, to: Peer, from?: string): void {
    const b = this.socketFor(to, from);
    if (b === undefined) return;
    const port = to.port ?? PMIP6_CNTL_UDP_PORT;
    if (b.socket instanceof BatchedUdpSocket) {
      b.socket.sendInto(write, arg, MH_MAX_LENGTH, port, to.address);
      return;
    }
    const n = write(arg, this.scratch, 0);
    b.socket.send(Buffer.from(this.scratch.subarray(0, n)), port, to.address, this.onSent);
  }

  private readonly scratch = Buffer.alloc(MH_MAX_LENGTH);

  private socketFor(to: Peer, from: string | undefined): Bound | undefined {
    if (this.closed) return undefined;
    // IPv6 text has a colon, IPv4 text none (what is neither fails in the socket's send, reported there).
    const v6 = to.address.includes(':');
    let b: Bound | undefined;
    if (from !== undefined) b = this.byAddress(from);
    if (b === undefined || (b.family === 6) !== v6) b = this.bound.find((x) => (x.family === 6) === v6);
    if (b === undefined) this.errorHandler?.(new Error(`no IPv${v6 ? 6 : 4} socket to send to ${to.address}`));
    return b;
  }

  /** The socket bound to `address` (no closure per send: one of a few sockets). */
  private byAddress(address: string): Bound | undefined {
    for (const x of this.bound) if (x.address === address) return x;
    return undefined;
  }

  private readonly onSent = (err: Error | null): void => {
    if (err) this.errorHandler?.(err);
  };

  onReceive(handler: (m: ReceivedMh) => void): void {
    this.handler = handler;
  }

  onError(handler: (e: Error) => void): void {
    this.errorHandler = handler;
  }

  /** The first bound address and the port (the same for every socket). */
  localAddress(): Peer {
    return { address: this.bound[0].address, port: this.port };
  }

  /** Every bound address. */
  localAddresses(): Peer[] {
    return this.bound.map((b) => ({ address: b.address, port: this.port }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.bound.map((b) => {
        const s = b.socket;
        if (s instanceof BatchedUdpSocket) return s.close();
        return new Promise<void>((r) => s.close(() => r()));
      }),
    );
  }
}

function trySet(f: () => void): void {
  try {
    f();
  } catch {
    // the kernel refused the size: keep its default
  }
}

/** Convenience: `await openUdpTransport({ addresses: ['127.0.0.1'], port: 0 })`. */
export function openUdpTransport(opts: UdpTransportOptions = {}): Promise<UdpTransport> {
  return UdpTransport.open(opts);
}
