// Per-key serialisation (one key per MN): attach, detach, PBAs, timers and revocations for
// the same MN apply in arrival order even when one of them awaits (policy lookup, data
// plane). Only keys with queued work hold an entry, so idle MNs cost nothing here.

export class Serializer {
  private readonly inflight = new Map<string, Promise<void>>();

  constructor(private readonly onError: (e: unknown, key: string) => void) {}

  /**
   * Runs fn after everything already queued for `key`. The fast path (nothing queued, fn
   * synchronous) runs inline, so timer-driven sends happen at the timer's own instant.
   */
  run<T>(key: string, fn: () => T | Promise<T>): Promise<T | undefined> {
    const prev = this.inflight.get(key);
    if (!prev) {
      let r: T | Promise<T>;
      try {
        r = fn();
      } catch (e) {
        this.onError(e, key);
        return Promise.resolve(undefined);
      }
      if (!(r instanceof Promise)) return Promise.resolve(r);
      return this.track(key, r);
    }
    return this.track(key, prev.then(fn));
  }

  /** Resolves once nothing is queued for any key. */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight.values()]);
  }

  get size(): number {
    return this.inflight.size;
  }

  private track<T>(key: string, p: Promise<T>): Promise<T | undefined> {
    const q = p.catch((e: unknown) => {
      this.onError(e, key);
      return undefined;
    });
    const tail = q.then(() => undefined);
    this.inflight.set(key, tail);
    void tail.then(() => {
      if (this.inflight.get(key) === tail) this.inflight.delete(key);
    });
    return q;
  }
}
