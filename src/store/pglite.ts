// Embedded PostgreSQL (PGlite) in a data folder: the default store when no DATABASE_URL
// is given. PGlite is a single session, so every query and transaction takes a mutex
// (otherwise one transaction's ROLLBACK could undo another's insert).
//
// Memory: creating a data folder runs initdb in a second WebAssembly instance whose memory
// this process would keep for good (about 875 MB resident after a first start against about
// 340 MB after later ones), so a new folder is created by a short-lived child process; and
// PostgreSQL's shared_buffers (128 MB in PGlite's build, inside the WebAssembly heap) is set
// from `sharedBuffers` (store.embeddedSharedBuffers, default 16MB: the store is small and
// the operating system caches its files anyway).
//
// Durability: PGlite runs PostgreSQL with fsync off (its start parameters say -F, and its
// file system layer makes fdatasync a no-op), but every commit writes the WAL to the data
// folder's files before it returns. A committed transaction therefore survives the process
// being killed (kill -9, a crash): the kernel has the data. It may not survive a power loss
// or a kernel crash; deployments that need that use PostgreSQL.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
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

export interface PgliteOptions {
  /** PostgreSQL shared_buffers, e.g. "16MB" (PGlite's own default: 128MB). */
  sharedBuffers?: string;
}

export const DEFAULT_SHARED_BUFFERS = '16MB';

/** Creates a new data folder in a child process, so initdb's memory is not kept by this one. */
async function initInChild(dataDir: string): Promise<void> {
  // The package's CommonJS entry: resolvable the same way whether this module runs as ESM, under tsx or compiled.
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const script = `const { PGlite } = require(${JSON.stringify(entry)});
    (async () => { const pg = new PGlite({ dataDir: process.argv[1] }); await pg.waitReady; await pg.close(); })()
      .catch((e) => { console.error(e); process.exit(1); });`;
  await new Promise<void>((resolve, reject) => {
    let err = '';
    const c = spawn(process.execPath, ['-e', script, dataDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr!.on('data', (d) => (err += d));
    c.on('error', reject);
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`creating the embedded store in ${dataDir} failed (exit ${code}): ${err.slice(-2000)}`))));
  });
}

/** dataDir undefined = in memory (tests). */
export async function openPglite(dataDir?: string, o: PgliteOptions = {}): Promise<Db> {
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await initInChild(dataDir);
  }
  const sharedBuffers = o.sharedBuffers ?? DEFAULT_SHARED_BUFFERS;
  const pgl = new PGlite({
    dataDir,
    parsers: { [INT8]: (v: string) => BigInt(v) },
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffers}`],
  });
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
