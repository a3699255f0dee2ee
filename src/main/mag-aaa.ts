// One MAG's AAA pieces from `config.radius` (wired by mag-role.ts): the RADIUS client, the
// policy (aaa-policy.ts), the attach detector under the AAA identity (aaa-detector.ts),
// accounting (aaa-accounting.ts) and its place on the process's RFC 5176 listener (aaa-dae.ts).
import { isIPv4, isIPv6 } from 'node:net';
import type { Config } from '../config/index.ts';
import type { AttachDetector } from '../attach/types.ts';
import type { Mag } from '../mag/index.ts';
import { FeatureVector } from '../policy/profile.ts';
import { RadiusAaaClient, type DaeRequest, type DaeResult } from '../radius/index.ts';
import { logger } from '../util/log.ts';
import { MagAccounting } from './aaa-accounting.ts';
import { AaaDetector } from './aaa-detector.ts';
import { applyDae, daeListenerPort, joinDae } from './aaa-dae.ts';
import { RadiusMagPolicy, parseRadiusServer } from './aaa-policy.ts';

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

  let leave: (() => Promise<void>) | null = null;
  const aaa: MagAaa = {
    policy,
    accounting,
    detector,
    daePort: () => daeListenerPort(c.coaPort),
    async onDae(req) {
      if (!mag) return null;
      return applyDae(req, { mag, policy, accounting, log });
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
