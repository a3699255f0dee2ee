// Wiring of the MN–MAG interface for `pmip6 mag` (mag.access.*): the access-link detector on
// real interfaces (src/attach/link-io.ts, native addon), its MAC -> MN-Identifier directory
// from mag.access.mns, and its Router Advertisements for the MAG.
import type { Config } from '../config/index.ts';
import { AccessLinkDetector } from '../attach/detector.ts';
import { LinkLayerDirectory } from '../attach/directory.ts';
import { NativeAccessIo } from '../attach/link-io.ts';
import { systemClock } from '../util/clock.ts';
import { logger } from '../util/log.ts';

/** The access-link detector mag.access asks for, or null (detector "api"). Throws one sentence when it cannot run. */
export function accessLinkDetector(config: Config, directory = new LinkLayerDirectory()): AccessLinkDetector | null {
  const a = config.mag.access;
  if (a.detector !== 'access-link') return null;
  for (const m of a.mns) {
    const i = m.indexOf('=');
    directory.set(m.slice(i + 1), [m.slice(0, i)]);
  }
  const log = logger('attach').child({ mag: config.mag.id });
  if (directory.size === 0) log.warn('mag.access.mns names no MN: every host on the access links is unknown and dropped');
  return new AccessLinkDetector(
    {
      interfaces: a.interfaces,
      accessTechType: a.accessTechType,
      magLinkLayerAddress: a.linkLayerAddress.toLowerCase().replace(/-/g, ':'),
      magLinkLocal: a.linkLocal,
      configureLink: a.configureLink,
      reachableTimeMs: a.reachableTime,
      nudProbes: a.nudProbes,
      nudRetransMs: a.nudRetransTimer,
      holdDownMs: a.holdDown,
      maxHosts: a.maxHosts,
      raMaxIntervalS: a.raMaxInterval,
      raMinIntervalS: a.raMinInterval > 0 ? a.raMinInterval : undefined,
      routerLifetimeS: a.routerLifetime > 0 ? a.routerLifetime : undefined,
      prefixValidS: a.prefixValidLifetime,
      prefixPreferredS: a.prefixPreferredLifetime,
      mtu: a.mtu,
      managed: a.managedFlag,
      other: a.otherConfigFlag,
      raDelayMs: a.raDelay,
      dhcpServer: a.dhcpServer,
      dhcpServerId: a.dhcpServerId,
      dhcpLeaseS: a.dhcpLeaseTime,
    },
    { clock: systemClock, io: new NativeAccessIo(), identify: (mac) => directory.lookup(mac), log },
  );
}
