// The MAG's side of the MN–MAG interface (RFC 5213 §6.7, §6.8): its binding results drive
// the access link's per-MN Router Advertisements. After a PBA with status 0 (the data plane
// is installed before the registered/refreshed event) the MN's HNPs are advertised; when the
// binding ends (de-registration, failure, revocation) the advertisement is withdrawn. The
// IPv4 home address (RFC 5844) goes along, for the access link's DHCPv4 server. An MN
// whose registration was refused never had one (RFC 5213 §6.9.1.2: no HNP after status >= 128).
import type { RouterAdvertiser } from '../attach/types.ts';
import type { MagBulView, MagEvent } from './types.ts';

export function advertiseFor(adv: RouterAdvertiser, e: MagEvent, view: MagBulView): void {
  switch (e.type) {
    case 'registered':
    case 'refreshed':
      {
        const b = view.get(e.mnId, e.link);
        const ipv4 = e.ipv4HoA && b?.ipv4PrefixLength != null ? { address: e.ipv4HoA, prefixLen: b.ipv4PrefixLength, defaultRouter: b.ipv4DefaultRouter } : null;
        if (e.hnps.length === 0 && !ipv4) return;
        adv.advertise(e.mnId, e.link, { hnps: e.hnps, lifetimeS: e.lifetimeS, magLinkLocal: b?.magLinkLocal ?? null, ipv4 });
      }
      return;
    case 'deregistered':
    case 'failed':
      adv.withdraw(e.mnId, e.link);
      return;
    case 'revoked':
      if (!e.ipv4Only) adv.withdraw(e.mnId, e.link);
      return;
    default:
  }
}
