// Transport for Diameter connections: TCP (RFC 6733 §2.1, port 3868) and TLS/TCP (port 5658, the
// handshake before the CER, §2.1 / §13). One SocketChannel per connection: bytes → Framer →
// the connection's receive(); writes coalesced per event-loop turn; reading paused while the
// peer does not read its answers or has too many requests in progress (bounded memory).
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { Framer, type FramingError } from './framer.ts';
import type { ConnectionIo } from './sm.ts';

export interface TransportInfo {
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  tls: boolean;
  /** TLS: the peer's certificate when it chained to our CA (SHA-256 fingerprint, DNS names and CN). */
  certificate: { fingerprint256: string; names: string[] } | null;
}

export interface TlsFiles {
  cert: string;
  key: string;
  /** CA bundle peers' certificates must chain to. */
  ca: string;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

export const loadTls = (f: TlsFiles): TlsMaterial => ({ cert: readFileSync(f.cert), key: readFileSync(f.key), ca: readFileSync(f.ca) });

const unmap = (a: string | undefined): string => (a && a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a ?? '');

/** "AB:CD:..." (Node's fingerprint256) → "abcd...". */
export const normalizeFingerprint = (f: string): string => f.replace(/:/g, '').toLowerCase();

export function transportInfo(socket: net.Socket): TransportInfo {
  let certificate: TransportInfo['certificate'] = null;
  if (socket instanceof tls.TLSSocket && socket.authorized) {
    const c = socket.getPeerCertificate();
    if (c && c.fingerprint256) {
      const names: string[] = [];
      for (const part of (c.subjectaltname ?? '').split(',')) {
        const t = part.trim();
        if (t.startsWith('DNS:')) names.push(t.slice(4).toLowerCase());
      }
      const cn = c.subject?.CN;
      if (typeof cn === 'string') names.push(cn.toLowerCase());
      certificate = { fingerprint256: normalizeFingerprint(c.fingerprint256), names };
    }
  }
  return {
    remoteAddress: unmap(socket.remoteAddress),
    remotePort: socket.remotePort ?? 0,
    localAddress: unmap(socket.localAddress),
    tls: socket instanceof tls.TLSSocket,
    certificate,
  };
}

export interface ChannelOptions {
  maxMessageSize: number;
  /** Stop reading while more than this many octets wait to be sent (default 1 MiB). */
  maxWriteBuffer?: number;
}

export interface ChannelSink {
  receive(bytes: Buffer): void;
  transportClosed(): void;
  framingError(e: FramingError): void;
}

/** One socket: framing in, coalesced writes out, back-pressure both ways. */
export class SocketChannel implements ConnectionIo {
  private readonly framer: Framer;
  private sink: ChannelSink | null = null;
  private corked = false;
  private closed = false;
  private holds = 0;
  private readonly maxWrite: number;

  constructor(readonly socket: net.Socket, o: ChannelOptions) {
    this.framer = new Framer(o.maxMessageSize);
    this.maxWrite = o.maxWriteBuffer ?? 1 << 20;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.release());
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => {
      this.closed = true;
      this.sink?.transportClosed();
    });
  }

  attach(sink: ChannelSink): void {
    this.sink = sink;
  }

  private onData(chunk: Buffer): void {
    if (this.closed || !this.sink) return;
    const r = this.framer.push(chunk);
    for (const m of r.messages) {
      if (this.closed) return;
      this.sink.receive(m);
    }
    if (r.error && !this.closed) this.sink.framingError(r.error);
  }

  write(b: Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    if (!this.corked) {
      // Everything written until the event loop's check phase leaves in one writev: the answers
      // to all the reads of this turn, not one system call per read.
      this.corked = true;
      this.socket.cork();
      setImmediate(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(b);
    if (this.socket.writableLength > this.maxWrite) this.hold();
  }

  /** Stop reading (the caller releases once). */
  hold(): void {
    if (this.holds++ === 0) this.socket.pause();
  }

  release(): void {
    if (this.holds === 0) return;
    if (this.socket.writableLength > this.maxWrite) return;
    this.holds = 0;
    if (!this.closed) this.socket.resume();
  }

  /** Flush and disconnect; a peer that does not close within a second is cut. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    const t = setTimeout(() => this.socket.destroy(), 1000);
    t.unref();
    this.socket.once('close', () => clearTimeout(t));
  }
}

export interface ConnectTarget {
  host: string;
  port: number;
  tls: TlsMaterial | null;
  /** TLS: the name the server's certificate must carry (default: host). */
  servername?: string;
  localAddress?: string;
  timeoutMs: number;
}

/** Opens a TCP or TLS connection (I-Snd-Conn-Req); rejects on failure or timeout (I-Rcv-Conn-Nack). */
export function connect(t: ConnectTarget): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    };
    const timer = setTimeout(() => onError(new Error(`connect to ${t.host}:${t.port} timed out`)), t.timeoutMs);
    const socket: net.Socket = t.tls
      ? tls.connect({
        host: t.host, port: t.port, cert: t.tls.cert, key: t.tls.key, ca: t.tls.ca,
        // tls.connect hands localAddress to net.connect (not in its typings).
        ...({ localAddress: t.localAddress } as tls.ConnectionOptions),
        servername: net.isIP(t.servername ?? t.host) ? undefined : t.servername ?? t.host,
        checkServerIdentity: (host, cert) => tls.checkServerIdentity(t.servername ?? host, cert),
      }, () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(socket);
      })
      : net.connect({ host: t.host, port: t.port, localAddress: t.localAddress }, () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(socket);
      });
    socket.once('error', onError);
  });
}
