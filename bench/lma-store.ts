// Part of `npm run bench -- lma` (also alone: `npm run bench -- lma --store-only`):
// initial registrations per second with the binding store attached, durable
// acknowledgements (group commit: PBA 0 only once the binding is committed, src/lma/commit.ts)
// next to write-behind (PBA at once, bindings written later), on PostgreSQL and on PGlite
// (a data folder). Options: --store-mns=10000 (registrations per run), --store-window=1024
// (PBUs outstanding: many MAGs at once, so a commit has a batch to carry), --store-rounds=5,
// --stores=postgres,pglite.
//
// The load comes from a child process over UDP loopback (RFC 5844 §4), keeping the window of
// PBUs outstanding and timing each PBU -> PBA; p50 / p99 are over every PBA of the mode's
// rounds. "stored/s" counts until the store holds every binding (for write-behind: until its
// last flush, which the PBA rate does not wait for). Each run gets a fresh LMA (its own lmaId, so its rows are new); one warm-up run per
// store is not counted; the rounds alternate the modes and swap their order each round, and
// each ratio is per round (median and range reported), because the machine is shared. The
// timestamp validity window is wide (a PBU waiting in the socket queue behind a write-behind
// flush is not clock skew). RSS is this process's (LMA + store).
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuFlag, encodeMessage, mnIdFromNai, timestampFromMs } from '../src/mh/index.ts';
import type { Profile } from '../src/policy/profile.ts';

const SELF = fileURLToPath(import.meta.url);
const ROLE = process.argv.find((a) => a.startsWith('--lma-store-role='))?.split('=')[1];

const mnId = (i: number) => `st${i}@bench.example`;
const hnpOf = (i: number) => `2001:db8:${((i >>> 16) & 0xffff).toString(16)}:${(i & 0xffff).toString(16)}::/64`;
const EPOCH = new Date(0);

function profileOf(mn: string): Profile | null {
  const i = Number(mn.slice(2, mn.indexOf('@')));
  if (!Number.isInteger(i) || !mn.endsWith('@bench.example')) return null;
  return {
    id: i, mnId: mn, mnLinkLayerIds: [], hnps: [hnpOf(i)], hnpPool: null, ipv4HoA: null, ipv4PrefixLength: null, ipv4Pool: null,
    ipv4DefaultRouter: null, lma: null, lmaGroup: null, serviceSelection: null, greKeyPolicy: 'none', dhcpv4Server: null, dhcpv6Server: null,
    mip6FeatureVector: 0n, enabled: true, createdAt: EPOCH, updatedAt: EPOCH,
  };
}

/* ------------------------------------------------------------------ generator (child) */

interface GenRun {
  port: number;
  n: number;
  window: number;
}

interface GenResult {
  completed: number;
  ms: number;
  retransmits: number;
  p50: number;
  p99: number;
  /** Every latency, ms (for the pooled percentiles). */
  lat: number[];
  /** Set by the parent: ms until the store held every binding (write-behind: after its last flush). */
  persistedMs?: number;
}

function pbuBytes(i: number, seq: number, tsMs: number): Buffer {
  return encodeMessage({
    type: 'bu', seq, flags: BuFlag.A | BuFlag.P, lifetime: 900,
    options: [mnIdFromNai(mnId(i)), { type: 'hnp', prefixLen: 0, prefix: Buffer.alloc(16) }, { type: 'handoffIndicator', hi: 1 }, { type: 'accessTechType', att: 4 }, { type: 'timestamp', value: timestampFromMs(tsMs) }],
  });
}

function pct(sorted: Float64Array | number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function generatorMain(): Promise<void> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.2', () => r()));
  try {
    sock.setRecvBufferSize(16 << 20);
    sock.setSendBufferSize(16 << 20);
  } catch {
    /* capped */
  }
  process.on('message', (m: GenRun) => {
    void drive(sock, m).then((r) => process.send!(r));
  });
  process.send!({ ready: true });
}

async function drive(sock: dgram.Socket, m: GenRun): Promise<GenResult> {
  const W = Math.min(m.window, 65536);
  const sentAt = new Float64Array(W);
  const firstSentAt = new Float64Array(W);
  const slotMn = new Int32Array(W).fill(-1);
  const lat = new Float64Array(m.n);
  let next = 0;
  let completed = 0;
  let retransmits = 0;
  const send = (slot: number, mn: number, first: boolean): void => {
    const now = performance.now();
    sentAt[slot] = now;
    if (first) firstSentAt[slot] = now;
    slotMn[slot] = mn;
    sock.send(pbuBytes(mn, slot, performance.timeOrigin + now), m.port, '127.0.0.1');
  };
  const start = performance.now();
  return await new Promise((resolve) => {
    const onMsg = (data: Buffer): void => {
      if (data.length < 12 || data[2] !== 6) return;
      const slot = data.readUInt16BE(8);
      if (slot >= W || slotMn[slot] < 0) return;
      slotMn[slot] = -1;
      lat[completed++] = performance.now() - firstSentAt[slot]; // from the first transmission: what the MAG waits
      if (completed >= m.n) {
        sock.off('message', onMsg);
        clearInterval(timer);
        const ms = performance.now() - start;
        const sorted = lat.slice(0, completed).sort();
        resolve({ completed, ms, retransmits, p50: pct(sorted, 50), p99: pct(sorted, 99), lat: Array.from(sorted) });
        return;
      }
      if (next < m.n) send(slot, next++, true);
    };
    sock.on('message', onMsg);
    const timer = setInterval(() => {
      const now = performance.now();
      for (let s = 0; s < W; s++) {
        if (slotMn[s] >= 0 && now - sentAt[s] > 1000) {
          retransmits++;
          send(s, slotMn[s], false);
        }
      }
    }, 200);
    for (let s = 0; s < W && next < m.n; s++) send(s, next++, true);
  });
}

/* ------------------------------------------------------------------ parent */

function once<T>(c: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`bench child exited with ${code}`));
    c.once('exit', onExit);
    c.once('message', (m) => {
      c.off('exit', onExit);
      resolve(m as T);
    });
  });
}

function opt(args: string[], name: string, dflt: string): string {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

type Mode = 'write-behind' | 'durable';

export async function runStoreBench(args: string[]): Promise<void> {
  const n = Number(opt(args, 'store-mns', '10000'));
  const window = Number(opt(args, 'store-window', '1024'));
  const rounds = Math.max(1, Number(opt(args, 'store-rounds', '5')));
  const stores = opt(args, 'stores', 'postgres,pglite').split(',').filter(Boolean) as ('postgres' | 'pglite')[];

  const { Lma } = await import('../src/lma/index.ts');
  const { openUdpTransport } = await import('../src/transport/udp.ts');
  const { RecordingDataPlane } = await import('../src/dataplane/recording.ts');
  const { BindingRepo } = await import('../src/store/repos/bindings.ts');
  const { openPostgres } = await import('../src/store/pg.ts');
  const { openPglite } = await import('../src/store/pglite.ts');
  const { migrate } = await import('../src/store/migrate.ts');
  const { createPgDatabase } = await import('../test/helpers/db.ts');

  console.log('');
  console.log(`LMA with the binding store: initial registrations (new bindings), ${fmt(n)} per run, window ${window}, ${rounds} rounds per mode; load from a child process over UDP loopback`);
  const gen = fork(SELF, ['--lma-store-role=gen'], { execArgv: ['--import', 'tsx'], env: { ...process.env, PMIP6_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await once(gen);
  const policy = {
    policyNow: (mn: string) => ({ profile: profileOf(mn), magAuthorized: true }),
    profile: async (mn: string) => profileOf(mn),
    magAuthorized: async () => true,
  };
  let runNo = 0;
  try {
    for (const kind of stores) {
      let db;
      let cleanup: () => Promise<void>;
      if (kind === 'postgres') {
        const created = await createPgDatabase('pmip6_bench');
        db = await openPostgres(created.url);
        cleanup = async () => {
          await db!.close();
          await created.drop();
        };
      } else {
        const dir = mkdtempSync(join(tmpdir(), 'pmip6-bench-pglite-'));
        db = await openPglite(dir);
        cleanup = async () => {
          await db!.close();
          rmSync(dir, { recursive: true, force: true });
        };
      }
      await migrate(db);
      const repo = new BindingRepo(db);
      const results: Record<Mode, GenResult[]> = { 'write-behind': [], durable: [] };
      const lats: Record<Mode, number[]> = { 'write-behind': [], durable: [] };
      let rss = 0;
      for (let r = -1; r < rounds; r++) {
        const order: Mode[] = r === -1 ? ['durable'] : r % 2 === 0 ? ['write-behind', 'durable'] : ['durable', 'write-behind'];
        for (const mode of order) {
          const t = await openUdpTransport({ addresses: ['127.0.0.1'], port: 0, recvBufferSize: 16 << 20 });
          const lma = new Lma({
            transport: t, dataPlane: new RecordingDataPlane(false), policy, store: repo,
            config: { lmaId: `bench-${process.pid}-${runNo++}`, address: '127.0.0.1', heartbeatIntervalMs: 0, maxLifetimeS: 262140, timestampValidityWindowMs: 60_000, durableAcks: mode === 'durable' },
          });
          await lma.start();
          gen.send({ port: t.localAddress().port!, n, window } satisfies GenRun);
          const res = await once<GenResult>(gen);
          const rate = (x: GenResult) => (x.completed * 1000) / x.ms;
          rss = Math.max(rss, process.memoryUsage().rss);
          const t0 = performance.now();
          await lma.stop(); // writes what write-behind still holds
          res.persistedMs = res.ms + (performance.now() - t0); // until the store holds every binding
          await t.close();
          if (lma.counters.pbaByStatus[0] !== n) {
            const others = lma.counters.pbaByStatus.flatMap((v, st) => (st !== 0 && v > 0 ? [`${st}: ${v}`] : []));
            console.log(`  warning: ${lma.counters.pbaByStatus[0]} of ${n} PBAs with status 0 (${mode}; others ${others.join(', ')})`);
          }
          if (process.env.BENCH_DEBUG) console.log(`  ${mode}: ${lma.counters.persist.commits} commits, ${lma.counters.persist.writes} rows, ${fmt(rate(res))} PBA/s`);
          if (r === -1) continue; // warm-up
          results[mode].push(res);
          lats[mode].push(...res.lat);
          res.lat = [];
        }
      }
      const rate = (x: GenResult) => (x.completed * 1000) / x.ms;
      const total = (xs: GenResult[]) => xs.reduce((a, x) => a + x.completed, 0) / (xs.reduce((a, x) => a + x.ms, 0) / 1000);
      const ratios = results.durable.map((d, i) => rate(d) / rate(results['write-behind'][i]));
      const stored = (x: GenResult) => (x.completed * 1000) / (x.persistedMs ?? x.ms);
      const storedTotal = (xs: GenResult[]) => xs.reduce((a, x) => a + x.completed, 0) / (xs.reduce((a, x) => a + (x.persistedMs ?? x.ms), 0) / 1000);
      const storedRatios = results.durable.map((d, i) => stored(d) / stored(results['write-behind'][i]));
      console.log(`  ${kind}:`);
      for (const mode of ['write-behind', 'durable'] as Mode[]) {
        const sorted = lats[mode].sort((a, b) => a - b);
        const rx = results[mode].reduce((a, x) => a + x.retransmits, 0);
        console.log(
          `    ${mode.padEnd(13)} ${fmt(total(results[mode])).padStart(8)} PBA/s   p50 ${pct(sorted, 50).toFixed(1).padStart(6)} ms   p99 ${pct(sorted, 99).toFixed(1).padStart(6)} ms   ` +
            `stored ${fmt(storedTotal(results[mode])).padStart(7)}/s   (${results[mode].map((x) => fmt(rate(x))).join(', ')}; ${rx} retransmits)`,
        );
      }
      const range = (xs: number[]) => {
        const s = [...xs].sort((a, b) => a - b);
        return `${median(xs).toFixed(2)} (median of ${xs.length} rounds, range ${s[0].toFixed(2)}..${s[s.length - 1].toFixed(2)})`;
      };
      console.log(`    durable / write-behind, PBA/s: ${range(ratios)}${kind === 'postgres' ? '   (target >= 0.8)' : ''}`);
      console.log(`    durable / write-behind, bindings in the store per second (write-behind counted until its last flush): ${range(storedRatios)}   rss ${fmt(rss / 1048576)} MiB`);
      await cleanup();
    }
  } finally {
    gen.kill();
  }
}

export async function run(args: string[]): Promise<void> {
  await runStoreBench(args);
}

if (ROLE === 'gen') void generatorMain();
