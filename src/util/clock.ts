// Time, injected: state machines take a Clock so the same code runs on real time,
// in unit tests on a manual clock, and in simulations.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch (also the base of RFC 5213 timestamps). */
  now(): number;
  /**
   * Like now(), with a sub-millisecond fraction, and strictly increasing across the whole
   * process by at least one RFC 5213 §8.8 timestamp unit (1/65536 s) per call: two MAGs
   * in one process never stamp two PBUs with the same time (the LMA answers 156 to a tie).
   */
  nowPrecise?(): number;
  /** Runs fn after ms; the handle cancels it. */
  setTimer(ms: number, fn: () => void): TimerHandle;
}

/** One RFC 5213 timestamp unit (1/65536 s) in ms, rounded up. */
const TS_UNIT_MS = 1000 / 65536 + 1e-6;
let lastPrecise = 0;

export const systemClock: Clock = {
  now: () => Date.now(),
  nowPrecise() {
    // Wall-clock milliseconds plus the monotonic clock's sub-millisecond part: stays within
    // about a millisecond of Date.now() while calls are fewer than 65 per millisecond.
    const t = Math.max(Date.now() + (performance.now() % 1), lastPrecise + TS_UNIT_MS);
    lastPrecise = t;
    return t;
  },
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

/** A clock that only moves when told: advance(ms) fires due timers in time order. */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  setTimer(ms: number, fn: () => void): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return { cancel: () => void this.timers.delete(id) };
  }
  /** Moves time forward, firing every timer that falls due (including ones set meanwhile). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let nextId = -1;
      let nextAt = Infinity;
      for (const [id, tm] of this.timers) {
        if (tm.at <= end && (tm.at < nextAt || (tm.at === nextAt && id < nextId))) {
          nextAt = tm.at;
          nextId = id;
        }
      }
      if (nextId < 0) break;
      const tm = this.timers.get(nextId)!;
      this.timers.delete(nextId);
      this.t = Math.max(this.t, tm.at);
      tm.fn();
    }
    this.t = end;
  }
  pending(): number {
    return this.timers.size;
  }
}
