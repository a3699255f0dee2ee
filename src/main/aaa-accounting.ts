// MagAccounting (a MagEventSink): Accounting-Request Start when a binding is registered and
// Stop when it is de-registered, revoked or lost (RFC 6572 §7, RFC 2866), with the HNPs, HoA,
// LMA and the Accept's Class; the AAA server finds the MAG serving an MN from these records.
import type { MagEvent, MagEventSink } from '../mag/index.ts';
import type { Logger } from '../util/log.ts';
import type { RadiusMagPolicy } from './aaa-policy.ts';

/** RFC 2866 §5.10 Acct-Terminate-Cause values the MAG reports. */
export const Terminate = { UserRequest: 1, LostService: 3, AdminReset: 6, NasRequest: 10 } as const;

export interface AcctSession {
  id: string;
  key: string;
  link: string;
  startedAt: number;
  lma: string;
  hnps: string[];
  ipv4HoA: string | null;
  cause: number | null;
}

/** RFC 6572 §7 / RFC 2866 accounting of the MAG's bindings. */
export class MagAccounting implements MagEventSink {
  readonly sessions = new Map<string, AcctSession>();
  private readonly pending = new Set<Promise<void>>();
  private counter = 0;
  readonly stats = { sent: 0, failed: 0 };

  constructor(
    private readonly policy: RadiusMagPolicy,
    private readonly nasId: string,
    private readonly log: Logger,
  ) {}

  static key(mnId: string, link: string): string {
    return `${mnId}\n${link}`;
  }

  /** The accounting sessions of an MN on this MAG. */
  of(mnId: string): AcctSession[] {
    return [...this.sessions.values()].filter((s) => s.key === mnId);
  }

  /** The Acct-Terminate-Cause the next Stop of this session carries. */
  setCause(mnId: string, link: string, cause: number): void {
    const s = this.sessions.get(MagAccounting.key(mnId, link));
    if (s) s.cause = cause;
  }

  emit(e: MagEvent): void {
    switch (e.type) {
      case 'registered': {
        const k = MagAccounting.key(e.mnId, e.link);
        const old = this.sessions.get(k);
        if (old) this.stop(old, Terminate.NasRequest);
        const s: AcctSession = {
          id: `${this.nasId}-${Date.now().toString(16)}-${(++this.counter).toString(16)}`,
          key: e.mnId, link: e.link, startedAt: Date.now(), lma: e.lma, hnps: e.hnps, ipv4HoA: e.ipv4HoA, cause: null,
        };
        this.sessions.set(k, s);
        this.send(s, 'start');
        return;
      }
      case 'refreshed': {
        const s = this.sessions.get(MagAccounting.key(e.mnId, e.link));
        if (s) Object.assign(s, { lma: e.lma, hnps: e.hnps, ipv4HoA: e.ipv4HoA });
        return;
      }
      case 'deregistered':
        return this.end(e.mnId, e.link, Terminate.UserRequest);
      case 'failed':
        return this.end(e.mnId, e.link, Terminate.LostService);
      case 'revoked':
        if (!e.ipv4Only) this.end(e.mnId, e.link, Terminate.AdminReset);
        return;
      default:
    }
  }

  private end(mnId: string, link: string, dflt: number): void {
    const s = this.sessions.get(MagAccounting.key(mnId, link));
    if (s) this.stop(s, s.cause ?? dflt);
  }

  private stop(s: AcctSession, cause: number): void {
    this.sessions.delete(MagAccounting.key(s.key, s.link));
    this.send(s, 'stop', cause);
  }

  private send(s: AcctSession, statusType: 'start' | 'stop', terminateCause?: number): void {
    const hoa = s.ipv4HoA ? { address: s.ipv4HoA, prefixLength: 32 } : undefined;
    const p = this.policy.client
      .accounting({
        statusType, sessionId: s.id, userName: this.policy.naiOf(s.key), mnId: s.key, lmaAddress: s.lma, hnps: s.hnps, ipv4HoA: hoa,
        class: this.policy.classes.get(s.key),
        ...(statusType === 'stop' ? { sessionTime: Math.round((Date.now() - s.startedAt) / 1000), terminateCause } : {}),
      })
      .then((r) => {
        if (r.ok) this.stats.sent++;
        else {
          this.stats.failed++;
          this.log.warn({ mnId: s.key, session: s.id, statusType, error: r.error }, 'accounting not acknowledged');
        }
      });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Resolves once every accounting request sent so far is answered or timed out. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
