// MAGs the LMA accepts proxy registrations from (RFC 5213 §5.3.1 check 5-6: a PBU from a
// MAG that is not authorised gets status 154), keyed by their Proxy-CoA addresses.
import type { Db, Queryable } from '../db.ts';
import { NotFoundError, translatePgError } from '../errors.ts';
import type { MagInput } from '../../policy/validate.ts';
import { audit, type Actor } from './audit.ts';

export interface Mag {
  id: string;
  proxyCoa: string[];
  authorized: boolean;
  description: string | null;
  /** RFC 5213 §4 scope; null = every provisioned MN. */
  scope: MagScopeRow | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface MagScopeRow {
  realms: string[];
  mnIds: string[];
  prefixes: string[];
}

interface Row {
  id: string;
  authorized: boolean;
  description: string | null;
  mn_scope: MagScopeRow | null;
  created_at: Date;
  updated_at: Date;
  coas: string[] | null;
}

const SELECT = `SELECT m.id, m.authorized, m.description, m.mn_scope, m.created_at, m.updated_at,
  (SELECT array_agg(host(c.address) ORDER BY c.position) FROM mag_proxy_coas c WHERE c.mag_id = m.id) AS coas FROM mags m`;

const toMag = (r: Row): Mag => ({
  id: r.id,
  proxyCoa: r.coas ?? [],
  authorized: r.authorized,
  description: r.description,
  scope: r.mn_scope ?? null,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

async function getIn(q: Queryable, id: string): Promise<Mag | null> {
  const r = await q.query<Row>(`${SELECT} WHERE m.id = $1`, [id]);
  return r.rows[0] ? toMag(r.rows[0]) : null;
}

async function setCoas(q: Queryable, id: string, coas: string[]): Promise<void> {
  await q.query(`DELETE FROM mag_proxy_coas WHERE mag_id = $1`, [id]);
  for (let i = 0; i < coas.length; i++) {
    await q.query(`INSERT INTO mag_proxy_coas (address, mag_id, position) VALUES ($1, $2, $3)`, [coas[i], id, i]);
  }
}

const scopeJson = (i: MagInput): string | null => (i.scope ? JSON.stringify(i.scope) : null);

export class MagRepo {
  constructor(private readonly db: Db) {}

  async create(i: MagInput, actor: Actor): Promise<Mag> {
    try {
      return await this.db.transaction(async (tx) => {
        await tx.query(`INSERT INTO mags (id, authorized, description, mn_scope) VALUES ($1, $2, $3, $4::jsonb)`, [i.id, i.authorized, i.description, scopeJson(i)]);
        await setCoas(tx, i.id, i.proxyCoa);
        const m = (await getIn(tx, i.id))!;
        await audit(tx, actor, 'create', 'mag', i.id, null, m);
        return m;
      });
    } catch (e) {
      throw translatePgError(e);
    }
  }

  async get(id: string): Promise<Mag> {
    const m = await getIn(this.db, id);
    if (!m) throw new NotFoundError('mag', id);
    return m;
  }

  /** The MAG owning a Proxy-CoA, or null: the LMA's authorisation lookup. */
  async findByProxyCoa(address: string): Promise<Mag | null> {
    const r = await this.db.query<Row>(`${SELECT} WHERE m.id = (SELECT mag_id FROM mag_proxy_coas WHERE address = $1::inet)`, [address]);
    return r.rows[0] ? toMag(r.rows[0]) : null;
  }

  async update(id: string, i: MagInput, actor: Actor): Promise<Mag> {
    try {
      return await this.db.transaction(async (tx) => {
        const before = await getIn(tx, id);
        if (!before) throw new NotFoundError('mag', id);
        await tx.query(`UPDATE mags SET authorized = $2, description = $3, mn_scope = $4::jsonb, updated_at = now() WHERE id = $1`, [id, i.authorized, i.description, scopeJson(i)]);
        await setCoas(tx, id, i.proxyCoa);
        const after = (await getIn(tx, id))!;
        await audit(tx, actor, 'update', 'mag', id, before, after);
        return after;
      });
    } catch (e) {
      throw translatePgError(e);
    }
  }

  async delete(id: string, actor: Actor): Promise<void> {
    await this.db.transaction(async (tx) => {
      const before = await getIn(tx, id);
      if (!before) throw new NotFoundError('mag', id);
      await tx.query(`DELETE FROM mags WHERE id = $1`, [id]);
      await audit(tx, actor, 'delete', 'mag', id, before, null);
    });
  }

  /** Every MAG with its Proxy-CoAs (the LMA's in-memory MAG table, src/store/peer-directory.ts). */
  async all(): Promise<Mag[]> {
    const r = await this.db.query<Row>(`${SELECT} ORDER BY m.id`);
    return r.rows.map(toMag);
  }

  async list(f: { authorized?: boolean; limit?: number; offset?: number } = {}): Promise<{ items: Mag[]; total: number }> {
    const vals = [f.authorized ?? null];
    const w = `WHERE ($1::boolean IS NULL OR m.authorized = $1)`;
    const total = await this.db.query<{ n: bigint }>(`SELECT count(*) AS n FROM mags m ${w}`, vals);
    const r = await this.db.query<Row>(`${SELECT} ${w} ORDER BY m.id LIMIT $2 OFFSET $3`, [...vals, f.limit ?? 50, f.offset ?? 0]);
    return { items: r.rows.map(toMag), total: Number(total.rows[0].n) };
  }
}
