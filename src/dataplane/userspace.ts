// The user-space forwarder data plane (for kernels without ip6tnl/ip6gre, like these):
// one TUN device per role, the per-packet path in native code (native/src/tun_fwd.c,
// fwd_path.c: its own threads, batched reads), JavaScript only programs the per-MN table
// and the policy routing that steers traffic into the TUN device:
//   LMA (RFC 5213 §5.6.2): a route per HNP / IPv4 HoA into the TUN device, in our table,
//       looked up by one rule; the forwarder picks the MAG's tunnel by destination.
//   MAG (RFC 5213 §6.10.5): a source rule per HNP / IPv4 HoA into our table, whose
//       default route is the TUN device (reverse tunnelling); the forwarder picks the LMA's
//       tunnel by source. Decapsulated packets to the MN leave by the access link (mnLink)
//       through a route in the same table and a destination rule.
// Transport (RFC 5844 §4): IPv6 (IPv6-in-IPv6, IPv4-in-IPv6, GRE over IPv6) or IPv4
// (IPv6-in-IPv4, IPv4-in-IPv4, GRE over IPv4, IPv4-UDP), by the tunnel endpoints' family.
// Routing contexts (LMA, contexts.ts): besides the default one, each context has a TUN device
// and a routing table of its own, like a VRF: its MNs' routes, its upstream's default route,
// and rules sending what arrives on its TUN device or upstream interfaces to its table. The
// forwarder keeps one route space per context, so the same private IPv4 HoA can be served in
// two contexts, the MNs told apart on the wire by their GRE keys (RFC 5845 §1).
// Created idempotently; removed on de-registration and on close; reconciled at open
// (rules and routes an earlier run left behind are removed; a crashed process's TUN
// device is not persistent and vanished with it).
import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import type { DataPlane, TunnelId, TunnelSpec } from './types.ts';
import type { NativeAddon, TunForwarder, TunForwarderStats } from '../transport/native.ts';
import type { Logger } from '../util/log.ts';
import { retireForwarder, trackForwarder } from './metrics.ts';
import { ipCommandRouting } from './iproute.ts';
import { RtnetlinkRouting } from './rtnl.ts';
import { LinkWatcher } from './link-watch.ts';
import { familyOf, splitPrefix, type PolicyRouting } from './steering.ts';
import { setUpContext, type RoutingContext } from './contexts.ts';

export { splitPrefix };

export interface UserspaceOptions {
  role: 'lma' | 'mag';
  addon: NativeAddon;
  tunName: string;
  /** Routing table holding our routes. */
  table: number;
  /** Preference of our rules. */
  rulePriority: number;
  mtu: number;
  maxTunnels: number;
  maxRoutes: number;
  /** Turn on IPv6 and IPv4 forwarding in this network namespace (a router needs it). */
  enableForwarding: boolean;
  log: Logger;
  /** How often drop counters are checked for a first drop of a cause (ms); 0 = never. */
  dropLogIntervalMs?: number;
  /** How routes and rules are changed: 'auto' = rtnetlink when the addon has it, else the `ip` command. */
  routing?: 'auto' | 'rtnetlink' | 'ip-command';
  /** LMA: routing contexts besides the default one (index + 1 = the forwarder's context number). */
  contexts?: RoutingContext[];
}

export class DataPlaneError extends Error {
  constructor(message: string, readonly code: 'unsupported-encap' | 'table-full' | 'unknown-tunnel' | 'closed') {
    super(message);
    this.name = 'DataPlaneError';
  }
}

interface Tunnel {
  slot: number;
  spec: TunnelSpec;
  /** Routing context: 0 default, else index + 1 into UserspaceOptions.contexts. */
  ctx: number;
}

interface KernelRoute {
  slot: number;
  /** Routing context of the tunnel (0 = default). */
  ctx: number;
  prefix: string;
  /** The MN's access link the binding names (MAG), whether or not its route is in now. */
  want: string | null;
  /** The access link whose route and destination rule were put in (MAG). */
  link: string | null;
}

const ERRNO: Record<number, string> = { 2: 'ENOENT', 3: 'ESRCH', 22: 'EINVAL', 28: 'ENOSPC' };

export class UserspaceDataPlane implements DataPlane {
  readonly kind = 'userspace';
  private readonly tunnels = new Map<TunnelId, Tunnel>();
  private readonly kernel = new Map<string, KernelRoute>();
  /** Per-prefix chains: kernel changes for one prefix happen in order. */
  private readonly chains = new Map<string, Promise<void>>();
  /** LMA: bumped by every add and remove of a prefix, so a deferred kernel removal knows it is stale. */
  private readonly generation = new Map<string, number>();
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private watcher: LinkWatcher | null = null;
  /** Per-MN routes put back after their access link came back up (the kernel had removed them). */
  restoredRoutes = 0;
  /** The TUN device's ifIndex (it lives as long as this object). */
  private ifindex = 0;
  private readonly dropsSeen = new Set<string>();

  private constructor(
    private readonly o: UserspaceOptions,
    private readonly fwd: TunForwarder,
    private readonly pr: PolicyRouting,
  ) {}

  /** Creates the TUN device and threads, removes stale state, sets up the role's fixed rules. */
  static async open(o: UserspaceOptions): Promise<UserspaceDataPlane> {
    if (!o.addon.TunForwarder) throw new DataPlaneError('the native addon has no TunForwarder (rebuild it: npm run install)', 'unsupported-encap');
    // The TUN device first: a second process with the same name fails here (EBUSY) before
    // it could remove the first one's rules.
    const contexts = o.role === 'lma' ? (o.contexts ?? []) : [];
    const routing = o.routing ?? 'auto';
    const pr = routing === 'ip-command' || (routing === 'auto' && !o.addon.RouteNetlink) ? ipCommandRouting : new RtnetlinkRouting(o.addon);
    let fwd: TunForwarder;
    try {
      fwd = new o.addon.TunForwarder({ name: o.tunName, role: o.role, mtu: o.mtu, maxTunnels: o.maxTunnels, maxRoutes: o.maxRoutes, contexts: contexts.map((c) => c.tunName) });
    } catch (e) {
      pr.close();
      throw e;
    }
    const dp = new UserspaceDataPlane(o, fwd, pr);
    dp.ifindex = fwd.stats().ifindex;
    try {
      for (const table of [o.table, ...contexts.map((c) => c.table)]) {
        const stale = await pr.reconcileTable(table);
        if (stale.rules + stale.routes > 0) o.log.warn({ table, ...stale }, 'data plane: removed rules and routes a previous run left behind');
      }
      if (o.enableForwarding) await dp.enableForwarding();
      for (const c of contexts) await setUpContext(c, o.rulePriority - 1);
      if (o.role === 'lma') {
        await pr.ruleAdd(6, {}, o.rulePriority, o.table);
        await pr.ruleAdd(4, {}, o.rulePriority, o.table);
      } else {
        await pr.routeReplace('::/0', o.tunName, o.table);
        await pr.routeReplace('0.0.0.0/0', o.tunName, o.table);
      }
    } catch (e) {
      await dp.close().catch(() => undefined);
      throw e;
    }
    if (o.role === 'mag' && o.addon.LinkSocket) {
      // The kernel drops the route out of an access link that goes down; put it back when the
      // link is up again and the binding still wants it.
      try {
        dp.watcher = new LinkWatcher(o.addon, (ifname) => dp.linkUp(ifname), () => dp.linkUp(null));
      } catch (e) {
        o.log.warn({ err: (e as Error).message }, 'data plane: no link events; a per-MN route removed by an access link flap is not restored');
      }
    }
    trackForwarder(dp);
    if (o.dropLogIntervalMs !== 0) {
      dp.timer = setInterval(() => dp.logNewDrops(), o.dropLogIntervalMs ?? 1000);
      dp.timer.unref();
    }
    return dp;
  }

  private async enableForwarding(): Promise<void> {
    const w = async (path: string, v: string) => {
      if (existsSync(path)) await writeFile(path, v).catch((e: Error) => this.o.log.warn({ path, err: e.message }, 'data plane: cannot enable forwarding'));
    };
    await w('/proc/sys/net/ipv6/conf/all/forwarding', '1');
    await w('/proc/sys/net/ipv4/ip_forward', '1');
    // Decapsulated IPv4 arrives on the TUN device; its source is routed there too, but loose is enough.
    for (const t of [this.o.tunName, ...(this.o.role === 'lma' ? (this.o.contexts ?? []) : []).map((c) => c.tunName)]) await w(`/proc/sys/net/ipv4/conf/${t}/rp_filter`, '0');
  }

  /** An access link is up (null: events were lost, check every link): routes wanted through it go in again. */
  private linkUp(ifname: string | null): void {
    if (this.closed) return;
    const keys = [...this.kernel].filter(([, k]) => k.want !== null && (ifname === null || k.want === ifname)).map(([p]) => p);
    for (const p of keys) {
      void this.serial(p, async () => {
        const k = this.kernel.get(p);
        if (!k || k.want === null || this.closed) return;
        await this.steer(p, k.prefix, k, k.want);
        this.restoredRoutes++;
      }).catch((e: Error) => this.o.log.warn({ prefix: p, link: ifname, err: e.message }, 'data plane: restoring a route after a link came up failed'));
    }
    if (keys.length > 0) this.o.log.info({ link: ifname ?? 'all', routes: keys.length }, 'data plane: access link up: per-MN routes put back');
  }

  /** Logs the first drop of each cause (later ones are counted in stats() only). */
  logNewDrops(): void {
    if (this.closed) return;
    const s = this.fwd.stats();
    for (const [cause, c] of Object.entries(s.drops)) {
      if (cause === 'multicast') continue; // the kernel's own MLD reports on the device: expected
      for (const dir of ['tx', 'rx'] as const) {
        if (c[dir] > 0 && !this.dropsSeen.has(`${cause}/${dir}`)) {
          this.dropsSeen.add(`${cause}/${dir}`);
          this.o.log.warn({ cause, direction: dir === 'tx' ? 'to tunnel' : 'from tunnel', count: c[dir] }, `data plane: packets dropped (${cause}); further drops of this cause are counted, not logged`);
        }
      }
    }
  }

  get role(): 'lma' | 'mag' {
    return this.o.role;
  }

  /** How routes and rules are changed (rtnetlink, or the `ip` command as a fallback). */
  get routing(): PolicyRouting['kind'] {
    return this.pr.kind;
  }

  get tunName(): string {
    return this.o.tunName;
  }

  stats(): TunForwarderStats | null {
    return this.closed ? null : this.fwd.stats();
  }

  /** Every tunnel of this forwarder is carried by its TUN device. */
  tunnelIfIndex(id: TunnelId): number | null {
    return this.tunnels.has(id) && !this.closed && this.ifindex > 0 ? this.ifindex : null;
  }

  tunnelStats(id: TunnelId): ReturnType<TunForwarder['tunnelStats']> {
    const t = this.tunnels.get(id);
    return t && !this.closed ? this.fwd.tunnelStats(t.slot) : null;
  }

  async ensureTunnel(spec: TunnelSpec): Promise<TunnelId> {
    if (this.closed) throw new DataPlaneError('data plane closed', 'closed');
    // RFC 5844 §4: over IPv4 transport the MN's IPv6 or IPv4 packets go in IPv4 ('ipip':
    // protocol 41 or 4 by the inner version) or GRE over IPv4; over IPv6 transport in IPv6
    // ('ip6ip6' / 'ip4ip6') or GRE over IPv6. The endpoints' family says which.
    const v4 = isIPv4(spec.local);
    if (v4 !== isIPv4(spec.remote) || (!v4 && (!isIPv6(spec.local) || !isIPv6(spec.remote)))) {
      throw new DataPlaneError(`tunnel endpoints ${spec.local} and ${spec.remote} are not two IPv6 or two IPv4 addresses`, 'unsupported-encap');
    }
    if (spec.encap === 'ip4-udp' && !v4) throw new DataPlaneError('IPv4-UDP tunnels need IPv4 endpoints (RFC 5844 §4.1)', 'unsupported-encap');
    if (spec.encap !== 'gre' && spec.encap !== 'ip4-udp' && (spec.encap === 'ipip') !== v4) {
      throw new DataPlaneError(`encapsulation ${spec.encap} does not match ${v4 ? 'IPv4' : 'IPv6'} tunnel endpoints`, 'unsupported-encap');
    }
    const gre = spec.encap === 'gre';
    // IPv4-UDP (RFC 5844 §4.1): the inner packet in UDP, port 5437 both ways.
    const kind = gre ? 'gre' : spec.encap === 'ip4-udp' ? 'udp' : 'ip6';
    const ctx = this.contextOf(spec.context);
    const id = `${kind}:${spec.local}>${spec.remote}${gre ? `#${spec.greKeyIn ?? '-'}/${spec.greKeyOut ?? '-'}` : ''}${ctx ? `@${ctx}` : ''}`;
    if (this.tunnels.has(id)) return id;
    const t: Parameters<TunForwarder['addTunnel']>[0] = { local: spec.local, remote: spec.remote, encap: kind, ctx };
    if (gre && spec.greKeyIn !== undefined) t.keyIn = spec.greKeyIn >>> 0;
    if (gre && spec.greKeyOut !== undefined) t.keyOut = spec.greKeyOut >>> 0;
    const slot = this.fwd.addTunnel(t);
    this.tunnels.set(id, { slot, spec, ctx });
    return id;
  }

  /** The forwarder's context number for a service (RFC 5149); 0 (default) when it has none of its own. */
  contextOf(service: string | null | undefined): number {
    if (!service || this.o.role !== 'lma') return 0;
    const i = (this.o.contexts ?? []).findIndex((c) => c.service === service);
    return i + 1;
  }

  /** Kernel-state key of a prefix in a context (the same IPv4 HoA may be in two). */
  private static key(prefix: string, ctx: number): string {
    return ctx === 0 ? prefix : `${ctx}|${prefix}`;
  }

  async removeTunnel(id: TunnelId): Promise<void> {
    const t = this.tunnels.get(id);
    if (!t || this.closed) return;
    this.tunnels.delete(id);
    this.fwd.removeTunnel(t.slot); // its routes go with it; so does their kernel state
    const orphans = [...this.kernel].filter(([, k]) => k.slot === t.slot).map(([k]) => k);
    await Promise.all(orphans.map((k) => this.serial(k, () => this.unsteer(k))));
  }

  async addRoute(prefix: string, tunnel: TunnelId, opts?: { mnLink?: string }): Promise<void> {
    const t = this.tunnels.get(tunnel);
    if (!t) throw new DataPlaneError(`no tunnel ${tunnel}`, 'unknown-tunnel');
    const [addr, len] = splitPrefix(prefix);
    const rc = this.fwd.addRoute(addr, len, t.slot);
    if (rc !== 0) throw new DataPlaneError(`addRoute ${prefix}: ${ERRNO[rc] ?? rc}`, rc === 28 ? 'table-full' : 'unknown-tunnel');
    const k = UserspaceDataPlane.key(prefix, t.ctx);
    if (this.o.role === 'lma') this.generation.set(k, (this.generation.get(k) ?? 0) + 1);
    await this.serial(k, () => this.steer(k, prefix, t, opts?.mnLink ?? null));
  }

  async removeRoute(prefix: string, tunnel: TunnelId): Promise<void> {
    const t = this.tunnels.get(tunnel);
    if (!t || this.closed) return;
    const [addr, len] = splitPrefix(prefix);
    // Only when the prefix is still routed over this tunnel: after a handoff the new
    // tunnel's route is already in place and must stay (RFC 5213 §5.3.4 / §5.6.1).
    if (this.fwd.removeRoute(addr, len, t.slot) !== 0) return;
    const k = UserspaceDataPlane.key(prefix, t.ctx);
    if (this.o.role === 'lma') {
      // The forwarder's table is what decides (a packet steered into the TUN device for a
      // prefix it no longer has is dropped as noBinding), so the kernel route can go a moment
      // later: on a handoff (RFC 5213 §5.3.4: old routes out, new ones in) the prefix is back
      // before then and the route into the TUN device simply stays.
      const g = (this.generation.get(k) ?? 0) + 1;
      this.generation.set(k, g);
      setImmediate(() => {
        if (this.closed || this.generation.get(k) !== g) return;
        this.generation.delete(k);
        this.serial(k, () => this.unsteer(k)).catch((e: Error) => this.o.log.warn({ prefix, err: e.message }, 'data plane: removing a route failed'));
      });
      return;
    }
    await this.serial(k, () => this.unsteer(k));
  }

  private serial(prefix: string, op: () => Promise<void>): Promise<void> {
    const prev = this.chains.get(prefix) ?? Promise.resolve();
    const next = prev.then(op, op);
    const tail = next.catch(() => undefined);
    this.chains.set(prefix, tail);
    void tail.then(() => {
      if (this.chains.get(prefix) === tail) this.chains.delete(prefix);
    });
    return next;
  }

  /** Kernel state steering `prefix` into the TUN device (and, at a MAG, back out of the access link). */
  private async steer(key: string, prefix: string, t: { slot: number; ctx: number }, link: string | null): Promise<void> {
    const o = this.o;
    const have = this.kernel.get(key);
    const slot = t.slot;
    if (o.role === 'lma') {
      const c = t.ctx === 0 ? null : o.contexts![t.ctx - 1];
      if (!have) await this.pr.routeReplace(prefix, c ? c.tunName : o.tunName, c ? c.table : o.table);
      this.kernel.set(key, { slot, ctx: t.ctx, prefix, want: null, link: null });
      return;
    }
    const fam = familyOf(prefix);
    if (!have) await this.pr.ruleAdd(fam, { from: prefix }, o.rulePriority, o.table);
    const usable = link !== null && existsSync(`/sys/class/net/${link}`) ? link : null;
    if (have?.link && have.link !== usable) {
      await this.pr.ruleDel(fam, { to: prefix }, o.rulePriority, o.table);
      await this.pr.routeDel(prefix, o.table);
    }
    if (usable) {
      // Always (idempotent): the route may be gone although we put it in, removed by the
      // kernel when the access link went down (RFC 5213 §6.10.5 needs it while the binding lasts).
      await this.pr.routeReplace(prefix, usable, o.table).catch((e: NodeJS.ErrnoException) => {
        // A link that is down refuses IPv4 routes (ENETDOWN); the link watcher puts it in when it is up.
        if (e.code !== 'ENETDOWN' && !/Network is down/.test(e.message)) throw e;
      });
      await this.pr.ruleAdd(fam, { to: prefix }, o.rulePriority, o.table);
    }
    if (link !== null && usable === null && !this.dropsSeen.has(`link/${link}`)) {
      this.dropsSeen.add(`link/${link}`);
      o.log.warn({ prefix, link }, 'data plane: the MN link is not an interface of this host (yet); packets to the MN leave by the main table until it appears');
    }
    this.kernel.set(key, { slot, ctx: 0, prefix, want: link, link: usable });
  }

  private async unsteer(key: string): Promise<void> {
    const have = this.kernel.get(key);
    if (!have) return;
    this.kernel.delete(key);
    const o = this.o;
    const prefix = have.prefix;
    if (o.role === 'lma') return this.pr.routeDel(prefix, have.ctx === 0 ? o.table : o.contexts![have.ctx - 1].table);
    const fam = familyOf(prefix);
    await this.pr.ruleDel(fam, { from: prefix }, o.rulePriority, o.table);
    if (have.link) {
      await this.pr.ruleDel(fam, { to: prefix }, o.rulePriority, o.table);
      await this.pr.routeDel(prefix, o.table);
    }
  }

  /** Removes every rule and route of ours, then the TUN device and threads. */
  async close(): Promise<void> {
    if (this.closed) return;
    retireForwarder(this);
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.watcher?.close();
    this.watcher = null;
    await Promise.all([...this.chains.values()]);
    for (const table of [this.o.table, ...(this.o.role === 'lma' ? (this.o.contexts ?? []) : []).map((c) => c.table)]) {
      await this.pr.reconcileTable(table).catch((e: Error) => this.o.log.warn({ err: e.message }, 'data plane: removing rules and routes failed'));
    }
    this.kernel.clear();
    this.tunnels.clear();
    this.fwd.close();
    this.pr.close();
  }
}
