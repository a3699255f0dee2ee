// Database outage bookkeeping for the parts that keep answering from memory while the
// policy store cannot be reached (profile directory, LMA MAG authorisation, RADIUS clients):
// when it began, how many answers came from held data and how many requests got none, one
// log line per cause per interval with those counts, and a process-wide list that /readyz
// and /metrics read ("degraded", with the cause, never a driver's error text).
import type { Logger } from '../util/log.ts';
import { LogEvery } from '../util/log-rate.ts';

const active = new Set<OutageState>();

export interface OutageInfo {
  /** What answers from memory: "profiles", "mag-authorisation", ... */
  what: string;
  /** ms since the first failed attempt (of the state's clock). */
  forMs: number;
  /** Answers given from held data since the outage began. */
  served: number;
  /** Requests that got no answer (nothing held) since the outage began. */
  refused: number;
}

/** Every outage going on in this process. */
export function currentOutages(): OutageInfo[] {
  return [...active].map((o) => o.info());
}

export class OutageState {
  private since: number | null = null;
  private probeAt = 0;
  private servedCount = 0;
  private refusedCount = 0;
  private readonly every: LogEvery;

  constructor(
    readonly what: string,
    private readonly now: () => number,
    private readonly probeMs: number,
    private readonly log: Logger,
    intervalMs = 60_000,
  ) {
    this.every = new LogEvery(log, intervalMs, now);
  }

  /** Known unreachable, and not yet time to try the database again. */
  get down(): boolean {
    return this.since !== null && this.now() < this.probeAt;
  }

  /** An outage is going on (since the first failure, until an attempt succeeds). */
  get ongoing(): boolean {
    return this.since !== null;
  }

  /** An attempt failed because the database could not be reached. */
  failed(): void {
    const t = this.now();
    this.probeAt = t + this.probeMs;
    if (this.since !== null) return;
    this.since = t;
    this.servedCount = 0;
    this.refusedCount = 0;
    active.add(this);
    this.log.warn({ what: this.what, cause: 'database unreachable' }, `database unreachable: ${this.what} answered from memory where held`);
  }

  /** An attempt succeeded. */
  recovered(): void {
    if (this.since === null) return;
    this.log.info({ what: this.what, outageMs: Math.round(this.now() - this.since), served: this.servedCount, refused: this.refusedCount }, `database reachable again: ${this.what} read from it`);
    this.since = null;
    this.probeAt = 0;
    this.every.clear('served');
    this.every.clear('refused');
    active.delete(this);
  }

  served(): void {
    this.servedCount++;
    this.every.warn('served', `database unreachable: ${this.what} answered from held data (stale)`, { what: this.what });
  }

  refused(): void {
    this.refusedCount++;
    this.every.warn('refused', `database unreachable: ${this.what} not held, request not answered`, { what: this.what });
  }

  info(): OutageInfo {
    return { what: this.what, forMs: this.since === null ? 0 : Math.round(this.now() - this.since), served: this.servedCount, refused: this.refusedCount };
  }

  /** Stop counting it as an ongoing outage (owner closed). */
  close(): void {
    active.delete(this);
  }
}
