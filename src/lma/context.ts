// What the LMA's parts (handle, heartbeat, revoke, path) share: the state machine's
// injected pieces and its cross-cutting operations. Implemented by the Lma class (lma.ts).
import type { Clock } from '../util/clock.ts';
import type { Logger } from '../util/log.ts';
import type { LogEvery } from '../util/log-rate.ts';
import type { LmaPolicySource } from '../policy/source.ts';
import type { MhMessage } from '../mh/index.ts';
import type { MhTransport, Peer } from '../transport/types.ts';
import type { Bce, BindingCache, MagPeer } from './bce.ts';
import type { LmaCounters, TxType } from './counters.ts';
import type { Forwarding } from './forwarding.ts';
import type { MagTable } from './sender.ts';
import type { BindingEventKind, LmaConfig, LmaEventSink, MemoryLmaPolicy, PeerEvent } from './types.ts';

export interface LmaContext {
  readonly cfg: LmaConfig;
  readonly clock: Clock;
  readonly cache: BindingCache;
  readonly counters: LmaCounters;
  readonly fwd: Forwarding;
  readonly policy: LmaPolicySource & MemoryLmaPolicy;
  readonly log: Logger;
  /** One log line per cause per interval, with a count (conditions that repeat per PBU). */
  readonly logEvery: LogEvery;
  readonly serial: Serializer;
  readonly events: LmaEventSink | undefined;
  /** Provisioned MAGs, from memory (sender.ts); undefined: every source is its own MAG. */
  readonly mags: MagTable | undefined;
  /** Rate of 154 answers to PBUs refused from memory (a flood of forged sources gets no more). */
  readonly refusals: { take(now: number): boolean; has(now: number): boolean };
  /** RFC 5847 §3.2: our Restart Counter. */
  readonly restartCounter: number;
  /** Encodes and sends; counts it under `tx`. */
  send(t: MhTransport, msg: MhMessage, to: Peer, from: string | undefined, tx: TxType): void;
  /** Sets a BCE's deadline (and re-arms the single expiry timer when needed). */
  schedule(b: Bce, at: number): void;
  /**
   * Acknowledged means durable: queues b's state as a change whose PBA waits, and resolves
   * true once it is committed (store or journal, commit.ts); false: not durable, send no PBA.
   * `true` at once when nothing is persisted.
   */
  durable(b: Bce): true | Promise<boolean>;
  /** True when the binding store holds b's state as changed so far, or nothing is persisted. */
  written(b: Bce): boolean;
  /** Counts, logs, persists (lazily) and publishes a binding change. */
  changed(b: Bce, kind: BindingEventKind, extra?: { reason?: string; previousProxyCoa?: string }): void;
  /** Publishes a MAG peer event to every sink. */
  peerEvent(e: PeerEvent): void;
  /** Removes a BCE and its forwarding state now; `kind` is what it counts as. */
  removeBce(b: Bce, kind: BindingEventKind, reason: string): Promise<void>;
  /** The peer record for a MAG, created when new. */
  peerFor(key: string, address: string, port: number, local: string, carriage: string, t: MhTransport): MagPeer;
}

type Job = () => void | Promise<void>;

/**
 * Per-MN serialisation: PBUs (and timer work) for one MN run one at a time, in arrival
 * order, even when one of them waits for the policy source or the data plane. A job that
 * completes synchronously costs no allocation: the queue exists only while one is pending.
 */
export class Serializer {
  private readonly busy = new Map<string, Job[] | null>();
  constructor(
    private readonly onError: (e: unknown) => void,
    /** Bounds for work keyed by what a packet says (tryRun): MNs with work pending, jobs queued per MN. */
    private readonly bounds: { maxKeys: number; maxPerKey: number } = { maxKeys: Infinity, maxPerKey: Infinity },
  ) {}

  /**
   * run() for work a peer asked for (a PBU): refused, and left to the caller to count, when
   * `maxKeys` MNs already have work pending or this MN has `maxPerKey` jobs queued. Timer and
   * operator work uses run(), which is never refused.
   */
  tryRun(key: string, job: Job): 'ok' | 'key-full' | 'keys-full' {
    const q = this.busy.get(key);
    if (q === undefined) {
      if (this.busy.size >= this.bounds.maxKeys) return 'keys-full';
    } else if (q !== null && q.length >= this.bounds.maxPerKey) {
      return 'key-full';
    }
    this.run(key, job);
    return 'ok';
  }

  get pending(): number {
    return this.busy.size;
  }

  isBusy(key: string): boolean {
    return this.busy.has(key);
  }

  run(key: string, job: Job): void {
    if (this.busy.has(key)) {
      let q = this.busy.get(key);
      if (!q) {
        q = [];
        this.busy.set(key, q);
      }
      q.push(job);
      return;
    }
    const r = this.call(job);
    if (r !== undefined) {
      this.busy.set(key, null);
      r.then(() => this.drain(key), (e: unknown) => {
        this.onError(e);
        this.drain(key);
      });
    }
  }

  /** Resolves when nothing is queued or running for any key. */
  async idle(): Promise<void> {
    while (this.busy.size > 0) await new Promise((r) => setImmediate(r));
  }

  private call(job: Job): Promise<void> | undefined {
    try {
      const r = job();
      return r instanceof Promise ? r : undefined;
    } catch (e) {
      this.onError(e);
      return undefined;
    }
  }

  private drain(key: string): void {
    for (;;) {
      const q = this.busy.get(key);
      if (!q || q.length === 0) {
        this.busy.delete(key);
        return;
      }
      const job = q.shift()!;
      const r = this.call(job);
      if (r !== undefined) {
        r.then(() => this.drain(key), (e: unknown) => {
          this.onError(e);
          this.drain(key);
        });
        return;
      }
    }
  }
}
