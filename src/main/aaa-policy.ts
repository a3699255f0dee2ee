// The MAG's AAA over RADIUS (or Diameter, diameter-mag.ts), wired by mag-role.ts when
// `radius.servers` is set. This file: RadiusMagPolicy (a MagPolicySource): on attach the MAG
// sends an Access-Request for the MN (RFC 6572 §5.1) and maps the Accept's profile to the
// shared Profile: LMA address, HNPs, IPv4 HoA and prefix length, gateway, DHCP servers,
// service selection, feature vector, interface id (§5.2). Access-Reject → null (the MN is not
// eligible, RFC 5213 §6.9.1.1 item 1). No answer, or an Accept that contradicts itself (§4.1)
// → a rejected promise: the MAG reports 'policy-error', and a re-registration keeps the
// binding, instead of treating an AAA outage as "not eligible". Counted in
// pmip6_mag_aaa_lookups_total{result}.
// The other parts: aaa-detector.ts (attach under the AAA identity, RFC 6572 §4.2),
// aaa-accounting.ts (RFC 6572 §7 accounting), aaa-dae.ts (RFC 5176 Dynamic Authorization),
// mag-aaa.ts (one MAG's pieces from `config.radius`).
import { isIPv4, isIPv6 } from 'node:net';
import { Counter } from 'prom-client';
import { FeatureVector, type Profile } from '../policy/profile.ts';
import type { MagPolicySource } from '../policy/source.ts';
import { RadiusAaaClient, preferredLma, type AaaProfile, type RadiusServerAddress } from '../radius/index.ts';
import { registry } from '../metrics/registry.ts';
import type { Logger } from '../util/log.ts';

const lookups = new Counter({
  name: 'pmip6_mag_aaa_lookups_total',
  help: 'MAG profile lookups over AAA (RADIUS RFC 6572 §5 or Diameter RFC 5779 §4.1) by result: accept, reject, error',
  labelNames: ['result'] as const,
  registers: [registry],
});

/**
 * A `radius.servers` entry: "host", "host:port", "[v6]:port", each optionally followed by
 * "/acctPort" (default: auth port 1812, accounting port = auth port + 1).
 */
export function parseRadiusServer(spec: string, secret: string): RadiusServerAddress {
  let host = spec.trim();
  let acctPort: number | null = null;
  const slash = /\/(\d+)$/.exec(host);
  if (slash) {
    acctPort = Number(slash[1]);
    host = host.slice(0, slash.index);
  }
  let port = 1812;
  const br = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (br) {
    host = br[1];
    if (br[2]) port = Number(br[2]);
  } else if (!isIPv6(host)) {
    const i = host.lastIndexOf(':');
    if (i > 0) {
      port = Number(host.slice(i + 1));
      host = host.slice(0, i);
    }
  }
  acctPort ??= port + 1;
  const okPort = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;
  if (!(isIPv4(host) || isIPv6(host)) || !okPort(port) || !okPort(acctPort)) {
    throw new Error(`radius.servers: "${spec}" is not host[:port][/acctPort] with an IP address`);
  }
  return { host, port, acctPort, secret, name: isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}` };
}

/** The shared Profile a MAG acts on, from an Access-Accept (or CoA) profile. */
export function profileFromAaa(a: AaaProfile, userName: string): Profile {
  const fv = a.featureVector;
  const home = a.homeLmaIpv6 !== null || a.homeLmaIpv4 !== null;
  const hnps = home || a.hnps.length > 0 ? a.hnps : a.visitedHnps;
  const hoa = home || a.ipv4HoA ? a.ipv4HoA : a.visitedIpv4HoA;
  const v4only = fv !== null && (fv & FeatureVector.IP4_HOA_ONLY_SUPPORTED) !== 0n;
  const v4 = fv !== null && (fv & (FeatureVector.IP4_HOA_SUPPORTED | FeatureVector.IP4_HOA_ONLY_SUPPORTED)) !== 0n;
  const epoch = new Date(0);
  return {
    id: 0,
    mnId: a.mnId ?? userName,
    mnLinkLayerIds: [],
    hnps,
    // Authorised for IPv6 without a prefix in the Accept: the LMA assigns one (ALL_ZERO HNP).
    hnpPool: hnps.length === 0 && !v4only ? 'assigned-by-lma' : null,
    ipv4HoA: hoa?.address ?? null,
    ipv4PrefixLength: hoa?.prefixLength ?? null,
    // Authorised for IPv4 without an address in the Accept: the LMA assigns one (0.0.0.0).
    ipv4Pool: !hoa && v4 ? 'assigned-by-lma' : null,
    ipv4DefaultRouter: home || a.ipv4Gateway ? a.ipv4Gateway : a.visitedIpv4Gateway,
    lma: preferredLma(a),
    lmaGroup: null,
    serviceSelection: a.serviceSelection,
    greKeyPolicy: 'none', // RFC 6572 has no GRE attribute
    dhcpv4Server: home || a.dhcp4Server ? a.dhcp4Server : a.visitedDhcp4Server,
    dhcpv6Server: home || a.dhcp6Server ? a.dhcp6Server : a.visitedDhcp6Server,
    interfaceId: home || a.interfaceId ? a.interfaceId : a.visitedInterfaceId,
    mip6FeatureVector: fv ?? 0n,
    enabled: true,
    createdAt: epoch,
    updatedAt: epoch,
  };
}

type Lookup = { ok: true; profile: Profile | null; cls: Buffer | null } | { ok: false; error: Error };

/** How long a profile resolved for an attach waits for the MAG to ask for it. */
const HANDOFF_MS = 5000;

/** What the MAG's policy needs of an AAA client: RadiusAaaClient, or DiameterAaaClient (diameter-mag.ts). */
export type MagAaaClient = Pick<RadiusAaaClient, 'authorize' | 'invalidate'>;

export class RadiusMagPolicy<C extends MagAaaClient = RadiusAaaClient> implements MagPolicySource {
  /** MAG key (AAA Mobile-Node-Identifier) → the NAI the MN attached with, when they differ. */
  private readonly naiByKey = new Map<string, string>();
  private readonly keyByNai = new Map<string, string>();
  private readonly handoff = new Map<string, { r: Lookup; until: number }>();
  /** Class (RFC 2865 §5.25) of the last Accept per MAG key, echoed in accounting. */
  readonly classes = new Map<string, Buffer>();
  readonly stats = { accept: 0, reject: 0, error: 0 };

  constructor(
    readonly client: C,
    private readonly o: { featureVector?: bigint; serviceSelection?: string; log: Logger; protocol?: string },
  ) {}

  /** The NAI (User-Name) of a MAG key. */
  naiOf(key: string): string {
    return this.naiByKey.get(key) ?? key;
  }

  /** The MAG key of a NAI (its AAA Mobile-Node-Identifier once resolved). */
  keyOf(nai: string): string {
    return this.keyByNai.get(nai) ?? nai;
  }

  /** NAI -> the MN's link-layer address, sent as Calling-Station-Id (RFC 2865 §5.31); bounded. */
  private readonly linkLayerOf = new Map<string, string>();

  private async lookup(nai: string): Promise<Lookup> {
    const callingStationId = this.linkLayerOf.get(nai);
    const r = await this.client.authorize({ userName: nai, featureVector: this.o.featureVector, serviceSelection: this.o.serviceSelection, ...(callingStationId ? { callingStationId } : {}) });
    if (r.status === 'accept') {
      this.stats.accept++;
      lookups.labels('accept').inc();
      return { ok: true, profile: profileFromAaa(r.profile, nai), cls: r.profile.class };
    }
    if (r.status === 'reject') {
      this.stats.reject++;
      lookups.labels('reject').inc();
      this.o.log.info({ mnId: nai, server: r.server, reply: r.replyMessage }, 'AAA rejected the MN (Access-Reject / DIAMETER_AUTHORIZATION_REJECTED)');
      return { ok: true, profile: null, cls: null };
    }
    this.stats.error++;
    lookups.labels('error').inc();
    this.o.log.warn({ mnId: nai, error: r.error, detail: r.detail, server: r.server }, 'no usable answer from AAA');
    return { ok: false, error: new Error(`${this.o.protocol ?? 'RADIUS'}: ${r.error}${r.detail ? ` (attribute ${r.detail.attribute}: ${r.detail.reason})` : ''}`) };
  }

  /**
   * Resolves an attaching NAI to the MAG key (the AAA Mobile-Node-Identifier); never rejects.
   * With the MN's link-layer address the request carries it as Calling-Station-Id: an MN known
   * only by its MAC (mag.access.identity=aaa) is found by it, and the Accept names its MN-ID.
   */
  async resolve(nai: string, linkLayerId?: string): Promise<string> {
    if (linkLayerId) {
      this.linkLayerOf.delete(nai);
      if (this.linkLayerOf.size >= 100_000) this.linkLayerOf.delete(this.linkLayerOf.keys().next().value!);
      this.linkLayerOf.set(nai, linkLayerId);
    }
    const r = await this.lookup(nai);
    let key = nai;
    if (r.ok && r.profile && r.profile.mnId !== nai) {
      key = r.profile.mnId;
      this.naiByKey.set(key, nai);
      this.keyByNai.set(nai, key);
    }
    this.handoff.set(key, { r, until: Date.now() + HANDOFF_MS });
    return key;
  }

  async profile(key: string): Promise<Profile | null> {
    const h = this.handoff.get(key);
    this.handoff.delete(key);
    const r = h && h.until > Date.now() ? h.r : await this.lookup(this.naiOf(key));
    if (!r.ok) throw r.error;
    if (r.cls) this.classes.set(key, r.cls);
    else this.classes.delete(key);
    return r.profile;
  }

  /** Forget what is cached for this MN (after a CoA or Disconnect). */
  invalidate(key: string): void {
    this.handoff.delete(key);
    this.client.invalidate(this.naiOf(key));
    this.client.invalidate(key);
  }
}
