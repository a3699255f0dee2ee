// Group commit of the binding cache to the binding store: "acknowledged means durable".
//
// The LMA sends PBA status 0 for a new or changed binding only once the change is committed
// (RFC 5213 §5.3.6 promises the MAG a binding; after a crash the restored cache must still
// hold it). Changes queue here; the first durable change of an event-loop turn schedules a
// flush for the end of the turn, and every change queued meanwhile (from any MN) joins that
// one transaction: one multi-row statement per batch, one promise per batch (waiters await
// the batch, no promise per PBU). While a batch is being committed the next one gathers, so
// the wait is bounded by one commit and throughput grows with the batch. Up to `maxInFlight`
// batches (default one) are committed at once (a row is in at most one of them, so rows
// commit in order).
//
// Lazy changes (refreshes that only extend the lifetime, de-registrations, expiries) are
// queued the same way but do not schedule a flush of their own: they go with the next
// durable batch or after `lazyIntervalMs`. After a crash a restored binding that should have
// ended is ended by its lifetime, by revocation, or by its MAG re-registering after the new
// Restart Counter (RFC 5847 §3.2).
//
// When the store cannot be reached (or refuses the batch), the batch goes to the local
// journal instead (durable too: appended and fsynced), and the PBAs go out. While the
// journal holds anything, every store attempt carries the journal's content first; the first
// one that commits empties the journal. Attempts are spaced by `retryMs` so a dead database
// costs one failed attempt per interval, not one per batch. Without a journal a failed batch
// stays queued and its PBAs are not sent (the MAGs retransmit). The write itself, to the store
// or the journal, is commit-write.ts.
import type { PersistedBinding } from '../store/repos/bindings.ts';
import type { Clock, TimerHandle } from '../util/clock.ts';
import type { Logger } from '../util/log.ts';
import { F } from './bce.ts';
import type { Bce } from './bce.ts';
import type { LmaCounters } from './counters.ts';
import { commitTrace } from './commit-trace.ts';
import { BatchWriter } from './commit-write.ts';
import type { BindingJournal, BindingStore } from './types.ts';

export interface GroupCommitOptions {
  lmaId: string;
  clock: Clock;
  /** Longest a lazy change waits for a flush. */
  lazyIntervalMs: number;
  /** Shortest time between store attempts while the store fails. */
  retryMs: number;
  /** A store commit not done by then counts as failed (the batch goes to the journal). */
  commitTimeoutMs: number;
  /** False: write-behind only (PBAs never wait; for comparison in benches). */
  durable: boolean;
  /**
   * Batches committed at once (PostgreSQL: on separate connections). Default 1: the next batch
   * gathers while one commits, so batches are larger (initial registrations, 100,000 MNs, 64 PBUs
   * in flight: LMA CPU ~46 against ~50 µs/PBA, PostgreSQL ~19.5 against ~25 µs/binding, p99
   * ~33 against ~49 ms on a loaded machine, medians of 3-5 runs; issue 12).
   */
  maxInFlight?: number;
  /**
   * Longest wait (ms) for PBUs still to come before a batch much smaller than the last one
   * starts (see GroupCommit.gatherAfter); 0 (default): none. PMIP6BENCH_COMMIT_GATHER_MS
   * (not a configuration key: A/B benches only) sets it.
   */
  gatherMs?: number;
  counters: LmaCounters;
  log: Logger;
  /** Runs fn after the current turn's I/O callbacks (default setImmediate). */
  defer?: (fn: () => void) => void;
}

/** The promise a batch's waiters share: resolves true when the batch is durable (store or journal). */
interface Batch {
  promise: Promise<boolean>;
  resolve: (ok: boolean) => void;
}

function newBatch(): Batch {
  let resolve!: (ok: boolean) => void;
  const promise = new Promise<boolean>((r) => (resolve = r));
  return { promise, resolve };
}

/** A batch being committed: its waiters, what it writes and which of its BCEs wait for it. */
interface InFlight {
  batch: Batch;
  items: Map<number, Bce | string>;
  durable: Map<number, Bce>;
}

/** Lazy rows per batch (one statement of the store, src/store/repos/bindings.ts). */
const LAZY_ROWS = 500;

export class GroupCommit {
  /** id -> BCE to upsert (its state at flush time), or the session key to delete. */
  private dirty = new Map<number, Bce | string>();
  /** BCEs in `dirty` whose PBA waits for the commit (they carry F.UNSYNCED). */
  private durable = new Map<number, Bce>();
  /** Ids of new sessions whose row the store does not hold yet (queued or in flight): inserted, not upserted. */
  private readonly fresh = new Set<number>();
  /** Waiters of the batch being gathered. */
  private next: Batch | null = null;
  private readonly inflight: InFlight[] = [];
  /** Ids in some batch in flight: not taken into another one until it ends (commit order per row). */
  private readonly inflightIds = new Set<number>();
  private deferred = false;
  private timer: TimerHandle | null = null;
  private stopped = false;
  private readonly defer: (fn: () => void) => void;
  private readonly writer: BatchWriter;
  private readonly maxInFlight: number;
  /** Gathering (see gatherAfter): flush once this many PBAs wait, or when gatherTimer fires; 0: not gathering. */
  private gatherTo = 0;
  private gatherTimer: TimerHandle | null = null;
  private readonly gatherMs: number;

  constructor(store: BindingStore, journal: BindingJournal | undefined, private readonly o: GroupCommitOptions) {
    this.defer = o.defer ?? ((fn) => void setImmediate(fn));
    this.writer = new BatchWriter(store, journal, o);
    // PMIP6BENCH_COMMIT_INFLIGHT (not a configuration key: A/B benches only) overrides the default.
    this.maxInFlight = Math.max(1, o.maxInFlight ?? (Number(process.env.PMIP6BENCH_COMMIT_INFLIGHT) || 1));
    this.gatherMs = Math.max(0, o.gatherMs ?? (Number(process.env.PMIP6BENCH_COMMIT_GATHER_MS) || 0));
  }

  /** Changes queued and not yet durable. */
  get pending(): number {
    return this.dirty.size;
  }

  /** Rows in the journal waiting for the store. */
  get journalledRows(): number {
    return this.writer.journalled.size;
  }

  /** The journal's content at start (restart recovery overlays it on the store's rows). */
  async loadJournal(): Promise<Map<string, PersistedBinding | null>> {
    const m = await this.writer.loadJournal();
    if (m.size > 0) this.arm(0);
    return m;
  }

  /** Queues a BCE's current state. `durable`: its next PBA waits for the commit (await `committed`). */
  upsert(b: Bce, durable: boolean): void {
    this.dirty.set(b.id, b);
    b.flags |= F.QUEUED;
    if (durable && this.o.durable) {
      b.flags |= F.UNSYNCED;
      this.durable.set(b.id, b);
      commitTrace?.queued(b.id);
      if (this.gatherTo !== 0) {
        if (this.durable.size < this.gatherTo) return;
        this.endGather();
      }
      this.soon();
    } else {
      this.arm(this.o.lazyIntervalMs);
    }
  }

  /**
   * True when the store holds b's state as queued so far (nothing of it waits to be written).
   * Answered from b's flags, kept in step with `dirty` and `inflightIds` (no lookup per refresh):
   * F.QUEUED while b's state is in `dirty`, F.INFLIGHT while a batch holding it is committed.
   * For a BCE in the cache (a removed one is queued as its session key, not as itself).
   */
  written(b: Bce): boolean {
    return (b.flags & (F.QUEUED | F.INFLIGHT)) === 0;
  }

  /** A new session: its first write is an insert (the store never held its key; see upsert). */
  created(b: Bce): void {
    this.fresh.add(b.id);
  }

  /** Queues the deletion of a BCE's row (lazy). */
  remove(b: Bce): void {
    this.dirty.set(b.id, b.sessionKey);
    this.arm(this.o.lazyIntervalMs);
  }

  /** Queues the deletion of a row that has no BCE (restart recovery dropped it). */
  removeRow(id: number, sessionKey: string): void {
    this.dirty.set(id, sessionKey);
    this.arm(this.o.lazyIntervalMs);
  }

  /**
   * Resolves true once `b`'s state queued so far is durable, false when the batch holding it
   * could not be made durable (the caller sends no PBA; the state stays queued and is retried).
   */
  async committed(b: Bce): Promise<boolean> {
    while (b.flags & F.UNSYNCED) {
      let p: Promise<boolean> | undefined;
      if (this.durable.has(b.id)) {
        this.next ??= newBatch();
        p = this.next.promise;
      } else {
        for (const f of this.inflight) if (f.durable.has(b.id)) p = f.batch.promise;
        if (p === undefined) {
          this.upsert(b, true); // flagged but queued nowhere: queue it again
          continue;
        }
      }
      if (!(await p)) return false;
    }
    return true;
  }

  /** Writes everything queued (stop, tests). Resolves true when all of it became durable. */
  async flushAll(): Promise<boolean> {
    this.endGather();
    this.timer?.cancel();
    this.timer = null;
    for (let i = 0; i < 3; i++) {
      while (this.inflight.length > 0) await Promise.all(this.inflight.map((f) => f.batch.promise));
      if (this.dirty.size === 0) break;
      await this.flush();
    }
    while (this.inflight.length > 0) await Promise.all(this.inflight.map((f) => f.batch.promise));
    return this.dirty.size === 0;
  }

  stop(): void {
    this.endGather();
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  /* ------------------------------------------------------------ scheduling */

  /** Batches in flight at once: one while the journal holds rows (its replay must not race a newer write). */
  private capacity(): number {
    return this.writer.journalled.size > 0 ? 1 : this.maxInFlight;
  }

  private soon(): void {
    if (this.deferred || this.inflight.length >= this.capacity()) return; // an ending flush starts the next one
    this.deferred = true;
    this.defer(() => {
      this.deferred = false;
      void this.flush();
    });
  }

  /**
   * After a batch of `rows` durable rows committed: the next batch now, unless few PBAs wait
   * (under half as many) and gathering is on (gatherMs). The MAGs answer the PBAs just sent
   * with new PBUs; a batch started with the one or two that came early makes the rest wait
   * for its whole commit (batches of 1 and 63 rows by turns at 64 PBUs in flight; issue 12).
   * Then the next batch waits until as many PBAs wait as the last batch had, or gatherMs.
   */
  private gatherAfter(rows: number): void {
    const q = this.durable.size;
    if (this.gatherMs > 0 && q * 2 < rows && this.gatherTimer === null && !this.stopped) {
      this.gatherTo = q + rows;
      this.gatherTimer = this.o.clock.setTimer(this.gatherMs, () => {
        this.gatherTimer = null;
        this.gatherTo = 0;
        this.soon();
      });
      return;
    }
    this.soon();
  }

  private endGather(): void {
    this.gatherTo = 0;
    this.gatherTimer?.cancel();
    this.gatherTimer = null;
  }

  private arm(ms: number): void {
    if (this.timer !== null || this.stopped) return;
    this.timer = this.o.clock.setTimer(ms, () => {
      this.timer = null;
      void this.flush();
    });
  }

  /* ------------------------------------------------------------ one batch */

  private async flush(): Promise<void> {
    if (this.inflight.length >= this.capacity()) return;
    // Rows whose PBAs wait first, then lazy ones, except rows of a batch still in flight (they
    // wait for it to end). A second of lazy changes (refreshes at full rate) would otherwise be
    // one large batch: a long synchronous stretch here and a long commit that the next PBAs
    // wait behind. So lazy rows go LAZY_ROWS at a time, in a batch of their own only when no
    // other is in flight (the other slot stays for PBAs), and as many as it has durable rows
    // in a batch whose PBAs wait (bounded cost; they drain under steady registration load too).
    let items: Map<number, Bce | string>;
    let durable: Map<number, Bce>;
    // Everything queued goes and nothing is in flight (one batch at a time, initial
    // registrations): the queues themselves become the batch, no entry is copied out and
    // deleted (issue 12: four hash operations less per change, no tables shrunk and regrown).
    const whole = this.inflightIds.size === 0 && (this.durable.size > 0 || this.inflight.length === 0) &&
      this.dirty.size <= (this.durable.size > 0 ? Math.min(LAZY_ROWS, 2 * this.durable.size) : LAZY_ROWS);
    if (whole) {
      items = this.dirty;
      durable = this.durable;
      for (const [id, b] of durable) if (!items.has(id)) items.set(id, b);
    } else {
      items = new Map();
      durable = new Map();
      for (const [id, b] of this.durable) {
        if (this.inflightIds.has(id)) continue;
        items.set(id, this.dirty.get(id) ?? b);
        durable.set(id, b);
      }
      if (durable.size > 0 || this.inflight.length === 0) {
        const max = durable.size > 0 ? Math.min(LAZY_ROWS, 2 * durable.size) : LAZY_ROWS;
        for (const [id, item] of this.dirty) {
          if (items.size >= max) break;
          if (!this.inflightIds.has(id) && !items.has(id)) items.set(id, item);
        }
      }
    }
    if (items.size === 0 && this.writer.journalled.size === 0) {
      if (this.inflight.length === 0) {
        this.next?.resolve(true); // its waiters look again
        this.next = null;
      }
      return;
    }
    if (whole) {
      this.dirty = new Map();
      this.durable = new Map();
    }
    for (const [id, item] of items) {
      if (!whole) {
        this.dirty.delete(id);
        this.durable.delete(id);
      }
      this.inflightIds.add(id);
      if (typeof item !== 'string') item.flags = (item.flags & ~F.QUEUED) | F.INFLIGHT;
    }
    const f: InFlight = { batch: this.next ?? newBatch(), items, durable };
    this.next = null;
    this.inflight.push(f);
    const removals: string[] = [];
    let fresh = 0;
    for (const [id, item] of items) {
      if (typeof item === 'string') removals.push(item);
      else if (this.fresh.has(id)) fresh++;
    }
    let ok = false;
    const t0 = commitTrace !== null ? performance.now() : 0;
    try {
      ok = await this.writer.write(items, removals, fresh, this.fresh);
    } catch (e) {
      this.o.log.error({ err: e }, 'binding commit failed unexpectedly');
    }
    if (ok) commitTrace?.batch(t0, items.size, durable.keys());
    for (const [id, item] of items) {
      this.inflightIds.delete(id);
      if (typeof item !== 'string') item.flags &= ~F.INFLIGHT;
    }
    this.inflight.splice(this.inflight.indexOf(f), 1);
    if (ok) {
      if (fresh > 0 || this.fresh.size > 0) for (const id of items.keys()) this.fresh.delete(id); // written (store or journal): upserts from now on
      for (const [id, b] of durable) if (!this.durable.has(id)) b.flags &= ~F.UNSYNCED; // else changed again: a later batch
    } else {
      // Put back what was not changed since (newer state wins) and try again later.
      for (const [id, item] of items) {
        if (this.dirty.has(id)) continue;
        this.dirty.set(id, item);
        if (typeof item !== 'string') item.flags |= F.QUEUED;
      }
      for (const [id, b] of durable) if (!this.durable.has(id)) this.durable.set(id, b);
    }
    f.batch.resolve(ok);
    if (ok && this.durable.size > 0) this.gatherAfter(durable.size);
    else if (ok && this.dirty.size >= LAZY_ROWS) this.arm(0); // a backlog of lazy rows: the next part now
    else if (this.dirty.size > 0 || this.writer.journalled.size > 0) this.arm(ok ? this.o.lazyIntervalMs : this.o.retryMs);
  }

}
