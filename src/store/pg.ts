// PostgreSQL through a `pg` pool. Connection loss is reported as DbUnavailableError and the
// pool reconnects by itself on the next query, so the API recovers when the database returns.
import pg from 'pg';
import { CopyFromStdin } from './pg-copy.ts';
import { DbUnavailableError, isUnavailable, type Db, type Queryable, type QueryResult } from './db.ts';
import { logger } from '../util/log.ts';

const INT8 = 20;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8) return (v: string) => BigInt(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/**
 * Parameterised statements are prepared once per connection under a name derived from
 * their text: a profile lookup otherwise spends most of its time in the planner.
 */
const statementNames = new Map<string, string>();
function named(sql: string, params?: unknown[]): pg.QueryConfig | string {
  if (!params || params.length === 0) return sql;
  let name = statementNames.get(sql);
  if (!name) {
    name = `pmip6_${statementNames.size}`;
    statementNames.set(sql, name);
  }
  return { name, text: sql, values: params };
}

function wrap(e: unknown): unknown {
  return isUnavailable(e) ? new DbUnavailableError(e) : e;
}

export interface PgOptions {
  max?: number;
  connectionTimeoutMillis?: number;
  /** Session settings of every connection (libpq `options`, e.g. "-c synchronous_commit=off"). */
  options?: string;
}

export async function openPostgres(url: string, opts: PgOptions = {}): Promise<Db> {
  const log = logger('store');
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 3000,
    idleTimeoutMillis: 30000,
    types,
    ...(opts.options ? { options: opts.options } : {}),
  });
  // An idle client losing its connection must not crash the process (pg emits 'error').
  pool.on('error', (e) => log.warn({ err: e.message }, 'postgres connection lost; will reconnect on next use'));
  const query = async <T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> => {
    try {
      const r = await pool.query(named(sql, params) as pg.QueryConfig);
      return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
    } catch (e) {
      throw wrap(e);
    }
  };
  const db: Db = {
    kind: 'postgres',
    query,
    async exec(sql) {
      await query(sql);
    },
    async transaction(fn) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        throw wrap(e);
      }
      const tx: Queryable = {
        async query<T>(sql: string, params?: unknown[]) {
          try {
            const r = await client.query(named(sql, params) as pg.QueryConfig);
            return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
          } catch (e) {
            throw wrap(e);
          }
        },
        async exec(sql) {
          try {
            await client.query(sql);
          } catch (e) {
            throw wrap(e);
          }
        },
      };
      let broken = false;
      try {
        await tx.exec('BEGIN');
        const out = await fn(tx);
        await tx.exec('COMMIT');
        return out;
      } catch (e) {
        broken = isUnavailable(e);
        if (!broken) await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release(broken ? true : undefined);
      }
    },
    async ping() {
      await query('SELECT 1');
    },
    async copyFrom(sql, data) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        throw wrap(e);
      }
      let broken = false;
      try {
        const copy = new CopyFromStdin(sql, data);
        await new Promise<void>((resolve, reject) => {
          client.query(copy as unknown as pg.QueryConfig, ((e: Error | null) => (e ? reject(e) : resolve())) as never);
        });
        return copy.rowCount;
      } catch (e) {
        broken = isUnavailable(e);
        throw wrap(e);
      } finally {
        client.release(broken ? true : undefined);
      }
    },
    async close() {
      await pool.end();
    },
  };
  return db;
}
