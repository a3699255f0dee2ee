// Prefix and address pools, and allocation from them. The database guarantees that no
// prefix or address is handed out twice (primary key + exclusion constraint on
// hnp_assignments, unique ipv4_hoa); allocation serialises per pool with a row lock.
import type { Queryable } from '../db.ts';
import { ConflictError, InvalidError, NotFoundError, translatePgError } from '../errors.ts';
import type { PoolInput } from '../../policy/validate.ts';
import { bigIntToIpv4, parsePrefix, prefixToString, subPrefix, subPrefixCount, type Prefix } from '../../util/ip.ts';
import { audit, type Actor } from './audit.ts';

export interface Pool {
  id: number;
  name: string;
  family: 4 | 6;
  prefix: string;
  assignLength: number;
  ipv4Gateway: string | null;
  size: string;
  used: number;
  createdAt: Date;
}

interface PoolRow {
  id: bigint;
  name: string;
  family: number;
  prefix: string;
  assign_length: number;
  ipv4_gateway: string | null;
  next_index: bigint;
  used: bigint;
  created_at: Date;
}

const SELECT = `SELECT p.id, p.name, p.family, p.prefix::text AS prefix, p.assign_length, host(p.ipv4_gateway) AS ipv4_gateway,
  p.next_index, p.created_at,
  CASE p.family WHEN 6 THEN (SELECT count(*) FROM hnp_assignments h WHERE h.pool_id = p.id)
                ELSE (SELECT count(*) FROM profiles r WHERE r.ipv4_pool_id = p.id) END AS used
  FROM pools p`;

function toPool(r: PoolRow): Pool {
  const pfx = parsePrefix(r.prefix);
  let size = pfx.ok ? subPrefixCount(pfx.value, r.assign_length) : 0n;
  if (r.family === 4 && pfx.ok && pfx.value.length < 31) size -= 2n; // network and broadcast
  return {
    id: Number(r.id),
    name: r.name,
    family: r.family as 4 | 6,
    prefix: r.prefix,
    assignLength: r.assign_length,
    ipv4Gateway: r.ipv4_gateway,
    size: size.toString(),
    used: Number(r.used),
    createdAt: r.created_at,
  };
}

export async function createPool(q: Queryable, input: PoolInput, actor: Actor): Promise<Pool> {
  try {
    const r = await q.query<{ id: bigint }>(
      `INSERT INTO pools (name, family, prefix, assign_length, ipv4_gateway) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [input.name, input.family, input.prefix, input.assignLength, input.ipv4Gateway],
    );
    const pool = await getPoolById(q, Number(r.rows[0].id));
    await audit(q, actor, 'create', 'pool', input.name, null, pool);
    return pool;
  } catch (e) {
    throw translatePgError(e);
  }
}

export async function getPoolById(q: Queryable, id: number): Promise<Pool> {
  const r = await q.query<PoolRow>(`${SELECT} WHERE p.id = $1`, [id]);
  if (!r.rows[0]) throw new NotFoundError('pool', String(id));
  return toPool(r.rows[0]);
}

export async function getPool(q: Queryable, name: string): Promise<Pool> {
  const r = await q.query<PoolRow>(`${SELECT} WHERE p.name = $1`, [name]);
  if (!r.rows[0]) throw new NotFoundError('pool', name);
  return toPool(r.rows[0]);
}

export async function listPools(q: Queryable): Promise<Pool[]> {
  return (await q.query<PoolRow>(`${SELECT} ORDER BY p.name`)).rows.map(toPool);
}

export async function deletePool(q: Queryable, name: string, actor: Actor): Promise<void> {
  const before = await getPool(q, name);
  if (before.used > 0) throw new ConflictError('name', `pool ${name} still has ${before.used} assignments`);
  try {
    await q.query(`DELETE FROM pools WHERE id = $1`, [before.id]);
  } catch (e) {
    throw translatePgError(e);
  }
  await audit(q, actor, 'delete', 'pool', name, before, null);
}

interface LockedPool {
  id: bigint;
  family: number;
  prefix: string;
  assign_length: number;
  next_index: bigint;
}

/** Locks the pool row for this transaction: allocations from one pool take turns. NO KEY
 * UPDATE, because inserting a profile that references the pool holds KEY SHARE on it. */
async function lockPool(tx: Queryable, name: string, family: 4 | 6, field: string): Promise<LockedPool & { pfx: Prefix }> {
  const r = await tx.query<LockedPool>(
    `SELECT id, family, prefix::text AS prefix, assign_length, next_index FROM pools WHERE name = $1 FOR NO KEY UPDATE`,
    [name],
  );
  const row = r.rows[0];
  if (!row) throw new InvalidError(field, `pool ${JSON.stringify(name)} does not exist`);
  if (row.family !== family) throw new InvalidError(field, `pool ${name} is an IPv${row.family} pool`);
  const pfx = parsePrefix(row.prefix);
  if (!pfx.ok) throw new Error(`pool ${name} holds a bad prefix ${row.prefix}`);
  return { ...row, pfx: pfx.value };
}

/**
 * Draws the next free index from a pool: first from the pool's cursor onwards, then
 * (when the cursor has run past the end) from the lowest gap. `taken(index)` tells
 * whether a candidate is already in use (by this pool or, for HNPs, by a fixed prefix).
 */
async function drawIndex(
  tx: Queryable,
  pool: LockedPool & { pfx: Prefix },
  first: bigint,
  last: bigint,
  taken: (idx: bigint) => Promise<boolean>,
  field: string,
  poolName: string,
): Promise<bigint> {
  const MAX_PROBES = 4096;
  let idx = pool.next_index < first ? first : pool.next_index;
  for (let probes = 0; idx <= last && probes < MAX_PROBES; probes++, idx++) {
    if (!(await taken(idx))) return idx;
  }
  // Wrap around: look for the lowest index not used by this pool.
  const gap = await tx.query<{ idx: bigint }>(
    pool.family === 6
      ? `SELECT s.i AS idx FROM (SELECT $2::bigint AS i UNION ALL SELECT pool_index + 1 FROM hnp_assignments WHERE pool_id = $1) s
         WHERE s.i <= $3 AND NOT EXISTS (SELECT 1 FROM hnp_assignments h WHERE h.pool_id = $1 AND h.pool_index = s.i)
         ORDER BY s.i LIMIT 64`
      : `SELECT s.i AS idx FROM (SELECT $2::bigint AS i UNION ALL SELECT ipv4_pool_index + 1 FROM profiles WHERE ipv4_pool_id = $1) s
         WHERE s.i <= $3 AND NOT EXISTS (SELECT 1 FROM profiles p WHERE p.ipv4_pool_id = $1 AND p.ipv4_pool_index = s.i)
         ORDER BY s.i LIMIT 64`,
    [pool.id, first, last],
  );
  for (const g of gap.rows) if (!(await taken(g.idx))) return g.idx;
  throw new InvalidError(field, `pool ${poolName} is exhausted`);
}

/** Allocates `count` home network prefixes for a profile from an IPv6 pool (RFC 5213 §5.3.2 "allocate"). */
export async function allocateHnps(tx: Queryable, poolName: string, profileId: number, count: number, startPosition = 0): Promise<string[]> {
  const pool = await lockPool(tx, poolName, 6, 'hnpPool');
  const last = subPrefixCount(pool.pfx, pool.assign_length) - 1n;
  const out: string[] = [];
  let next = pool.next_index;
  for (let i = 0; i < count; i++) {
    const idx = await drawIndex(
      tx,
      { ...pool, next_index: next },
      0n,
      last,
      async (k) => {
        const p = prefixToString(subPrefix(pool.pfx, pool.assign_length, k));
        const r = await tx.query(`SELECT 1 FROM hnp_assignments WHERE prefix && $1::cidr LIMIT 1`, [p]);
        return r.rows.length > 0;
      },
      'hnpPool',
      poolName,
    );
    const prefix = prefixToString(subPrefix(pool.pfx, pool.assign_length, idx));
    await tx.query(
      `INSERT INTO hnp_assignments (prefix, profile_id, pool_id, pool_index, position) VALUES ($1, $2, $3, $4, $5)`,
      [prefix, profileId, pool.id, idx, startPosition + i],
    );
    out.push(prefix);
    next = idx + 1n;
  }
  await tx.query(`UPDATE pools SET next_index = $2 WHERE id = $1`, [pool.id, next]);
  return out;
}

/** Allocates an IPv4 home address from an address pool (RFC 5844 §3.1.2.1 "allocate"). */
export async function allocateIpv4(tx: Queryable, poolName: string): Promise<{ address: string; index: bigint; poolId: bigint; prefixLength: number; gateway: string | null }> {
  const pool = await lockPool(tx, poolName, 4, 'ipv4Pool');
  const gw = (await tx.query<{ gw: string | null }>(`SELECT host(ipv4_gateway) AS gw FROM pools WHERE id = $1`, [pool.id])).rows[0]?.gw ?? null;
  const n = subPrefixCount(pool.pfx, 32);
  const small = pool.pfx.length >= 31;
  const first = small ? 0n : 1n; // skip the network address
  const last = small ? n - 1n : n - 2n; // and the broadcast address
  const idx = await drawIndex(
    tx,
    pool,
    first,
    last,
    async (k) => {
      const a = bigIntToIpv4(pool.pfx.value + k);
      if (a === gw) return true;
      const r = await tx.query(`SELECT 1 FROM profiles WHERE ipv4_hoa = $1::inet LIMIT 1`, [a]);
      return r.rows.length > 0;
    },
    'ipv4Pool',
    poolName,
  );
  await tx.query(`UPDATE pools SET next_index = $2 WHERE id = $1`, [pool.id, idx + 1n]);
  return { address: bigIntToIpv4(pool.pfx.value + idx), index: idx, poolId: pool.id, prefixLength: pool.pfx.length, gateway: gw };
}
