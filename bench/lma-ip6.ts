// `npm run bench -- lma --transport ip6 [--bindings=50000] [--count=100000] [--window=256] [--rounds=5]`
//
// PBU -> PBA per second over raw IPv6 (Mobility Header, protocol 135; our native addon)
// next to IPv4/UDP 5436 (RFC 5844 §4; Node's dgram), measured in the same run between the
// same two network namespaces joined by a veth pair: the LMA in one (a child process,
// listening on both carriages at once, as `pmip6 start` does), the load generator in the
// other (another child process, keeping --window PBUs outstanding per carriage). Each
// carriage registers and re-registers its own --bindings MNs; rounds alternate UDP and raw
// IPv6, and the ratio is the median of the per-round ratios (the machine is shared).
// Reported: PBA/s for initial registrations and re-registrations per carriage, the ratio,
// the LMA process's RSS, and the native receive path's batching. Needs root (namespaces,
// CAP_NET_RAW); addresses: 2001:db8:be::/64 and 198.51.100.0/24.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fmt, GeneratedPolicy, once, opt, rate, type GenRun } from './lma.ts';

const LMA = fileURLToPath(new URL('./lma.ts', import.meta.url));
const L6 = '2001:db8:be::1';
const G6 = '2001:db8:be::2';
const L4 = '198.51.100.1';
const G4 = '198.51.100.2';

interface LmaReport {
  pba: number;
  status0: number;
  others: string[];
  bindings: number;
  rss: number;
  ip6: Record<string, number>;
}

/* ------------------------------------------------------------------ the LMA, inside its namespace */

export async function lmaInNamespaceMain(): Promise<void> {
  const { Lma } = await import('../src/lma/index.ts');
  const { Ip6Transport, allTypesBut } = await import('../src/transport/ip6.ts');
  const { openUdpTransport } = await import('../src/transport/udp.ts');
  const { RecordingDataPlane } = await import('../src/dataplane/recording.ts');
  const ip6 = Ip6Transport.open({ addresses: [L6], types: allTypesBut(6), recvBufferSize: 16 << 20, what: 'bench LMA' });
  const udp = await openUdpTransport({ addresses: [L4], port: 5436, recvBufferSize: 16 << 20 });
  const lma = new Lma({
    transport: [ip6, udp],
    dataPlane: new RecordingDataPlane(false),
    policy: new GeneratedPolicy(),
    config: { address: L6, ipv4Address: L4, heartbeatIntervalMs: 0, maxLifetimeS: 262140 },
  });
  await lma.start();
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd !== 'report') return;
    const c = lma.counters;
    const others = c.pbaByStatus.flatMap((v, st) => (st !== 0 && v > 0 ? [`${st}: ${v}`] : []));
    process.send!({ pba: c.tx.pba, status0: c.pbaByStatus[0], others, bindings: lma.bindingCount, rss: process.memoryUsage().rss, ip6: ip6.stats() } satisfies LmaReport);
  });
  process.send!({ ready: true });
}

/* ------------------------------------------------------------------ parent */

function netnsReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, raw sockets)';
  const r = spawnSync('ip', ['netns', 'list']);
  return r.status === 0 ? null : 'ip netns does not work here';
}

function inNs(ns: string, role: string, extra: string[] = []): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', LMA, `--lma-bench-role=${role}`, ...extra], {
    env: { ...process.env, PMIP6_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

export async function runIp6(args: string[]): Promise<void> {
  const why = netnsReason();
  if (why) {
    console.log(`lma --transport ip6: not run: ${why}`);
    process.exitCode = 1;
    return;
  }
  const n = Number(opt(args, 'bindings', '50000'));
  const count = Number(opt(args, 'count', '100000'));
  const window = Number(opt(args, 'window', '256'));
  const rounds = Math.max(1, Number(opt(args, 'rounds', '5')));
  const tag = `p6b-${process.pid}`;
  const nsL = `${tag}-lma`;
  const nsG = `${tag}-gen`;
  const ip = (...a: string[]): void => void execFileSync('ip', a, { stdio: ['ignore', 'ignore', 'inherit'] });
  const kids: ChildProcess[] = [];
  const cleanup = (): void => {
    for (const k of kids) if (k.exitCode === null) k.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', nsL]);
    spawnSync('ip', ['netns', 'del', nsG]);
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    ip('netns', 'add', nsL);
    ip('netns', 'add', nsG);
    ip('-n', nsL, 'link', 'add', 'bl0', 'type', 'veth', 'peer', 'name', 'bg0');
    ip('-n', nsL, 'link', 'set', 'bg0', 'netns', nsG);
    for (const [ns, dev, a6, a4] of [[nsL, 'bl0', L6, L4], [nsG, 'bg0', G6, G4]]) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', dev, 'up');
      ip('-n', ns, '-6', 'addr', 'add', `${a6}/64`, 'dev', dev, 'nodad');
      ip('-n', ns, 'addr', 'add', `${a4}/24`, 'dev', dev);
    }
    const lma = inNs(nsL, 'lma-ns');
    kids.push(lma);
    await once(lma);
    const gen = inNs(nsG, 'gen', [`--bind4=${G4}`, `--ip6=${G6}`]);
    kids.push(gen);
    await once(gen);

    console.log(`LMA PBU->PBA between two network namespaces (veth): raw IPv6 (protocol 135, native addon) vs IPv4/UDP 5436 (Node dgram)`);
    console.log(`${fmt(n)} bindings per carriage, ${fmt(count)} re-registrations per carriage, window ${window}, ${rounds} rounds; LMA and generator: child processes`);
    type Run = { completed: number; ms: number; retransmits: number };
    const carriages = { udp4: { address: L4, port: 5436, from: 0 }, ip6: { address: L6, port: 0, from: n } } as const;
    const warm = Math.min(2000, n);
    const size = 2 * n + 2 * warm;
    const measure = (c: 'udp4' | 'ip6', refresh: boolean, cnt: number, from: number, nn: number, base = carriages[c].from): Promise<Run> => {
      gen.send({ cmd: 'run', carriage: c, address: carriages[c].address, port: carriages[c].port, size, from: base + from, n: nn, count: cnt, window, refresh } satisfies GenRun);
      return once(gen);
    };
    // Warm-up (JIT, caches): registrations of MNs outside the measured ranges, both carriages.
    await measure('udp4', false, warm, 0, warm, 2 * n);
    await measure('ip6', false, warm, 0, warm, 2 * n + warm);
    const pairs = { initial: [] as { udp4: Run; ip6: Run }[], refresh: [] as { udp4: Run; ip6: Run }[] };
    const chunk = Math.ceil(n / rounds);
    for (let k = 0; k * chunk < n; k++) {
      const c = Math.min(chunk, n - k * chunk);
      // Alternate which carriage goes first, so neither always gets the warmer machine.
      if (k % 2 === 0) {
        const u = await measure('udp4', false, c, k * chunk, c);
        pairs.initial.push({ udp4: u, ip6: await measure('ip6', false, c, k * chunk, c) });
      } else {
        const i6 = await measure('ip6', false, c, k * chunk, c);
        pairs.initial.push({ udp4: await measure('udp4', false, c, k * chunk, c), ip6: i6 });
      }
    }
    const per = Math.ceil(count / rounds);
    for (let k = 0; k < rounds; k++) {
      if (k % 2 === 0) {
        const u = await measure('udp4', true, per, 0, n);
        pairs.refresh.push({ udp4: u, ip6: await measure('ip6', true, per, 0, n) });
      } else {
        const i6 = await measure('ip6', true, per, 0, n);
        pairs.refresh.push({ udp4: await measure('udp4', true, per, 0, n), ip6: i6 });
      }
    }
    lma.send({ cmd: 'report' });
    const rep = await once<LmaReport>(lma);

    const total = (rs: Run[]): Run => ({ completed: rs.reduce((a, r) => a + r.completed, 0), ms: rs.reduce((a, r) => a + r.ms, 0), retransmits: rs.reduce((a, r) => a + r.retransmits, 0) });
    const median = (xs: number[]): number => (xs.length % 2 ? xs[(xs.length - 1) / 2] : (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2);
    const ratios = (ps: { udp4: Run; ip6: Run }[]): number[] => ps.map((p) => rate(p.ip6) / rate(p.udp4)).sort((a, b) => a - b);
    const spread = (xs: number[]): string => `${xs[0].toFixed(2)}..${xs[xs.length - 1].toFixed(2)}`;
    const line = (what: string, c: 'udp4' | 'ip6'): void => {
      const i = total(pairs.initial.map((p) => p[c]));
      const r = total(pairs.refresh.map((p) => p[c]));
      console.log(`  ${what.padEnd(28)} initial ${fmt(rate(i)).padStart(8)} PBA/s   re-registrations ${fmt(rate(r)).padStart(8)} PBA/s   (${i.retransmits + r.retransmits} retransmits)`);
    };
    console.log('');
    line('IPv4/UDP 5436 (RFC 5844 §4)', 'udp4');
    line('raw IPv6, protocol 135', 'ip6');
    const rr = ratios(pairs.refresh);
    const ri = ratios(pairs.initial);
    console.log(`  ratio raw IPv6 / UDP (median of round pairs, range): re-registrations ${median(rr).toFixed(2)} (${spread(rr)})   initial ${median(ri).toFixed(2)} (${spread(ri)})`);
    const s = rep.ip6;
    console.log(`  LMA: ${fmt(rep.bindings)} bindings, PBAs with status 0: ${fmt(rep.status0)} of ${fmt(rep.pba)}${rep.others.length ? ` (others: ${rep.others.join(', ')})` : ''}; RSS ${fmt(rep.rss / 1048576)} MiB`);
    console.log(`  native receive: ${fmt(s.rxPackets)} datagrams in ${fmt(s.rxBatches)} recvmmsg batches (${(s.rxPackets / Math.max(1, s.rxBatches)).toFixed(1)} per batch), kernel drops ${fmt(s.kernelDrops)}, send errors ${fmt(s.txErrors)}`);
  } finally {
    cleanup();
  }
}
