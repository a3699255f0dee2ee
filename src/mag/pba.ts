// Receiving PBAs (RFC 5213 §6.9.1.2; RFC 5844 §3.2.3.2; RFC 5845 §5.1; RFC 6275 §11.7.3):
// match to the outstanding PBU, check the echoed options and timestamp, then apply the
// status: install forwarding on acceptance, retry or give up on rejection.
import { BaFlag, getOption, naiFromMnId } from '../mh/index.ts';
import type { BindingAck } from '../mh/index.ts';
import type { Peer } from '../transport/types.ts';
import { Gre, PbuKind, TimerKind } from './bul.ts';
import type { Bule, PbuKindValue } from './bul.ts';
import { echoMismatch, granted, ipv4Granted, missingOption, statusAction, timestampMatches } from './handle.ts';
import type { Granted } from './handle.ts';
import type { Mag } from './sm.ts';

/** Administrative blocks per MN (RFC 5213 §6.9.1.2 item 7, RFC 5844 §3.2.3.2). */
export const BLOCK_PROXY = 1; // 152
export const BLOCK_IPV4 = 2; // 170
export const BLOCK_IPV6 = 4; // 172

export class PbaHandler {
  constructor(private readonly m: Mag) {}

  onPba(ba: BindingAck, from: Peer): void {
    if ((ba.flags & BaFlag.P) === 0) {
      this.m.metrics.drop('notProxy');
      return;
    }
    // §6.9.1.2 item 5: match by MN-ID, then by sequence number.
    const mnId = naiFromMnId(getOption(ba, 'mnId'));
    if (!mnId) {
      this.m.metrics.drop('unmatched');
      return;
    }
    void this.m.serial(mnId, () => this.applyPba(ba, from, mnId));
  }

  private matchPba(ba: BindingAck, from: Peer, mnId: string): Bule | undefined {
    for (let b = this.m.bul.head(mnId); b; b = b.nextSession ?? undefined) {
      if (b.pendingKind === PbuKind.NONE || b.lma !== from.address) continue;
      if (ba.seq === b.pendingSeq || ba.seq === b.prevSeq) return b;
      // RFC 6275 §11.7.3: status 135 carries the LMA's last accepted sequence number.
      if (!this.m.config.timestampMode && ba.status === 135) return b;
    }
    return undefined;
  }

  private applyPba(ba: BindingAck, from: Peer, mnId: string): void | Promise<void> {
    const b = this.matchPba(ba, from, mnId);
    if (!b) {
      this.m.metrics.drop('unmatched');
      return;
    }
    const ts = this.m.config.timestampMode;
    const sent = {
      hi: b.pendingHi,
      att: b.att,
      mnLinkLayerId: b.mnLinkLayerId,
      timestamp: ts ? (ba.seq === b.prevSeq && ba.seq !== b.pendingSeq ? b.prevTs : b.pendingTs) : null,
    };
    const mismatch = echoMismatch(ba, sent);
    if (mismatch) {
      // §6.9.1.2 item 6: ignore, and do not retransmit until administrative action.
      this.m.metrics.drop('optionMismatch');
      b.cancelTimer();
      b.pendingKind = PbuKind.NONE;
      b.state = 'held';
      this.m.log.warn({ mnId, link: b.link, lma: b.lma, option: mismatch, event: 'held' }, 'PBA echo differs from the PBU; holding');
      this.m.failedEvent(mnId, b.link, b.lma, ba.status, 'option-mismatch');
      return;
    }
    const missing = ba.status < 128 ? missingOption(ba, sent, b.wantIpv6) : null;
    if (missing) {
      this.m.metrics.drop('optionMissing');
      this.m.log.warn({ mnId, lma: b.lma, option: missing }, 'accepted PBA without a required option; ignored (RFC 5213 §6.9.1.2)');
      return;
    }
    if (ba.status < 128 && !timestampMatches(ba, sent)) {
      this.m.metrics.drop('timestamp');
      return;
    }
    this.m.metrics.pbaStatus(ba.status);
    const kind = b.pendingKind;
    const hi = b.pendingHi;
    b.cancelTimer();
    b.pendingKind = PbuKind.NONE;
    b.lastStatus = ba.status;
    // §6.9.1.4: any answer ends a de-registration (a 157 here means a newer binding exists:
    // the MN is elsewhere, so there is nothing to reassert).
    if (kind === PbuKind.DEREG) return this.m.removeSession(b, () => this.m.deregisteredEvent(b, true));
    return this.onStatus(b, ba, kind, hi);
  }

  private onStatus(b: Bule, ba: BindingAck, kind: PbuKindValue, hi: number): void | Promise<void> {
    // §6.9.1.2 item 11: a rejected binding gets no forwarding. A refused re-registration first
    // removes what the refused family had, before any retry (issue 9).
    if (ba.status >= 128 && b.routes !== null && b.routes.length > 0) {
      return this.withdraw(b, statusAction(ba.status)).then(() => this.decideStatus(b, ba, kind, hi));
    }
    return this.decideStatus(b, ba, kind, hi);
  }

  /** Removes the forwarding a rejection refused: IPv4 only, IPv6 only, or all of it. */
  private async withdraw(b: Bule, action: ReturnType<typeof statusAction>): Promise<void> {
    const fwd = this.m.forwarding;
    if (action === 'retryWithoutIpv4' || action === 'retryDynamicIpv4') {
      const v4 = b.ipv4HoA ? `${b.ipv4HoA}/32` : null;
      if (v4 && b.tunnelId && b.routes) {
        const i = b.routes.indexOf(v4);
        if (i >= 0) {
          await this.m.deps.dataPlane.removeRoute(v4, b.tunnelId).catch(() => this.m.metrics.drop('dataplane'));
          b.routes.splice(i, 1);
        }
      }
    } else if (action === 'retryWithoutIpv6') {
      const keep = b.wantIpv6;
      b.wantIpv6 = false;
      await fwd.install(b).catch(() => this.m.metrics.drop('dataplane'));
      b.wantIpv6 = keep;
    } else {
      await fwd.uninstall(b);
    }
    this.m.log.info({ mnId: b.mnId, link: b.link, lma: b.lma, status: b.lastStatus, action }, 'binding refused: forwarding withdrawn (RFC 5213 §6.9.1.2)');
  }

  private decideStatus(b: Bule, ba: BindingAck, kind: PbuKindValue, hi: number): void | Promise<void> {
    const status = ba.status;
    const retry = (): void => {
      b.statusRetries--;
      this.m.sender.startPbu(b, kind, hi);
    };
    const canRetry = b.statusRetries > 0;
    const fail = (): Promise<void> => this.m.removeSession(b, () => this.m.failedEvent(b.mnId, b.link, b.lma, status, 'rejected'));
    switch (statusAction(status)) {
      case 'accept':
        return this.accept(b, ba, kind);
      case 'block':
        this.m.blocks.set(b.mnId, (this.m.blocks.get(b.mnId) ?? 0) | BLOCK_PROXY);
        return fail();
      case 'retryAllZeroHnp':
        if (!b.wantIpv6 || b.hnps.length === 0 || !canRetry) return fail();
        b.hnps = [];
        b.hnpsAssigned = false;
        return retry();
      case 'resync':
        if (!canRetry) return fail();
        return this.resync(b, kind, hi);
      case 'reregister': {
        if (!canRetry) return fail();
        // The PBA carries the LMA's time of day (§5.5). Our clock being behind the MAG that
        // registered last is the usual cause of a 157 right after a handoff: send the retry
        // with a timestamp just above the LMA's time, not a clock sync (only this one PBU).
        const lmaTs = getOption(ba, 'timestamp');
        if (lmaTs) b.tsFloor = lmaTs.value;
        return retry();
      }
      case 'retryWithGre':
        if (b.pendingGre || !canRetry) return fail();
        this.m.sender.requestGre(b);
        return retry();
      case 'retryWithoutIpv4':
        this.m.blocks.set(b.mnId, (this.m.blocks.get(b.mnId) ?? 0) | BLOCK_IPV4);
        b.clearIpv4();
        if (!b.wantIpv6 || !canRetry) return fail();
        return retry();
      case 'retryDynamicIpv4':
        if (!b.wantIpv4 || b.ipv4HoA === null || !canRetry) return fail();
        b.ipv4HoA = null;
        b.ipv4PrefixLen = 0;
        b.ipv4Assigned = false;
        return retry();
      case 'retryWithoutIpv6':
        this.m.blocks.set(b.mnId, (this.m.blocks.get(b.mnId) ?? 0) | BLOCK_IPV6);
        b.wantIpv6 = false;
        b.hnps = [];
        b.hnpsAssigned = false;
        if (!b.wantIpv4 || !canRetry) return fail();
        return retry();
      case 'resyncSequence':
        if (this.m.config.timestampMode || !canRetry) return fail();
        b.seq = ba.seq; // the next PBU uses the LMA's last accepted number + 1
        return retry();
      case 'fail':
        return fail();
    }
  }

  /** §6.9.1.2 item 9: re-register only after syncing to the domain's time source. */
  private resync(b: Bule, kind: PbuKindValue, hi: number): void {
    b.statusRetries--;
    b.beginPbu(kind, hi);
    const sync = this.m.deps.timeSync;
    if (!sync) {
      this.m.sender.arm(b, TimerKind.RESYNC, this.m.config.resyncDelayMs);
      return;
    }
    b.timerKind = TimerKind.RESYNC;
    sync().then(
      (ok) =>
        void this.m.serial(b.mnId, () => {
          if (!this.m.alive(b) || b.timer !== null || b.pendingKind !== kind || b.timerKind !== TimerKind.RESYNC) return;
          b.timerKind = TimerKind.NONE;
          if (ok) return this.m.sender.transmit(b);
          return this.m.removeSession(b, () => this.m.failedEvent(b.mnId, b.link, b.lma, 156, 'rejected'));
        }),
      () => this.m.sender.arm(b, TimerKind.RESYNC, this.m.config.resyncDelayMs),
    );
  }

  /** §6.9.1.2 items 12-15, RFC 5844 §3.2.3.2, RFC 5845 §5.1. */
  private async accept(b: Bule, ba: BindingAck, kind: PbuKindValue): Promise<void> {
    const g: Granted = granted(ba);
    if (g.lifetimeS === 0) {
      return this.m.removeSession(b, () => this.m.failedEvent(b.mnId, b.link, b.lma, ba.status, 'rejected'));
    }
    this.applyGre(b, ba.status, g);
    if (b.wantIpv6) {
      if (g.hnps.length > 0) b.hnps = g.hnps;
      b.hnpsAssigned = b.hnps.length > 0;
    }
    if (b.wantIpv4) {
      if (ipv4Granted(g) && g.ipv4) {
        b.ipv4HoA = g.ipv4.addr;
        b.ipv4PrefixLen = g.ipv4.prefixLen;
        b.ipv4Assigned = true;
        b.ipv4DefaultRouter = g.ipv4DefaultRouter;
        b.dhcpServer = g.dhcpServer;
      } else {
        // No reply, or a rejected reply: no IPv4 service for this MN (RFC 5844 §3.2.3.2).
        b.clearIpv4();
      }
    }
    if (g.linkLocal) b.magLinkLocal = g.linkLocal;
    b.udpEncap = g.udpEncap;
    const now = this.m.clock.now();
    b.grantedS = g.lifetimeS;
    b.acceptedAt = now;
    b.expiresAt = now + g.lifetimeS * 1000;
    b.state = 'registered';
    b.statusRetries = this.m.config.maxStatusRetries;
    try {
      await this.m.forwarding.install(b);
    } catch (e) {
      this.m.metrics.drop('dataplane');
      this.m.log.error({ mnId: b.mnId, link: b.link, err: (e as Error)?.message }, 'data plane set-up failed; de-registering');
      this.m.failedEvent(b.mnId, b.link, b.lma, ba.status, 'dataplane');
      this.m.sender.deregister(b);
      return;
    }
    this.m.sender.arm(b, TimerKind.REFRESH, g.lifetimeS * 1000 * this.m.config.refreshRatio);
    const ipv4HoA = b.wantIpv4 ? b.ipv4HoA : null;
    const hnps = b.wantIpv6 ? b.hnps.slice() : [];
    if (kind === PbuKind.INITIAL) {
      this.m.metrics.binding('registered');
      this.m.log.info(
        { event: 'registered', mnId: b.mnId, link: b.link, lma: b.lma, hnps, ipv4HoA, lifetimeS: g.lifetimeS, hi: b.handoffIndicator, status: ba.status },
        'binding registered',
      );
      this.m.emit({ type: 'registered', mnId: b.mnId, link: b.link, lma: b.lma, hnps, ipv4HoA, lifetimeS: g.lifetimeS, handoffIndicator: b.handoffIndicator });
    } else {
      this.m.metrics.binding('refreshed');
      this.m.log.debug({ event: 'refreshed', mnId: b.mnId, link: b.link, lma: b.lma, lifetimeS: g.lifetimeS }, 'binding refreshed');
      this.m.emit({ type: 'refreshed', mnId: b.mnId, link: b.link, lma: b.lma, hnps, ipv4HoA, lifetimeS: g.lifetimeS });
    }
  }

  /** RFC 5845 §5.1 on an accepted PBA. */
  private applyGre(b: Bule, status: number, g: Granted): void {
    if (status === 2) {
      // GRE_KEY_OPTION_NOT_REQUIRED: no GRE for this session; do not send the option again.
      b.gre = Gre.OFF;
      b.greRefused = true;
      b.greKeyUp = null;
    } else if (b.pendingGre) {
      if (g.greKey === undefined) {
        // Success without the option: the LMA does not support it; stop offering it there.
        const peer = this.m.heartbeats.peers.get(b.lma);
        if (peer) peer.greSupported = false;
        b.gre = Gre.OFF;
        b.greKeyUp = null;
      } else {
        b.gre = Gre.ACTIVE;
        b.greKeyUp = g.greKey;
      }
    }
  }
}
