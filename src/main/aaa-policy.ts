// The MAG's AAA over RADIUS, wired by mag-role.ts when `radius.servers` is set:
// - RadiusMagPolicy (a MagPolicySource): on attach the MAG sends an Access-Request for the MN
//   (RFC 6572 §5.1) and maps the Accept's profile to the shared Profile: LMA address, HNPs,
//   IPv4 HoA and prefix length, gateway, DHCP servers, service selection, feature vector,
//   interface id (§5.2). Access-Reject → null (the MN is not eligible, RFC 5213 §6.9.1.1
//   item 1). No answer, or an Accept that contradicts itself (§4.1) → a rejected promise: the
//   MAG reports 'policy-error', and a re-registration keeps the binding, instead of treating
//   an AAA outage as "not eligible". Counted in pmip6_mag_aaa_lookups_total{result}.
// - AaaDetector: wraps the attach detector. RFC 6572 §4.2: when the Accept carries a
//   Mobile-Node-Identifier the MAG MUST use it in the PBU, so the attach is resolved over AAA
//   first and reaches the MAG under that identity; detach events and presence checks are
//   translated the same way. The resolved profile is handed to the MAG without a second request.
// - MagAccounting (a MagEventSink): Accounting-Request Start when a binding is registered and
//   Stop when it is de-registered, revoked or lost (RFC 6572 §7, RFC 2866), with the HNPs, HoA,
//   LMA and the Accept's Class; the AAA server finds the MAG serving an MN from these records.
// - RFC 5176 Dynamic Authorization Server: CoA-Request → drop the cached Accept and re-register
//   the MN with its new profile (Mag.reRegister); Disconnect-Request → de-register it. One
//   DAE listener per port in a process, shared by its MAGs (`pmip6 simulate`), dispatched by
//   NAS-Identifier and session.
import { isIPv4, isIPv6 } from 'node:net';
import { Counter } from 'prom-client';
import type { Config } from '../config/index.ts';
import type { AttachDetachEvent, AttachDetector } from '../attach/types.ts';
import type { Mag, MagEvent, MagEventSink } from '../mag/index.ts';
import { FeatureVector, type Profile } from '../policy/profile.ts';
import type { MagPolicySource } from '../policy/source.ts';
import { DaeServer, ErrorCause, RadiusAaaClient, preferredLma, type AaaProfile, type DaeRequest, type DaeResult, type RadiusServerAddress } from '../radius/index.ts';
import { registry } from '../metrics/registry.ts';
import { logger, type Logger } from '../util/log.ts';

const lookups = new Counter({
  name: 'pmip6_mag_aaa_lookups_total',
  help: 'MAG profile lookups over AAA (RADIUS RFC 6572 §5 or Diameter RFC 5779 §4.1) by result: accept, reject, error',
  labelNames: ['result'] as const,
  registers: [registry],
});

/** RFC 2866 §5.10 Acct-Terminate-Cause values the MAG reports. */
const Terminate = { UserRequest: 1, LostService: 3, AdminReset: 6, NasRequest: 10 } as const;

/**
 * A `radius.servers` entry: "host", "host:port", "[v6]:port", each optionally followed by
 * "/acctPort" (default: auth port 1812, accounting port = auth port + 1).
 */
export function parseRadiusServer(spec: string, secret: string): RadiusServerAddress {
  let host = spec.trim();
  let acctPort: number | null = null;
  const slash = /\/(\d+)$/.exec(host);
  if (slash) {
    acctPort = Number(slash[1]);
    host = host.slice(0, slash.index);
  }
  let port = 1812;
  const br = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (br) {
    host = br[1];
    if (br[2]) port = Number(br[2]);
  } else if (!isIPv6(host)) {
    const i = host.lastIndexOf(':');
    if (i > 0) {
      port = Number(host.slice(i + 1));
      host = host.slice(0, i);
    }
  }
  acctPort ??= port + 1;
  const okPort = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;
  if (!(isIPv4(host) || isIPv6(host)) || !okPort(port) || !okPort(acctPort)) {
    throw new Error(`radius.servers: "${spec}" is not host[:port][/acctPort] with an IP address`);
  }
  return { host, port, acctPort, secret, name: isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}` };
}

/** The shared Profile a MAG acts on, from an Access-Accept (or CoA) profile. */
export function profileFromAaa(a: AaaProfile, userName: string): Profile {
  const fv = a.featureVector;
  const home = a.homeLmaIpv6 !== null || a.homeLmaIpv4 !== null;
  const hnps = home || a.hnps.length > 0 ? a.hnps : a.visitedHnps;
  const hoa = home || a.ipv4HoA ? a.ipv4HoA : a.visitedIpv4HoA;
  const v4only = fv !== null && (fv & FeatureVector.IP4_HOA_ONLY_SUPPORTED) !== 0n;
  const v4 = fv !== null && (fv & (FeatureVector.IP4_HOA_SUPPORTED | FeatureVector.IP4_HOA_ONLY_SUPPORTED)) !== 0n;
  const epoch = new Date(0);
  return {
    id: 0,
    mnId: a.mnId ?? userName,
    mnLinkLayerIds: [],
    hnps,
    // Authorised for IPv6 without a prefix in the Accept: the LMA assigns one (ALL_ZERO HNP).
    hnpPool: hnps.length === 0 && !v4only ? 'assigned-by-lma' : null,
    ipv4HoA: hoa?.address ?? null,
    ipv4PrefixLength: hoa?.prefixLength ?? null,
    // Authorised for IPv4 without an address in the Accept: the LMA assigns one (0.0.0.0).
    ipv4Pool: !hoa && v4 ? 'assigned-by-lma' : null,
    ipv4DefaultRouter: home || a.ipv4Gateway ? a.ipv4Gateway : a.visitedIpv4Gateway,
    lma: preferredLma(a),
    lmaGroup: null,
    serviceSelection: a.serviceSelection,
    greKeyPolicy: 'none', // RFC 6572 has no GRE attribute
    dhcpv4Server: home || a.dhcp4Server ? a.dhcp4Server : a.visitedDhcp4Server,
    dhcpv6Server: home || a.dhcp6Server ? a.dhcp6Server : a.visitedDhcp6Server,
    interfaceId: home || a.interfaceId ? a.interfaceId : a.visitedInterfaceId,
    mip6FeatureVector: fv ?? 0n,
    enabled: true,
    createdAt: epoch,
    updatedAt: epoch,
  };
}

type Lookup = { ok: true; profile: Profile | null; cls: Buffer | null } | { ok: false; error: Error };

/** How long a profile resolved for an attach waits for the MAG to ask for it. */
const HANDOFF_MS = 5000;

/** What the MAG's policy needs of an AAA client: RadiusAaaClient, or DiameterAaaClient (diameter-mag.ts). */
export type MagAaaClient = Pick<RadiusAaaClient, 'authorize' | 'invalidate'>;

export class RadiusMagPolicy<C extends MagAaaClient = RadiusAaaClient> implements MagPolicySource {
  /** MAG key (AAA Mobile-Node-Identifier) → the NAI the MN attached with, when they differ. */
  private readonly naiByKey = new Map<string, string>();
  private readonly keyByNai = new Map<string, string>();
  private readonly handoff = new Map<string, { r: Lookup; until: number }>();
  /** Class (RFC 2865 §5.25) of the last Accept per MAG key, echoed in accounting. */
  readonly classes = new Map<string, Buffer>();
  readonly stats = { accept: 0, reject: 0, error: 0 };

  constructor(
    readonly client: C,
    private readonly o: { featureVector?: bigint; serviceSelection?: string; log: Logger; protocol?: string },
  ) {}

  /** The NAI (User-Name) of a MAG key. */
  naiOf(key: string): string {
    return this.naiByKey.get(key) ?? key;
  }

  /** The MAG key of a NAI (its AAA Mobile-Node-Identifier once resolved). */
  keyOf(nai: string): string {
    return this.keyByNai.get(nai) ?? nai;
  }

  /** NAI -> the MN's link-layer address, sent as Calling-Station-Id (RFC 2865 §5.31); bounded. */
  private readonly linkLayerOf = new Map<string, string>();

  private async lookup(nai: string): Promise<Lookup> {
    const callingStationId = this.linkLayerOf.get(nai);
    const r = await this.client.authorize({ userName: nai, featureVector: this.o.featureVector, serviceSelection: this.o.serviceSelection, ...(callingStationId ? { callingStationId } : {}) });
    if (r.status === 'accept') {
      this.stats.accept++;
      lookups.labels('accept').inc();
      return { ok: true, profile: profileFromAaa(r.profile, nai), cls: r.profile.class };
    }
    if (r.status === 'reject') {
      this.stats.reject++;
      lookups.labels('reject').inc();
      this.o.log.info({ mnId: nai, server: r.server, reply: r.replyMessage }, 'AAA rejected the MN (Access-Reject / DIAMETER_AUTHORIZATION_REJECTED)');
      return { ok: true, profile: null, cls: null };
    }
    this.stats.error++;
    lookups.labels('error').inc();
    this.o.log.warn({ mnId: nai, error: r.error, detail: r.detail, server: r.server }, 'no usable answer from AAA');
    return { ok: false, error: new Error(`${this.o.protocol ?? 'RADIUS'}: ${r.error}${r.detail ? ` (attribute ${r.detail.attribute}: ${r.detail.reason})` : ''}`) };
  }

  /**
   * Resolves an attaching NAI to the MAG key (the AAA Mobile-Node-Identifier); never rejects.
   * With the MN's link-layer address the request carries it as Calling-Station-Id: an MN known
   * only by its MAC (mag.access.identity=aaa) is found by it, and the Accept names its MN-ID.
   */
  async resolve(nai: string, linkLayerId?: string): Promise<string> {
    if (linkLayerId) {
      this.linkLayerOf.delete(nai);
      if (this.linkLayerOf.size >= 100_000) this.linkLayerOf.delete(this.linkLayerOf.keys().next().value!);
      this.linkLayerOf.set(nai, linkLayerId);
    }
    const r = await this.lookup(nai);
    let key = nai;
    if (r.ok && r.profile && r.profile.mnId !== nai) {
      key = r.profile.mnId;
      this.naiByKey.set(key, nai);
      this.keyByNai.set(nai, key);
    }
    this.handoff.set(key, { r, until: Date.now() + HANDOFF_MS });
    return key;
  }

  async profile(key: string): Promise<Profile | null> {
    const h = this.handoff.get(key);
    this.handoff.delete(key);
    const r = h && h.until > Date.now() ? h.r : await this.lookup(this.naiOf(key));
    if (!r.ok) throw r.error;
    if (r.cls) this.classes.set(key, r.cls);
    else this.classes.delete(key);
    return r.profile;
  }

  /** Forget what is cached for this MN (after a CoA or Disconnect). */
  invalidate(key: string): void {
    this.handoff.delete(key);
    this.client.invalidate(this.naiOf(key));
    this.client.invalidate(key);
  }
}

/** The attach detector as the MAG sees it: MNs under their AAA identity (RFC 6572 §4.2). */
export class AaaDetector implements AttachDetector {
  private handler: ((e: AttachDetachEvent) => void) | undefined;
  private readonly chains = new Map<string, Promise<void>>();
  isAttached?: (mnId: string, link: string) => boolean;

  constructor(
    private readonly inner: AttachDetector,
    private readonly policy: RadiusMagPolicy<MagAaaClient>,
    /** Whether the MAG already has a session of this key on this link (no AAA round trip then). */
    private readonly hasSession: (key: string, link: string) => boolean,
    private readonly log: Logger,
  ) {
    if (inner.isAttached) this.isAttached = (mnId, link) => inner.isAttached!(policy.naiOf(mnId), link);
  }

  onEvent(handler: (e: AttachDetachEvent) => void): void {
    this.handler = handler;
    this.inner.onEvent((e) => this.onInner(e));
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }

  /** Events of one NAI reach the MAG in their order, each attach after its AAA answer. */
  private onInner(e: AttachDetachEvent): void {
    const nai = e.mnId;
    const run = async (): Promise<void> => {
      let mnId = this.policy.keyOf(nai);
      if (e.kind === 'attach' && !this.hasSession(mnId, e.link)) mnId = await this.policy.resolve(nai, e.mnLinkLayerId);
      this.handler?.({ ...e, mnId });
    };
    const prev = this.chains.get(nai);
    const next = (prev ? prev.then(run) : run()).catch((err: unknown) => this.log.error({ mnId: nai, err: (err as Error)?.message }, 'attach event lost'));
    this.chains.set(nai, next);
    void next.then(() => {
      if (this.chains.get(nai) === next) this.chains.delete(nai);
    });
  }
}

interface AcctSession {
  id: string;
  key: string;
  link: string;
  startedAt: number;
  lma: string;
  hnps: string[];
  ipv4HoA: string | null;
  cause: number | null;
}

/** RFC 6572 §7 / RFC 2866 accounting of the MAG's bindings. */
export class MagAccounting implements MagEventSink {
  readonly sessions = new Map<string, AcctSession>();
  private readonly pending = new Set<Promise<void>>();
  private counter = 0;
  readonly stats = { sent: 0, failed: 0 };

  constructor(
    private readonly policy: RadiusMagPolicy,
    private readonly nasId: string,
    private readonly log: Logger,
  ) {}

  static key(mnId: string, link: string): string {
    return `${mnId}\n${link}`;
  }

  /** The accounting sessions of an MN on this MAG. */
  of(mnId: string): AcctSession[] {
    return [...this.sessions.values()].filter((s) => s.key === mnId);
  }

  /** The Acct-Terminate-Cause the next Stop of this session carries. */
  setCause(mnId: string, link: string, cause: number): void {
    const s = this.sessions.get(MagAccounting.key(mnId, link));
    if (s) s.cause = cause;
  }

  emit(e: MagEvent): void {
    switch (e.type) {
      case 'registered': {
        const k = MagAccounting.key(e.mnId, e.link);
        const old = this.sessions.get(k);
        if (old) this.stop(old, Terminate.NasRequest);
        const s: AcctSession = {
          id: `${this.nasId}-${Date.now().toString(16)}-${(++this.counter).toString(16)}`,
          key: e.mnId, link: e.link, startedAt: Date.now(), lma: e.lma, hnps: e.hnps, ipv4HoA: e.ipv4HoA, cause: null,
        };
        this.sessions.set(k, s);
        this.send(s, 'start');
        return;
      }
      case 'refreshed': {
        const s = this.sessions.get(MagAccounting.key(e.mnId, e.link));
        if (s) Object.assign(s, { lma: e.lma, hnps: e.hnps, ipv4HoA: e.ipv4HoA });
        return;
      }
      case 'deregistered':
        return this.end(e.mnId, e.link, Terminate.UserRequest);
      case 'failed':
        return this.end(e.mnId, e.link, Terminate.LostService);
      case 'revoked':
        if (!e.ipv4Only) this.end(e.mnId, e.link, Terminate.AdminReset);
        return;
      default:
    }
  }

  private end(mnId: string, link: string, dflt: number): void {
    const s = this.sessions.get(MagAccounting.key(mnId, link));
    if (s) this.stop(s, s.cause ?? dflt);
  }

  private stop(s: AcctSession, cause: number): void {
    this.sessions.delete(MagAccounting.key(s.key, s.link));
    this.send(s, 'stop', cause);
  }

  private send(s: AcctSession, statusType: 'start' | 'stop', terminateCause?: number): void {
    const hoa = s.ipv4HoA ? { address: s.ipv4HoA, prefixLength: 32 } : undefined;
    const p = this.policy.client
      .accounting({
        statusType, sessionId: s.id, userName: this.policy.naiOf(s.key), mnId: s.key, lmaAddress: s.lma, hnps: s.hnps, ipv4HoA: hoa,
        class: this.policy.classes.get(s.key),
        ...(statusType === 'stop' ? { sessionTime: Math.round((Date.now() - s.startedAt) / 1000), terminateCause } : {}),
      })
      .then((r) => {
        if (r.ok) this.stats.sent++;
        else {
          this.stats.failed++;
          this.log.warn({ mnId: s.key, session: s.id, statusType, error: r.error }, 'accounting not acknowledged');
        }
      });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Resolves once every accounting request sent so far is answered or timed out. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}

/** One MAG's AAA pieces. */
export interface MagAaa {
  policy: RadiusMagPolicy;
  accounting: MagAccounting;
  /** The detector to give the MAG (wraps the real one). */
  detector: AttachDetector;
  /** Port of the RFC 5176 listener serving this MAG. */
  daePort(): number;
  /** RFC 5176 handling for this MAG (the shared listener dispatches here). */
  onDae(req: DaeRequest): Promise<DaeResult | null>;
  /** Hand over the MAG once built (the detector and the DAE handler act on it). */
  bind(mag: Mag): Promise<void>;
  stop(): Promise<void>;
}

const NOT_FOUND: DaeResult = { ok: false, errorCause: ErrorCause.SessionContextNotFound };

/** RFC 5176 listeners of this process by port, shared by its MAGs. */
const daeListeners = new Map<number, { server: DaeServer; mags: Set<{ nasId: string; aaa: MagAaa }>; starting: Promise<void> }>();

async function joinDae(port: number, host: string, clients: RadiusServerAddress[], entry: { nasId: string; aaa: MagAaa }, log: Logger): Promise<() => Promise<void>> {
  let l = daeListeners.get(port);
  if (!l) {
    const mags = new Set<{ nasId: string; aaa: MagAaa }>();
    const server = new DaeServer({
      host,
      port,
      clients: clients.map((c) => ({ address: c.host, secret: c.secret, name: c.name ?? c.host })),
      logger: log,
      handler: async (req) => {
        // RFC 5176 §3: a request naming another NAS is answered 403; else the MAG holding the session acts.
        const named = req.nasIdentifier === null ? [...mags] : [...mags].filter((m) => m.nasId === req.nasIdentifier);
        if (named.length === 0) return { ok: false, errorCause: ErrorCause.NasIdentificationMismatch };
        for (const m of named) {
          const r = await m.aaa.onDae(req);
          if (r) return r;
        }
        return NOT_FOUND;
      },
    });
    l = { server, mags, starting: server.start() };
    daeListeners.set(port, l);
    try {
      await l.starting;
    } catch (e) {
      daeListeners.delete(port);
      throw e;
    }
  } else {
    await l.starting;
  }
  const listener = l;
  listener.mags.add(entry);
  return async () => {
    listener.mags.delete(entry);
    if (listener.mags.size === 0 && daeListeners.get(port) === listener) {
      daeListeners.delete(port);
      await listener.server.stop();
    }
  };
}

export interface MagAaaOptions {
  /** NAS-Identifier (the MAG's id). */
  nasId: string;
  proxyCoa: string;
  detector: AttachDetector;
  /** Ask for IPv4 service too (MIP6-Feature-Vector IP4_HOA_SUPPORTED). */
  requestIpv4: boolean;
}

/** The RADIUS client, policy, accounting and DAE listener of one MAG, from `config.radius`. */
export async function startMagAaa(config: Config, o: MagAaaOptions): Promise<MagAaa> {
  const c = config.radius;
  const log = logger('mag-aaa').child({ mag: o.nasId });
  if (!c.secret) throw new Error('radius.servers is set but radius.secret is empty');
  const servers = c.servers.map((s) => parseRadiusServer(s, c.secret));
  const v4 = isIPv4(o.proxyCoa);
  const client = new RadiusAaaClient({
    servers,
    timeoutMs: c.timeoutMs,
    retries: c.retries,
    cacheTtlMs: c.cacheTtlMs,
    nasIdentifier: o.nasId,
    ...(v4 ? { nasIpAddress: o.proxyCoa } : isIPv6(o.proxyCoa) ? { nasIpv6Address: o.proxyCoa } : {}),
    logger: log,
  });
  const featureVector = FeatureVector.PMIP6_SUPPORTED | (o.requestIpv4 ? FeatureVector.IP4_HOA_SUPPORTED : 0n);
  const policy = new RadiusMagPolicy(client, { featureVector, log });
  const accounting = new MagAccounting(policy, o.nasId, log);
  let mag: Mag | null = null;
  const detector = new AaaDetector(o.detector, policy, (key, link) => mag?.view.get(key, link) !== undefined, log);

  const findKeys = (req: DaeRequest): string[] => {
    if (req.acctSessionId) {
      for (const s of accounting.sessions.values()) if (s.id === req.acctSessionId) return [s.key];
      return [];
    }
    const keys = new Set<string>();
    for (const id of [req.mnId, req.userName]) if (id && mag?.view.get(policy.keyOf(id))) keys.add(policy.keyOf(id));
    return [...keys];
  };

  let leave: (() => Promise<void>) | null = null;
  const aaa: MagAaa = {
    policy,
    accounting,
    detector,
    daePort: () => daeListeners.get(c.coaPort)?.server.port ?? 0,
    async onDae(req) {
      if (!mag) return null;
      const keys = findKeys(req);
      if (keys.length === 0) return null;
      if (req.kind === 'coa') {
        let sessions = 0;
        for (const k of keys) {
          policy.invalidate(k);
          const r = await mag.reRegister(k);
          if (r.policyError) return { ok: false, errorCause: ErrorCause.ResourcesUnavailable };
          sessions += r.sessions;
        }
        log.info({ mnIds: keys, sessions, from: req.from }, 'CoA-Request: re-registered with the new profile (RFC 5176)');
        return sessions > 0 ? { ok: true } : NOT_FOUND;
      }
      let n = 0;
      for (const k of keys) {
        policy.invalidate(k);
        const links = new Set(accounting.of(k).map((s) => s.link));
        const first = mag.view.get(k);
        if (first) links.add(first.link);
        for (const link of links) {
          accounting.setCause(k, link, Terminate.AdminReset);
          await mag.detach({ kind: 'detach', mnId: k, link });
          n++;
        }
      }
      log.info({ mnIds: keys, sessions: n, from: req.from }, 'Disconnect-Request: de-registered (RFC 5176)');
      return n > 0 ? { ok: true } : NOT_FOUND;
    },
    async bind(m) {
      mag = m;
      leave = await joinDae(c.coaPort, c.bind[0] ?? '::', servers, { nasId: o.nasId, aaa }, log);
    },
    async stop() {
      await leave?.();
      // De-registrations just sent their Stops: give them their retransmissions' time.
      await Promise.race([accounting.idle(), new Promise((r) => setTimeout(r, (c.timeoutMs * (c.retries + 1) + 100) * servers.length).unref())]);
      client.close();
    },
  };
  return aaa;
}
