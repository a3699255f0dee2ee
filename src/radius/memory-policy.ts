// In-memory RadiusPolicy for tests, the bench and the all-in-one demo until the store adapter
// lands. Sessions are derived from recorded accounting, as the store adapter will do.
import type {
  AccountingRecord,
  LmaAuthorizationRequest,
  LmaAuthorizationResult,
  RadiusClient,
  RadiusPolicy,
  RadiusSession,
} from './policy.ts';
import type { RadiusProfile } from './rfc6572.ts';
import { parseIpv4, parseIpv6 } from './values.ts';
import type { Profile } from '../policy/profile.ts';

/** Fill a profile with defaults for tests: `profile({ mnId: 'mn1@example.net', hnps: [...] })`. */
export function makeProfile(p: Partial<RadiusProfile> & { mnId: string }): RadiusProfile {
  const now = new Date(0);
  const base: Profile = {
    id: 0, mnId: p.mnId, mnLinkLayerIds: [], hnps: [], hnpPool: null, ipv4HoA: null, ipv4PrefixLength: null,
    ipv4Pool: null, ipv4DefaultRouter: null, lma: null, lmaGroup: null, serviceSelection: null,
    greKeyPolicy: 'none', dhcpv4Server: null, dhcpv6Server: null, mip6FeatureVector: 0n, enabled: true,
    createdAt: now, updatedAt: now,
  };
  return { ...base, ...p };
}

/** Canonical text of an address, so "2001:DB8::1" and "2001:db8:0::1" compare equal. */
function canon(a: string): string {
  const v4 = parseIpv4(a);
  if (v4) return a;
  const v6 = parseIpv6(a);
  return v6 ? v6.toString('hex') : a.toLowerCase();
}

export class MemoryRadiusPolicy implements RadiusPolicy {
  readonly clients = new Map<string, RadiusClient>();
  readonly profiles = new Map<string, RadiusProfile>();
  readonly accounting: AccountingRecord[] = [];
  /** Free prefixes per HNP pool name, consumed by delegation (RFC 6572 §6.1). */
  readonly hnpPools = new Map<string, string[]>();
  readonly ipv4Pools = new Map<string, { address: string; prefixLength: number }[]>();
  /** LMA address recorded per MN by authorizeLma. */
  readonly lmaOf = new Map<string, string>();
  /** Artificial latency for recordAccounting, to test "answer only after commit". */
  accountingDelayMs = 0;
  /** Make the next calls fail, to test policy errors. */
  failNext = 0;

  addClient(c: RadiusClient): this {
    this.clients.set(canon(c.address), c);
    return this;
  }

  addProfile(p: RadiusProfile): this {
    this.profiles.set(p.mnId, p);
    return this;
  }

  private maybeFail(): void {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('policy store unavailable (test)');
    }
  }

  async findClientByAddress(address: string): Promise<RadiusClient | null> {
    this.maybeFail();
    return this.clients.get(canon(address)) ?? null;
  }

  async findProfile(mnId: string): Promise<RadiusProfile | null> {
    this.maybeFail();
    return this.profiles.get(mnId) ?? null;
  }

  async findProfileByLinkLayerId(linkLayerId: string): Promise<RadiusProfile | null> {
    this.maybeFail();
    const all = [...this.profiles.values()].filter((p) => p.mnLinkLayerIds.includes(linkLayerId));
    return all.length === 1 ? all[0] : null;
  }

  async authorizeLma(req: LmaAuthorizationRequest): Promise<LmaAuthorizationResult> {
    this.maybeFail();
    const p = this.profiles.get(req.mnId);
    if (!p) return { ok: false, reason: 'unknown mobile node' };
    if (!p.enabled) return { ok: false, reason: 'mobile node disabled' };
    if (req.serviceSelection !== null && p.serviceSelection !== req.serviceSelection) {
      return { ok: false, reason: 'service not allowed' };
    }
    if (req.lmaAddress !== null) {
      if (p.lma !== null && p.lmaGroup === null && canon(p.lma) !== canon(req.lmaAddress)) {
        return { ok: false, reason: 'MN is not anchored at this LMA' };
      }
      this.lmaOf.set(p.mnId, req.lmaAddress);
    }
    let next: RadiusProfile = p;
    if (req.hnps === 'delegate' && p.hnps.length === 0) {
      const free = p.hnpPool ? this.hnpPools.get(p.hnpPool) : undefined;
      const h = free?.shift();
      if (!h) return { ok: false, reason: 'no home network prefix available' };
      next = { ...next, hnps: [h] };
    } else if (Array.isArray(req.hnps)) {
      for (const h of req.hnps) {
        if (!next.hnps.includes(h)) {
          if (next.hnpPool === null) return { ok: false, reason: `prefix ${h} is not the MN's` };
          next = { ...next, hnps: [...next.hnps, h] };
        }
      }
    }
    if (req.ipv4HoA === 'delegate' && p.ipv4HoA === null) {
      const a = p.ipv4Pool ? this.ipv4Pools.get(p.ipv4Pool)?.shift() : undefined;
      if (!a) return { ok: false, reason: 'no IPv4 home address available' };
      next = { ...next, ipv4HoA: a.address, ipv4PrefixLength: a.prefixLength };
    } else if (req.ipv4HoA && req.ipv4HoA !== 'delegate' && req.ipv4HoA.address !== next.ipv4HoA) {
      if (next.ipv4Pool === null) return { ok: false, reason: `IPv4 HoA ${req.ipv4HoA.address} is not the MN's` };
      next = { ...next, ipv4HoA: req.ipv4HoA.address, ipv4PrefixLength: req.ipv4HoA.prefixLength };
    }
    if (next !== p) this.profiles.set(p.mnId, next);
    return { ok: true, profile: next };
  }

  async recordAccounting(rec: AccountingRecord): Promise<void> {
    this.maybeFail();
    if (this.accountingDelayMs > 0) await new Promise((r) => setTimeout(r, this.accountingDelayMs));
    if (this.accounting.some((r) => r.key === rec.key)) return; // idempotent, as the store's ON CONFLICT
    this.accounting.push(rec);
  }

  async findSessions(mnId: string): Promise<RadiusSession[]> {
    this.maybeFail();
    const open = new Map<string, RadiusSession>();
    for (const r of this.accounting) {
      if (r.statusType === 'accounting-on' || r.statusType === 'accounting-off') {
        for (const [k, s] of open) if (s.clientAddress === r.clientAddress) open.delete(k);
        continue;
      }
      if (r.mnId !== mnId) continue;
      const k = `${r.clientAddress}|${r.sessionId}`;
      if (r.statusType === 'stop') open.delete(k);
      else if (r.statusType === 'start' || r.statusType === 'interim-update') {
        open.delete(k);
        open.set(k, {
          mnId, userName: r.userName, acctSessionId: r.sessionId, clientAddress: r.clientAddress,
          nasIdentifier: r.nasIdentifier, nasIpAddress: r.nasIpAddress, nasIpv6Address: r.nasIpv6Address,
        });
      }
    }
    return [...open.values()].reverse();
  }
}
