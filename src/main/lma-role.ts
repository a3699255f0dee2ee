// Wires an LMA into the process: UDP 5436 transport (RFC 5844 §4), the policy store as
// policy source and binding store, a restart counter in dataDir, and a data plane.
import { join } from 'node:path';
import type { Config } from '../config/index.ts';
import type { Store } from '../store/index.ts';
import { Lma, type LmaEventSink, type MemoryLmaPolicy } from '../lma/index.ts';
import { ProfileDirectory } from '../store/profile-directory.ts';
import { openUdpTransport } from '../transport/udp.ts';
import { RecordingDataPlane } from '../dataplane/recording.ts';
import type { LmaPolicySource } from '../policy/source.ts';
import { canonicalAddress } from '../util/ip.ts';
import { fileCounterStore } from './files.ts';
import type { BindingJson, BindingsSource } from '../api/routes/bindings.ts';
import type { BindingInfo } from '../lma/index.ts';
import { logger } from '../util/log.ts';

/**
 * RFC 5213 §5.3.1 checks 5-8 against the store: MAG authorisation by Proxy-CoA, the MN's
 * profile. A MAG's authorisation is cached for `magCacheMs` (every new session of every MN
 * behind a MAG asks the same question), so a change to a MAG takes effect within that time.
 * Profiles come from the profile directory (in memory while it follows the database's change
 * notifications; default: batched database reads); when both answers are in memory the LMA
 * decides at once (policyNow).
 */
export function storeLmaPolicy(store: Store, opts: { authorizeAnyMag: boolean; magCacheMs?: number; now?: () => number; directory?: ProfileDirectory }): LmaPolicySource & MemoryLmaPolicy {
  const ttl = opts.magCacheMs ?? 5000;
  const now = opts.now ?? Date.now;
  const directory = opts.directory ?? new ProfileDirectory(store, { mode: 'off' });
  const mags = new Map<string, { ok: boolean; until: number }>();
  const magNow = (proxyCoa: string): boolean | undefined => {
    if (opts.authorizeAnyMag) return true;
    const hit = mags.get(canonicalAddress(proxyCoa) ?? proxyCoa);
    return hit && hit.until > now() ? hit.ok : undefined;
  };
  return {
    profile: (mnId) => directory.find(mnId),
    async magAuthorized(proxyCoa) {
      const known = magNow(proxyCoa);
      if (known !== undefined) return known;
      const key = canonicalAddress(proxyCoa) ?? proxyCoa;
      const mag = await store.mags.findByProxyCoa(key);
      const ok = mag?.authorized === true;
      if (mags.size > 10000) mags.clear();
      mags.set(key, { ok, until: now() + ttl });
      return ok;
    },
    policyNow(mnId, proxyCoa) {
      const profile = directory.peek(mnId);
      if (profile === undefined) return undefined;
      const magAuthorized = magNow(proxyCoa);
      return magAuthorized === undefined ? undefined : { profile, magAuthorized };
    },
  };
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
  /** The API's live bindings source. */
  bindings: BindingsSource;
  port: number;
  stop(): Promise<void>;
}

export interface LmaRoleOptions {
  /** Where profiles come from (pmip6 start shares one with the RADIUS server); default batched database reads. */
  directory?: ProfileDirectory;
}

export async function startLmaRole(config: Config, store: Store, events?: LmaEventSink, o: LmaRoleOptions = {}): Promise<LmaRole> {
  const c = config.lma;
  const addresses = [...new Set([c.address, c.ipv4Address].filter(Boolean))];
  const transport = await openUdpTransport({ addresses, port: c.udpPort });
  const lmaId = c.id || c.address;
  const lma = new Lma({
    transport,
    // The kernel data plane is a later piece of work: signalling runs, forwarding state is recorded.
    dataPlane: new RecordingDataPlane(false),
    policy: storeLmaPolicy(store, { authorizeAnyMag: c.authorizeAnyMag, directory: o.directory }),
    events,
    store: store.bindings,
    restartCounterStore: fileCounterStore(join(config.dataDir, `lma-restart-counter-${lmaId.replace(/[^\w.-]/g, '_')}`)),
    config: {
      lmaId,
      address: c.address,
      ipv4Address: c.ipv4Address || (c.address.includes(':') ? '' : c.address),
      minDelayBeforeBceDeleteMs: c.minDelayBeforeBCEDelete,
      maxDelayBeforeNewBceAssignMs: c.maxDelayBeforeNewBCEAssign,
      timestampValidityWindowMs: c.timestampValidityWindow,
      maxLifetimeS: c.maxLifetime,
      heartbeatIntervalMs: c.heartbeatInterval * 1000,
      servedLmaNames: c.servedNames,
    },
  });
  await lma.start();
  const port = transport.localAddress().port ?? c.udpPort;
  logger('main').info({ addresses, port, lmaId, restartCounter: lma.restartCounter }, 'LMA listening (PMIPv6 over IPv4/UDP, RFC 5844)');
  return {
    lma,
    port,
    bindings: {
      list: (f) => {
        const r = lma.bindings.list(f);
        return { items: r.items.map((b) => bindingJson(b, lmaId)), total: r.total };
      },
    },
    async stop() {
      await lma.stop();
      await transport.close();
    },
  };
}
