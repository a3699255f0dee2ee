// Dynamic authorisation (RFC 5176).
// - DynamicAuthorizer (AAA side, the Dynamic Authorization Client): when a profile changes or
//   is disabled, send CoA-Request (with the new RFC 6572 profile attributes) or
//   Disconnect-Request to each NAS (MAG) holding a session of that MN. Targets come from
//   accounting (policy.findSessions): the NAS source address recorded with Start/Interim.
// - DaeServer (MAG side, the Dynamic Authorization Server, UDP 3799): validate, call the
//   injected handler (re-register / de-register), answer ACK or NAK with Error-Cause.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { AttrWriter } from './attrs.ts';
import { decodePacket, encodeResponse, getAttr, verifyRequestAuthenticator, verifyRequestMessageAuthenticator, type Packet } from './codec.ts';
import { Attr, Code, ErrorCause } from './constants.ts';
import { DupCache, radiusLogOnce } from './guard.ts';
import type { LogOnce } from '../util/log-once.ts';
import { radiusDropped, trafficFor } from './metrics.ts';
import type { RadiusPolicy, RadiusSession } from './policy.ts';
import { decideService, parseProfile, writeMagAccept, type AaaProfile } from './rfc6572.ts';
import { PeerChannel } from './transport.ts';
import { parseIpv4, parseIpv6, unmapAddress } from './values.ts';
import { logger, type Logger } from '../util/log.ts';

// ================================================================== AAA side (DAC)

export interface DynamicAuthorizerOptions {
  policy: RadiusPolicy;
  /** Wait per attempt (default 1000 ms) and retransmissions (default 2). */
  timeoutMs?: number;
  retries?: number;
  /** DAE port when the client record has none (default 3799, RFC 5176 §2.3). */
  defaultPort?: number;
  logger?: Logger;
  now?: () => number;
}

export interface DaeOutcome {
  session: RadiusSession;
  kind: 'coa' | 'disconnect';
  result: 'ack' | 'nak' | 'timeout' | 'no_client';
  errorCause: number | null;
}

export class DynamicAuthorizer {
  private readonly channels = new Map<string, PeerChannel>();
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly o: DynamicAuthorizerOptions) {
    this.log = o.logger ?? logger('radius-dac');
    this.now = o.now ?? Date.now;
  }

  /**
   * The API calls this after a profile was changed, disabled or deleted: CoA-Request with the
   * new profile to every MAG serving the MN, or Disconnect-Request when it is gone, disabled or
   * no longer authorised. Resolves with one outcome per session (empty: no active session).
   */
  async profileChanged(mnId: string): Promise<DaeOutcome[]> {
    const profile = await this.o.policy.findProfile(mnId);
    if (!profile || !profile.enabled) return this.disconnect(mnId);
    const d = decideService(undefined, profile);
    if (!d.ok) return this.disconnect(mnId);
    const w = new AttrWriter(256);
    writeMagAccept(w, profile, d.decision);
    return this.send(mnId, 'coa', w.bytes());
  }

  /** Disconnect-Request to every MAG serving the MN (RFC 5176 §2.1). */
  disconnect(mnId: string): Promise<DaeOutcome[]> {
    return this.send(mnId, 'disconnect', Buffer.alloc(0));
  }

  private async send(mnId: string, kind: 'coa' | 'disconnect', profileAttrs: Buffer): Promise<DaeOutcome[]> {
    const sessions = await this.o.policy.findSessions(mnId);
    return Promise.all(sessions.map(async (session): Promise<DaeOutcome> => {
      const client = await this.o.policy.findClientByAddress(session.clientAddress);
      if (!client) return { session, kind, result: 'no_client', errorCause: null };
      const port = client.daePort ?? this.o.defaultPort ?? 3799;
      const key = `${session.clientAddress}|${port}`;
      let ch = this.channels.get(key);
      if (!ch) {
        const secret = Buffer.isBuffer(client.secret) ? client.secret : Buffer.from(client.secret, 'utf8');
        ch = new PeerChannel({ host: session.clientAddress, port, secret, name: `${client.name}/dae` }, this.log);
        this.channels.set(key, ch);
      }
      // Session identification (RFC 5176 §3): NAS identity + User-Name + Acct-Session-Id.
      const w = new AttrWriter(512);
      if (session.nasIdentifier) w.text(Attr.NasIdentifier, session.nasIdentifier);
      if (session.nasIpAddress) w.ipv4(Attr.NasIpAddress, session.nasIpAddress);
      if (session.nasIpv6Address) w.ipv6(Attr.NasIpv6Address, session.nasIpv6Address);
      w.text(Attr.UserName, session.userName ?? mnId);
      if (session.acctSessionId) w.text(Attr.AcctSessionId, session.acctSessionId);
      // §6.3: Event-Timestamp against replay; not updated on retransmission (same packet).
      w.integer(Attr.EventTimestamp, Math.floor(this.now() / 1000));
      w.raw(profileAttrs);
      const code = kind === 'coa' ? Code.CoaRequest : Code.DisconnectRequest;
      const expect = kind === 'coa' ? [Code.CoaAck, Code.CoaNak] : [Code.DisconnectAck, Code.DisconnectNak];
      const r = await ch.request(code, w.bytes(), { timeoutMs: this.o.timeoutMs ?? 1000, retries: this.o.retries ?? 2, requireMessageAuthenticator: false, expect });
      if (!r.ok) {
        this.log.warn({ mnId, nas: session.clientAddress, kind }, 'radius: no answer to dynamic authorisation request');
        return { session, kind, result: 'timeout', errorCause: null };
      }
      const ack = r.response.code === Code.CoaAck || r.response.code === Code.DisconnectAck;
      const ec = getAttr(r.response, Attr.ErrorCause);
      return { session, kind, result: ack ? 'ack' : 'nak', errorCause: ec && ec.length === 4 ? ec.readUInt32BE(0) : null };
    }));
  }

  close(): void {
    for (const ch of this.channels.values()) ch.close();
    this.channels.clear();
  }
}

// ================================================================== MAG side (DAS)

export interface DaeClient {
  address: string;
  secret: Buffer | string;
  name: string;
  /** Drop requests without a valid Message-Authenticator (default true here). */
  requireMessageAuthenticator?: boolean;
}

export interface DaeRequest {
  kind: 'coa' | 'disconnect';
  userName: string | null;
  /** Mobile-Node-Identifier if present, else User-Name. */
  mnId: string | null;
  acctSessionId: string | null;
  callingStationId: string | null;
  /** NAS-Identifier of the request, when present (checked against ours already when we have one). */
  nasIdentifier: string | null;
  /** For CoA: the profile attributes carried in the request (RFC 6572 types). */
  profile: AaaProfile | null;
  /** The DAC that sent it. */
  from: string;
}

/** ok: ACK. Otherwise NAK with an RFC 5176 §3.5 Error-Cause (e.g. 503 Session Context Not Found). */
export type DaeResult = { ok: true } | { ok: false; errorCause: number };

export interface DaeServerOptions {
  /** Where to listen; default '::' and port 3799. */
  host?: string;
  port?: number;
  /** DACs allowed to send (RADIUS servers), by source address. */
  clients: DaeClient[];
  handler: (req: DaeRequest) => Promise<DaeResult>;
  /** Our NAS identity: requests naming another NAS get NAK 403 (RFC 5176 §3). */
  nasIdentifier?: string;
  nasIpAddress?: string;
  nasIpv6Address?: string;
  /**
   * Event-Timestamp window in seconds (RFC 5176 §6.3; default 300) and whether it is required
   * (default true: a request without one cannot be told from a replay).
   */
  eventTimestampWindowS?: number;
  requireEventTimestamp?: boolean;
  logger?: Logger;
  now?: () => number;
}

/** Requests remembered within the replay window; beyond, new requests are refused (never forgotten early). */
const MAX_WINDOW_ENTRIES = 100_000;

export class DaeServer {
  private sock: dgram.Socket | null = null;
  /**
   * §2.3 duplicate detection over the whole §6.3 window: a request stamped T is current from
   * T - W to T + W, so its entry lives 2W. Keyed by client and Request Authenticator (the MD5 of
   * the whole packet and the secret), not by source port: a replay from another port is found.
   */
  private readonly dup: DupCache;
  private readonly windowS: number;
  private readonly clients = new Map<string, { c: DaeClient; secret: Buffer }>();
  private readonly log: Logger;
  private readonly once: LogOnce;
  private readonly now: () => number;
  readonly stats = new Map<string, number>();

  constructor(private readonly o: DaeServerOptions) {
    this.log = o.logger ?? logger('radius-dae');
    this.once = radiusLogOnce(this.log);
    this.now = o.now ?? Date.now;
    this.windowS = o.eventTimestampWindowS ?? 300;
    this.dup = new DupCache(2 * this.windowS * 1000, MAX_WINDOW_ENTRIES);
    for (const c of o.clients) {
      this.clients.set(unmapAddress(c.address), { c, secret: Buffer.isBuffer(c.secret) ? c.secret : Buffer.from(c.secret, 'utf8') });
    }
  }

  async start(): Promise<void> {
    const host = this.o.host ?? '::';
    const sock = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    sock.on('message', (m, r) => this.onMessage(sock, m, r));
    sock.on('error', (err) => this.log.error({ err }, 'radius dae: socket error'));
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(this.o.port ?? 3799, host, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    this.sock = sock;
  }

  get port(): number {
    return this.sock ? this.sock.address().port : 0;
  }

  async stop(): Promise<void> {
    const s = this.sock;
    this.sock = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  stat(k: string): number {
    return this.stats.get(k) ?? 0;
  }

  private drop(client: string, cause: string, fields: Record<string, unknown> = {}): void {
    this.stats.set(cause, this.stat(cause) + 1);
    radiusDropped.labels('dae', client, cause).inc();
    this.once.warn(cause, client, fields);
  }

  private onMessage(sock: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const addr = unmapAddress(rinfo.address);
    const entry = this.clients.get(addr);
    if (!entry) return this.drop('unknown', 'unknown_client', { from: addr });
    const { c, secret } = entry;
    const d = decodePacket(msg);
    if (!d.ok) return this.drop(c.name, d.error);
    const p = d.packet;
    if (p.code !== Code.CoaRequest && p.code !== Code.DisconnectRequest) return this.drop(c.name, 'unexpected_code', { code: p.code });
    if (!verifyRequestAuthenticator(p, secret)) return this.drop(c.name, 'bad_authenticator');
    if (p.maOffset >= 0) {
      if (!verifyRequestMessageAuthenticator(p, secret)) return this.drop(c.name, 'bad_message_authenticator');
    } else if (c.requireMessageAuthenticator ?? true) {
      return this.drop(c.name, 'missing_message_authenticator');
    }
    // §6.3: Event-Timestamp window.
    const ts = getAttr(p, Attr.EventTimestamp);
    if (ts) {
      const t = ts.length === 4 ? ts.readUInt32BE(0) : -1;
      if (Math.abs(t - this.now() / 1000) > this.windowS) return this.drop(c.name, 'stale_event_timestamp');
    } else if (this.o.requireEventTimestamp ?? true) {
      return this.drop(c.name, 'missing_event_timestamp');
    }
    // §2.3: duplicate detection is required, over the same window (§6.3).
    const key = `${addr}|${p.authenticator.toString('hex')}`;
    if (this.dup.full(key, this.now())) return this.drop(c.name, 'replay_window_full');
    const v = this.dup.check(key, p.authenticator, this.now());
    if (v.kind === 'in_progress') return this.drop(c.name, 'duplicate_in_progress');
    if (v.kind === 'answered') {
      this.stats.set('duplicate', this.stat('duplicate') + 1);
      sock.send(v.response, rinfo.port, rinfo.address);
      return;
    }
    const kind = p.code === Code.CoaRequest ? 'coa' : 'disconnect';
    const tr = trafficFor('dae', c.name);
    tr.requests[kind] = (tr.requests[kind] ?? 0) + 1;
    this.stats.set(`request:${kind}`, this.stat(`request:${kind}`) + 1);
    this.process(p, kind, c.name).then(
      (res) => {
        const ack = kind === 'coa' ? Code.CoaAck : Code.DisconnectAck;
        const nak = kind === 'coa' ? Code.CoaNak : Code.DisconnectNak;
        const w = new AttrWriter(32);
        if (!res.ok) w.integer(Attr.ErrorCause, res.errorCause);
        for (const a of p.attributes) if (a.type === Attr.ProxyState) w.octets(a.type, a.value);
        const code = res.ok ? ack : nak;
        const resp = encodeResponse(code, p.identifier, p.authenticator, w.bytes(), secret, true, p.code);
        this.dup.complete(key, p.authenticator, resp, this.now());
        const name = res.ok ? `${kind}_ack` : `${kind}_nak`;
        this.stats.set(`sent:${name}`, this.stat(`sent:${name}`) + 1);
        tr.responses[name] = (tr.responses[name] ?? 0) + 1;
        sock.send(resp, rinfo.port, rinfo.address);
      },
      (err: unknown) => {
        this.dup.abandon(key, p.authenticator);
        this.drop(c.name, 'handler_error', { err: String(err) });
      },
    );
  }

  private async process(p: Packet, kind: 'coa' | 'disconnect', from: string): Promise<DaeResult> {
    // NAS identification must match ours when present (§3: NAK 403).
    const nid = getAttr(p, Attr.NasIdentifier);
    const nip = getAttr(p, Attr.NasIpAddress);
    const nip6 = getAttr(p, Attr.NasIpv6Address);
    if (nid && this.o.nasIdentifier && nid.toString('utf8') !== this.o.nasIdentifier) return { ok: false, errorCause: ErrorCause.NasIdentificationMismatch };
    const ourV4 = this.o.nasIpAddress ? parseIpv4(this.o.nasIpAddress) : null;
    const ourV6 = this.o.nasIpv6Address ? parseIpv6(this.o.nasIpv6Address) : null;
    if ((nip && ourV4 && !nip.equals(ourV4)) || (nip6 && ourV6 && !nip6.equals(ourV6))) {
      return { ok: false, errorCause: ErrorCause.NasIdentificationMismatch };
    }
    const s = (t: number): string | null => {
      const v = getAttr(p, t);
      return v ? v.toString('utf8') : null;
    };
    const userName = s(Attr.UserName);
    const mnId = s(Attr.MobileNodeIdentifier) ?? userName;
    const acctSessionId = s(Attr.AcctSessionId);
    const callingStationId = s(Attr.CallingStationId);
    if (!mnId && !acctSessionId && !callingStationId) return { ok: false, errorCause: ErrorCause.MissingAttribute };
    let profile: AaaProfile | null = null;
    if (kind === 'coa') {
      const parsed = parseProfile(p);
      if (!parsed.ok) return { ok: false, errorCause: ErrorCause.InvalidAttributeValue };
      profile = parsed.profile;
    }
    return this.o.handler({ kind, userName, mnId, acctSessionId, callingStationId, nasIdentifier: nid ? nid.toString('utf8') : null, profile, from });
  }
}
