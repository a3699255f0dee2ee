// "Logged once per cause and peer": the first drop of each (cause, peer) pair is logged,
// later ones are only counted by the caller. Bounded: past `max` distinct pairs, one line
// says so and nothing more is logged (a flood from spoofed sources cannot grow memory).
import type { Logger } from './log.ts';

export class LogOnce {
  private readonly seen = new Set<string>();
  private full = false;
  constructor(
    private readonly log: Logger,
    private readonly what: string,
    private readonly max = 10_000,
  ) {}

  /** Logs at warn level the first time this cause is seen from this peer; true when it logged. */
  warn(cause: string, peer: string, fields: Record<string, unknown> = {}): boolean {
    const k = `${cause}\u0000${peer}`;
    if (this.seen.has(k)) return false;
    if (this.seen.size >= this.max) {
      if (!this.full) this.log.warn({ max: this.max }, `${this.what}: too many distinct drop causes and peers; further ones are counted, not logged`);
      this.full = true;
      return false;
    }
    this.seen.add(k);
    this.log.warn({ cause, peer, ...fields }, `${this.what}: dropped (${cause}); further drops for this cause from this peer are counted, not logged`);
    return true;
  }
}
