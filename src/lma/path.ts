// Transport glue (open5gs "path"): receive -> decode -> dispatch, and encode -> send.
// Carriage rules: over IPv4/UDP the MH checksum is 0 and ignored (RFC 5844 §4); over raw
// IPv6 the kernel computes and checks it (IPV6_CHECKSUM, see DESIGN.md); replies go to the
// request's source address and port, from the address the request was sent to
// (RFC 5213 §5.3.6, RFC 5844 §4.1.3.2). Malformed input is counted per cause and dropped
// (logged once per cause and peer); a wrong Payload Proto or Header Len also gets an ICMPv6
// Parameter Problem where the transport can send one (raw IPv6, RFC 6275 §9.2); nothing a
// peer sends can throw out of here.
import { decodeMessage, encodeMessage, encodeMessageInto, isPbu, MH_BU, MH_MAX_LENGTH } from '../mh/index.ts';
import { canonicalSource } from './sender.ts';
import type { MhMessage } from '../mh/index.ts';
import type { MhTransport, Peer, ReceivedMh } from '../transport/types.ts';
import { buildBindingError } from './build.ts';
import type { LmaContext } from './context.ts';
import type { DropCause, TxType } from './counters.ts';
import type { LogOnce } from '../util/log-once.ts';
import type { HeartbeatManager } from './heartbeat.ts';
import { handlePbu } from './handle.ts';
import type { ApplyContext } from './apply.ts';
import { parsePbu, peerKeyOf } from './pbu.ts';
import type { Revocations } from './revoke.ts';

export interface PathContext extends ApplyContext {
  readonly heartbeat: HeartbeatManager;
  readonly revocations: Revocations;
  /** LMAA to use when the transport does not tell the local address. */
  lmaaFor(carriage: string): string;
  /** Logs the first drop of each cause from each peer. */
  readonly dropLog: LogOnce;
}

/** Counts a dropped datagram under `cause` and logs it the first time for this peer. */
function drop(ctx: PathContext, cause: DropCause, m: ReceivedMh, fields?: Record<string, unknown>): void {
  ctx.counters.dropped[cause]++;
  ctx.dropLog.warn(cause, m.from.port !== undefined ? `${m.from.address}#${m.from.port}` : m.from.address, { carriage: m.carriage, ...fields });
}

/** RFC 6275 §9.2 asks Binding Errors to be rate-limited: a token bucket. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(private readonly ratePerS: number, now: number) {
    this.tokens = ratePerS;
    this.last = now;
  }
  take(now: number): boolean {
    if (!this.has(now)) return false;
    this.tokens -= 1;
    return true;
  }
  /** Whether a token is there (refills, takes nothing). */
  has(now: number): boolean {
    this.tokens = Math.min(this.ratePerS, this.tokens + ((now - this.last) * this.ratePerS) / 1000);
    this.last = now;
    return this.tokens >= 1;
  }
}

export function sendMessage(ctx: LmaContext, t: MhTransport, msg: MhMessage, to: Peer, from: string | undefined, tx: TxType): void {
  try {
    // Checksum 0: UDP (RFC 5844 §4) or left to the kernel (raw IPv6). Where the transport can,
    // the MH is encoded straight into its outgoing batch (no Buffer per message).
    if (t.sendInto !== undefined) t.sendInto(encodeMessageInto, msg, to, from);
    else t.send(encodeMessage(msg), to, from);
  } catch (e) {
    // Only the encoder throws here (a transport reports its own errors through onError).
    ctx.counters.dropped['unencodable-reply']++;
    ctx.log.warn({ err: e, type: msg.type, to: to.address }, 'could not encode a reply; not sent');
    return;
  }
  ctx.counters.tx[tx]++;
}

/**
 * RFC 5213 §5.5: a PBU's timestamp is judged against "the current time ... when the message
 * is received". With the kernel's receive stamp (ReceivedMh.queuedMs) that is when it reached
 * the socket, not when this loop got to read it: a stall of the event loop longer than
 * TimestampValidityWindow while PBUs wait in the socket buffer is no clock skew of the MAG.
 */
export function arrivedAt(now: number, m: ReceivedMh): number {
  const q = m.queuedMs;
  return q !== undefined && q > 0 ? now - q : now;
}

export function receive(ctx: PathContext, t: MhTransport, m: ReceivedMh, beBucket: TokenBucket): void {
  const c = ctx.counters;
  try {
    if (m.data.length > MH_MAX_LENGTH) {
      drop(ctx, 'oversized', m);
      return;
    }
    // One clock read per BU, for the refusal rate and its arrival time (RFC 5213 §5.5).
    const bu = m.data.length > 2 && m.data[2] === MH_BU;
    const now = bu ? ctx.clock.now() : 0;
    // A BU from a source that is no provisioned MAG, while its 154 would be over the reply rate:
    // counted and dropped before decoding, so a flood costs a map lookup per datagram (issue 9).
    if (bu && ctx.mags !== undefined && !ctx.refusals.has(now)) {
      if (ctx.mags.bySource(canonicalSource(m.from.address)) === undefined) {
        c.rx.pbu++;
        c.refused['unknown-source']++;
        c.dropped['refusal-rate-limited']++;
        return;
      }
    }
    const res = decodeMessage(m.data, { zeroCopy: true });
    if (!res.ok) {
      // Counted per cause, e.g. 'bad-option-value' for an HNP with a Prefix Length over 128:
      // nothing a PBA could echo (RFC 5213 §8.3), so dropped without an answer.
      const { code, offset } = res.error;
      drop(ctx, code, m, { reason: res.error.reason });
      // RFC 6275 §9.2: Payload Proto not 59, or Header Len wrong: SHOULD send ICMP Parameter Problem.
      if ((code === 'bad-payload-proto' || code === 'bad-header-len') && offset !== undefined) t.parameterProblem?.(m, offset);
      return;
    }
    const msg = res.msg;
    switch (msg.type) {
      case 'bu':
        if (!isPbu(msg)) {
          c.rx.bu++;
          drop(ctx, 'bu-not-proxy', m);
          return;
        }
        c.rx.pbu++;
        handlePbu(ctx, parsePbu(msg, { t, from: m.from, local: m.local, carriage: m.carriage, lmaa: ctx.lmaaFor(m.carriage) }, arrivedAt(now, m)));
        return;
      case 'heartbeat':
        ctx.heartbeat.onHeartbeat(msg, m, t);
        return;
      case 'bra':
        ctx.revocations.onBra(msg, m);
        return;
      case 'bri':
        ctx.revocations.onBri(msg, m, t);
        return;
      case 'be': {
        c.rx.be++;
        // RFC 6275 §9.2 status 2 from a MAG: it does not know what we sent (heartbeat or BRI).
        const peer = ctx.cache.peers.get(peerKeyOf(m.from));
        if (!peer || msg.status !== 2) {
          drop(ctx, 'unexpected-be', m);
          return;
        }
        if (peer.brisOutstanding > 0) ctx.revocations.unsupportedBy(peer);
        else if (peer.hbOutstanding) ctx.heartbeat.unsupportedBy(peer);
        else drop(ctx, 'unexpected-be', m);
        return;
      }
      case 'ba':
        c.rx.pba++;
        drop(ctx, 'unexpected-ba', m);
        return;
      case 'unknown':
        // RFC 6275 §9.2: unrecognised MH Type -> Binding Error status 2, rate-limited.
        c.rx.unknown++;
        if (!beBucket.take(ctx.clock.now())) {
          drop(ctx, 'be-rate-limited', m);
          return;
        }
        sendMessage(ctx, t, buildBindingError(2), m.from, m.local, 'be');
        return;
    }
  } catch (e) {
    c.dropped['internal-error']++;
    ctx.log.error({ err: e, from: m.from.address }, 'internal error while handling a Mobility Header');
  }
}
