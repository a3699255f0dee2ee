// Per-MN Router Advertisements (RFC 5213 §6.7, §6.8; RFC 4861 §6.2.4, §6.2.6):
// - only after a PBA with status 0 (`advertise`, from the MAG's registered/refreshed events),
//   never for an MN whose registration was refused: nothing is sent without a binding;
// - only that MN's HNPs, L=1 and A=1 (SLAAC), from the fixed MAG link-local and link-layer
//   address (RFC 6543), to the MN's link-local (or ff02::1 before it has one) and its MAC;
// - unsolicited at once, then the first MAX_INITIAL_RTR_ADVERTISEMENTS (3) at most
//   MAX_INITIAL_RTR_ADVERT_INTERVAL (16 s) apart, then every random [Min, Max]RtrAdvInterval;
// - solicited (an RS) after a random 0..MAX_RA_DELAY_TIME, one pending at a time;
// - `withdraw`: router lifetime 0 and the prefixes' lifetimes 0, when the binding ends while
//   the MN is still on the link (RFC 4861 §6.2.5 in spirit; RFC 5213 §6.12).
import type { TimerHandle, Clock } from '../util/clock.ts';
import { parseIpv6 } from '../mh/addr.ts';
import { ALL_NODES, buildRouterAdvertisement } from './build.ts';
import type { AccessLinkConfig, AccessPort } from './config.ts';
import type { AdvertisedBinding } from './types.ts';
import type { DhcpRequest } from './dhcp4.ts';
import type { Ipv4Lease } from './dhcp-server.ts';

/** RFC 4861 §10 router constants. */
export const MAX_INITIAL_RTR_ADVERT_INTERVAL_MS = 16_000;
export const MAX_INITIAL_RTR_ADVERTISEMENTS = 3;
/** RFC 4861 §10 MIN_DELAY_BETWEEN_RAS: multicast RAs at least this far apart. */
export const MIN_DELAY_BETWEEN_RAS_MS = 3000;

export interface AccessLink {
  ifindex: number;
  ifname: string;
  up: boolean;
  port: AccessPort | null;
  /** The one MN of this point-to-point link (RFC 5213 §6.3). */
  host: AccessHost | null;
  lastAttach: number | null;
  retryTimer: TimerHandle | null;
  /** Frames read in the current one-second window (maxFramesPerSecond). */
  window: { start: number; frames: number };
}

export interface AccessHost {
  mnId: string;
  mac: string;
  macBytes: Buffer;
  link: AccessLink;
  /** Source of its frames once it has one (after DAD). */
  linkLocal: Buffer | null;
  linkLocalText: string | null;
  /** The link-local it is checking by DAD. */
  tentative: Buffer | null;
  lastSeen: number;
  probes: number;
  nudTimer: TimerHandle | null;
  /** What is advertised; null before the first PBA 0 and after the binding ended. */
  binding: (AdvertisedBinding & { src: Buffer }) | null;
  raTimer: TimerHandle | null;
  initialLeft: number;
  raPending: boolean;
  /** When the last RA went to ff02::1 (the MN had no link-local yet), for MIN_DELAY_BETWEEN_RAS. */
  lastMulticastRaAt: number;
  /** The IPv4 home address to hand out by DHCPv4 (RFC 5844 §3.4), from the binding. */
  ipv4: Ipv4Lease | null;
  /** The last DHCP request that arrived before the binding (answered when it is in). */
  dhcpHeld: DhcpRequest | null;
}

export class Advertiser {
  constructor(
    private readonly c: AccessLinkConfig,
    private readonly clock: Clock,
    private readonly random: () => number,
    private readonly magMac: Buffer,
    private readonly magLinkLocal: Buffer,
    private readonly out: (h: AccessHost, frame: Buffer, kind: 'ra' | 'raWithdraw') => void,
  ) {}

  advertise(h: AccessHost, b: AdvertisedBinding): void {
    const first = h.binding === null;
    let src = this.magLinkLocal;
    if (b.magLinkLocal && b.magLinkLocal !== '::') src = parseIpv6(b.magLinkLocal);
    h.binding = { hnps: [...b.hnps], lifetimeS: b.lifetimeS, magLinkLocal: b.magLinkLocal ?? null, src };
    if (!first || b.hnps.length === 0) return; // a refresh: the schedule already runs; IPv4 only: no RA
    this.send(h, false);
    h.initialLeft = MAX_INITIAL_RTR_ADVERTISEMENTS - 1;
    this.schedule(h);
  }

  withdraw(h: AccessHost): void {
    if (!h.binding) return;
    if (h.binding.hnps.length > 0) this.send(h, true);
    this.forget(h);
  }

  /** An RS from the MN: an RA after a random delay, unless one is pending (RFC 4861 §6.2.6). */
  solicited(h: AccessHost): void {
    if (!h.binding || h.binding.hnps.length === 0 || h.raPending) return;
    h.raPending = true;
    h.raTimer?.cancel();
    let delay = Math.floor(this.random() * this.c.raDelayMs);
    // RFC 4861 §6.2.6: an answer that goes to ff02::1 waits for MIN_DELAY_BETWEEN_RAS after the last one.
    if (!h.linkLocal) delay = Math.max(delay, h.lastMulticastRaAt + MIN_DELAY_BETWEEN_RAS_MS - this.clock.now());
    h.raTimer = this.clock.setTimer(delay, () => {
      h.raPending = false;
      if (!h.binding || h.link.host !== h) return;
      this.send(h, false);
      this.schedule(h);
    });
  }

  /** The MN left or the binding ended: no more RAs. */
  forget(h: AccessHost): void {
    h.raTimer?.cancel();
    h.raTimer = null;
    h.raPending = false;
    h.binding = null;
  }

  private schedule(h: AccessHost): void {
    h.raTimer?.cancel();
    const min = this.c.raMinIntervalS * 1000;
    const max = this.c.raMaxIntervalS * 1000;
    let ms = min + this.random() * (max - min);
    if (h.initialLeft > 0) {
      h.initialLeft--;
      ms = Math.min(ms, MAX_INITIAL_RTR_ADVERT_INTERVAL_MS);
    }
    h.raTimer = this.clock.setTimer(ms, () => {
      h.raTimer = null;
      if (!h.binding || h.link.host !== h) return;
      this.send(h, false);
      this.schedule(h);
    });
  }

  private send(h: AccessHost, withdraw: boolean): void {
    const b = h.binding!;
    const f = buildRouterAdvertisement({
      srcMac: this.magMac,
      dstMac: h.macBytes,
      src: b.src,
      dst: h.linkLocal ?? ALL_NODES,
      curHopLimit: this.c.curHopLimit,
      managed: this.c.managed,
      other: this.c.other,
      routerLifetimeS: withdraw ? 0 : this.c.routerLifetimeS,
      reachableMs: 0,
      retransMs: 0,
      includeSourceLinkLayer: true,
      mtu: this.c.mtu,
      prefixes: b.hnps.map((prefix) => ({
        prefix,
        onLink: true,
        autonomous: true,
        validS: withdraw ? 0 : this.c.prefixValidS,
        preferredS: withdraw ? 0 : this.c.prefixPreferredS,
      })),
    });
    if (!h.linkLocal) h.lastMulticastRaAt = this.clock.now();
    this.out(h, f, withdraw ? 'raWithdraw' : 'ra');
  }
}
