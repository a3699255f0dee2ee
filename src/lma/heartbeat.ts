// RFC 5847 heartbeat at the LMA: answer every request with our Restart Counter (§3.3,
// §3.4), send requests every HEARTBEAT_INTERVAL to MAGs holding active BCEs, count missed
// responses against MISSING_HEARTBEATS_ALLOWED (§3.1) and notice a MAG's Restart Counter
// changing (§3.2). One timer for all peers.
import { HeartbeatFlag, getOption } from '../mh/index.ts';
import type { Heartbeat } from '../mh/index.ts';
import type { MhTransport, ReceivedMh } from '../transport/types.ts';
import type { TimerHandle } from '../util/clock.ts';
import { buildHeartbeat } from './build.ts';
import { F } from './bce.ts';
import type { MagPeer } from './bce.ts';
import type { LmaContext } from './context.ts';
import { peerKeyOf } from './pbu.ts';
import type { PeerEventKind } from './types.ts';

export class HeartbeatManager {
  private timer: TimerHandle | null = null;
  constructor(private readonly ctx: LmaContext) {}

  start(): void {
    if (this.ctx.cfg.heartbeatIntervalMs > 0 && this.timer === null) this.arm();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private arm(): void {
    this.timer = this.ctx.clock.setTimer(this.ctx.cfg.heartbeatIntervalMs, () => {
      this.timer = null;
      try {
        this.tick();
      } finally {
        this.arm();
      }
    });
  }

  /** §3.1: one request per interval to each MAG with BCEs; an unanswered previous one counts as missed. */
  tick(): void {
    const { ctx } = this;
    for (const peer of ctx.cache.peers.values()) {
      if (peer.count === 0 || peer.hbUnsupported) continue;
      if (peer.hbOutstanding) {
        peer.missing++;
        ctx.counters.heartbeat.missed++;
        if (peer.missing > ctx.cfg.missingHeartbeatsAllowed && !peer.unreachable) {
          peer.unreachable = true;
          ctx.counters.heartbeat.peersUnreachable++;
          this.event('unreachable', peer);
        }
      }
      peer.hbSeq = (peer.hbSeq + 1) >>> 0;
      peer.hbOutstanding = true;
      ctx.send(peer.transport, buildHeartbeat(peer.hbSeq, false, ctx.restartCounter), peerAddr(peer), peer.local, 'heartbeat_request');
    }
  }

  onHeartbeat(msg: Heartbeat, m: ReceivedMh, t: MhTransport): void {
    const { ctx } = this;
    if ((msg.flags & HeartbeatFlag.R) === 0) {
      // §3.3: a node MUST answer every request, BCE or not.
      ctx.counters.rx.heartbeat_request++;
      ctx.send(t, buildHeartbeat(msg.seq, true, ctx.restartCounter), m.from, m.local, 'heartbeat_response');
      return;
    }
    ctx.counters.rx.heartbeat_response++;
    const peer = ctx.cache.peers.get(peerKeyOf(m.from));
    if (!peer) {
      ctx.counters.dropped['heartbeat-unmatched']++;
      return;
    }
    const rc = getOption(msg, 'restartCounter');
    if ((msg.flags & HeartbeatFlag.U) === 0) {
      if (!peer.hbOutstanding || msg.seq !== peer.hbSeq) {
        ctx.counters.dropped['heartbeat-unmatched']++;
        return;
      }
      peer.hbOutstanding = false;
      peer.missing = 0;
      if (peer.unreachable) {
        peer.unreachable = false;
        this.event('reachable', peer);
      }
    }
    // U = 1: the sequence number is ignored, only the counter matters (§3.2).
    if (rc) this.restartCounterSeen(peer, rc.counter);
  }

  /** §3.2: a different Restart Counter means the MAG restarted and lost its state. */
  private restartCounterSeen(peer: MagPeer, rc: number): void {
    const { ctx } = this;
    const prev = peer.restartCounter;
    peer.restartCounter = rc;
    if (prev < 0 || prev === rc) return;
    ctx.counters.heartbeat.peerRestarts++;
    const bces = ctx.cache.ofPeer(peer);
    for (const b of bces) b.flags |= F.PEER_RESTARTED;
    ctx.log.warn({ proxyCoa: peer.address, port: peer.port >= 0 ? peer.port : undefined, previousRestartCounter: prev, restartCounter: rc, bindings: bces.length }, 'MAG restarted');
    this.event('restarted', peer, { previousRestartCounter: prev, restartCounter: rc });
    if (ctx.cfg.deleteBindingsOnPeerRestart) {
      for (const b of bces) {
        ctx.serial.run(b.mnId, () => {
          if (ctx.cache.has(b) && b.peer === peer && b.flags & F.PEER_RESTARTED) return ctx.removeBce(b, 'deregistered', 'peer-restart');
        });
      }
    }
  }

  /** RFC 5847 §3: a Binding Error status 2 in answer to our request: never send it heartbeats again. */
  unsupportedBy(peer: MagPeer): void {
    if (peer.hbUnsupported) return;
    peer.hbUnsupported = true;
    peer.hbOutstanding = false;
    this.event('heartbeat-unsupported', peer);
  }

  private event(kind: PeerEventKind, peer: MagPeer, extra?: { previousRestartCounter?: number; restartCounter?: number }): void {
    const { ctx } = this;
    if (kind !== 'restarted') ctx.log.info({ event: `peer-${kind}`, proxyCoa: peer.address, port: peer.port >= 0 ? peer.port : undefined, bindings: peer.count }, `MAG ${kind}`);
    ctx.peerEvent({
      kind,
      at: ctx.clock.now(),
      address: peer.address,
      port: peer.port >= 0 ? peer.port : null,
      bindings: peer.count,
      ...extra,
    });
  }
}

export function peerAddr(peer: MagPeer): { address: string; port?: number } {
  return peer.port >= 0 ? { address: peer.address, port: peer.port } : { address: peer.address };
}
