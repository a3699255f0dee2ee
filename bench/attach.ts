// `npm run bench -- attach [--frames=200000]`
//
// What one access-link frame costs the MAG's detector (src/attach/), in this process:
//   baseline  the codec alone: parseAccessFrame on an MLDv2 report (Ethernet, IPv6, Hop-by-Hop, ICMPv6 checksum);
//   known     the same report from the attached MN through AccessLinkDetector (parse, rate window, NUD touch);
//   unknown   reports from ever-new MACs (identification miss, drop counted, logged once per MAC and link);
//   dhcp      DHCPDISCOVERs from the attached MN before its binding (parse, held).
// Frames per second for each and the ratio to the baseline. The kernel's BPF filter keeps the
// MN's data frames from ever reaching this path; mag.access.maxFramesPerSecond (default 200
// per interface) bounds what a flooding host can make it do.
import { performance } from 'node:perf_hooks';
import { AccessLinkDetector } from '../src/attach/detector.ts';
import { parseAccessFrame } from '../src/attach/icmp6.ts';
import { ManualClock } from '../src/util/clock.ts';
import { FakeIo, mldReport } from '../test/attach/fake-io.ts';
import { pino } from 'pino';

function discover(mac: string): Buffer {
  const m = Buffer.from(mac.replace(/:/g, ''), 'hex');
  const bootp = Buffer.alloc(244);
  bootp[0] = 1;
  bootp[1] = 1;
  bootp[2] = 6;
  m.copy(bootp, 28);
  bootp.writeUInt32BE(0x63825363, 236);
  bootp.set([53, 1, 1, 255], 240);
  const f = Buffer.alloc(14 + 20 + 8 + bootp.length);
  f.fill(0xff, 0, 6);
  m.copy(f, 6);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(20 + 8 + bootp.length, 16);
  f[22] = 64;
  f[23] = 17;
  f.fill(0xff, 30, 34);
  let s = 0;
  for (let i = 14; i < 34; i += 2) s += f.readUInt16BE(i);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  f.writeUInt16BE(~s & 0xffff, 24);
  f.writeUInt16BE(68, 34);
  f.writeUInt16BE(67, 36);
  f.writeUInt16BE(8 + bootp.length, 38);
  bootp.copy(f, 42);
  return f;
}

function rate(n: number, f: (i: number) => void): number {
  for (let i = 0; i < Math.min(n, 5000); i++) f(i); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f(i);
  return n / ((performance.now() - t0) / 1000);
}

export async function run(args: string[]): Promise<void> {
  const n = Number(args.find((a) => a.startsWith('--frames='))?.split('=')[1] ?? 200_000);
  const MAC = '02:00:5e:10:00:01';
  const report = mldReport(MAC);
  const clock = new ManualClock();
  const io = new FakeIo();
  const log = pino({ level: 'silent' });
  const d = new AccessLinkDetector({ interfaces: ['acc*'], maxFramesPerSecond: Number.MAX_SAFE_INTEGER }, { clock, io, identify: (m) => (m === MAC ? 'mn1@bench' : null), log });
  d.onEvent(() => undefined);
  await d.start();
  io.link(1, 'acc0', true);
  io.rx(1, report);
  const base = rate(n, () => void parseAccessFrame(report));
  const known = rate(n, () => io.rx(1, report));
  const unknownFrames = Array.from({ length: 4096 }, (_, i) => mldReport(`02:01:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`));
  io.link(2, 'acc1', true);
  const unknown = rate(n, (i) => io.rx(2, unknownFrames[i & 4095]));
  const disc = discover(MAC);
  const dhcp = rate(n, () => io.rx(1, disc));
  const row = (name: string, r: number) => process.stdout.write(`${name.padEnd(9)} ${Math.round(r).toLocaleString('en').padStart(12)} frames/s  ${(r / base).toFixed(2)} x baseline\n`);
  row('baseline', base);
  row('known', known);
  row('unknown', unknown);
  row('dhcp', dhcp);
  process.stdout.write(`(frames per run ${n}; drops counted: ${JSON.stringify({ unknownMac: d.counters.dropped.unknownMac })})\n`);
  await d.stop();
}
