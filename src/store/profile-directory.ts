// The profile directory: mobile-node profiles held in memory for the AAA and LMA hot paths,
// kept current across processes (docs/ARCHITECTURE.md "Scale-out": AAA, API and LMA nodes share
// one PostgreSQL, and any of them, or plain SQL, may change a profile).
//
// How it stays current: migration 004 has triggers on profiles, hnp_assignments and pools that
// pg_notify('pmip6_profile', mn_id) in the changing transaction (payload '' = "everything":
// TRUNCATE, a renamed pool). The directory LISTENs on a dedicated connection (PostgreSQL) or on
// PGlite's one session, and drops an MN's entry when its notification arrives.
//
// Guarantees (mode lazy or preload):
// - A lookup that starts after this process received the notification of a committed change
//   (or after invalidate(mnId) here) sees the change: an entry is dropped on notification, and a
//   database read that was in flight when it arrived answers its waiters but is not kept.
//   PostgreSQL delivers notifications after the commit is visible, so a read started after the
//   notification reads the new row. On PGlite the notification arrives before the writing
//   statement resolves: the process reads its own writes.
// - Unknown MNs are cached too (bounded, oldest dropped first): an insert notifies like any change.
// - Memory is answered from only while the notification channel is known to work: LISTEN active
//   and, on PostgreSQL, a liveness query on that connection answered within `maxStaleMs`. When
//   the connection is lost (error, close, or silence past the liveness timeout) every entry is
//   dropped and lookups read the database (batched, nothing kept) until LISTEN is active again
//   on a new connection; reads that started before that are not kept either. So a lost
//   notification can make an answer stale for at most `maxStaleMs`, never longer.
// - Database outage (outage.ts): when the connection is lost the profiles are not thrown
//   away but held; lookups go to the database, and when it cannot be reached a held profile
//   answers, for at most `outageServeMs` after the channel was last confirmed (counted as
//   stale; an MN not held gets no answer, so its client fails over). Once LISTEN is active
//   again everything held is dropped (notifications were missed meanwhile).
// - Identifiers that no profile can have (NUL, control characters, broken UTF-8:
//   src/policy/identifier.ts) are answered "unknown" at once and never reach a batched query;
//   a batch that fails for another reason than an outage is retried one MN at a time, so one
//   bad key cannot fail the others.
// Mode off: every lookup reads the database (batched), nothing is kept and nothing listened to.
//
// Memory (issue 12): entries are compact records (compact-profile.ts, ~100 bytes where a Profile
// object with its dates is ~480); each answer from memory is a fresh Profile built from one,
// whose arrays and strings are shared: callers must not modify them.
import type { Profile } from '../policy/profile.ts';
import { CompactProfile, ProfilePacker, expand } from './compact-profile.ts';
import { identifierProblem } from '../policy/identifier.ts';
import { DbUnavailableError, isUnavailable, type Db } from './db.ts';
import { OutageState } from './outage.ts';
import type { ProfileRepo } from './repos/profiles.ts';
import { listenPglite, listenPostgres, type NotificationChannel } from './notifications.ts';
import { logger, type Logger } from '../util/log.ts';
import { directoryTotals, registerDirectory, unregisterDirectory } from './profile-directory-metrics.ts';

export const PROFILE_CHANNEL = 'pmip6_profile';
export const PROFILE_CACHE_MODES = ['off', 'lazy', 'preload'] as const;
export type ProfileCacheMode = (typeof PROFILE_CACHE_MODES)[number];

export interface ProfileDirectoryOptions {
  /** Default lazy: fill on miss. preload: load every profile at start (and after reconnecting). */
  mode?: ProfileCacheMode;
  /** PostgreSQL: the database URL for the dedicated LISTEN connection (without it the mode is off). */
  listenUrl?: string;
  /** Longest time an answer from memory may rest on an unconfirmed notification channel (default 10 s). */
  maxStaleMs?: number;
  /** Most unknown MNs remembered (default 100,000; oldest dropped first). */
  maxNegativeEntries?: number;
  /** Most MNs waiting for a database read at once (default 20,000); lookups beyond fail at once, counted (issue 9). */
  maxWaiting?: number;
  /** Most MNs per batched database read (default 256; 1 = one query per lookup). */
  batchSize?: number;
  /** Batched reads running at once (default 4). */
  maxBatchesInFlight?: number;
  /** Profiles per preload query (default 5000). */
  preloadPageSize?: number;
  /** Longest a held profile answers while the database cannot be reached, after the channel was last confirmed (default 300,000 ms; 0 = never). */
  outageServeMs?: number;
  /** During an outage, the database is tried again after this long (meanwhile held profiles answer at once; default 1000 ms). */
  outageProbeMs?: number;
  /** Clock for the staleness rule (default performance.now). */
  now?: () => number;
  logger?: Logger;
}

type Waiter = { resolve: (p: Profile | null) => void; reject: (e: unknown) => void };

/** A database read in progress: what it read is kept only if nothing invalidated it meanwhile. */
interface Reader {
  gen: number;
  dirty: Set<string>;
}

export class ProfileDirectory {
  readonly mode: ProfileCacheMode;
  private readonly profiles = new Map<string, CompactProfile>();
  private readonly packer = new ProfilePacker();
  private readonly unknown = new Set<string>();
  private readonly maxNegative: number;
  private readonly maxStaleMs: number;
  private readonly batchSize: number;
  private readonly maxBatches: number;
  private readonly pageSize: number;
  private readonly now: () => number;
  private readonly log: Logger;

  private channel: NotificationChannel | null = null;
  /** LISTEN is active (as reported by the channel); entries exist only while it is. */
  private live = false;
  /** Bumped whenever everything is dropped: reads from before do not fill the maps. */
  private gen = 0;
  private readonly readers = new Set<Reader>();
  private waiting = new Map<string, Waiter[]>();
  /** Waiters of MNs in batches in flight (dropped from here when the MN is invalidated). */
  private readonly inflight = new Map<string, Waiter[]>();
  private batchesInFlight = 0;
  private flushScheduled = false;
  private preloading: Promise<void> | null = null;
  private closed = false;
  /** Entries are held from before the channel went down (answers only during an outage). */
  private held = false;
  readonly outage: OutageState;

  /**
   * This directory's counts (the process totals behind /metrics are in profile-directory-metrics.ts).
   * Lookups: hits and negativeHits answered from memory, misses read from the database while
   * memory is usable, bypasses read from it while it is not (mode off, channel not verified).
   * Invalidations: invalidatedOne (an MN: notification or invalidate(mnId)), invalidatedAll
   * (flush notification or invalidate()).
   */
  readonly stats = {
    hits: 0, negativeHits: 0, misses: 0, bypasses: 0, invalidatedOne: 0, invalidatedAll: 0,
    reads: 0, notifications: 0, resets: 0, preloaded: 0, refusedFull: 0,
    stale: 0, unavailable: 0, invalid: 0, splitBatches: 0,
  };

  constructor(
    private readonly store: { db: Db; profiles: ProfileRepo },
    private readonly o: ProfileDirectoryOptions = {},
  ) {
    let mode = o.mode ?? 'lazy';
    this.log = o.logger ?? logger('store');
    if (mode !== 'off' && store.db.kind === 'postgres' && !o.listenUrl) {
      this.log.warn('profile directory: no database URL to LISTEN on; profile cache off');
      mode = 'off';
    }
    this.mode = mode;
    this.maxNegative = o.maxNegativeEntries ?? 100_000;
    this.maxStaleMs = o.maxStaleMs ?? 10_000;
    this.batchSize = Math.max(1, o.batchSize ?? 256);
    this.maxBatches = Math.max(1, o.maxBatchesInFlight ?? 4);
    this.pageSize = Math.max(1, o.preloadPageSize ?? 5000);
    this.now = o.now ?? (() => performance.now());
    this.outage = new OutageState('profiles', this.now, o.outageProbeMs ?? 1000, this.log);
  }

  /** Starts listening (and preloading, in preload mode: resolves when loaded). */
  async start(): Promise<void> {
    if (this.mode === 'off' || this.channel) return;
    const events = {
      notify: (payload: string) => this.onNotify(payload),
      up: () => this.onUp(),
      down: (reason: string) => this.channelDown(reason),
    };
    const { db } = this.store;
    this.channel =
      db.kind === 'postgres'
        ? await listenPostgres(this.o.listenUrl!, PROFILE_CHANNEL, events, { heartbeatMs: this.maxStaleMs / 3, timeoutMs: this.maxStaleMs / 3, now: this.now, logger: this.log })
        : await listenPglite(db, PROFILE_CHANNEL, events);
    if (this.closed) return;
    registerDirectory(this);
    if (!this.live) this.log.warn('profile directory: notification channel not up yet; reading the database until it is');
    await this.preloading;
  }

  async close(): Promise<void> {
    this.closed = true;
    unregisterDirectory(this);
    this.outage.close();
    const c = this.channel;
    this.channel = null;
    this.reset('closed', false);
    await c?.close();
  }

  /**
   * Answers from memory only while the notification channel is known to work. Past `maxStaleMs`
   * without confirmation the entries are kept but not used: a late answer on the same connection
   * proves nothing was missed; a lost connection drops them all (reset from `down`).
   */
  private usable(): boolean {
    const c = this.channel;
    return this.live && c !== null && this.now() - c.confirmedAt <= this.maxStaleMs;
  }

  /** The profile from memory (null: known unknown), or undefined when the database must be asked. */
  peek(mnId: string): Profile | null | undefined {
    if (identifierProblem(mnId) !== null) return this.invalid();
    return this.usable() ? this.fromMemory(mnId) : undefined;
  }

  /**
   * As peek, but the entry itself (a Profile read through getters, shared: do not modify it):
   * for hot paths that read a few fields (the LMA's policy check), with no copy per lookup.
   */
  peekView(mnId: string): Profile | null | undefined {
    if (identifierProblem(mnId) !== null) return this.invalid();
    return this.usable() ? this.entry(mnId) : undefined;
  }

  private invalid(): null {
    this.stats.invalid++;
    directoryTotals.lookups.invalid++;
    return null;
  }

  /**
   * The MN's profile, or null when there is none. Counted once as hit, negative-hit, miss or
   * bypass (a peek that answered undefined counts nothing: its caller comes here next).
   */
  find(mnId: string): Promise<Profile | null> {
    if (identifierProblem(mnId) !== null) return Promise.resolve(this.invalid());
    if (!this.usable()) {
      // Database known unreachable (within the probe interval): held profiles answer at once.
      if (this.outage.down) return this.duringOutage(mnId, null);
      this.stats.bypasses++;
      directoryTotals.lookups.bypass++;
      return this.read(mnId).catch((e: unknown) => this.duringOutage(mnId, e));
    }
    const v = this.fromMemory(mnId);
    if (v !== undefined) return Promise.resolve(v);
    this.stats.misses++;
    directoryTotals.lookups.miss++;
    return this.read(mnId);
  }

  /**
   * The database could not be asked (`e`, or it is known down): a profile held from before the
   * notification channel went down answers for `outageServeMs` after the channel was last
   * confirmed; otherwise no answer (the caller drops the request and its client fails over).
   */
  private duringOutage(mnId: string, e: unknown): Promise<Profile | null> {
    if (e !== null && !isUnavailable(e)) return Promise.reject(e);
    if (e !== null) this.outage.failed();
    const p = this.held ? this.profiles.get(mnId) : undefined;
    const since = this.channel?.confirmedAt ?? -Infinity;
    if (p !== undefined && this.now() - since <= (this.o.outageServeMs ?? 300_000)) {
      this.stats.stale++;
      directoryTotals.lookups.stale++;
      this.outage.served();
      return Promise.resolve(expand(p));
    }
    this.stats.unavailable++;
    directoryTotals.lookups.unavailable++;
    this.outage.refused();
    return Promise.reject(e ?? new DbUnavailableError(new Error('database unreachable (profile not held)')));
  }

  /** The profile from memory (counted as hit / negative-hit), or undefined when memory does not know the MN. */
  private fromMemory(mnId: string): Profile | null | undefined {
    const e = this.entry(mnId);
    return e ? expand(e) : e;
  }

  private entry(mnId: string): CompactProfile | null | undefined {
    const p = this.profiles.get(mnId);
    if (p !== undefined) {
      this.stats.hits++;
      directoryTotals.lookups.hit++;
      return p;
    }
    if (this.unknown.has(mnId)) {
      this.stats.negativeHits++;
      directoryTotals.lookups['negative-hit']++;
      return null;
    }
    return undefined;
  }

  /** Forget one MN (after a change this process made), or everything. */
  invalidate(mnId?: string): void {
    if (mnId === undefined) this.invalidateAll('invalidated');
    else this.invalidateOne(mnId);
  }

  /** Entries held: profiles and known-unknown MNs. */
  get size(): { profiles: number; unknown: number } {
    return { profiles: this.profiles.size, unknown: this.unknown.size };
  }

  /** Whether answers currently come from memory. */
  get serving(): boolean {
    return this.mode !== 'off' && this.usable();
  }

  /** The database cannot be reached and held (possibly stale) profiles answer. */
  get answeringHeld(): boolean {
    return this.held && this.outage.ongoing;
  }

  private onNotify(payload: string): void {
    this.stats.notifications++;
    if (payload === '') this.invalidateAll('flush notification');
    else this.invalidateOne(payload);
  }

  private invalidateOne(mnId: string): void {
    this.stats.invalidatedOne++;
    directoryTotals.invalidations.one++;
    this.drop(mnId);
  }

  private invalidateAll(why: string): void {
    this.stats.invalidatedAll++;
    directoryTotals.invalidations.all++;
    this.reset(why, true);
  }

  private drop(mnId: string): void {
    this.profiles.delete(mnId);
    this.unknown.delete(mnId);
    this.inflight.delete(mnId);
    for (const r of this.readers) r.dirty.add(mnId);
    // preload keeps every profile in memory: read the changed one again at once.
    if (this.mode === 'preload' && this.live && !this.closed) this.read(mnId).catch(() => undefined);
  }

  /** Drop everything; reads in flight are not kept. `live` stays as it is unless the channel went down. */
  private reset(why: string, stillLive: boolean): void {
    this.gen++;
    this.stats.resets++;
    this.held = false;
    this.profiles.clear();
    this.packer.clear();
    this.unknown.clear();
    this.inflight.clear();
    if (!stillLive) this.live = false;
    this.log.debug({ why }, 'profile directory: dropped all entries');
    if (stillLive && this.mode === 'preload' && this.live && !this.closed) this.startPreload();
  }

  /** The channel is lost: entries may be stale from now on; positive ones are held for an outage. */
  private channelDown(reason: string): void {
    this.gen++;
    this.stats.resets++;
    this.unknown.clear();
    this.inflight.clear();
    this.live = false;
    this.held = this.profiles.size > 0;
    this.log.debug({ reason, held: this.profiles.size }, 'profile directory: notification channel down; profiles held for an outage');
  }

  private onUp(): void {
    // Notifications sent before LISTEN was active are lost: reads from before are not kept.
    this.reset('notification channel up', false);
    this.held = false;
    this.outage.recovered();
    this.live = true;
    this.log.info({ mode: this.mode }, 'profile directory: following profile changes');
    if (this.mode === 'preload') this.startPreload();
  }

  private keep(mnId: string, p: Profile | null): void {
    if (p) {
      // Keyed by the profile's own MN-ID string (equal to mnId): the entry holds one copy.
      const e = this.packer.pack(p);
      this.profiles.set(e.mnId === mnId ? e.mnId : mnId, e);
      this.unknown.delete(mnId);
      return;
    }
    this.profiles.delete(mnId);
    if (this.unknown.size >= this.maxNegative) this.unknown.delete(this.unknown.values().next().value!);
    this.unknown.add(mnId);
  }

  /** Starts a reader: what it reads may be kept if the channel is up and nothing invalidates it. */
  private openReader(): Reader | null {
    if (this.mode === 'off' || !this.live) return null;
    const r = { gen: this.gen, dirty: new Set<string>() };
    this.readers.add(r);
    return r;
  }

  private closeReader(r: Reader | null): boolean {
    if (!r) return false;
    this.readers.delete(r);
    return r.gen === this.gen && this.live;
  }

  /* -------------------------------------------------- batched reads */

  /** One profile read, batched with the other reads of this event-loop turn. */
  private read(mnId: string): Promise<Profile | null> {
    if (this.waiting.size >= (this.o.maxWaiting ?? 20_000) && !this.waiting.has(mnId) && !this.inflight.has(mnId)) {
      // Keyed by what packets say: bounded. The caller drops the request; the peer retransmits.
      this.stats.refusedFull++;
      return Promise.reject(new Error('profile directory: too many lookups waiting for the database'));
    }
    return new Promise((resolve, reject) => {
      const w = this.inflight.get(mnId) ?? this.waiting.get(mnId);
      if (w) w.push({ resolve, reject });
      else this.waiting.set(mnId, [{ resolve, reject }]);
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.batchesInFlight >= this.maxBatches || this.waiting.size === 0) return;
    this.flushScheduled = true;
    // After the I/O callbacks of this turn: every request read in it joins the batch.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.batchesInFlight < this.maxBatches && this.waiting.size > 0) {
      let batch: Map<string, Waiter[]>;
      if (this.waiting.size <= this.batchSize) {
        batch = this.waiting;
        this.waiting = new Map();
      } else {
        batch = new Map();
        for (const [k, v] of this.waiting) {
          batch.set(k, v);
          this.waiting.delete(k);
          if (batch.size === this.batchSize) break;
        }
      }
      const reader = this.openReader();
      if (reader) for (const [k, ws] of batch) this.inflight.set(k, ws);
      this.batchesInFlight++;
      this.stats.reads++;
      this.store.profiles.findMany([...batch.keys()]).then(
        (rows) => {
          const found = new Map<string, Profile>();
          for (const p of rows) found.set(p.mnId, p);
          const keep = this.closeReader(reader);
          this.outage.recovered();
          for (const [k, ws] of batch) {
            const p = found.get(k) ?? null;
            if (reader) {
              if (this.inflight.get(k) === ws) this.inflight.delete(k);
              if (keep && !reader.dirty.has(k)) this.keep(k, p);
            }
            for (const w of ws) w.resolve(p);
          }
        },
        (e: unknown) => {
          this.closeReader(reader);
          if (isUnavailable(e)) this.outage.failed();
          const alone = !isUnavailable(e) && batch.size > 1;
          if (alone) {
            this.stats.splitBatches++;
            this.log.warn({ keys: batch.size, err: (e as Error)?.message?.slice(0, 200) }, 'profile directory: a batched read failed; answering each MN on its own');
          }
          for (const [k, ws] of batch) {
            if (this.inflight.get(k) === ws) this.inflight.delete(k);
            if (!alone) {
              for (const w of ws) w.reject(e);
              continue;
            }
            // One key must not fail the others: each MN is read on its own (not kept).
            this.store.profiles.findMany([k]).then(
              (rows) => {
                for (const w of ws) w.resolve(rows[0] ?? null);
              },
              (e1: unknown) => {
                for (const w of ws) w.reject(e1);
              },
            );
          }
        },
      ).finally(() => {
        this.batchesInFlight--;
        this.scheduleFlush();
      });
    }
  }

  /* -------------------------------------------------- preload */

  private startPreload(): void {
    const gen = this.gen;
    const run = this.preload(gen).catch((e: unknown) => {
      // The channel going down stops it; it starts again when the channel is back.
      this.log.warn({ err: (e as Error).message }, 'profile directory: preload failed; filling on demand');
    });
    this.preloading = run.finally(() => {
      if (this.preloading === run) this.preloading = null;
    });
  }

  private async preload(gen: number): Promise<void> {
    const t0 = Date.now();
    const total = await this.store.profiles.count();
    this.log.info({ total }, 'profile directory: preloading profiles');
    let after = '';
    let loaded = 0;
    let lastLog = t0;
    for (;;) {
      if (gen !== this.gen || this.closed) return; // superseded by a reset (which starts its own)
      const reader = this.openReader();
      const page = await this.store.profiles.page(after, this.pageSize);
      const keep = this.closeReader(reader);
      if (!reader || !keep || reader.gen !== gen) return;
      for (const p of page) {
        // An MN looked up meanwhile is as fresh as this page or fresher: keep what is there.
        if (!reader.dirty.has(p.mnId) && !this.profiles.has(p.mnId)) this.keep(p.mnId, p);
      }
      loaded += page.length;
      this.stats.preloaded = loaded;
      if (page.length < this.pageSize) break;
      after = page[page.length - 1].mnId;
      if (Date.now() - lastLog >= 2000) {
        lastLog = Date.now();
        this.log.info({ loaded, total, percent: total ? Math.round((loaded / total) * 100) : 100 }, 'profile directory: preloading');
      }
    }
    this.log.info({ loaded, ms: Date.now() - t0 }, 'profile directory: preload complete');
  }
}

/** A directory from configuration, started (and preloaded, in preload mode). */
export async function openProfileDirectory(store: { db: Db; profiles: ProfileRepo }, o: ProfileDirectoryOptions): Promise<ProfileDirectory> {
  const d = new ProfileDirectory(store, o);
  await d.start();
  return d;
}
