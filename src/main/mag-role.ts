// Wires MAGs into a process: the transport towards the LMAs (RFC 5844 §4: raw IPv6,
// protocol 135, from an IPv6 Proxy-CoA to IPv6 LMAs; IPv4/UDP 5436 from an IPv4 Proxy-CoA
// to IPv4 LMAs; never MH over UDP over IPv6), a policy source (the MN's profile tells the LMA and prefixes), an attach detector, and a data
// plane. Used by `pmip6 mag` (one MAG, events from the API) and `pmip6 simulate`.
// With no policy given, the MAG learns profiles over the AAA protocol `aaa.protocol` names:
// RADIUS when `radius.servers` is set (mag-aaa.ts: RFC 6572 §5 lookups, accounting, RFC 5176
// CoA/Disconnect on radius.coaPort), Diameter when `diameter.peers` is set (diameter-mag.ts:
// RFC 5779 AAR/STR, RAR/ASR pushes).
import { join } from 'node:path';
import type { Config } from '../config/index.ts';
import { Mag, fanOut, templatePolicy, type MagEventSink } from '../mag/index.ts';
import type { AttachDetector, RouterAdvertiser } from '../attach/types.ts';
import type { MagPolicySource } from '../policy/source.ts';
import { isIPv4, isIPv6 } from 'node:net';
import { openUdpTransport } from '../transport/udp.ts';
import { allTypesBut, openIp6Transport } from '../transport/ip6.ts';
import { FamilyTransport } from '../transport/family.ts';
import type { MhTransport } from '../transport/types.ts';
import { MH_BU } from '../mh/index.ts';
import { listening } from './errors.ts';
import { openDataPlane } from '../dataplane/select.ts';
import type { DataPlane } from '../dataplane/types.ts';
import { systemClock } from '../util/clock.ts';
import { fileCounterStore } from './files.ts';
import { logger } from '../util/log.ts';
import { LogOnce } from '../util/log-once.ts';
import { startMagAaa, type MagAaa } from './mag-aaa.ts';
import { signallingProtection } from './protection.ts';
import type { ProtectionDecision, SignallingProtection } from '../security/ipsec.ts';
import { startMagDiameter, type MagDiameter } from './diameter-mag.ts';
import { advertiserFor } from './access.ts';

export interface MagRoleOptions {
  id: string;
  /** Proxy-CoA, IPv6 (raw IPv6 signalling) or IPv4 (IPv4/UDP). */
  proxyCoa: string;
  /** IPv4-Proxy-CoA for IPv4 LMAs when proxyCoa is IPv6 (RFC 5844 §4); default mag.ipv4ProxyCoa. */
  ipv4ProxyCoa?: string;
  /** Local UDP port (RFC 5844 §4 uses 5436; 0 = any). */
  port: number;
  detector: AttachDetector;
  /** Per-MN Router Advertisements on the access links (main/access.ts), told of every binding result. */
  advertiser?: RouterAdvertiser;
  policy?: MagPolicySource;
  events?: MagEventSink;
  /** A data plane of the caller's (pmip6 simulate: many MAGs in one process); default from dataplane.* config. */
  dataPlane?: DataPlane;
}

export interface MagRole {
  mag: Mag;
  /** The RADIUS client, accounting and RFC 5176 listener, when the MAG uses RADIUS. */
  aaa?: MagAaa;
  /** RFC 5213 §4: how the signalling with the LMA is protected. */
  signalling: SignallingProtection;
  /** The Diameter client and its session handling, when the MAG uses Diameter. */
  diameter?: MagDiameter;
  stop(opts?: { deregister?: boolean }): Promise<void>;
}

/**
 * Without AAA the MAG asks the configured LMA to assign prefixes from the MN's profile
 * (an ALL_ZERO HNP, RFC 5213 §6.9.1.1), and an IPv4 HoA (0.0.0.0, RFC 5844 §3.2.3).
 */
export function defaultMagPolicy(config: Config): MagPolicySource {
  return templatePolicy({ lma: config.mag.lmaAddress, hnpPool: 'assigned-by-lma', ipv4Pool: config.mag.requestIpv4 ? 'assigned-by-lma' : null });
}

/**
 * RFC 5844 §4: raw IPv6 MH sockets on an IPv6 Proxy-CoA (a MAG never receives a Binding
 * Update: MH Type 5 is dropped in the native filter), IPv4/UDP on an IPv4 one; the LMA's
 * address family picks one per message. Throws Ip6TransportUnavailableError (one line,
 * with the reason) when the Proxy-CoA is IPv6 and raw sockets cannot be had.
 */
export async function openMagTransport(o: { id: string; proxyCoa: string; ipv4ProxyCoa?: string; port: number }): Promise<FamilyTransport> {
  if (!isIPv6(o.proxyCoa) && !isIPv4(o.proxyCoa)) throw new TypeError(`MAG ${o.id}: the Proxy-CoA must be an IPv6 or IPv4 address (got ${o.proxyCoa})`);
  const v4 = isIPv4(o.proxyCoa) ? o.proxyCoa : o.ipv4ProxyCoa || null;
  if (v4 !== null && !isIPv4(v4)) throw new TypeError(`MAG ${o.id}: mag.ipv4ProxyCoa must be an IPv4 address (got ${v4})`);
  const ip6: MhTransport | null = isIPv6(o.proxyCoa) ? openIp6Transport({ addresses: [o.proxyCoa], types: allTypesBut(MH_BU), what: `MAG ${o.id}` }) : null;
  try {
    return new FamilyTransport(ip6, v4 !== null ? await openUdpTransport({ addresses: [v4], port: o.port }) : null);
  } catch (e) {
    await ip6?.close();
    throw e;
  }
}

export async function startMagRole(config: Config, o: MagRoleOptions): Promise<MagRole> {
  const transport = await listening({ what: `MAG ${o.id}`, proto: 'UDP', ports: [{ key: 'mag.port', port: o.port }], addressKey: 'mag.proxyCoa' }, () => openMagTransport({ id: o.id, proxyCoa: o.proxyCoa, ipv4ProxyCoa: o.ipv4ProxyCoa ?? config.mag.ipv4ProxyCoa, port: o.port }));
  // Send failures (e.g. no route, or an LMA of the other address family): logged once per cause and LMA.
  const sendErrors = new LogOnce(logger('mag').child({ mag: o.id }), 'MAG transport');
  transport.onError((e) => {
    const x = e as Error & { code?: string; address?: string };
    sendErrors.warn(`send-error${x.code ? ` ${x.code}` : ''}`, x.address ?? '-', { err: e.message });
  });
  let protection: ProtectionDecision;
  try {
    protection = await signallingProtection(config, { local: o.proxyCoa, port: config.mag.lmaPort, role: 'mag', carriage: o.proxyCoa.includes(':') ? 'mh' : 'udp' });
  } catch (e) {
    await transport.close();
    throw e;
  }
  const rc = fileCounterStore(join(config.dataDir, `mag-restart-counter-${o.id.replace(/[^\w.-]/g, '_')}`));
  // RFC 5847 §3.2: the MAG keeps no state across restarts (its Binding Update List is not
  // persisted), so every start is a restart that lost it.
  const restartCounter = ((await rc.load())?.counter ?? 0) + 1;
  await rc.save({ counter: restartCounter, cleanStop: false });
  let aaa: MagAaa | undefined;
  let dia: MagDiameter | undefined;
  const aaaOptions = { nasId: o.id, proxyCoa: o.proxyCoa, detector: o.detector, requestIpv4: config.mag.requestIpv4 };
  /** A start that fails from here on undoes, in this order, the AAA client, the transport and the protection. */
  const undo = async (): Promise<void> => {
    await aaa?.stop();
    await dia?.stop();
    await transport.close();
    await protection.remove();
  };
  try {
    if (!o.policy && config.aaa.protocol === 'radius' && config.radius.servers.length > 0) aaa = await startMagAaa(config, aaaOptions);
    if (!o.policy && config.aaa.protocol === 'diameter' && config.diameter.peers.length > 0) dia = await startMagDiameter(config, aaaOptions);
  } catch (e) {
    await undo();
    throw e;
  }
  let dataPlane: DataPlane;
  try {
    dataPlane = o.dataPlane ?? (await openDataPlane('mag', config.dataplane, logger('dataplane').child({ mag: o.id }), [o.proxyCoa]));
  } catch (e) {
    await undo();
    throw e;
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
      missingHeartbeatsAllowed: config.mag.missingHeartbeatsAllowed,
      requestIpv4: config.mag.requestIpv4,
      timestampMode: config.mag.timestampBasedApproach,
      timestampValidityWindowMs: config.mag.timestampValidityWindow,
      forceUdpEncapsulation: config.mag.forceIpv4UdpEncapsulation,
      fixedMagLinkLocal: config.mag.access.linkLocal,
      greMode: config.mag.greMode,
    },
    {
      clock: systemClock,
      transport,
      dataPlane,
      policy: o.policy ?? aaa?.policy ?? dia?.policy ?? defaultMagPolicy(config),
      detector: aaa?.detector ?? dia?.detector ?? o.detector,
      advertiser: advertiserFor(o.advertiser, aaa?.policy ?? dia?.policy),
      events: aaa ? fanOut(o.events, aaa.accounting) : dia ? fanOut(o.events, dia.events) : o.events,
    },
  );
  try {
    await aaa?.bind(mag);
    await dia?.bind(mag);
  } catch (e) {
    await undo();
    if (!o.dataPlane) await dataPlane.close?.();
    throw e;
  }
  await mag.start();
  logger('main').info(
    {
      id: o.id,
      proxyCoa: o.proxyCoa,
      ip6: transport.ip6 ? transport.ip6.localAddress().address : undefined,
      udp4: transport.udp4 ? transport.udp4.localAddress() : undefined,
      lma: isIPv6(config.mag.lmaAddress) ? config.mag.lmaAddress : `${config.mag.lmaAddress}:${config.mag.lmaPort}`,
      restartCounter,
      aaa: aaa ? { radius: config.radius.servers, coaPort: aaa.daePort() } : dia ? { diameter: config.diameter.peers } : 'none',
    },
    'MAG running',
  );
  return {
    mag,
    aaa,
    signalling: protection.protection,
    diameter: dia,
    async stop(opts = { deregister: true }) {
      await mag.stop(opts);
      await aaa?.stop();
      await dia?.stop();
      await transport.close();
      await protection.remove();
      if (!o.dataPlane) await dataPlane.close?.();
    },
  };
}
