// Synthetic attach / move / detach events for `pmip6 simulate --mns N --rate R`: N mobile
// nodes ("sim-<i>@<realm>", locally administered MACs 02:00:xx:xx:xx:xx) driven through one or
// more MAGs at R events per second. Each MAG gets its own AttachDetector (`detectorFor`), so
// a "move" is a detach at one MAG and an attach at another, with the Handoff Indicator a
// real detector would report (RFC 5213 §6.9.1.1 item 4: 1 on first attach, 3 when the same
// interface moved between MAGs). State per MN is one slot in an Int32Array, so a million
// MNs cost a few megabytes; events are generated lazily.
import type { Clock, TimerHandle } from '../util/clock.ts';
import type { AttachDetachEvent, AttachDetector } from './types.ts';

export type SimScenario =
  /** Every MN attaches (spread over the MAGs), then every MN detaches. */
  | 'attach-detach'
  /** Attach at MAG k, move to MAG k+1, detach there: three phases over all MNs. */
  | 'lifecycle'
  /** Random attach / move / detach steps, then every MN still attached detaches. */
  | 'churn';

export interface SimulatorOptions {
  mns: number;
  /** Events per second (a move counts as two: its detach and its attach). */
  rate: number;
  scenario?: SimScenario;
  /** MAG labels; events are tagged with one of them. Default ['mag1']. */
  mags?: string[];
  realm?: string;
  /** RFC 5213 §8.5 Access Technology Type of the simulated links (default 4, IEEE 802.11a/b/g). */
  accessTechType?: number;
  /** HI for a first attach (default 1, attachment over a new interface). */
  attachHandoffIndicator?: number;
  /** HI for the attach of a move (default 3, handoff between MAGs for the same interface). */
  moveHandoffIndicator?: number;
  /** Order of a move's two events (default break-before-make: detach first). */
  moveOrder?: 'break-before-make' | 'make-before-break';
  /** Random steps in the churn scenario (default 4 x mns). */
  churnSteps?: number;
  /** PRNG seed for churn (default 1). */
  seed?: number;
  /** Pause between the phases of attach-detach and lifecycle, ms (default 0). */
  phaseGapMs?: number;
  clock: Clock;
}

export interface SimSummary {
  events: number;
  attaches: number;
  detaches: number;
  moves: number;
  startedAt: number;
  /** Time of the last event emitted. */
  finishedAt: number;
  perMag: Record<string, { attaches: number; detaches: number }>;
  /** MNs still attached when the run ended (0 for every scenario that ran to completion). */
  attachedAtEnd: number;
}

export interface SimEvent {
  mag: string;
  event: AttachDetachEvent;
}

/** `split`: the next event goes out in a later tick (at least 1 ms later). */
type Step = SimEvent | { pauseMs: number } | { move: true } | { split: true };

export class AttachSimulator {
  readonly done: Promise<SimSummary>;
  private resolveDone!: (s: SimSummary) => void;
  private readonly o: Required<Omit<SimulatorOptions, 'clock'>> & { clock: Clock };
  /** Index into mags of the MAG each MN is attached at, -1 when detached. */
  private readonly at: Int32Array;
  private readonly magHandlers = new Map<string, (e: AttachDetachEvent) => void>();
  private readonly taggedHandlers: ((e: SimEvent) => void)[] = [];
  private readonly steps: Iterator<Step>;
  private timer: TimerHandle | null = null;
  private running = false;
  private finished = false;
  private t0 = 0;
  private emittedSinceT0 = 0;
  private resumeAt = 0;
  private lastEventAt = 0;
  /** After a move's first half: no event until the clock is past this time. */
  private splitAfter = -Infinity;
  private held: Step | null = null;
  private readonly s: SimSummary;

  constructor(opts: SimulatorOptions) {
    if (!(opts.mns >= 0) || !Number.isInteger(opts.mns)) throw new RangeError('simulator: mns must be a non-negative integer');
    if (!(opts.rate > 0)) throw new RangeError('simulator: rate must be > 0');
    const mags = opts.mags && opts.mags.length > 0 ? opts.mags : ['mag1'];
    this.o = {
      mns: opts.mns,
      rate: opts.rate,
      scenario: opts.scenario ?? (mags.length > 1 ? 'lifecycle' : 'attach-detach'),
      mags,
      realm: opts.realm ?? 'sim.pmip6.local',
      accessTechType: opts.accessTechType ?? 4,
      attachHandoffIndicator: opts.attachHandoffIndicator ?? 1,
      moveHandoffIndicator: opts.moveHandoffIndicator ?? 3,
      moveOrder: opts.moveOrder ?? 'break-before-make',
      churnSteps: opts.churnSteps ?? 4 * opts.mns,
      seed: opts.seed ?? 1,
      phaseGapMs: opts.phaseGapMs ?? 0,
      clock: opts.clock,
    };
    this.at = new Int32Array(this.o.mns).fill(-1);
    this.s = { events: 0, attaches: 0, detaches: 0, moves: 0, startedAt: 0, finishedAt: 0, perMag: {}, attachedAtEnd: 0 };
    for (const m of mags) this.s.perMag[m] = { attaches: 0, detaches: 0 };
    this.steps = this.generate();
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  mnId(i: number): string {
    return `sim-${i}@${this.o.realm}`;
  }

  /** Locally administered unicast MAC for MN i. */
  mac(i: number): string {
    const h = (n: number) => (n & 0xff).toString(16).padStart(2, '0');
    return `02:00:${h(i >>> 24)}:${h(i >>> 16)}:${h(i >>> 8)}:${h(i)}`;
  }

  /** The simulated point-to-point access link of MN i (the same name at every MAG). */
  link(i: number): string {
    return `sim${i}`;
  }

  /** MN index from a simulator NAI, or -1. */
  indexOf(mnId: string): number {
    const m = /^sim-(\d+)@/.exec(mnId);
    if (!m) return -1;
    const i = Number(m[1]);
    return i < this.o.mns && mnId === this.mnId(i) ? i : -1;
  }

  /** The MAG label MN i is attached at, or null. */
  whereIs(i: number): string | null {
    const k = this.at[i];
    return k >= 0 ? this.o.mags[k] : null;
  }

  /**
   * The AttachDetector a MAG labelled `mag` plugs in: it receives that MAG's events and
   * answers presence checks from the simulator's state. Its start/stop do nothing: the
   * simulation runs from `start()` to `done`.
   */
  detectorFor(mag: string): AttachDetector {
    const k = this.o.mags.indexOf(mag);
    if (k < 0) throw new RangeError(`simulator: unknown MAG label ${mag}`);
    return {
      onEvent: (h) => void this.magHandlers.set(mag, h),
      start: async () => undefined,
      stop: async () => undefined,
      isAttached: (mnId, link) => {
        const i = this.indexOf(mnId);
        return i >= 0 && this.at[i] === k && link === this.link(i);
      },
    };
  }

  /** Every event, tagged with its MAG (for a single consumer that routes them itself). */
  onEvent(handler: (e: SimEvent) => void): void {
    this.taggedHandlers.push(handler);
  }

  /** Starts emitting; `done` resolves after the last event. */
  async start(): Promise<void> {
    if (this.running || this.finished) return;
    this.running = true;
    this.t0 = this.o.clock.now();
    this.s.startedAt = this.t0;
    this.emittedSinceT0 = 0;
    this.tick();
  }

  /** Stops early; `done` resolves with what was emitted so far. */
  async stop(): Promise<void> {
    if (this.finished) return;
    this.finish();
  }

  summary(): SimSummary {
    return structuredClone(this.s);
  }

  private tick(): void {
    this.timer = null;
    if (!this.running) return;
    const now = this.o.clock.now();
    if (now < this.resumeAt) {
      this.timer = this.o.clock.setTimer(this.resumeAt - now, () => this.tick());
      return;
    }
    // Emit what the rate allows by now (the first event at once).
    let due = Math.floor(((now - this.t0) * this.o.rate) / 1000) + 1 - this.emittedSinceT0;
    while (due > 0) {
      let step: Step;
      if (this.held) {
        step = this.held;
        this.held = null;
      } else {
        const r = this.steps.next();
        if (r.done) return this.finish();
        step = r.value;
      }
      if ('pauseMs' in step) {
        if (step.pauseMs > 0) {
          this.resumeAt = now + step.pauseMs;
          this.t0 = this.resumeAt;
          this.emittedSinceT0 = 0;
          this.timer = this.o.clock.setTimer(step.pauseMs, () => this.tick());
          return;
        }
        continue;
      }
      if ('move' in step) {
        this.s.moves++;
        continue;
      }
      if ('split' in step) {
        // The two halves of a move must not share a millisecond: the two MAGs' PBU timestamps
        // (RFC 5213 §5.5, ms clocks) would tie and the LMA could not order them.
        this.splitAfter = this.lastEventAt;
        continue;
      }
      if (now <= this.splitAfter) {
        // Timers may fire before the clock reaches the next millisecond: hold the event.
        this.held = step;
        this.timer = this.o.clock.setTimer(1, () => this.tick());
        return;
      }
      this.splitAfter = -Infinity;
      this.deliver(step);
      this.emittedSinceT0++;
      due--;
    }
    const period = Math.max(1, Math.min(100, 1000 / this.o.rate));
    this.timer = this.o.clock.setTimer(period, () => this.tick());
  }

  private deliver(e: SimEvent): void {
    const pm = this.s.perMag[e.mag];
    this.s.events++;
    this.lastEventAt = this.o.clock.now();
    if (e.event.kind === 'attach') {
      this.s.attaches++;
      pm.attaches++;
    } else {
      this.s.detaches++;
      pm.detaches++;
    }
    for (const h of this.taggedHandlers) safe(() => h(e));
    const h = this.magHandlers.get(e.mag);
    if (h) safe(() => h(e.event));
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.running = false;
    this.timer?.cancel();
    this.timer = null;
    this.s.finishedAt = this.s.events > 0 ? this.lastEventAt : this.o.clock.now();
    let n = 0;
    for (let i = 0; i < this.at.length; i++) if (this.at[i] >= 0) n++;
    this.s.attachedAtEnd = n;
    this.resolveDone(this.summary());
  }

  /* ---------------------------------------------------------------------- */
  /* Event generation                                                        */
  /* ---------------------------------------------------------------------- */

  private attachEv(i: number, k: number, hi: number): SimEvent {
    this.at[i] = k;
    return {
      mag: this.o.mags[k],
      event: {
        kind: 'attach',
        mnId: this.mnId(i),
        mnLinkLayerId: this.mac(i),
        accessTechType: this.o.accessTechType,
        link: this.link(i),
        handoffIndicator: hi,
      },
    };
  }

  private detachEv(i: number): SimEvent {
    const k = this.at[i];
    this.at[i] = -1;
    return { mag: this.o.mags[k], event: { kind: 'detach', mnId: this.mnId(i), mnLinkLayerId: this.mac(i), link: this.link(i) } };
  }

  /** A move of MN i to MAG k: two events, ordered per moveOrder. */
  private *move(i: number, k: number): Generator<Step> {
    yield { move: true };
    if (this.o.moveOrder === 'make-before-break') {
      const from = this.at[i];
      const a = this.attachEv(i, k, this.o.moveHandoffIndicator);
      // attachEv already moved the slot; emit the old MAG's detach by hand.
      yield a;
      yield { split: true };
      yield { mag: this.o.mags[from], event: { kind: 'detach', mnId: this.mnId(i), mnLinkLayerId: this.mac(i), link: this.link(i) } };
    } else {
      yield this.detachEv(i);
      yield { split: true };
      yield this.attachEv(i, k, this.o.moveHandoffIndicator);
    }
  }

  private *generate(): Generator<Step> {
    const { mns, mags, scenario } = this.o;
    const M = mags.length;
    const gap = this.o.phaseGapMs;
    if (scenario === 'attach-detach') {
      for (let i = 0; i < mns; i++) yield this.attachEv(i, i % M, this.o.attachHandoffIndicator);
      yield { pauseMs: gap };
      for (let i = 0; i < mns; i++) yield this.detachEv(i);
      return;
    }
    if (scenario === 'lifecycle') {
      for (let i = 0; i < mns; i++) yield this.attachEv(i, i % M, this.o.attachHandoffIndicator);
      yield { pauseMs: gap };
      if (M > 1) {
        for (let i = 0; i < mns; i++) yield* this.move(i, (this.at[i] + 1) % M);
        yield { pauseMs: gap };
      }
      for (let i = 0; i < mns; i++) yield this.detachEv(i);
      return;
    }
    // churn
    let seed = this.o.seed >>> 0 || 1;
    const rnd = (n: number): number => {
      // xorshift32: deterministic per seed, no allocation.
      seed ^= seed << 13;
      seed >>>= 0;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      seed >>>= 0;
      return seed % n;
    };
    for (let s = 0; s < this.o.churnSteps && mns > 0; s++) {
      const i = rnd(mns);
      if (this.at[i] < 0) {
        yield this.attachEv(i, rnd(M), this.o.attachHandoffIndicator);
      } else if (M > 1 && rnd(2) === 0) {
        yield* this.move(i, (this.at[i] + 1 + rnd(M - 1)) % M);
      } else {
        yield this.detachEv(i);
      }
    }
    yield { pauseMs: gap };
    for (let i = 0; i < mns; i++) if (this.at[i] >= 0) yield this.detachEv(i);
  }
}

function safe(f: () => void): void {
  try {
    f();
  } catch {
    // A consumer's failure must not stop the simulation; consumers log their own errors.
  }
}
