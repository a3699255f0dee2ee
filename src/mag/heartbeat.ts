// RFC 5847 heartbeats on the MAG side: one LmaPeer per LMA we talk to, a single timer for
// all of them. We answer every request with our Restart Counter (§3), send requests every
// HEARTBEAT_INTERVAL only to LMAs that hold bindings for us (§3), count missing responses
// (§3.1) and compare the LMA's Restart Counter (§3.2). A Binding Error status 2 in reply
// stops heartbeats to that LMA for good (§3).
import { HeartbeatFlag, getOption } from '../mh/index.ts';
import type { Heartbeat, MhMessage } from '../mh/index.ts';
import type { Peer } from '../transport/types.ts';
import type { Clock, TimerHandle } from '../util/clock.ts';
import { buildHeartbeat } from './build.ts';
import type { LmaPeerInfo } from './types.ts';

export class LmaPeer {
  hbSeq: number;
  /** Sequence number of the unanswered request, or -1. */
  outstanding = -1;
  missing = 0;
  reachable = true;
  restartCounter: number | null = null;
  heartbeatSupported = true;
  /** RFC 5845 §5.1: a success PBA without the GRE Key option: stop offering GRE to this LMA. */
  greSupported = true;

  constructor(
    readonly address: string,
    readonly port: number,
    seq: number,
  ) {
    this.hbSeq = seq >>> 0;
  }

  info(): LmaPeerInfo {
    return {
      address: this.address,
      port: this.port,
      reachable: this.reachable,
      restartCounter: this.restartCounter,
      missingHeartbeats: this.missing,
      heartbeatSupported: this.heartbeatSupported,
      greSupported: this.greSupported,
    };
  }
}

export interface HeartbeatHost {
  clock: Clock;
  intervalS: number;
  missingAllowed: number;
  restartCounter(): number;
  send(msg: MhMessage, to: Peer, kind: 'heartbeatRequest' | 'heartbeatResponse'): void;
  /** LMA addresses with at least one accepted binding (RFC 5847 §3: only those get requests). */
  lmasWithBindings(): Set<string>;
  restarted(peer: LmaPeer, previous: number): void;
  unreachable(peer: LmaPeer): void;
  reachableAgain(peer: LmaPeer): void;
  /** A response we cannot match (counted as a drop). */
  stale(cause: 'unknownPeer' | 'staleHeartbeat'): void;
}

export class Heartbeats {
  readonly peers = new Map<string, LmaPeer>();
  private timer: TimerHandle | null = null;

  constructor(private readonly host: HeartbeatHost) {}

  peer(address: string, port: number): LmaPeer {
    let p = this.peers.get(address);
    if (!p) this.peers.set(address, (p = new LmaPeer(address, port, (Math.random() * 0x100000000) >>> 0)));
    return p;
  }

  start(): void {
    if (this.host.intervalS > 0 && !this.timer) this.arm();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private arm(): void {
    this.timer = this.host.clock.setTimer(this.host.intervalS * 1000, () => {
      this.timer = null;
      this.tick();
      this.arm();
    });
  }

  /** One HEARTBEAT_INTERVAL: account for unanswered requests, then send new ones. */
  tick(): void {
    const active = this.host.lmasWithBindings();
    for (const address of active) {
      const p = this.peers.get(address);
      if (!p || !p.heartbeatSupported) continue;
      if (p.outstanding >= 0) {
        // §3.1: before the next request, count the one that got no response.
        p.missing++;
        if (p.missing > this.host.missingAllowed && p.reachable) {
          p.reachable = false;
          this.host.unreachable(p);
        }
      }
      p.hbSeq = (p.hbSeq + 1) >>> 0;
      p.outstanding = p.hbSeq;
      this.host.send(buildHeartbeat(p.hbSeq, false), { address: p.address, port: p.port }, 'heartbeatRequest');
    }
  }

  /** A Heartbeat from `from` (already counted as received). */
  onHeartbeat(hb: Heartbeat, from: Peer): void {
    if ((hb.flags & HeartbeatFlag.R) === 0) {
      // §3: a node MUST answer every request, binding or not. Reply to the source address and port.
      this.host.send(buildHeartbeat(hb.seq, true, this.host.restartCounter()), from, 'heartbeatResponse');
      return;
    }
    const p = this.peers.get(from.address);
    if (!p) {
      this.host.stale('unknownPeer');
      return;
    }
    const unsolicited = (hb.flags & HeartbeatFlag.U) !== 0;
    if (!unsolicited) {
      // §3.1: responses are matched to requests by sequence number.
      if (p.outstanding < 0 || hb.seq !== p.outstanding) {
        this.host.stale('staleHeartbeat');
        return;
      }
      p.outstanding = -1;
      p.missing = 0;
      if (!p.reachable) {
        p.reachable = true;
        this.host.reachableAgain(p);
      }
    }
    // §3.2: a changed Restart Counter means the LMA restarted and lost its binding cache. An
    // unsolicited response (U = 1) is sent only by a node that "restarts and loses PMIPv6
    // session state": it announces the restart even when we had not learnt the old counter yet.
    const rc = getOption(hb, 'restartCounter');
    if (rc) {
      const previous = p.restartCounter;
      p.restartCounter = rc.counter;
      if (previous !== null ? previous !== rc.counter : unsolicited) this.host.restarted(p, previous ?? -1);
    }
  }

  /** Binding Error status 2 from a peer we have a request outstanding with (§3). */
  onUnrecognizedType(from: Peer): boolean {
    const p = this.peers.get(from.address);
    if (!p || p.outstanding < 0) return false;
    p.heartbeatSupported = false;
    p.outstanding = -1;
    return true;
  }

  /**
   * RFC 5847 §3.2: after a restart that lost state, tell former peers at once with an
   * unsolicited response (U=1) carrying our new Restart Counter.
   */
  announceRestart(peers: Peer[]): void {
    for (const to of peers) {
      const hb = buildHeartbeat(0, true, this.host.restartCounter());
      hb.flags |= HeartbeatFlag.U;
      this.host.send(hb, to, 'heartbeatResponse');
    }
  }
}
