// Summarises a V8 CPU profile (`node --cpu-prof`): self time by function and by module,
// optionally only over a window of the process's monotonic clock (µs; the same clock as
// process.hrtime in any process on the host, so a bench can mark phases from outside).
//   node --import tsx bench/cpuprofile.ts FILE.cpuprofile [--from=µs] [--to=µs] [--top=25]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Where a frame's code lives: our file (src/lma/handle.ts), a package, a Node internal, or a V8 pseudo-frame. */
export function moduleOf(f: CallFrame): string {
  const u = f.url;
  if (!u) return f.functionName.startsWith('(') ? f.functionName : '(native)';
  const path = u.startsWith('file://') ? fileURLToPath(u) : u;
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + 13).split('/');
    return `npm:${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (path.startsWith(ROOT)) return path.slice(ROOT.length);
  if (path.startsWith('node:')) return path.split('/').slice(0, 2).join('/');
  return path;
}

/** The summary, or '' when the window holds no busy sample (a worker thread's profile). */
export function summarise(file: string, o: { from?: number; to?: number; top?: number; indent?: string } = {}): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  let t = p.startTime;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i];
    // A sample stands for the time until the next one.
    const dt = i + 1 < p.timeDeltas.length ? p.timeDeltas[i + 1] : 0;
    if ((o.from !== undefined && t < o.from) || (o.to !== undefined && t > o.to)) continue;
    const n = byId.get(p.samples[i]);
    if (!n) continue;
    const m = moduleOf(n.callFrame);
    // (tsx compiles each file to one line: line numbers say nothing)
    const key = `${(n.callFrame.functionName || '(anonymous)').slice(0, 60)}  ${m}`;
    fn.set(key, (fn.get(key) ?? 0) + dt);
    mod.set(m, (mod.get(m) ?? 0) + dt);
    total += dt;
  }
  const ind = o.indent ?? '';
  const top = o.top ?? 25;
  const pct = (v: number): string => `${((100 * v) / Math.max(1, total)).toFixed(1).padStart(5)}%`;
  const idle = mod.get('(idle)') ?? 0;
  if (total - idle <= 0) return '';
  const lines = [`${ind}${(total / 1000).toFixed(0)} ms sampled, ${pct(total - idle)} busy`, `${ind}self time by module:`];
  for (const [k, v] of [...mod].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`${ind}  ${pct(v)}  ${k}`);
  lines.push(`${ind}self time by function:`);
  for (const [k, v] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`${ind}  ${pct(v)}  ${k}`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const a = process.argv.slice(2);
  const num = (n: string): number | undefined => {
    const x = a.find((s) => s.startsWith(`--${n}=`));
    return x ? Number(x.slice(n.length + 3)) : undefined;
  };
  const file = a.find((s) => !s.startsWith('--'));
  if (!file) {
    process.stderr.write('usage: bench/cpuprofile.ts FILE.cpuprofile [--from=µs] [--to=µs] [--top=25]\n');
    process.exit(2);
  }
  console.log(summarise(file, { from: num('from'), to: num('to'), top: num('top') }));
}
