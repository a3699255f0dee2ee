// Notification originator (RFC 3413 §3.3, RFC 3416 §4.2.6-4.2.7): SNMPv2-Trap or
// InformRequest to each configured target, through net-snmp sessions (one per target,
// kept open). A token bucket limits how many notifications leave per second; the excess
// is dropped and counted, never queued without bound.
import { isIPv6 } from 'node:net';
import snmp from 'net-snmp';
import type { Session } from 'net-snmp';
import type { Logger } from '../util/log.ts';
import { makeUser, type UsmUserConfig } from './usm.ts';

export interface NotificationTarget {
  /** Manager address (IPv4 or IPv6). */
  address: string;
  /** UDP port, default 162. */
  port?: number;
  version: '2c' | '3';
  /** SNMPv2c community. */
  community?: string;
  /** SNMPv3 user as configured on the receiver (for an inform the receiver is authoritative). */
  user?: UsmUserConfig;
  /** Confirmed InformRequest instead of a Trap. Default: false for v2c, true for v3. */
  inform?: boolean;
  /** Inform timeout and retries (default 2000 ms, 2). */
  timeoutMs?: number;
  retries?: number;
}

export interface NotificationRate {
  /** Sustained notifications per second (all targets count as one). Default 10. */
  perSecond: number;
  /** Burst allowed above the rate. Default 20. */
  burst: number;
}

export interface NotificationStats {
  /** Notifications accepted by the rate limiter (each goes to every target). */
  notificationsSent: number;
  /** Dropped by the rate limiter. */
  notificationsSuppressed: number;
  /** Per-target sends that failed (inform unanswered, socket error). */
  notificationsFailed: number;
  /** Informs acknowledged by a receiver. */
  informsAcknowledged: number;
}

export interface OutVarbind {
  oid: string;
  type: number;
  value: unknown;
}

export class Notifier {
  private readonly sessions: { target: NotificationTarget; session: Session; inform: boolean }[] = [];
  private tokens: number;
  private last: number;
  private pending = 0;
  private idle: (() => void)[] = [];
  readonly stats: NotificationStats = { notificationsSent: 0, notificationsSuppressed: 0, notificationsFailed: 0, informsAcknowledged: 0 };

  constructor(
    targets: readonly NotificationTarget[],
    private readonly rate: NotificationRate,
    private readonly upTime: () => number,
    private readonly log: Logger,
    engineId: Buffer,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(rate.perSecond > 0) || !(rate.burst >= 1)) throw new RangeError('snmp notification rate: perSecond > 0 and burst >= 1 required');
    this.tokens = rate.burst;
    this.last = now();
    for (const t of targets) {
      const transport = isIPv6(t.address) ? 'udp6' : 'udp4';
      // `port` too: net-snmp 3.29 sends a v3 inform to trapPort only while it discovers the
      // receiver's engine; every later one goes to the session's `port` (default 161).
      const common = { port: t.port ?? 162, trapPort: t.port ?? 162, transport, timeout: t.timeoutMs ?? 2000, retries: t.retries ?? 2 };
      let session: Session;
      if (t.version === '2c') {
        if (!t.community) throw new RangeError(`snmp notification target ${t.address}: community required for v2c`);
        session = snmp.createSession(t.address, t.community, { ...common, version: snmp.Version2c });
      } else {
        if (!t.user) throw new RangeError(`snmp notification target ${t.address}: user required for v3`);
        session = snmp.createV3Session(t.address, makeUser(t.user).netSnmpUser, { ...common, version: snmp.Version3, engineID: engineId.toString('hex') });
      }
      session.on('error', (e: Error) => log.warn({ err: e, target: t.address }, 'snmp notification session error'));
      this.sessions.push({ target: t, session, inform: t.inform ?? t.version === '3' });
    }
  }

  /** Sends one notification to every target, unless the rate limit says no. */
  send(notificationOid: readonly number[], varbinds: OutVarbind[]): boolean {
    const now = this.now();
    this.tokens = Math.min(this.rate.burst, this.tokens + ((now - this.last) / 1000) * this.rate.perSecond);
    this.last = now;
    if (this.tokens < 1) {
      this.stats.notificationsSuppressed++;
      return false;
    }
    this.tokens -= 1;
    this.stats.notificationsSent++;
    const oid = notificationOid.join('.');
    const options = { upTime: Math.max(1, this.upTime()) };
    for (const s of this.sessions) {
      this.pending++;
      const done = (error: Error | null) => {
        if (error) {
          this.stats.notificationsFailed++;
          this.log.warn({ err: error, target: s.target.address, oid }, 'snmp notification not delivered');
        } else if (s.inform) {
          this.stats.informsAcknowledged++;
        }
        if (--this.pending === 0) for (const f of this.idle.splice(0)) f();
      };
      try {
        if (s.inform) s.session.inform(oid, varbinds, options, done);
        else s.session.trap(oid, varbinds, options, done);
      } catch (e) {
        done(e as Error);
      }
    }
    return true;
  }

  /** Resolves when no send or inform is outstanding. */
  settled(): Promise<void> {
    return this.pending === 0 ? Promise.resolve() : new Promise((r) => this.idle.push(r));
  }

  close(): void {
    for (const s of this.sessions) {
      try {
        s.session.close();
      } catch {
        /* already closed */
      }
    }
    this.sessions.length = 0;
  }
}
