// Wiring of the MN–MAG interface for `pmip6 mag` (mag.access.*): the access-link detector on
// real interfaces (src/attach/link-io.ts, native addon), its MAC -> MN-Identifier directory
// from mag.access.mns, and its Router Advertisements for the MAG.
import type { Config } from '../config/index.ts';
import { AccessLinkDetector } from '../attach/detector.ts';
import { LinkLayerDirectory } from '../attach/directory.ts';
import type { RouterAdvertiser } from '../attach/types.ts';
import { NativeAccessIo } from '../attach/link-io.ts';
import { systemClock } from '../util/clock.ts';
import { Counter, Gauge } from 'prom-client';
import { registry } from '../metrics/registry.ts';
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
  const viaAaa = a.identity === 'aaa';
  if (viaAaa && config.radius.servers.length === 0) throw new Error('mag.access.identity=aaa needs RADIUS (radius.servers): the MN is found by its MAC as Calling-Station-Id');
  if (directory.size === 0 && !viaAaa) log.warn('mag.access.mns names no MN: every host on the access links is unknown and dropped');
  // identity=aaa: an unlisted MAC attaches under a NAI made of it; RADIUS resolves the MN-ID.
  const identify = (mac: string) => directory.lookup(mac) ?? (viaAaa ? `${mac.replace(/:/g, '')}@${a.macRealm}` : null);
  const d = new AccessLinkDetector(
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
      maxFramesPerSecond: a.maxFramesPerSecond,
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
    { clock: systemClock, io: new NativeAccessIo(), identify, log },
  );
  live.set(config.mag.id, d);
  return d;
}

/**
 * With AAA the MAG keys an MN by the Accept's Mobile-Node-Identifier (RFC 6572 §4.2), while the
 * access link knows it by the identity it attached with (its NAI, or one made of its MAC):
 * the MAG's RA calls are translated back.
 */
export function advertiserFor(adv: RouterAdvertiser | undefined, policy: { naiOf(key: string): string } | undefined): RouterAdvertiser | undefined {
  if (!adv || !policy) return adv;
  return {
    advertise: (key, link, b) => adv.advertise(policy.naiOf(key), link, b),
    withdraw: (key, link) => adv.withdraw(policy.naiOf(key), link),
  };
}

/** Detectors whose counters /metrics reports, by MAG id (read at scrape time). */
const live = new Map<string, AccessLinkDetector>();

/** Forget a stopped detector's metrics. */
export function forgetAccessMetrics(magId: string): void {
  live.delete(magId);
}

new Counter({
  name: 'pmip6_mag_access_events_total',
  help: 'Access-link detector (src/attach/): attaches, detaches by cause, frames read, frames sent by kind',
  labelNames: ['mag', 'event'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const [mag, d] of live) {
      const c = d.counters;
      this.inc({ mag, event: 'attach' }, c.attaches);
      for (const [k, v] of Object.entries(c.detaches)) this.inc({ mag, event: `detach_${k}` }, v);
      this.inc({ mag, event: 'frame_in' }, c.framesIn);
      for (const [k, v] of Object.entries(c.sent)) this.inc({ mag, event: `sent_${k}` }, v);
      for (const [k, v] of Object.entries(c.dhcp)) this.inc({ mag, event: `dhcp_${k}` }, v);
    }
  },
});

new Counter({
  name: 'pmip6_mag_access_dropped_total',
  help: 'Access-link frames and events dropped, by cause (unknownMac, secondHost, holdDown, malformed, ...)',
  labelNames: ['mag', 'cause'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const [mag, d] of live) for (const [cause, v] of Object.entries(d.counters.dropped)) this.inc({ mag, cause }, v);
  },
});

new Gauge({
  name: 'pmip6_mag_access_attached',
  help: 'MNs attached on the access links now',
  labelNames: ['mag'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const [mag, d] of live) this.set({ mag }, d.attached().length);
  },
});
