// The pieces of the outside-load LMA bench (lma-outside.ts): the C load generator and echo
// responder (bench/c/mh-load.c, built here with the system C compiler), the PBU template
// files it sends from, the provisioning of the policy store (profiles, HNPs, one MAG), and
// the LMA process itself: `pmip6 start` with only the LMA role, configured through the
// environment as an operator would, its RSS read from /proc.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuFlag, encodeMessage, mnIdFromNai, parsePrefix } from '../src/mh/index.ts';
import type { Db } from '../src/store/db.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SOURCE = join(ROOT, 'bench/c/mh-load.c');

/** Where the MAG sends from (provisioned as the MAG's Proxy-CoA) and the LMA listens. */
export const MAG_ADDRESS = '127.0.0.2';
export const LMA_ADDRESS = '127.0.0.1';

export const mnId = (i: number): string => `ob${i}@bench.example`;
export const hnpOf = (i: number): string => `2001:db8:${((i >>> 16) & 0xffff).toString(16)}:${(i & 0xffff).toString(16)}::/64`;

/** Builds mh-load.c with `cc -O2` (cached by the source's hash); returns the binary's path. */
export function buildLoadTool(): string {
  const src = readFileSync(SOURCE);
  const dir = join(tmpdir(), 'pmip6-bench-c');
  const bin = join(dir, `mh-load-${createHash('sha256').update(src).digest('hex').slice(0, 12)}`);
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    execFileSync(process.env.CC ?? 'cc', ['-O2', '-std=gnu11', '-Wall', '-o', bin, SOURCE], { stdio: 'inherit' });
  }
  return bin;
}

const RECORD = 128;

/**
 * PBUs for MN indexes [0, count) (RFC 5213 §6.9.1.1): initial (HNP ::/0 asking for
 * assignment, Handoff Indicator 1: attachment over a new interface) or re-registration (the
 * MN's HNP, HI 5: no change). Written as the C tool reads them.
 */
export function writeTemplates(file: string, count: number, refresh: boolean): void {
  const out = Buffer.alloc(8 + count * RECORD);
  out.writeUInt32LE(count, 0);
  out.writeUInt32LE(RECORD, 4);
  const marker = Buffer.from('0123456789abcdef', 'hex');
  for (let i = 0; i < count; i++) {
    const p = parsePrefix(refresh ? hnpOf(i) : '::/0');
    const buf = encodeMessage({
      type: 'bu', seq: 0, flags: BuFlag.A | BuFlag.P, lifetime: 900,
      options: [
        mnIdFromNai(mnId(i)),
        { type: 'hnp', prefixLen: p.prefixLen, prefix: p.prefix },
        { type: 'handoffIndicator', hi: refresh ? 5 : 1 },
        { type: 'accessTechType', att: 4 },
        { type: 'timestamp', value: 0x0123456789abcdefn },
      ],
    });
    if (buf.length > RECORD - 4) throw new Error('PBU template too long');
    const at = 8 + i * RECORD;
    out.writeUInt16LE(buf.length, at);
    out.writeUInt16LE(buf.indexOf(marker), at + 2);
    buf.copy(out, at + 4);
  }
  writeFileSync(file, out);
}

/**
 * Provisions `count` profiles with one fixed /64 HNP each and the MAG, in a few statements.
 * The prefixes' exclusion constraint (no two overlap; a GiST index) is dropped for the load:
 * kept, it costs an overlap search per row, added back afterwards a GiST build, each many
 * minutes at 1,000,000. The bench's prefixes are disjoint by construction, the LMA does not
 * read the constraint, and the database is the bench's own and dropped after the run.
 */
export async function provision(db: Db, count: number): Promise<void> {
  await db.exec(`INSERT INTO mags (id, authorized) VALUES ('bench-mag', true)`);
  await db.exec(`INSERT INTO mag_proxy_coas (address, mag_id, position) VALUES ('${MAG_ADDRESS}', 'bench-mag', 0)`);
  const x = await db.query<{ name: string }>(`SELECT conname AS name FROM pg_constraint WHERE conrelid = 'hnp_assignments'::regclass AND contype = 'x'`);
  for (const c of x.rows) await db.exec(`ALTER TABLE hnp_assignments DROP CONSTRAINT ${c.name}`);
  const step = 100_000;
  for (let from = 0; from < count; from += step) {
    const to = Math.min(count, from + step) - 1;
    await db.exec(`INSERT INTO profiles (mn_id) SELECT 'ob' || i || '@bench.example' FROM generate_series(${from}, ${to}) i`);
    await db.exec(
      `INSERT INTO hnp_assignments (prefix, profile_id) SELECT format('2001:db8:%s:%s::/64', to_hex(i >> 16), to_hex(i & 65535))::cidr, p.id ` +
        `FROM generate_series(${from}, ${to}) i JOIN profiles p ON p.mn_id = 'ob' || i || '@bench.example'`,
    );
  }
}

export interface GenResult {
  completed: number;
  ms: number;
  retransmits: number;
  rejected: number;
  /** Completion index of the first and last PBA with a non-zero status (-1: none). */
  rejFirst: number;
  rejLast: number;
  /** Non-zero PBA statuses seen, with their counts. */
  statuses: Record<string, number>;
  p50: number;
  p99: number;
  max: number;
}

export const rate = (r: { completed: number; ms: number }): number => (r.completed * 1000) / r.ms;

/** Generators running: killed when the bench ends early (an LMA that died leaves its probe waiting). */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** One measurement with the C generator; resolves with its result line. */
export function generate(bin: string, templates: string, port: number, from: number, n: number, count: number, window: number, timeoutMs = 600_000): Promise<GenResult> {
  return new Promise((resolve, reject) => {
    const c = spawn(bin, ['gen', templates, LMA_ADDRESS, String(port), MAG_ADDRESS, String(from), String(n), String(count), String(window)], { stdio: ['ignore', 'pipe', 'inherit'] });
    running.add(c);
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('exit', (code) => {
      running.delete(c);
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out) as GenResult);
      else reject(new Error(`generator exited with ${code}`));
    });
  });
}

/** The C echo responder on LMA_ADDRESS; resolves with its port. */
export function startEcho(bin: string): Promise<{ port: number; proc: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, ['echo', LMA_ADDRESS], { stdio: ['ignore', 'pipe', 'inherit'] });
    proc.stdout.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), proc }));
    proc.once('exit', (code) => reject(new Error(`echo exited with ${code}`)));
  });
}

/** Resident set of a process as ps and top show it (VmRSS, bytes). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/**
 * The median of `n` VmRSS readings `gapMs` apart, starting now: one reading may fall just before
 * or after a collection of the process; nothing is asked of the process itself.
 */
export async function rssMedianOf(pid: number, n = 5, gapMs = 1000): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, gapMs));
    xs.push(rssOf(pid));
  }
  xs.sort((a, b) => a - b);
  return xs[(n - 1) >> 1];
}

/** CPU time the process used so far (user + system, all threads), ms. */
export function cpuMsOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' '); // fields from 3 on
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
}

export interface LmaProcess {
  proc: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

/**
 * `pmip6 start` with only the LMA role (no API, RADIUS, Diameter or SNMP), durable
 * acknowledgements (the default), the profile directory preloading, heartbeats off, on a
 * UDP port of its own. `databaseUrl` empty: PGlite in `dataDir`.
 */
export function startLma(o: { dataDir: string; databaseUrl: string; port: number; nodeArgs?: string[] }): LmaProcess {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PMIP6_LOG_LEVEL: 'error',
    PMIP6_DATA_DIR: o.dataDir,
    DATABASE_URL: o.databaseUrl,
    PMIP6_API_ENABLED: 'false',
    PMIP6_RADIUS_ENABLED: 'false',
    PMIP6_DIAMETER_ENABLED: 'false',
    PMIP6_SNMP_ENABLED: 'false',
    PMIP6_LMA_ADDRESS: LMA_ADDRESS,
    PMIP6_LMA_UDP_PORT: String(o.port),
    PMIP6_LMA_HEARTBEAT_INTERVAL: '0',
    PMIP6_STORE_PROFILE_CACHE: 'preload',
  };
  const proc = spawn(process.execPath, [...(o.nodeArgs ?? []), '--import', 'tsx', join(ROOT, 'src/cli.ts'), 'start', '--allow-unprotected-signalling'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  // Its stderr, but for the line it prints when told to stop.
  proc.stderr!.on('data', (d: Buffer) => {
    const text = d.toString().split('\n').filter((l) => l.trim() !== '' && !/^SIGTERM: stopping$/.test(l.trim()));
    if (text.length > 0) process.stderr.write(`${text.join('\n')}\n`);
  });
  return {
    proc,
    port: o.port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        const kill = setTimeout(() => proc.kill('SIGKILL'), 60_000);
        proc.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        proc.kill('SIGTERM');
      }),
  };
}

/** A free UDP port on LMA_ADDRESS (bound and released). */
export async function freeUdpPort(): Promise<number> {
  const dgram = await import('node:dgram');
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, LMA_ADDRESS, () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}
