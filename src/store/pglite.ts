// Embedded PostgreSQL (PGlite) in a data folder: the default store when no DATABASE_URL
// is given. PGlite is a single session, so every query and transaction takes a mutex
// (otherwise one transaction's ROLLBACK could undo another's insert).
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { DbUnavailableError, Mutex, type Db, type Queryable, type QueryResult } from './db.ts';

const INT8 = 20;

/**
 * PGlite runs each query synchronously inside WebAssembly and resolves at once, so a chain
 * of queries (a bulk import, a write-behind flush) would never let the event loop read its
 * sockets. Every few milliseconds of such a chain we give the loop one turn.
 */
const SLICE_MS = 4;
let sliceStart = performance.now();
async function fairTurn(): Promise<void> {
  if (performance.now() - sliceStart < SLICE_MS) return;
  await new Promise<void>((r) => setImmediate(r));
  sliceStart = performance.now();
}

/** dataDir undefined = in memory (tests). */
export async function openPglite(dataDir?: string): Promise<Db> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const pgl = new PGlite({ dataDir, parsers: { [INT8]: (v: string) => BigInt(v) } });
  await pgl.waitReady;
  const lock = new Mutex();
  let closed = false;
  const raw: Queryable = {
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      await fairTurn();
      const r = await pgl.query<T>(sql, params as unknown[]);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    },
    async exec(sql) {
      await fairTurn();
      await pgl.exec(sql);
    },
  };
  const guard = () => {
    if (closed) throw new DbUnavailableError(new Error('PGlite is closed'));
  };
  return {
    kind: 'pglite',
    query<T>(sql: string, params?: unknown[]) {
      guard();
      return lock.run(() => raw.query<T>(sql, params));
    },
    exec(sql) {
      guard();
      return lock.run(() => raw.exec(sql));
    },
    transaction(fn) {
      guard();
      return lock.run(async () => {
        await raw.exec('BEGIN');
        try {
          const out = await fn(raw);
          await raw.exec('COMMIT');
          return out;
        } catch (e) {
          await raw.exec('ROLLBACK').catch(() => undefined);
          throw e;
        }
      });
    },
    async ping() {
      guard();
      await lock.run(() => raw.query('SELECT 1'));
    },
    async listen(channel, onPayload) {
      guard();
      const stop = await lock.run(() => pgl.listen(channel, onPayload));
      return async () => {
        if (!closed) await lock.run(() => stop());
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      await lock.run(() => pgl.close());
    },
  };
}
