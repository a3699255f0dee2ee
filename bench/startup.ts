// Start-up cost of the `pmip6` command, compiled (bin/pmip6.js on dist/, what `npm start`,
// `npx pmip6` and the image run) against the development path in the same run (node
// --import tsx src/cli.ts, what `npm start` ran before the build step). Each run is a fresh
// process driven from here: `--version` (wall time to exit), and `start` until /readyz
// answers 200 (wall time, and the process RSS then and 3 s later), on the embedded store
// (PGlite, a new data folder each run) and on PostgreSQL (a new database each run).
// Options: --runs=N (default 5), --no-pg.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPgDatabase } from '../test/helpers/db.ts';
import { freePort } from '../test/helpers/cli.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const MODES = {
  dist: ['bin/pmip6.js'],
  tsx: ['--import', 'tsx', 'src/cli.ts'],
} as const;
type Mode = keyof typeof MODES;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

function versionMs(mode: Mode): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [...MODES[mode], '--version'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${mode} --version: ${r.stderr}`);
  return performance.now() - t0;
}

async function startRun(mode: Mode, env: Record<string, string>): Promise<{ readyMs: number; rssReady: number; rssSettled: number }> {
  const apiPort = await freePort();
  const child = spawn(process.execPath, [...MODES[mode], 'start'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      PMIP6_LOG_LEVEL: 'warn',
      PMIP6_API_HOST: '127.0.0.1',
      PMIP6_API_PORT: String(apiPort),
      PMIP6_LMA_UDP_PORT: String(await freePort('udp')),
      PMIP6_RADIUS_BIND: '127.0.0.1',
      PMIP6_RADIUS_AUTH_PORT: String(await freePort('udp')),
      PMIP6_RADIUS_ACCT_PORT: String(await freePort('udp')),
      ...env,
    },
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const t0 = performance.now();
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${mode} start exited: ${err}`);
      const ok = await fetch(`http://127.0.0.1:${apiPort}/readyz`).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (performance.now() - t0 > 120_000) throw new Error(`${mode} start not ready after 120 s: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const readyMs = performance.now() - t0;
    const rssReady = rssMb(child.pid!);
    await new Promise((r) => setTimeout(r, 3000));
    return { readyMs, rssReady, rssSettled: rssMb(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

function line(label: string, unit: string, dist: number[], tsx: number[]): void {
  const d = median(dist);
  const t = median(tsx);
  process.stdout.write(`${label.padEnd(52)} dist ${d.toFixed(0).padStart(6)} ${unit}   tsx ${t.toFixed(0).padStart(6)} ${unit}   dist/tsx ${(d / t).toFixed(2)}\n`);
}

export async function run(args: string[]): Promise<void> {
  const runs = Number(args.find((a) => a.startsWith('--runs='))?.slice(7) ?? 5);
  const pg = !args.includes('--no-pg');
  if (spawnSync(process.execPath, ['bin/pmip6.js', '--version'], { cwd: ROOT }).status !== 0) throw new Error('dist/ is missing: npm run build');
  process.stdout.write(`startup: ${runs} runs per mode, modes alternate; medians (node ${process.version})\n`);
  const v: Record<Mode, number[]> = { dist: [], tsx: [] };
  for (let i = 0; i < runs; i++) for (const m of ['dist', 'tsx'] as const) v[m].push(versionMs(m));
  line('pmip6 --version, wall time', 'ms', v.dist, v.tsx);

  const stores: { label: string; env: () => Promise<{ env: Record<string, string>; done(): Promise<void> }> }[] = [
    {
      label: 'embedded store (PGlite)',
      env: async () => {
        const dir = mkdtempSync(join(tmpdir(), 'pmip6-bench-start-'));
        return { env: { PMIP6_DATA_DIR: dir }, done: async () => rmSync(dir, { recursive: true, force: true }) };
      },
    },
  ];
  if (pg) {
    stores.push({
      label: 'PostgreSQL',
      env: async () => {
        const db = await createPgDatabase('pmip6_bench_start');
        const dir = mkdtempSync(join(tmpdir(), 'pmip6-bench-start-'));
        return {
          env: { DATABASE_URL: db.url, PMIP6_DATA_DIR: dir },
          done: async () => {
            rmSync(dir, { recursive: true, force: true });
            await db.drop();
          },
        };
      },
    });
  }
  for (const s of stores) {
    const r: Record<Mode, { readyMs: number; rssReady: number; rssSettled: number }[]> = { dist: [], tsx: [] };
    for (let i = 0; i < runs; i++) {
      for (const m of ['dist', 'tsx'] as const) {
        const e = await s.env();
        try {
          r[m].push(await startRun(m, e.env));
        } finally {
          await e.done();
        }
      }
    }
    line(`start, ${s.label}: until /readyz 200`, 'ms', r.dist.map((x) => x.readyMs), r.tsx.map((x) => x.readyMs));
    line(`start, ${s.label}: RSS at ready`, 'MB', r.dist.map((x) => x.rssReady), r.tsx.map((x) => x.rssReady));
    line(`start, ${s.label}: RSS 3 s later`, 'MB', r.dist.map((x) => x.rssSettled), r.tsx.map((x) => x.rssSettled));
  }
}
