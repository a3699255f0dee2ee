// Bench-only trace of the group commit (issue 12, p99 of initial registrations): with
// PMIP6BENCH_COMMIT_TRACE=<file> in the environment (not a configuration key), the LMA
// records per durable change the time from its queueing to its batch's start and end, per
// batch its size and write time, the garbage collections and the event loop's delay, and
// writes them as JSON to <file> when the process exits. Off: one check of a constant per call.
// With PMIP6BENCH_ALLOC_PROF=<file> as well: V8's allocation sampling (young-generation garbage
// included) from the 5,000th to the 55,000th durable change, written to <file> (a sampling heap
// profile: bytes per call stack). Summaries: the analysis scripts of the bench run (issue 12).
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';

const FILE = process.env.PMIP6BENCH_COMMIT_TRACE;

/** Batch: [start, end, rows, durable rows] (performance.now() ms). */
type BatchRec = [number, number, number, number];

class Trace {
  /** id -> when its durable change was queued (first time since its last commit). */
  private readonly queuedAt = new Map<number, number>();
  /** Waits (ms) from queueing to batch start, and to batch end, of every durable change. */
  readonly toStart: number[] = [];
  readonly toEnd: number[] = [];
  readonly batches: BatchRec[] = [];
  /** In the LMA: arrival of the PBU (kernel) to its PBA (ms, Date.now resolution). */
  readonly pbuToPba: number[] = [];
  readonly gcs: [number, number, number][] = [];
  private readonly loop = monitorEventLoopDelay({ resolution: 1 });

  constructor(private readonly file: string) {
    this.loop.enable();
    const obs = new PerformanceObserver((l) => {
      for (const e of l.getEntries()) this.gcs.push([e.startTime, e.duration, ((e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0)]);
    });
    obs.observe({ entryTypes: ['gc'] });
    process.on('exit', () => this.write());
  }

  /** Durable changes queued so far (the allocation sampling's window). */
  private n = 0;
  private session: import('node:inspector').Session | null = null;
  queued(id: number): void {
    this.n++;
    const ap = process.env.PMIP6BENCH_ALLOC_PROF;
    if (ap && this.n === 5000) {
      void import('node:inspector').then((ins) => {
        this.session = new ins.Session();
        this.session.connect();
        this.session.post('HeapProfiler.startSampling', { samplingInterval: 2048, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
      });
    }
    if (ap && this.n === 55000 && this.session) {
      this.session.post('HeapProfiler.stopSampling', (err, r) => {
        writeFileSync(ap, JSON.stringify(err ?? (r as { profile: unknown }).profile));
      });
    }
    if (!this.queuedAt.has(id)) this.queuedAt.set(id, performance.now());
  }

  batch(start: number, rows: number, durable: Iterable<number>): void {
    const end = performance.now();
    let n = 0;
    for (const id of durable) {
      const q = this.queuedAt.get(id);
      if (q === undefined) continue;
      this.queuedAt.delete(id);
      this.toStart.push(start - q);
      this.toEnd.push(end - q);
      n++;
    }
    this.batches.push([start, end, rows, n]);
  }

  private write(): void {
    const l = this.loop;
    const loop = { p50: l.percentile(50) / 1e6, p99: l.percentile(99) / 1e6, max: l.max / 1e6, mean: l.mean / 1e6 };
    writeFileSync(this.file, JSON.stringify({ loop, toStart: this.toStart, toEnd: this.toEnd, batches: this.batches, pbuToPba: this.pbuToPba, gcs: this.gcs }));
  }
}

export const commitTrace: Trace | null = FILE ? new Trace(FILE) : null;
