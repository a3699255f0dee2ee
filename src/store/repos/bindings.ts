// Bindings an LMA writes behind to the store, for restart recovery (docs/ARCHITECTURE.md
// "Scale-out": each LMA owns its binding cache in memory and persists it here).
import type { Db } from '../db.ts';

export interface PersistedBinding {
  lmaId: string;
  sessionKey: string;
  mnId: string;
  mnLlId: string | null;
  att: number | null;
  proxyCoa: string;
  hnps: string[];
  ipv4HoA: string | null;
  lifetimeS: number;
  registeredAt: Date;
  expiresAt: Date;
  /** Other BCE fields (timestamps, GRE keys, sequence numbers). */
  state: Record<string, unknown>;
}

interface Row {
  lma_id: string;
  session_key: string;
  mn_id: string;
  mn_ll_id: string | null;
  att: number | null;
  proxy_coa: string;
  hnps: string[];
  ipv4_hoa: string | null;
  lifetime_s: number;
  registered_at: Date;
  expires_at: Date;
  state: Record<string, unknown>;
}

const toBinding = (r: Row): PersistedBinding => ({
  lmaId: r.lma_id,
  sessionKey: r.session_key,
  mnId: r.mn_id,
  mnLlId: r.mn_ll_id,
  att: r.att,
  proxyCoa: r.proxy_coa,
  hnps: r.hnps ?? [],
  ipv4HoA: r.ipv4_hoa,
  lifetimeS: r.lifetime_s,
  registeredAt: r.registered_at,
  expiresAt: r.expires_at,
  state: r.state ?? {},
});

const SELECT = `SELECT lma_id, session_key, mn_id, mn_ll_id, att, host(proxy_coa) AS proxy_coa, hnps::text[] AS hnps,
  host(ipv4_hoa) AS ipv4_hoa, lifetime_s, registered_at, expires_at, state FROM bindings`;

export class BindingRepo {
  constructor(private readonly db: Db) {}

  async upsert(b: PersistedBinding): Promise<void> {
    await this.db.query(
      `INSERT INTO bindings (lma_id, session_key, mn_id, mn_ll_id, att, proxy_coa, hnps, ipv4_hoa, lifetime_s, registered_at, expires_at, state, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::cidr[], $8, $9, $10, $11, $12::jsonb, now())
       ON CONFLICT (lma_id, session_key) DO UPDATE SET mn_id = EXCLUDED.mn_id, mn_ll_id = EXCLUDED.mn_ll_id, att = EXCLUDED.att,
         proxy_coa = EXCLUDED.proxy_coa, hnps = EXCLUDED.hnps, ipv4_hoa = EXCLUDED.ipv4_hoa, lifetime_s = EXCLUDED.lifetime_s,
         registered_at = EXCLUDED.registered_at, expires_at = EXCLUDED.expires_at, state = EXCLUDED.state, updated_at = now()`,
      [b.lmaId, b.sessionKey, b.mnId, b.mnLlId, b.att, b.proxyCoa, b.hnps, b.ipv4HoA, b.lifetimeS, b.registeredAt, b.expiresAt, JSON.stringify(b.state)],
    );
  }

  async remove(lmaId: string, sessionKey: string): Promise<void> {
    await this.db.query(`DELETE FROM bindings WHERE lma_id = $1 AND session_key = $2`, [lmaId, sessionKey]);
  }

  /** Bindings of one LMA that have not expired, for recovery at start. */
  async loadLive(lmaId: string, now = new Date()): Promise<PersistedBinding[]> {
    const r = await this.db.query<Row>(`${SELECT} WHERE lma_id = $1 AND expires_at > $2 ORDER BY registered_at`, [lmaId, now]);
    return r.rows.map(toBinding);
  }

  async list(f: { lmaId?: string; mnId?: string; limit?: number; offset?: number } = {}): Promise<{ items: PersistedBinding[]; total: number }> {
    const vals = [f.lmaId ?? null, f.mnId ?? null];
    const w = `WHERE ($1::text IS NULL OR lma_id = $1) AND ($2::text IS NULL OR mn_id = $2)`;
    const total = await this.db.query<{ n: bigint }>(`SELECT count(*) AS n FROM bindings ${w}`, vals);
    const r = await this.db.query<Row>(`${SELECT} ${w} ORDER BY mn_id, session_key LIMIT $3 OFFSET $4`, [...vals, f.limit ?? 50, f.offset ?? 0]);
    return { items: r.rows.map(toBinding), total: Number(total.rows[0].n) };
  }
}
