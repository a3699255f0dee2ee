// Audit log of operator changes (who, what, before, after). Written in the same
// transaction as the change, so a change and its record land together or not at all.
import type { Queryable } from '../db.ts';

/** Who made a change: "api:<token name>", "cli", "import", "system". */
export type Actor = string;

const SECRET_KEYS = new Set(['secret', 'token', 'password']);

/** JSON for the audit log: bigints as strings, secrets redacted. */
export function auditJson(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return JSON.stringify(v, (k, val) => {
    if (SECRET_KEYS.has(k)) return val ? '[redacted]' : val;
    if (typeof val === 'bigint') return val.toString();
    return val;
  });
}

export async function audit(
  q: Queryable,
  actor: Actor,
  action: 'create' | 'update' | 'delete' | 'import',
  resource: string,
  resourceId: string | null,
  before: unknown,
  after: unknown,
): Promise<void> {
  await q.query(
    `INSERT INTO audit_log (actor, action, resource, resource_id, before, after) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)`,
    [actor, action, resource, resourceId, auditJson(before), auditJson(after)],
  );
}

export interface AuditEntry {
  id: number;
  at: Date;
  actor: string;
  action: string;
  resource: string;
  resourceId: string | null;
  before: unknown;
  after: unknown;
}

export async function countAudit(q: Queryable, opts: { resource?: string; resourceId?: string } = {}): Promise<number> {
  const r = await q.query<{ n: bigint }>(
    `SELECT count(*) AS n FROM audit_log WHERE ($1::text IS NULL OR resource = $1) AND ($2::text IS NULL OR resource_id = $2)`,
    [opts.resource ?? null, opts.resourceId ?? null],
  );
  return Number(r.rows[0].n);
}

export async function listAudit(q: Queryable, opts: { resource?: string; resourceId?: string; limit?: number; offset?: number } = {}): Promise<AuditEntry[]> {
  const r = await q.query<{ id: bigint; at: Date; actor: string; action: string; resource: string; resource_id: string | null; before: unknown; after: unknown }>(
    `SELECT id, at, actor, action, resource, resource_id, before, after FROM audit_log
     WHERE ($1::text IS NULL OR resource = $1) AND ($2::text IS NULL OR resource_id = $2)
     ORDER BY id DESC LIMIT $3 OFFSET $4`,
    [opts.resource ?? null, opts.resourceId ?? null, opts.limit ?? 100, opts.offset ?? 0],
  );
  return r.rows.map((x) => ({ id: Number(x.id), at: x.at, actor: x.actor, action: x.action, resource: x.resource, resourceId: x.resource_id, before: x.before, after: x.after }));
}
