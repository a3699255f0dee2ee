// An LMA's authorisation in the policy store, shared by the RADIUS (RFC 6572 §6.1) and Diameter
// (RFC 5779 §4.2) servers: reads and locks the MN's row, checks the MN may be anchored at that
// LMA and use that service, records the LMA for an MN not yet anchored (RFC 6097 §4), and
// assigns a delegated HNP / IPv4 HoA from the profile's pools. Idempotent for a repeated request.
import type { Store } from '../store/index.ts';
import type { LmaAuthorizationResult } from '../radius/index.ts';
import { allocateHnps, allocateIpv4 } from '../store/repos/pools.ts';
import { getProfileIn } from '../store/repos/profiles.ts';
import { audit } from '../store/repos/audit.ts';
import { canonicalAddress } from '../util/ip.ts';

export interface LmaAuthorizationQuery {
  mnId: string;
  lmaAddress: string | null;
  hnps: 'delegate' | string[] | null;
  ipv4HoA: 'delegate' | { address: string; prefixLength: number } | null;
  serviceSelection: string | null;
}

/** `changed`: the profile was updated (the caller drops it from memory at once). */
export async function authorizeLmaInStore(store: Store, req: LmaAuthorizationQuery, actor: string): Promise<{ result: LmaAuthorizationResult; changed: boolean }> {
  let changed = false;
  const result = await store.db.transaction(async (tx): Promise<LmaAuthorizationResult> => {
    const lock = await tx.query<{ id: bigint }>('SELECT id FROM profiles WHERE mn_id = $1 FOR UPDATE', [req.mnId]);
    if (!lock.rows[0]) return { ok: false, reason: 'unknown mobile node' };
    const p = (await getProfileIn(tx, req.mnId))!;
    if (!p.enabled) return { ok: false, reason: 'mobile node disabled' };
    if (req.serviceSelection !== null && p.serviceSelection !== null && p.serviceSelection !== req.serviceSelection) return { ok: false, reason: 'service not allowed' };
    const id = Number(lock.rows[0].id);
    if (req.lmaAddress !== null) {
      const asked = canonicalAddress(req.lmaAddress) ?? req.lmaAddress;
      if (p.lma !== null && p.lmaGroup === null && p.lma !== asked) return { ok: false, reason: 'MN is not anchored at this LMA' };
      if (p.lma === null) {
        // RFC 6097 §4: the selected LMA is recorded so the next MAG is told the same one.
        await tx.query('UPDATE profiles SET lma = $2, updated_at = now() WHERE id = $1', [id, asked]);
        changed = true;
      }
    }
    if (req.hnps === 'delegate' && p.hnps.length === 0) {
      if (!p.hnpPool) return { ok: false, reason: 'no home network prefix available' };
      await allocateHnps(tx, p.hnpPool, id, 1);
      changed = true;
    } else if (Array.isArray(req.hnps)) {
      for (const h of req.hnps) if (!p.hnps.includes(h)) return { ok: false, reason: `prefix ${h} is not the MN's` };
    }
    if (req.ipv4HoA === 'delegate' && p.ipv4HoA === null) {
      if (!p.ipv4Pool) return { ok: false, reason: 'no IPv4 home address available' };
      const a = await allocateIpv4(tx, p.ipv4Pool);
      await tx.query('UPDATE profiles SET ipv4_hoa = $2, ipv4_pool_index = $3, ipv4_prefix_length = COALESCE(ipv4_prefix_length, $4), ipv4_default_router = COALESCE(ipv4_default_router, $5) WHERE id = $1', [id, a.address, a.index, a.prefixLength, a.gateway]);
      changed = true;
    } else if (req.ipv4HoA && req.ipv4HoA !== 'delegate' && req.ipv4HoA.address !== p.ipv4HoA) {
      return { ok: false, reason: `IPv4 HoA ${req.ipv4HoA.address} is not the MN's` };
    }
    const after = changed ? (await getProfileIn(tx, req.mnId))! : p;
    if (changed) await audit(tx, actor, 'update', 'profile', p.mnId, p, after);
    return { ok: true, profile: after };
  });
  return { result, changed };
}
