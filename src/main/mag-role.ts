// Wires MAGs into a process: UDP transport on the Proxy-CoA (RFC 5844 §4), a policy
// source (the MN's profile tells the LMA and prefixes), an attach detector, and a data
// plane. Used by `pmip6 mag` (one MAG, events from the API) and `pmip6 simulate`.
// With `radius.servers` set (and no policy given), the MAG learns profiles over RADIUS
// (aaa-policy.ts: RFC 6572 §5 lookups, accounting, RFC 5176 CoA/Disconnect on radius.coaPort).
import { join } from 'node:path';
import type { Config } from '../config/index.ts';
import { Mag, fanOut, templatePolicy, type MagEventSink } from '../mag/index.ts';
import type { AttachDetector } from '../attach/types.ts';
import type { MagPolicySource } from '../policy/source.ts';
import { openUdpTransport } from '../transport/udp.ts';
import { listening } from './errors.ts';
import { RecordingDataPlane } from '../dataplane/recording.ts';
import { systemClock } from '../util/clock.ts';
import { fileCounterStore } from './files.ts';
import { logger } from '../util/log.ts';
import { startMagAaa, type MagAaa } from './aaa-policy.ts';

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
  /** The RADIUS client, accounting and RFC 5176 listener, when the MAG uses RADIUS. */
  aaa?: MagAaa;
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
  const transport = await listening({ what: `MAG ${o.id}`, proto: 'UDP', ports: [{ key: 'mag.port', port: o.port }], addressKey: 'mag.proxyCoa' }, () => openUdpTransport({ addresses: [o.proxyCoa], port: o.port }));
  const rc = fileCounterStore(join(config.dataDir, `mag-restart-counter-${o.id.replace(/[^\w.-]/g, '_')}`));
  // RFC 5847 §3.2: the MAG keeps no state across restarts, so every start is a restart that lost it.
  const restartCounter = ((await rc.load()) ?? 0) + 1;
  await rc.save(restartCounter);
  let aaa: MagAaa | undefined;
  if (!o.policy && config.radius.servers.length > 0) {
    try {
      aaa = await startMagAaa(config, { nasId: o.id, proxyCoa: o.proxyCoa, detector: o.detector, requestIpv4: config.mag.requestIpv4 });
    } catch (e) {
      await transport.close();
      throw e;
    }
  }
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
    {
      clock: systemClock,
      transport,
      dataPlane: new RecordingDataPlane(false),
      policy: o.policy ?? aaa?.policy ?? defaultMagPolicy(config),
      detector: aaa?.detector ?? o.detector,
      events: aaa ? fanOut(o.events, aaa.accounting) : o.events,
    },
  );
  try {
    await aaa?.bind(mag);
  } catch (e) {
    await aaa?.stop();
    await transport.close();
    throw e;
  }
  await mag.start();
  logger('main').info(
    { id: o.id, proxyCoa: o.proxyCoa, port: transport.localAddress().port, lma: `${config.mag.lmaAddress}:${config.mag.lmaPort}`, restartCounter, aaa: aaa ? { radius: config.radius.servers, coaPort: aaa.daePort() } : 'none' },
    'MAG running',
  );
  return {
    mag,
    aaa,
    async stop(opts = { deregister: true }) {
      await mag.stop(opts);
      await aaa?.stop();
      await transport.close();
    },
  };
}
