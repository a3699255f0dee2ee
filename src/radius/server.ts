// RADIUS server (RFC 2865/2866 over UDP; RFC 6572 content): authentication port (default
// 1812) and accounting port (default 1813) on one or more local addresses, IPv4 and IPv6.
// Pipeline per datagram: known client by source address → rate limit → framing → code allowed
// on this port → authenticators (constant time) → RFC 5080 duplicate cache → policy → response
// with Message-Authenticator first. Every failure is a counted, once-logged drop; never a crash.
import dgram from 'node:dgram';
import dns from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import { decodePacket, encodeResponse, getAttr, verifyRequestAuthenticator, verifyRequestMessageAuthenticator, type Packet } from './codec.ts';
import { Attr, Code, MAX_PACKET_LENGTH, ServiceType } from './constants.ts';
import { DupCache, TokenBucket, radiusLogOnce } from './guard.ts';
import type { LogOnce } from '../util/log-once.ts';
import { handleAccessRequest, handleAccounting, statusResponse, type Outcome, type RequestKind } from './handle.ts';
import { radiusDropped, trafficFor, type Traffic } from './metrics.ts';
import type { RadiusClient, RadiusPolicy } from './policy.ts';
import { unmapAddress } from './values.ts';
import { logger, type Logger } from '../util/log.ts';
import { isUnavailable } from '../store/db.ts';

export interface RadiusServerOptions {
  policy: RadiusPolicy;
  /** Local addresses to listen on; default ['::'] (dual-stack where the host allows it). */
  hosts?: string[];
  /** Authentication port (default 1812; 0 = pick a free one, see `ports`). */
  authPort?: number;
  /** Accounting port (default 1813; 0 = pick a free one). */
  acctPort?: number;
  /** Largest datagram accepted (default and maximum 4096, RFC 2865 §3). */
  maxPacketSize?: number;
  /** Duplicate cache lifetime (default 10 s; RFC 5080 §2.2.2 says 5–30 s) and size (default 200,000). */
  duplicateTtlMs?: number;
  duplicateMaxEntries?: number;
  /** Default per-client rate limit: requests per second and burst (default 20,000 / 20,000). */
  rateLimit?: { perSecond: number; burst: number };
  /** How long findClientByAddress results (also misses) are cached (default 5 s). */
  clientCacheTtlMs?: number;
  /**
   * While the client lookup fails because the database cannot be reached, a client known
   * before keeps being served for this long after its entry expired (default 300 s; 0 = no).
   */
  outageServeMs?: number;
  /** Answer Status-Server (RFC 5997); default true. */
  statusServer?: boolean;
  /** Require Message-Authenticator on every Access-Request whatever the client's own flag (default false: the client's flag). */
  requireMessageAuthenticator?: boolean;
  logger?: Logger;
  /** Clock (ms), injectable for tests. */
  now?: () => number;
}

interface ClientEntry {
  client: RadiusClient | null;
  secret: Buffer;
  expires: number;
  bucket: TokenBucket | null;
  auth: Traffic | null;
  acct: Traffic | null;
}

type Port = 'auth' | 'acct';

const CODE_NAMES: Record<number, string> = {
  [Code.AccessAccept]: 'access_accept',
  [Code.AccessReject]: 'access_reject',
  [Code.AccountingResponse]: 'accounting_response',
};


/**
 * Replies go to the literal source address of the request: skip dns.lookup (which defers
 * every send by a tick) and answer synchronously.
 */
function literalLookup(address: string, options: dns.LookupOneOptions, cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const f = isIP(address);
  if (f) cb(null, address, f);
  else dns.lookup(address, options, cb); // a host name in `hosts`
}

/** Client lookups in flight at once (one per source address); packets from further new sources are dropped. */
const MAX_PENDING_LOOKUPS = 1024;

const REQUEST_KEYS: Record<RequestKind, string> = { access: 'request:access', lma_authorize: 'request:lma_authorize', accounting: 'request:accounting', status: 'request:status' };
const SENT_KEYS: Record<string, string> = { access_accept: 'sent:access_accept', access_reject: 'sent:access_reject', accounting_response: 'sent:accounting_response' };

export class RadiusServer {
  private readonly opts: Required<Omit<RadiusServerOptions, 'logger' | 'now' | 'policy'>>;
  private readonly policy: RadiusPolicy;
  private readonly log: Logger;
  private readonly once: LogOnce;
  private readonly now: () => number;
  private readonly dups = new Map<dgram.Socket, DupCache>();
  private readonly clients = new Map<string, ClientEntry>();
  private readonly pendingLookups = new Map<string, Promise<ClientEntry>>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly dropCounters = new Map<string, { inc(): void }>();
  private readonly sockets: { sock: dgram.Socket; port: Port; host: string; dup: DupCache }[] = [];
  private sweepTimer: NodeJS.Timeout | null = null;
  /** Per-instance counts for tests and status views: drop causes, "received", "duplicate", "request:<kind>", "sent:<code>". */
  private readonly counts: Record<string, number> = Object.create(null) as Record<string, number>;

  constructor(options: RadiusServerOptions) {
    this.policy = options.policy;
    this.log = options.logger ?? logger('radius-server');
    this.once = radiusLogOnce(this.log);
    this.now = options.now ?? Date.now;
    this.opts = {
      hosts: options.hosts ?? ['::'],
      authPort: options.authPort ?? 1812,
      acctPort: options.acctPort ?? 1813,
      maxPacketSize: Math.min(options.maxPacketSize ?? MAX_PACKET_LENGTH, MAX_PACKET_LENGTH),
      duplicateTtlMs: options.duplicateTtlMs ?? 10_000,
      duplicateMaxEntries: options.duplicateMaxEntries ?? 200_000,
      rateLimit: options.rateLimit ?? { perSecond: 20_000, burst: 20_000 },
      clientCacheTtlMs: options.clientCacheTtlMs ?? 5_000,
      outageServeMs: options.outageServeMs ?? 300_000,
      statusServer: options.statusServer ?? true,
      requireMessageAuthenticator: options.requireMessageAuthenticator ?? false,
    };
  }

  /** Bind every host × {auth, acct}. Resolves once all sockets listen. */
  async start(): Promise<void> {
    let authPort = this.opts.authPort;
    let acctPort = this.opts.acctPort;
    for (const host of this.opts.hosts) {
      for (const port of ['auth', 'acct'] as const) {
        const sock = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false, lookup: literalLookup });
        const dup = new DupCache(this.opts.duplicateTtlMs, this.opts.duplicateMaxEntries);
        sock.on('message', (msg, rinfo) => this.onMessage(sock, port, dup, msg, rinfo));
        sock.on('error', (err) => this.log.error({ err, host, port }, 'radius: socket error'));
        const want = port === 'auth' ? authPort : acctPort;
        await new Promise<void>((resolve, reject) => {
          sock.once('error', reject);
          sock.bind(want, host, () => {
            sock.off('error', reject);
            resolve();
          });
        });
        // Port 0 on the first host: later hosts reuse the port the kernel picked.
        if (port === 'auth') authPort = sock.address().port;
        else acctPort = sock.address().port;
        this.sockets.push({ sock, port, host, dup });
      }
    }
    this.sweepTimer = setInterval(() => {
      for (const s of this.sockets) s.dup.sweep(this.now());
    }, 1000);
    this.sweepTimer.unref();
    this.log.info({ hosts: this.opts.hosts, authPort, acctPort }, 'radius: listening');
  }

  /** Actual ports (useful with port 0). */
  get ports(): { auth: number; acct: number } {
    const a = this.sockets.find((s) => s.port === 'auth');
    const b = this.sockets.find((s) => s.port === 'acct');
    return { auth: a ? a.sock.address().port : 0, acct: b ? b.sock.address().port : 0 };
  }

  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await Promise.all(this.sockets.map(({ sock }) => new Promise<void>((r) => sock.close(() => r()))));
    this.sockets.length = 0;
  }

  /** Forget cached client entries (call after the AAA clients table changed). */
  invalidateClients(): void {
    this.clients.clear();
  }

  stat(key: string): number {
    return this.counts[key] ?? 0;
  }

  /** A copy of the per-instance counts. */
  get stats(): Record<string, number> {
    return { ...this.counts };
  }

  private bump(key: string): void {
    this.counts[key] = (this.counts[key] ?? 0) + 1;
  }

  private drop(port: Port, client: string, cause: string, fields?: Record<string, unknown>): void {
    this.bump(cause);
    // The labelled child is kept: a flood of drops costs a map lookup, not a label hash, per packet.
    const k = `${port}|${client}|${cause}`;
    let c = this.dropCounters.get(k);
    if (c === undefined) {
      if (this.dropCounters.size >= 10_000) this.dropCounters.clear();
      c = radiusDropped.labels(port, client, cause);
      this.dropCounters.set(k, c);
    }
    c.inc();
    this.once.warn(cause, client, fields ?? {});
  }

  // ---------------------------------------------------------------- receive path

  private onMessage(sock: dgram.Socket, port: Port, dup: DupCache, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.bump('received');
    const addr = unmapAddress(rinfo.address);
    const now = this.now();
    const e = this.clients.get(addr);
    if (e && e.expires > now) {
      this.withClient(sock, port, dup, msg, rinfo, addr, e, now);
      return;
    }
    // A client table in memory: an unknown source costs no lookup and leaves nothing behind.
    const known = this.policy.clientNow?.(addr);
    if (known === null) {
      this.drop(port, 'unknown', 'unknown_client');
      return;
    }
    if (known !== undefined) {
      this.withClient(sock, port, dup, msg, rinfo, addr, this.entryFor(addr, known, now), now);
      return;
    }
    if (!this.pendingLookups.has(addr) && this.pendingLookups.size >= MAX_PENDING_LOOKUPS) {
      this.drop(port, 'unknown', 'lookups_full', { from: addr });
      return;
    }
    this.lookupClient(addr, now).then(
      (entry) => this.withClient(sock, port, dup, msg, rinfo, addr, entry, this.now()),
      (err: unknown) => {
        // Database unreachable: a client known before is served from its expired entry for a while.
        if (e?.client && isUnavailable(err) && now - e.expires <= this.opts.outageServeMs) {
          this.withClient(sock, port, dup, msg, rinfo, addr, e, now);
          return;
        }
        this.drop(port, 'unknown', 'policy_error', { err: isUnavailable(err) ? 'database unavailable' : String(err), from: addr });
      },
    );
  }

  private lookupClient(addr: string, now: number): Promise<ClientEntry> {
    let p = this.pendingLookups.get(addr);
    if (p) return p;
    p = this.policy.findClientByAddress(addr).then(
      (client) => {
        this.pendingLookups.delete(addr);
        return this.entryFor(addr, client, now);
      },
      (err: unknown) => {
        this.pendingLookups.delete(addr);
        throw err;
      },
    );
    this.pendingLookups.set(addr, p);
    return p;
  }

  /** A cache entry for a source address (known client or not), with the client's rate limiter. */
  private entryFor(addr: string, client: RadiusClient | null, now: number): ClientEntry {
    if (this.clients.size >= 100_000) this.clients.clear(); // spoofed-source floods: stay bounded
    const secret = client ? (Buffer.isBuffer(client.secret) ? client.secret : Buffer.from(client.secret, 'utf8')) : Buffer.alloc(0);
    const ok = client !== null && secret.length > 0;
    const entry: ClientEntry = {
      client: ok ? client : null, secret, expires: now + this.opts.clientCacheTtlMs, bucket: null,
      auth: ok ? trafficFor('auth', client.name) : null, acct: ok ? trafficFor('acct', client.name) : null,
    };
    if (entry.client) {
      let b = this.buckets.get(addr);
      if (!b) {
        const rate = entry.client.maxRequestsPerSecond ?? this.opts.rateLimit.perSecond;
        b = new TokenBucket(rate, Math.max(rate, this.opts.rateLimit.burst), now);
        this.buckets.set(addr, b);
      }
      entry.bucket = b;
    }
    this.clients.set(addr, entry);
    return entry;
  }

  private withClient(sock: dgram.Socket, port: Port, dup: DupCache, msg: Buffer, rinfo: dgram.RemoteInfo, addr: string, e: ClientEntry, now: number): void {
    const client = e.client;
    if (!client) {
      this.drop(port, 'unknown', 'unknown_client', { from: addr });
      return;
    }
    const name = client.name;
    if (e.bucket && !e.bucket.take(now)) {
      this.drop(port, name, 'rate_limited');
      return;
    }
    const d = decodePacket(msg, this.opts.maxPacketSize);
    if (!d.ok) {
      this.drop(port, name, d.error, { from: addr, length: msg.length });
      return;
    }
    const p = d.packet;
    let kind: RequestKind;
    if (p.code === Code.StatusServer) {
      if (!this.opts.statusServer) return this.drop(port, name, 'status_server_disabled');
      kind = 'status';
    } else if (port === 'auth' && p.code === Code.AccessRequest) {
      kind = 'access';
    } else if (port === 'acct' && p.code === Code.AccountingRequest) {
      kind = 'accounting';
    } else {
      this.drop(port, name, 'unexpected_code', { code: p.code });
      return;
    }

    // Authenticity before anything touches the duplicate cache (RFC 5080 §2.2.2).
    if (kind === 'accounting') {
      if (!verifyRequestAuthenticator(p, e.secret)) return this.drop(port, name, 'bad_authenticator', { from: addr });
      if (p.maOffset >= 0 && !verifyRequestMessageAuthenticator(p, e.secret)) return this.drop(port, name, 'bad_message_authenticator', { from: addr });
    } else if (p.maOffset >= 0) {
      if (!verifyRequestMessageAuthenticator(p, e.secret)) return this.drop(port, name, 'bad_message_authenticator', { from: addr });
    } else {
      // BlastRADIUS: required per client; always for Status-Server (RFC 5997 §3) and
      // Authorize-Only (draft-ietf-radext-deprecating-radius: explicitly vulnerable).
      const st = getAttr(p, Attr.ServiceType);
      const authorizeOnly = st !== undefined && st.length === 4 && st.readUInt32BE(0) === ServiceType.AuthorizeOnly;
      if (kind === 'status' || client.requireMessageAuthenticator || this.opts.requireMessageAuthenticator || authorizeOnly) {
        return this.drop(port, name, 'missing_message_authenticator', { from: addr });
      }
    }
    if (kind === 'access') {
      const st = getAttr(p, Attr.ServiceType);
      if (st && st.length === 4 && st.readUInt32BE(0) === ServiceType.AuthorizeOnly) kind = 'lma_authorize';
    }

    // Duplicate detection (not for Status-Server: RFC 5997 §3 clients never retransmit it).
    const tr = (port === 'auth' ? e.auth : e.acct)!;
    const key = kind === 'status' ? '' : rinfo.address + '|' + rinfo.port + '|' + p.identifier;
    if (key) {
      const v = dup.check(key, p.authenticator, now);
      if (v.kind === 'in_progress') return this.drop(port, name, 'duplicate_in_progress');
      if (v.kind === 'answered') {
        this.bump('duplicate');
        tr.duplicates++;
        sock.send(v.response, rinfo.port, rinfo.address);
        return;
      }
    }
    this.bump(REQUEST_KEYS[kind]);
    tr.requests[kind] = (tr.requests[kind] ?? 0) + 1;

    let outcome: Outcome | Promise<Outcome>;
    try {
      if (kind === 'status') outcome = statusResponse(p, port);
      else if (kind === 'accounting') outcome = handleAccounting(p, client, addr, this.policy, new Date(now));
      else outcome = handleAccessRequest(p, client, this.policy);
    } catch (err) {
      outcome = Promise.reject(err);
    }
    if (!(outcome instanceof Promise)) {
      this.finish(sock, port, dup, tr, name, p, e.secret, key, outcome, rinfo);
      return;
    }
    outcome.then(
      (o) => this.finish(sock, port, dup, tr, name, p, e.secret, key, o, rinfo),
      (err: unknown) => {
        if (key) dup.abandon(key, p.authenticator);
        this.drop(port, name, 'policy_error', { err: String(err) });
      },
    );
  }

  private finish(sock: dgram.Socket, port: Port, dup: DupCache, tr: Traffic, name: string, p: Packet, secret: Buffer, key: string, o: Outcome, rinfo: dgram.RemoteInfo): void {
    if (o.kind === 'drop') {
      if (key) dup.abandon(key, p.authenticator);
      this.drop(port, name, o.cause, { detail: o.detail });
      return;
    }
    let resp: Buffer;
    try {
      resp = encodeResponse(o.code, p.identifier, p.authenticator, o.attrs, secret, o.withMa, p.code);
    } catch (err) {
      if (key) dup.abandon(key, p.authenticator);
      this.drop(port, name, 'response_encode_error', { err: String(err) });
      return;
    }
    if (o.reason) this.log.debug({ client: name, reason: o.reason }, 'radius: Access-Reject');
    if (o.warnings?.length) this.once.warn('profile_not_representable', name, { warnings: o.warnings });
    if (key) dup.complete(key, p.authenticator, resp, this.now());
    const codeName = CODE_NAMES[o.code] ?? String(o.code);
    this.bump(SENT_KEYS[codeName] ?? `sent:${codeName}`);
    tr.responses[codeName] = (tr.responses[codeName] ?? 0) + 1;
    sock.send(resp, rinfo.port, rinfo.address);
  }
}
