// Transport glue for the MAG: encode, send to the LMA (UDP 5436 by default, RFC 5844 §4),
// receive and decode. The MH checksum is left 0: over IPv4/UDP the sender MUST set it to 0
// and the receiver MUST ignore it (RFC 5844 §4); on raw IPv6 sockets the kernel fills and
// checks it (IPV6_CHECKSUM offset 4), so decoding never verifies it here.
import { isIPv4, isIPv6 } from 'node:net';
import { decodeMessage, encodeMessage, ipv6ToString, parseIpv6 } from '../mh/index.ts';
import type { DecodeError, MhMessage } from '../mh/index.ts';
import type { MhTransport, Peer, ReceivedMh } from '../transport/types.ts';

/**
 * One spelling per address so peers compare as strings: IPv4-mapped IPv6 becomes dotted
 * quad, IPv6 becomes RFC 5952 text; anything else (a name, a memory-hub label) is kept.
 */
export function normalizeAddress(a: string): string {
  const hit = cache.get(a);
  if (hit !== undefined) return hit;
  const n = normalize(a);
  if (cache.size >= 4096) cache.clear(); // peers are few; this only bounds a flood of sources
  cache.set(a, n);
  return n;
}

const cache = new Map<string, string>();

function normalize(a: string): string {
  if (isIPv4(a)) return a;
  if (isIPv6(a)) {
    const lower = a.toLowerCase();
    if (lower.startsWith('::ffff:') && isIPv4(lower.slice(7))) return lower.slice(7);
    try {
      return ipv6ToString(parseIpv6(lower));
    } catch {
      return lower;
    }
  }
  return a;
}

export interface MagPathHandlers {
  message(msg: MhMessage, from: Peer, raw: ReceivedMh): void;
  decodeError(error: DecodeError, from: Peer): void;
  encodeError(error: Error, msg: MhMessage): void;
}

export class MagPath {
  constructor(
    private readonly transport: MhTransport,
    private readonly handlers: MagPathHandlers,
  ) {}

  start(): void {
    this.transport.onReceive((m) => this.receive(m));
  }

  /** Encodes and sends; false when the message could not be encoded (counted by the caller). */
  send(msg: MhMessage, to: Peer): boolean {
    let data: Buffer;
    try {
      data = encodeMessage(msg);
    } catch (e) {
      this.handlers.encodeError(e as Error, msg);
      return false;
    }
    this.transport.send(data, to);
    return true;
  }

  private receive(m: ReceivedMh): void {
    const from: Peer = { address: normalizeAddress(m.from.address), port: m.from.port };
    const r = decodeMessage(m.data, { zeroCopy: true });
    if (r.ok) {
      this.handlers.message(r.msg, from, m);
      return;
    }
    this.handlers.decodeError(r.error, from);
    // RFC 6275 §9.2: Payload Proto not 59, or Header Len wrong: SHOULD send ICMP Parameter Problem.
    const { code, offset } = r.error;
    if ((code === 'bad-payload-proto' || code === 'bad-header-len') && offset !== undefined) this.transport.parameterProblem?.(m, offset);
  }

  localAddress(): Peer {
    return this.transport.localAddress();
  }
}
