// `npm run bench -- lma`: the LMA process driven from the outside (lma-outside.ts, issue 12).
// `npm run bench -- lma --in-process [--bindings=100000] [--count=200000] [--window=256] [--rounds=5] [--async-policy] [--mem=100000,1000000]`
//   [--store-only | --no-store] [--store-mns=20000] [--store-window=256] [--store-rounds=3] [--stores=postgres,pglite]
// `npm run bench -- lma --transport ip6 [...]`: raw IPv6 (protocol 135) against IPv4/UDP
//    between two network namespaces, see lma-ip6.ts.
//
// The --in-process bench below runs the LMA in the bench's own process (the generator is a
// child); it measures less than a user gets (heap only, no store on the PBU path), and is
// kept for its heap-per-binding breakdown and quick A/B runs.
// 1. PBU -> PBA registrations per second over UDP loopback (RFC 5844 §4 carriage) with
//    --bindings held, next to a baseline measured in the same run: a plain Node UDP echo
//    server answering every message with one of the same size, driven by the same load
//    generator (a child process, so it does not share the LMA's event loop) keeping
//    --window PBUs outstanding. Reported: initial registrations/s while the cache fills
//    (policy lookup + tunnel/route set-up), re-registrations/s with the cache full (the
//    hot path), echo/s, and the ratios to echo. The machine is shared, so the work runs in
//    --rounds rounds, each LMA round right after an echo round of the same size, and each
//    ratio is the median of the per-round ratios (with their range).
// 2. Heap bytes per binding at each --mem size: a child process with --expose-gc feeds
//    that many PBUs straight into an LMA (null transport, counting data plane, profiles
//    computed on demand so the policy source holds nothing) and compares heapUsed after a
//    full GC before and after.
//
// Policy source: in memory (profiles generated from the MN index), answering at once through
// MemoryLmaPolicy.policyNow, or with --async-policy only through its promises (the path a
// store-backed source takes); data plane: recording without its op log (throughput) /
// counting only (memory). Logs at "warn".
// 3. With the binding store attached: durable acknowledgements next to write-behind, on
//    PostgreSQL and PGlite, PBA/s, ratio and p99 (lma-store.ts).
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { BuFlag, encodeMessage, mnIdFromNai, parsePrefix, timestampFromMs } from '../src/mh/index.ts';
import type { MobilityOption } from '../src/mh/index.ts';
import type { Profile } from '../src/policy/profile.ts';
import type { LmaPolicySource } from '../src/policy/source.ts';
import type { MemoryLmaPolicy, PolicyAnswer } from '../src/lma/index.ts';
import type { DataPlane } from '../src/dataplane/types.ts';
import type { MhTransport, ReceivedMh } from '../src/transport/types.ts';
import { runStoreBench } from './lma-store.ts';

const SELF = fileURLToPath(import.meta.url);
const ROLE = process.argv.find((a) => a.startsWith('--lma-bench-role='))?.split('=')[1];

/** `--name=value` or `--name value`. */
export function opt(args: string[], name: string, dflt: string): string {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  if (a) return a.slice(name.length + 3);
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
}

/* ------------------------------------------------------------------ shared */

function mnId(i: number): string {
  return `mn${i}@bench.example`;
}

function hnpOf(i: number): string {
  return `2001:db8:${((i >>> 16) & 0xffff).toString(16)}:${(i & 0xffff).toString(16)}::/64`;
}

function indexOf(mn: string): number {
  return Number(mn.slice(2, mn.indexOf('@')));
}

/** A profile computed from the MN index. */
function profileOf(mn: string): Profile | null {
  const i = indexOf(mn);
  if (!Number.isInteger(i) || !mn.endsWith('@bench.example')) return null;
  return {
    id: i, mnId: mn, mnLinkLayerIds: [], hnps: [hnpOf(i)], hnpPool: null, ipv4HoA: null, ipv4PrefixLength: null,
    ipv4Pool: null, ipv4DefaultRouter: null, lma: null, lmaGroup: null, serviceSelection: null, greKeyPolicy: 'none',
    dhcpv4Server: null, dhcpv6Server: null, mip6FeatureVector: 0n, enabled: true, createdAt: EPOCH, updatedAt: EPOCH,
  };
}

/**
 * Profiles computed from the MN index: the policy source holds no state. In memory, so it
 * also answers at once (MemoryLmaPolicy.policyNow) unless `async` (--async-policy), which
 * makes every initial registration go through the promise path a store-backed source takes.
 */
export class GeneratedPolicy implements LmaPolicySource, MemoryLmaPolicy {
  readonly policyNow?: (mn: string) => PolicyAnswer;
  constructor(async = false) {
    if (!async) this.policyNow = (mn) => ({ profile: profileOf(mn), magAuthorized: true });
  }
  async profile(mn: string): Promise<Profile | null> {
    return profileOf(mn);
  }
  async magAuthorized(): Promise<boolean> {
    return true;
  }
}
const EPOCH = new Date(0);

/** PBU for MN i: initial (ALL_ZERO HNP, HI = 1) or re-registration (its HNP, HI = 5). Returns the bytes and the timestamp offset. */
function pbuTemplate(i: number, refresh: boolean): { buf: Buffer; tsOff: number } {
  const p = parsePrefix(refresh ? hnpOf(i) : '::/0');
  const options: MobilityOption[] = [
    mnIdFromNai(mnId(i)),
    { type: 'hnp', prefixLen: p.prefixLen, prefix: p.prefix },
    { type: 'handoffIndicator', hi: refresh ? 5 : 1 },
    { type: 'accessTechType', att: 4 },
    { type: 'timestamp', value: 0x0123456789abcdefn },
  ];
  const buf = encodeMessage({ type: 'bu', seq: 0, flags: BuFlag.A | BuFlag.P, lifetime: 900, options });
  const marker = Buffer.from('0123456789abcdef', 'hex');
  return { buf, tsOff: buf.indexOf(marker) };
}

function writeTimestamp(buf: Buffer, off: number, ms: number): void {
  buf.writeBigUInt64BE(timestampFromMs(ms), off);
}

/* ------------------------------------------------------------------ load generator (child) */

export interface GenRun {
  cmd: 'run';
  /** 'udp4' (default): IPv4/UDP to address:port; 'ip6': raw IPv6 MH to address (the generator needs --ip6=SRC). */
  carriage?: 'udp4' | 'ip6';
  address: string;
  port: number;
  /** Templates for MN indexes [0, size). */
  size: number;
  /** MN indexes [from, from + n) are cycled. */
  from: number;
  n: number;
  count: number;
  window: number;
  refresh: boolean;
}

interface Templates {
  t: { buf: Buffer; tsOff: number }[];
  /** Last timestamp sent per MN (ms), across runs. */
  lastTs: Float64Array;
}

/** How the generator reaches the LMA: send one PBU, and subscribe to what comes back. */
interface Wire {
  send(buf: Buffer): void;
  listen(h: ((data: Buffer) => void) | null): void;
}

async function generatorMain(): Promise<void> {
  const bind4 = process.argv.find((a) => a.startsWith('--bind4='))?.slice(8) ?? '127.0.0.2';
  const src6 = process.argv.find((a) => a.startsWith('--ip6='))?.slice(6);
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, bind4, () => r()));
  try {
    sock.setRecvBufferSize(16 << 20);
    sock.setSendBufferSize(16 << 20);
  } catch {
    /* capped */
  }
  let udpHandler: ((data: Buffer) => void) | null = null;
  sock.on('message', (d) => udpHandler?.(d));
  let ip6: import('../src/transport/ip6.ts').Ip6Transport | undefined;
  let ip6Handler: ((data: Buffer) => void) | null = null;
  if (src6) {
    const { Ip6Transport } = await import('../src/transport/ip6.ts');
    ip6 = Ip6Transport.open({ addresses: [src6], recvBufferSize: 16 << 20, sendBufferSize: 16 << 20, what: 'bench generator' });
    ip6.onReceive((m) => ip6Handler?.(m.data));
  }
  const wireFor = (m: GenRun): Wire =>
    m.carriage === 'ip6'
      ? { send: (b) => ip6!.send(b, { address: m.address }), listen: (h) => (ip6Handler = h) }
      : { send: (b) => sock.send(b, m.port, m.address), listen: (h) => (udpHandler = h) };
  const templates = new Map<string, Templates>();
  process.on('message', (m: GenRun) => {
    if (m.cmd !== 'run') return;
    const key = `${m.size}/${m.refresh}`;
    let t = templates.get(key);
    if (!t) {
      t = { t: Array.from({ length: m.size }, (_, i) => pbuTemplate(i, m.refresh)), lastTs: new Float64Array(m.size) };
      templates.set(key, t);
    }
    void drive(wireFor(m), t, m).then((r) => process.send!(r));
  });
  process.send!({ ready: true });
}

async function drive(wire: Wire, tpl: Templates, m: GenRun): Promise<{ completed: number; ms: number; retransmits: number }> {
  const templates = tpl.t;
  const W = Math.min(m.window, 65536);
  const slotSentAt = new Float64Array(W);
  const slotMn = new Int32Array(W).fill(-1);
  let next = 0;
  let completed = 0;
  let retransmits = 0;
  // RFC 5213 §5.5: timestamps must grow per MN and stay within TimestampValidityWindow of
  // the LMA's clock. Sub-millisecond real time, bumped one unit (1/65536 s) only when an MN
  // would repeat its previous value: a global "strictly increasing" rule would run ahead
  // of real time above ~50,000 PBUs/s and get 156 (TIMESTAMP_MISMATCH) back.
  const lastTs = tpl.lastTs;
  const send = (slot: number, mn: number): void => {
    const t = templates[mn];
    const buf = Buffer.from(t.buf); // own copy: the slot's bytes may be in flight
    let ts = performance.timeOrigin + performance.now();
    if (ts <= lastTs[mn]) ts = lastTs[mn] + 1000 / 65536;
    lastTs[mn] = ts;
    writeTimestamp(buf, t.tsOff, ts);
    buf.writeUInt16BE(slot, 6); // sequence number = window slot (ignored by the LMA in timestamp mode)
    slotSentAt[slot] = performance.now();
    slotMn[slot] = mn;
    wire.send(buf);
  };
  const start = performance.now();
  return await new Promise((resolve) => {
    const onMsg = (data: Buffer): void => {
      if (data.length < 12) return;
      // PBA: sequence number at offset 8; an echoed PBU: at offset 6.
      const slot = data[2] === 6 ? data.readUInt16BE(8) : data.readUInt16BE(6);
      if (slot >= W || slotMn[slot] < 0) return;
      slotMn[slot] = -1;
      completed++;
      if (completed >= m.count) {
        wire.listen(null);
        clearInterval(timer);
        resolve({ completed, ms: performance.now() - start, retransmits });
        return;
      }
      if (next < m.count) send(slot, m.from + (next++ % m.n));
    };
    wire.listen(onMsg);
    const timer = setInterval(() => {
      const now = performance.now();
      for (let s = 0; s < W; s++) {
        if (slotMn[s] >= 0 && now - slotSentAt[s] > 1000) {
          retransmits++;
          send(s, slotMn[s]);
        }
      }
    }, 200);
    for (let s = 0; s < W && next < m.count; s++) send(s, m.from + (next++ % m.n));
  });
}

/* ------------------------------------------------------------------ heap per binding (child) */

class CountingDataPlane implements DataPlane {
  tunnels = 0;
  routes = 0;
  async ensureTunnel(): Promise<string> {
    this.tunnels++;
    return 't';
  }
  async removeTunnel(): Promise<void> {}
  async addRoute(): Promise<void> {
    this.routes++;
  }
  async removeRoute(): Promise<void> {}
}

async function memMain(): Promise<void> {
  const n = Number(process.argv.find((a) => a.startsWith('--n='))!.slice(4));
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const { Lma } = await import('../src/lma/index.ts');
  let handler: ((m: ReceivedMh) => void) | undefined;
  const transport: MhTransport = {
    send() {},
    onReceive(h) {
      handler = h;
    },
    localAddress: () => ({ address: '127.0.0.1', port: 5436 }),
    close: async () => undefined,
  };
  const dp = new CountingDataPlane();
  // A wide timestamp window: PBUs are queued faster than processed here, and a stale one would not bind.
  const lma = new Lma({
    transport, dataPlane: dp, policy: new GeneratedPolicy(),
    config: { address: '127.0.0.1', heartbeatIntervalMs: 0, maxLifetimeS: 262140, timestampValidityWindowMs: 3_600_000 },
  });
  await lma.start();
  const settle = async (): Promise<void> => {
    for (let k = 0; k < 3; k++) {
      await new Promise((r) => setImmediate(r));
      await lma.settle();
    }
  };
  // warm the code paths, then drop those bindings from the measurement by measuring after them
  const MAGS = 100;
  const feed = async (from: number, to: number): Promise<void> => {
    for (let i = from; i < to; i++) {
      const t = pbuTemplate(i, false);
      writeTimestamp(t.buf, t.tsOff, Date.now());
      handler!({ data: t.buf, from: { address: `127.0.${1 + (i % MAGS)}.1`, port: 5436 }, local: '127.0.0.1', carriage: 'udp4' });
      if ((i & 4095) === 4095) await settle();
    }
    await settle();
  };
  await feed(0, 1000);
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  await feed(1000, 1000 + n);
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  const bindings = lma.bindingCount - 1000;
  if (bindings !== n) process.stderr.write(`warning: ${bindings} of ${n} PBUs made a binding\n`);
  process.send!({ n: bindings, bytes: after - before, perBinding: (after - before) / bindings, routes: dp.routes, rss: process.memoryUsage().rss });
  process.exit(0);
}

/* ------------------------------------------------------------------ parent */

export function child(role: string, extraArgs: string[] = [], execArgv: string[] = []): ChildProcess {
  return fork(SELF, [`--lma-bench-role=${role}`, ...extraArgs], {
    execArgv: ['--import', 'tsx', ...execArgv],
    env: { ...process.env, PMIP6_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

export function once<T>(c: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`bench child exited with ${code}`));
    c.once('exit', onExit);
    c.once('message', (m) => {
      c.off('exit', onExit);
      resolve(m as T);
    });
  });
}

export const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export async function run(args: string[]): Promise<void> {
  process.env.PMIP6_LOG_LEVEL ??= 'warn';
  if (opt(args, 'transport', 'udp') === 'ip6') {
    const { runIp6 } = await import('./lma-ip6.ts');
    return runIp6(args);
  }
  if (args.includes('--store-only')) return runStoreBench(args);
  if (!args.includes('--in-process')) {
    const { runOutside } = await import('./lma-outside.ts');
    return runOutside(args);
  }
  const n = Number(opt(args, 'bindings', '100000'));
  const count = Number(opt(args, 'count', '200000'));
  const window = Number(opt(args, 'window', '256'));
  const rounds = Math.max(1, Number(opt(args, 'rounds', '5')));
  const asyncPolicy = args.includes('--async-policy');
  const memSizes = opt(args, 'mem', '100000,1000000').split(',').filter(Boolean).map(Number);

  const { Lma } = await import('../src/lma/index.ts');
  const { openUdpTransport } = await import('../src/transport/udp.ts');
  const { RecordingDataPlane } = await import('../src/dataplane/recording.ts');

  console.log(`LMA PBU->PBA over UDP loopback: ${fmt(n)} bindings, ${fmt(count)} PBUs per measurement, window ${window}`);
  console.log(`policy: in memory (generated profiles), ${asyncPolicy ? 'asked through promises (--async-policy)' : 'answered at once (policyNow)'}; data plane: RecordingDataPlane without op log; generator: child process`);

  const gen = child('gen');
  await once(gen);
  type Run = { completed: number; ms: number; retransmits: number };
  const measure = async (port: number, refresh: boolean, cnt: number, from = 0, nn = n): Promise<Run> => {
    gen.send({ cmd: 'run', address: '127.0.0.1', port, size: n, from, n: nn, count: cnt, window, refresh } satisfies GenRun);
    return once(gen);
  };

  // Baseline: a plain Node UDP echo server.
  const echo = dgram.createSocket('udp4');
  await new Promise<void>((r) => echo.bind(0, '127.0.0.1', () => r()));
  try {
    echo.setRecvBufferSize(16 << 20);
    echo.setSendBufferSize(16 << 20);
  } catch {
    /* capped */
  }
  echo.on('message', (m, r) => echo.send(m, r.port, r.address));
  const echoPort = echo.address().port;
  await measure(echoPort, true, Math.min(count, 20000)); // warm-up

  // The LMA.
  const lmaT = await openUdpTransport({ addresses: ['127.0.0.1'], port: 0, recvBufferSize: 16 << 20 });
  const lma = new Lma({
    transport: lmaT,
    dataPlane: new RecordingDataPlane(false),
    policy: new GeneratedPolicy(asyncPolicy),
    config: { address: '127.0.0.1', heartbeatIntervalMs: 0, maxLifetimeS: 262140 },
  });
  await lma.start();
  const port = lmaT.localAddress().port!;

  // The machine is shared: each LMA round is paired with an echo round of the same size run
  // just before it, and the ratio is taken per pair (median over the rounds).
  const pairs = { initial: [] as { lma: Run; echo: Run }[], refresh: [] as { lma: Run; echo: Run }[] };
  const chunk = Math.ceil(n / rounds);
  for (let k = 0; k * chunk < n; k++) {
    const c = Math.min(chunk, n - k * chunk);
    const e = await measure(echoPort, true, c);
    pairs.initial.push({ echo: e, lma: await measure(port, false, c, k * chunk, c) });
  }
  if (lma.bindingCount !== n) console.log(`warning: ${lma.bindingCount} bindings after ${n} registrations`);
  const per = Math.ceil(count / rounds);
  for (let k = 0; k < rounds; k++) {
    const e = await measure(echoPort, true, per);
    pairs.refresh.push({ echo: e, lma: await measure(port, true, per) });
  }
  const total = (rs: Run[]): Run => ({ completed: rs.reduce((a, r) => a + r.completed, 0), ms: rs.reduce((a, r) => a + r.ms, 0), retransmits: rs.reduce((a, r) => a + r.retransmits, 0) });
  const reg = total(pairs.initial.map((p) => p.lma));
  const ref = total(pairs.refresh.map((p) => p.lma));
  const allEcho = [...pairs.initial, ...pairs.refresh].map((p) => p.echo);
  const echoRate = rate(total(allEcho));
  const ratios = (ps: { lma: Run; echo: Run }[]): number[] => ps.map((p) => rate(p.lma) / rate(p.echo)).sort((a, b) => a - b);
  const median = (xs: number[]): number => (xs.length % 2 ? xs[(xs.length - 1) / 2] : (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2);
  const ri = ratios(pairs.initial);
  const rr = ratios(pairs.refresh);
  const spread = (xs: number[]): string => `${xs[0].toFixed(2)}..${xs[xs.length - 1].toFixed(2)}`;

  console.log('');
  console.log(`  echo baseline          ${fmt(echoRate).padStart(10)} msg/s   (${allEcho.length} rounds: ${fmt(Math.min(...allEcho.map(rate)))}..${fmt(Math.max(...allEcho.map(rate)))})`);
  console.log(`  initial registrations  ${fmt(rate(reg)).padStart(10)} PBA/s   (cache 0 -> ${fmt(lma.bindingCount)} in ${pairs.initial.length} rounds, ${reg.retransmits} retransmits)`);
  console.log(`  re-registrations       ${fmt(rate(ref)).padStart(10)} PBA/s   (${fmt(lma.bindingCount)} bindings held, ${rounds} rounds, ${ref.retransmits} retransmits)`);
  console.log(`  ratio to the echo round before it (median, range): re-registrations ${median(rr).toFixed(2)} (${spread(rr)})   initial ${median(ri).toFixed(2)} (${spread(ri)})   (target >= 0.5)`);
  const status0 = lma.counters.pbaByStatus[0];
  const others = lma.counters.pbaByStatus.flatMap((v, st) => (st !== 0 && v > 0 ? [`${st}: ${fmt(v)}`] : []));
  console.log(`  PBAs with status 0: ${fmt(status0)} of ${fmt(lma.counters.tx.pba)}${others.length ? ` (others: ${others.join(', ')})` : ''}`);

  gen.kill();
  await lma.stop();
  await lmaT.close();
  echo.close();

  console.log('');
  console.log('heap per binding (child process, --expose-gc, heapUsed after full GC, LMA structures only):');
  for (const size of memSizes) {
    const c = child('mem', [`--n=${size}`], ['--expose-gc', '--max-old-space-size=6144']);
    const r = await once<{ n: number; bytes: number; perBinding: number; rss: number }>(c);
    console.log(`  ${fmt(r.n).padStart(10)} bindings: ${fmt(r.bytes / 1048576)} MiB heap, ${fmt(r.perBinding)} bytes per binding (target <= 1024); rss ${fmt(r.rss / 1048576)} MiB`);
  }
  if (!args.includes('--no-store')) await runStoreBench(args);
}

export function rate(r: { completed: number; ms: number }): number {
  return (r.completed * 1000) / r.ms;
}

if (ROLE === 'gen') void generatorMain();
if (ROLE === 'mem') void memMain();
if (ROLE === 'lma-ns') void import('./lma-ip6.ts').then((m) => m.lmaInNamespaceMain());
