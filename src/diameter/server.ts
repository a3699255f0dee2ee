// The Diameter server (HAAA of RFC 5779): TCP and TLS listeners, peers admitted at CER by the
// provisioned identity, realm and source address or TLS certificate (RFC 6733 §5.3: unknown
// peers get DIAMETER_UNKNOWN_PEER and the connection closes), NASREQ AAR/STR answered from the
// policy (handle.ts), duplicates answered from cache (§3), sessions kept for pushes: a profile
// change is sent to the serving MAG as RAR (RFC 6733 §8.3, RFC 7155 §3.3; the MAG re-asks with
// an AAR) and a revocation as ASR (§8.5, RFC 5779 §6.3).
import net from 'node:net';
import tls from 'node:tls';
import { App, Avp, Cmd, CmdFlag, DisconnectCause, ReAuthRequestType, Result } from './constants.ts';
import { AvpWriter, decodeHeader, findAvp, type DiameterMessage } from './codec.ts';
import { buildErrorAnswer, type LocalNode } from './build.ts';
import type { Capabilities } from './capabilities.ts';
import { DupCache, SessionTable, diameterLogOnce, type KeptSession } from './guard.ts';
import type { LogOnce } from '../util/log-once.ts';
import { handleRequest, type HandleContext, type Outcome } from './handle.ts';
import { EndToEnd } from './ids.ts';
import { commandLabel, diameterConnections, diameterPushes, diameterSessions, resultLabel, trafficFor, type PeerTraffic } from './metrics.ts';
import type { DiameterPeer, DiameterPolicy } from './policy.ts';
import { PeerConnection, type Admission } from './sm.ts';
import { SocketChannel, transportInfo, type TlsMaterial, type TransportInfo } from './path.ts';
import { decU32, sameIdentity } from './values.ts';
import { addressToBigInt, parsePrefix } from '../util/ip.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { logger, type Logger } from '../util/log.ts';

export interface DiameterServerOptions {
  policy: DiameterPolicy;
  /** Origin-Host and Origin-Realm of this server. */
  identity: string;
  realm: string;
  hosts: string[];
  /** TCP port (3868; 0 = any free port). */
  port: number;
  /** TLS listener (5658), when certificates are configured. */
  tls?: { port: number; material: TlsMaterial } | null;
  /** RFC 3539 Twinit (default 30 s). */
  watchdogMs?: number;
  /** CER and DPA wait (default 10 s). */
  handshakeTimeoutMs?: number;
  /** Wait for answers to RAR/ASR (default 5 s). */
  requestTimeoutMs?: number;
  maxMessageSize?: number;
  /** Sessions kept for pushes (default 1,000,000; oldest dropped). */
  maxSessions?: number;
  /** Requests in progress per connection before its reading pauses (default 1024). */
  maxInFlight?: number;
  /** Connections at once per listener, admitted or not (default 4096; more are refused by the kernel's backlog). */
  maxConnections?: number;
  hostIpAddresses?: string[];
  clock?: Clock;
  logger?: Logger;
}

export interface PushOutcome {
  session: KeptSession;
  kind: 'rar' | 'asr';
  outcome: 'ack' | 'nak' | 'timeout' | 'no_connection';
  resultCode: number | null;
}

interface Conn {
  conn: PeerConnection;
  channel: SocketChannel;
  info: TransportInfo;
  peer: DiameterPeer | null;
  traffic: PeerTraffic;
  inFlight: number;
  /** Set once the peer is admitted: what handle.ts needs, its identity lower-cased, and its duplicate cache. */
  ctx: HandleContext | null;
  peerKey: string | null;
  dup: DupCache | null;
}

/** Whether `address` is one of `allowed` (addresses or prefixes). */
export function addressAllowed(address: string, allowed: readonly string[]): boolean {
  const a = addressToBigInt(address);
  if (!a) return false;
  for (const spec of allowed) {
    const p = parsePrefix(spec.includes('/') ? spec : `${spec}/${spec.includes(':') ? 128 : 32}`);
    if (!p.ok || p.value.family !== a.family) continue;
    const bits = a.family === 4 ? 32 : 128;
    const shift = BigInt(bits - p.value.length);
    if (a.value >> shift === p.value.value >> shift) return true;
  }
  return false;
}

/**
 * RFC 6733 §5.3 / §13: may this CER's Origin-Host open a connection from here? A known identity,
 * its realm, and either a TLS certificate chaining to our CA that is the provisioned one
 * (fingerprint) or names the identity, or a provisioned source address.
 */
export function decideAdmission(peer: DiameterPeer | null, caps: Pick<Capabilities, 'originHost' | 'originRealm'>, t: Pick<TransportInfo, 'remoteAddress' | 'certificate'>): Admission {
  if (!peer) return { ok: false, resultCode: Result.UnknownPeer, cause: 'unknown_peer', errorMessage: `unknown peer ${caps.originHost}` };
  if (!sameIdentity(peer.realm, caps.originRealm)) return { ok: false, resultCode: Result.UnknownPeer, cause: 'realm_mismatch', errorMessage: `${caps.originHost} is provisioned in realm ${peer.realm}` };
  const c = t.certificate;
  if (c) {
    if (peer.certificateFingerprint ? c.fingerprint256 === peer.certificateFingerprint : c.names.includes(peer.identity.toLowerCase())) return { ok: true };
  }
  if (addressAllowed(t.remoteAddress, peer.addresses)) return { ok: true };
  return { ok: false, resultCode: Result.UnknownPeer, cause: 'peer_not_allowed', errorMessage: `${caps.originHost} may not connect from ${t.remoteAddress}${c ? ' with this certificate' : ''}` };
}

export class DiameterServer {
  readonly node: LocalNode;
  readonly sessions: SessionTable;
  private readonly servers: net.Server[] = [];
  private readonly conns = new Set<Conn>();
  /** Open connections by lower-cased peer identity (RFC 6733 §2.1: one per peer). */
  private readonly byPeer = new Map<string, Conn>();
  private readonly dups = new Map<string, DupCache>();
  private readonly e2e = new EndToEnd();
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly logOnce: LogOnce;
  private readonly counts = new Map<string, number>();
  ports = { tcp: 0, tls: 0 };

  constructor(private readonly o: DiameterServerOptions) {
    this.clock = o.clock ?? systemClock;
    this.log = o.logger ?? logger('diameter');
    this.logOnce = diameterLogOnce(this.log);
    this.sessions = new SessionTable(o.maxSessions ?? 1_000_000);
    this.node = {
      originHost: o.identity, originRealm: o.realm, hostIpAddresses: o.hostIpAddresses ?? [], vendorId: 0,
      productName: 'PMIP6 Suite', firmwareRevision: 100, originStateId: Math.floor(Date.now() / 1000) >>> 0,
      authApplicationIds: [App.Nasreq],
    };
    diameterSessions.set(0);
  }

  /** Test and operator counters: request:<command>, answer:<result>, problem:<cause>, push:<kind>:<outcome>. */
  stat(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  private count(name: string): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
  }

  async start(): Promise<void> {
    const listen = (server: net.Server, port: number, host: string): Promise<number> =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host, ipv6Only: false }, () => {
          server.off('error', reject);
          resolve((server.address() as net.AddressInfo).port);
        });
      });
    try {
      for (const host of this.o.hosts) {
        const s = net.createServer((sock) => this.accept(sock));
        s.maxConnections = this.o.maxConnections ?? 4096;
        this.servers.push(s);
        this.ports.tcp = await listen(s, this.ports.tcp || this.o.port, host);
      }
      const t = this.o.tls;
      if (t) {
        for (const host of this.o.hosts) {
          const s = tls.createServer({ cert: t.material.cert, key: t.material.key, ca: t.material.ca, requestCert: true, rejectUnauthorized: false }, (sock) => this.accept(sock));
          s.maxConnections = this.o.maxConnections ?? 4096;
          s.on('tlsClientError', () => this.count('problem:tls_handshake'));
          this.servers.push(s);
          this.ports.tls = await listen(s, this.ports.tls || t.port, host);
        }
      }
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  private accept(sock: net.Socket): void {
    const info = transportInfo(sock);
    const channel = new SocketChannel(sock, { maxMessageSize: this.o.maxMessageSize ?? 65_536 });
    const c: Conn = { conn: undefined as unknown as PeerConnection, channel, info, peer: null, traffic: trafficFor('server', 'unknown'), inFlight: 0, ctx: null, peerKey: null, dup: null };
    const problem = (cause: string, detail: string): void => {
      c.traffic.problems[cause] = (c.traffic.problems[cause] ?? 0) + 1;
      this.count(`problem:${cause}`);
      this.logOnce.warn(cause, c.peer?.name ?? `unknown (${info.remoteAddress})`, { detail });
    };
    c.conn = new PeerConnection({
      role: 'responder',
      local: this.node,
      clock: this.clock,
      io: channel,
      endToEnd: this.e2e,
      localAddress: info.localAddress,
      watchdogMs: this.o.watchdogMs ?? 30_000,
      handshakeTimeoutMs: this.o.handshakeTimeoutMs ?? 10_000,
      admit: (caps) => this.admit(c, caps),
      events: {
        open: (caps) => {
          this.count('open');
          diameterConnections.labels('server').inc();
          this.byPeer.set(caps.originHost.toLowerCase(), c);
          c.ctx = {
            node: this.node, policy: this.o.policy, peerName: c.peer!.name, sessionKnown: (id) => this.sessions.has(id),
            peer: { role: c.peer!.role, lmaAddresses: c.peer!.lmaAddresses, remoteAddress: info.remoteAddress },
          };
          c.peerKey = caps.originHost.toLowerCase();
          c.dup = this.dupCache(c.peerKey);
          this.log.info({ peer: caps.originHost, from: info.remoteAddress, tls: info.tls }, 'diameter peer connected (CER/CEA)');
        },
        request: (m) => this.onRequest(c, m),
        closed: (reason) => {
          this.conns.delete(c);
          if (c.conn.peer && this.byPeer.get(c.conn.peer.originHost.toLowerCase()) === c) {
            this.byPeer.delete(c.conn.peer.originHost.toLowerCase());
            diameterConnections.labels('server').dec();
          }
          this.count('closed');
          this.log.info({ peer: c.peer?.name ?? info.remoteAddress, reason }, 'diameter peer connection closed');
        },
        problem,
        watchdog: (s) => this.count(`watchdog:${s}`),
      },
    });
    channel.attach({
      receive: (b) => this.receive(c, b),
      transportClosed: () => c.conn.transportClosed(),
      framingError: (e) => {
        problem(e.kind, JSON.stringify({ ...e, header: undefined }));
        if (e.kind === 'unsupported_version' && e.header) {
          const h = decodeHeader(e.header);
          if (h.ok && h.value.flags & CmdFlag.R) channel.write(buildErrorAnswer(this.node, h.value, Result.UnsupportedVersion, null, { errorMessage: `version ${e.version}` }));
        }
        channel.close();
      },
    });
    this.conns.add(c);
    c.conn.start();
  }

  /** Counts DWR/DPR/DWA as the connection sees them (the SM answers them itself). */
  private receive(c: Conn, b: Buffer): void {
    if (b.length >= 8) {
      const flags = b[4];
      const code = b.readUIntBE(5, 3);
      if (code === Cmd.DeviceWatchdog || code === Cmd.DisconnectPeer || code === Cmd.CapabilitiesExchange) {
        const label = commandLabel(code, (flags & CmdFlag.R) !== 0);
        c.traffic.requests[label] = (c.traffic.requests[label] ?? 0) + 1;
        this.count(`recv:${label}`);
      }
    }
    c.conn.receive(b);
  }

  private async admit(c: Conn, caps: Capabilities): Promise<Admission> {
    const peer = await this.o.policy.findPeer(caps.originHost);
    const a = decideAdmission(peer, caps, c.info);
    if (!a.ok) return a;
    c.peer = peer;
    c.traffic = trafficFor('server', peer!.name);
    const key = caps.originHost.toLowerCase();
    const old = this.byPeer.get(key);
    if (old && old.conn.open) {
      // §5.6 R-Open + R-Conn-CER: R-Reject, unless the peer restarted (§8.16 Origin-State-Id changed).
      const restarted = caps.originStateId !== null && old.conn.peer?.originStateId !== null && caps.originStateId !== old.conn.peer?.originStateId;
      if (!restarted) return { ok: false, resultCode: Result.UnableToComply, cause: 'duplicate_connection', errorMessage: `${caps.originHost} already has an open connection` };
      this.log.info({ peer: caps.originHost }, 'diameter peer restarted (new Origin-State-Id): replacing its connection');
      old.conn.transportClosed();
      old.channel.close();
    }
    return { ok: true };
  }

  private dupCache(peer: string): DupCache {
    let d = this.dups.get(peer);
    if (!d) {
      d = new DupCache(30_000, 8192);
      this.dups.set(peer, d);
    }
    return d;
  }

  private onRequest(c: Conn, m: DiameterMessage): void {
    const label = commandLabel(m.commandCode, true);
    c.traffic.requests[label] = (c.traffic.requests[label] ?? 0) + 1;
    this.count(label === 'AA-Request' ? 'request:AA-Request' : `request:${label}`);
    // §3: Origin-Host + End-to-End Identifier identify a duplicate (the peer connection's identity
    // stands for Origin-Host: requests are not relayed to this server).
    const dup = c.dup!;
    const v = dup.check(m.endToEnd, this.clock.now());
    if (v.kind !== 'new') {
      c.traffic.duplicates++;
      this.count('duplicate');
      if (v.kind === 'answered') {
        const again = Buffer.from(v.answer);
        again.writeUInt32BE(m.hopByHop, 12); // the same answer, this request's Hop-by-Hop Identifier
        c.channel.write(again);
      }
      return;
    }
    c.inFlight++;
    if (c.inFlight >= (this.o.maxInFlight ?? 1024)) c.channel.hold();
    let r: Outcome | Promise<Outcome>;
    try {
      r = handleRequest(m, c.ctx!);
    } catch (e) {
      r = Promise.reject(e);
    }
    if (!(r instanceof Promise)) return this.answered(c, m, r);
    r.then((o) => this.answered(c, m, o), (e: unknown) => this.failed(c, m, e));
  }

  private answered(c: Conn, m: DiameterMessage, o: Outcome): void {
    c.inFlight--;
    if (c.inFlight < (this.o.maxInFlight ?? 1024) / 2) c.channel.release();
    if (o.keep) {
      this.sessions.add(o.keep, c.peerKey!);
      diameterSessions.set(this.sessions.size);
    }
    if (o.end && this.sessions.remove(o.end)) diameterSessions.set(this.sessions.size);
    c.dup!.complete(m.endToEnd, o.answer, this.clock.now());
    const rl = resultLabel(o.resultCode);
    c.traffic.answers[rl] = (c.traffic.answers[rl] ?? 0) + 1;
    if (o.problem) {
      c.traffic.problems[o.problem] = (c.traffic.problems[o.problem] ?? 0) + 1;
      this.count(`problem:${o.problem}`);
      this.logOnce.warn(o.problem, c.peer!.name, { detail: o.reason });
    }
    this.count(o.kind === 'mag_aar' && o.resultCode === Result.Success ? 'answer:mag_aar:2001' : `answer:${o.kind}:${o.resultCode}`);
    c.channel.write(o.answer);
  }

  /** The policy failed (store down): DIAMETER_UNABLE_TO_COMPLY, not cached (a retry is processed anew). */
  private failed(c: Conn, m: DiameterMessage, e: unknown): void {
    c.inFlight--;
    c.dup!.abandon(m.endToEnd);
    c.traffic.problems.policy_error = (c.traffic.problems.policy_error ?? 0) + 1;
    this.count('problem:policy_error');
    this.logOnce.warn('policy_error', c.peer!.name, { err: (e as Error).message });
    const sid = findAvp(m.avps, Avp.SessionId);
    c.channel.write(buildErrorAnswer(this.node, m, Result.UnableToComply, sid ? sid.data : null, { errorMessage: 'policy store unavailable' }));
  }

  /**
   * An operator changed (or removed, disabled) an MN's profile: RAR to every MAG keeping a
   * session of it (it answers RAA and asks again with an AAR, RFC 7155 §3.4), or ASR when the MN
   * may no longer be served (§8.5). Resolves with one outcome per session.
   */
  async profileChanged(mnId: string, gone: boolean): Promise<PushOutcome[]> {
    const sessions = this.sessions.ofMn(mnId);
    return Promise.all(sessions.map(async (s): Promise<PushOutcome> => {
      const kind = gone ? 'asr' : 'rar';
      const c = this.byPeer.get(s.peer);
      const finish = (outcome: PushOutcome['outcome'], resultCode: number | null): PushOutcome => {
        diameterPushes.labels(kind, outcome).inc();
        this.count(`push:${kind}:${outcome}`);
        return { session: s, kind, outcome, resultCode };
      };
      if (!c || !c.conn.open) return finish('no_connection', null);
      const e2e = this.e2e.take();
      const r = await c.conn.request(({ hopByHop }) => {
        const w = new AvpWriter({ flags: CmdFlag.R | CmdFlag.P, commandCode: gone ? Cmd.AbortSession : Cmd.ReAuth, applicationId: App.Nasreq, hopByHop, endToEnd: e2e }, 256);
        w.utf8(Avp.SessionId, s.sessionId);
        w.utf8(Avp.OriginHost, this.node.originHost);
        w.utf8(Avp.OriginRealm, this.node.originRealm);
        w.utf8(Avp.DestinationRealm, c.conn.peer!.originRealm);
        w.utf8(Avp.DestinationHost, s.originHost || c.conn.peer!.originHost);
        w.u32(Avp.AuthApplicationId, App.Nasreq);
        if (!gone) w.u32(Avp.ReAuthRequestType, ReAuthRequestType.AuthorizeOnly);
        if (s.userName) w.utf8(Avp.UserName, s.userName);
        return w.bytes();
      }, e2e, this.o.requestTimeoutMs ?? 5000);
      if (!r.ok) return finish(r.error === 'timeout' ? 'timeout' : 'no_connection', null);
      const rc = findAvp(r.answer.avps, Avp.ResultCode);
      const code = rc ? decU32(rc.data) : null;
      // The session is over after a successful ASA, or when the MAG no longer knows it (5002).
      if ((gone && code === Result.Success) || code === Result.UnknownSessionId) {
        this.sessions.remove(s.sessionId);
        diameterSessions.set(this.sessions.size);
      }
      return finish(code === Result.Success ? 'ack' : 'nak', code);
    }));
  }

  /** Peer identities with an open connection. */
  connectedPeers(): string[] {
    return [...this.byPeer.values()].filter((c) => c.conn.open).map((c) => c.conn.peer!.originHost);
  }

  /** Send a DWR to a peer now (operators, tests). */
  probe(identity: string): boolean {
    const c = this.byPeer.get(identity.toLowerCase());
    if (!c || !c.conn.open) return false;
    c.conn.probe();
    return true;
  }

  /** DPR to one peer (§5.4). */
  disconnectPeer(identity: string, cause: number = DisconnectCause.DoNotWantToTalkToYou): boolean {
    const c = this.byPeer.get(identity.toLowerCase());
    if (!c) return false;
    c.conn.stop(cause);
    return true;
  }

  /** DPR (REBOOTING) to every open peer, a short wait for their DPAs, then close everything. */
  async stop(): Promise<void> {
    for (const s of this.servers) s.close();
    const open = [...this.conns].filter((c) => c.conn.open);
    for (const c of open) c.conn.stop(DisconnectCause.Rebooting);
    const deadline = Date.now() + 1000;
    while ([...this.conns].some((c) => c.conn.state !== 'Closed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const c of this.conns) {
      c.channel.close();
      c.conn.transportClosed();
      c.channel.socket.destroy();
    }
    this.conns.clear();
    this.servers.length = 0;
  }
}
