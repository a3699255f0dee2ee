// The MAG's forwarding state for each binding (RFC 5213 §6.9.1.2 items 12-13, §6.9.1.4,
// §5.6.1 via §6.10.4; RFC 5844 §3.2.3.2 and §4; RFC 5845 §5.1): one tunnel per LMA (or per
// GRE key pair), one route per HNP and IPv4 HoA, through the injected DataPlane.
import { isIPv4 } from 'node:net';
import type { DataPlane, TunnelSpec } from '../dataplane/types.ts';
import type { Logger } from '../util/log.ts';
import { Gre } from './bul.ts';
import type { Bule } from './bul.ts';
import type { MagMetrics } from './metrics.ts';
import { TunnelTable, tunnelKey } from './tunnels.ts';

export class Forwarding {
  private readonly tunnels: TunnelTable;

  constructor(
    private readonly dp: DataPlane,
    private readonly proxyCoa: string,
    private readonly metrics: MagMetrics,
    private readonly log: Logger,
  ) {
    this.tunnels = new TunnelTable(dp);
  }

  spec(b: Bule): TunnelSpec {
    if (b.gre === Gre.ACTIVE) {
      const spec: TunnelSpec = { local: this.proxyCoa, remote: b.lma, encap: 'gre', greKeyIn: b.greKeyDown };
      if (b.greKeyUp !== null) spec.greKeyOut = b.greKeyUp;
      return spec;
    }
    // RFC 5844 §3.2.3.2 / §4: IPv4-or-IPv6-over-IPv6 on IPv6 transport; over IPv4 transport
    // IPv4-UDP when the LMA chose it (NAT Detection with F), else plain IPv4.
    const encap = isIPv4(b.lma) ? (b.udpEncap ? 'ip4-udp' : 'ipip') : 'ip6ip6';
    return { local: this.proxyCoa, remote: b.lma, encap };
  }

  /** Makes the tunnel and routes match the BULE's accepted values (adds and removes only the difference). */
  async install(b: Bule): Promise<void> {
    const desired: string[] = [];
    if (b.wantIpv6 && b.hnpsAssigned) desired.push(...b.hnps);
    if (b.wantIpv4 && b.ipv4Assigned && b.ipv4HoA) desired.push(`${b.ipv4HoA}/32`);
    const spec = this.spec(b);
    const key = tunnelKey(spec);
    if (b.tunnelKey !== key) {
      const id = await this.tunnels.acquire(key, spec);
      if (b.tunnelKey) await this.uninstall(b); // moved to another tunnel (GRE keys changed)
      b.tunnelKey = key;
      b.tunnelId = id;
    }
    const tunnel = b.tunnelId as string;
    const have = b.routes ?? (b.routes = []);
    for (let i = have.length - 1; i >= 0; i--) {
      if (!desired.includes(have[i])) {
        await this.dp.removeRoute(have[i], tunnel);
        have.splice(i, 1);
      }
    }
    for (const r of desired) {
      if (!have.includes(r)) {
        await this.dp.addRoute(r, tunnel, { mnLink: b.link });
        have.push(r);
      }
    }
  }

  /** Removes the BULE's routes, and its tunnel when no other binding uses it. Never throws. */
  async uninstall(b: Bule): Promise<void> {
    const tunnel = b.tunnelId;
    if (b.routes && tunnel) {
      for (const r of b.routes) {
        try {
          await this.dp.removeRoute(r, tunnel);
        } catch (e) {
          this.metrics.drop('dataplane');
          this.log.error({ mnId: b.mnId, route: r, err: (e as Error)?.message }, 'removeRoute failed');
        }
      }
    }
    b.routes = null;
    if (b.tunnelKey) {
      const key = b.tunnelKey;
      b.tunnelKey = null;
      b.tunnelId = null;
      try {
        await this.tunnels.release(key);
      } catch (e) {
        this.metrics.drop('dataplane');
        this.log.error({ mnId: b.mnId, err: (e as Error)?.message }, 'removeTunnel failed');
      }
    }
  }

  /** Removes the IPv4 HoA route only and forgets the IPv4 HoA (RFC 5846 §9.1, V flag). */
  async dropIpv4(b: Bule): Promise<void> {
    const r = b.ipv4HoA ? `${b.ipv4HoA}/32` : null;
    if (r && b.routes && b.tunnelId) {
      const i = b.routes.indexOf(r);
      if (i >= 0) {
        await this.dp.removeRoute(r, b.tunnelId);
        b.routes.splice(i, 1);
      }
    }
    b.clearIpv4();
  }
}
