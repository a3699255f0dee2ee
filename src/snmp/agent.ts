// The PMIPV6-MIB SNMP agent (RFC 6475) on UDP, SNMPv2c and SNMPv3/USM.
//
// net-snmp does the message work it does well: decoding PDUs, SNMPv3 decryption, and
// encoding (and encrypting, authenticating) responses. Its Mib/provider model is not used:
// it needs every row in its own tree, which would mean mirroring the binding cache, and
// its GETNEXT walks that tree. Instead the agent's request hooks (getRequest,
// getNextRequest, getBulkRequest, setRequest) are replaced by ours, which answer from the
// in-code object tree (mib.ts) over the live role views (view.ts) with successor lookups.
// Each datagram first passes our own checks (usm.ts for SNMPv3, community for SNMPv2c) so
// that bad input gets the error the RFCs prescribe and is counted.
import dgram from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import { hostname } from 'node:os';
import snmp from 'net-snmp';
import type { Agent, Message } from 'net-snmp';
import { logger as makeLogger, type Logger } from '../util/log.ts';
import { BerReader, Tag, ber } from './ber.ts';
import { communityMessage, encodeVarbindParts, responsePdu, responsePduSize } from './encode.ts';
import { requestName, type RequestName } from './names.ts';
import { LogEvery } from '../util/log-rate.ts';
import { ErrorStatus, MibEngine, type Cursor, type OutVarbind } from './engine.ts';
import { COLUMNS, NOTIFICATIONS, T, ZERO_COUNTERS, pmip6Objects, systemObjects, type ReadContext, type SnmpEngineCounters } from './mib.ts';
import { Notifier, type NotificationRate, type NotificationStats, type NotificationTarget } from './notify.ts';
import type { Pmip6Settings } from './settings.ts';
import { bindingCacheIndex, bulIndex, inetIndex } from './table.ts';
import { Level, Usm, makeUser, type Access, type UsmUser, type UsmUserConfig } from './usm.ts';
import { decideAccess, viewObjects, type AccessDecision, type SecurityLevel, type ViewName } from './vacm.ts';
import type { BindingRegCounters, LmaTunnelEvent, LmaView, MagTunnelEvent, MagView, Pmip6EventSink } from './view.ts';

export interface CommunityConfig {
  name: string;
  /** Only read-only: RFC 3415 VACM here grants write to authPriv v3 users alone (a community travels in clear). */
  access?: Access;
  /** RFC 3415 read view (vacm.ts); default restricted. */
  view?: ViewName;
}

/** Plain options; config/ maps the snmp.* keys onto them. */
export interface SnmpAgentOptions {
  /** UDP port, default 161. 0 picks a free port (see addresses()). */
  port?: number;
  /** Addresses to bind, IPv4 and/or IPv6; default ['0.0.0.0', '::']. */
  bind?: string[];
  /** SNMPv2c communities. An empty list disables SNMPv2c. */
  communities?: CommunityConfig[];
  /** SNMPv3 USM users. */
  users?: UsmUserConfig[];
  /** snmpEngineID as hex (5..32 octets); default: generated once and persisted. */
  engineId?: string;
  /** Largest message the agent sends (RFC 3417: at least 484), default 65507. */
  maxMessageSize?: number;
  /** Where notifications go. */
  notificationTargets?: NotificationTarget[];
  /** Notification rate limit, default 10/s with a burst of 20. */
  notificationRate?: Partial<NotificationRate>;
  sysDescr?: string;
  sysName?: string;
}

export interface SnmpAgentDeps {
  /** Present when the process runs an LMA. */
  lma?: LmaView;
  /** Present when the process runs a MAG. */
  mag?: MagView;
  settings: Pmip6Settings;
  logger?: Logger;
}

/** Everything the agent counts: the SNMP engine counters plus requests and notifications. */
export interface SnmpAgentStats extends SnmpEngineCounters, NotificationStats {
  getRequests: number;
  getNextRequests: number;
  getBulkRequests: number;
  setRequests: number;
  /** SETs answered with an error-status other than noError. */
  setErrors: number;
  /** Responses replaced by tooBig (GET/GETNEXT/SET) or trimmed (GETBULK). */
  tooBig: number;
  /** Requests whose processing threw (answered genErr). */
  internalErrors: number;
  /** Variable names outside the SMI rules (empty, first arc above 2), answered as unknown names. */
  unusualNames: number;
}

interface SocketInfo {
  socket: dgram.Socket;
  address: string;
}

export class Pmip6SnmpAgent implements Pmip6EventSink {
  private readonly log: Logger;
  private readonly counters: SnmpEngineCounters = {
    snmpInPkts: 0,
    snmpOutPkts: 0,
    snmpInBadVersions: 0,
    snmpInBadCommunityNames: 0,
    snmpInBadCommunityUses: 0,
    snmpInASNParseErrs: 0,
    snmpSilentDrops: 0,
    snmpProxyDrops: 0,
    snmpUnknownSecurityModels: 0,
    snmpInvalidMsgs: 0,
    snmpUnknownPDUHandlers: 0,
    snmpUnknownContexts: 0,
    usmStatsUnsupportedSecLevels: 0,
    usmStatsNotInTimeWindows: 0,
    usmStatsUnknownUserNames: 0,
    usmStatsUnknownEngineIDs: 0,
    usmStatsWrongDigests: 0,
    usmStatsDecryptionErrors: 0,
  };
  private readonly requestStats = { getRequests: 0, getNextRequests: 0, getBulkRequests: 0, setRequests: 0, setErrors: 0, tooBig: 0, internalErrors: 0, unusualNames: 0 };
  private readonly logEvery: LogEvery;
  private readonly communities = new Map<string, ViewName | undefined>();
  private readonly users: UsmUser[];
  private readonly port: number;
  private readonly bind: string[];
  private readonly maxMessageSize: number;
  private readonly startedAt = Date.now();
  private readonly startedMono = performance.now();
  private agent: Agent | undefined;
  private sockets: SocketInfo[] = [];
  private engine: MibEngine | undefined;
  /** The same objects without subscriber data (vacm.ts 'restricted'). */
  private restricted: MibEngine | undefined;
  private usm: Usm | undefined;
  private notifier: Notifier | undefined;
  private engineId: Buffer = Buffer.alloc(0);
  private engineBoots = 0;
  private setChain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly options: SnmpAgentOptions,
    private readonly deps: SnmpAgentDeps,
  ) {
    this.log = deps.logger ?? makeLogger('snmp');
    this.logEvery = new LogEvery(this.log, 60_000);
    this.port = options.port ?? 161;
    this.bind = options.bind ?? ['0.0.0.0', '::'];
    this.maxMessageSize = options.maxMessageSize ?? 65507;
    if (this.maxMessageSize < 484 || this.maxMessageSize > 65507) throw new RangeError('snmp maxMessageSize must be 484..65507');
    for (const a of this.bind) if (!isIPv4(a) && !isIPv6(a)) throw new RangeError(`snmp bind address is not an IP address: ${a}`);
    for (const c of options.communities ?? []) {
      if (!c.name) throw new RangeError('snmp community must not be empty');
      if (c.access === 'read-write') throw new RangeError(`snmp community ${c.name}: SNMPv2c communities are read-only; write access needs an SNMPv3 authPriv user`);
      this.communities.set(c.name, c.view);
    }
    this.users = (options.users ?? []).map(makeUser);
  }

  /** Binds the sockets; resolves when all listen, rejects (and closes) on a bind error. */
  async start(): Promise<void> {
    if (this.agent) throw new Error('snmp agent already started');
    const engine = await this.deps.settings.startEngine(this.options.engineId ? Buffer.from(this.options.engineId, 'hex') : undefined);
    this.engineId = engine.engineId;
    this.engineBoots = engine.engineBoots;
    if (this.engineId.length < 5 || this.engineId.length > 32) throw new RangeError('snmp engineId must be 5..32 octets');

    const { lma, mag, settings } = this.deps;
    const objects = [
      ...pmip6Objects({ lma, mag, settings, startedAt: this.startedAt }),
      ...systemObjects({
        counters: this.counters,
        sysDescr: this.options.sysDescr ?? 'PMIP6 Suite: Proxy Mobile IPv6 (RFC 5213) MAG/LMA, PMIPV6-MIB (RFC 6475)',
        sysName: this.options.sysName ?? hostname(),
        engineId: () => this.engineId,
        engineBoots: () => this.engineBoots,
        engineTime: () => this.engineTime(),
        maxMessageSize: this.maxMessageSize,
      }),
    ];
    this.engine = new MibEngine(objects, settings);
    this.restricted = new MibEngine(viewObjects(objects, 'restricted'), settings);
    this.usm = new Usm(this.users, { engineId: this.engineId, engineBoots: this.engineBoots, engineTime: () => this.engineTime() }, this.counters, this.maxMessageSize);
    const rate: NotificationRate = { perSecond: this.options.notificationRate?.perSecond ?? 10, burst: this.options.notificationRate?.burst ?? 20 };
    this.notifier = new Notifier(this.options.notificationTargets ?? [], rate, () => this.upTime(), this.log, this.engineId);

    const created: dgram.Socket[] = [];
    const listening: Promise<void>[] = [];
    const v6only = this.bind.some(isIPv4) && this.bind.some(isIPv6);
    const port = this.port;
    const onPacket = this.onPacket.bind(this);
    // net-snmp's Listener creates its sockets through this module (its documented
    // dgramModule option): we bind them ourselves (port 0 allowed) and see every datagram first.
    const dgramModule = {
      createSocket: (type: 'udp4' | 'udp6') => {
        const s = dgram.createSocket({ type, ipv6Only: type === 'udp6' && v6only });
        created.push(s);
        listening.push(
          new Promise<void>((resolve, reject) => {
            s.once('listening', resolve);
            s.once('error', reject);
          }),
        );
        const on = s.on.bind(s);
        (s as { on: unknown }).on = (event: string, fn: (...a: unknown[]) => void) =>
          event === 'message' ? on('message', (buf: Buffer, rinfo: dgram.RemoteInfo) => onPacket(s, buf, rinfo, fn)) : on(event, fn);
        const bind = s.bind.bind(s);
        (s as { bind: unknown }).bind = (_port: number, address: string) => bind({ port, address, exclusive: true });
        return s;
      },
    };
    const agent = snmp.createAgent(
      {
        sockets: this.bind.map((address) => ({ transport: isIPv6(address) ? 'udp6' : 'udp4', address, port: port || 161 })),
        engineID: this.engineId.toString('hex'),
        accessControlModelType: snmp.AccessControlModelType.None,
        dgramModule,
      },
      (error) => this.onAgentError(error),
    );
    this.agent = agent;
    const auth = agent.getAuthorizer();
    for (const c of this.communities.keys()) auth.addCommunity(c);
    for (const u of this.users) auth.addUser(u.netSnmpUser);
    Object.defineProperty(agent.engine, 'engineBoots', { get: () => this.engineBoots });
    Object.defineProperty(agent.engine, 'engineTime', { get: () => this.engineTime() });
    agent.getRequest = (socket, message, rinfo) => this.guard(socket, message, rinfo, () => this.onGet(message));
    agent.getNextRequest = (socket, message, rinfo) => this.guard(socket, message, rinfo, () => this.onGetNext(message));
    agent.getBulkRequest = (socket, message, rinfo) => this.guard(socket, message, rinfo, () => this.onGetBulk(message));
    agent.setRequest = (socket, message, rinfo) => this.onSet(socket as dgram.Socket, message, rinfo as dgram.RemoteInfo);
    try {
      await Promise.all(listening);
    } catch (e) {
      this.agent = undefined;
      for (const s of created) s.close();
      this.notifier.close();
      throw e;
    }
    this.sockets = created.map((socket, i) => ({ socket, address: this.bind[i] }));
    this.log.info({ addresses: this.addresses(), engineId: this.engineId.toString('hex'), engineBoots: this.engineBoots }, 'snmp agent listening');
  }

  async stop(): Promise<void> {
    const agent = this.agent;
    if (!agent) return;
    this.agent = undefined;
    // Let informs in flight finish (they retry on their own timeout), but not for long.
    await Promise.race([this.notifier?.settled(), new Promise((r) => setTimeout(r, 3000).unref())]);
    this.notifier?.close();
    await Promise.all(this.sockets.map(({ socket }) => new Promise<void>((r) => socket.close(() => r()))));
    this.sockets = [];
  }

  /** Bound addresses and ports. */
  addresses(): { address: string; port: number }[] {
    return this.sockets.map(({ socket }) => {
      const a = socket.address();
      return { address: a.address, port: a.port };
    });
  }

  get stats(): SnmpAgentStats {
    return {
      ...this.counters,
      ...this.requestStats,
      ...(this.notifier?.stats ?? { notificationsSent: 0, notificationsSuppressed: 0, notificationsFailed: 0, informsAcknowledged: 0 }),
    };
  }

  /** Resolves once notifications sent so far have been handed over (and informs answered). */
  notificationsSettled(): Promise<void> {
    return this.notifier?.settled() ?? Promise.resolve();
  }

  // ------------------------------------------------------------ Pmip6EventSink

  lmaTunnel(ev: LmaTunnelEvent): void {
    if (!this.notifier) return;
    const oid = ev.kind === 'established' ? NOTIFICATIONS.pmip6LmaHomeTunnelEstablished : NOTIFICATIONS.pmip6LmaHomeTunnelReleased;
    this.notifier.send(oid, [
      { oid: [...COLUMNS.pmip6BindingTunnelIfIdentifier, ...bindingCacheIndex(ev.homeAddress)].join('.'), type: T.OctetString, value: Buffer.from(ev.tunnelIfIdentifier) },
      { oid: [...COLUMNS.pmip6LmaLMAAState, ...inetIndex(ev.lmaAddress)].join('.'), type: T.Integer, value: ev.lmaAddressState },
    ]);
  }

  magTunnel(ev: MagTunnelEvent): void {
    if (!this.notifier) return;
    const oid = ev.kind === 'established' ? NOTIFICATIONS.pmip6MagHomeTunnelEstablished : NOTIFICATIONS.pmip6MagHomeTunnelReleased;
    this.notifier.send(oid, [
      { oid: [...COLUMNS.pmip6MagBLTunnelIfIdentifier, ...bulIndex(ev.homeAddress, ev.lmaAddress)].join('.'), type: T.OctetString, value: Buffer.from(ev.tunnelIfIdentifier) },
      { oid: [...COLUMNS.pmip6MagProxyCOAState, ...inetIndex(ev.proxyCoa)].join('.'), type: T.Integer, value: ev.proxyCoaState },
    ]);
  }

  // ------------------------------------------------------------ time

  /** sysUpTime, centiseconds (wraps after 497 days as TimeTicks do). */
  private upTime(): number {
    return Math.floor((performance.now() - this.startedMono) / 10) % 4294967296;
  }

  /** snmpEngineTime, seconds since this boot (RFC 3414 §2.2.1). */
  private engineTime(): number {
    return Math.min(2147483647, Math.floor((performance.now() - this.startedMono) / 1000));
  }

  // ------------------------------------------------------------ datagrams

  /** Every datagram: version, community or USM checks, then net-snmp's own processing. */
  private onPacket(socket: dgram.Socket, buf: Buffer, rinfo: dgram.RemoteInfo, next: (...a: unknown[]) => void): void {
    this.counters.snmpInPkts++;
    try {
      let version: number;
      let r: BerReader;
      try {
        r = new BerReader(buf).sequence();
        version = r.integer();
      } catch {
        this.counters.snmpInASNParseErrs++;
        return;
      }
      if (version === 1) {
        let community: string;
        try {
          community = r.octets().value.toString('utf8');
          const pduTag = r.peekTag();
          if (pduTag < Tag.GetRequest || pduTag > Tag.Report) throw new Error('no PDU');
        } catch {
          this.counters.snmpInASNParseErrs++;
          return;
        }
        if (!this.communities.has(community)) {
          // RFC 3584 §4.1 / RFC 1157: unknown community, silently dropped and counted.
          this.counters.snmpInBadCommunityNames++;
          return;
        }
      } else if (version === 3) {
        const d = this.usm!.check(buf);
        if (d.action === 'drop') return;
        if (d.action === 'reply') {
          this.sendRaw(socket, rinfo, d.message);
          return;
        }
      } else {
        // SNMPv1 and unknown versions are not served (RFC 3412 §4.2.1: snmpInBadVersions).
        this.counters.snmpInBadVersions++;
        return;
      }
      next(buf, rinfo);
    } catch (e) {
      this.requestStats.internalErrors++;
      this.log.error({ err: e }, 'snmp datagram handling failed');
    }
  }

  /** Errors net-snmp reports while processing what our checks let through. */
  private onAgentError(error: Error | null): void {
    if (!error) return;
    const name = error.constructor?.name ?? '';
    if (name === 'ProcessingError') this.counters.snmpInASNParseErrs++;
    else if (name === 'RequestInvalidError') this.counters.snmpUnknownPDUHandlers++;
    this.log.debug({ err: error }, 'snmp: message dropped');
  }

  private sendRaw(socket: dgram.Socket, rinfo: dgram.RemoteInfo, buf: Buffer): void {
    if (!this.agent) return;
    this.counters.snmpOutPkts++;
    socket.send(buf, rinfo.port, rinfo.address, (err) => {
      if (err) this.log.warn({ err }, 'snmp: send failed');
    });
  }

  // ------------------------------------------------------------ requests

  /** RFC 3415 §3.2: the principal's read view and write right at this message's security level. */
  private access(message: Message): AccessDecision | undefined {
    if (message.version === snmp.Version3) {
      const u = this.users.find((x) => x.name === message.user?.name);
      if (!u) return undefined;
      const flags = message.msgGlobalData?.msgFlags ?? 0;
      const level: SecurityLevel = flags & 2 ? 'authPriv' : flags & 1 ? 'authNoPriv' : 'noAuthNoPriv';
      return decideAccess({ kind: 'user', view: u.view, readWrite: u.access === 'read-write' }, level);
    }
    const c = message.community ?? '';
    if (!this.communities.has(c)) return undefined;
    return decideAccess({ kind: 'community', view: this.communities.get(c), readWrite: false }, 'noAuthNoPriv');
  }

  /** The engine answering inside the principal's read view. */
  private engineFor(message: Message): MibEngine {
    return this.access(message)?.read === 'full' ? this.engine! : this.restricted!;
  }

  private context(): ReadContext {
    let counters: BindingRegCounters | undefined;
    const src = this.deps.lma ?? this.deps.mag;
    return {
      counters: () => (counters ??= src ? src.counters() : ZERO_COUNTERS),
      upTime: () => this.upTime(),
    };
  }

  /** A request's variable name; names outside the SMI rules are answered, counted and logged once per cause and interval (names.ts). */
  private name(oid: string): RequestName {
    const n = requestName(oid);
    if (n.unusual !== null) {
      this.requestStats.unusualNames++;
      this.logEvery.warn(`oid-${n.unusual}`, 'snmp: request names an OID outside the SMI rules; answered as an unknown name (RFC 3416)', { cause: n.unusual });
    }
    return n;
  }

  /** Runs a GET-class handler; a throw answers genErr instead of crashing. */
  private guard(socket: unknown, message: Message, rinfo: unknown, build: () => { varbinds: OutVarbind[]; encoded?: Buffer[] }): void {
    let r: { varbinds: OutVarbind[]; encoded?: Buffer[] };
    try {
      r = build();
    } catch (e) {
      this.requestStats.internalErrors++;
      this.logEvery.warn(`internal:${(e as Error)?.message ?? e}`.slice(0, 120), 'snmp request failed (genErr)', { err: e });
      this.respond(socket as dgram.Socket, rinfo as dgram.RemoteInfo, message, [], ErrorStatus.genErr, 0);
      return;
    }
    this.respond(socket as dgram.Socket, rinfo as dgram.RemoteInfo, message, r.varbinds, 0, 0, r.encoded);
  }

  private onGet(message: Message): { varbinds: OutVarbind[] } {
    this.requestStats.getRequests++;
    const ctx = this.context();
    const engine = this.engineFor(message);
    return {
      varbinds: message.pdu.varbinds.map((vb) => {
        const n = this.name(vb.oid);
        const v = engine.get(n.ids, ctx);
        return { prefix: n.content, suffix: NO_SUFFIX, type: v.type, value: v.value };
      }),
    };
  }

  private onGetNext(message: Message): { varbinds: OutVarbind[] } {
    this.requestStats.getNextRequests++;
    const ctx = this.context();
    const engine = this.engineFor(message);
    return {
      varbinds: message.pdu.varbinds.map((vb) => {
        const n = this.name(vb.oid);
        return engine.next(n.ids, n.content, ctx);
      }),
    };
  }

  /** GETBULK (RFC 3416 §4.2.3), stopping when the next varbind would not fit the response. */
  private onGetBulk(message: Message): { varbinds: OutVarbind[]; encoded: Buffer[] } {
    this.requestStats.getBulkRequests++;
    const ctx = this.context();
    const engine = this.engineFor(message);
    const req = message.pdu.varbinds;
    const n = Math.min(Math.max(message.pdu.nonRepeaters ?? 0, 0), req.length);
    const m = Math.max(message.pdu.maxRepetitions ?? 0, 0);
    const out: OutVarbind[] = [];
    const encoded: Buffer[] = [];
    const budget = this.sizeLimit(message) - this.overhead(message);
    let size = 0;
    const add = (v: OutVarbind): boolean => {
      const e = encodeVarbindParts(v.prefix, v.suffix, v.type, v.value);
      if (size + e.length > budget) return false;
      size += e.length;
      out.push(v);
      encoded.push(e);
      return true;
    };
    for (let i = 0; i < n; i++) {
      const nm = this.name(req[i].oid);
      if (!add(engine.next(nm.ids, nm.content, ctx))) return { varbinds: out, encoded };
    }
    const r = req.length - n;
    if (r > 0 && m > 0) {
      const cursors: (Cursor | null)[] = req.slice(n).map((vb) => {
        const nm = this.name(vb.oid);
        return engine.cursor(nm.ids, nm.content);
      });
      for (let rep = 0; rep < m; rep++) {
        let live = false;
        for (let j = 0; j < r; j++) {
          const c = cursors[j];
          let v: OutVarbind;
          if (c === null) {
            v = out[out.length - r];
          } else {
            const step = engine.nextFrom(c, ctx);
            v = step.vb;
            cursors[j] = step.cursor;
            if (step.cursor) live = true;
          }
          if (!add(v)) return { varbinds: out, encoded };
        }
        if (!live) break;
      }
    }
    return { varbinds: out, encoded };
  }

  private onSet(socket: dgram.Socket, message: Message, rinfo: dgram.RemoteInfo): void {
    this.requestStats.setRequests++;
    let varbinds: { oid: string; type: number; value: unknown }[];
    let echo: OutVarbind[];
    try {
      varbinds = message.pdu.varbinds.map((vb) => ({ oid: vb.oid, type: vb.type, value: vb.value }));
      echo = message.pdu.varbinds.map((vb) => ({ prefix: this.name(vb.oid).content, suffix: NO_SUFFIX, type: vb.type, value: vb.value }));
    } catch (e) {
      this.requestStats.internalErrors++;
      this.log.error({ err: e }, 'snmp set failed');
      this.respond(socket, rinfo, message, [], ErrorStatus.genErr, 0);
      return;
    }
    const mayWrite = this.access(message)?.write === true;
    if (!mayWrite && message.version !== snmp.Version3) this.counters.snmpInBadCommunityUses++;
    const run = this.setChain.then(async () => {
      let outcome;
      try {
        outcome = await this.engineFor(message).set(varbinds, mayWrite);
      } catch (e) {
        this.requestStats.internalErrors++;
        this.log.error({ err: e }, 'snmp set failed');
        outcome = { errorStatus: ErrorStatus.genErr, errorIndex: 0 };
      }
      if (outcome.errorStatus !== 0) this.requestStats.setErrors++;
      else this.log.info({ principal: message.user?.name ?? 'community', oids: varbinds.map((v) => v.oid) }, 'snmp set applied');
      this.respond(socket, rinfo, message, echo, outcome.errorStatus, outcome.errorIndex);
    });
    this.setChain = run.catch(() => undefined);
  }

  private sizeLimit(message: Message): number {
    const theirs = message.version === snmp.Version3 ? (message.msgGlobalData?.msgMaxSize ?? 65507) : 65507;
    return Math.min(this.maxMessageSize, theirs);
  }

  /** Octets of a response message around its varbind list (exact for v2c, an upper bound for v3). */
  private overhead(message: Message): number {
    const pdu = responsePduSize(message.pdu.id, 0xffff) - 0xffff + 4;
    if (message.version !== snmp.Version3) return pdu + 12 + Buffer.byteLength(message.community ?? '');
    // header, security parameters (engine ID, user, digest up to 48, salt) and scoped PDU header
    return pdu + 64 + 2 * this.engineId.length + 32 + 48 + 8 + 16;
  }

  /**
   * Encodes and sends the Response. Too big: GETBULK already stopped adding varbinds (RFC
   * 3416 §4.2.3); others become tooBig with no varbinds; if even that does not fit,
   * snmpSilentDrops (§4.2.1).
   */
  private respond(
    socket: dgram.Socket,
    rinfo: dgram.RemoteInfo,
    message: Message,
    varbinds: OutVarbind[],
    errorStatus: number,
    errorIndex: number,
    encoded?: Buffer[],
  ): void {
    if (!this.agent) return;
    const limit = this.sizeLimit(message);
    let vbs: Buffer[];
    try {
      vbs = encoded ?? varbinds.map((v) => encodeVarbindParts(v.prefix, v.suffix, v.type, v.value));
    } catch (e) {
      this.requestStats.internalErrors++;
      this.log.error({ err: e }, 'snmp: response encoding failed');
      vbs = [];
      errorStatus = ErrorStatus.genErr;
      errorIndex = 0;
    }
    let buf = this.wrap(message, responsePdu(message.pdu.id, errorStatus, errorIndex, vbs));
    if (buf.length > limit) {
      this.requestStats.tooBig++;
      buf = this.wrap(message, responsePdu(message.pdu.id, ErrorStatus.tooBig, 0, []));
    }
    if (buf.length > limit) {
      this.counters.snmpSilentDrops++;
      return;
    }
    this.sendRaw(socket, rinfo, buf);
  }

  /** The message around a Response PDU, in the request's version and security level. */
  private wrap(message: Message, pdu: Buffer): Buffer {
    if (message.version !== snmp.Version3) return communityMessage(Buffer.from(message.community ?? '', 'utf8'), pdu);
    const flags = message.msgGlobalData?.msgFlags ?? 0;
    const level = flags & 2 ? Level.authPriv : flags & 1 ? Level.authNoPriv : Level.noAuthNoPriv;
    const user = this.usm!.user(message.user?.name ?? '');
    return this.usm!.encodeMessage(message.msgGlobalData?.msgID ?? 0, level, user, ber.encoded(pdu));
  }
}

const NO_SUFFIX: readonly number[] = [];
