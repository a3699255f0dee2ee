// Server-side guards: RFC 5080 §2.2.2 duplicate cache, per-client token bucket, and
// "log once per cause and client". Clock injected as `now` arguments.
import type { Logger } from '../util/log.ts';
import { LogOnce, type LogOnceWording } from '../util/log-once.ts';

interface DupEntry {
  authenticator: Buffer;
  /** null while the request is being processed. */
  response: Buffer | null;
  expires: number;
}

export type DupVerdict = { kind: 'new' } | { kind: 'in_progress' } | { kind: 'answered'; response: Buffer };

/**
 * Duplicate detection (RFC 5080 §2.2.2): key = receiving socket, source IP, source port and
 * Identifier; a duplicate also has the same Request Authenticator. Answered duplicates get the
 * cached response, in-progress ones are dropped, a new authenticator purges the entry.
 * Entries live `ttlMs` (RFC: 5–30 s); at most `maxEntries`, oldest evicted first.
 */
export class DupCache {
  private readonly map = new Map<string, DupEntry>();
  constructor(private readonly ttlMs: number, private readonly maxEntries: number) {}

  get size(): number {
    return this.map.size;
  }

  /** Look up; on a miss (or a new authenticator) the request is registered as in progress. */
  check(key: string, authenticator: Buffer, now: number): DupVerdict {
    const e = this.map.get(key);
    if (e && e.expires > now && e.authenticator.equals(authenticator)) {
      return e.response ? { kind: 'answered', response: e.response } : { kind: 'in_progress' };
    }
    if (e) this.map.delete(key);
    if (this.map.size >= this.maxEntries) this.evict(now);
    // The authenticator is a view into the received datagram, which nothing else reuses.
    this.map.set(key, { authenticator, response: null, expires: now + this.ttlMs });
    return { kind: 'new' };
  }

  /** True when `key` is new and no entry can be made without evicting one still in its lifetime. */
  full(key: string, now: number): boolean {
    if (this.map.size < this.maxEntries || this.map.has(key)) return false;
    this.sweep(now);
    return this.map.size >= this.maxEntries;
  }

  /** Record the response of a request registered by check(). */
  complete(key: string, authenticator: Buffer, response: Buffer, now: number): void {
    const e = this.map.get(key);
    if (!e || !e.authenticator.equals(authenticator)) return;
    e.response = response;
    // Re-insert so Map order stays expiry order.
    this.map.delete(key);
    e.expires = now + this.ttlMs;
    this.map.set(key, e);
  }

  /** Forget a request that was not answered (policy error): its retransmission is processed anew. */
  abandon(key: string, authenticator: Buffer): void {
    const e = this.map.get(key);
    if (e && e.authenticator.equals(authenticator) && !e.response) this.map.delete(key);
  }

  /** Drop expired entries (Map iteration is insertion = expiry order). */
  sweep(now: number): void {
    for (const [k, e] of this.map) {
      if (e.expires > now) break;
      this.map.delete(k);
    }
  }

  private evict(now: number): void {
    this.sweep(now);
    if (this.map.size < this.maxEntries) return;
    const first = this.map.keys().next();
    if (!first.done) this.map.delete(first.value);
  }
}

/** Token bucket: `rate` tokens per second, up to `burst`. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(private readonly rate: number, private readonly burst: number, now: number) {
    this.tokens = burst;
    this.last = now;
  }

  take(now: number): boolean {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
      this.last = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** "Logged once per cause and client" (util/log-once.ts) in RADIUS words: the client, a dropped packet. */
export const RADIUS_DROPS: LogOnceWording = {
  peerField: 'client',
  first: (what, cause) => `${what}: dropped packet (${cause}); further drops with this cause from this client are counted, not logged`,
  full: (what) => `${what}: too many distinct drop causes/clients; further ones not logged`,
};

/** Logs the first drop of each (cause, client) pair; bounded memory. */
export function radiusLogOnce(log: Logger): LogOnce {
  return new LogOnce(log, 'radius', 10_000, RADIUS_DROPS);
}
