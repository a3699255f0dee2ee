// LISTEN for PostgreSQL notifications (NOTIFY / pg_notify) on one dedicated connection, with
// reconnection and a liveness check, for caches that must follow changes made by other
// processes (the profile directory). PGlite has one session in this process: Db.listen.
//
// The channel reports `up` once LISTEN is active on a connection, `notify` for each
// notification, and `down` as soon as the connection is known to be lost (error, end, or a
// liveness query that did not answer within `timeoutMs`). Notifications sent while no
// connection listened are lost for good: after a `down` the subscriber must treat what it
// derived from earlier notifications as stale. `confirmedAt` is the latest moment (of `now`)
// at which the connection was proven to listen: every notification committed before it has
// been delivered (a liveness query's reply comes after the notifications pending before it).
import pg from 'pg';
import type { Db } from './db.ts';
import { logger, type Logger } from '../util/log.ts';

export interface ChannelEvents {
  notify(payload: string): void;
  up(): void;
  down(reason: string): void;
}

export interface NotificationChannel {
  /** `now()` when the connection was last proven to listen (start of the last answered liveness query). */
  readonly confirmedAt: number;
  close(): Promise<void>;
}

export interface PgChannelOptions {
  /** Liveness query period (default 2000 ms). */
  heartbeatMs?: number;
  /** A liveness query or connection attempt unanswered this long means the connection is lost (default 2000 ms). */
  timeoutMs?: number;
  /** Reconnection delay: doubles from min to max (default 250 ms .. 5000 ms). */
  retryMinMs?: number;
  retryMaxMs?: number;
  now?: () => number;
  logger?: Logger;
}

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** LISTEN on a dedicated PostgreSQL connection; reconnects until closed. Resolves after the first attempt. */
export async function listenPostgres(url: string, channel: string, events: ChannelEvents, o: PgChannelOptions = {}): Promise<NotificationChannel> {
  const heartbeatMs = o.heartbeatMs ?? 2000;
  const timeoutMs = o.timeoutMs ?? 2000;
  const retryMin = o.retryMinMs ?? 250;
  const retryMax = o.retryMaxMs ?? 5000;
  const now = o.now ?? (() => performance.now());
  const log = o.logger ?? logger('store');

  let client: pg.Client | null = null;
  let listening = false;
  let confirmedAt = -Infinity;
  let closed = false;
  let retryMs = retryMin;
  let retryTimer: NodeJS.Timeout | undefined;
  let beat: NodeJS.Timeout | undefined;
  let beatSentAt: number | null = null;

  const lost = (c: pg.Client, reason: string) => {
    if (client !== c) return; // an older connection's late events
    client = null;
    clearInterval(beat);
    beatSentAt = null;
    c.removeAllListeners('notification');
    c.on('error', () => undefined); // late socket errors of a connection we dropped
    void c.end().catch(() => undefined);
    const was = listening;
    listening = false;
    if (was) {
      log.warn({ channel, reason }, 'notification channel lost; reconnecting');
      events.down(reason);
    }
    if (!closed) {
      retryTimer = setTimeout(() => void connect(), retryMs);
      retryTimer.unref();
      retryMs = Math.min(retryMax, retryMs * 2);
    }
  };

  /** A query that must answer within timeoutMs, or the connection counts as lost. */
  const timed = async (c: pg.Client, sql: string): Promise<void> => {
    const t = setTimeout(() => lost(c, `no answer to ${sql} within ${timeoutMs} ms`), timeoutMs);
    try {
      await c.query(sql);
    } finally {
      clearTimeout(t);
    }
  };

  const heartbeat = (c: pg.Client) => {
    if (beatSentAt !== null) return; // the previous one is still out (its timer judges it)
    const sent = now();
    beatSentAt = sent;
    timed(c, 'SELECT 1').then(
      () => {
        if (client !== c) return;
        beatSentAt = null;
        confirmedAt = sent;
      },
      (e: unknown) => lost(c, (e as Error).message),
    );
  };

  const connect = async (): Promise<void> => {
    if (closed) return;
    const c = new pg.Client({ connectionString: url, keepAlive: true, connectionTimeoutMillis: timeoutMs, application_name: 'pmip6-listen' });
    client = c;
    c.on('error', (e) => lost(c, e.message));
    c.on('end', () => lost(c, 'connection ended'));
    c.on('notification', (m) => {
      if (client === c && m.channel === channel) events.notify(m.payload ?? '');
    });
    try {
      await c.connect();
      const sent = now();
      await timed(c, `LISTEN ${quoteIdent(channel)}`);
      if (client !== c || closed) return;
      listening = true;
      confirmedAt = sent;
      retryMs = retryMin;
      beat = setInterval(() => heartbeat(c), heartbeatMs);
      beat.unref();
      events.up();
    } catch (e) {
      lost(c, (e as Error).message);
    }
  };

  await connect();
  return {
    get confirmedAt() {
      return confirmedAt;
    },
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      clearInterval(beat);
      const c = client;
      client = null;
      listening = false;
      if (c) {
        c.removeAllListeners('notification');
        c.on('error', () => undefined);
        await c.end().catch(() => undefined);
      }
    },
  };
}

/** LISTEN on PGlite's one session (this process is the only writer: nothing can be missed). */
export async function listenPglite(db: Db, channel: string, events: ChannelEvents): Promise<NotificationChannel> {
  if (!db.listen) throw new Error(`${db.kind} store cannot LISTEN in-session`);
  const stop = await db.listen(channel, (p) => events.notify(p));
  events.up();
  let open = true;
  return {
    confirmedAt: Infinity,
    async close() {
      if (!open) return;
      open = false;
      await stop().catch(() => undefined);
    },
  };
}
