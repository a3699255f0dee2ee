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
//   src/policy/identifier.ts) are answered "unknown" at once and never reach a batched query
//   (batching, bounds and the preload: profile-reads.ts).
// Mode off: every lookup reads the database (batched), nothing is kept and nothing listened to.
// Memory (issue 12): entries are compact records (compact-profile.ts, ~90 bytes where a Profile
// object with its dates is ~480); each answer from memory is a fresh Profile built from one,
// whose arrays and strings are shared: callers must not modify them.
import type { Profile } from '../policy/profile.ts';
import { CompactProfile, ProfilePacker, expand } from './compact-profile.ts';
import { identifierProblem } from '../policy/identifier.ts';
import { DbUnavailableError, isUnavailable, type Db } from './db.ts';
import { BatchedReads, preloadProfiles, type Reader } from './profile-reads.ts';
import { OutageState } from './outage.ts';
import type { ProfileRepo } from './repos/profiles.ts';
import { listenPglite, listenPostgres, type NotificationChannel } from './notifications.ts';
import { logger, type Logger } from '../util/log.ts';
import { directoryTotals, registerDirectory, unregisterDirectory } from './profile-directory-metrics.ts';

import { PROFILE_CHANNEL, type ProfileCacheMode, type ProfileDirectoryOptions } from './profile-directory-options.ts';

export { PROFILE_CHANNEL, PROFILE_CACHE_MODES, type ProfileCacheMode, type ProfileDirectoryOptions } from './profile-directory-options.ts';

export class ProfileDirectory {
  readonly mode: ProfileCacheMode;
  private readonly profiles = new Map<string, CompactProfile>();
  private readonly packer = new ProfilePacker();
  private readonly unknown = new Set<string>();
  private readonly maxNegative: number;
  private readonly maxStaleMs: number;
  private readonly pageSize: number;
  private readonly now: () => number;
  private readonly log: Logger;

  private channel: NotificationChannel | null = null;
  /** LISTEN is active (as reported by the channel); entries exist only while it is. */
  private live = false;
  /** Bumped whenever everything is dropped: reads from before do not fill the maps. */
  private gen = 0;
  private changes = 0; // see followedGeneration
  private readonly readers = new Set<Reader>();
  /** Batched database reads (profile-reads.ts). */
  private readonly reads: BatchedReads;
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
    this.pageSize = Math.max(1, o.preloadPageSize ?? 5000);
    this.now = o.now ?? (() => performance.now());
    this.outage = new OutageState('profiles', this.now, o.outageProbeMs ?? 1000, this.log);
    this.reads = new BatchedReads(
      {
        findMany: (ids) => store.profiles.findMany(ids),
        openReader: () => this.openReader(),
        closeReader: (r) => this.closeReader(r),
        keep: (k, p) => this.keep(k, p),
        recovered: () => this.outage.recovered(),
        failed: () => this.outage.failed(),
        stats: this.stats,
        log: this.log,
      },
      { maxWaiting: o.maxWaiting ?? 20_000, batchSize: Math.max(1, o.batchSize ?? 256), maxBatches: Math.max(1, o.maxBatchesInFlight ?? 4) },
    );
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

  /**
   * Changes whenever an answer from memory may change (an entry or everything dropped, the channel
   * lost or back); undefined while memory does not answer. What was decided from answers asked
   * while it was g (the LMA's policy snapshots) is what memory would answer while it is still g.
   */
  followedGeneration(): number | undefined {
    return this.mode !== 'off' && this.usable() ? this.changes : undefined;
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
    this.changes++;
    this.profiles.delete(mnId);
    this.unknown.delete(mnId);
    this.reads.forget(mnId);
    for (const r of this.readers) r.dirty.add(mnId);
    // preload keeps every profile in memory: read the changed one again at once.
    if (this.mode === 'preload' && this.live && !this.closed) this.read(mnId).catch(() => undefined);
  }

  /** Drop everything; reads in flight are not kept. `live` stays as it is unless the channel went down. */
  private reset(why: string, stillLive: boolean): void {
    this.gen++;
    this.changes++;
    this.stats.resets++;
    this.held = false;
    this.profiles.clear();
    this.packer.clear();
    this.unknown.clear();
    this.reads.forgetAll();
    if (!stillLive) this.live = false;
    this.log.debug({ why }, 'profile directory: dropped all entries');
    if (stillLive && this.mode === 'preload' && this.live && !this.closed) this.startPreload();
  }

  /** The channel is lost: entries may be stale from now on; positive ones are held for an outage. */
  private channelDown(reason: string): void {
    this.gen++;
    this.changes++;
    this.stats.resets++;
    this.unknown.clear();
    this.reads.forgetAll();
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

  /** One profile read, batched with the other reads of this event-loop turn (profile-reads.ts). */
  private read(mnId: string): Promise<Profile | null> {
    return this.reads.read(mnId);
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

  private preload(gen: number): Promise<void> {
    const { profiles } = this.store;
    return preloadProfiles(
      {
        count: () => profiles.count(),
        page: (after, n) => profiles.page(after, n),
        superseded: (g) => g !== this.gen || this.closed,
        openReader: () => this.openReader(),
        closeReader: (r) => this.closeReader(r),
        has: (mnId) => this.profiles.has(mnId),
        keep: (mnId, p) => this.keep(mnId, p),
        loaded: (n) => void (this.stats.preloaded = n),
        log: this.log,
      },
      gen,
      this.pageSize,
    );
  }
}

/** A directory from configuration, started (and preloaded, in preload mode). */
export async function openProfileDirectory(store: { db: Db; profiles: ProfileRepo }, o: ProfileDirectoryOptions): Promise<ProfileDirectory> {
  const d = new ProfileDirectory(store, o);
  await d.start();
  return d;
}
