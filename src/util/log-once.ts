// "Logged once per cause and peer": the first drop of each (cause, peer) pair is logged,
// later ones are only counted by the caller. Bounded: past `max` distinct pairs, one line
// says so and nothing more is logged (a flood from spoofed sources cannot grow memory).
import type { Logger } from './log.ts';

/** How the lines read: the peer's field name and the two messages. */
export interface LogOnceWording {
  /** Field holding the peer in the first line (default 'peer'). */
  peerField: string;
  /** The line logged for the first case of a cause from a peer. */
  first(what: string, cause: string): string;
  /** The line logged once when `max` distinct pairs are reached. */
  full(what: string): string;
}

/** Drops of packets or messages (the default). */
export const DROPPED: LogOnceWording = {
  peerField: 'peer',
  first: (what, cause) => `${what}: dropped (${cause}); further drops for this cause from this peer are counted, not logged`,
  full: (what) => `${what}: too many distinct drop causes and peers; further ones are counted, not logged`,
};

export class LogOnce {
  private readonly seen = new Set<string>();
  private full = false;
  constructor(
    private readonly log: Logger,
    private readonly what: string,
    private readonly max = 10_000,
    private readonly wording: LogOnceWording = DROPPED,
  ) {}

  /** Logs at warn level the first time this cause is seen from this peer; true when it logged. */
  warn(cause: string, peer: string, fields: Record<string, unknown> = {}): boolean {
    const k = `${cause}\u0000${peer}`;
    if (this.seen.has(k)) return false;
    if (this.seen.size >= this.max) {
      if (!this.full) this.log.warn({ max: this.max }, this.wording.full(this.what));
      this.full = true;
      return false;
    }
    this.seen.add(k);
    this.log.warn({ cause, [this.wording.peerField]: peer, ...fields }, this.wording.first(this.what, cause));
    return true;
  }
}
