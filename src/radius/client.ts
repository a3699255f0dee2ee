// RADIUS client for the MAG (RFC 6572 §5) and the LMA (§6): fetch an MN's profile, retransmit,
// fail over between servers, cache Accepts for a short time, return a typed result.
// Also accounting (RFC 2866) and Status-Server (RFC 5997). Every Access-Request carries
// Message-Authenticator (BlastRADIUS: clients MUST, not configurable); responses without one
// are dropped unless `requireMessageAuthenticator: false`.
import { AttrWriter } from './attrs.ts';
import { getAttr, type Packet } from './codec.ts';
import { AcctStatus, Attr, Code, NasPortType, ServiceType } from './constants.ts';
import { radiusClientEvents } from './metrics.ts';
import { parseProfile, type AaaProfile, type ProfileParseError } from './rfc6572.ts';
import { PeerChannel, type SendOptions } from './transport.ts';
import { parseIpv4, parseIpv6 } from './values.ts';
import { logger, type Logger } from '../util/log.ts';

export interface RadiusServerAddress {
  /** IP address of the server (IPv4 or IPv6 literal). */
  host: string;
  /** Default 1812 for authorisation, 1813 for accounting (acctPort). */
  port?: number;
  acctPort?: number;
  secret: Buffer | string;
  /** Label for logs and metrics; default "host:port". */
  name?: string;
}

export interface RadiusAaaClientOptions {
  /** Servers in order of preference (failover goes down the list). */
  servers: RadiusServerAddress[];
  /** Wait per attempt (default 1000 ms). */
  timeoutMs?: number;
  /** Retransmissions per server before failing over (default 2). */
  retries?: number;
  /** A server that timed out is tried last for this long (default 30 s). */
  deadTimeMs?: number;
  /** How long an Access-Accept is reused for the same MN and request (default 30 s; 0 = no cache). */
  cacheTtlMs?: number;
  /** NAS-Identifier sent in every request (RFC 2865 §4.1, RFC 6572 §5.1/§6.2). */
  nasIdentifier: string;
  nasIpAddress?: string;
  nasIpv6Address?: string;
  /** Drop responses without Message-Authenticator (default true). */
  requireMessageAuthenticator?: boolean;
  /** Local address to send from. */
  localAddress?: string;
  logger?: Logger;
  now?: () => number;
}

/** What a MAG asks for an attaching MN (RFC 6572 §5.1). */
export interface MagAuthorizeRequest {
  /** NAI with at least the home realm (User-Name, RFC 6572 §5.1). */
  userName: string;
  serviceSelection?: string;
  featureVector?: bigint;
  /** MN link-layer identifier (RFC 5213 §8.6) as Calling-Station-Id. */
  callingStationId?: string;
  /** CUI (RFC 4372); a single NUL octet asks the server to assign one. */
  cui?: Buffer;
}

/** What an LMA asks when a PBU arrives (RFC 6572 §6.1). */
export interface LmaAuthorizeRequest {
  /** MN-Identifier from the PBU: sent as Mobile-Node-Identifier and User-Name. */
  mnId: string;
  /** The LMA's own address (147 or 149 by family). */
  lmaAddress?: string;
  /** 'delegate' sends "::/128" (AAA assigns); or the prefixes the LMA assigned. */
  hnps?: 'delegate' | string[];
  /** 'delegate' sends "0.0.0.0/32"; or the HoA the LMA assigned. */
  ipv4HoA?: 'delegate' | { address: string; prefixLength: number };
  serviceSelection?: string;
  callingStationId?: string;
  featureVector?: bigint;
}

export type AuthorizeResult =
  | { status: 'accept'; profile: AaaProfile; server: string; cached: boolean }
  | { status: 'reject'; replyMessage: string | null; server: string }
  | { status: 'error'; error: 'timeout' | 'closed' | 'challenge_unsupported' | 'malformed_accept'; detail?: ProfileParseError; server?: string };

export interface AccountingRequest {
  statusType: 'start' | 'stop' | 'interim-update' | 'accounting-on' | 'accounting-off';
  sessionId: string;
  userName?: string;
  mnId?: string;
  inputOctets?: bigint;
  outputOctets?: bigint;
  inputPackets?: number;
  outputPackets?: number;
  sessionTime?: number;
  terminateCause?: number;
  serviceSelection?: string;
  lmaAddress?: string;
  hnps?: string[];
  ipv4HoA?: { address: string; prefixLength: number };
  callingStationId?: string;
  /** Class from the Access-Accept, echoed (RFC 2865 §5.25). */
  class?: Buffer;
}

const ACCT_STATUS = {
  start: AcctStatus.Start,
  stop: AcctStatus.Stop,
  'interim-update': AcctStatus.InterimUpdate,
  'accounting-on': AcctStatus.AccountingOn,
  'accounting-off': AcctStatus.AccountingOff,
} as const;

interface ServerState {
  auth: PeerChannel;
  acct: PeerChannel;
  deadUntil: number;
}

export class RadiusAaaClient {
  private readonly servers: ServerState[];
  private readonly o: { timeoutMs: number; retries: number; deadTimeMs: number; cacheTtlMs: number; requireMa: boolean };
  private readonly cache = new Map<string, { result: AuthorizeResult & { status: 'accept' }; expires: number; mnIds: string[] }>();
  private readonly inflight = new Map<string, Promise<AuthorizeResult>>();
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly options: RadiusAaaClientOptions) {
    if (options.servers.length === 0) throw new Error('RadiusAaaClient: at least one server');
    this.log = options.logger ?? logger('radius-client');
    this.now = options.now ?? Date.now;
    this.o = {
      timeoutMs: options.timeoutMs ?? 1000,
      retries: options.retries ?? 2,
      deadTimeMs: options.deadTimeMs ?? 30_000,
      cacheTtlMs: options.cacheTtlMs ?? 30_000,
      requireMa: options.requireMessageAuthenticator ?? true,
    };
    this.servers = options.servers.map((s) => {
      const secret = Buffer.isBuffer(s.secret) ? s.secret : Buffer.from(s.secret, 'utf8');
      if (secret.length === 0) throw new Error('RadiusAaaClient: empty shared secret');
      const port = s.port ?? 1812;
      const acctPort = s.acctPort ?? 1813;
      const name = s.name ?? `${s.host}:${port}`;
      return {
        auth: new PeerChannel({ host: s.host, port, secret, name }, this.log, options.localAddress),
        acct: new PeerChannel({ host: s.host, port: acctPort, secret, name: `${name}/acct` }, this.log, options.localAddress),
        deadUntil: 0,
      };
    });
  }

  /** Live servers in configured order, then dead ones by when they went dead. */
  private order(): ServerState[] {
    const now = this.now();
    const alive = this.servers.filter((s) => s.deadUntil <= now);
    const dead = this.servers.filter((s) => s.deadUntil > now).sort((a, b) => a.deadUntil - b.deadUntil);
    return alive.concat(dead);
  }

  private nasAttrs(w: AttrWriter): void {
    w.text(Attr.NasIdentifier, this.options.nasIdentifier);
    if (this.options.nasIpAddress) w.ipv4(Attr.NasIpAddress, this.options.nasIpAddress);
    if (this.options.nasIpv6Address) w.ipv6(Attr.NasIpv6Address, this.options.nasIpv6Address);
  }

  /** Send to the first server that answers; fail over on timeout. */
  private async exchange(kind: 'auth' | 'acct', code: number, attrs: Buffer, expect: readonly number[]): Promise<{ ok: true; response: Packet; server: string } | { ok: false; error: 'timeout' | 'closed' }> {
    const opts: SendOptions = { timeoutMs: this.o.timeoutMs, retries: this.o.retries, requireMessageAuthenticator: this.o.requireMa, expect };
    const order = this.order();
    for (let i = 0; i < order.length; i++) {
      const s = order[i];
      const ch = kind === 'auth' ? s.auth : s.acct;
      const r = await ch.request(code, attrs, opts);
      if (r.ok) {
        s.deadUntil = 0;
        radiusClientEvents.labels(ch.peer.name, 'response').inc();
        return { ok: true, response: r.response, server: ch.peer.name };
      }
      if (r.error === 'closed') return r;
      s.deadUntil = this.now() + this.o.deadTimeMs;
      if (i + 1 < order.length) {
        radiusClientEvents.labels(ch.peer.name, 'failover').inc();
        this.log.warn({ server: ch.peer.name }, 'radius client: server did not answer; failing over');
      }
    }
    return { ok: false, error: 'timeout' };
  }

  private toResult(r: Awaited<ReturnType<RadiusAaaClient['exchange']>>): AuthorizeResult {
    if (!r.ok) return { status: 'error', error: r.error };
    const p = r.response;
    if (p.code === Code.AccessReject) {
      const rm = getAttr(p, Attr.ReplyMessage);
      return { status: 'reject', replyMessage: rm ? rm.toString('utf8') : null, server: r.server };
    }
    if (p.code === Code.AccessChallenge) return { status: 'error', error: 'challenge_unsupported', server: r.server };
    const parsed = parseProfile(p);
    // RFC 6572 §4.1: a contradictory Accept MUST be treated as a Reject.
    if (!parsed.ok) return { status: 'error', error: 'malformed_accept', detail: parsed.error, server: r.server };
    return { status: 'accept', profile: parsed.profile, server: r.server, cached: false };
  }

  private async cached(key: string, mnIds: string[], run: () => Promise<AuthorizeResult>): Promise<AuthorizeResult> {
    const now = this.now();
    const c = this.cache.get(key);
    if (c && c.expires > now) {
      radiusClientEvents.labels('cache', 'cache_hit').inc();
      return { ...c.result, cached: true };
    }
    const f = this.inflight.get(key);
    if (f) return f;
    const p = run().then((r) => {
      this.inflight.delete(key);
      if (r.status === 'accept' && this.o.cacheTtlMs > 0) {
        this.cache.set(key, { result: r, expires: this.now() + this.o.cacheTtlMs, mnIds });
      }
      return r;
    });
    this.inflight.set(key, p);
    return p;
  }

  /** MAG: Access-Request for an attaching MN (RFC 6572 §5.1). */
  authorize(req: MagAuthorizeRequest): Promise<AuthorizeResult> {
    const key = JSON.stringify(['mag', req.userName, req.serviceSelection ?? null, req.featureVector?.toString() ?? null, req.callingStationId ?? null, req.cui?.toString('hex') ?? null]);
    return this.cached(key, [req.userName], async () => {
      const w = new AttrWriter(256);
      w.text(Attr.UserName, req.userName);
      w.integer(Attr.ServiceType, ServiceType.Login);
      this.nasAttrs(w);
      w.integer(Attr.NasPortType, NasPortType.Virtual); // RFC 6572 §5.1: SHOULD
      if (req.callingStationId) w.text(Attr.CallingStationId, req.callingStationId);
      if (req.cui) w.octets(Attr.ChargeableUserIdentity, req.cui);
      if (req.serviceSelection) w.text(Attr.ServiceSelection, req.serviceSelection);
      if (req.featureVector !== undefined) w.integer64(Attr.Mip6FeatureVector, req.featureVector);
      return this.toResult(await this.exchange('auth', Code.AccessRequest, w.bytes(), [Code.AccessAccept, Code.AccessReject, Code.AccessChallenge]));
    });
  }

  /** LMA: authorise a PBU, report the LMA address, delegate or report HNP / IPv4-HoA (RFC 6572 §6.1). */
  authorizeLma(req: LmaAuthorizeRequest): Promise<AuthorizeResult> {
    // Not cached: delegation and LMA updates must reach the server.
    return (async () => {
      const w = new AttrWriter(256);
      w.text(Attr.UserName, req.mnId);
      w.integer(Attr.ServiceType, ServiceType.AuthorizeOnly);
      this.nasAttrs(w);
      w.integer(Attr.NasPortType, NasPortType.Virtual);
      w.text(Attr.MobileNodeIdentifier, req.mnId);
      if (req.callingStationId) w.text(Attr.CallingStationId, req.callingStationId);
      if (req.serviceSelection) w.text(Attr.ServiceSelection, req.serviceSelection);
      if (req.lmaAddress) {
        if (parseIpv6(req.lmaAddress)) w.ipv6(Attr.Pmip6HomeLmaIpv6Address, req.lmaAddress);
        else if (parseIpv4(req.lmaAddress)) w.ipv4(Attr.Pmip6HomeLmaIpv4Address, req.lmaAddress);
      }
      if (req.hnps === 'delegate') w.ipv6Prefix(Attr.Pmip6HomeHnPrefix, '::/128');
      else for (const h of req.hnps ?? []) w.ipv6Prefix(Attr.Pmip6HomeHnPrefix, h);
      if (req.ipv4HoA === 'delegate') w.ipv4Prefix(Attr.Pmip6HomeIpv4HoA, '0.0.0.0', 32, true);
      else if (req.ipv4HoA) w.ipv4Prefix(Attr.Pmip6HomeIpv4HoA, req.ipv4HoA.address, req.ipv4HoA.prefixLength, true);
      if (req.featureVector !== undefined) w.integer64(Attr.Mip6FeatureVector, req.featureVector);
      return this.toResult(await this.exchange('auth', Code.AccessRequest, w.bytes(), [Code.AccessAccept, Code.AccessReject, Code.AccessChallenge]));
    })();
  }

  /** Accounting-Request (RFC 2866); resolves true once a server acknowledged it. */
  async accounting(a: AccountingRequest): Promise<{ ok: true; server: string } | { ok: false; error: 'timeout' | 'closed' }> {
    const w = new AttrWriter(256);
    w.integer(Attr.AcctStatusType, ACCT_STATUS[a.statusType]);
    w.text(Attr.AcctSessionId, a.sessionId);
    if (a.userName) w.text(Attr.UserName, a.userName);
    this.nasAttrs(w);
    if (a.mnId) w.text(Attr.MobileNodeIdentifier, a.mnId);
    const octets = (lo: number, hi: number, v: bigint | undefined): void => {
      if (v === undefined) return;
      w.integer(lo, Number(v & 0xffffffffn));
      if (v >> 32n) w.integer(hi, Number((v >> 32n) & 0xffffffffn));
    };
    octets(Attr.AcctInputOctets, Attr.AcctInputGigawords, a.inputOctets);
    octets(Attr.AcctOutputOctets, Attr.AcctOutputGigawords, a.outputOctets);
    if (a.inputPackets !== undefined) w.integer(Attr.AcctInputPackets, a.inputPackets);
    if (a.outputPackets !== undefined) w.integer(Attr.AcctOutputPackets, a.outputPackets);
    if (a.sessionTime !== undefined) w.integer(Attr.AcctSessionTime, a.sessionTime);
    if (a.terminateCause !== undefined) w.integer(Attr.AcctTerminateCause, a.terminateCause);
    w.integer(Attr.EventTimestamp, Math.floor(this.now() / 1000));
    if (a.serviceSelection) w.text(Attr.ServiceSelection, a.serviceSelection);
    if (a.lmaAddress) {
      if (parseIpv6(a.lmaAddress)) w.ipv6(Attr.Pmip6HomeLmaIpv6Address, a.lmaAddress);
      else w.ipv4(Attr.Pmip6HomeLmaIpv4Address, a.lmaAddress);
    }
    for (const h of a.hnps ?? []) w.ipv6Prefix(Attr.Pmip6HomeHnPrefix, h);
    if (a.ipv4HoA) w.ipv4Prefix(Attr.Pmip6HomeIpv4HoA, a.ipv4HoA.address, a.ipv4HoA.prefixLength, true);
    if (a.callingStationId) w.text(Attr.CallingStationId, a.callingStationId);
    if (a.class) w.octets(Attr.Class, a.class);
    const r = await this.exchange('acct', Code.AccountingRequest, w.bytes(), [Code.AccountingResponse]);
    return r.ok ? { ok: true, server: r.server } : r;
  }

  /** Status-Server to each server's auth port (RFC 5997): which servers answer. */
  async status(): Promise<{ server: string; up: boolean }[]> {
    const opts: SendOptions = { timeoutMs: this.o.timeoutMs, retries: 0, requireMessageAuthenticator: this.o.requireMa, expect: [Code.AccessAccept, Code.AccessReject] };
    const w = new AttrWriter(64);
    this.nasAttrs(w);
    const attrs = w.bytes();
    return Promise.all(this.servers.map(async (s) => {
      const r = await s.auth.request(Code.StatusServer, attrs, opts);
      if (r.ok) s.deadUntil = 0;
      return { server: s.auth.peer.name, up: r.ok };
    }));
  }

  /** Forget cached Accepts of an MN (after a CoA or Disconnect for it). */
  invalidate(mnId: string): void {
    for (const [k, v] of this.cache) {
      if (v.mnIds.includes(mnId) || v.result.profile.mnId === mnId) this.cache.delete(k);
    }
  }

  close(): void {
    for (const s of this.servers) {
      s.auth.close();
      s.acct.close();
    }
  }
}
