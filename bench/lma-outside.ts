// `npm run bench -- lma [--bindings=100000] [--stores=postgres,pglite] [--window=64] [--rounds=4] [--full] [--cpu-prof]`
//   (PMIP6_LMA_UDP_BATCHED=false in the environment: the LMA on node:dgram instead of the addon's batched socket;
//   PMIP6_LMA_COMMIT_WAIT=server: PBAs once PostgreSQL holds the commit, not once it is on disk)
//
// The LMA as an operator runs it and as a MAG sees it (issue 12): `pmip6 start` with only the
// LMA role, in its own process, durable acknowledgements on (PBA 0 only once the binding is
// committed, src/lma/commit.ts), profiles provisioned in the policy store (PostgreSQL on
// 127.0.0.1:5432 in a database of its own, or PGlite in a data folder) and held by the profile
// directory (preload). The load comes from another process: a C generator (bench/c/mh-load.c,
// built here with cc) sending PBUs over IPv4/UDP (RFC 5844 §4) from the provisioned MAG's
// address with --window (default 64) outstanding, timing each PBU -> PBA. The baseline is a C
// echo responder (same program) on the same transport, driven by the same generator; the
// rounds alternate echo and LMA, and each ratio is the median of the per-round ratios,
// because the machine is shared.
//
// Reported per store and size: initial registrations (new bindings) and re-registrations,
// PBA/s, p50/p99 latency and the ratio to the echo; the LMA process's RSS with an empty store,
// after start (profiles preloaded) and with every binding, and from them the resident bytes per
// binding, including its share of the profile directory (VmRSS as ps shows it, read 1 s after
// the phase, and again as the median of five readings 1 s apart; nothing is asked of the LMA).
// Default: PostgreSQL, 100,000 MNs.
// --full: PostgreSQL and PGlite at 100,000 MNs and PostgreSQL at 1,000,000, six rounds. --cpu-prof: the LMA runs under `node --cpu-prof`
// and the self time of the initial and re-registration phases is summarised (bench/cpuprofile.ts).
// --heap-snapshot: a heap snapshot of the LMA with every binding, summarised by kind (bench/heapsnapshot.ts).
// --lma-node-args="--flag ...": extra node/V8 flags for the LMA process (A/B runs, e.g. GC tuning).
// Only the 1,000,000 memory figure on PostgreSQL: --bindings=1000000 --stores=postgres --rounds=1.
// "LMA CPU µs/PBA" (user + system time of the LMA process over the phase, per PBA) does not
// depend on how busy the shared machine is, unlike the rates: compare changes by it.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildLoadTool, cpuMsOf, freeUdpPort, generate, provision, rate, rssMedianOf, rssOf, startEcho, startLma, writeTemplates, type GenResult, type LmaProcess } from './lma-parts.ts';
import { summarise } from './cpuprofile.ts';
import { summariseHeap } from './heapsnapshot.ts';

const WARM = 2000;

/**
 * CPU of the PostgreSQL backends serving the bench's database (issue 12): user + system time
 * from /proc/<pid>/stat of every backend of that database (autovacuum workers included), over
 * a phase. Nothing of the binding store is deferred past a phase (src/store/repos/bindings.ts
 * writes `bindings` in the commit the PBA waits for). Not counted: the server's background processes (WAL writer, checkpointer, autovacuum).
 */
class PgCpu {
  private constructor(private readonly c: import('pg').Client) {}

  static async open(url: string): Promise<PgCpu | null> {
    if (!url) return null;
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    return new PgCpu(c);
  }

  /** CPU ms per backend pid of this database. */
  async sample(): Promise<Map<number, number>> {
    const r = await this.c.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`);
    const m = new Map<number, number>();
    for (const { pid } of r.rows) {
      try {
        m.set(pid, cpuMsOf(pid));
      } catch {
        // ended meanwhile
      }
    }
    return m;
  }

  /** CPU ms of the backends since `from`. */
  async since(from: Map<number, number>): Promise<number> {
    let ms = 0;
    for (const [pid, v] of await this.sample()) ms += v - (from.get(pid) ?? 0);
    return ms;
  }

  close(): Promise<void> {
    return this.c.end();
  }
}
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const MiB = (b: number): string => `${fmt(b / 1048576)} MiB`;

function opt(args: string[], name: string, dflt: string): string {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface StoreHandle {
  databaseUrl: string;
  dataDir: string;
  drop(): Promise<void>;
}

/** A fresh, migrated store (with `mns` profiles provisioned): a PostgreSQL database or a PGlite folder. */
async function makeStore(kind: 'postgres' | 'pglite', mns: number): Promise<StoreHandle> {
  const { migrate } = await import('../src/store/migrate.ts');
  const dataDir = mkdtempSync(join(tmpdir(), `pmip6-bench-lma-${kind}-`));
  if (kind === 'postgres') {
    const { createPgDatabase } = await import('../test/helpers/db.ts');
    const { openPostgres } = await import('../src/store/pg.ts');
    const created = await createPgDatabase('pmip6_bench_lma');
    const db = await openPostgres(created.url);
    await migrate(db);
    if (mns > 0) await provision(db, mns);
    await db.close();
    return {
      databaseUrl: created.url,
      dataDir,
      drop: async () => {
        await created.drop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const { openPglite } = await import('../src/store/pglite.ts');
  const db = await openPglite(join(dataDir, 'pglite'));
  await migrate(db);
  if (mns > 0) await provision(db, mns);
  await db.close();
  return { databaseUrl: '', dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
}

/** Until the LMA answers one PBU (of an MN outside the measured ranges). */
async function ready(bin: string, tpl: string, lma: LmaProcess, mn: number): Promise<void> {
  const exited = new Promise<never>((_, reject) => lma.proc.once('exit', (c) => reject(new Error(`LMA exited with ${c}`))));
  await Promise.race([generate(bin, tpl, lma.port, mn, 1, 1, 1, 300_000), exited]);
}

/** A heap snapshot of the LMA (SIGUSR2, --heapsnapshot-signal), summarised. */
async function snapshot(lma: LmaProcess, dir: string, per: number, probe: () => Promise<unknown>): Promise<string> {
  const before = new Set(readdirSync(dir));
  lma.proc.kill('SIGUSR2');
  await sleep(200);
  await probe(); // the snapshot is written on the LMA's main thread: it answers again once done
  const f = readdirSync(dir).find((x) => x.endsWith('.heapsnapshot') && !before.has(x));
  return f ? summariseHeap(join(dir, f), { per, top: 22, indent: '      ' }) : '      (no heap snapshot written)';
}

type Pair = { lma: GenResult; echo: GenResult };

function line(what: string, ps: Pair[], target: number, cpuMs: number, pgMs: number): string {
  const lat = ps.map((p) => p.lma);
  const total = { completed: lat.reduce((a, r) => a + r.completed, 0), ms: lat.reduce((a, r) => a + r.ms, 0) };
  const ratios = ps.map((p) => rate(p.lma) / rate(p.echo)).sort((a, b) => a - b);
  const p50 = median(lat.map((r) => r.p50));
  const p99 = Math.max(...lat.map((r) => r.p99));
  const rx = lat.reduce((a, r) => a + r.retransmits, 0);
  const rej = lat.reduce((a, r) => a + r.rejected, 0);
  // Which statuses, and where in each round they came (e.g. "156 x64 at 0..63 of 50,000").
  const where = lat
    .filter((r) => r.rejected > 0)
    .map((r) => `${Object.entries(r.statuses).map(([st, n]) => `${st} x${n}`).join(', ')} at ${fmt(r.rejFirst)}..${fmt(r.rejLast)} of ${fmt(r.completed)}`)
    .join('; ');
  return (
    `    ${what.padEnd(24)} ${fmt(rate(total)).padStart(8)} PBA/s   p50 ${p50.toFixed(2).padStart(6)} ms   p99 ${p99.toFixed(2).padStart(6)} ms   ` +
    `ratio to echo ${median(ratios).toFixed(2)} (${ratios[0].toFixed(2)}..${ratios[ratios.length - 1].toFixed(2)}; target >= ${target})` +
    `   LMA CPU ${((cpuMs * 1000) / total.completed).toFixed(1)} µs/PBA` +
    `${Number.isNaN(pgMs) ? '' : `   PostgreSQL CPU ${((pgMs * 1000) / total.completed).toFixed(1)} µs/binding (backends)`}` +
    `${rx ? `   ${rx} retransmits` : ''}${rej ? `   ${rej} PBAs not status 0 (${where})` : ''}`
  );
}

export async function runOutside(args: string[]): Promise<void> {
  const full = args.includes('--full');
  const sizes = opt(args, 'bindings', full ? '100000,1000000' : '100000').split(',').map(Number);
  // The short default run (under 2 minutes) is PostgreSQL at 100,000; PGlite's provisioning alone takes ~40 s.
  const stores = opt(args, 'stores', full ? 'postgres,pglite' : 'postgres').split(',').filter(Boolean) as ('postgres' | 'pglite')[];
  const window = Number(opt(args, 'window', '64'));
  const rounds = Math.max(1, Number(opt(args, 'rounds', full ? '6' : '4')));
  const cpuProf = args.includes('--cpu-prof');
  const heapSnap = args.includes('--heap-snapshot');
  // e.g. --lma-node-args=--max-semi-space-size=64 (space-separated for several): V8 flags for the LMA process.
  const lmaNodeArgs = opt(args, 'lma-node-args', '').split(' ').filter(Boolean);
  const bin = buildLoadTool();
  const work = mkdtempSync(join(tmpdir(), 'pmip6-bench-lma-'));
  const echo = await startEcho(bin);
  console.log(`LMA from the outside: pmip6 start (LMA role only, durable acknowledgements, profile directory preloaded) in its own process;`);
  // PMIP6_LMA_COMMIT_WAIT=server in the environment reaches the LMA (README lma.commitWait).
  console.log(`acknowledged once the binding commit is ${process.env.PMIP6_LMA_COMMIT_WAIT === 'server' ? 'held by the PostgreSQL server (lma.commitWait=server)' : 'flushed to disk (lma.commitWait=disk)'}`);
  if (!full && !args.some((a) => a.startsWith('--stores'))) console.log('(PostgreSQL only; --full or --stores=postgres,pglite adds PGlite)');
  console.log(`load: C generator (cc) over IPv4/UDP from the provisioned MAG, ${window} PBUs in flight; baseline: C echo responder on the same transport; ${rounds} rounds alternating echo / LMA`);
  try {
    for (const size of sizes) {
      const initial = join(work, `initial-${size}.bin`);
      const refresh = join(work, `refresh-${size}.bin`);
      writeTemplates(initial, size + WARM, false);
      writeTemplates(refresh, size + WARM, true);
      for (const kind of stores) {
        if (kind === 'pglite' && size > 100_000 && !args.includes('--pglite-large')) {
          console.log(`\n  pglite, ${fmt(size)} MNs: skipped (embedded store; --pglite-large to run it)`);
          continue;
        }
        // Resident memory of the same process with nothing provisioned: the base of "per binding".
        const empty = await makeStore(kind, 0);
        const e = startLma({ dataDir: empty.dataDir, databaseUrl: empty.databaseUrl, port: await freeUdpPort() });
        let rssEmpty = NaN;
        let rssEmptyMedian = NaN;
        try {
          await ready(bin, initial, e, size);
          await sleep(1000);
          rssEmpty = rssOf(e.proc.pid!);
          rssEmptyMedian = await rssMedianOf(e.proc.pid!);
        } finally {
          await e.stop();
          await empty.drop();
        }

        const t0 = performance.now();
        const store = await makeStore(kind, size + WARM);
        const provisionMs = performance.now() - t0;
        const profDir = join(work, `prof-${kind}-${size}`);
        mkdirSync(profDir, { recursive: true });
        const t1 = performance.now();
        const lma = startLma({
          dataDir: store.dataDir, databaseUrl: store.databaseUrl, port: await freeUdpPort(),
          nodeArgs: [
            ...lmaNodeArgs,
            ...(cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
            ...(heapSnap ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${profDir}`] : []),
          ],
        });
        const phases: Record<string, [number, number]> = {};
        const mark = (name: string, from: bigint): void => void (phases[name] = [Number(from / 1000n), Number(process.hrtime.bigint() / 1000n)]);
        const pairs = { initial: [] as Pair[], refresh: [] as Pair[] };
        let rssStart = NaN;
        let rssBound = NaN;
        let rssBoundMedian = NaN;
        let rssEnd = NaN;
        let heapText = '';
        try {
          await ready(bin, initial, lma, size);
          const startMs = performance.now() - t1;
          rssStart = rssOf(lma.proc.pid!);
          // Warm-up (JIT, connections): MNs outside the measured ranges, and the echo.
          await generate(bin, initial, lma.port, size + 1, WARM - 1, WARM - 1, window);
          await generate(bin, refresh, echo.port, 0, size, 20_000, window);
          const chunk = Math.ceil(size / rounds);
          let from = process.hrtime.bigint();
          const cpu = { initial: 0, refresh: 0 };
          const pgCpu = { initial: NaN, refresh: NaN };
          const pid = lma.proc.pid!;
          const pgMeter = await PgCpu.open(store.databaseUrl);
          let pg0 = await pgMeter?.sample();
          for (let k = 0; k * chunk < size; k++) {
            const c = Math.min(chunk, size - k * chunk);
            const ec = await generate(bin, refresh, echo.port, k * chunk, c, c, window);
            const c0 = cpuMsOf(pid);
            pairs.initial.push({ echo: ec, lma: await generate(bin, initial, lma.port, k * chunk, c, c, window) });
            cpu.initial += cpuMsOf(pid) - c0;
          }
          mark('initial', from);
          // The echo rounds in between leave the backends idle.
          if (pgMeter && pg0) pgCpu.initial = await pgMeter.since(pg0);
          await sleep(1000);
          rssBound = rssOf(lma.proc.pid!);
          rssBoundMedian = await rssMedianOf(lma.proc.pid!);
          if (heapSnap) heapText = await snapshot(lma, profDir, size + WARM, () => generate(bin, refresh, lma.port, size, 1, 1, 1));
          from = process.hrtime.bigint();
          pg0 = await pgMeter?.sample();
          for (let k = 0; k < rounds; k++) {
            const c = Math.min(chunk, size - ((k * chunk) % size));
            const at = (k * chunk) % size;
            const ec = await generate(bin, refresh, echo.port, at, c, c, window);
            const c0 = cpuMsOf(pid);
            pairs.refresh.push({ echo: ec, lma: await generate(bin, refresh, lma.port, at, c, c, window) });
            cpu.refresh += cpuMsOf(pid) - c0;
          }
          mark('refresh', from);
          if (pgMeter && pg0) pgCpu.refresh = await pgMeter.since(pg0);
          await pgMeter?.close();
          rssEnd = rssOf(lma.proc.pid!);
          console.log(`\n  ${kind}, ${fmt(size)} MNs provisioned (${(provisionMs / 1000).toFixed(0)} s), LMA up with profiles preloaded in ${(startMs / 1000).toFixed(1)} s:`);
          const echoes = [...pairs.initial, ...pairs.refresh].map((p) => p.echo);
          const et = { completed: echoes.reduce((a, r) => a + r.completed, 0), ms: echoes.reduce((a, r) => a + r.ms, 0) };
          console.log(`    ${'C echo, same transport'.padEnd(24)} ${fmt(rate(et)).padStart(8)} msg/s   p50 ${median(echoes.map((r) => r.p50)).toFixed(2).padStart(6)} ms   p99 ${Math.max(...echoes.map((r) => r.p99)).toFixed(2).padStart(6)} ms`);
          console.log(line('initial registrations', pairs.initial, 0.4, cpu.initial, pgCpu.initial));
          console.log(line('re-registrations', pairs.refresh, 0.6, cpu.refresh, pgCpu.refresh));
          console.log(
            `    LMA RSS: empty store ${MiB(rssEmpty)}, started with ${fmt(size + WARM)} profiles ${MiB(rssStart)}, with ${fmt(size + WARM)} bindings ${MiB(rssBound)} (after re-registrations ${MiB(rssEnd)})`,
          );
          console.log(
            `    resident bytes per binding: ${fmt((rssBound - rssEmpty) / (size + WARM))} incl. its profile (target <= 1024 at 1,000,000), ${fmt((rssBound - rssStart) / (size + WARM))} for the binding alone`,
          );
          // The same figure from the median of five readings 1 s apart (from the one above on), for the empty and the full cache.
          console.log(
            `    median of 5 readings 1 s apart: empty store ${MiB(rssEmptyMedian)}, with ${fmt(size + WARM)} bindings ${MiB(rssBoundMedian)}: ${fmt((rssBoundMedian - rssEmptyMedian) / (size + WARM))} resident bytes per binding incl. its profile`,
          );
          if (heapText) console.log(`    LMA heap with every binding (bench/heapsnapshot.ts):\n${heapText}`);
        } finally {
          await lma.stop();
          await store.drop();
        }
        if (cpuProf) {
          const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
          for (const f of files) {
            for (const [name, w] of Object.entries(phases)) {
              const text = summarise(join(profDir, f), { from: w[0], to: w[1], top: 18, indent: '      ' });
              if (!text) continue;
              console.log(`\n    CPU profile of the LMA, ${name} phase (bench/cpuprofile.ts ${join(profDir, f)} --from=${w[0]} --to=${w[1]}):`);
              console.log(text);
            }
          }
        }
      }
    }
  } finally {
    echo.proc.kill();
    if (!cpuProf && !heapSnap) rmSync(work, { recursive: true, force: true });
    else console.log(`\nprofiles kept in ${work}`);
  }
}
