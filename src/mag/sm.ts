// The MAG registration state machine (RFC 5213 §6.9, RFC 6275 §11.8, RFC 5844 §3.2,
// RFC 5845 §5.1, RFC 5847, RFC 5846 §9.1). Pure: the clock, transport, data plane, policy
// source, attach detector and event sink are injected (docs/ARCHITECTURE.md).
//
// Per BULE:  registering --PBA 0--> registered --refresh timer--> refreshing --PBA 0--> registered
//            any --detach / presence lost--> deregistering --PBA or INITIAL_BINDACK_TIMEOUT--> (gone)
//            registering/refreshing --PBA >= 128 or retransmissions exhausted--> (gone, "failed")
//            registering/refreshing --PBA with mismatching echo--> held (until adminReset)
// Everything that touches one MN (attach, detach, PBA, its timers, revocation) runs through
// `serial(mnId)`, so events for the same MN apply in arrival order even across awaits.
//
// This file: the Mag object, life cycle, message dispatch, events. The rest: attach.ts
// (attach/detach, sessions from the policy profile), pbu.ts (sending, timers), pba.ts (PBA
// processing), forwarding.ts (tunnels and routes), heartbeat.ts (RFC 5847), revoke.ts
// (RFC 5846 §9.1), bul.ts, build.ts, handle.ts, path.ts.
import { HandoffIndicator } from '../mh/index.ts';
import type { MhMessage } from '../mh/index.ts';
import type { AttachDetachEvent, AttachDetector, AttachEvent, DetachEvent } from '../attach/types.ts';
import type { Profile } from '../policy/profile.ts';
import type { MagPolicySource } from '../policy/source.ts';
import type { Peer } from '../transport/types.ts';
import type { Clock } from '../util/clock.ts';
import { logger } from '../util/log.ts';
import type { Logger } from '../util/log.ts';
import { LogOnce } from '../util/log-once.ts';
import { advertiseFor } from './access.ts';
import { detachSession, onAttach, onDetach, replaceSession, type AttachContext } from './attach.ts';
import { Bul, PbuKind } from './bul.ts';
import type { Bule } from './bul.ts';
import { buildUnknownTypeError } from './build.ts';
import { Forwarding } from './forwarding.ts';
import { Heartbeats } from './heartbeat.ts';
import type { LmaPeer } from './heartbeat.ts';
import { MagMetrics } from './metrics.ts';
import { MagPath, normalizeAddress } from './path.ts';
import { PbaHandler } from './pba.ts';
import { PbuSender } from './pbu.ts';
import { reRegisterSessions, type ReRegisterResult } from './reregister.ts';
import { handleBri } from './revoke.ts';
import { Serializer } from './serial.ts';
import { newMagCounters, resolveMagConfig } from './types.ts';
import type { MagBulView, MagConfig, MagConfigInput, MagCounters, MagDeps, MagEvent, MagFailReason } from './types.ts';
import { createView } from './view.ts';

export class Mag implements AttachContext {
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
  /** @internal */
  readonly clock: Clock;
  /** @internal */
  readonly deps: MagDeps;
  /** @internal MN-ID -> BLOCK_* bits (pba.ts). */
  readonly blocks = new Map<string, number>();
  /** @internal */
  readonly forwarding: Forwarding;
  /** @internal */
  readonly sender: PbuSender;
  /** @internal */
  readonly pba: PbaHandler;
  private readonly serializer: Serializer;
  private readonly policy: MagPolicySource;
  private readonly proxyCoa: string;
  private started = false;
  private drainWaiters: (() => void)[] = [];

  constructor(config: MagConfigInput, deps: MagDeps) {
    this.config = resolveMagConfig(config);
    this.deps = deps;
    this.clock = deps.clock;
    this.policy = deps.policy;
    this.detector = deps.detector;
    this.log = (deps.log ?? logger('mag')).child({ mag: this.config.id });
    this.counters = newMagCounters();
    this.metrics = new MagMetrics(this.config.id, this.counters);
    this.proxyCoa = normalizeAddress(this.config.proxyCoa);
    this.serializer = new Serializer((e, mnId) =>
      this.log.error({ mnId, err: (e as Error)?.stack ?? String(e) }, 'internal error in MAG state machine'),
    );
    this.forwarding = new Forwarding(deps.dataPlane, this.proxyCoa, this.metrics, this.log);
    this.sender = new PbuSender(this);
    this.pba = new PbaHandler(this);
    const dropLog = new LogOnce(this.log, 'MAG');
    this.path = new MagPath(deps.transport, {
      message: (msg, from) => this.onMessage(msg, from),
      decodeError: (e, from) => {
        this.metrics.drop('decode');
        dropLog.warn(e.code, from.port !== undefined ? `${from.address}#${from.port}` : from.address, { reason: e.reason });
      },
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
      await Promise.all(all.map((b) => this.serial(b.mnId, () => detachSession(this, b))));
      await this.drained();
    }
    for (const b of this.bul.entries()) b.cancelTimer();
    this.heartbeats.stop();
    await this.detector?.stop();
    this.metrics.unregister();
    this.started = false;
  }

  /** Resolves once no work for any MN is queued (tests, orderly shutdown). */
  idle(): Promise<void> {
    return this.serializer.idle();
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
        this.sender.startPbu(b, refresh ? PbuKind.REFRESH : PbuKind.INITIAL, refresh ? HandoffIndicator.NOT_CHANGED : b.handoffIndicator);
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
    return this.serial(ev.mnId, () => onAttach(this, ev));
  }

  /** An MN left its access link: de-registers its session on that link. */
  detach(ev: DetachEvent): Promise<void> {
    return this.serial(ev.mnId, () => onDetach(this, ev));
  }

  /**
   * After the MN's policy changed (e.g. an RFC 5176 CoA-Request relayed by main/): reads the
   * profile again and updates every session of the MN on this MAG, keeping bindings where
   * RFC 5213 allows it (see reregister.ts). Resolves with the number of sessions acted on
   * (0: the MN has no session here) and whether the policy source failed (nothing changed).
   */
  reRegister(mnId: string): Promise<ReRegisterResult> {
    return this.serial(mnId, () => reRegisterSessions(this, mnId)).then((r) => r ?? { sessions: 0, policyError: true });
  }

  /** @internal reregister.ts: the policy source. */
  profileOf(mnId: string): Promise<Profile | null> {
    return this.policy.profile(mnId);
  }

  /** @internal reregister.ts: a new session on the link of a replaced one, from the new profile. */
  replaceSession(old: Bule, p: Profile): Promise<void> {
    return replaceSession(this, old, p);
  }

  /* ---------------------------------------------------------------------- */
  /* Receiving                                                               */
  /* ---------------------------------------------------------------------- */

  private onMessage(msg: MhMessage, from: Peer): void {
    switch (msg.type) {
      case 'ba':
        this.metrics.received('pba');
        return this.pba.onPba(msg, from);
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

  /* ---------------------------------------------------------------------- */
  /* Session removal, events, serialisation                                  */
  /* ---------------------------------------------------------------------- */

  /** @internal Removes the IPv4 HoA route only (RFC 5846 §9.1, V flag). */
  dropIpv4(b: Bule): Promise<void> {
    return this.forwarding.dropIpv4(b);
  }

  /** @internal Deletes the BULE (synchronously) and its forwarding state, then reports. */
  async removeSession(b: Bule, report: () => void): Promise<void> {
    b.cancelTimer();
    b.pendingKind = PbuKind.NONE;
    if (!this.bul.remove(b)) return;
    await this.forwarding.uninstall(b);
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
        this.sender.startPbu(b, PbuKind.REFRESH, HandoffIndicator.NOT_CHANGED);
      });
    }
  }

  /** @internal */
  deregisteredEvent(b: Bule, acked: boolean): void {
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
    if (this.deps.advertiser) {
      try {
        advertiseFor(this.deps.advertiser, e, this.view);
      } catch (err) {
        this.log.error({ err: (err as Error)?.message }, 'router advertiser threw');
      }
    }
    if (!this.deps.events) return;
    try {
      this.deps.events.emit(e);
    } catch (err) {
      this.log.error({ err: (err as Error)?.message }, 'event sink threw');
    }
  }

  /**
   * @internal Runs fn after everything already queued for this MN (see serial.ts).
   */
  serial<T>(mnId: string, fn: () => T | Promise<T>): Promise<T | undefined> {
    return this.serializer.run(mnId, fn);
  }
}
