// The PMIPV6-MIB SNMP agent (RFC 6475) on UDP, SNMPv2c and SNMPv3/USM.
//
// net-snmp does the message work it does well: decoding PDUs, SNMPv3 decryption, and
// encoding (and encrypting, authenticating) responses. Its Mib/provider model is not used:
// it needs every row in its own tree, which would mean mirroring the binding cache, and
// its GETNEXT walks that tree. Instead the agent's request hooks (getRequest,
// getNextRequest, getBulkRequest, setRequest) are replaced by ours, which answer from the
// in-code object tree (mib.ts) over the live role views (view.ts) with successor lookups.
// Each datagram first passes our own checks (inbound.ts: usm.ts for SNMPv3, community for
// SNMPv2c) so that bad input gets the error the RFCs prescribe and is counted. The other
// parts: listen.ts (sockets), requests.ts (GET/GETNEXT/GETBULK answers), response.ts
// (the Response message), options.ts (options, statistics).
import type dgram from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import { hostname } from 'node:os';
import snmp from 'net-snmp';
import type { Agent, Message } from 'net-snmp';
import { logger as makeLogger, type Logger } from '../util/log.ts';
import { encodeVarbindParts, responsePdu } from './encode.ts';
import { requestName, type RequestName } from './names.ts';
import { LogEvery } from '../util/log-rate.ts';
import { ErrorStatus, MibEngine, type OutVarbind } from './engine.ts';
import { checkInbound } from './inbound.ts';
import { agentSockets } from './listen.ts';
import { COLUMNS, NOTIFICATIONS, T, ZERO_COUNTERS, pmip6Objects, systemObjects, type ReadContext } from './mib.ts';
import { Notifier, type NotificationRate } from './notify.ts';
import { newEngineCounters, newRequestStats, type SnmpAgentDeps, type SnmpAgentOptions, type SnmpAgentStats } from './options.ts';
import { NO_SUFFIX, answerGet, answerGetBulk, answerGetNext } from './requests.ts';
import { responseOverhead, securityLevel, sizeLimit, wrapResponse } from './response.ts';
import { bindingCacheIndex, bulIndex, inetIndex } from './table.ts';
import { Usm, makeUser, type UsmUser } from './usm.ts';
import { decideAccess, viewObjects, type AccessDecision, type ViewName } from './vacm.ts';
import type { BindingRegCounters, LmaTunnelEvent, MagTunnelEvent, Pmip6EventSink } from './view.ts';

interface SocketInfo {
  socket: dgram.Socket;
  address: string;
}

export class Pmip6SnmpAgent implements Pmip6EventSink {
  private readonly log: Logger;
  private readonly counters = newEngineCounters();
  private readonly requestStats = newRequestStats();
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

    const port = this.port;
    const { dgramModule, created, listening } = agentSockets(this.bind, port, this.onPacket.bind(this));
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

  /** Every datagram: version, community or USM checks (inbound.ts), then net-snmp's own processing. */
  private onPacket(socket: dgram.Socket, buf: Buffer, rinfo: dgram.RemoteInfo, next: (...a: unknown[]) => void): void {
    this.counters.snmpInPkts++;
    try {
      const d = checkInbound(buf, this.communities, this.usm!, this.counters);
      if (d.action === 'drop') return;
      if (d.action === 'reply') {
        this.sendRaw(socket, rinfo, d.message);
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
      return decideAccess({ kind: 'user', view: u.view, readWrite: u.access === 'read-write' }, securityLevel(message));
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
    return { varbinds: answerGet(this.engineFor(message), message.pdu, this.context(), (oid) => this.name(oid)) };
  }

  private onGetNext(message: Message): { varbinds: OutVarbind[] } {
    this.requestStats.getNextRequests++;
    return { varbinds: answerGetNext(this.engineFor(message), message.pdu, this.context(), (oid) => this.name(oid)) };
  }

  /** GETBULK (RFC 3416 §4.2.3), stopping when the next varbind would not fit the response. */
  private onGetBulk(message: Message): { varbinds: OutVarbind[]; encoded: Buffer[] } {
    this.requestStats.getBulkRequests++;
    const budget = sizeLimit(message, this.maxMessageSize) - responseOverhead(message, this.engineId.length);
    return answerGetBulk(this.engineFor(message), message.pdu, this.context(), (oid) => this.name(oid), budget);
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
    const limit = sizeLimit(message, this.maxMessageSize);
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
    let buf = wrapResponse(message, responsePdu(message.pdu.id, errorStatus, errorIndex, vbs), this.usm!);
    if (buf.length > limit) {
      this.requestStats.tooBig++;
      buf = wrapResponse(message, responsePdu(message.pdu.id, ErrorStatus.tooBig, 0, []), this.usm!);
    }
    if (buf.length > limit) {
      this.counters.snmpSilentDrops++;
      return;
    }
    this.sendRaw(socket, rinfo, buf);
  }
}
