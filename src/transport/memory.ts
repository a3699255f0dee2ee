// In-memory MH transport for unit tests: a hub that delivers datagrams between endpoints
// by address, asynchronously (queueMicrotask) like a network, with optional loss.
import type { MhTransport, Peer, ReceivedMh } from './types.ts';

export class MemoryHub {
  private readonly endpoints = new Map<string, MemoryTransport>();
  /** Drop predicate for loss tests: return true to lose the datagram. */
  drop: (data: Buffer, from: Peer, to: Peer) => boolean = () => false;
  /** Everything sent, in order (for assertions). */
  readonly sent: { data: Buffer; from: Peer; to: Peer }[] = [];
  record = false;

  endpoint(address: string, port = 5436): MemoryTransport {
    const t = new MemoryTransport(this, { address, port });
    this.endpoints.set(key({ address, port }), t);
    return t;
  }

  /** @internal */
  deliver(data: Buffer, from: Peer, to: Peer): void {
    if (this.record) this.sent.push({ data, from, to });
    if (this.drop(data, from, to)) return;
    const dst = this.endpoints.get(key({ address: to.address, port: to.port ?? 5436 }));
    if (!dst) return; // nobody there: lost, as on a network
    const copy = Buffer.from(data);
    queueMicrotask(() => dst.receive({ data: copy, from, local: to.address, carriage: 'memory' }));
  }

  /** @internal */
  detach(t: MemoryTransport): void {
    this.endpoints.delete(key(t.localAddress()));
  }
}

const key = (p: Peer) => `${p.address}|${p.port ?? 5436}`;

export class MemoryTransport implements MhTransport {
  private handler: ((m: ReceivedMh) => void) | undefined;
  private closed = false;
  constructor(
    private readonly hub: MemoryHub,
    private readonly self: Peer,
  ) {}
  send(data: Buffer, to: Peer): void {
    if (!this.closed) this.hub.deliver(data, this.self, to);
  }
  onReceive(handler: (m: ReceivedMh) => void): void {
    this.handler = handler;
  }
  localAddress(): Peer {
    return this.self;
  }
  /** @internal */
  receive(m: ReceivedMh): void {
    if (!this.closed) this.handler?.(m);
  }
  async close(): Promise<void> {
    this.closed = true;
    this.hub.detach(this);
  }
}
