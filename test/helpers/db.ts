// Test databases: a fresh PostgreSQL database per test file on 127.0.0.1:5432 (created
// and dropped here), and an in-memory PGlite. Repository tests run against both.
import { randomBytes } from 'node:crypto';
import { openPostgres } from '../../src/store/pg.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { migrate } from '../../src/store/migrate.ts';
import type { Db } from '../../src/store/db.ts';

export const PG_ADMIN_URL = process.env.PMIP6_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function pgUrlFor(name: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

export interface TestDb {
  kind: 'postgres' | 'pglite';
  db: Db;
  /** postgres:// URL of the test database (PostgreSQL only). */
  url?: string;
  drop(): Promise<void>;
}

/** Creates an empty PostgreSQL database; `drop` closes connections and removes it. */
export async function createPgDatabase(prefix = 'pmip6_test'): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = await openPostgres(PG_ADMIN_URL, { max: 1 });
  await admin.exec(`CREATE DATABASE ${name}`);
  await admin.close();
  return {
    name,
    url: pgUrlFor(name),
    async drop() {
      const a = await openPostgres(PG_ADMIN_URL, { max: 1 });
      await a.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.close();
    },
  };
}

export async function openTestDb(kind: 'postgres' | 'pglite', opts: { migrate?: boolean } = {}): Promise<TestDb> {
  if (kind === 'pglite') {
    const db = await openPglite();
    if (opts.migrate !== false) await migrate(db);
    return { kind, db, drop: () => db.close() };
  }
  const created = await createPgDatabase();
  const db = await openPostgres(created.url);
  if (opts.migrate !== false) await migrate(db);
  return {
    kind,
    db,
    url: created.url,
    async drop() {
      await db.close().catch(() => undefined);
      await created.drop();
    },
  };
}

export const DB_KINDS = ['pglite', 'postgres'] as const;
