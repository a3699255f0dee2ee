// LMAs known to the policy store: addresses, FQDN, group, weight, administrative state
// (RFC 6097 discovery and selection read these).
import type { Db, Queryable } from '../db.ts';
import { NotFoundError, translatePgError } from '../errors.ts';
import type { LmaInput } from '../../policy/validate.ts';
import { audit, type Actor } from './audit.ts';

export interface Lma {
  id: number;
  name: string;
  ipv6Address: string | null;
  ipv4Address: string | null;
  fqdn: string | null;
  group: string | null;
  weight: number;
  adminState: 'up' | 'down' | 'drain';
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  id: bigint;
  name: string;
  ipv6_address: string | null;
  ipv4_address: string | null;
  fqdn: string | null;
  lma_group: string | null;
  weight: number;
  admin_state: Lma['adminState'];
  created_at: Date;
  updated_at: Date;
}

const SELECT = `SELECT id, name, host(ipv6_address) AS ipv6_address, host(ipv4_address) AS ipv4_address, fqdn, lma_group,
  weight, admin_state, created_at, updated_at FROM lmas`;

const toLma = (r: Row): Lma => ({
  id: Number(r.id),
  name: r.name,
  ipv6Address: r.ipv6_address,
  ipv4Address: r.ipv4_address,
  fqdn: r.fqdn,
  group: r.lma_group,
  weight: r.weight,
  adminState: r.admin_state,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

async function getIn(q: Queryable, name: string): Promise<Lma | null> {
  const r = await q.query<Row>(`${SELECT} WHERE name = $1`, [name]);
  return r.rows[0] ? toLma(r.rows[0]) : null;
}

export class LmaRepo {
  constructor(private readonly db: Db) {}

  async create(i: LmaInput, actor: Actor): Promise<Lma> {
    try {
      return await this.db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO lmas (name, ipv6_address, ipv4_address, fqdn, lma_group, weight, admin_state) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [i.name, i.ipv6Address, i.ipv4Address, i.fqdn, i.group, i.weight, i.adminState],
        );
        const l = (await getIn(tx, i.name))!;
        await audit(tx, actor, 'create', 'lma', i.name, null, l);
        return l;
      });
    } catch (e) {
      throw translatePgError(e);
    }
  }

  async get(name: string): Promise<Lma> {
    const l = await getIn(this.db, name);
    if (!l) throw new NotFoundError('lma', name);
    return l;
  }

  /** Replaces every field but the name. */
  async update(name: string, i: LmaInput, actor: Actor): Promise<Lma> {
    try {
      return await this.db.transaction(async (tx) => {
        const before = await getIn(tx, name);
        if (!before) throw new NotFoundError('lma', name);
        await tx.query(
          `UPDATE lmas SET name = $2, ipv6_address = $3, ipv4_address = $4, fqdn = $5, lma_group = $6, weight = $7, admin_state = $8, updated_at = now() WHERE name = $1`,
          [name, i.name, i.ipv6Address, i.ipv4Address, i.fqdn, i.group, i.weight, i.adminState],
        );
        const after = (await getIn(tx, i.name))!;
        await audit(tx, actor, 'update', 'lma', name, before, after);
        return after;
      });
    } catch (e) {
      throw translatePgError(e);
    }
  }

  async delete(name: string, actor: Actor): Promise<void> {
    await this.db.transaction(async (tx) => {
      const before = await getIn(tx, name);
      if (!before) throw new NotFoundError('lma', name);
      await tx.query(`DELETE FROM lmas WHERE name = $1`, [name]);
      await audit(tx, actor, 'delete', 'lma', name, before, null);
    });
  }

  async list(f: { group?: string; adminState?: string; limit?: number; offset?: number } = {}): Promise<{ items: Lma[]; total: number }> {
    const vals = [f.group ?? null, f.adminState ?? null];
    const w = `WHERE ($1::text IS NULL OR lma_group = $1) AND ($2::text IS NULL OR admin_state = $2)`;
    const total = await this.db.query<{ n: bigint }>(`SELECT count(*) AS n FROM lmas ${w}`, vals);
    const r = await this.db.query<Row>(`${SELECT} ${w} ORDER BY name LIMIT $3 OFFSET $4`, [...vals, f.limit ?? 50, f.offset ?? 0]);
    return { items: r.rows.map(toLma), total: Number(total.rows[0].n) };
  }
}
