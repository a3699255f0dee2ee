// Small MagPolicySource implementations for wiring without AAA (RFC 5213 §6.2: the MAG must
// be able to obtain the MN's policy profile; where it comes from is a deployment choice).
import type { Profile } from '../policy/profile.ts';
import type { MagPolicySource } from '../policy/source.ts';

/** Fields a template may set; mnId and the bookkeeping fields are filled in per MN. */
export type ProfileTemplate = Partial<Omit<Profile, 'mnId'>>;

/** A full Profile for `mnId` from a template (defaults: LMA assigns the HNP, no IPv4, no GRE). */
export function profileFrom(mnId: string, t: ProfileTemplate = {}): Profile {
  const now = new Date(0);
  return {
    id: t.id ?? 0,
    mnId,
    mnLinkLayerIds: t.mnLinkLayerIds ?? [],
    hnps: t.hnps ?? [],
    hnpPool: t.hnpPool === undefined ? 'default' : t.hnpPool,
    ipv4HoA: t.ipv4HoA ?? null,
    ipv4PrefixLength: t.ipv4PrefixLength ?? null,
    ipv4Pool: t.ipv4Pool ?? null,
    ipv4DefaultRouter: t.ipv4DefaultRouter ?? null,
    lma: t.lma ?? null,
    lmaGroup: t.lmaGroup ?? null,
    serviceSelection: t.serviceSelection ?? null,
    greKeyPolicy: t.greKeyPolicy ?? 'none',
    dhcpv4Server: t.dhcpv4Server ?? null,
    dhcpv6Server: t.dhcpv6Server ?? null,
    mip6FeatureVector: t.mip6FeatureVector ?? 0n,
    enabled: t.enabled ?? true,
    createdAt: t.createdAt ?? now,
    updatedAt: t.updatedAt ?? now,
  };
}

/**
 * Every MN accepted by `match` (default: all) gets the template profile: for `pmip6 simulate`
 * and labs where the LMA decides the prefixes.
 */
export function templatePolicy(template: ProfileTemplate = {}, match: (mnId: string) => boolean = () => true): MagPolicySource {
  return {
    async profile(mnId) {
      return match(mnId) ? profileFrom(mnId, template) : null;
    },
  };
}

/** Profiles from a map (tests, static configuration). */
export function mapPolicy(profiles: Map<string, Profile> | Profile[]): MagPolicySource {
  const m = Array.isArray(profiles) ? new Map(profiles.map((p) => [p.mnId, p])) : profiles;
  return {
    async profile(mnId) {
      return m.get(mnId) ?? null;
    },
  };
}
