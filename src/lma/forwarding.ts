// Forwarding state through the injected DataPlane (RFC 5213 §5.6.1/§5.6.2, RFC 5844
// §3.1.2.2/§4.1.3.1, RFC 5845 §5.2): one tunnel per (encapsulation, LMAA, Proxy-CoA
// [, GRE keys]) shared by the MNs behind that MAG and removed when the last one leaves;
// one route per HNP and per IPv4 HoA (/32) over it.
import { ipv4ToString } from '../mh/index.ts';
import type { DataPlane, TunnelEncap, TunnelSpec } from '../dataplane/types.ts';
import { F } from './bce.ts';
import type { Bce, TunnelRef } from './bce.ts';

export function v4Route(v4: number): string {
  return `${ipv4ToString(v4 >>> 0)}/32`;
}

/** RFC 5844 §4.1.3.1 / RFC 5845: the encapsulation for a BCE. */
export function encapFor(b: Bce): TunnelEncap {
  if (b.flags & F.GRE) return 'gre';
  if (b.peer.ipv4) return b.flags & F.UDP_ENCAP ? 'ip4-udp' : 'ipip';
  return 'ip6ip6'; // IPv4-or-IPv6-over-IPv6 (RFC 5844 §3.1.2.2)
}

const DONE: Promise<void> = Promise.resolve();

/** ensureTunnel as a promise even when the data plane throws instead of rejecting. */
function ensure(dp: DataPlane, spec: TunnelSpec): Promise<string> {
  try {
    return dp.ensureTunnel(spec);
  } catch (e) {
    return Promise.reject(e);
  }
}
const nothing = (): void => undefined;

export class Forwarding {
  private readonly tunnels = new Map<string, TunnelRef>();
  constructor(
    private readonly dp: DataPlane,
    private readonly onError: (e: unknown, what: string) => void,
    /** LmaConfig.addressContexts: Bce.ctx n > 0 is the routing context of service contexts[n - 1]. */
    private readonly contexts: readonly string[] = [],
  ) {}

  get tunnelCount(): number {
    return this.tunnels.size;
  }

  /** The ifIndex of the interface carrying the BCE's tunnel, once the data plane made it (SNMP). */
  tunnelIfIndex(b: Bce): number | null {
    const id = (b.flags & F.FWD) !== 0 ? b.tunnel?.resolved : null;
    return id ? (this.dp.tunnelIfIndex?.(id) ?? null) : null;
  }

  private acquire(b: Bce): TunnelRef {
    const encap = encapFor(b);
    const gre = encap === 'gre' && (b.flags & F.GRE_KEYS) !== 0;
    const local = b.peer.local;
    const remote = b.peer.address;
    const base = gre ? `${encap}|${local}|${remote}|${b.greUp >>> 0}|${b.greDown >>> 0}` : b.peer.tunnelKey(encap);
    // A tunnel belongs to one routing context: MNs of two contexts behind one MAG use two
    // (told apart on the wire by their GRE keys, RFC 5845 §1).
    const key = b.ctx === 0 ? base : `${base}|${b.ctx}`;
    let t = this.tunnels.get(key);
    if (t === undefined) {
      const spec: TunnelSpec = { local, remote, encap };
      if (b.ctx !== 0 && this.contexts[b.ctx - 1] !== undefined) spec.context = this.contexts[b.ctx - 1];
      if (gre) {
        spec.greKeyIn = b.greUp >>> 0; // uplink: MAG -> LMA, chosen by us (RFC 5845 §3.3.1)
        spec.greKeyOut = b.greDown >>> 0; // downlink: LMA -> MAG, chosen by the MAG
      }
      const ref: TunnelRef = {
        key, encap, local, remote, greKeyIn: spec.greKeyIn, greKeyOut: spec.greKeyOut, refs: 0,
        id: ensure(this.dp, spec), resolved: null,
      };
      ref.id.then(
        (id) => {
          ref.resolved = id;
        },
        () => {
          // creation failed: the next binding for this MAG tries again
          if (this.tunnels.get(key) === ref) this.tunnels.delete(key);
        },
      );
      this.tunnels.set(key, ref);
      t = ref;
    }
    t.refs++;
    return t;
  }

  private release(t: TunnelRef): void {
    if (--t.refs > 0) return;
    if (this.tunnels.get(t.key) === t) this.tunnels.delete(t.key);
    t.id.then(
      (id) => this.dp.removeTunnel(id).catch((e: unknown) => this.onError(e, 'removeTunnel')),
      () => undefined,
    );
  }

  /**
   * Tunnel + routes for the BCE's prefixes and IPv4 HoA (RFC 5213 §5.3.2 (5)-(6)). Resolves
   * when the data plane has them; rejects when it failed. A tunnel the MAG already has is
   * not waited for again (every new MN behind a known MAG).
   */
  install(b: Bce): Promise<void> {
    if (b.flags & F.FWD) return DONE;
    const t = this.acquire(b);
    b.tunnel = t;
    b.flags |= F.FWD;
    if (t.resolved === null) return t.id.then((id) => this.addAll(b, id));
    try {
      return this.addAll(b, t.resolved);
    } catch (e) {
      return Promise.reject(e); // a data plane that throws instead of rejecting
    }
  }

  private addAll(b: Bce, id: string): Promise<void> {
    const h = b.hnps;
    if (b.v4 === 0) {
      if (typeof h === 'string') return this.dp.addRoute(h, id);
      if (h === null) return DONE;
    }
    const ops: Promise<void>[] = [];
    for (const p of b.hnpList()) ops.push(this.dp.addRoute(p, id));
    if (b.v4 !== 0) ops.push(this.dp.addRoute(v4Route(b.v4), id));
    return Promise.all(ops).then(nothing);
  }

  /** The routes a BCE's forwarding state consists of. */
  static routesOf(b: Bce): string[] {
    const routes = b.hnpList().slice();
    if (b.v4 !== 0) routes.push(v4Route(b.v4));
    return routes;
  }

  /**
   * Removes the BCE's routes and releases its tunnel (RFC 5213 §5.3.4 (2), §5.3.5). `routes`
   * overrides the route list when the BCE's prefixes already changed.
   */
  async uninstall(b: Bce, routes: string[] = Forwarding.routesOf(b)): Promise<void> {
    const t = b.tunnel;
    if (!(b.flags & F.FWD) || t === null) return;
    b.flags &= ~F.FWD;
    b.tunnel = null;
    try {
      const id = await t.id;
      await Promise.all(routes.map((p) => this.dp.removeRoute(p, id)));
    } catch (e) {
      this.onError(e, 'removeRoute');
    } finally {
      this.release(t);
    }
  }

  /** Removes one route of an installed BCE (selective de-registration, RFC 5844 §3.1.2.5). */
  async removeRoutes(b: Bce, routes: string[]): Promise<void> {
    const t = b.tunnel;
    if (!(b.flags & F.FWD) || t === null || routes.length === 0) return;
    try {
      const id = await t.id;
      await Promise.all(routes.map((p) => this.dp.removeRoute(p, id)));
    } catch (e) {
      this.onError(e, 'removeRoute');
    }
  }

  /** Adds routes to an installed BCE's tunnel (IPv4 or IPv6 added to a session). */
  async addRoutes(b: Bce, routes: string[]): Promise<void> {
    const t = b.tunnel;
    if (!(b.flags & F.FWD) || t === null || routes.length === 0) return;
    const id = await t.id;
    await Promise.all(routes.map((p) => this.dp.addRoute(p, id)));
  }
}
