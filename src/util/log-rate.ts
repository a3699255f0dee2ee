// One log line per cause per interval, with a count: for conditions that repeat for every
// request while they last (a database outage, a stream of malformed OIDs), so the log says
// what happened and how often instead of repeating itself thousands of times.
import type { Logger } from './log.ts';

interface CauseState {
  /** Occurrences not yet reported. */
  count: number;
  /** When the last line for this cause was written. */
  last: number;
}

export class LogEvery {
  private readonly causes = new Map<string, CauseState>();
  private overflowReported = false;

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
    /** Most distinct causes remembered (causes may carry packet content). */
    private readonly maxCauses = 1000,
  ) {}

  /**
   * Counts one occurrence of `cause`; writes a line for the first one and then at most one per
   * interval, saying how many occurred since the previous line. Returns whether it wrote.
   */
  warn(cause: string, msg: string, fields: Record<string, unknown> = {}): boolean {
    const t = this.now();
    let s = this.causes.get(cause);
    if (s === undefined) {
      if (this.causes.size >= this.maxCauses) {
        for (const [k, v] of this.causes) if (t - v.last >= this.intervalMs) this.causes.delete(k);
        if (this.causes.size >= this.maxCauses) {
          if (!this.overflowReported) this.log.warn({ maxCauses: this.maxCauses }, 'too many distinct causes to log; further ones are only counted');
          this.overflowReported = true;
          return false;
        }
      }
      s = { count: 0, last: t };
      this.causes.set(cause, s);
      this.log.warn({ cause, count: 1, ...fields }, msg);
      return true;
    }
    s.count++;
    if (t - s.last < this.intervalMs) return false;
    this.log.warn({ cause, count: s.count, sinceMs: t - s.last, ...fields }, `${msg} (${s.count} times since the last report)`);
    s.count = 0;
    s.last = t;
    return true;
  }

  /** Forget a cause (the condition ended): its next occurrence is reported at once. */
  clear(cause: string): void {
    this.causes.delete(cause);
  }
}
