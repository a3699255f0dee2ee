// The policy store: opens PostgreSQL (DATABASE_URL) or embedded PGlite (dataDir), runs
// the migrations, and hands out the repositories.
import { join } from 'node:path';
import type { Db } from './db.ts';
import { openPostgres } from './pg.ts';
import { openPglite } from './pglite.ts';
import { migrate } from './migrate.ts';
import { ProfileRepo } from './repos/profiles.ts';
import { LmaRepo } from './repos/lmas.ts';
import { MagRepo } from './repos/mags.ts';
import { AaaClientRepo } from './repos/aaa-clients.ts';
import { AccountingRepo } from './repos/accounting.ts';
import { BindingRepo } from './repos/bindings.ts';
import { lockDataDir } from './lock.ts';
import { waitForDatabase } from './connect.ts';
import type { SecretBox } from './secret-box.ts';

export type { Db } from './db.ts';

export interface Store {
  db: Db;
  profiles: ProfileRepo;
  lmas: LmaRepo;
  mags: MagRepo;
  aaaClients: AaaClientRepo;
  accounting: AccountingRepo;
  bindings: BindingRepo;
  close(): Promise<void>;
}

/** `secrets`: seals AAA shared secrets at rest (default: a key of this process only). */
export function storeOn(db: Db, o: { secrets?: SecretBox } = {}): Store {
  return {
    db,
    profiles: new ProfileRepo(db),
    lmas: new LmaRepo(db),
    mags: new MagRepo(db),
    aaaClients: new AaaClientRepo(db, o.secrets),
    accounting: new AccountingRepo(db),
    bindings: new BindingRepo(db),
    close: () => db.close(),
  };
}

export interface OpenStoreOptions {
  /** postgres://... ; empty = PGlite in dataDir. */
  databaseUrl?: string;
  dataDir?: string;
  /** Run pending migrations (default true). */
  migrate?: boolean;
  /** PostgreSQL: how long to wait for the database to answer before giving up, ms (default 0: one try). */
  connectTimeoutMs?: number;
  /** Seals AAA shared secrets at rest (main: the key from security.secretKey or its file). */
  secrets?: SecretBox;
  /** Embedded store: PostgreSQL shared_buffers (default 16MB). */
  embeddedSharedBuffers?: string;
}

export async function openDb(opts: OpenStoreOptions): Promise<Db> {
  if (opts.databaseUrl) {
    const db = await openPostgres(opts.databaseUrl);
    try {
      await waitForDatabase(db, opts.databaseUrl, opts.connectTimeoutMs ?? 0);
    } catch (e) {
      await db.close().catch(() => undefined);
      throw e;
    }
    return db;
  }
  if (!opts.dataDir) return openPglite();
  const release = lockDataDir(opts.dataDir);
  try {
    const db = await openPglite(join(opts.dataDir, 'pglite'), { sharedBuffers: opts.embeddedSharedBuffers });
    const close = db.close.bind(db);
    return Object.assign(db, {
      async close() {
        await close();
        release();
      },
    });
  } catch (e) {
    release();
    throw e;
  }
}

export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const db = await openDb(opts);
  try {
    if (opts.migrate !== false) await migrate(db);
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e;
  }
  return storeOn(db, { secrets: opts.secrets });
}
