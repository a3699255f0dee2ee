// The peer directory: the MAG table (for the LMA) and the RADIUS client table (for the RADIUS
// server) held in memory, so that a packet from a source that is not provisioned is refused
// without a database query (issue 9: bounded work for unauthenticated input).
//
// How it stays current: migration 005 has statement triggers on mags, mag_proxy_coas and
// aaa_clients that pg_notify('pmip6_peer', 'mags' | 'aaa_clients') from the changing
// transaction. The directory LISTENs through the same channel code as the profile directory
// (notifications.ts: a dedicated connection on PostgreSQL, the one session on PGlite) and
// reloads the named table, whole (these tables are small: one row per MAG or NAS).
//
// While the notification channel is down (PostgreSQL connection lost) the last loaded tables
// stay in use (the LMA and the RADIUS server keep serving provisioned peers through a database
// outage) and are reloaded as soon as LISTEN is active again; the log says so. A change made
// in this process is seen at once by calling reload() (the API does, through the notification
// on PGlite, which arrives before the writing statement resolves).
import type { Db } from './db.ts';
import type { MagRepo, Mag } from './repos/mags.ts';
import type { AaaClientRepo, RadiusClientSecret } from './repos/aaa-clients.ts';
import { listenPglite, listenPostgres, type NotificationChannel } from './notifications.ts';
import { canonicalAddress } from '../util/ip.ts';
import { logger, type Logger } from '../util/log.ts';

export const PEER_CHANNEL = 'pmip6_peer';
type Table = 'mags' | 'aaa_clients';

export interface PeerDirectoryOptions {
  /** PostgreSQL: the database URL for the dedicated LISTEN connection. */
  listenUrl?: string;
  /** Which tables to hold (default both). */
  tables?: Table[];
  logger?: Logger;
}

export class PeerDirectory {
  /** Canonical Proxy-CoA -> MAG. */
  private magsByCoa = new Map<string, Mag>();
  /** Canonical source address -> RADIUS client (secret in the clear, in memory only). */
  private radiusByAddress = new Map<string, RadiusClientSecret>();
  private channel: NotificationChannel | null = null;
  private readonly tables: Set<Table>;
  private readonly log: Logger;
  private readonly loading = new Map<Table, Promise<void>>();
  private readonly again = new Set<Table>();
  private readonly listeners = new Set<(t: Table) => void>();
  private closed = false;
  readonly stats = { reloads: 0, notifications: 0, failures: 0 };

  constructor(
    private readonly store: { db: Db; mags: MagRepo; aaaClients: AaaClientRepo },
    private readonly o: PeerDirectoryOptions = {},
  ) {
    this.tables = new Set(o.tables ?? ['mags', 'aaa_clients']);
    this.log = o.logger ?? logger('store');
  }

  /** Loads the tables and follows their changes. Rejects when the first load fails. */
  async start(): Promise<void> {
    const events = {
      notify: (payload: string) => {
        this.stats.notifications++;
        if (payload === 'mags' || payload === 'aaa_clients') void this.reload(payload);
      },
      up: () => {
        // Notifications sent while nobody listened are lost: read everything again.
        if (this.channel) for (const t of this.tables) void this.reload(t);
      },
      down: (reason: string) => this.log.warn({ reason }, 'peer directory: change notifications lost; serving the last loaded MAG and client tables until they are back'),
    };
    const { db } = this.store;
    if (db.kind === 'postgres' && this.o.listenUrl) {
      this.channel = await listenPostgres(this.o.listenUrl, PEER_CHANNEL, events, { logger: this.log });
    } else if (db.listen) {
      this.channel = await listenPglite(db, PEER_CHANNEL, events);
    } else {
      this.log.warn('peer directory: no way to LISTEN; tables are read once at start');
    }
    for (const t of this.tables) await this.reload(t, true);
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.channel;
    this.channel = null;
    await c?.close();
  }

  /** Called after each reload of a table. */
  onChange(l: (t: Table) => void): () => void {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  }

  /** Reads a table again (coalesced: one read at a time per table, one more if asked meanwhile). */
  reload(t: Table, strict = false): Promise<void> {
    if (!this.tables.has(t) || this.closed) return Promise.resolve();
    const running = this.loading.get(t);
    if (running) {
      this.again.add(t);
      return running;
    }
    const p = this.load(t).then(
      () => undefined,
      (e: unknown) => {
        this.stats.failures++;
        this.log.warn({ table: t, err: (e as Error).message }, 'peer directory: reload failed; keeping the previous table');
        if (strict) throw e;
      },
    ).finally(() => {
      this.loading.delete(t);
      if (this.again.delete(t)) void this.reload(t);
    });
    this.loading.set(t, p);
    return p;
  }

  private async load(t: Table): Promise<void> {
    this.stats.reloads++;
    if (t === 'mags') {
      const next = new Map<string, Mag>();
      for (const m of await this.store.mags.all()) for (const a of m.proxyCoa) next.set(canonicalAddress(a) ?? a, m);
      this.magsByCoa = next;
    } else {
      const { clients, unreadable } = await this.store.aaaClients.allRadius();
      const next = new Map<string, RadiusClientSecret>();
      for (const c of clients) next.set(canonicalAddress(c.address) ?? c.address, c);
      this.radiusByAddress = next;
      if (unreadable.length > 0) {
        this.log.error({ clients: unreadable }, 'peer directory: RADIUS client secrets sealed with a key that is not configured; those clients are refused until their secret is entered again');
      }
    }
    for (const l of this.listeners) l(t);
  }

  /** The MAG owning a canonical Proxy-CoA. */
  mag(address: string): Mag | undefined {
    return this.magsByCoa.get(address);
  }

  get magCount(): number {
    return new Set(this.magsByCoa.values()).size;
  }

  /** The RADIUS client at a canonical source address. */
  radiusClient(address: string): RadiusClientSecret | undefined {
    return this.radiusByAddress.get(address);
  }

  get radiusClientCount(): number {
    return this.radiusByAddress.size;
  }
}

export async function openPeerDirectory(store: { db: Db; mags: MagRepo; aaaClients: AaaClientRepo }, o: PeerDirectoryOptions = {}): Promise<PeerDirectory> {
  const d = new PeerDirectory(store, o);
  try {
    await d.start();
  } catch (e) {
    await d.close();
    throw e;
  }
  return d;
}
