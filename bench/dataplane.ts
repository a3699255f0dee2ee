// `npm run bench -- dataplane [--seconds=3]`: the user-space forwarder (TUN + raw sockets,
// native threads; src/dataplane/userspace.ts) against plain IPv6 routing between the same
// four network namespaces in the same run: MN -> MAG -> LMA -> CN. For 64- and 1400-octet
// IPv6 packets: packets per second delivered to the CN (a UDP flood from the MN), and the
// round-trip time of a ping MN -> CN -> MN (the added latency is the difference). The data
// planes are programmed by hand (bench/dataplane-node.ts: one IPv6-in-IPv6 tunnel, one HNP
// route), so only forwarding is measured, not signalling. Needs root, python3 and ping.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Lab, netnsUnavailable, type Netns } from '../test/helpers/netns.ts';

const TRAFFIC = fileURLToPath(new URL('./dp_traffic.py', import.meta.url));
const NODE = fileURLToPath(new URL('./dataplane-node.ts', import.meta.url));
const HNP = '2001:db8:d2:f001::/64';
const MN = '2001:db8:d2:f001::5';
const MAG = '2001:db8:d2:1::2';
const LMA = '2001:db8:d2:1::1';
const CN = '2001:db8:d2:c::2';

function lines(c: ChildProcess): { next(re: RegExp, ms?: number): Promise<string> } {
  let buf = '';
  const waiters: { re: RegExp; resolve: (s: string) => void }[] = [];
  c.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    if (process.env.DPB_DEBUG) process.stderr.write(`[${JSON.stringify(buf)}]\n`);
    for (const w of [...waiters]) {
      const m = w.re.exec(buf);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m[0]);
      }
    }
  });
  return {
    next: (re, ms = 60_000) =>
      new Promise((resolve, reject) => {
        const m = re.exec(buf);
        if (m) return resolve(m[0]);
        waiters.push({ re, resolve });
        setTimeout(() => reject(new Error(`timed out waiting for ${re} (have: ${buf.slice(-300)})`)), ms);
      }),
  };
}

async function rate(mn: Netns, cn: Netns, iplen: number, seconds: number): Promise<number> {
  const sink = cn.spawn('/usr/bin/python3', [TRAFFIC, 'sink', '9', String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const out = lines(sink);
  await out.next(/ready/);
  const flood = mn.spawn('/usr/bin/python3', [TRAFFIC, 'flood', CN, '9', String(iplen), String(seconds + 1)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const res = await out.next(/\n(\d+) ([\d.]+)\n/, (seconds + 30) * 1000);
  if (flood.exitCode === null && flood.signalCode === null) await new Promise((r) => flood.once('exit', r));
  const [, n, t] = /(\d+) ([\d.]+)/.exec(res)!;
  return Number(n) / Number(t);
}

/** Waits until the MN reaches the CN (fresh links: neighbour discovery, duplicate address detection). */
async function reachable(mn: Netns): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (spawnSync('ip', ['netns', 'exec', mn.name, 'ping', '-6', '-c', '1', '-W', '1', CN]).status === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the MN never reached the CN');
}

function rtt(mn: Netns, iplen: number): number {
  const r = spawnSync('ip', ['netns', 'exec', mn.name, 'ping', '-6', '-q', '-c', '200', '-i', '0.005', '-s', String(iplen - 48), CN], { encoding: 'utf8' });
  const m = /= [\d.]+\/([\d.]+)\//.exec(r.stdout);
  if (!m) throw new Error(`ping failed: ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

export async function run(args: string[]): Promise<void> {
  const seconds = Number(args.find((a) => a.startsWith('--seconds='))?.split('=')[1] ?? 3);
  const why = netnsUnavailable();
  if (why) {
    process.stdout.write(`skipped: ${why}\n`);
    return;
  }
  const lab = new Lab('dpb');
  const procs: ChildProcess[] = [];
  try {
    const [mn, mag, lma, cn] = ['mn', 'mag', 'lma', 'cn'].map((r) => lab.ns(r));
    const [mnIf, access] = lab.link(mn, mag);
    const [magUp, lmaDown] = lab.link(mag, lma);
    const [lmaUp, cnIf] = lab.link(lma, cn);
    mn.addAddress(mnIf, `${MN}/64`);
    mag.addAddress(access, 'fe80::1/64');
    mn.ip('-6', 'route', 'add', 'default', 'via', 'fe80::1', 'dev', mnIf);
    mag.addAddress(magUp, `${MAG}/64`);
    lma.addAddress(lmaDown, `${LMA}/64`);
    lma.addAddress(lmaUp, '2001:db8:d2:c::1/64');
    cn.addAddress(cnIf, `${CN}/64`);
    cn.ip('-6', 'route', 'add', 'default', 'via', '2001:db8:d2:c::1');
    mag.ip('-6', 'route', 'add', `${HNP}`, 'dev', access);
    for (const n of [mag, lma]) spawnSync('ip', ['netns', 'exec', n.name, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);

    const results: Record<string, { pps: Record<number, number>; rtt: Record<number, number> }> = {};
    const measure = async (label: string) => {
      const r: { pps: Record<number, number>; rtt: Record<number, number> } = { pps: {}, rtt: {} };
      results[label] = r;
      await reachable(mn);
      for (const size of [64, 1400]) {
        r.rtt[size] = rtt(mn, size); // first: it also resolves every neighbour on the path
        r.pps[size] = await rate(mn, cn, size, seconds);
        process.stdout.write(`${label.padEnd(10)} ${String(size).padStart(4)} octets: ${Math.round(r.pps[size]).toLocaleString('en').padStart(9)} packets/s delivered, RTT ${r.rtt[size].toFixed(3)} ms\n`);
      }
    };

    // Plain routing: the MAG routes to the CN through the LMA, the LMA to the HNP through the MAG.
    mag.ip('-6', 'route', 'add', 'default', 'via', LMA);
    lma.ip('-6', 'route', 'add', HNP, 'via', MAG);
    await measure('plain');
    mag.ip('-6', 'route', 'del', 'default', 'via', LMA);
    lma.ip('-6', 'route', 'del', HNP, 'via', MAG);

    // The user-space forwarder: an IPv6-in-IPv6 tunnel MAG <-> LMA carrying the HNP.
    for (const [ns, role, local, remote] of [[mag, 'mag', MAG, LMA], [lma, 'lma', LMA, MAG]] as const) {
      const c = ns.spawn(process.execPath, ['--import', 'tsx', NODE, role, local, remote, HNP, role === 'mag' ? access : ''], { stdio: ['ignore', 'pipe', 'inherit'] });
      procs.push(lab.track(c));
      await lines(c).next(/ready/);
    }
    if (process.env.DPB_DEBUG) {
      for (const n of [mag, lma]) process.stderr.write(`${n.name}\n${n.ip('link')}${n.ip('-6', 'rule')}${n.ip('-6', 'route', 'show', 'table', 'all')}\n`);
    }
    await measure('forwarder');
    const stats: string[] = [];
    for (const c of procs) {
      const out = lines(c);
      c.kill('SIGTERM');
      stats.push(await out.next(/\{.*\}\n/));
    }
    const f = results.forwarder;
    const p = results.plain;
    process.stdout.write('\nsize  forwarder pps / plain pps = ratio   RTT forwarder - plain = added (round trip)\n');
    for (const size of [64, 1400]) {
      process.stdout.write(
        `${String(size).padStart(4)}  ${Math.round(f.pps[size])} / ${Math.round(p.pps[size])} = ${(f.pps[size] / p.pps[size]).toFixed(2)}   ${f.rtt[size].toFixed(3)} - ${p.rtt[size].toFixed(3)} = ${(f.rtt[size] - p.rtt[size]).toFixed(3)} ms\n`,
      );
    }
    for (const s of stats) {
      const j = JSON.parse(s) as { name: string; tx: { packets: number; batches: number }; rx: { packets: number; batches: number }; drops: Record<string, { tx: number; rx: number }> };
      const drops = Object.entries(j.drops).filter(([, v]) => v.tx + v.rx > 0).map(([k, v]) => `${k} ${v.tx + v.rx}`).join(', ') || 'none';
      process.stdout.write(`${j.name}: encapsulated ${j.tx.packets} (${(j.tx.packets / Math.max(1, j.tx.batches)).toFixed(1)}/batch), decapsulated ${j.rx.packets} (${(j.rx.packets / Math.max(1, j.rx.batches)).toFixed(1)}/batch), drops: ${drops}\n`);
    }
  } finally {
    for (const c of procs) if (c.exitCode === null) c.kill('SIGTERM');
    await lab.cleanup();
  }
}
