// Settings of the access-link detector and its Router Advertisements, with the RFC defaults
// (RFC 4861 §6.2.1 router variables, §10 constants; RFC 6543 fixed MAG addresses;
// RFC 5213 §8.5 Access Technology Type). Pure data.
import type { Clock } from '../util/clock.ts';
import type { Logger } from '../util/log.ts';

export interface AccessLinkConfig {
  /** Access interfaces by name; a trailing "*" matches a prefix ("mn*"). One MN per interface (RFC 5213 §6.3, point-to-point). */
  interfaces: string[];
  /** RFC 5213 §8.5 Access Technology Type reported for these links (3: IEEE 802.3). */
  accessTechType: number;
  /** RFC 6543 FixedMAGLinkLayerAddressOnAllAccessLinks: the RA's Ethernet source. */
  magLinkLayerAddress: string;
  /** RFC 5213 §6.8 / RFC 6543 FixedMAGLinkLocalAddressOnAllAccessLinks: the RA's IPv6 source. */
  magLinkLocal: string;
  /** Give each access interface those two addresses (rtnetlink), so the MN's neighbour entry for its router is the same on every MAG. */
  configureLink: boolean;
  /** Silence from an attached MN before NUD probing starts, ms (RFC 4861 §10 REACHABLE_TIME is 30 s). */
  reachableTimeMs: number;
  /** Unanswered probes before the MN counts as gone (RFC 4861 §10 MAX_UNICAST_SOLICIT 3). */
  nudProbes: number;
  /** Between probes, ms (RFC 4861 §10 RETRANS_TIMER 1 s). */
  nudRetransMs: number;
  /** Least time between two attaches of one interface's MN; earlier ones wait (attach/detach storms), ms. */
  holdDownMs: number;
  /** Most MNs tracked at once over all access interfaces. */
  maxHosts: number;
  /** Frames read per access interface per second; beyond, dropped (a flooding host costs bounded CPU). */
  maxFramesPerSecond: number;
  /** RFC 4861 §6.2.1 MaxRtrAdvInterval, s (RFC 8319: up to 65535). */
  raMaxIntervalS: number;
  /** RFC 4861 §6.2.1 MinRtrAdvInterval, s (default 0.33 × Max). */
  raMinIntervalS: number;
  /** RFC 4861 §6.2.1 AdvDefaultLifetime, s (default 3 × MaxRtrAdvInterval, at most 65535 per RFC 8319). */
  routerLifetimeS: number;
  /** RFC 4861 §6.2.1 AdvValidLifetime / AdvPreferredLifetime of each HNP, s. */
  prefixValidS: number;
  prefixPreferredS: number;
  /** RFC 5213 §6.9.2 item 3: the MAG–LMA tunnel MTU in an MTU option; 0 omits it. */
  mtu: number;
  /** RFC 4861 AdvManagedFlag / AdvOtherConfigFlag (RFC 5213 §6.4: the same on every MAG). */
  managed: boolean;
  other: boolean;
  /** RFC 4861 AdvCurHopLimit. */
  curHopLimit: number;
  /** RFC 4861 §10 MAX_RA_DELAY_TIME: solicited RAs wait a random time up to this, ms. */
  raDelayMs: number;
  /** Maximum Response Delay of the MLDv2 General Query sent when a link comes up, ms (RFC 3810 §5.1.3). */
  mldResponseMs: number;
  /** RFC 5844 §3.4: answer DHCPv4 clients with the IPv4 home address the LMA assigned. */
  dhcpServer: boolean;
  /** RFC 5844 §3.4.1 server identifier, the same on every MAG; '' = the MN's IPv4 default router. */
  dhcpServerId: string;
  /** DHCPv4 lease time, s (RFC 5844 §3.4: need not match the binding lifetime). */
  dhcpLeaseS: number;
}

export const ACCESS_DEFAULTS: AccessLinkConfig = {
  interfaces: [],
  accessTechType: 3,
  magLinkLayerAddress: '00:00:5e:00:52:13',
  magLinkLocal: 'fe80::200:5eff:fe00:5213',
  configureLink: true,
  reachableTimeMs: 30_000,
  nudProbes: 3,
  nudRetransMs: 1000,
  holdDownMs: 1000,
  maxHosts: 4096,
  maxFramesPerSecond: 200,
  raMaxIntervalS: 600,
  raMinIntervalS: 198,
  routerLifetimeS: 1800,
  prefixValidS: 2_592_000,
  prefixPreferredS: 604_800,
  mtu: 1452, // the tunnel MTU (dataplane.mtu: 1500 - 40 outer IPv6 - 8 keyed GRE)
  managed: false,
  other: false,
  curHopLimit: 64,
  raDelayMs: 500,
  mldResponseMs: 1000,
  dhcpServer: true,
  dhcpServerId: '',
  dhcpLeaseS: 3600,
};

export function resolveAccessConfig(c: Partial<AccessLinkConfig>): AccessLinkConfig {
  const r = { ...ACCESS_DEFAULTS, ...Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) } as AccessLinkConfig;
  if (c.raMaxIntervalS !== undefined && c.raMinIntervalS === undefined) r.raMinIntervalS = Math.max(3, 0.33 * r.raMaxIntervalS);
  if (c.raMaxIntervalS !== undefined && c.routerLifetimeS === undefined) r.routerLifetimeS = Math.min(65535, 3 * r.raMaxIntervalS);
  if (!(r.raMaxIntervalS >= 4 && r.raMaxIntervalS <= 65535)) throw new RangeError('RFC 4861 §6.2.1 / RFC 8319: MaxRtrAdvInterval must be 4..65535 s');
  if (!(r.raMinIntervalS >= 3 && r.raMinIntervalS <= 0.75 * r.raMaxIntervalS)) throw new RangeError('RFC 4861 §6.2.1: MinRtrAdvInterval must be 3 s .. 0.75 × MaxRtrAdvInterval');
  if (!(r.routerLifetimeS >= 1 && r.routerLifetimeS <= 65535)) throw new RangeError('RFC 4861 §6.2.1 / RFC 8319: AdvDefaultLifetime must be 1..65535 s (0 is only the withdrawal)');
  if (r.prefixPreferredS > r.prefixValidS) throw new RangeError('RFC 4862 §5.5.3: preferred lifetime must not exceed the valid lifetime');
  if (r.nudProbes < 1 || r.nudRetransMs < 1 || r.reachableTimeMs < 1) throw new RangeError('NUD timers and probe count must be positive');
  return r;
}

export interface AccessLinkDeps {
  clock: Clock;
  io: AccessIo;
  /** MN-Identifier from the link-layer address (the profiles' mnLinkLayerIds), or null for an unknown host. */
  identify(mac: string): string | null;
  log?: Logger;
  /** Uniform random in [0, 1) (tests fix it). */
  random?: () => number;
}

/** A link event from rtnetlink (or a test). */
export interface LinkEvent {
  ifindex: number;
  ifname: string | null;
  mac: string | null;
  up: boolean;
  deleted: boolean;
}

/** The I/O the detector needs; link-io.ts implements it with the native LinkSocket. */
export interface AccessIo {
  /** Starts link monitoring: every current interface is reported, then every change. */
  start(onLink: (l: LinkEvent) => void): Promise<void>;
  /** Opens a packet socket on the interface; frames (whole Ethernet) with their PACKET_* type. Throws when it cannot. */
  open(ifindex: number, onFrame: (frame: Buffer, pkttype: number) => void): AccessPort;
  /** Sets the interface's link-layer address and adds the link-local address (idempotent). */
  configure(ifindex: number, mac: Uint8Array, linkLocal: Uint8Array): Promise<void>;
  /** Adds an IPv4 address /32 (the MN's default router) so the kernel answers ARP for it (idempotent). */
  addIpv4?(ifindex: number, address: number): Promise<void>;
  stop(): Promise<void>;
}

export interface AccessPort {
  /** 0 or an errno. */
  send(frame: Uint8Array): number;
  close(): void;
}

/** PACKET_OUTGOING (linux/if_packet.h): our own transmissions, seen by the packet socket. */
export const PACKET_OUTGOING = 4;

/** Why the detector dropped a frame or event (counted; logged once per cause and source). */
export type AccessDropCause =
  | 'malformed'
  | 'unknownMac'
  | 'badSourceMac'
  | 'secondHost'
  | 'duplicateMac'
  | 'holdDown'
  | 'tooManyHosts'
  | 'foreignRouter'
  | 'openFailed'
  | 'sendFailed'
  | 'noHost'
  | 'rateLimited'
  | 'dhcpSpoofed'
  | 'dhcpOtherServer'
  | 'dhcpNoServerId'
  | 'dhcpUnexpected';

export interface AccessCounters {
  attaches: number;
  detaches: { linkDown: number; unreachable: number; stopped: number };
  framesIn: number;
  sent: { ra: number; raWithdraw: number; ns: number; mldQuery: number; dhcp: number; arp: number };
  /** DHCPv4 requests held until the binding (RFC 5844 §3.4.3), releases and declines seen. */
  dhcp: { held: number; release: number; decline: number };
  dropped: Record<AccessDropCause, number>;
}
