// `npm run bench -- snmp [--sizes=10000,100000] [--runs=3] [--baseline=10000] [--v3=yes] [--source=lma|fake]`
//
// Wall time and values per second of `snmpbulkwalk -Cr50` (Debian net-snmp) over
// pmip6BindingCacheTable (RFC 6475; 8 columns, so 8 values per binding) served by our
// agent, for each --sizes number of bindings. Where the bindings come from (--source):
//  - lma (default): a real LMA (src/lma) that accepted one initial PBU per binding (RFC 5213
//    §5.3.2) from 64 MAGs over the in-memory transport (policy answered at once from
//    memory, RecordingDataPlane without op log), adapted by lmaSnmpView as `pmip6 start`
//    does: rows read the live BCEs at request time.
//  - fake: the test suite's fake LMA view (test/snmp/fake-view.ts: the real LmaTables over
//    synthetic binding sources).
// Also printed: the agent's CPU time for the walk (the walk is a ping-pong, so wall time =
// agent CPU + snmpbulkwalk CPU + scheduling on a shared machine).
//
// Baseline, same run: net-snmp's own agent with its Mib/provider model, the same table
// (same columns, same INDEX shape) with --baseline rows mirrored into its tree, walked the
// same way (capped at 120 s). Its tree needs every row added up front (we serve the live
// view instead) and its GETNEXT re-sorts the children of every node it passes.
import { fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import snmp from 'net-snmp';
import { RecordingDataPlane } from '../src/dataplane/recording.ts';
import { Lma } from '../src/lma/index.ts';
import { lmaSnmpView } from '../src/lma/snmp-view.ts';
import { encodeMessage } from '../src/mh/index.ts';
import { Pmip6SnmpAgent } from '../src/snmp/agent.ts';
import { MemoryPersistence, Pmip6Settings } from '../src/snmp/settings.ts';
import type { LmaView } from '../src/snmp/view.ts';
import { MemoryHub } from '../src/transport/memory.ts';
import { buildPbu, makeProfile, MapPolicy } from '../test/lma/driver.ts';
import { populatedLma } from '../test/snmp/fake-view.ts';

const SELF = fileURLToPath(import.meta.url);
const TABLE = '1.3.6.1.2.1.206.1.1.2.1.1'; // pmip6BindingCacheEntry
const V3 = ['-v3', '-l', 'authPriv', '-u', 'bench', '-a', 'SHA-256', '-A', 'bench-auth-1', '-x', 'AES', '-X', 'bench-priv-1'];

function opt(args: string[], name: string, dflt: string): string {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
}

/** Runs snmpbulkwalk and counts the values it printed (within the table). */
function walk(port: number, auth: string[], timeoutS: number): Promise<{ values: number; ms: number; code: number | null }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('snmpbulkwalk', ['-On', '-Oq', '-m', '', '-r', '1', '-t', '10', ...auth, '-Cr50', `127.0.0.1:${port}`, TABLE], {
      env: { ...process.env, SNMP_PERSISTENT_DIR: process.env.SNMP_PERSISTENT_DIR ?? '/tmp' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let values = 0;
    let tail = '';
    const prefix = `.${TABLE}.`;
    child.stdout.on('data', (d: Buffer) => {
      const text = tail + d.toString('latin1');
      const lines = text.split('\n');
      tail = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith(prefix)) values++;
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutS * 1000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (tail.startsWith(prefix)) values++;
      resolve({ values, ms: performance.now() - t0, code });
    });
  });
}

const fmt = (n: number, w: number) => String(n).padStart(w);

type Source = 'lma' | 'fake';
const SOURCES: Record<Source, string> = {
  lma: 'real LMA (src/lma) via lmaSnmpView',
  fake: 'fake LMA view (test/snmp/fake-view.ts)',
};

/**
 * A real LMA holding `n` bindings: MN i (mn<i>@bench.example, HNP 2001:db8:<i high 16 bits>:<i low 16 bits>::/64 from its
 * profile) registered by one initial PBU (ALL_ZERO HNP, HI = 1, ATT = 3, an MN-LL-ID) from
 * one of 64 MAGs. Lifetime 3600 s, so nothing expires during the walks.
 */
async function realLma(n: number): Promise<{ view: LmaView; ms: number; close(): Promise<void> }> {
  const LMAA = '2001:db8:ffff::1';
  const hub = new MemoryHub();
  const policy = new MapPolicy();
  policy.memory = true; // MemoryLmaPolicy.policyNow: no promise per registration
  const lma = new Lma({
    transport: hub.endpoint(LMAA),
    dataPlane: new RecordingDataPlane(false),
    policy,
    // A wide timestamp window: 4096 PBUs are queued before they are processed.
    config: { address: LMAA, heartbeatIntervalMs: 0, maxLifetimeS: 3600, timestampValidityWindowMs: 60_000 },
  });
  await lma.start();
  const mags = Array.from({ length: 64 }, (_, k) => hub.endpoint(`2001:db8:aaaa::${(k + 1).toString(16)}`));
  const to = { address: LMAA, port: 5436 };
  const settle = async (): Promise<void> => {
    for (let k = 0; k < 3; k++) {
      await new Promise((r) => setImmediate(r));
      await lma.settle();
    }
  };
  const hex4 = (x: number) => (x & 0xffff).toString(16);
  const t0 = performance.now();
  for (let i = 1; i <= n; i++) {
    const mnId = `mn${i}@bench.example`;
    policy.add(makeProfile(mnId, { id: i, hnps: [`2001:db8:${hex4(i >>> 16)}:${hex4(i)}::/64`] }));
    const llId = `02:00:${[24, 16, 8, 0].map((s) => ((i >>> s) & 0xff).toString(16).padStart(2, '0')).join(':')}`;
    mags[i % mags.length].send(encodeMessage(buildPbu({ mnId, llId, hi: 1, att: 3, lifetime: 3600 }, Date.now, i & 0xffff)), to);
    if ((i & 4095) === 0) await settle();
  }
  await settle();
  const ms = performance.now() - t0;
  if (lma.bindingCount !== n) throw new Error(`the LMA holds ${lma.bindingCount} bindings after ${n} initial PBUs`);
  const adapter = lmaSnmpView(lma, {});
  return {
    view: adapter.view,
    ms,
    close: async () => {
      adapter.close();
      await lma.stop();
    },
  };
}

async function ours(sizes: number[], runs: number, withV3: boolean, source: Source): Promise<Map<number, number>> {
  const best = new Map<number, number>();
  process.stdout.write(
    `Our agent (PMIPV6-MIB from the live view), snmpbulkwalk -Cr50 over pmip6BindingCacheTable, source: ${SOURCES[source]}\n` +
      `${'bindings'.padStart(9)} ${'walk'.padEnd(22)} ${'values'.padStart(8)} ${'wall s'.padStart(7)} ${'values/s'.padStart(9)} ${'agent CPU s'.padStart(11)}\n`,
  );
  for (const n of sizes) {
    let lma: LmaView;
    let close = async (): Promise<void> => undefined;
    if (source === 'lma') {
      const real = await realLma(n);
      lma = real.view;
      close = real.close;
      process.stdout.write(`${fmt(n, 9)} (real LMA: ${n} initial PBUs accepted in ${(real.ms / 1000).toFixed(2)} s)\n`);
    } else {
      lma = populatedLma(n);
    }
    const agent = new Pmip6SnmpAgent(
      {
        port: 0,
        bind: ['127.0.0.1'],
        communities: [{ name: 'public', view: 'full' }],
        users: [{ name: 'bench', authProtocol: 'sha256', authKey: 'bench-auth-1', privProtocol: 'aes', privKey: 'bench-priv-1' }],
      },
      { lma, settings: await Pmip6Settings.open(new MemoryPersistence()) },
    );
    await agent.start();
    const port = agent.addresses()[0].port;
    const kinds: [string, string[]][] = [['v2c', ['-v2c', '-c', 'public']]];
    if (withV3 && n === Math.max(...sizes)) kinds.push(['v3 authPriv SHA-256/AES', V3]);
    for (const [label, auth] of kinds) {
      for (let r = 0; r < runs; r++) {
        const cpu0 = process.cpuUsage();
        const w = await walk(port, auth, 600);
        const cpu = process.cpuUsage(cpu0);
        if (w.values !== n * 8) throw new Error(`walk returned ${w.values} values, expected ${n * 8} (exit ${w.code})`);
        const rate = Math.round(w.values / (w.ms / 1000));
        if (label === 'v2c') best.set(n, Math.max(best.get(n) ?? 0, rate));
        process.stdout.write(
          `${fmt(n, 9)} ${`${label} #${r + 1}`.padEnd(22)} ${fmt(w.values, 8)} ${(w.ms / 1000).toFixed(2).padStart(7)} ${fmt(rate, 9)} ${((cpu.user + cpu.system) / 1e6).toFixed(2).padStart(11)}\n`,
        );
      }
    }
    await agent.stop();
    await close();
  }
  return best;
}

/** Child process: net-snmp's Mib/provider agent with `rows` rows mirrored into its tree. */
async function baselineChild(rows: number): Promise<void> {
  const agent = snmp.createAgent({ port: 0, address: '127.0.0.1', dgramModule: undefined }, () => undefined) as unknown as {
    getAuthorizer(): { addCommunity(c: string): void };
    getMib(): { registerProvider(p: unknown): void; addTableRow(name: string, row: unknown[]): void };
    listener: { sockets: Record<string, { address(): { port: number } }> };
  };
  agent.getAuthorizer().addCommunity('public');
  const mib = agent.getMib();
  const S = snmp as unknown as { MibProviderType: { Table: number }; MaxAccess: Record<string, number>; ObjectType: Record<string, number> };
  const col = (number: number, name: string, type: string, access = 'read-only') => ({ number, name, type: S.ObjectType[type], maxAccess: S.MaxAccess[access] });
  mib.registerProvider({
    name: 'pmip6BindingCacheEntry',
    type: S.MibProviderType.Table,
    oid: TABLE,
    maxAccess: S.MaxAccess['not-accessible'],
    tableColumns: [
      col(1, 'pbu', 'Integer'), col(2, 'mnIndex', 'Gauge'), col(3, 'mnLLIndex', 'Gauge'), col(4, 'llType', 'Integer'),
      col(5, 'll', 'OctetString'), col(6, 'tunnel', 'OctetString'), col(7, 'att', 'Integer'), col(8, 'ts', 'OctetString'),
      col(9, 'hoaType', 'Integer', 'not-accessible'), col(10, 'hoa', 'OctetString', 'not-accessible'),
    ],
    tableIndex: [{ columnName: 'hoaType' }, { columnName: 'hoa' }],
  });
  global.gc?.();
  const h0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 1; i <= rows; i++) {
    const hoa = Buffer.alloc(16);
    hoa.writeUInt32BE(0x20010db8, 0);
    hoa.writeUInt16BE(i >>> 16, 4);
    hoa.writeUInt16BE(i & 0xffff, 6);
    mib.addTableRow('pmip6BindingCacheEntry', [1, i, 1, 2, Buffer.alloc(16, 0xfe), Buffer.alloc(8, 1), 3, Buffer.alloc(8, 0), 2, hoa.toString('latin1')]);
  }
  const mirrorMs = performance.now() - t0;
  global.gc?.();
  const heapMb = (process.memoryUsage().heapUsed - h0) / 1e6;
  // Wait for the socket to listen, then report.
  await new Promise((r) => setTimeout(r, 200));
  const port = Object.values(agent.listener.sockets)[0].address().port;
  process.send!({ port, mirrorMs, heapMb });
}

async function baseline(rows: number, ourRate: number | undefined): Promise<void> {
  process.stdout.write(`\nBaseline: net-snmp Mib/provider agent, same table and INDEX shape, ${rows} rows mirrored into its tree\n`);
  const child = fork(SELF, ['--snmp-bench-baseline=' + rows], { execArgv: ['--import', 'tsx', '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const info = await new Promise<{ port: number; mirrorMs: number; heapMb: number }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { port: number; mirrorMs: number; heapMb: number }));
    child.once('exit', (c) => reject(new Error(`baseline exited ${c}`)));
  });
  const w = await walk(info.port, ['-v2c', '-c', 'public'], 120);
  child.kill('SIGTERM');
  const rate = Math.round(w.values / (w.ms / 1000));
  process.stdout.write(
    `  mirroring ${rows} rows: ${(info.mirrorMs / 1000).toFixed(2)} s, +${info.heapMb.toFixed(0)} MB heap\n` +
      `  walk: ${w.values} values returned (the table has ${rows * 8}) in ${(w.ms / 1000).toFixed(2)} s${w.values < rows * 8 ? ' (stopped: 120 s cap or timeout)' : ''} = ${rate} values/s\n`,
  );
  if (ourRate) process.stdout.write(`  ratio ours / baseline at ${rows} rows: ${(ourRate / Math.max(rate, 1)).toFixed(1)}x\n`);
}

export async function run(args: string[]): Promise<void> {
  const prev = process.env.PMIP6_LOG_LEVEL;
  process.env.PMIP6_LOG_LEVEL = prev ?? 'warn';
  const sizes = opt(args, 'sizes', '10000,100000').split(',').map(Number);
  const runs = Number(opt(args, 'runs', '3'));
  const base = Number(opt(args, 'baseline', '10000'));
  const withV3 = opt(args, 'v3', 'yes') !== 'no';
  const source = opt(args, 'source', 'lma') as Source;
  if (!(source in SOURCES)) throw new Error(`--source=${source}: choose lma or fake`);
  const best = await ours(sizes, runs, withV3, source);
  for (const n of sizes) {
    const rate = best.get(n) ?? 0;
    process.stdout.write(`best v2c at ${n} bindings (${source}): ${rate} values/s${n >= 100000 ? (rate >= 40000 ? ' (target >= 40000: met)' : ' (target >= 40000: NOT met)') : ''}\n`);
  }
  if (base > 0) await baseline(base, best.get(base));
}

const role = process.argv.find((a) => a.startsWith('--snmp-bench-baseline='));
if (role) await baselineChild(Number(role.split('=')[1]));
