// The profile directory's database reads (profile-directory.ts) and its preload. Lookups of one
// event-loop turn are batched into one query (at most `batchSize` MNs, `maxBatches` queries at
// once), waiters of the same MN share one read, and the number of MNs waiting is bounded (issue
// 9). What a read finds is kept by the directory only through a Reader it opened (so reads that
// started before an invalidation are not kept), and a batch that fails for another reason than
// an outage is retried one MN at a time, so one bad key cannot fail the others.
import type { Profile } from '../policy/profile.ts';
import { isUnavailable } from './db.ts';
import type { Logger } from '../util/log.ts';

export type Waiter = { resolve: (p: Profile | null) => void; reject: (e: unknown) => void };

/** A database read in progress: what it read is kept only if nothing invalidated it meanwhile. */
export interface Reader {
  gen: number;
  dirty: Set<string>;
}

/** What the batched reads need from the directory. */
export interface ReadHost {
  findMany(mnIds: string[]): Promise<Profile[]>;
  /** A reader whose results may be kept, or null when nothing read is to be kept. */
  openReader(): Reader | null;
  /** Ends a reader: whether what it read may be kept. */
  closeReader(r: Reader | null): boolean;
  keep(mnId: string, p: Profile | null): void;
  /** The database answered / could not be reached. */
  recovered(): void;
  failed(): void;
  readonly stats: { reads: number; refusedFull: number; splitBatches: number };
  readonly log: Logger;
}

export class BatchedReads {
  private waiting = new Map<string, Waiter[]>();
  /** Waiters of MNs in batches in flight (dropped from here when the MN is invalidated). */
  private readonly inflight = new Map<string, Waiter[]>();
  private batchesInFlight = 0;
  private flushScheduled = false;

  constructor(
    private readonly host: ReadHost,
    private readonly o: { maxWaiting: number; batchSize: number; maxBatches: number },
  ) {}

  /** The MN's read in flight is not to be kept nor joined by later lookups (invalidated). */
  forget(mnId: string): void {
    this.inflight.delete(mnId);
  }

  forgetAll(): void {
    this.inflight.clear();
  }

  /** One profile read, batched with the other reads of this event-loop turn. */
  read(mnId: string): Promise<Profile | null> {
    if (this.waiting.size >= this.o.maxWaiting && !this.waiting.has(mnId) && !this.inflight.has(mnId)) {
      // Keyed by what packets say: bounded. The caller drops the request; the peer retransmits.
      this.host.stats.refusedFull++;
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
    if (this.flushScheduled || this.batchesInFlight >= this.o.maxBatches || this.waiting.size === 0) return;
    this.flushScheduled = true;
    // After the I/O callbacks of this turn: every request read in it joins the batch.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const host = this.host;
    while (this.batchesInFlight < this.o.maxBatches && this.waiting.size > 0) {
      let batch: Map<string, Waiter[]>;
      if (this.waiting.size <= this.o.batchSize) {
        batch = this.waiting;
        this.waiting = new Map();
      } else {
        batch = new Map();
        for (const [k, v] of this.waiting) {
          batch.set(k, v);
          this.waiting.delete(k);
          if (batch.size === this.o.batchSize) break;
        }
      }
      const reader = host.openReader();
      if (reader) for (const [k, ws] of batch) this.inflight.set(k, ws);
      this.batchesInFlight++;
      host.stats.reads++;
      host.findMany([...batch.keys()]).then(
        (rows) => {
          const found = new Map<string, Profile>();
          for (const p of rows) found.set(p.mnId, p);
          const keep = host.closeReader(reader);
          host.recovered();
          for (const [k, ws] of batch) {
            const p = found.get(k) ?? null;
            if (reader) {
              if (this.inflight.get(k) === ws) this.inflight.delete(k);
              if (keep && !reader.dirty.has(k)) host.keep(k, p);
            }
            for (const w of ws) w.resolve(p);
          }
        },
        (e: unknown) => {
          host.closeReader(reader);
          if (isUnavailable(e)) host.failed();
          const alone = !isUnavailable(e) && batch.size > 1;
          if (alone) {
            host.stats.splitBatches++;
            host.log.warn({ keys: batch.size, err: (e as Error)?.message?.slice(0, 200) }, 'profile directory: a batched read failed; answering each MN on its own');
          }
          for (const [k, ws] of batch) {
            if (this.inflight.get(k) === ws) this.inflight.delete(k);
            if (!alone) {
              for (const w of ws) w.reject(e);
              continue;
            }
            // One key must not fail the others: each MN is read on its own (not kept).
            host.findMany([k]).then(
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
}

/** What the preload needs from the directory. */
export interface PreloadHost {
  count(): Promise<number>;
  page(after: string, n: number): Promise<Profile[]>;
  /** A reset or close came after the preload started (the reset starts its own). */
  superseded(gen: number): boolean;
  openReader(): Reader | null;
  closeReader(r: Reader | null): boolean;
  /** Whether the MN is held already (looked up meanwhile: as fresh as the page or fresher). */
  has(mnId: string): boolean;
  keep(mnId: string, p: Profile): void;
  loaded(n: number): void;
  readonly log: Logger;
}

/** Reads every profile, `pageSize` per query in MN-ID order, into the directory (preload mode). */
export async function preloadProfiles(h: PreloadHost, gen: number, pageSize: number): Promise<void> {
  const t0 = Date.now();
  const total = await h.count();
  h.log.info({ total }, 'profile directory: preloading profiles');
  let after = '';
  let loaded = 0;
  let lastLog = t0;
  for (;;) {
    if (h.superseded(gen)) return;
    const reader = h.openReader();
    const page = await h.page(after, pageSize);
    const keep = h.closeReader(reader);
    if (!reader || !keep || reader.gen !== gen) return;
    for (const p of page) {
      // An MN looked up meanwhile is as fresh as this page or fresher: keep what is there.
      if (!reader.dirty.has(p.mnId) && !h.has(p.mnId)) h.keep(p.mnId, p);
    }
    loaded += page.length;
    h.loaded(loaded);
    if (page.length < pageSize) break;
    after = page[page.length - 1].mnId;
    if (Date.now() - lastLog >= 2000) {
      lastLog = Date.now();
      h.log.info({ loaded, total, percent: total ? Math.round((loaded / total) * 100) : 100 }, 'profile directory: preloading');
    }
  }
  h.log.info({ loaded, ms: Date.now() - t0 }, 'profile directory: preload complete');
}
