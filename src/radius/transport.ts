// Client-side UDP transport: one socket per peer, Identifier allocation (RFC 2865 §3: unique
// per source port while outstanding), retransmission of the identical packet (RFC 5080 §2.2.1)
// and response validation (Response Authenticator, Message-Authenticator; RFC 2865 §3,
// RFC 3579 §3.2). Invalid responses are silently discarded and counted.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { decodePacket, encodeRequest, verifyResponse, type Packet } from './codec.ts';
import { radiusClientEvents, radiusDropped } from './metrics.ts';
import { unmapAddress } from './values.ts';
import type { Logger } from '../util/log.ts';

export interface Peer {
  host: string;
  port: number;
  secret: Buffer;
  name: string;
}

export interface SendOptions {
  timeoutMs: number;
  /** Retransmissions after the first send. */
  retries: number;
  /** Drop responses without Message-Authenticator (BlastRADIUS client side). */
  requireMessageAuthenticator: boolean;
  /** Response codes accepted for this request. */
  expect: readonly number[];
}

export type SendResult = { ok: true; response: Packet } | { ok: false; error: 'timeout' | 'closed' };

interface Pending {
  code: number;
  authenticator: Buffer;
  opts: SendOptions;
  resolve: (r: SendResult) => void;
  timer: NodeJS.Timeout | null;
}

/** One socket towards one peer. */
export class PeerChannel {
  private readonly sock: dgram.Socket;
  private readonly pending = new Map<number, Pending>();
  private readonly waiters: (() => void)[] = [];
  private nextId = Math.floor(Math.random() * 256);
  private closed = false;
  private readonly ready: Promise<void>;

  constructor(readonly peer: Peer, private readonly log: Logger, localAddress?: string) {
    this.sock = dgram.createSocket(isIPv6(peer.host) ? 'udp6' : 'udp4');
    this.sock.on('message', (m, r) => this.onMessage(m, r));
    this.sock.on('error', (err) => this.log.warn({ err, peer: peer.name }, 'radius client: socket error'));
    this.ready = new Promise((resolve) => this.sock.bind(0, localAddress, () => resolve()));
    this.sock.unref();
  }

  private drop(cause: string): void {
    radiusDropped.labels('client', this.peer.name, cause).inc();
    radiusClientEvents.labels(this.peer.name, 'bad_response').inc();
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (unmapAddress(rinfo.address) !== unmapAddress(this.peer.host) || rinfo.port !== this.peer.port) return this.drop('unknown_source');
    const d = decodePacket(msg);
    if (!d.ok) return this.drop(d.error);
    const p = d.packet;
    const pend = this.pending.get(p.identifier);
    if (!pend) return this.drop('unmatched_response');
    if (!pend.opts.expect.includes(p.code)) return this.drop('unexpected_code');
    const v = verifyResponse(p, pend.authenticator, this.peer.secret, pend.opts.requireMessageAuthenticator, pend.code);
    if (v !== 'ok') return this.drop(v);
    this.finish(p.identifier, { ok: true, response: p });
  }

  private finish(id: number, r: SendResult): void {
    const pend = this.pending.get(id);
    if (!pend) return;
    if (pend.timer) clearTimeout(pend.timer);
    this.pending.delete(id);
    pend.resolve(r);
    const w = this.waiters.shift();
    if (w) w();
  }

  private async allocateId(): Promise<number> {
    for (;;) {
      if (this.pending.size < 256) {
        for (let i = 0; i < 256; i++) {
          const id = (this.nextId + i) & 0xff;
          if (!this.pending.has(id)) {
            this.nextId = (id + 1) & 0xff;
            return id;
          }
        }
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /**
   * Encode with a fresh Identifier and send; retransmit the identical datagram `retries` times.
   * Resolves with the first valid response or 'timeout'. `attrs` exclude Message-Authenticator.
   */
  async request(code: number, attrs: Buffer, opts: SendOptions): Promise<SendResult> {
    if (this.closed) return { ok: false, error: 'closed' };
    await this.ready;
    const id = await this.allocateId();
    const { packet, authenticator } = encodeRequest(code, id, attrs, this.peer.secret, true);
    return new Promise<SendResult>((resolve) => {
      const pend: Pending = { code, authenticator, opts, resolve, timer: null };
      this.pending.set(id, pend);
      let sent = 0;
      const send = (): void => {
        if (this.closed) return this.finish(id, { ok: false, error: 'closed' });
        if (sent > opts.retries) {
          radiusClientEvents.labels(this.peer.name, 'timeout').inc();
          return this.finish(id, { ok: false, error: 'timeout' });
        }
        radiusClientEvents.labels(this.peer.name, sent === 0 ? 'request' : 'retransmit').inc();
        sent++;
        this.sock.send(packet, this.peer.port, this.peer.host);
        pend.timer = setTimeout(send, opts.timeoutMs);
      };
      send();
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.pending.keys()]) this.finish(id, { ok: false, error: 'closed' });
    for (const w of this.waiters.splice(0)) w();
    this.sock.close();
  }
}
