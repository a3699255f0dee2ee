// Wires an LMA into the process: Mobility Header over raw IPv6 (protocol 135) on its IPv6
// address(es) and over IPv4/UDP 5436 (RFC 5844 §4) on its IPv4 address(es), both at once,
// the policy store as policy source and binding store, a restart counter in dataDir, and a data plane. With
// an AAA client configured (aaa.protocol radius + radius.servers, or diameter + diameter.peers), the
// MN's authorisation comes from the AAA server instead (RFC 6572 §6, RFC 5779 §4.2).
import { join } from 'node:path';
import { isIPv4, isIPv6 } from 'node:net';
import { Counter } from 'prom-client';
import type { Config } from '../config/index.ts';
import type { Store } from '../store/index.ts';
import { Lma, type LmaEventSink, type MemoryLmaPolicy } from '../lma/index.ts';
import { ProfileDirectory } from '../store/profile-directory.ts';
import { openPeerDirectory } from '../store/peer-directory.ts';
import { openUdpTransport } from '../transport/udp.ts';
import { allTypesBut, openIp6Transport } from '../transport/ip6.ts';
import type { MhTransport } from '../transport/types.ts';
import { MH_BA } from '../mh/index.ts';
import { openDataPlane } from '../dataplane/select.ts';
import type { DataPlane } from '../dataplane/types.ts';
import type { LmaPolicySource } from '../policy/source.ts';
import { canonicalSource, type MagRecord, type MagTable } from '../lma/sender.ts';
import type { PeerDirectory } from '../store/peer-directory.ts';
import type { Mag } from '../store/repos/mags.ts';
import { fileCounterStore } from './files.ts';
import { listening } from './errors.ts';
import { FileBindingJournal } from '../store/binding-journal.ts';
import { BindingRepo } from '../store/repos/bindings.ts';
import { openPostgres } from '../store/pg.ts';
import type { Db } from '../store/db.ts';
import type { BindingJson, BindingsSource } from '../api/routes/bindings.ts';
import type { BindingInfo } from '../lma/index.ts';
import { logger } from '../util/log.ts';
import { registry } from '../metrics/registry.ts';
import { RadiusAaaClient, type AaaProfile, type LmaAuthorizeRequest } from '../radius/index.ts';
import { profileFrom } from '../mag/index.ts';
import type { Profile } from '../policy/profile.ts';
import { parseRadiusServer, profileFromAaa } from './aaa-policy.ts';
import { signallingProtection } from './protection.ts';
import type { ProtectionDecision, SignallingProtection } from '../security/ipsec.ts';
import { diameterClientFor } from './diameter-mag.ts';

/**
 * RFC 5213 §5.3.1 checks 5-8 against the store: MAG authorisation by Proxy-CoA from the MAG
 * table held in memory (the peer directory, kept current by change notifications), the MN's
 * profile from the profile directory (in memory while it follows the database's change
 * notifications; default: batched database reads); when both answers are in memory the LMA
 * decides at once (policyNow).
 */
export function storeLmaPolicy(store: Store, opts: { authorizeAnyMag: boolean; peers: PeerDirectory; directory?: ProfileDirectory }): LmaPolicySource & MemoryLmaPolicy {
  const directory = opts.directory ?? new ProfileDirectory(store, { mode: 'off' });
  const magNow = (proxyCoa: string): boolean => opts.authorizeAnyMag || opts.peers.mag(canonicalSource(proxyCoa))?.authorized === true;
  // Both counters only grow: their sum changes whenever either does.
  let magReloads = 0;
  opts.peers.onChange((t) => {
    if (t === 'mags') magReloads++;
  });
  return {
    profile: (mnId) => directory.find(mnId),
    magAuthorized: async (proxyCoa) => magNow(proxyCoa),
    policyNow(mnId, proxyCoa) {
      const profile = directory.peekView(mnId); // read, never kept or changed: no copy
      return profile === undefined ? undefined : { profile, magAuthorized: magNow(proxyCoa) };
    },
    policyGeneration() {
      const g = directory.followedGeneration();
      return g === undefined ? undefined : g + magReloads;
    },
  };
}

/**
 * The LMA's MagTable (src/lma/sender.ts) over the peer directory. With lma.authorizeAnyMag
 * (lab use) every source is an authorised MAG whose only Proxy-CoA is that source.
 */
export function magTable(peers: PeerDirectory, authorizeAnyMag: boolean): MagTable {
  const records = new WeakMap<Mag, MagRecord>();
  return {
    bySource(address) {
      if (authorizeAnyMag) return { id: address, proxyCoas: [address], authorized: true, scope: null };
      const m = peers.mag(address);
      if (!m) return undefined;
      let r = records.get(m);
      if (!r) {
        r = { id: m.id, proxyCoas: m.proxyCoa.map((a) => canonicalSource(a)), authorized: m.authorized, scope: m.scope };
        records.set(m, r);
      }
      return r;
    },
  };
}

const aaaAuthorizations = new Counter({
  name: 'pmip6_lma_aaa_authorizations_total',
  help: 'PBU authorisations the LMA asked of AAA (RADIUS RFC 6572 §6.1, Diameter RFC 5779 §4.2) by result: accept, reject, error',
  labelNames: ['result'] as const,
  registers: [registry],
});

/**
 * RFC 6572 §6.1: the MN's authorisation from the RADIUS AAA server (Access-Request with
 * Service-Type Authorize-Only, the MN identifier from the PBU as User-Name and
 * Mobile-Node-Identifier, this LMA's address as PMIP6-Home-LMA-IPv6/IPv4-Address, which the
 * server records for an MN not yet anchored, RFC 6097).
 * - Access-Accept: the profile from its attributes. When it authorises IPv6 (IPv4) service but
 *   carries no prefix (address), a second request delegates the assignment to the server
 *   (PMIP6-Home-HN-Prefix ::/128, PMIP6-Home-IPv4-HoA 0.0.0.0/32; §4.8, §4.12), whose Accept
 *   carries what it assigned: the LMA then binds exactly that.
 * - Access-Reject: the MN is not authorised for network-based mobility, RFC 5213 §5.3.1 step 8:
 *   a profile with enabled=false, so the PBA says PROXY_REG_NOT_ENABLED (152). A Reject carries
 *   no machine-readable cause (Reply-Message is text), so an MN the server does not know gets
 *   152 as well, not 153.
 * - No answer, or an Accept that contradicts itself (§4.1): the promise rejects; the LMA drops
 *   the PBU (an existing session keeps its policy snapshot) and the MAG retransmits.
 * Every PBU that asks for the profile is authorised again (§6.1 allows it for re-registrations).
 * LmaPolicySource.profile() carries only the MN identifier, so Calling-Station-Id and
 * Service-Selection (SHOULD in §6.1) are not sent. MAG authorisation is not AAA's: `magAuthorized`.
 */
export function radiusLmaPolicy(client: Pick<RadiusAaaClient, 'authorizeLma'>, o: { lmaAddress: string; magAuthorized: LmaPolicySource['magAuthorized']; protocol?: string }): LmaPolicySource {
  const ask = async (req: LmaAuthorizeRequest): Promise<AaaProfile | null> => {
    const r = await client.authorizeLma(req);
    if (r.status === 'error') {
      aaaAuthorizations.labels('error').inc();
      throw new Error(`${o.protocol ?? 'RADIUS'} authorisation of ${req.mnId} failed: ${r.error}${r.server ? ` (${r.server})` : ''}`);
    }
    aaaAuthorizations.labels(r.status).inc();
    return r.status === 'accept' ? r.profile : null;
  };
  const refused = (mnId: string): Profile => profileFrom(mnId, { enabled: false, hnpPool: null });
  return {
    async profile(mnId) {
      const base = { mnId, lmaAddress: o.lmaAddress };
      const first = await ask(base);
      if (!first) return refused(mnId);
      let p = profileFromAaa(first, mnId);
      const v6 = p.hnps.length === 0 && p.hnpPool !== null;
      const v4 = p.ipv4HoA === null && p.ipv4Pool !== null;
      if (v6 || v4) {
        const assigned = await ask({ ...base, hnps: v6 ? 'delegate' : undefined, ipv4HoA: v4 ? 'delegate' : undefined });
        if (!assigned) return refused(mnId);
        p = profileFromAaa(assigned, mnId);
      }
      // The LMA keys the session by the PBU's identifier (the server may answer with an alias).
      return p.mnId === mnId ? p : { ...p, mnId };
    },
    magAuthorized: o.magAuthorized,
  };
}

/** The LMA's AAA client: RADIUS from `config.radius`, Diameter from `config.diameter` (by aaa.protocol), or null. */
function lmaAaaClient(config: Config, nasIdentifier: string): { client: Pick<RadiusAaaClient, 'authorizeLma'>; close(): Promise<void> | void; protocol: string } | null {
  if (config.aaa.protocol === 'diameter') {
    if (config.diameter.peers.length === 0) return null;
    const d = diameterClientFor(config, { nasIdentifier, nasIpAddress: config.lma.address });
    return { client: d.client, close: () => d.release(), protocol: 'Diameter' };
  }
  const c = config.radius;
  if (c.servers.length === 0) return null;
  if (!c.secret) throw new Error('radius.servers is set but radius.secret is empty');
  const a = config.lma.address;
  const client = new RadiusAaaClient({
    servers: c.servers.map((s) => parseRadiusServer(s, c.secret)),
    timeoutMs: c.timeoutMs,
    retries: c.retries,
    nasIdentifier,
    ...(isIPv4(a) ? { nasIpAddress: a } : isIPv6(a) ? { nasIpv6Address: a } : {}),
    logger: logger('lma-aaa'),
  });
  return { client, close: () => client.close(), protocol: 'RADIUS' };
}

export function bindingJson(b: BindingInfo, lmaId: string): BindingJson {
  return {
    mnId: b.mnId,
    mnLinkLayerId: b.mnLinkLayerId,
    accessTechType: b.accessTechnologyType,
    proxyCoa: b.proxyCoa,
    lma: lmaId,
    hnps: b.hnps,
    ipv4HoA: b.ipv4HoA,
    lifetime: b.lifetimeS,
    registeredAt: b.registeredAt,
    expiresAt: b.expiresAt,
    state: b.state,
  };
}

export interface LmaRole {
  lma: Lma;
  /** RFC 5213 §4: how the signalling with the MAGs is protected. */
  signalling: SignallingProtection;
  /** The API's live bindings source. */
  bindings: BindingsSource;
  port: number;
  stop(): Promise<void>;
}

export interface LmaRoleOptions {
  /** Where profiles come from (pmip6 start shares one with the RADIUS server); default batched database reads. */
  directory?: ProfileDirectory;
  /** The MAG table in memory (pmip6 start shares one with the RADIUS server); default one of its own. */
  peers?: PeerDirectory;
}

/**
 * The LMA's transports: raw IPv6 MH sockets on its IPv6 addresses (an LMA never receives a
 * Binding Acknowledgement: MH Type 6 is dropped in the native filter) and IPv4/UDP on its
 * IPv4 addresses (RFC 5844 §4). MH over UDP over IPv6 is not used. Throws
 * Ip6TransportUnavailableError, with the reason in one line, when an IPv6 address is
 * configured and raw sockets cannot be had.
 */
export async function openLmaTransports(c: Config['lma']): Promise<{ transports: MhTransport[]; ip6: string[]; udp4: string[]; port: number }> {
  const addresses = [...new Set([c.address, c.ipv4Address].filter(Boolean))];
  const ip6 = addresses.filter((a) => isIPv6(a));
  const udp4 = addresses.filter((a) => !isIPv6(a));
  const transports: MhTransport[] = [];
  if (ip6.length > 0) transports.push(openIp6Transport({ addresses: ip6, types: allTypesBut(MH_BA), what: 'LMA' }));
  let port = c.udpPort;
  if (udp4.length > 0) {
    try {
      const udp = await openUdpTransport({ addresses: udp4, port: c.udpPort, batched: c.udpBatched });
      port = udp.localAddress().port ?? port;
      transports.push(udp);
    } catch (e) {
      for (const t of transports) await t.close();
      throw e;
    }
  }
  return { transports, ip6, udp4, port };
}

export async function startLmaRole(config: Config, store: Store, events?: LmaEventSink, o: LmaRoleOptions = {}): Promise<LmaRole> {
  const c = config.lma;
  const { transports, ip6, udp4, port } = await listening({ what: 'LMA', proto: 'UDP', ports: [{ key: 'lma.udpPort', port: c.udpPort }], addressKey: 'lma.address' }, () => openLmaTransports(c));
  let dataPlane: DataPlane | undefined;
  let bindingDb: Db | undefined;
  const closeAll = async (): Promise<void> => {
    for (const t of transports) await t.close();
    await dataPlane?.close?.();
    await bindingDb?.close();
  };
  try {
    // RFC 5213 §5.6: the tunnels and HNP routes of every binding (src/dataplane/select.ts says which and why).
    dataPlane = await openDataPlane('lma', config.dataplane, logger('dataplane'), [...ip6, ...udp4]);
  } catch (e) {
    await closeAll();
    throw e;
  }
  const lmaId = c.id || c.address;
  let aaa: ReturnType<typeof lmaAaaClient>;
  try {
    aaa = lmaAaaClient(config, lmaId);
  } catch (e) {
    await closeAll();
    throw e;
  }
  let peers: PeerDirectory;
  let ownPeers = false;
  try {
    if (o.peers) peers = o.peers;
    else {
      peers = await openPeerDirectory(store, { listenUrl: config.databaseUrl || undefined, tables: ['mags'] });
      ownPeers = true;
    }
  } catch (e) {
    await closeAll();
    aaa?.close();
    throw e;
  }
  let protection: ProtectionDecision;
  try {
    // The SAs select the Mobility Header (protocol 135) when the LMA signals over IPv6 only, else UDP.
    protection = await signallingProtection(config, { local: c.address, port, role: 'lma', carriage: ip6.length > 0 && udp4.length === 0 ? 'mh' : 'udp' });
  } catch (e) {
    await closeAll();
    aaa?.close();
    if (ownPeers) await peers.close();
    throw e;
  }
  if (c.authorizeAnyMag) logger('main').warn('lma.authorizeAnyMag is set: every source address is treated as an authorised MAG (lab use only)');
  const storePolicy = storeLmaPolicy(store, { authorizeAnyMag: c.authorizeAnyMag, peers, directory: o.directory });
  const fileId = lmaId.replace(/[^\w.-]/g, '_');
  const journal = new FileBindingJournal(join(config.dataDir, `lma-journal-${fileId}.jsonl`));
  // lma.commitWait "server": binding commits on two connections of their own with synchronous_commit
  // off (the PBA goes once PostgreSQL holds the commit, without waiting for its fdatasync).
  if (c.commitWait === 'server' && store.db.kind === 'postgres' && config.databaseUrl) {
    bindingDb = await openPostgres(config.databaseUrl, { max: 2, options: '-c synchronous_commit=off' });
    logger('main').warn('lma.commitWait=server: a PBA goes once PostgreSQL holds the binding, before it is flushed to disk; a crash of the database host can lose acknowledged bindings');
  } else if (c.commitWait === 'server') {
    logger('main').warn('lma.commitWait=server applies to PostgreSQL only; the embedded store acknowledges after its own commit (as with disk)');
  }
  const lma = new Lma({
    transport: transports,
    mags: magTable(peers, c.authorizeAnyMag),
    dataPlane,
    policy: aaa ? radiusLmaPolicy(aaa.client, { lmaAddress: c.address, magAuthorized: storePolicy.magAuthorized, protocol: aaa.protocol }) : storePolicy,
    events,
    store: bindingDb ? new BindingRepo(bindingDb) : store.bindings,
    journal,
    restartCounterStore: fileCounterStore(join(config.dataDir, `lma-restart-counter-${fileId}`)),
    // RFC 5847 §3.2: a restart is announced to the provisioned MAGs too (IPv4: on the RFC 5844 port).
    knownMags: async () =>
      (await store.mags.list({ authorized: true, limit: 10_000 })).items.flatMap((m) => m.proxyCoa.map((address) => (isIPv6(address) ? { address } : { address, port: 5436 }))),
    config: {
      lmaId,
      address: c.address,
      ipv4Address: c.ipv4Address || (c.address.includes(':') ? '' : c.address),
      minDelayBeforeBceDeleteMs: c.minDelayBeforeBCEDelete,
      maxDelayBeforeNewBceAssignMs: c.maxDelayBeforeNewBCEAssign,
      timestampValidityWindowMs: c.timestampValidityWindow,
      maxLifetimeS: c.maxLifetime,
      heartbeatIntervalMs: c.heartbeatInterval * 1000,
      missingHeartbeatsAllowed: c.missingHeartbeatsAllowed,
      timestampBasedApproachInUse: c.timestampBasedApproach,
      mobileNodeGeneratedTimestampInUse: c.mobileNodeGeneratedTimestamp,
      acceptForcedIpv4UdpEncapsulation: c.acceptForcedIpv4UdpEncapsulation,
      servedLmaNames: c.servedNames,
      policyCacheTtlMs: c.policyCacheTtl,
      // The services with a routing context of their own (src/dataplane/contexts.ts): their own IPv4 address space.
      addressContexts: config.dataplane.contexts.map((x) => x.trim().split(/\s+/)[0]),
    },
  });
  try {
    await lma.start();
  } catch (e) {
    await closeAll();
    await journal.close();
    await aaa?.close();
    if (ownPeers) await peers.close();
    await protection.remove();
    throw e;
  }
  logger('main').info(
    { ip6, udp4, port: udp4.length > 0 ? port : undefined, lmaId, restartCounter: lma.restartCounter, aaa: aaa ? (aaa.protocol === 'RADIUS' ? { radius: config.radius.servers } : { diameter: config.diameter.peers }) : 'store' },
    `LMA listening (PMIPv6${ip6.length > 0 ? ' over IPv6, protocol 135' : ''}${ip6.length > 0 && udp4.length > 0 ? ' and' : ''}${udp4.length > 0 ? ' over IPv4/UDP, RFC 5844' : ''})`,
  );
  return {
    lma,
    port,
    signalling: protection.protection,
    bindings: {
      list: (f) => {
        const r = lma.bindings.list(f);
        return { items: r.items.map((b) => bindingJson(b, lmaId)), total: r.total };
      },
    },
    async stop() {
      await lma.stop();
      await closeAll();
      await journal.close();
      await aaa?.close();
      if (ownPeers) await peers.close();
      await protection.remove();
    },
  };
}
