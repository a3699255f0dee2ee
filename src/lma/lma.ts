// The LMA state machine object (open5gs "sm"): owns the binding cache and ties together
// PBU processing (handle.ts/apply.ts), heartbeat (heartbeat.ts), revocation (revoke.ts),
// transport glue (path.ts), forwarding (forwarding.ts), group commit (commit.ts), the expiry
// timer (expiry.ts) and event fan-out to sinks and logs (events.ts).
// Pure in the DESIGN.md sense: clock, transports, data plane, policy source, event sink,
// binding store and journal are injected; the only timers are the clock's (one expiry timer,
// one heartbeat timer, one per outstanding BRI / waiting PBU / lazy flush).
import { RevocationTrigger } from '../mh/index.ts';
import type { MhMessage } from '../mh/index.ts';
import type { MhTransport, Peer } from '../transport/types.ts';
import type { LmaPolicySource } from '../policy/source.ts';
import { systemClock } from '../util/clock.ts';
import type { Clock } from '../util/clock.ts';
import { logger } from '../util/log.ts';
import type { Logger } from '../util/log.ts';
import { LogOnce } from '../util/log-once.ts';
import { LogEvery } from '../util/log-rate.ts';
import { BindingCache, F } from './bce.ts';
import type { MagPeer } from './bce.ts';
import { peerAt } from './mag-peer.ts';
import type { Bce } from './bce.ts';
import { Serializer } from './context.ts';
import { newCounters, registerCounterSource, unregisterCounterSource } from './counters.ts';
import type { CounterSource, LmaCounters, TxType } from './counters.ts';
import { LmaEvents } from './events.ts';
import { ExpiryTimer } from './expiry.ts';
import type { BindingExtra } from './events.ts';
import { Forwarding } from './forwarding.ts';
import { resumeParked } from './apply.ts';
import type { Outcome, Parked } from './apply.ts';
import { fetchAndDecide } from './handle.ts';
import { HeartbeatManager } from './heartbeat.ts';
import { receive, sendMessage, TokenBucket } from './path.ts';
import type { PathContext } from './path.ts';
import { GroupCommit } from './commit.ts';
import { announceRestart, restoreBindings } from './restart.ts';
import type { PbuJob, Policy } from './pbu.ts';
import { Revocations } from './revoke.ts';
import type { MagTable } from './sender.ts';
import { defaultLmaConfig } from './types.ts';
import type {
  BindingEventKind,
  BindingInfo,
  BindingStore,
  LmaConfig,
  LmaDeps,
  LmaEventSink,
  MemoryLmaPolicy,
  PeerEvent,
  PeerInfo,
  RestartCounterState,
  RestartCounterStore,
  RevocationOutcome,
} from './types.ts';
import { BindingsView } from './view.ts';

export class Lma implements PathContext, CounterSource {
  readonly cfg: LmaConfig;
  readonly clock: Clock;
  readonly cache = new BindingCache();
  readonly counters: LmaCounters;
  readonly fwd: Forwarding;
  readonly policy: LmaPolicySource & MemoryLmaPolicy;
  readonly log: Logger;
  readonly logEvery: LogEvery;
  readonly serial: Serializer;
  readonly events: LmaEventSink | undefined;
  readonly parked = new Map<string, Parked>();
  readonly heartbeat: HeartbeatManager;
  readonly revocations: Revocations;
  readonly dropLog: LogOnce;
  readonly mags: MagTable | undefined;
  readonly refusals: TokenBucket;
  /** Read-only view of the binding cache for the API. */
  readonly bindings: BindingsView;
  restartCounter = 0;

  private readonly transports: MhTransport[];
  private readonly hub: LmaEvents;
  private readonly store: BindingStore | undefined;
  private readonly rcStore: RestartCounterStore | undefined;
  private readonly knownMags: LmaDeps['knownMags'];
  /** Group commit to the binding store (undefined: nothing is persisted). */
  readonly commits: GroupCommit | undefined;
  private readonly beBucket: TokenBucket;
  private readonly expiry: ExpiryTimer;
  private started = false;
  private readonly greKeyBase: number;
  private readonly llaBase: number;

  constructor(deps: LmaDeps) {
    this.cfg = { ...defaultLmaConfig, ...deps.config };
    this.clock = deps.clock ?? systemClock;
    this.policy = deps.policy;
    this.events = deps.events;
    this.log = deps.logger ?? logger('lma');
    this.hub = new LmaEvents(deps.events, this.log, this.clock);
    this.expiry = new ExpiryTimer(this);
    this.dropLog = new LogOnce(this.log, 'LMA');
    this.logEvery = new LogEvery(this.log, 60_000, () => this.clock.now());
    this.counters = newCounters(this.clock.now());
    this.transports = Array.isArray(deps.transport) ? deps.transport : [deps.transport];
    this.fwd = new Forwarding(deps.dataPlane, (e, what) => this.log.warn({ err: e, op: what }, 'data plane operation failed'), this.cfg.addressContexts);
    this.serial = new Serializer((e) => {
      this.counters.dropped['internal-error']++;
      this.log.error({ err: e }, 'internal error in binding processing');
    }, { maxKeys: this.cfg.maxPendingMns, maxPerKey: this.cfg.maxQueuedPerMn });
    this.mags = deps.mags;
    this.refusals = new TokenBucket(this.cfg.refusalRatePerS, this.clock.now());
    this.heartbeat = new HeartbeatManager(this);
    this.revocations = new Revocations(this);
    this.bindings = new BindingsView(this.cache);
    this.store = deps.store;
    this.rcStore = deps.restartCounterStore;
    this.knownMags = deps.knownMags;
    if (this.store) {
      this.commits = new GroupCommit(this.store, deps.journal, {
        lmaId: this.cfg.lmaId,
        clock: this.clock,
        lazyIntervalMs: this.cfg.persistIntervalMs,
        retryMs: this.cfg.commitRetryMs,
        commitTimeoutMs: this.cfg.commitTimeoutMs,
        durable: this.cfg.durableAcks,
        counters: this.counters,
        log: this.log,
      });
    }
    this.beBucket = new TokenBucket(this.cfg.bindingErrorRatePerS, this.clock.now());
    this.greKeyBase = (Math.random() * 0x7fffffff) | 0;
    this.llaBase = (Math.random() * 0xffffff) | 0;
  }

  /* ================================================================ lifecycle */

  /**
   * Restores live bindings from the store and the journal (restart recovery), sets the
   * Restart Counter, starts listening and the heartbeat. RFC 5847 §3.2: the counter goes up
   * when this start may have lost session state: the previous run did not stop cleanly (what
   * it wrote lazily, refreshed lifetimes and de-registrations, may be missing), or not every
   * binding could be restored; then every MAG we know gets an unsolicited Heartbeat Response
   * with the new counter, and re-registers its MNs.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const r = await restoreBindings(this, this.transports, this.store, this.commits);
    let prev: RestartCounterState | null = null;
    let rcReadable = true;
    if (this.rcStore) {
      try {
        prev = await this.rcStore.load();
      } catch (e) {
        rcReadable = false;
        this.log.warn({ err: e }, 'could not read the restart counter');
      }
    }
    const unclean = prev !== null && !prev.cleanStop;
    const stateLost = r.incomplete || unclean || !rcReadable;
    // Without a stored counter, seconds since 1970 still increase from one start to the next.
    const rc = prev === null ? Math.floor(this.clock.now() / 1000) : stateLost ? prev.counter + 1 : prev.counter;
    this.restartCounter = rc >>> 0;
    if (this.rcStore) {
      try {
        await this.rcStore.save({ counter: this.restartCounter, cleanStop: false });
      } catch (e) {
        this.log.warn({ err: e }, 'could not save the restart counter');
      }
    }
    for (const t of this.transports) {
      t.onReceive((m) => receive(this, t, m, this.beBucket));
      t.onError?.((e) => {
        this.counters.sendErrors++;
        const x = e as Error & { code?: string; address?: string };
        this.dropLog.warn(`transport-error${x.code ? ` ${x.code}` : ''}`, x.address ?? '-', { err: e.message });
      });
    }
    this.heartbeat.start();
    registerCounterSource(this);
    let announced = 0;
    if (stateLost && prev !== null) announced = await announceRestart(this, this.transports, this.knownMags);
    this.log.info(
      {
        lmaId: this.cfg.lmaId, restartCounter: this.restartCounter, restored: r.restored, journalled: r.journalled, unusable: r.unusable,
        previousStop: prev === null ? 'unknown' : prev.cleanStop ? 'clean' : 'unclean', stateLost, announcedTo: announced,
        transports: this.transports.map((t) => t.localAddress()),
      },
      'LMA started',
    );
  }

  /** Stops timers and listening, lets running work finish and flushes the store. Transports stay open (main owns them). */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const t of this.transports) t.onReceive(() => undefined);
    this.heartbeat.stop();
    this.revocations.stop();
    for (const p of this.parked.values()) p.timer.cancel();
    this.parked.clear();
    this.expiry.stop();
    await this.serial.idle();
    let clean = true;
    if (this.commits) {
      clean = await this.commits.flushAll();
      this.commits.stop();
    }
    // RFC 5847 §3.2: everything is in the store (or the journal): the next start lost nothing.
    if (this.rcStore && clean) {
      try {
        await this.rcStore.save({ counter: this.restartCounter, cleanStop: true });
      } catch (e) {
        this.log.warn({ err: e }, 'could not record the clean stop');
      }
    }
    unregisterCounterSource(this);
    this.log.info({ lmaId: this.cfg.lmaId, bindings: this.cache.size }, 'LMA stopped');
  }

  /** Resolves when no PBU or timer job is running or queued (tests, shutdown). */
  settle(): Promise<void> {
    return this.serial.idle();
  }

  /* ================================================================ public API */

  get bindingCount(): number {
    return this.cache.size;
  }

  get peerCount(): number {
    return this.cache.peers.size;
  }

  /** One binding as the API shows it. */
  binding(sessionKey: string): BindingInfo | undefined {
    return this.bindings.get(sessionKey);
  }

  /** MAGs with bindings (and their heartbeat state). */
  peers(): PeerInfo[] {
    return [...this.cache.peers.values()].map((p) => ({
      address: p.address,
      port: p.port >= 0 ? p.port : null,
      carriage: p.carriage,
      bindings: p.count,
      reachable: !p.unreachable,
      missingHeartbeats: p.missing,
      restartCounter: p.restartCounter >= 0 ? p.restartCounter : null,
      heartbeatSupported: !p.hbUnsupported,
    }));
  }

  /**
   * Changes configuration at run time (e.g. the RFC 5213 §9.1 timers after an SNMP SET).
   * New values apply to what happens next; running timers keep their deadlines.
   */
  configure(changes: Partial<LmaConfig>): void {
    const hb = this.cfg.heartbeatIntervalMs;
    Object.assign(this.cfg, changes);
    if (this.started && this.cfg.heartbeatIntervalMs !== hb) {
      this.heartbeat.stop();
      this.heartbeat.start();
    }
    this.log.info({ changes }, 'LMA configuration changed');
  }

  /** Adds an event sink next to the one given at construction; returns the unsubscribe function. */
  subscribe(sink: LmaEventSink): () => void {
    return this.hub.subscribe(sink);
  }

  /**
   * @internal For adapters inside src/lma (snmp-view.ts): every binding change with the live
   * BCE, without building a BindingInfo. Returns the unsubscribe function.
   */
  onBindingChange(l: (b: Bce, kind: BindingEventKind) => void): () => void {
    return this.hub.onBindingChange(l);
  }

  /** @internal Every live BCE (adapters inside src/lma). */
  liveBindings(): IterableIterator<Bce> {
    return this.cache.byId.values();
  }

  /**
   * Sets the lifetime granted to a binding from now on (SNMP SET of
   * pmip6LmaHomeNetworkPrefixLifeTime, an operator action). False when there is no such
   * active binding.
   */
  setLifetime(sessionKey: string, seconds: number): Promise<boolean> {
    const b = this.cache.get(Number(sessionKey));
    if (!b || b.flags & F.DEREG) return Promise.resolve(false);
    return new Promise((res) => this.serial.run(b.mnId, () => {
      if (!this.cache.has(b) || b.flags & F.DEREG) return res(false);
      b.lifetime = Math.max(0, Math.floor(seconds));
      b.expiresAt = this.clock.now() + b.lifetime * 1000;
      this.schedule(b, b.expiresAt);
      this.persist(b);
      this.log.info({ event: 'binding-lifetime-set', sessionKey: b.sessionKey, mnId: b.mnId, lifetimeS: b.lifetime }, 'binding lifetime set');
      res(true);
    }));
  }

  /** RFC 5846 §8.1: revoke one binding (BRI to its MAG, then remove it). */
  revokeBinding(sessionKey: string, trigger: number = RevocationTrigger.ADMINISTRATIVE_REASON): Promise<RevocationOutcome> {
    return this.revocations.revokeSession(sessionKey, trigger);
  }

  /** RFC 5846 §8.1: revoke every binding of one MN (one BRI per MAG). */
  revokeMobileNode(mnId: string, trigger: number = RevocationTrigger.ADMINISTRATIVE_REASON): Promise<RevocationOutcome> {
    return this.revocations.revokeMobileNode(mnId, trigger);
  }

  /** RFC 5846 §8.1: revoke every binding at a MAG (G = 1, "Per-Peer Policy"). `port` narrows to one UDP peer. */
  revokePeer(address: string, port?: number): Promise<RevocationOutcome> {
    return this.revocations.revokePeer(address, port);
  }

  /* ================================================================ context (internal) */

  send(t: MhTransport, msg: MhMessage, to: Peer, from: string | undefined, tx: TxType): void {
    sendMessage(this, t, msg, to, from, tx);
  }

  lmaaFor(carriage: string): string {
    return carriage === 'udp4' && this.cfg.ipv4Address ? this.cfg.ipv4Address : this.cfg.address;
  }

  peerFor(key: string, address: string, port: number, local: string, carriage: string, t: MhTransport): MagPeer {
    return peerAt(this.cache.peers, key, address, port, local, carriage, t);
  }

  schedule(b: Bce, at: number): void {
    this.expiry.schedule(b, at);
  }

  changed(b: Bce, kind: BindingEventKind, extra?: BindingExtra): void {
    this.counters.bindings[kind]++;
    if (this.commits) {
      if (!this.cache.has(b)) this.commits.remove(b);
      else {
        if (kind === 'created') this.commits.created(b);
        this.commits.upsert(b, false);
      }
    }
    this.hub.binding(b, kind, extra);
  }

  peerEvent(e: PeerEvent): void {
    this.hub.peer(e);
  }

  persist(b: Bce): void {
    if (this.commits && this.cache.has(b)) this.commits.upsert(b, false);
  }

  written(b: Bce): boolean {
    return !this.commits || this.commits.written(b);
  }

  durable(b: Bce): true | Promise<boolean> {
    const c = this.commits;
    if (!c || !this.cfg.durableAcks || !this.cache.has(b)) return true;
    c.upsert(b, true);
    this.counters.persist.waits++;
    return c.committed(b);
  }

  removeBce(b: Bce, kind: BindingEventKind, reason: string): Promise<void> {
    if (!this.cache.has(b)) return Promise.resolve();
    this.cache.remove(b);
    this.changed(b, kind, { reason });
    const p = this.fwd.uninstall(b);
    this.cache.maybeForgetPeer(b.peer);
    const parked = this.parked.get(b.mnId);
    if (parked && parked.bce === b) {
      return p.then(() => resumeParked(this, b.mnId, 'removed'));
    }
    return p;
  }

  revokeForHandoff(b: Bce): void {
    void this.revocations.revoke(b.peer, [b], RevocationTrigger.INTER_MAG_HANDOVER_UNKNOWN, 'handoff', false);
  }

  newUplinkKey(b: Bce): number {
    return uplinkGreKey(this.greKeyBase, b.id);
  }

  /** fe80::/64 with an interface identifier unique per session (u/l bit set: locally assigned). */
  newLinkLocal(b: Bce): Uint8Array {
    const a = Buffer.alloc(16);
    a[0] = 0xfe;
    a[1] = 0x80;
    a[8] = 0x02;
    a[9] = (this.llaBase >>> 16) & 0xff;
    a[10] = (this.llaBase >>> 8) & 0xff;
    a[11] = this.llaBase & 0xff;
    a.writeUInt32BE(b.id >>> 0, 12);
    return a;
  }

  refetch(j: PbuJob, then: (pol: Policy) => Outcome): void | Promise<void> {
    return fetchAndDecide(this, j, then);
  }
}

/**
 * RFC 5845 §3.3: an uplink GRE key per session. Session id times an odd constant, plus a random
 * base, all in 32-bit integer arithmetic (Math.imul): a bijection of the id modulo 2^32, so keys
 * are distinct for ids 1 .. 2^32-1. (A float product loses bits past 2^53, i.e. after a few
 * million sessions.) Key 0 is avoided: the id that would get it takes `base`, the key of id 0,
 * which is never a session id.
 */
export function uplinkGreKey(base: number, id: number): number {
  const k = (Math.imul(id, 0x9e3779b1) + base) | 0;
  return k === 0 ? base : k;
}
