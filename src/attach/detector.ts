// The access-link attach detector (RFC 5213 §6.9.1.1 "after detecting a new MN", §6.13
// presence, §6.3 point-to-point links), and the per-MN Router Advertisements it owes the MN
// once the binding is in (advertise.ts).
//
// Attach: on an access interface that is up, the first frame of a host (MLD report,
// DAD Neighbor Solicitation, Router Solicitation: a Linux MN sends only MLD reports after a
// link move, ../README) whose link-layer address is one of a profile's mnLinkLayerIds.
// When a link comes up the MAG sends an MLDv2 General Query (mn-ar-if §6: MUST on every new
// attachment), which a host answers with reports: that is what finds a quiet MN.
// Detach (§6.13, mn-ar-if §7): the interface goes down or away (a reliable link-layer
// indication), or NUD (RFC 4861 §7.3) fails: no frame for reachableTimeMs, then nudProbes
// unicast Neighbor Solicitations unanswered.
// Bad input: unknown or multicast source MACs, a second host on a point-to-point link,
// malformed frames, attach storms (holdDownMs between two attaches of one interface's MN),
// more than maxHosts MNs: each dropped, counted by cause, logged once per cause and source.
import { ipv6ToString, parseIpv6 } from '../mh/addr.ts';
import { logger, type Logger } from '../util/log.ts';
import { LogOnce } from '../util/log-once.ts';
import { Advertiser, type AccessHost, type AccessLink } from './advertise.ts';
import { buildMldv2GeneralQuery, buildNeighborSolicitation } from './build.ts';
import { PACKET_OUTGOING, resolveAccessConfig, type AccessCounters, type AccessDropCause, type AccessLinkConfig, type AccessLinkDeps, type LinkEvent } from './config.ts';
import { Icmp6Type, macFromString, parseAccessFrame, type AccessPacket } from './icmp6.ts';
import { ipv4Num } from './dhcp4.ts';
import { buildArpReply, buildArpRequest } from './arp.ts';
import type { DhcpServerConfig } from './dhcp-server.ts';
import { answerDhcp, onArpFrame, onDhcpFrame, type Ipv4Context } from './ipv4.ts';
import type { AdvertisedBinding, AttachDetachEvent, AttachDetector, RouterAdvertiser } from './types.ts';

export type { AccessCounters, AccessDropCause } from './config.ts';

export class AccessLinkDetector implements AttachDetector, RouterAdvertiser {
  readonly config: AccessLinkConfig;
  readonly counters: AccessCounters;
  private handler: ((e: AttachDetachEvent) => void) | undefined;
  private readonly links = new Map<number, AccessLink>();
  private readonly log: Logger;
  private readonly drops: LogOnce;
  private readonly magMac: Buffer;
  private readonly magLinkLocal: Buffer;
  private readonly ra: Advertiser;
  private readonly dhcp: DhcpServerConfig;
  /** What ipv4.ts (ARP, DHCPv4) may do here. */
  private readonly ipv4Context: Ipv4Context;
  /** Attached MNs by MAC: one MAC is on one link at a time (a second one is spoofed). */
  private readonly byMac = new Map<string, AccessHost>();
  private running = false;

  constructor(config: Partial<AccessLinkConfig>, private readonly deps: AccessLinkDeps) {
    this.config = resolveAccessConfig(config);
    this.log = deps.log ?? logger('attach');
    this.drops = new LogOnce(this.log, 'access link');
    this.magMac = macFromString(this.config.magLinkLayerAddress);
    this.magLinkLocal = parseIpv6(this.config.magLinkLocal);
    this.counters = {
      attaches: 0,
      detaches: { linkDown: 0, unreachable: 0, stopped: 0 },
      framesIn: 0,
      sent: { ra: 0, raWithdraw: 0, ns: 0, mldQuery: 0, dhcp: 0, arp: 0 },
      dhcp: { held: 0, release: 0, decline: 0 },
      dropped: {
        malformed: 0, unknownMac: 0, badSourceMac: 0, secondHost: 0, duplicateMac: 0, holdDown: 0, tooManyHosts: 0, foreignRouter: 0, openFailed: 0, sendFailed: 0, noHost: 0, rateLimited: 0,
        dhcpSpoofed: 0, dhcpOtherServer: 0, dhcpNoServerId: 0, dhcpUnexpected: 0,
      },
    };
    this.dhcp = { serverId: this.config.dhcpServerId, leaseS: this.config.dhcpLeaseS, mtu: this.config.mtu, magMac: this.magMac };
    if (this.config.dhcpServerId) ipv4Num(this.config.dhcpServerId); // throws on a bad address
    this.ipv4Context = {
      config: this.config,
      counters: this.counters,
      dhcp: this.dhcp,
      log: this.log,
      drop: (cause, l, source) => this.drop(cause, l, source),
      attachFrom: (l, mac, trigger) => this.attachFrom(l, mac, trigger),
      seen: (h) => this.seen(h),
      send: (l, f, kind) => this.send(l, f, kind),
    };
    this.ra = new Advertiser(this.config, deps.clock, deps.random ?? Math.random, this.magMac, this.magLinkLocal, (h, f, kind) => this.send(h.link, f, kind));
  }

  onEvent(handler: (e: AttachDetachEvent) => void): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.deps.io.start((l) => this.onLink(l));
    this.log.info({ interfaces: this.config.interfaces, magLinkLocal: this.config.magLinkLocal, magLinkLayerAddress: this.config.magLinkLayerAddress }, 'access-link detector running');
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const l of this.links.values()) this.closeLink(l, 'stopped');
    this.links.clear();
    await this.deps.io.stop();
  }

  /** RFC 5213 §6.13: the MN is on that interface, which is up, and answered NUD (or is not yet probed out). */
  isAttached(mnId: string, link: string): boolean {
    const l = this.byName(link);
    return l !== undefined && l.up && l.host?.mnId === mnId;
  }

  advertise(mnId: string, link: string, b: AdvertisedBinding): void {
    const h = this.hostOf(mnId, link);
    if (!h) return;
    const first = h.binding === null;
    if (first) this.log.info({ mnId, link, hnps: b.hnps, ipv4: b.ipv4?.address, to: h.linkLocalText ?? 'ff02::1' }, 'advertising the home network prefixes (RFC 5213 §6.7)');
    this.ra.advertise(h, b);
    h.ipv4 = b.ipv4 ? { address: ipv4Num(b.ipv4.address), prefixLen: b.ipv4.prefixLen, router: b.ipv4.defaultRouter ? ipv4Num(b.ipv4.defaultRouter) : null } : null;
    // The MN's IPv4 default router answers its ARP from the fixed MAC on every MAG; on a new
    // binding it also tells the MN so at once (an IPv4-only MN that moved here is waiting for
    // that answer: its first ARP request is what attached it).
    const v4 = h.ipv4;
    const announce = () => {
      // Still this host's binding on this link (not withdrawn or moved meanwhile).
      if (first && v4?.router != null && h.ipv4 === v4 && this.byName(h.link.ifname)?.host === h) {
        this.send(h.link, buildArpReply({ srcMac: this.magMac, dstMac: h.macBytes, senderIp: v4.router, targetIp: v4.address }), 'arp');
      }
    };
    if (v4?.router != null && this.config.configureLink && this.deps.io.addIpv4) {
      this.deps.io.addIpv4(h.link.ifindex, v4.router).then(announce, (err: unknown) => this.drops.warn('configureFailed', h.link.ifname, { err: (err as Error).message }));
    } else announce();
    const held = h.dhcpHeld;
    h.dhcpHeld = null;
    if (held && h.ipv4) answerDhcp(this.ipv4Context, h, held);
  }

  withdraw(mnId: string, link: string): void {
    const h = this.hostOf(mnId, link);
    if (!h) return;
    if (h.binding !== null) this.log.info({ mnId, link }, 'withdrawing the router advertisement (router lifetime 0)');
    this.ra.withdraw(h);
    h.ipv4 = null;
  }

  /** Attached MNs (API, tests). */
  attached(): { mnId: string; mac: string; link: string; linkLocal: string | null; advertised: boolean }[] {
    const out = [];
    for (const l of this.links.values()) {
      const h = l.host;
      if (h) out.push({ mnId: h.mnId, mac: h.mac, link: l.ifname, linkLocal: h.linkLocalText, advertised: h.binding !== null });
    }
    return out;
  }

  /* ------------------------------------------------------------------ links */

  private matches(name: string | null): boolean {
    if (name === null) return false;
    return this.config.interfaces.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
  }

  private byName(name: string): AccessLink | undefined {
    for (const l of this.links.values()) if (l.ifname === name) return l;
    return undefined;
  }

  private hostOf(mnId: string, link: string): AccessHost | undefined {
    const h = this.byName(link)?.host;
    if (h && h.mnId === mnId) return h;
    this.counters.dropped.noHost++;
    return undefined;
  }

  private onLink(e: LinkEvent): void {
    if (!this.running) return;
    let l = this.links.get(e.ifindex);
    const name = e.ifname ?? l?.ifname ?? null;
    if (e.deleted || !this.matches(name)) {
      if (l) {
        this.closeLink(l, 'linkDown');
        this.links.delete(e.ifindex);
      }
      return;
    }
    if (!l) {
      l = { ifindex: e.ifindex, ifname: name!, up: false, port: null, host: null, lastAttach: null, retryTimer: null, window: { start: 0, frames: 0 } };
      this.links.set(e.ifindex, l);
      if (this.config.configureLink) {
        this.deps.io.configure(e.ifindex, this.magMac, this.magLinkLocal).catch((err: unknown) => {
          this.drops.warn('configureFailed', l!.ifname, { err: (err as Error).message });
        });
      }
    }
    l.ifname = name!;
    if (!l.port) {
      try {
        const link = l;
        l.port = this.deps.io.open(e.ifindex, (f, t) => this.onFrame(link, f, t));
      } catch (err) {
        this.counters.dropped.openFailed++;
        this.drops.warn('openFailed', l.ifname, { err: (err as Error).message });
      }
    }
    const wasUp = l.up;
    l.up = e.up;
    if (wasUp && !e.up && l.host) this.detachHost(l, 'linkDown');
    if (!wasUp && e.up) this.query(l, null);
  }

  private closeLink(l: AccessLink, why: 'linkDown' | 'stopped'): void {
    if (l.host) this.detachHost(l, why);
    l.retryTimer?.cancel();
    l.retryTimer = null;
    l.port?.close();
    l.port = null;
    l.up = false;
  }

  /* ------------------------------------------------------------------ frames */

  private onFrame(l: AccessLink, f: Buffer, pkttype: number): void {
    if (pkttype === PACKET_OUTGOING || !this.running) return;
    this.counters.framesIn++;
    const now = this.deps.clock.now();
    if (now - l.window.start >= 1000) l.window = { start: now, frames: 0 };
    if (++l.window.frames > this.config.maxFramesPerSecond) return this.drop('rateLimited', l, 'frames');
    if (f.length >= 14 && f[12] === 0x08 && f[13] === 0x00) return onDhcpFrame(this.ipv4Context, l, f);
    if (f.length >= 14 && f[12] === 0x08 && f[13] === 0x06) return onArpFrame(this.ipv4Context, l, f);
    const r = parseAccessFrame(f);
    if (!r.ok) return this.drop('malformed', l, f.length >= 12 ? `${r.error} ${f.subarray(6, 12).toString('hex')}` : r.error);
    const p = r.packet;
    if (p.srcMac === this.config.magLinkLayerAddress) return; // ours, looped back
    if (parseInt(p.srcMac.slice(0, 2), 16) & 1) return this.drop('badSourceMac', l, p.srcMac);
    if (p.type === Icmp6Type.ROUTER_ADVERTISEMENT || p.type === Icmp6Type.MLD_QUERY) return this.drop('foreignRouter', l, p.srcMac);
    const h = l.host;
    if (h && h.mac === p.srcMac) return this.touch(h, p);
    if (h) return this.drop('secondHost', l, p.srcMac);
    const n = this.attachFrom(l, p.srcMac, p.type);
    if (n) this.touch(n, p);
  }

  private drop(cause: AccessDropCause, l: AccessLink, source: string): void {
    this.counters.dropped[cause]++;
    this.drops.warn(cause, `${l.ifname} ${source}`);
  }

  private attachFrom(l: AccessLink, mac: string, trigger: number | 'dhcp' | 'arp'): AccessHost | undefined {
    if (!l.up) return; // frames racing a link-down
    const mnId = this.deps.identify(mac);
    if (mnId === null) return void this.drop('unknownMac', l, mac);
    const now = this.deps.clock.now();
    if (l.lastAttach && now - l.lastAttach < this.config.holdDownMs) {
      // Attach storm: try again when the hold-down ends (a query makes the MN speak).
      if (!l.retryTimer) l.retryTimer = this.deps.clock.setTimer(l.lastAttach + this.config.holdDownMs - now, () => ((l.retryTimer = null), this.query(l, null)));
      return void this.drop('holdDown', l, mac);
    }
    // The same MAC already attached on another access link of this MAG: a spoofed copy, or the
    // MN moved without its old link going down; the old link keeps it until it detaches.
    if (this.byMac.has(mac)) return void this.drop('duplicateMac', l, mac);
    if (this.byMac.size >= this.config.maxHosts) return void this.drop('tooManyHosts', l, mac);
    const h: AccessHost = {
      mnId, mac, macBytes: macFromString(mac), link: l, linkLocal: null, linkLocalText: null, tentative: null, lastSeen: now, probes: 0,
      nudTimer: null, binding: null, raTimer: null, initialLeft: 0, raPending: false, lastMulticastRaAt: -Infinity, ipv4: null, dhcpHeld: null,
    };
    l.host = h;
    l.lastAttach = now;
    this.byMac.set(mac, h);
    this.counters.attaches++;
    this.log.info({ mnId, mac, link: l.ifname, trigger }, 'MN attached');
    this.armNud(h, this.config.reachableTimeMs);
    this.handler?.({ kind: 'attach', mnId, mnLinkLayerId: mac, accessTechType: this.config.accessTechType, link: l.ifname });
    return h;
  }

  /** Any frame from the attached MN: it is reachable; learn its link-local; answer an RS. */
  /** A frame from the MN: it is there (RFC 4861 §7.3.1 upper-layer hint, in effect); probing stops. */
  private seen(h: AccessHost): void {
    h.lastSeen = this.deps.clock.now();
    if (h.probes > 0) {
      h.probes = 0;
      this.armNud(h, this.config.reachableTimeMs);
    }
  }

  private touch(h: AccessHost, p: AccessPacket): void {
    this.seen(h);
    if (p.src[0] === 0xfe && (p.src[1] & 0xc0) === 0x80) {
      if (!h.linkLocal || !h.linkLocal.equals(p.src)) {
        h.linkLocal = Buffer.from(p.src);
        h.linkLocalText = ipv6ToString(h.linkLocal);
      }
    } else if (p.type === Icmp6Type.NEIGHBOR_SOLICITATION && p.target && p.target[0] === 0xfe && (p.target[1] & 0xc0) === 0x80) {
      h.tentative = Buffer.from(p.target); // DAD for its link-local (RFC 4862 §5.4.2)
    }
    if (p.type === Icmp6Type.ROUTER_SOLICITATION) this.ra.solicited(h);
  }

  /* ------------------------------------------------------------------ NUD */

  private armNud(h: AccessHost, ms: number): void {
    h.nudTimer?.cancel();
    h.nudTimer = this.deps.clock.setTimer(ms, () => this.nudTick(h));
  }

  private nudTick(h: AccessHost): void {
    h.nudTimer = null;
    if (h.link.host !== h) return;
    const silent = this.deps.clock.now() - h.lastSeen;
    if (h.probes === 0 && silent < this.config.reachableTimeMs) return this.armNud(h, this.config.reachableTimeMs - silent);
    if (h.probes >= this.config.nudProbes) return this.detachHost(h.link, 'unreachable');
    h.probes++;
    const target = h.linkLocal ?? h.tentative;
    if (target) {
      const f = buildNeighborSolicitation({ srcMac: this.magMac, dstMac: h.macBytes, src: this.magLinkLocal, target, unicast: true });
      this.send(h.link, f, 'ns');
    } else if (h.ipv4) {
      // An IPv4-only MN: ask for its home address by unicast ARP, from its default router's address.
      this.send(h.link, buildArpRequest({ srcMac: this.magMac, dstMac: h.macBytes, senderIp: h.ipv4.router ?? 0, targetIp: h.ipv4.address }), 'arp');
    } else {
      this.query(h.link, h.macBytes); // no address known yet: MLD reports answer instead
    }
    this.armNud(h, this.config.nudRetransMs);
  }

  /* ------------------------------------------------------------------ detach, sending */

  private detachHost(l: AccessLink, why: 'linkDown' | 'unreachable' | 'stopped'): void {
    const h = l.host;
    if (!h) return;
    l.host = null;
    this.byMac.delete(h.mac);
    h.nudTimer?.cancel();
    this.ra.forget(h);
    h.ipv4 = null;
    h.dhcpHeld = null;
    this.counters.detaches[why]++;
    this.log.info({ mnId: h.mnId, mac: h.mac, link: l.ifname, why }, 'MN detached');
    // Stopping is not the MN leaving: the MAG decides itself whether to de-register (Mag.stop).
    if (why !== 'stopped') this.handler?.({ kind: 'detach', mnId: h.mnId, mnLinkLayerId: h.mac, link: l.ifname });
  }

  private query(l: AccessLink, dstMac: Uint8Array | null): void {
    if (!l.up) return;
    this.send(l, buildMldv2GeneralQuery({ srcMac: this.magMac, dstMac: dstMac ?? undefined, src: this.magLinkLocal, maxResponseMs: this.config.mldResponseMs }), 'mldQuery');
  }

  private send(l: AccessLink, f: Buffer, kind: keyof AccessCounters['sent']): void {
    if (!l.port) return;
    const rc = l.port.send(f);
    if (rc === 0) this.counters.sent[kind]++;
    else this.drop('sendFailed', l, `errno ${rc}`);
  }
}
