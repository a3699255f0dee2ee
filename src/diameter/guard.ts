// Bounded server state keyed by message content: the duplicate cache (RFC 6733 §3: Origin-Host
// and End-to-End Identifier identify a duplicate, which gets the same answer and changes no
// state), the table of authorization sessions kept for pushes (§8.1), and log-once. Clock
// values are passed in; every map has a hard size limit and counts what it evicts.
import type { Logger } from '../util/log.ts';
import { LogOnce, type LogOnceWording } from '../util/log-once.ts';

type DupEntry = { answer: Buffer | null; expires: number };
export type DupVerdict = { kind: 'new' } | { kind: 'in_progress' } | { kind: 'answered'; answer: Buffer };

/** Duplicate cache of one peer (keyed by its End-to-End Identifiers). */
export class DupCache {
  private readonly map = new Map<number, DupEntry>();
  evicted = 0;
  constructor(private readonly ttlMs: number, private readonly maxEntries: number) {}

  get size(): number {
    return this.map.size;
  }

  check(e2e: number, now: number): DupVerdict {
    const e = this.map.get(e2e);
    if (e && e.expires > now) return e.answer ? { kind: 'answered', answer: e.answer } : { kind: 'in_progress' };
    if (e) this.map.delete(e2e);
    if (this.map.size >= this.maxEntries) this.evict(now);
    this.map.set(e2e, { answer: null, expires: now + this.ttlMs });
    return { kind: 'new' };
  }

  complete(e2e: number, answer: Buffer, now: number): void {
    const e = this.map.get(e2e);
    if (!e) return;
    this.map.delete(e2e);
    e.answer = answer;
    e.expires = now + this.ttlMs;
    this.map.set(e2e, e);
  }

  /** A request that got no answer (policy error): its retransmission is processed anew. */
  abandon(e2e: number): void {
    const e = this.map.get(e2e);
    if (e && !e.answer) this.map.delete(e2e);
  }

  private evict(now: number): void {
    for (const [k, e] of this.map) {
      if (e.expires > now && this.map.size < this.maxEntries) break;
      this.map.delete(k);
      if (e.expires > now) this.evicted++;
    }
  }
}

export interface KeptSession {
  sessionId: string;
  mnId: string;
  /** Lower-cased identity of the peer connection the session came over (pushes go there). */
  peer: string;
  /** Origin-Host of the request (Destination-Host of a push). */
  originHost: string;
  userName: string | null;
}

/** Sessions by Session-Id, indexed by MN; oldest evicted beyond `max`. */
export class SessionTable {
  private readonly byId = new Map<string, KeptSession>();
  /** MN → its Session-Id, or several (an MN is usually in one session: no Set per MN). */
  private readonly byMn = new Map<string, string | string[]>();
  evicted = 0;
  constructor(private readonly max: number) {}

  get size(): number {
    return this.byId.size;
  }

  has(sessionId: string): boolean {
    return this.byId.has(sessionId);
  }

  add(k: Omit<KeptSession, 'peer'>, peer: string): void {
    const old = this.byId.get(k.sessionId);
    // A re-authorisation in the same session (the common case): nothing changes.
    if (old && old.mnId === k.mnId && old.peer === peer && old.originHost === k.originHost && old.userName === k.userName) return;
    const s: KeptSession = { sessionId: k.sessionId, mnId: k.mnId, peer, originHost: k.originHost, userName: k.userName };
    if (old) {
      this.byId.delete(s.sessionId);
      if (old.mnId !== s.mnId) this.unindex(old);
    } else if (this.byId.size >= this.max) {
      const first = this.byId.values().next();
      if (!first.done) {
        this.remove(first.value.sessionId);
        this.evicted++;
      }
    }
    this.byId.set(s.sessionId, s);
    const ids = this.byMn.get(s.mnId);
    if (ids === undefined) this.byMn.set(s.mnId, s.sessionId);
    else if (typeof ids === 'string') {
      if (ids !== s.sessionId) this.byMn.set(s.mnId, [ids, s.sessionId]);
    } else if (!ids.includes(s.sessionId)) ids.push(s.sessionId);
  }

  private unindex(s: KeptSession): void {
    const ids = this.byMn.get(s.mnId);
    if (ids === undefined) return;
    if (typeof ids === 'string') {
      if (ids === s.sessionId) this.byMn.delete(s.mnId);
      return;
    }
    const rest = ids.filter((id) => id !== s.sessionId);
    if (rest.length === 0) this.byMn.delete(s.mnId);
    else this.byMn.set(s.mnId, rest.length === 1 ? rest[0] : rest);
  }

  remove(sessionId: string): KeptSession | undefined {
    const s = this.byId.get(sessionId);
    if (!s) return undefined;
    this.byId.delete(sessionId);
    this.unindex(s);
    return s;
  }

  ofMn(mnId: string): KeptSession[] {
    const ids = this.byMn.get(mnId);
    if (ids === undefined) return [];
    return (typeof ids === 'string' ? [ids] : ids).map((id) => this.byId.get(id)!).filter(Boolean);
  }
}

/** "Logged once per cause and peer" (util/log-once.ts) in Diameter words: not every cause is a drop. */
export const DIAMETER_CASES: LogOnceWording = {
  peerField: 'peer',
  first: (what, cause) => `${what}: ${cause}; further cases of this cause from this peer are counted, not logged`,
  full: (what) => `${what}: too many distinct problem causes/peers; further ones not logged`,
};

/** Logs the first case of each (cause, peer) pair; bounded memory. */
export function diameterLogOnce(log: Logger): LogOnce {
  return new LogOnce(log, 'diameter', 10_000, DIAMETER_CASES);
}
