// The MAG registration state machine (RFC 5213 §6.9, RFC 6275 §11.8, RFC 5844 §3.2,
// RFC 5845 §5.1, RFC 5847, RFC 5846 §9.1). Pure: the clock, transport, data plane, policy
// source, attach detector and event sink are injected (../shared/DESIGN.md).
//
// Per BULE:  registering --PBA 0--> registered --refresh timer--> refreshing --PBA 0--> registered
//            any --detach / presence lost--> deregistering --PBA or INITIAL_BINDACK_TIMEOUT--> (gone)
//            registering/refreshing --PBA >= 128 or retransmissions exhausted--> (gone, "failed")
//            registering/refreshing --PBA with mismatching echo--> held (until adminReset)
// Everything that touches one MN (attach, detach, PBA, its timers, revocation) runs through
// `serial(mnId)`, so events for the same MN apply in arrival order even across awaits.
import { isIPv4 } from 'node:net';
import {
  BaFlag,
  HandoffIndicator,
  getOption,
  naiFromMnId,
  parseIpv4,
  parsePrefix,
  prefixToString,
  secondsToLifetime,
  timestampFromMs,
} from '../mh/index.ts';
import type { BindingAck, MhMessage } from '../mh/index.ts';
import type { AttachDetachEvent, AttachDetector, AttachEvent, DetachEvent } from '../attach/types.ts';
import type { DataPlane, TunnelSpec } from '../dataplane/types.ts';
import { allowsIpv4, allowsIpv6 } from '../policy/profile.ts';
import type { Profile } from '../policy/profile.ts';
import type { MagPolicySource } from '../policy/source.ts';
import type { Peer } from '../transport/types.ts';
import type { Clock } from '../util/clock.ts';
import { logger } from '../util/log.ts';
import type { Logger } from '../util/log.ts';
import { Bul, Bule, Gre, PbuKind, TimerKind } from './bul.ts';
import type { PbuKindValue, TimerKindValue } from './bul.ts';
import { buildPbu, buildUnknownTypeError, pbuFlags } from './build.ts';
import { echoMismatch, granted, ipv4Granted, statusAction, timestampMatches } from './handle.ts';
import type { Granted } from './handle.ts';
import { Heartbeats } from './heartbeat.ts';
import type { LmaPeer } from './heartbeat.ts';
import { MagMetrics } from './metrics.ts';
import { MagPath, normalizeAddress } from './path.ts';
import { handleBri } from './revoke.ts';
import { TunnelTable, tunnelKey } from './tunnels.ts';
import { newMagCounters, resolveMagConfig } from './types.ts';
import type { MagBulView, MagConfig, MagConfigInput, MagCounters, MagDeps, MagEvent, MagFailReason } from './types.ts';
import { createView } from './view.ts';

/** Administrative blocks per MN (RFC 5213 §6.9.1.2 item 7, RFC 5844 §3.2.3.2). */
const BLOCK_PROXY = 1; // 152
const BLOCK_IPV4 = 2; // 170
const BLOCK_IPV6 = 4; // 172

export class Mag {
  readonly config: MagConfig;
  readonly counters: MagCounters;
  readonly view: MagBulView;
  /** @internal shared with revoke.ts / view.ts */
  readonly bul = new Bul();
  /** @internal */
  readonly metrics: MagMetrics;
  /** @internal */
  readonly heartbeats: Heartbeats;
  /** @internal */
  readonly path: MagPath;
  /** @internal */
  readonly detector: AttachDetector | undefined;
  /** @internal */
  readonly log: Logger;
  private readonly clock: Clock;
  private readonly dp: DataPlane;
  private readonly policy: MagPolicySource;
  private readonly deps: MagDeps;
  private readonly tunnels: TunnelTable;
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly blocks = new Map<string, number>();
  private readonly proxyCoa: string;
  private readonly flags: number;
  private seqCounter: number;
  /** Last Timestamp option value sent: each PBU's is strictly greater (RFC 5213 §5.5). */
  private lastTs = 0n;
  private greKeyCounter: number;
  private started = false;
  private drainWaiters: (() => void)[] = [];

  constructor(config: MagConfigInput, deps: MagDeps) {
    this.config = resolveMagConfig(config);
    this.deps = deps;
    this.clock = deps.clock;
    this.dp = deps.dataPlane;
    this.policy = deps.policy;
    this.detector = deps.detector;
    this.log = (deps.log ?? logger('mag')).child({ mag: this.config.id });
    this.counters = newMagCounters();
    this.metrics = new MagMetrics(this.config.id, this.counters);
    this.tunnels = new TunnelTable(this.dp);
    this.proxyCoa = normalizeAddress(this.config.proxyCoa);
    this.flags = pbuFlags({ homeRegistration: this.config.homeRegistrationFlag, forceUdp: this.config.forceUdpEncapsulation });
    this.seqCounter = (this.config.initialSeq ?? Math.floor(Math.random() * 0x10000)) & 0xffff;
    this.greKeyCounter = (Math.random() * 0x7fffffff) >>> 0;
    this.path = new MagPath(deps.transport, {
      message: (msg, from) => this.onMessage(msg, from),
      decodeError: () => this.metrics.drop('decode'),
      encodeError: (e, msg) => {
        this.metrics.drop('encode');
        this.log.error({ err: e.message, type: msg.type }, 'cannot encode message');
      },
    });
    this.heartbeats = new Heartbeats({
      clock: this.clock,
      intervalS: this.config.heartbeatIntervalS,
      missingAllowed: this.config.missingHeartbeatsAllowed,
      restartCounter: () => this.config.restartCounter,
      send: (msg, to, kind) => {
        if (this.path.send(msg, to)) this.metrics.sent(kind);
      },
      lmasWithBindings: () => {
        const s = new Set<string>();
        for (const b of this.bul.entries()) if (b.hasBinding()) s.add(b.lma);
        return s;
      },
      restarted: (p, previous) => this.lmaRestarted(p, previous),
      unreachable: (p) => {
        this.metrics.lma('unreachable');
        this.log.warn({ lma: p.address, missing: p.missing }, 'LMA unreachable (RFC 5847 §3.1)');
        this.emit({ type: 'lmaUnreachable', lma: p.address, missing: p.missing });
      },
      reachableAgain: (p) => {
        this.log.info({ lma: p.address }, 'LMA reachable again');
        this.emit({ type: 'lmaReachable', lma: p.address });
      },
      stale: (cause) => this.metrics.drop(cause),
    });
    this.view = createView(this);
  }

  /* ---------------------------------------------------------------------- */
  /* Life cycle                                                              */
  /* ---------------------------------------------------------------------- */

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.path.start();
    this.metrics.register(() => this.bul.counts());
    if (this.detector) {
      this.detector.onEvent((e) => void this.handleEvent(e));
      await this.detector.start();
    }
    this.heartbeats.start();
    this.log.info({ proxyCoa: this.proxyCoa, defaultLma: this.config.defaultLma }, 'MAG started');
  }

  /**
   * Stops timers and the detector. With `deregister`, first sends a de-registration for every
   * binding (RFC 5213 §6.9.1.4) and waits until each is answered or timed out.
   */
  async stop(opts: { deregister?: boolean } = {}): Promise<void> {
    if (opts.deregister) {
      const all = [...this.bul.entries()];
      await Promise.all(all.map((b) => this.serial(b.mnId, () => this.detachSession(b))));
      await this.drained();
    }
    for (const b of this.bul.entries()) b.cancelTimer();
    this.heartbeats.stop();
    await this.detector?.stop();
    this.metrics.unregister();
    this.started = false;
  }

  /** Resolves once no work for any MN is queued (tests, orderly shutdown). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight.values()]);
  }

  /** Resolves once the Binding Update List is empty. */
  drained(): Promise<void> {
    if (this.bul.size() === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Administrative action (RFC 5213 §6.9.1.2 items 6-7, RFC 5844 §3.2.3.2): lifts the 152/170/172
   * blocks for an MN and resumes registration of its held sessions. Returns whether anything changed.
   */
  adminReset(mnId: string): Promise<boolean> {
    return this.serial(mnId, () => {
      let changed = this.blocks.delete(mnId);
      for (let b = this.bul.head(mnId); b; b = b.nextSession ?? undefined) {
        if (b.state !== 'held') continue;
        changed = true;
        const refresh = b.hasBinding();
        b.state = refresh ? 'refreshing' : 'registering';
        this.startPbu(b, refresh ? PbuKind.REFRESH : PbuKind.INITIAL, refresh ? HandoffIndicator.NOT_CHANGED : b.handoffIndicator);
      }
      return changed;
    }).then((v) => v ?? false);
  }

  /** RFC 5847 §3.2: after a restart that lost state, tell former LMAs (main/ remembers them). */
  announceRestart(lmas: Peer[]): void {
    this.heartbeats.announceRestart(lmas.map((p) => ({ address: normalizeAddress(p.address), port: p.port ?? this.config.lmaPort })));
  }

  /* ---------------------------------------------------------------------- */
  /* Attach / detach (RFC 5213 §6.9.1.1, §6.9.1.4, §6.13)                    */
  /* ---------------------------------------------------------------------- */

  handleEvent(e: AttachDetachEvent): Promise<void> {
    return e.kind === 'attach' ? this.attach(e) : this.detach(e);
  }

  /** An MN attached: resolves once its PBU is sent (or the attach was refused), not at the PBA. */
  attach(ev: AttachEvent): Promise<void> {
    return this.serial(ev.mnId, () => this.onAttach(ev));
  }

  /** An MN left its access link: de-registers its session on that link. */
  detach(ev: DetachEvent): Promise<void> {
    return this.serial(ev.mnId, () => this.onDetach(ev));
  }

  private onAttach(ev: AttachEvent): void | Promise<void> {
    const existing = this.bul.get(ev.mnId, ev.link);
    if (existing) return this.reattach(existing, ev);
    if ((this.blocks.get(ev.mnId) ?? 0) & BLOCK_PROXY) {
      this.metrics.drop('blocked');
      this.failedEvent(ev.mnId, ev.link, null, 152, 'blocked');
      return;
    }
    return this.policy.profile(ev.mnId).then(
      (p) => this.createSession(ev, p),
      (e: unknown) => {
        this.log.error({ mnId: ev.mnId, err: (e as Error)?.message }, 'policy lookup failed');
        this.failedEvent(ev.mnId, ev.link, null, null, 'policy-error');
      },
    );
  }

  private reattach(b: Bule, ev: AttachEvent): void {
    b.attached = true;
    if (ev.mnLinkLayerId) b.mnLinkLayerId = ev.mnLinkLayerId;
    if (b.state === 'deregistering') {
      // Back before the de-registration finished: register again (the LMA cancels a pending
      // BCE deletion on an accepted PBU with lifetime > 0, RFC 5213 §5.3.5).
      b.state = 'registering';
      b.handoffIndicator = ev.handoffIndicator ?? this.config.defaultHandoffIndicator;
      this.startPbu(b, PbuKind.INITIAL, b.handoffIndicator);
    } else if (b.state === 'held') {
      this.metrics.drop('blocked');
    }
    // registering / registered / refreshing: a repeated attach indication changes nothing.
  }

  private createSession(ev: AttachEvent, p: Profile | null): void {
    const { mnId, link } = ev;
    if (!p || !p.enabled) {
      this.metrics.drop('notEligible');
      this.failedEvent(mnId, link, null, null, 'not-eligible');
      return;
    }
    const lmaText = p.lma ?? this.config.defaultLma;
    if (!lmaText) {
      this.metrics.drop('notEligible');
      this.failedEvent(mnId, link, null, null, 'no-lma');
      return;
    }
    const lma = normalizeAddress(lmaText);
    const blocked = this.blocks.get(mnId) ?? 0;
    // RFC 5844 §3.2.3.1: the profile says which of IPv4/IPv6 the MN gets.
    let wantIpv6 = allowsIpv6(p);
    let wantIpv4 = this.config.requestIpv4 && allowsIpv4(p);
    if (!wantIpv6 && !wantIpv4) wantIpv6 = true; // nothing in the profile: let the LMA assign (ALL_ZERO HNP)
    if (blocked & BLOCK_IPV4) wantIpv4 = false;
    if (blocked & BLOCK_IPV6) wantIpv6 = false;
    const hnps: string[] = [];
    let ipv4HoA: string | null = null;
    try {
      if (wantIpv6) for (const h of p.hnps) {
        const q = parsePrefix(h);
        hnps.push(prefixToString(q.prefix, q.prefixLen));
      }
      if (wantIpv4 && p.ipv4HoA) ipv4HoA = ipv4Text(p.ipv4HoA);
    } catch (e) {
      this.metrics.drop('encode');
      this.log.error({ mnId, err: (e as Error).message }, 'profile has an unusable HNP or IPv4 HoA');
      this.failedEvent(mnId, link, lma, null, 'not-eligible');
      return;
    }
    if (!wantIpv6 && !wantIpv4) {
      this.metrics.drop('blocked');
      this.failedEvent(mnId, link, lma, null, 'blocked');
      return;
    }
    const hi = ev.handoffIndicator ?? this.config.defaultHandoffIndicator;
    const b = new Bule({
      mnId,
      link,
      mnLinkLayerId: ev.mnLinkLayerId ?? null,
      att: ev.accessTechType,
      lma,
      lmaPort: this.config.lmaPort,
      wantIpv6,
      hnps,
      wantIpv4,
      ipv4HoA,
      ipv4PrefixLen: ipv4HoA ? (p.ipv4PrefixLength ?? 32) : 0,
      handoffIndicator: hi,
      seq: (Math.random() * 0x10000) & 0xffff,
      statusRetries: this.config.maxStatusRetries,
    });
    const peer = this.heartbeats.peer(lma, this.config.lmaPort);
    const wantGre =
      this.config.greMode === 'always' || (this.config.greMode === 'profile' && p.greKeyPolicy !== 'none');
    if (wantGre && peer.greSupported) this.requestGre(b);
    this.bul.add(b);
    this.startPbu(b, PbuKind.INITIAL, hi); // §6.9.1.1 item 11: the BULE exists from the first PBU
  }

  private onDetach(ev: DetachEvent): void | Promise<void> {
    let b = this.bul.get(ev.mnId, ev.link);
    if (!b && ev.mnLinkLayerId) {
      for (let s = this.bul.head(ev.mnId); s; s = s.nextSession ?? undefined) {
        if (s.mnLinkLayerId === ev.mnLinkLayerId) b = s;
      }
    }
    if (!b) {
      this.metrics.drop('unknownMn');
      return;
    }
    return this.detachSession(b);
  }

  private detachSession(b: Bule): void | Promise<void> {
    b.attached = false;
    if (b.state === 'deregistering') return;
    if (b.state === 'held') return this.removeSession(b, () => this.deregisteredEvent(b, false));
    this.deregister(b);
  }

  /** §6.9.1.4: lifetime 0, HI 4, every assigned HNP (and the IPv4 HoA, RFC 5844 §3.2.3.3). */
  private deregister(b: Bule): void {
    b.state = 'deregistering';
    this.startPbu(b, PbuKind.DEREG, HandoffIndicator.UNKNOWN);
  }

  /* ---------------------------------------------------------------------- */
  /* Sending PBUs (RFC 5213 §6.9.1.5, §6.9.4; RFC 6275 §11.8)                 */
  /* ---------------------------------------------------------------------- */

  private startPbu(b: Bule, kind: PbuKindValue, hi: number): void {
    b.cancelTimer();
    b.pendingKind = kind;
    b.pendingHi = hi;
    b.retries = 0;
    b.pendingSeq = -1;
    b.prevSeq = -1;
    this.transmit(b);
  }

  /** Sends (or re-sends) the outstanding PBU with a fresh timestamp / sequence number. */
  private transmit(b: Bule): void {
    const now = this.clock.now();
    // RFC 6275 §11.8 MAX_UPDATE_RATE, applied per mobility session (the MAG is many MNs' proxy).
    if (now - b.windowStart >= 1000) {
      b.windowStart = now;
      b.windowCount = 0;
    }
    if (b.windowCount >= this.config.maxUpdateRate) {
      this.counters.rateLimited++;
      this.arm(b, TimerKind.SEND, b.windowStart + 1000 - now);
      return;
    }
    b.windowCount++;
    const dereg = b.pendingKind === PbuKind.DEREG;
    const ts = this.config.timestampMode;
    // §6.9.1.1 item 6: timestamp mode uses a per-MAG counter (only to match the PBA);
    // sequence mode a per-session number, greater on every retransmission (§6.9.4 item 4).
    if (b.pendingSeq >= 0) {
      b.prevSeq = b.pendingSeq;
      b.prevTs = b.pendingTs;
    }
    const seq = ts ? (this.seqCounter = (this.seqCounter + 1) & 0xffff) : (b.seq + 1) & 0xffff;
    b.seq = seq;
    b.pendingSeq = seq;
    b.pendingTs = ts ? this.nextTimestamp(now, b.tsFloor) : 0n;
    b.tsFloor = null;
    b.pendingGre = !dereg && b.gre !== Gre.OFF && !b.greRefused;
    let msg: MhMessage;
    try {
      msg = buildPbu({
        seq,
        flags: this.flags,
        lifetime: dereg ? 0 : secondsToLifetime(this.config.lifetimeS),
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
      this.metrics.drop('encode');
      this.log.error({ mnId: b.mnId, err: (e as Error).message }, 'cannot build PBU');
      void this.removeSession(b, () => this.failedEvent(b.mnId, b.link, b.lma, null, 'policy-error'));
      return;
    }
    if (this.path.send(msg, { address: b.lma, port: b.lmaPort })) this.metrics.sent('pbu');
    const timeout = dereg
      ? this.config.initialBindackTimeoutMs
      : Math.min(this.config.initialBindackTimeoutMs * 2 ** b.retries, this.config.maxBindackTimeoutMs);
    this.arm(b, TimerKind.RETX, timeout);
  }

  /**
   * The Timestamp option for a PBU sent at `now`: the time of day, but always above the last
   * one sent, so two PBUs for one MN within a clock tick still order (RFC 5213 §5.5: the LMA
   * answers 157 to a timestamp not greater than the last accepted), and above `floor` (the
   * LMA's time from a 157) when given.
   */
  private nextTimestamp(now: number, floor: bigint | null): bigint {
    let t = timestampFromMs(now);
    if (floor !== null && t <= floor) t = floor + 1n;
    if (t <= this.lastTs) t = this.lastTs + 1n;
    this.lastTs = t;
    return t;
  }

  /** §6.9.1.1 item 9: the option only when FixedMAGLinkLocalAddressOnAllAccessLinks is ALL_ZERO. */
  private linkLocalOption(b: Bule): string | null {
    if (this.config.fixedMagLinkLocal !== '::') return null;
    return b.magLinkLocal ?? '::';
  }

  private requestGre(b: Bule): void {
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

  private arm(b: Bule, kind: TimerKindValue, ms: number): void {
    b.cancelTimer();
    b.timerKind = kind;
    const h = this.clock.setTimer(Math.max(0, ms), () => {
      if (b.timer !== h) return;
      b.timer = null;
      b.timerKind = TimerKind.NONE;
      void this.serial(b.mnId, () => this.onTimer(b, kind));
    });
    b.timer = h;
  }

  private onTimer(b: Bule, kind: TimerKindValue): void | Promise<void> {
    // Stale if the entry is gone, a newer timer was armed, or what it waited for is over.
    if (!this.alive(b) || b.timer !== null) return;
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
      if (b.retries < this.config.deregRetransmissions) return this.retransmit(b);
      return this.removeSession(b, () => this.deregisteredEvent(b, false));
    }
    // §6.9.4 item 2: retransmit only while the MN is still attached.
    if (!this.stillAttached(b)) return this.deregister(b);
    if (b.retries >= this.config.maxRetransmissions) {
      return this.removeSession(b, () => this.failedEvent(b.mnId, b.link, b.lma, null, 'timeout'));
    }
    if (b.pendingKind === PbuKind.REFRESH && b.hasBinding() && this.clock.now() >= b.expiresAt) {
      // The binding ran out while we were refreshing: stop forwarding (RFC 5844 §3.2.3.3 last
      // bullet; RFC 5213 §6.9.1.2 item 11), keep trying to register.
      return this.uninstall(b).then(() => {
        b.acceptedAt = 0;
        b.state = 'registering';
        this.log.info({ mnId: b.mnId, link: b.link, lma: b.lma, event: 'expired' }, 'binding expired while refreshing');
        this.retransmit(b);
      });
    }
    this.retransmit(b);
  }

  private retransmit(b: Bule): void {
    b.retries++;
    b.retransmissionsTotal++;
    this.metrics.retransmission();
    this.transmit(b);
  }

  private stillAttached(b: Bule): boolean {
    if (!b.attached) return false;
    return this.detector?.isAttached?.(b.mnId, b.link) ?? true;
  }

  /* ---------------------------------------------------------------------- */
  /* Receiving                                                               */
  /* ---------------------------------------------------------------------- */

  private onMessage(msg: MhMessage, from: Peer): void {
    switch (msg.type) {
      case 'ba':
        this.metrics.received('pba');
        return this.onPba(msg, from);
      case 'heartbeat':
        this.metrics.received(msg.flags & 1 ? 'heartbeatResponse' : 'heartbeatRequest');
        return this.heartbeats.onHeartbeat(msg, from);
      case 'bri':
        this.metrics.received('bri');
        void handleBri(this, msg, from);
        return;
      case 'be':
        this.metrics.received('bindingError');
        // RFC 5847 §3: status 2 answering our heartbeat -> never send heartbeats there again.
        if (msg.status === 2 && this.heartbeats.onUnrecognizedType(from)) {
          this.log.info({ lma: from.address }, 'LMA does not support heartbeats (Binding Error 2)');
        }
        return;
      case 'unknown':
        // RFC 6275 §9.2: unrecognized MH Type -> Binding Error, status 2.
        this.metrics.received('other');
        this.metrics.drop('unexpectedType');
        if (this.path.send(buildUnknownTypeError(), from)) this.metrics.sent('bindingError');
        return;
      default:
        // A BU or a BRA: we are not an LMA and never send BRIs.
        this.metrics.received('other');
        this.metrics.drop('unexpectedType');
    }
  }

  private onPba(ba: BindingAck, from: Peer): void {
    if ((ba.flags & BaFlag.P) === 0) {
      this.metrics.drop('notProxy');
      return;
    }
    // §6.9.1.2 item 5: match by MN-ID, then by sequence number.
    const mnId = naiFromMnId(getOption(ba, 'mnId'));
    if (!mnId) {
      this.metrics.drop('unmatched');
      return;
    }
    void this.serial(mnId, () => this.applyPba(ba, from, mnId));
  }

  private matchPba(ba: BindingAck, from: Peer, mnId: string): Bule | undefined {
    for (let b = this.bul.head(mnId); b; b = b.nextSession ?? undefined) {
      if (b.pendingKind === PbuKind.NONE || b.lma !== from.address) continue;
      if (ba.seq === b.pendingSeq || ba.seq === b.prevSeq) return b;
      // RFC 6275 §11.7.3: status 135 carries the LMA's last accepted sequence number.
      if (!this.config.timestampMode && ba.status === 135) return b;
    }
    return undefined;
  }

  private applyPba(ba: BindingAck, from: Peer, mnId: string): void | Promise<void> {
    const b = this.matchPba(ba, from, mnId);
    if (!b) {
      this.metrics.drop('unmatched');
      return;
    }
    const ts = this.config.timestampMode;
    const sent = {
      hi: b.pendingHi,
      att: b.att,
      mnLinkLayerId: b.mnLinkLayerId,
      timestamp: ts ? (ba.seq === b.prevSeq && ba.seq !== b.pendingSeq ? b.prevTs : b.pendingTs) : null,
    };
    const mismatch = echoMismatch(ba, sent);
    if (mismatch) {
      // §6.9.1.2 item 6: ignore, and do not retransmit until administrative action.
      this.metrics.drop('optionMismatch');
      b.cancelTimer();
      b.pendingKind = PbuKind.NONE;
      b.state = 'held';
      this.log.warn({ mnId, link: b.link, lma: b.lma, option: mismatch, event: 'held' }, 'PBA echo differs from the PBU; holding');
      this.failedEvent(mnId, b.link, b.lma, ba.status, 'option-mismatch');
      return;
    }
    if (ba.status < 128 && !timestampMatches(ba, sent)) {
      this.metrics.drop('timestamp');
      return;
    }
    this.metrics.pbaStatus(ba.status);
    const kind = b.pendingKind;
    const hi = b.pendingHi;
    b.cancelTimer();
    b.pendingKind = PbuKind.NONE;
    b.lastStatus = ba.status;
    // §6.9.1.4: any answer ends a de-registration (a 157 here means a newer binding exists:
    // the MN is elsewhere, so there is nothing to reassert).
    if (kind === PbuKind.DEREG) return this.removeSession(b, () => this.deregisteredEvent(b, true));
    return this.onStatus(b, ba, kind, hi);
  }

  private onStatus(b: Bule, ba: BindingAck, kind: PbuKindValue, hi: number): void | Promise<void> {
    const status = ba.status;
    const retry = (): void => {
      b.statusRetries--;
      this.startPbu(b, kind, hi);
    };
    const canRetry = b.statusRetries > 0;
    const fail = (): Promise<void> => this.removeSession(b, () => this.failedEvent(b.mnId, b.link, b.lma, status, 'rejected'));
    switch (statusAction(status)) {
      case 'accept':
        return this.accept(b, ba, kind);
      case 'block':
        this.blocks.set(b.mnId, (this.blocks.get(b.mnId) ?? 0) | BLOCK_PROXY);
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
        this.requestGre(b);
        return retry();
      case 'retryWithoutIpv4':
        this.blocks.set(b.mnId, (this.blocks.get(b.mnId) ?? 0) | BLOCK_IPV4);
        clearIpv4(b);
        if (!b.wantIpv6 || !canRetry) return fail();
        return retry();
      case 'retryDynamicIpv4':
        if (!b.wantIpv4 || b.ipv4HoA === null || !canRetry) return fail();
        b.ipv4HoA = null;
        b.ipv4PrefixLen = 0;
        b.ipv4Assigned = false;
        return retry();
      case 'retryWithoutIpv6':
        this.blocks.set(b.mnId, (this.blocks.get(b.mnId) ?? 0) | BLOCK_IPV6);
        b.wantIpv6 = false;
        b.hnps = [];
        b.hnpsAssigned = false;
        if (!b.wantIpv4 || !canRetry) return fail();
        return retry();
      case 'resyncSequence':
        if (this.config.timestampMode || !canRetry) return fail();
        b.seq = ba.seq; // the next PBU uses the LMA's last accepted number + 1
        return retry();
      case 'fail':
        return fail();
    }
  }

  /** §6.9.1.2 item 9: re-register only after syncing to the domain's time source. */
  private resync(b: Bule, kind: PbuKindValue, hi: number): void {
    b.statusRetries--;
    b.pendingKind = kind;
    b.pendingHi = hi;
    b.retries = 0;
    b.pendingSeq = -1;
    b.prevSeq = -1;
    const sync = this.deps.timeSync;
    if (!sync) {
      this.arm(b, TimerKind.RESYNC, this.config.resyncDelayMs);
      return;
    }
    b.timerKind = TimerKind.RESYNC;
    sync().then(
      (ok) =>
        void this.serial(b.mnId, () => {
          if (!this.alive(b) || b.timer !== null || b.pendingKind !== kind || b.timerKind !== TimerKind.RESYNC) return;
          b.timerKind = TimerKind.NONE;
          if (ok) return this.transmit(b);
          return this.removeSession(b, () => this.failedEvent(b.mnId, b.link, b.lma, 156, 'rejected'));
        }),
      () => this.arm(b, TimerKind.RESYNC, this.config.resyncDelayMs),
    );
  }

  /** §6.9.1.2 items 12-15, RFC 5844 §3.2.3.2, RFC 5845 §5.1. */
  private async accept(b: Bule, ba: BindingAck, kind: PbuKindValue): Promise<void> {
    const g: Granted = granted(ba);
    if (g.lifetimeS === 0) {
      return this.removeSession(b, () => this.failedEvent(b.mnId, b.link, b.lma, ba.status, 'rejected'));
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
        clearIpv4(b);
      }
    }
    if (g.linkLocal) b.magLinkLocal = g.linkLocal;
    b.udpEncap = g.udpEncap;
    const now = this.clock.now();
    b.grantedS = g.lifetimeS;
    b.acceptedAt = now;
    b.expiresAt = now + g.lifetimeS * 1000;
    b.state = 'registered';
    b.statusRetries = this.config.maxStatusRetries;
    try {
      await this.install(b);
    } catch (e) {
      this.metrics.drop('dataplane');
      this.log.error({ mnId: b.mnId, link: b.link, err: (e as Error)?.message }, 'data plane set-up failed; de-registering');
      this.failedEvent(b.mnId, b.link, b.lma, ba.status, 'dataplane');
      this.deregister(b);
      return;
    }
    this.arm(b, TimerKind.REFRESH, g.lifetimeS * 1000 * this.config.refreshRatio);
    const ipv4HoA = b.wantIpv4 ? b.ipv4HoA : null;
    const hnps = b.wantIpv6 ? b.hnps.slice() : [];
    if (kind === PbuKind.INITIAL) {
      this.metrics.binding('registered');
      this.log.info(
        { event: 'registered', mnId: b.mnId, link: b.link, lma: b.lma, hnps, ipv4HoA, lifetimeS: g.lifetimeS, hi: b.handoffIndicator, status: ba.status },
        'binding registered',
      );
      this.emit({ type: 'registered', mnId: b.mnId, link: b.link, lma: b.lma, hnps, ipv4HoA, lifetimeS: g.lifetimeS, handoffIndicator: b.handoffIndicator });
    } else {
      this.metrics.binding('refreshed');
      this.log.debug({ event: 'refreshed', mnId: b.mnId, link: b.link, lma: b.lma, lifetimeS: g.lifetimeS }, 'binding refreshed');
      this.emit({ type: 'refreshed', mnId: b.mnId, link: b.link, lma: b.lma, hnps, ipv4HoA, lifetimeS: g.lifetimeS });
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
        const peer = this.heartbeats.peers.get(b.lma);
        if (peer) peer.greSupported = false;
        b.gre = Gre.OFF;
        b.greKeyUp = null;
      } else {
        b.gre = Gre.ACTIVE;
        b.greKeyUp = g.greKey;
      }
    }
  }

  /* ---------------------------------------------------------------------- */
  /* Data plane (RFC 5213 §6.9.1.2 items 12-13, §6.9.1.4, §5.6.1)            */
  /* ---------------------------------------------------------------------- */

  private tunnelSpec(b: Bule): TunnelSpec {
    if (b.gre === Gre.ACTIVE) {
      const spec: TunnelSpec = { local: this.proxyCoa, remote: b.lma, encap: 'gre', greKeyIn: b.greKeyDown };
      if (b.greKeyUp !== null) spec.greKeyOut = b.greKeyUp;
      return spec;
    }
    // RFC 5844 §3.2.3.2 / §4: IPv4-or-IPv6-over-IPv6 on IPv6 transport; over IPv4 transport
    // IPv4-UDP when the LMA chose it (NAT Detection with F), else plain IPv4.
    const encap = isIPv4(b.lma) ? (b.udpEncap ? 'ip4-udp' : 'ipip') : 'ip6ip6';
    return { local: this.proxyCoa, remote: b.lma, encap };
  }

  private async install(b: Bule): Promise<void> {
    const desired: string[] = [];
    if (b.wantIpv6 && b.hnpsAssigned) desired.push(...b.hnps);
    if (b.wantIpv4 && b.ipv4Assigned && b.ipv4HoA) desired.push(`${b.ipv4HoA}/32`);
    const spec = this.tunnelSpec(b);
    const key = tunnelKey(spec);
    if (b.tunnelKey !== key) {
      const id = await this.tunnels.acquire(key, spec);
      if (b.tunnelKey) await this.uninstall(b); // moved to another tunnel (GRE keys changed)
      b.tunnelKey = key;
      b.tunnelId = id;
    }
    const tunnel = b.tunnelId as string;
    const have = b.routes ?? (b.routes = []);
    for (let i = have.length - 1; i >= 0; i--) {
      if (!desired.includes(have[i])) {
        await this.dp.removeRoute(have[i], tunnel);
        have.splice(i, 1);
      }
    }
    for (const r of desired) {
      if (!have.includes(r)) {
        await this.dp.addRoute(r, tunnel, { mnLink: b.link });
        have.push(r);
      }
    }
  }

  private async uninstall(b: Bule): Promise<void> {
    const tunnel = b.tunnelId;
    if (b.routes && tunnel) {
      for (const r of b.routes) {
        try {
          await this.dp.removeRoute(r, tunnel);
        } catch (e) {
          this.metrics.drop('dataplane');
          this.log.error({ mnId: b.mnId, route: r, err: (e as Error)?.message }, 'removeRoute failed');
        }
      }
    }
    b.routes = null;
    if (b.tunnelKey) {
      const key = b.tunnelKey;
      b.tunnelKey = null;
      b.tunnelId = null;
      try {
        await this.tunnels.release(key);
      } catch (e) {
        this.metrics.drop('dataplane');
        this.log.error({ mnId: b.mnId, err: (e as Error)?.message }, 'removeTunnel failed');
      }
    }
  }

  /** @internal Removes the IPv4 HoA route only (RFC 5846 §9.1, V flag). */
  async dropIpv4(b: Bule): Promise<void> {
    const r = b.ipv4HoA ? `${b.ipv4HoA}/32` : null;
    if (r && b.routes && b.tunnelId) {
      const i = b.routes.indexOf(r);
      if (i >= 0) {
        await this.dp.removeRoute(r, b.tunnelId);
        b.routes.splice(i, 1);
      }
    }
    clearIpv4(b);
  }

  /* ---------------------------------------------------------------------- */
  /* Session removal, events, serialisation                                  */
  /* ---------------------------------------------------------------------- */

  /** @internal Deletes the BULE (synchronously) and its forwarding state, then reports. */
  async removeSession(b: Bule, report: () => void): Promise<void> {
    b.cancelTimer();
    b.pendingKind = PbuKind.NONE;
    if (!this.bul.remove(b)) return;
    await this.uninstall(b);
    report();
    if (this.bul.size() === 0 && this.drainWaiters.length > 0) {
      const w = this.drainWaiters;
      this.drainWaiters = [];
      for (const f of w) f();
    }
  }

  /** @internal */
  alive(b: Bule): boolean {
    return this.bul.get(b.mnId, b.link) === b;
  }

  /** Re-register every live binding with an LMA that lost its state (RFC 5847 §3.2). */
  private lmaRestarted(p: LmaPeer, previous: number): void {
    this.metrics.lma('restart');
    this.log.warn({ lma: p.address, restartCounter: p.restartCounter, previous }, 'LMA restarted (RFC 5847 §3.2); re-registering');
    this.emit({ type: 'lmaRestarted', lma: p.address, restartCounter: p.restartCounter ?? 0, previous });
    const affected: Bule[] = [];
    for (const b of this.bul.entries()) if (b.lma === p.address && (b.state === 'registered' || b.state === 'refreshing')) affected.push(b);
    for (const b of affected) {
      void this.serial(b.mnId, () => {
        if (!this.alive(b) || (b.state !== 'registered' && b.state !== 'refreshing')) return;
        b.state = 'refreshing';
        this.startPbu(b, PbuKind.REFRESH, HandoffIndicator.NOT_CHANGED);
      });
    }
  }

  private deregisteredEvent(b: Bule, acked: boolean): void {
    this.metrics.binding('deregistered');
    this.log.info({ event: 'deregistered', mnId: b.mnId, link: b.link, lma: b.lma, acked }, 'binding deregistered');
    this.emit({ type: 'deregistered', mnId: b.mnId, link: b.link, lma: b.lma, acked });
  }

  /** @internal */
  failedEvent(mnId: string, link: string, lma: string | null, status: number | null, reason: MagFailReason): void {
    this.metrics.binding('failed');
    this.log.warn({ event: 'failed', mnId, link, lma, status, reason }, 'binding failed');
    this.emit({ type: 'failed', mnId, link, lma, status, reason });
  }

  /** @internal */
  emit(e: MagEvent): void {
    if (!this.deps.events) return;
    try {
      this.deps.events.emit(e);
    } catch (err) {
      this.log.error({ err: (err as Error)?.message }, 'event sink threw');
    }
  }

  /**
   * @internal Runs fn after everything already queued for this MN. The fast path (nothing
   * queued, fn synchronous) runs inline, so timer-driven sends happen at the timer's instant.
   */
  serial<T>(mnId: string, fn: () => T | Promise<T>): Promise<T | undefined> {
    const prev = this.inflight.get(mnId);
    if (!prev) {
      let r: T | Promise<T>;
      try {
        r = fn();
      } catch (e) {
        this.internalError(e, mnId);
        return Promise.resolve(undefined);
      }
      if (!(r instanceof Promise)) return Promise.resolve(r);
      return this.track(mnId, r);
    }
    return this.track(mnId, prev.then(fn));
  }

  private track<T>(mnId: string, p: Promise<T>): Promise<T | undefined> {
    const q = p.catch((e: unknown) => {
      this.internalError(e, mnId);
      return undefined;
    });
    const tail = q.then(() => undefined);
    this.inflight.set(mnId, tail);
    void tail.then(() => {
      if (this.inflight.get(mnId) === tail) this.inflight.delete(mnId);
    });
    return q;
  }

  private internalError(e: unknown, mnId: string): void {
    this.log.error({ mnId, err: (e as Error)?.stack ?? String(e) }, 'internal error in MAG state machine');
  }
}

function clearIpv4(b: Bule): void {
  b.wantIpv4 = false;
  b.ipv4HoA = null;
  b.ipv4PrefixLen = 0;
  b.ipv4Assigned = false;
  b.ipv4DefaultRouter = null;
  b.dhcpServer = false;
}

/** Dotted quad (validated) from profile text. */
function ipv4Text(s: string): string {
  const v = parseIpv4(s);
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}
