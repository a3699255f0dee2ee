// Profile lookups per second by MN identifier with 100,000 profiles (each with one HNP),
// on PostgreSQL and on PGlite, against a baseline in the same run: a bare primary-key
// SELECT of one narrow row through the same driver (the floor of a lookup round trip).
// Then the profile directory (src/store/profile-directory.ts) preloaded with every profile:
// its lookups (all hits, from memory) per second, and its heap bytes per profile (heapUsed
// after a full GC, before and after the preload).
import { openPostgres } from '../src/store/pg.ts';
import { openPglite } from '../src/store/pglite.ts';
import { migrate } from '../src/store/migrate.ts';
import { ProfileRepo } from '../src/store/repos/profiles.ts';
import type { Db } from '../src/store/db.ts';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ProfileDirectory } from '../src/store/profile-directory.ts';
import { createPgDatabase } from '../test/helpers/db.ts';

async function populate(db: Db, n: number): Promise<void> {
  await db.exec(`INSERT INTO profiles (mn_id, lma, ipv4_hoa, ipv4_prefix_length)
    SELECT 'mn' || i || '@bench.example', '2001:db8::1', ('10.0.0.0'::inet + i), 8 FROM generate_series(1, ${n}) AS i`);
  await db.exec(`INSERT INTO hnp_assignments (prefix, profile_id, position)
    SELECT ('2001:db8:' || to_hex(p.id >> 16) || ':' || to_hex(p.id & 65535) || '::/64')::cidr, p.id, 0 FROM profiles p`);
  await db.exec(`CREATE TABLE bench_baseline (k text PRIMARY KEY, v int)`);
  await db.exec(`INSERT INTO bench_baseline SELECT 'mn' || i || '@bench.example', i FROM generate_series(1, ${n}) AS i`);
  await db.exec('ANALYZE');
}

async function rate(durationMs: number, inFlight: number, n: number, op: (mnId: string) => Promise<unknown>): Promise<number> {
  let done = 0;
  const end = Date.now() + durationMs;
  let seed = 12345;
  // Math.imul keeps the LCG in 32 bits: `seed * 1103515245` in a double loses the low bits and
  // visits only a few thousand of the profiles.
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return `mn${(seed % n) + 1}@bench.example`;
  };
  const worker = async () => {
    while (Date.now() < end) {
      await op(next());
      done++;
    }
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: inFlight }, worker));
  return done / (Number(process.hrtime.bigint() - t0) / 1e9);
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function measureDirectory(label: string, db: Db, n: number, inFlight: number, ms: number, listenUrl?: string): Promise<void> {
  const before = heapAfterGc();
  const t0 = Date.now();
  const d = new ProfileDirectory({ db, profiles: new ProfileRepo(db) }, { mode: 'preload', listenUrl });
  await d.start();
  const loadMs = Date.now() - t0;
  const perProfile = (heapAfterGc() - before) / d.size.profiles;
  if (d.size.profiles !== n || !d.serving) throw new Error(`preload failed: ${d.size.profiles} profiles`);
  const misses = d.stats.misses;
  await rate(1000, inFlight, n, (k) => d.find(k)); // warm-up
  const hits = await rate(ms, inFlight, n, async (k) => {
    if (!(await d.find(k))) throw new Error(`missing ${k}`);
  });
  if (d.stats.misses !== misses) throw new Error('directory lookups went to the database');
  await d.close();
  process.stdout.write(
    `${label.padEnd(10)} profiles=${n} in-flight=${inFlight}  directory lookups/s (hit)=${hits.toFixed(0).padStart(9)}  preload ${loadMs} ms  heap/profile=${perProfile.toFixed(0)} B\n`,
  );
}

async function measure(label: string, db: Db, n: number, inFlight: number, ms: number): Promise<void> {
  const repo = new ProfileRepo(db);
  const check = await repo.find('mn7@bench.example');
  if (!check || check.hnps.length !== 1) throw new Error('population failed');
  await rate(1000, inFlight, n, (k) => repo.find(k)); // warm-up
  const base = await rate(ms, inFlight, n, (k) => db.query('SELECT v FROM bench_baseline WHERE k = $1', [k]));
  const ours = await rate(ms, inFlight, n, async (k) => {
    if (!(await repo.find(k))) throw new Error(`missing ${k}`);
  });
  process.stdout.write(
    `${label.padEnd(10)} profiles=${n} in-flight=${inFlight}  profile lookups/s=${ours.toFixed(0).padStart(7)}  baseline PK SELECT/s=${base.toFixed(0).padStart(7)}  ratio=${(ours / base).toFixed(2)}\n`,
  );
}

export async function run(args: string[]): Promise<void> {
  const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 100000);
  const ms = Number(process.env.BENCH_MS ?? 5000);
  const pg = await createPgDatabase('pmip6_bench');
  try {
    const db = await openPostgres(pg.url, { max: 16 });
    await migrate(db);
    let t = Date.now();
    await populate(db, n);
    process.stdout.write(`postgres: populated ${n} profiles in ${Date.now() - t} ms\n`);
    await measure('postgres', db, n, 32, ms);
    await measureDirectory('postgres', db, n, 32, ms, pg.url);
    await db.close();
    const lite = await openPglite();
    await migrate(lite);
    t = Date.now();
    await populate(lite, n);
    process.stdout.write(`pglite: populated ${n} profiles in ${Date.now() - t} ms\n`);
    await measure('pglite', lite, n, 1, ms);
    await measureDirectory('pglite', lite, n, 1, ms);
    await lite.close();
  } finally {
    await pg.drop();
  }
}
