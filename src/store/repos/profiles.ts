// Mobile-node profiles (RFC 5213 §6.2 policy profile, RFC 5844 IPv4 extensions).
// Every write runs in one transaction with its audit record; prefixes and addresses are
// drawn from pools under the pool's row lock, and the database refuses duplicates.
import type { Db, Queryable } from '../db.ts';
import { InvalidError, NotFoundError, translatePgError } from '../errors.ts';
import type { Profile } from '../../policy/profile.ts';
import type { ProfileInput, ProfilePatch } from '../../policy/validate.ts';
import { allocateHnps, allocateIpv4 } from './pools.ts';
import { audit, type Actor } from './audit.ts';

interface ProfileRow {
  id: bigint;
  mn_id: string;
  mn_ll_ids: string[];
  /** Prefixes joined with ',' (a cidr never contains one): cheaper to parse than an array. */
  hnps: string | null;
  hnp_pool: string | null;
  ipv4_hoa: string | null;
  ipv4_prefix_length: number | null;
  ipv4_pool: string | null;
  ipv4_default_router: string | null;
  lma: string | null;
  lma_group: string | null;
  service_selection: string | null;
  gre_key_policy: Profile['greKeyPolicy'];
  dhcpv4_server: string | null;
  dhcpv6_server: string | null;
  interface_id: string | null;
  mip6_feature_vector: bigint;
  enabled: boolean;
  /** Times as epoch milliseconds (float8): cheaper to parse than timestamptz text. */
  created_ms: number;
  updated_ms: number;
}

// One row per profile, in column types that are cheap to parse on the AAA and LMA hot paths
// (this is also the batched and the preloading read of the profile directory).
const SELECT = `SELECT p.id, p.mn_id, p.mn_ll_ids,
  (SELECT string_agg(h.prefix::text, ',' ORDER BY h.position, h.prefix) FROM hnp_assignments h WHERE h.profile_id = p.id) AS hnps,
  hp.name AS hnp_pool, host(p.ipv4_hoa) AS ipv4_hoa, p.ipv4_prefix_length, vp.name AS ipv4_pool,
  host(p.ipv4_default_router) AS ipv4_default_router, p.lma, p.lma_group, p.service_selection, p.gre_key_policy,
  host(p.dhcpv4_server) AS dhcpv4_server, host(p.dhcpv6_server) AS dhcpv6_server, p.interface_id, p.mip6_feature_vector, p.enabled,
  floor(extract(epoch FROM p.created_at) * 1000)::float8 AS created_ms, floor(extract(epoch FROM p.updated_at) * 1000)::float8 AS updated_ms
  FROM profiles p LEFT JOIN pools hp ON hp.id = p.hnp_pool_id LEFT JOIN pools vp ON vp.id = p.ipv4_pool_id`;

// Values most profiles share, one object each (the profile directory holds every profile in
// memory; profiles handed out are shared and never modified, profile-directory.ts).
const NO_LL_IDS: string[] = Object.freeze([]) as unknown as string[];
const internGre = (g: Profile['greKeyPolicy']): Profile['greKeyPolicy'] => (g === 'none' ? 'none' : g === 'optional' ? 'optional' : g === 'required' ? 'required' : g);
const NO_FEATURES = 0n;

function toProfile(r: ProfileRow): Profile {
  const fv = BigInt.asUintN(64, BigInt(r.mip6_feature_vector));
  return {
    id: Number(r.id),
    mnId: r.mn_id,
    mnLinkLayerIds: r.mn_ll_ids && r.mn_ll_ids.length > 0 ? r.mn_ll_ids : NO_LL_IDS,
    hnps: r.hnps ? r.hnps.split(',') : [],
    hnpPool: r.hnp_pool,
    ipv4HoA: r.ipv4_hoa,
    ipv4PrefixLength: r.ipv4_prefix_length,
    ipv4Pool: r.ipv4_pool,
    ipv4DefaultRouter: r.ipv4_default_router,
    lma: r.lma,
    lmaGroup: r.lma_group,
    serviceSelection: r.service_selection,
    greKeyPolicy: internGre(r.gre_key_policy),
    dhcpv4Server: r.dhcpv4_server,
    dhcpv6Server: r.dhcpv6_server,
    interfaceId: r.interface_id,
    // Stored as signed int8 (two's complement); the feature vector is an unsigned 64-bit mask.
    mip6FeatureVector: fv === 0n ? NO_FEATURES : fv,
    enabled: r.enabled,
    createdAt: new Date(Number(r.created_ms)),
    updatedAt: new Date(Number(r.updated_ms)),
  };
}

async function poolId(q: Queryable, name: string | null, field: string): Promise<bigint | null> {
  if (name === null) return null;
  const r = await q.query<{ id: bigint }>(`SELECT id FROM pools WHERE name = $1`, [name]);
  if (!r.rows[0]) throw new InvalidError(field, `pool ${JSON.stringify(name)} does not exist`);
  return r.rows[0].id;
}

async function insertFixedHnps(q: Queryable, profileId: number, hnps: string[]): Promise<void> {
  for (let i = 0; i < hnps.length; i++) {
    await q.query(`INSERT INTO hnp_assignments (prefix, profile_id, position) VALUES ($1, $2, $3)`, [hnps[i], profileId, i]);
  }
}

export async function getProfileIn(q: Queryable, mnId: string): Promise<Profile | null> {
  const r = await q.query<ProfileRow>(`${SELECT} WHERE p.mn_id = $1`, [mnId]);
  return r.rows[0] ? toProfile(r.rows[0]) : null;
}

/** Creates one profile inside an open transaction (used by create and bulk import). */
export async function insertProfile(tx: Queryable, input: ProfileInput): Promise<Profile> {
  const hnpPoolId = await poolId(tx, input.hnpPool, 'hnpPool');
  let ipv4 = { hoa: input.ipv4HoA, len: input.ipv4PrefixLength, poolId: null as bigint | null, index: null as bigint | null, gw: input.ipv4DefaultRouter };
  if (input.ipv4Pool) {
    const a = await allocateIpv4(tx, input.ipv4Pool);
    ipv4 = { hoa: a.address, len: input.ipv4PrefixLength ?? a.prefixLength, poolId: a.poolId, index: a.index, gw: input.ipv4DefaultRouter ?? a.gateway };
  }
  const r = await tx.query<{ id: bigint }>(
    `INSERT INTO profiles (mn_id, mn_ll_ids, hnp_pool_id, ipv4_hoa, ipv4_prefix_length, ipv4_pool_id, ipv4_pool_index,
       ipv4_default_router, lma, lma_group, service_selection, gre_key_policy, dhcpv4_server, dhcpv6_server,
       mip6_feature_vector, enabled, interface_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id`,
    [
      input.mnId, input.mnLinkLayerIds, hnpPoolId, ipv4.hoa, ipv4.len, ipv4.poolId, ipv4.index, ipv4.gw,
      input.lma, input.lmaGroup, input.serviceSelection, input.greKeyPolicy, input.dhcpv4Server, input.dhcpv6Server,
      BigInt.asIntN(64, input.mip6FeatureVector).toString(), input.enabled, input.interfaceId,
    ],
  );
  const id = Number(r.rows[0].id);
  await insertFixedHnps(tx, id, input.hnps);
  if (input.hnps.length === 0 && input.hnpPool) await allocateHnps(tx, input.hnpPool, id, input.hnpCount);
  return (await getProfileIn(tx, input.mnId))!;
}

export class ProfileRepo {
  constructor(private readonly db: Db) {}

  async create(input: ProfileInput, actor: Actor): Promise<Profile> {
    try {
      return await this.db.transaction(async (tx) => {
        const p = await insertProfile(tx, input);
        await audit(tx, actor, 'create', 'profile', p.mnId, null, p);
        return p;
      });
    } catch (e) {
      throw translatePgError(e);
    }
  }

  async get(mnId: string): Promise<Profile> {
    const p = await this.find(mnId);
    if (!p) throw new NotFoundError('profile', mnId);
    return p;
  }

  /** Lookup by MN identifier: the AAA and LMA hot path (one indexed query). */
  find(mnId: string): Promise<Profile | null> {
    return getProfileIn(this.db, mnId);
  }

  /** The profiles of many MNs in one query (unknown ones are absent), in no particular order. */
  /** MN-IDs of the profiles listing this link-layer address in mnLinkLayerIds (at most 2: enough to tell "exactly one"). */
  async mnIdsByLinkLayerId(linkLayerId: string): Promise<string[]> {
    const r = await this.db.query<{ mn_id: string }>(`SELECT mn_id FROM profiles WHERE mn_ll_ids @> ARRAY[$1]::text[] ORDER BY mn_id LIMIT 2`, [linkLayerId]);
    return r.rows.map((x) => x.mn_id);
  }

  async findMany(mnIds: readonly string[]): Promise<Profile[]> {
    if (mnIds.length === 0) return [];
    const r = await this.db.query<ProfileRow>(`${SELECT} WHERE p.mn_id = ANY($1::text[])`, [mnIds]);
    return r.rows.map(toProfile);
  }

  /** One page of all profiles in MN-identifier order after `after` (keyset paging, for preloading). */
  async page(after: string, limit: number): Promise<Profile[]> {
    const r = await this.db.query<ProfileRow>(`${SELECT} WHERE p.mn_id > $1 ORDER BY p.mn_id LIMIT $2`, [after, limit]);
    return r.rows.map(toProfile);
  }

  async count(): Promise<number> {
    const r = await this.db.query<{ n: bigint }>(`SELECT count(*) AS n FROM profiles`);
    return Number(r.rows[0].n);
  }

  async update(mnId: string, patch: ProfilePatch, actor: Actor): Promise<Profile> {
    try {
      return await this.db.transaction(async (tx) => {
        const lock = await tx.query<{ id: bigint }>(`SELECT id FROM profiles WHERE mn_id = $1 FOR UPDATE`, [mnId]);
        if (!lock.rows[0]) throw new NotFoundError('profile', mnId);
        const id = Number(lock.rows[0].id);
        const before = (await getProfileIn(tx, mnId))!;
        const sets: string[] = [];
        const vals: unknown[] = [];
        const set = (col: string, v: unknown) => {
          vals.push(v);
          sets.push(`${col} = $${vals.length}`);
        };
        if (patch.mnLinkLayerIds !== undefined) set('mn_ll_ids', patch.mnLinkLayerIds);
        if (patch.hnpPool !== undefined) set('hnp_pool_id', await poolId(tx, patch.hnpPool, 'hnpPool'));
        if (patch.ipv4Pool !== undefined || patch.ipv4HoA !== undefined) {
          if (patch.ipv4Pool && patch.ipv4HoA) throw new InvalidError('ipv4Pool', 'give either ipv4HoA or ipv4Pool, not both');
          if (patch.ipv4Pool && patch.ipv4Pool !== before.ipv4Pool) {
            const a = await allocateIpv4(tx, patch.ipv4Pool);
            set('ipv4_hoa', a.address);
            set('ipv4_pool_id', a.poolId);
            set('ipv4_pool_index', a.index);
            if (patch.ipv4PrefixLength === undefined) set('ipv4_prefix_length', a.prefixLength);
            if (patch.ipv4DefaultRouter === undefined && a.gateway) set('ipv4_default_router', a.gateway);
          } else if (patch.ipv4HoA !== undefined) {
            set('ipv4_hoa', patch.ipv4HoA);
            set('ipv4_pool_id', null);
            set('ipv4_pool_index', null);
          } else if (patch.ipv4Pool === null) {
            set('ipv4_hoa', null);
            set('ipv4_pool_id', null);
            set('ipv4_pool_index', null);
          }
        }
        if (patch.ipv4PrefixLength !== undefined) set('ipv4_prefix_length', patch.ipv4PrefixLength);
        if (patch.ipv4DefaultRouter !== undefined) set('ipv4_default_router', patch.ipv4DefaultRouter);
        if (patch.lma !== undefined) set('lma', patch.lma);
        if (patch.lmaGroup !== undefined) set('lma_group', patch.lmaGroup);
        if (patch.serviceSelection !== undefined) set('service_selection', patch.serviceSelection);
        if (patch.greKeyPolicy !== undefined) set('gre_key_policy', patch.greKeyPolicy);
        if (patch.dhcpv4Server !== undefined) set('dhcpv4_server', patch.dhcpv4Server);
        if (patch.dhcpv6Server !== undefined) set('dhcpv6_server', patch.dhcpv6Server);
        if (patch.interfaceId !== undefined) set('interface_id', patch.interfaceId);
        if (patch.mip6FeatureVector !== undefined) set('mip6_feature_vector', BigInt.asIntN(64, patch.mip6FeatureVector).toString());
        if (patch.enabled !== undefined) set('enabled', patch.enabled);
        set('updated_at', new Date());
        vals.push(id);
        await tx.query(`UPDATE profiles SET ${sets.join(', ')} WHERE id = $${vals.length}`, vals);
        if (patch.hnps !== undefined) {
          await tx.query(`DELETE FROM hnp_assignments WHERE profile_id = $1 AND NOT (prefix = ANY($2::cidr[]))`, [id, patch.hnps]);
          const kept = new Set(before.hnps);
          for (let i = 0; i < patch.hnps.length; i++) {
            if (kept.has(patch.hnps[i])) await tx.query(`UPDATE hnp_assignments SET position = $2 WHERE prefix = $1`, [patch.hnps[i], i]);
            else await tx.query(`INSERT INTO hnp_assignments (prefix, profile_id, position) VALUES ($1, $2, $3)`, [patch.hnps[i], id, i]);
          }
        }
        const after = (await getProfileIn(tx, mnId))!;
        await audit(tx, actor, 'update', 'profile', mnId, before, after);
        return after;
      });
    } catch (e) {
      throw translatePgError(e);
    }
  }

  async delete(mnId: string, actor: Actor): Promise<Profile> {
    return this.db.transaction(async (tx) => {
      const before = await getProfileIn(tx, mnId);
      if (!before) throw new NotFoundError('profile', mnId);
      await tx.query(`DELETE FROM profiles WHERE id = $1`, [before.id]);
      await audit(tx, actor, 'delete', 'profile', mnId, before, null);
      return before;
    });
  }

  async list(f: ProfileFilter = {}): Promise<{ items: Profile[]; total: number }> {
    const where: string[] = [];
    const vals: unknown[] = [];
    const add = (cond: string, v: unknown) => {
      vals.push(v);
      where.push(cond.replace('$?', `$${vals.length}`));
    };
    if (f.q) add(`p.mn_id LIKE $?`, `%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    if (f.lma) add(`p.lma = $?`, f.lma);
    if (f.enabled !== undefined) add(`p.enabled = $?`, f.enabled);
    if (f.hnp) add(`EXISTS (SELECT 1 FROM hnp_assignments h WHERE h.profile_id = p.id AND h.prefix && $?::cidr)`, f.hnp);
    if (f.pool) {
      vals.push(f.pool);
      where.push(`(hp.name = $${vals.length} OR vp.name = $${vals.length})`);
    }
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = await this.db.query<{ n: bigint }>(
      `SELECT count(*) AS n FROM profiles p LEFT JOIN pools hp ON hp.id = p.hnp_pool_id LEFT JOIN pools vp ON vp.id = p.ipv4_pool_id ${w}`,
      vals,
    );
    const limit = f.limit ?? 50;
    const offset = f.offset ?? 0;
    const r = await this.db.query<ProfileRow>(`${SELECT} ${w} ORDER BY p.mn_id LIMIT $${vals.length + 1} OFFSET $${vals.length + 2}`, [...vals, limit, offset]);
    return { items: r.rows.map(toProfile), total: Number(total.rows[0].n) };
  }
}

export interface ProfileFilter {
  /** Substring of the MN identifier. */
  q?: string;
  lma?: string;
  enabled?: boolean;
  /** Profiles holding a prefix that overlaps this one. */
  hnp?: string;
  pool?: string;
  limit?: number;
  offset?: number;
}
