// The write of one group-commit batch (commit.ts): to the binding store, or to the local
// journal when the store cannot be reached or refuses the batch (appended and fsynced, so the
// PBAs may go). While the journal holds rows, every store attempt carries them first and the
// first that commits empties it; attempts are spaced by `retryMs`.
import type { NewRows, PersistedBinding } from '../store/repos/bindings.ts';
import type { Clock } from '../util/clock.ts';
import type { Logger } from '../util/log.ts';
import { LogEvery } from '../util/log-rate.ts';
import type { Bce } from './bce.ts';
import type { LmaCounters } from './counters.ts';
import { newRows, toPersisted } from './persist.ts';
import type { BindingJournal, BindingStore } from './types.ts';

export interface BatchWriterOptions {
  lmaId: string;
  clock: Clock;
  retryMs: number;
  commitTimeoutMs: number;
  counters: LmaCounters;
  log: Logger;
}

export class BatchWriter {
  /** Session key -> row (or null: deleted) written to the journal and not yet to the store. */
  readonly journalled = new Map<string, PersistedBinding | null>();
  private nextStoreTry = 0;
  private readonly logEvery: LogEvery;

  constructor(
    private readonly store: BindingStore,
    readonly journal: BindingJournal | undefined,
    private readonly o: BatchWriterOptions,
  ) {
    this.logEvery = new LogEvery(o.log, 60_000, () => o.clock.now());
  }

  /** The journal's content at start (restart recovery overlays it on the store's rows). */
  async loadJournal(): Promise<Map<string, PersistedBinding | null>> {
    if (!this.journal) return new Map();
    const m = await this.journal.load();
    for (const [k, v] of m) this.journalled.set(k, v);
    return m;
  }

  /**
   * The rows of a batch: of new sessions first (`fresh` of them, inserted). Built from the BCEs
   * when they are needed and not kept across the store's round trip: on the refresh path they
   * would otherwise survive scavenges and be promoted (issue 12). When the store fails, the
   * journal gets them built again, from the BCEs' state then (newer state wins anyway).
   */
  private rows(items: Map<number, Bce | string>, fresh: ReadonlySet<number>): PersistedBinding[] {
    const upserts: PersistedBinding[] = [];
    const others: PersistedBinding[] = [];
    for (const [id, item] of items) {
      if (typeof item !== 'string') (fresh.has(id) ? upserts : others).push(toPersisted(this.o.lmaId, item));
    }
    for (let i = 0; i < others.length; i++) upserts.push(others[i]);
    return upserts;
  }

  /** To the store (with the journal's content first), else to the journal. */
  async write(items: Map<number, Bce | string>, removals: string[], fresh: number, freshIds: ReadonlySet<number>): Promise<boolean> {
    const c = this.o.counters.persist;
    const now = this.o.clock.now();
    const nUps = items.size - removals.length;
    if (this.journalled.size === 0 || now >= this.nextStoreTry) {
      const replay = this.journalled.size;
      try {
        let writes = nUps + removals.length;
        if (replay > 0) {
          const { ups, rems } = this.withJournal(this.rows(items, freshIds), removals);
          writes = ups.length + rems.length;
          await this.commitWithTimeout(ups, null, rems, 0);
        } else if (fresh === nUps && removals.length === 0 && this.store.insertNew !== undefined) {
          // New sessions only (initial registrations): encoded straight from the BCEs.
          const bces: Bce[] = [];
          for (const item of items.values()) if (typeof item !== 'string') bces.push(item);
          await this.commitWithTimeout(null, newRows(this.o.lmaId, bces), removals, fresh);
        } else {
          await this.commitWithTimeout(this.rows(items, freshIds), null, removals, fresh);
        }
        c.writes += writes;
        c.commits++;
        if (replay > 0) {
          this.journalled.clear();
          await this.journal!.clear().catch((e: unknown) => this.o.log.error({ err: e }, 'could not empty the binding journal after replaying it'));
          this.o.log.info({ rows: replay }, 'binding store reachable again: journal written to it');
          this.logEvery.clear('store-failed');
        }
        return true;
      } catch (e) {
        c.errors++;
        this.nextStoreTry = now + this.o.retryMs;
        this.logEvery.warn('store-failed', this.journal ? 'binding store unavailable: bindings journalled locally until it returns' : 'binding store unavailable: PBAs held until it returns', {
          error: (e as Error)?.name === 'DbUnavailableError' || (e as Error)?.name === 'CommitTimeout' ? (e as Error).name : String((e as Error)?.message ?? e).slice(0, 200),
          journalledRows: this.journalled.size,
        });
      }
    }
    if (!this.journal) return false;
    if (nUps === 0 && removals.length === 0) return true;
    const upserts = this.rows(items, freshIds);
    try {
      await this.journal.append(upserts, removals);
    } catch (e) {
      c.errors++;
      this.logEvery.warn('journal-failed', 'binding journal append failed: PBAs held', { err: (e as Error)?.message });
      return false;
    }
    for (const u of upserts) this.journalled.set(u.sessionKey, u);
    for (const k of removals) this.journalled.set(k, null);
    c.journalled += upserts.length + removals.length;
    return true;
  }

  private withJournal(upserts: PersistedBinding[], removals: string[]): { ups: PersistedBinding[]; rems: string[] } {
    const all = new Map(this.journalled);
    for (const u of upserts) all.set(u.sessionKey, u);
    for (const k of removals) all.set(k, null);
    const ups: PersistedBinding[] = [];
    const rems: string[] = [];
    for (const [k, v] of all) {
      if (v === null) rems.push(k);
      else ups.push(v);
    }
    return { ups, rems };
  }

  /** `ups`, or else `created` (new rows only, for BindingStore.insertNew). */
  private commitWithTimeout(ups: PersistedBinding[] | null, created: NewRows | null, rems: string[], fresh: number): Promise<void> {
    const signal = { aborted: false };
    // Started here, outside the closures below: they must not hold the rows (see rows()).
    let started: Promise<void>;
    try {
      started = created !== null ? this.store.insertNew!(this.o.lmaId, created, signal) : this.store.commit(this.o.lmaId, ups ?? [], rems, signal, fresh);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<void>((resolve, reject) => {
      const t = this.o.clock.setTimer(this.o.commitTimeoutMs, () => {
        signal.aborted = true;
        const e = new Error(`binding commit not done within ${this.o.commitTimeoutMs} ms`);
        e.name = 'CommitTimeout';
        reject(e);
      });
      started.then(
        () => {
          t.cancel();
          resolve();
        },
        (e: unknown) => {
          t.cancel();
          reject(e);
        },
      );
    });
  }
}
