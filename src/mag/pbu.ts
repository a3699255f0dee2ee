// Sending PBUs and the per-entry timer (RFC 5213 §6.9.1.1-§6.9.1.5, §6.9.4; RFC 6275 §11.8):
// building from the BULE, sequence numbers and timestamps, the MAX_UPDATE_RATE cap, the
// retransmission back-off, refresh before expiry and de-registration timeouts.
import { HandoffIndicator, secondsToLifetime, timestampFromMs } from '../mh/index.ts';
import type { MhMessage } from '../mh/index.ts';
import { Gre, PbuKind, TimerKind } from './bul.ts';
import type { Bule, PbuKindValue, TimerKindValue } from './bul.ts';
import { buildPbu, pbuFlags } from './build.ts';
import type { Mag } from './sm.ts';

export class PbuSender {
  private readonly flags: number;
  private seqCounter: number;
  /** Last Timestamp option value sent: each PBU's is strictly greater (RFC 5213 §5.5). */
  private lastTs = 0n;
  private greKeyCounter: number;

  constructor(private readonly m: Mag) {
    const c = m.config;
    this.flags = pbuFlags({ homeRegistration: c.homeRegistrationFlag, forceUdp: c.forceUdpEncapsulation });
    this.seqCounter = (c.initialSeq ?? Math.floor(Math.random() * 0x10000)) & 0xffff;
    this.greKeyCounter = (Math.random() * 0x7fffffff) >>> 0;
  }

  /** §6.9.1.4: lifetime 0, HI 4, every assigned HNP (and the IPv4 HoA, RFC 5844 §3.2.3.3). */
  deregister(b: Bule): void {
    b.state = 'deregistering';
    this.startPbu(b, PbuKind.DEREG, HandoffIndicator.UNKNOWN);
  }

  /* ---------------------------------------------------------------------- */
  /* Sending PBUs (RFC 5213 §6.9.1.5, §6.9.4; RFC 6275 §11.8)                 */
  /* ---------------------------------------------------------------------- */

  startPbu(b: Bule, kind: PbuKindValue, hi: number): void {
    b.cancelTimer();
    b.beginPbu(kind, hi);
    this.transmit(b);
  }

  /** Sends (or re-sends) the outstanding PBU with a fresh timestamp / sequence number. */
  transmit(b: Bule): void {
    const now = this.m.clock.now();
    // RFC 6275 §11.8 MAX_UPDATE_RATE, applied per mobility session (the MAG is many MNs' proxy).
    if (now - b.windowStart >= 1000) {
      b.windowStart = now;
      b.windowCount = 0;
    }
    if (b.windowCount >= this.m.config.maxUpdateRate) {
      this.m.counters.rateLimited++;
      this.arm(b, TimerKind.SEND, b.windowStart + 1000 - now);
      return;
    }
    b.windowCount++;
    const dereg = b.pendingKind === PbuKind.DEREG;
    const ts = this.m.config.timestampMode;
    // §6.9.1.1 item 6: timestamp mode uses a per-MAG counter (only to match the PBA);
    // sequence mode a per-session number, greater on every retransmission (§6.9.4 item 4).
    if (b.pendingSeq >= 0) {
      b.prevSeq = b.pendingSeq;
      b.prevTs = b.pendingTs;
    }
    const seq = ts ? (this.seqCounter = (this.seqCounter + 1) & 0xffff) : (b.seq + 1) & 0xffff;
    b.seq = seq;
    b.pendingSeq = seq;
    b.pendingTs = ts ? this.nextTimestamp(this.m.clock.nowPrecise?.() ?? now, b.tsFloor) : 0n;
    b.tsFloor = null;
    b.pendingGre = !dereg && b.gre !== Gre.OFF && !b.greRefused;
    let msg: MhMessage;
    try {
      msg = buildPbu({
        seq,
        flags: this.flags,
        lifetime: dereg ? 0 : secondsToLifetime(this.m.config.lifetimeS),
        mnId: b.mnId,
        hnps: b.wantIpv6 ? b.hnps : null,
        hi: b.pendingHi,
        att: b.att,
        timestamp: ts ? b.pendingTs : null,
        mnLinkLayerId: b.mnLinkLayerId,
        linkLocal: this.linkLocalOption(b),
        ipv4: b.wantIpv4 ? { addr: b.ipv4HoA, prefixLen: b.ipv4PrefixLen } : null,
        greKey: b.pendingGre ? b.greKeyDown : undefined,
      });
    } catch (e) {
      this.m.metrics.drop('encode');
      this.m.log.error({ mnId: b.mnId, err: (e as Error).message }, 'cannot build PBU');
      void this.m.removeSession(b, () => this.m.failedEvent(b.mnId, b.link, b.lma, null, 'policy-error'));
      return;
    }
    if (this.m.path.send(msg, { address: b.lma, port: b.lmaPort })) this.m.metrics.sent('pbu');
    const timeout = dereg
      ? this.m.config.initialBindackTimeoutMs
      : Math.min(this.m.config.initialBindackTimeoutMs * 2 ** b.retries, this.m.config.maxBindackTimeoutMs);
    this.arm(b, TimerKind.RETX, timeout);
  }

  /**
   * The Timestamp option for a PBU sent at `now`: the time of day, but always above the last
   * one sent, so two PBUs for one MN within a clock tick still order (RFC 5213 §5.5: the LMA
   * answers 157 to a timestamp not greater than the last accepted). `floor` (the LMA's time
   * from a 157) raises this one PBU only, and never beyond now plus TimestampValidityWindow:
   * a peer's timestamp must not move the clock of every other binding (issue 9).
   */
  private nextTimestamp(now: number, floor: bigint | null): bigint {
    let t = timestampFromMs(now);
    if (t <= this.lastTs) t = this.lastTs + 1n;
    this.lastTs = t;
    if (floor !== null && t <= floor) {
      const cap = timestampFromMs(now + this.m.config.timestampValidityWindowMs);
      t = floor < cap ? floor + 1n : cap;
    }
    return t;
  }

  /** §6.9.1.1 item 9: the option only when FixedMAGLinkLocalAddressOnAllAccessLinks is ALL_ZERO. */
  private linkLocalOption(b: Bule): string | null {
    if (this.m.config.fixedMagLinkLocal !== '::') return null;
    return b.magLinkLocal ?? '::';
  }

  requestGre(b: Bule): void {
    b.gre = Gre.REQUESTED;
    b.greRefused = false;
    if (!b.greKeyDown) {
      this.greKeyCounter = (this.greKeyCounter + 1) >>> 0 || 1;
      b.greKeyDown = this.greKeyCounter;
    }
  }

  /* ---------------------------------------------------------------------- */
  /* Timers                                                                  */
  /* ---------------------------------------------------------------------- */

  arm(b: Bule, kind: TimerKindValue, ms: number): void {
    b.cancelTimer();
    b.timerKind = kind;
    const h = this.m.clock.setTimer(Math.max(0, ms), () => {
      if (b.timer !== h) return;
      b.timer = null;
      b.timerKind = TimerKind.NONE;
      void this.m.serial(b.mnId, () => this.onTimer(b, kind));
    });
    b.timer = h;
  }

  private onTimer(b: Bule, kind: TimerKindValue): void | Promise<void> {
    // Stale if the entry is gone, a newer timer was armed, or what it waited for is over.
    if (!this.m.alive(b) || b.timer !== null) return;
    switch (kind) {
      case TimerKind.SEND:
      case TimerKind.RESYNC:
        if (b.pendingKind === PbuKind.NONE) return;
        return this.transmit(b);
      case TimerKind.REFRESH:
        if (b.state !== 'registered') return;
        return this.refreshDue(b);
      case TimerKind.RETX:
        if (b.pendingKind === PbuKind.NONE) return;
        return this.retransmitDue(b);
    }
  }

  /** §6.9.1.3 + §6.13: re-register with HI 5 only if the MN is still there; else de-register. */
  private refreshDue(b: Bule): void {
    if (!this.stillAttached(b)) return this.deregister(b);
    b.state = 'refreshing';
    this.startPbu(b, PbuKind.REFRESH, HandoffIndicator.NOT_CHANGED);
  }

  /** No PBA within the timeout (RFC 5213 §6.9.4, §6.9.1.4). */
  private retransmitDue(b: Bule): void | Promise<void> {
    if (b.pendingKind === PbuKind.DEREG) {
      if (b.retries < this.m.config.deregRetransmissions) return this.retransmit(b);
      return this.m.removeSession(b, () => this.m.deregisteredEvent(b, false));
    }
    // §6.9.4 item 2: retransmit only while the MN is still attached.
    if (!this.stillAttached(b)) return this.deregister(b);
    if (b.retries >= this.m.config.maxRetransmissions) {
      return this.m.removeSession(b, () => this.m.failedEvent(b.mnId, b.link, b.lma, null, 'timeout'));
    }
    if (b.pendingKind === PbuKind.REFRESH && b.hasBinding() && this.m.clock.now() >= b.expiresAt) {
      // The binding ran out while we were refreshing: stop forwarding (RFC 5844 §3.2.3.3 last
      // bullet; RFC 5213 §6.9.1.2 item 11), keep trying to register.
      return this.m.forwarding.uninstall(b).then(() => {
        b.acceptedAt = 0;
        b.state = 'registering';
        this.m.log.info({ mnId: b.mnId, link: b.link, lma: b.lma, event: 'expired' }, 'binding expired while refreshing');
        this.retransmit(b);
      });
    }
    this.retransmit(b);
  }

  private retransmit(b: Bule): void {
    b.retries++;
    b.retransmissionsTotal++;
    this.m.metrics.retransmission();
    this.transmit(b);
  }

  stillAttached(b: Bule): boolean {
    if (!b.attached) return false;
    return this.m.detector?.isAttached?.(b.mnId, b.link) ?? true;
  }

}
