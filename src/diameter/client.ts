// The Diameter client of a MAG (RFC 5779 §4.1) and of an LMA (§4.2): NASREQ AAR/AAA for the
// profile, STR when a session ends, RAR/ASR from the server handed to the owner. Same results as
// the RADIUS client (AuthorizeResult with an AaaProfile), so the MAG and LMA wiring is shared.
// Requests go to the best open peer (OKAY before REOPEN, RFC 3539); when a connection fails
// with requests unanswered they are sent again to another peer, or the same one once it is
// back, with the T flag (RFC 6733 §3, §5.5.4), until the request's time is up.
import { App, Avp, AuthRequestType, AuthSessionState, Cmd, CmdFlag, NasPortTypeVirtual, ReAuthRequestType, Result, TerminationCause, isProtocolError } from './constants.ts';
import { AvpWriter, findAvp, type DiameterMessage } from './codec.ts';
import { answerHeader, type LocalNode } from './build.ts';
import { EndToEnd, SessionIds } from './ids.ts';
import { PeerLink } from './link.ts';
import { commandLabel, diameterConnections, resultLabel, trafficFor } from './metrics.ts';
import { connect, type TlsMaterial } from './path.ts';
import { readAnswerProfile } from './rfc5779.ts';
import { decU32, decUtf8, encAddress, encHomeLinkPrefix, parseDiameterUri } from './values.ts';
import type { AuthorizeResult, LmaAuthorizeRequest, MagAuthorizeRequest } from '../radius/client.ts';
import { parseIpv4, parseIpv6 } from '../radius/values.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { logger, type Logger } from '../util/log.ts';

export interface DiameterClientOptions {
  /** This node's Origin-Host and Origin-Realm. */
  identity: string;
  realm: string;
  /** Peers in order of preference: "aaa://host[:port]" (TCP) or "aaas://host[:port]" (TLS). */
  peers: string[];
  /** Client certificate, key and CA for aaas:// peers. */
  tls?: TlsMaterial | null;
  /** Destination-Realm of requests (default: the realm the peer's CEA named). */
  destinationRealm?: string;
  watchdogMs?: number;
  /** Time a request may take, failovers included (default 3 s). */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** How long a successful answer is reused for the same MN and request (default 30 s; 0 = no cache). */
  cacheTtlMs?: number;
  /** MN sessions remembered (Session-Id per User-Name, RFC 6733 §8.8); oldest forgotten beyond it. */
  maxSessions?: number;
  nasIdentifier?: string;
  nasIpAddress?: string;
  localAddress?: string;
  maxMessageSize?: number;
  clock?: Clock;
  logger?: Logger;
}

/** A server-initiated request the owner acts on (RFC 7155 §3.3 RAR, §3.7 ASR). */
export interface ServerRequest {
  kind: 'rar' | 'asr';
  sessionId: string;
  /** The User-Name the session was opened with. */
  userName: string;
}

/** The owner's answer: a Result-Code, and work to do once the answer is sent (RAR: the new AAR). */
export type ServerRequestHandler = (r: ServerRequest) => Promise<{ resultCode: number; after?: () => void }>;

type Exchange = { ok: true; answer: DiameterMessage; server: string } | { ok: false; error: 'timeout' | 'closed' };

export class DiameterAaaClient {
  readonly links: PeerLink[];
  readonly node: LocalNode;
  private readonly e2e = new EndToEnd();
  private readonly sids: SessionIds;
  /** Session-Id per User-Name (MAG sessions, STATE_MAINTAINED), and back. */
  private readonly sessionOf = new Map<string, string>();
  private readonly userOf = new Map<string, string>();
  private readonly cache = new Map<string, { result: AuthorizeResult & { status: 'accept' }; expires: number; userName: string }>();
  private readonly waiting = new Set<() => void>();
  private handler: ServerRequestHandler | null = null;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly timeoutMs: number;

  constructor(private readonly o: DiameterClientOptions) {
    if (o.peers.length === 0) throw new Error('DiameterAaaClient: at least one peer');
    this.clock = o.clock ?? systemClock;
    this.log = o.logger ?? logger('diameter-client');
    this.timeoutMs = o.requestTimeoutMs ?? 3000;
    this.sids = new SessionIds(o.identity);
    this.node = {
      originHost: o.identity, originRealm: o.realm, hostIpAddresses: [], vendorId: 0, productName: 'PMIP6 Suite',
      firmwareRevision: 100, originStateId: Math.floor(Date.now() / 1000) >>> 0, authApplicationIds: [App.Nasreq],
    };
    this.links = o.peers.map((spec) => {
      const u = parseDiameterUri(spec);
      if (!u || u.transport !== 'tcp' || u.protocol !== 'diameter') throw new Error(`diameter.peers: "${spec}" is not aaa://host[:port] or aaas://host[:port] over TCP`);
      if (u.secure && !o.tls) throw new Error(`diameter.peers: "${spec}" needs diameter.tlsCert, tlsKey and tlsCa`);
      const isIp = parseIpv4(u.host) !== null || parseIpv6(u.host) !== null;
      const traffic = trafficFor('client', spec);
      return new PeerLink({
        name: spec,
        expectHost: isIp ? null : u.host,
        dial: () => connect({ host: u.host, port: u.port, tls: u.secure ? o.tls! : null, localAddress: o.localAddress, timeoutMs: o.connectTimeoutMs ?? 3000 }),
        local: this.node,
        clock: this.clock,
        endToEnd: this.e2e,
        watchdogMs: o.watchdogMs ?? 30_000,
        handshakeTimeoutMs: o.connectTimeoutMs ?? 3000,
        maxMessageSize: o.maxMessageSize ?? 65_536,
        reconnectMinMs: o.reconnectMinMs ?? 1000,
        reconnectMaxMs: o.reconnectMaxMs ?? 30_000,
        events: {
          open: (l) => {
            diameterConnections.labels('client').inc();
            this.log.info({ peer: l.name, identity: l.peer?.originHost }, 'diameter client connected (CER/CEA)');
            for (const w of [...this.waiting]) w();
          },
          closed: (l, reason) => {
            if (l.peer) diameterConnections.labels('client').dec();
            this.log.warn({ peer: l.name, reason }, 'diameter client connection closed');
          },
          request: (m) => void this.onServerRequest(m, spec),
          problem: (l, cause, detail) => {
            traffic.problems[cause] = (traffic.problems[cause] ?? 0) + 1;
            this.log.debug({ peer: l.name, cause, detail }, 'diameter client problem');
          },
        },
      });
    });
  }

  start(): void {
    for (const l of this.links) l.start();
  }

  /** Resolves once a peer is open (or rejects after `ms`). */
  async ready(ms = 5000): Promise<void> {
    if (this.links.some((l) => l.open)) return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiting.delete(done);
        reject(new Error(`no Diameter peer open within ${ms} ms: ${this.links.map((l) => `${l.name}: ${l.lastError ?? 'connecting'}`).join('; ')}`));
      }, ms);
      const done = (): void => {
        clearTimeout(t);
        this.waiting.delete(done);
        resolve();
      };
      this.waiting.add(done);
    });
  }

  /** RAR / ASR from a server go to this handler (the MAG wiring). */
  onServerRequest(h: ServerRequestHandler): void;
  onServerRequest(m: DiameterMessage, peer: string): Promise<void>;
  onServerRequest(a: ServerRequestHandler | DiameterMessage, peer?: string): void | Promise<void> {
    if (typeof a === 'function') {
      this.handler = a;
      return;
    }
    return this.serveRequest(a, peer!);
  }

  private best(): PeerLink | null {
    let best: PeerLink | null = null;
    for (const l of this.links) if (l.rank() > (best?.rank() ?? 0)) best = l;
    return best;
  }

  /** Wait until a link is open or the deadline passes. */
  private waitForLink(deadline: number): Promise<boolean> {
    const left = deadline - this.clock.now();
    if (left <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const t = this.clock.setTimer(left, () => {
        this.waiting.delete(done);
        resolve(false);
      });
      const done = (): void => {
        t.cancel();
        this.waiting.delete(done);
        resolve(true);
      };
      this.waiting.add(done);
    });
  }

  /**
   * One request, failed over until it is answered or its time is up. `build` makes the message
   * for a link (Destination-Realm is the link's); a resend carries the T flag (§3).
   */
  private async exchange(command: number, build: (w: AvpWriter, destinationRealm: string) => void): Promise<Exchange> {
    const deadline = this.clock.now() + this.timeoutMs;
    const e2e = this.e2e.take();
    let resend = false;
    for (;;) {
      const link = this.best();
      if (!link) {
        if (await this.waitForLink(deadline)) continue;
        return { ok: false, error: 'timeout' };
      }
      const left = deadline - this.clock.now();
      if (left <= 0) return { ok: false, error: 'timeout' };
      const realm = this.o.destinationRealm ?? link.peer!.originRealm;
      const flags = CmdFlag.R | CmdFlag.P | (resend ? CmdFlag.T : 0);
      const r = await link.conn!.request(({ hopByHop }) => {
        const w = new AvpWriter({ flags, commandCode: command, applicationId: App.Nasreq, hopByHop, endToEnd: e2e }, 384);
        build(w, realm);
        return w.bytes();
      }, e2e, left);
      if (r.ok) {
        const t = trafficFor('client', link.name);
        const rc = findAvp(r.answer.avps, Avp.ResultCode);
        const label = resultLabel(rc ? decU32(rc.data) : null);
        t.answers[label] = (t.answers[label] ?? 0) + 1;
        return { ok: true, answer: r.answer, server: link.name };
      }
      if (r.error === 'timeout') return r;
      resend = true; // the connection ended under the request: again, elsewhere or after reconnection
    }
  }

  private head(w: AvpWriter, sessionId: string, destinationRealm: string): void {
    w.utf8(Avp.SessionId, sessionId);
    w.u32(Avp.AuthApplicationId, App.Nasreq);
    w.utf8(Avp.OriginHost, this.node.originHost);
    w.utf8(Avp.OriginRealm, this.node.originRealm);
    w.utf8(Avp.DestinationRealm, destinationRealm);
  }

  /** The AVPs a MAG's and an LMA's AAR share (RFC 5779 §4.1, §4.2, §7): AUTHORIZE_ONLY, the NAS, the MN, session state and the optional hints. */
  private aar(
    w: AvpWriter,
    sessionId: string,
    destinationRealm: string,
    userName: string,
    sessionState: number,
    req: { callingStationId?: string; serviceSelection?: string; featureVector?: bigint },
  ): void {
    this.head(w, sessionId, destinationRealm);
    w.u32(Avp.AuthRequestType, AuthRequestType.AuthorizeOnly);
    this.nas(w);
    w.utf8(Avp.UserName, userName);
    w.u32(Avp.AuthSessionState, sessionState);
    if (req.callingStationId) w.utf8(Avp.CallingStationId, req.callingStationId);
    if (req.serviceSelection) w.utf8(Avp.ServiceSelection, req.serviceSelection);
    if (req.featureVector !== undefined) w.u64(Avp.Mip6FeatureVector, req.featureVector);
  }

  private nas(w: AvpWriter): void {
    if (this.o.nasIdentifier) w.utf8(Avp.NasIdentifier, this.o.nasIdentifier);
    const a = this.o.nasIpAddress;
    if (a) {
      // RFC 4005 §4.2: NAS-IP-Address / NAS-IPv6-Address are OctetStrings of the raw address.
      const v4 = parseIpv4(a);
      if (v4) w.octets(Avp.NasIpAddress, v4);
      const v6 = v4 ? null : parseIpv6(a);
      if (v6) w.octets(Avp.NasIpv6Address, v6);
    }
    w.u32(Avp.NasPortType, NasPortTypeVirtual);
  }

  private sessionFor(userName: string): string {
    let id = this.sessionOf.get(userName);
    if (id) return id;
    if (this.sessionOf.size >= (this.o.maxSessions ?? 100_000)) {
      const [oldUser, oldId] = this.sessionOf.entries().next().value as [string, string];
      this.sessionOf.delete(oldUser);
      this.userOf.delete(oldId);
    }
    id = this.sids.take();
    this.sessionOf.set(userName, id);
    this.userOf.set(id, userName);
    return id;
  }

  private forget(userName: string): void {
    const id = this.sessionOf.get(userName);
    if (id) this.userOf.delete(id);
    this.sessionOf.delete(userName);
  }

  /** An AA-Answer → the same result type the RADIUS client gives. */
  private toResult(x: Exchange, userName: string | null): AuthorizeResult {
    if (!x.ok) return { status: 'error', error: x.error };
    const rcA = findAvp(x.answer.avps, Avp.ResultCode);
    const rc = rcA ? decU32(rcA.data) : null;
    const em = findAvp(x.answer.avps, Avp.ErrorMessage);
    const message = em ? decUtf8(em.data) : null;
    if (rc === Result.Success || rc === Result.LimitedSuccess) {
      const p = readAnswerProfile(x.answer.avps);
      if (!p.ok) return { status: 'error', error: 'malformed_accept', detail: p.error, server: x.server };
      return { status: 'accept', profile: p.profile, server: x.server, cached: false };
    }
    if (userName) this.forget(userName); // a failed authorization ends the session (§8.1)
    if (rc === Result.MultiRoundAuth) return { status: 'error', error: 'challenge_unsupported', server: x.server };
    // Permanent refusals say "not eligible"; protocol errors, busy servers and store failures do not.
    if (rc === Result.AuthorizationRejected || rc === Result.AuthenticationRejected || (rc !== null && rc >= 5000 && rc !== Result.UnableToComply)) {
      return { status: 'reject', replyMessage: message ?? `Result-Code ${rc}`, server: x.server };
    }
    this.log.warn({ server: x.server, resultCode: rc, protocolError: rc !== null && isProtocolError(rc), message }, 'diameter: no usable answer');
    return { status: 'error', error: 'closed', server: x.server };
  }

  /** MAG: AAR for an attaching MN (RFC 5779 §4.1), session state kept for RAR/ASR. */
  async authorize(req: MagAuthorizeRequest): Promise<AuthorizeResult> {
    const key = JSON.stringify([req.userName, req.serviceSelection ?? null, req.featureVector?.toString() ?? null, req.callingStationId ?? null]);
    const c = this.cache.get(key);
    if (c && c.expires > this.clock.now()) return { ...c.result, cached: true };
    const sid = this.sessionFor(req.userName);
    const x = await this.exchange(Cmd.AA, (w, realm) => {
      this.aar(w, sid, realm, req.userName, AuthSessionState.StateMaintained, req);
    });
    const r = this.toResult(x, req.userName);
    if (r.status === 'accept' && (this.o.cacheTtlMs ?? 30_000) > 0) {
      if (this.cache.size >= 100_000) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, { result: r, expires: this.clock.now() + (this.o.cacheTtlMs ?? 30_000), userName: req.userName });
    }
    return r;
  }

  /**
   * LMA: authorise a PBU (RFC 5779 §4.2.1, AUTHORIZE_ONLY, no session state), report the LMA
   * address (§4.2.2) and exchange or delegate the HNP and IPv4 HoA (§4.2.3, all-zero = delegate).
   */
  async authorizeLma(req: LmaAuthorizeRequest): Promise<AuthorizeResult> {
    const sid = this.sids.take();
    const x = await this.exchange(Cmd.AA, (w, realm) => {
      this.aar(w, sid, realm, req.mnId, AuthSessionState.NoStateMaintained, req);
      w.group(Avp.Mip6AgentInfo, (g) => {
        g.octets(Avp.MipHomeAgentAddress, (req.lmaAddress && encAddress(req.lmaAddress)) || encAddress('::')!);
        const hnps = req.hnps === 'delegate' ? ['::/0'] : req.hnps ?? [];
        if (hnps.length > 0) g.octets(Avp.Mip6HomeLinkPrefix, encHomeLinkPrefix(hnps[0])!);
        if (req.ipv4HoA) g.octets(Avp.Pmip6Ipv4HomeAddress, encAddress(req.ipv4HoA === 'delegate' ? '0.0.0.0' : req.ipv4HoA.address)!);
      });
      // Further prefixes the LMA assigned, one MIP6-Agent-Info each (RFC 5447 §4.2.1).
      if (Array.isArray(req.hnps)) {
        for (const h of req.hnps.slice(1)) w.group(Avp.Mip6AgentInfo, (g) => g.octets(Avp.MipHomeAgentAddress, encAddress(req.lmaAddress ?? '::') ?? encAddress('::')!).octets(Avp.Mip6HomeLinkPrefix, encHomeLinkPrefix(h)!));
      }
    });
    return this.toResult(x, null);
  }

  /** STR (RFC 6733 §8.4.1): the MN's session ended; resolves with whether the server answered. */
  async terminate(userName: string, cause: number = TerminationCause.Logout): Promise<boolean> {
    const sid = this.sessionOf.get(userName);
    if (!sid) return false;
    this.forget(userName);
    this.invalidate(userName);
    const x = await this.exchange(Cmd.SessionTermination, (w, realm) => {
      w.utf8(Avp.SessionId, sid);
      w.utf8(Avp.OriginHost, this.node.originHost);
      w.utf8(Avp.OriginRealm, this.node.originRealm);
      w.utf8(Avp.DestinationRealm, realm);
      w.u32(Avp.AuthApplicationId, App.Nasreq);
      w.u32(Avp.TerminationCause, cause);
      w.utf8(Avp.UserName, userName);
    });
    return x.ok;
  }

  /** The Session-Id of an MN's session, if one is open. */
  sessionId(userName: string): string | undefined {
    return this.sessionOf.get(userName);
  }

  /** Forget cached answers of an MN (after a RAR, or when it left). */
  invalidate(userName: string): void {
    for (const [k, v] of this.cache) {
      if (v.userName === userName || v.result.profile.mnId === userName) this.cache.delete(k);
    }
  }

  /** RAR / ASR from the server (RFC 7155 §3.3, §3.7) → RAA / ASA. */
  private async serveRequest(m: DiameterMessage, peer: string): Promise<void> {
    const link = this.links.find((l) => l.name === peer);
    const t = trafficFor('client', peer);
    const label = commandLabel(m.commandCode, true);
    t.requests[label] = (t.requests[label] ?? 0) + 1;
    const sidA = findAvp(m.avps, Avp.SessionId);
    const sid = sidA ? decUtf8(sidA.data) : null;
    const answer = (rc: number): void => {
      const w = new AvpWriter(answerHeader(m, rc), 160);
      if (sidA) w.octets(Avp.SessionId, sidA.data);
      w.u32(Avp.ResultCode, rc);
      w.utf8(Avp.OriginHost, this.node.originHost);
      w.utf8(Avp.OriginRealm, this.node.originRealm);
      const user = sid ? this.userOf.get(sid) : undefined;
      if (user) w.utf8(Avp.UserName, user);
      const rl = resultLabel(rc);
      t.answers[rl] = (t.answers[rl] ?? 0) + 1;
      link?.conn?.send(w.bytes());
    };
    if (m.applicationId !== App.Nasreq) return answer(Result.ApplicationUnsupported);
    if (m.commandCode !== Cmd.ReAuth && m.commandCode !== Cmd.AbortSession) return answer(Result.CommandUnsupported);
    if (!sid) return answer(Result.MissingAvp);
    const userName = this.userOf.get(sid);
    if (!userName || !this.handler) return answer(Result.UnknownSessionId);
    if (m.commandCode === Cmd.ReAuth) {
      const rt = findAvp(m.avps, Avp.ReAuthRequestType);
      if (!rt || decU32(rt.data) === null) return answer(Result.MissingAvp);
      if (decU32(rt.data) !== ReAuthRequestType.AuthorizeOnly && decU32(rt.data) !== ReAuthRequestType.AuthorizeAuthenticate) return answer(Result.InvalidAvpValue);
    }
    const kind = m.commandCode === Cmd.ReAuth ? 'rar' : 'asr';
    if (kind === 'rar') this.invalidate(userName);
    let r: { resultCode: number; after?: () => void };
    try {
      r = await this.handler({ kind, sessionId: sid, userName });
    } catch (e) {
      this.log.warn({ err: (e as Error).message, sessionId: sid }, `diameter: ${kind} handling failed`);
      r = { resultCode: Result.UnableToComply };
    }
    answer(r.resultCode);
    // After an ASA the session is still ours until the owner ends it with an STR (§8.5, §8.4).
    r.after?.();
  }

  /** DPR to every peer, then stop. */
  async close(): Promise<void> {
    for (const l of this.links) l.stop();
    const deadline = Date.now() + 1000;
    while (this.links.some((l) => l.conn && l.conn.state !== 'Closed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }
}
