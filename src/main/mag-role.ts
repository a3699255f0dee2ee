// Wires MAGs into a process: UDP transport on the Proxy-CoA (RFC 5844 §4), a policy
// source (the MN's profile tells the LMA and prefixes), an attach detector, and a data
// plane. Used by `pmip6 mag` (one MAG, events from the API) and `pmip6 simulate`.
import { join } from 'node:path';
import type { Config } from '../config/index.ts';
import { Mag, templatePolicy, type MagEventSink } from '../mag/index.ts';
import type { AttachDetector } from '../attach/types.ts';
import type { MagPolicySource } from '../policy/source.ts';
import { openUdpTransport } from '../transport/udp.ts';
import { RecordingDataPlane } from '../dataplane/recording.ts';
import { systemClock } from '../util/clock.ts';
import { fileCounterStore } from './files.ts';
import { logger } from '../util/log.ts';

export interface MagRoleOptions {
  id: string;
  proxyCoa: string;
  /** Local UDP port (RFC 5844 §4 uses 5436; 0 = any). */
  port: number;
  detector: AttachDetector;
  policy?: MagPolicySource;
  events?: MagEventSink;
}

export interface MagRole {
  mag: Mag;
  stop(opts?: { deregister?: boolean }): Promise<void>;
}

/**
 * Without AAA the MAG asks the configured LMA to assign prefixes from the MN's profile
 * (an ALL_ZERO HNP, RFC 5213 §6.9.1.1), and an IPv4 HoA (0.0.0.0, RFC 5844 §3.2.3).
 */
export function defaultMagPolicy(config: Config): MagPolicySource {
  return templatePolicy({ lma: config.mag.lmaAddress, hnpPool: 'assigned-by-lma', ipv4Pool: config.mag.requestIpv4 ? 'assigned-by-lma' : null });
}

export async function startMagRole(config: Config, o: MagRoleOptions): Promise<MagRole> {
  const transport = await openUdpTransport({ addresses: [o.proxyCoa], port: o.port });
  const rc = fileCounterStore(join(config.dataDir, `mag-restart-counter-${o.id.replace(/[^\w.-]/g, '_')}`));
  // RFC 5847 §3.2: the MAG keeps no state across restarts, so every start is a restart that lost it.
  const restartCounter = ((await rc.load()) ?? 0) + 1;
  await rc.save(restartCounter);
  const mag = new Mag(
    {
      id: o.id,
      proxyCoa: o.proxyCoa,
      defaultLma: config.mag.lmaAddress,
      lmaPort: config.mag.lmaPort,
      lifetimeS: config.mag.lifetime,
      restartCounter,
      heartbeatIntervalS: config.mag.heartbeatInterval,
      requestIpv4: config.mag.requestIpv4,
    },
    { clock: systemClock, transport, dataPlane: new RecordingDataPlane(false), policy: o.policy ?? defaultMagPolicy(config), detector: o.detector, events: o.events },
  );
  await mag.start();
  logger('main').info({ id: o.id, proxyCoa: o.proxyCoa, port: transport.localAddress().port, lma: `${config.mag.lmaAddress}:${config.mag.lmaPort}`, restartCounter }, 'MAG running');
  return {
    mag,
    async stop(opts = { deregister: true }) {
      await mag.stop(opts);
      await transport.close();
    },
  };
}
