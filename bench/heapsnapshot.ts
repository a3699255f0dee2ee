// Summarises a V8 heap snapshot (`node --heapsnapshot-signal=SIGUSR2`): self size and count
// by kind of object (constructor name for objects, the node type for strings, arrays, code and
// V8 internals), largest first. With `per` (e.g. the number of bindings) it also prints bytes
// per unit, so the bench can say where a binding's bytes go.
//   node --import tsx bench/heapsnapshot.ts FILE.heapsnapshot [--per=100000] [--top=25]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

export function summariseHeap(file: string, o: { per?: number; top?: number; indent?: string } = {}): string {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const f = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const W = f.length;
  const iType = f.indexOf('type');
  const iName = f.indexOf('name');
  const iSize = f.indexOf('self_size');
  const by = new Map<string, { bytes: number; count: number }>();
  let total = 0;
  for (let i = 0; i < s.nodes.length; i += W) {
    const type = types[s.nodes[i + iType]];
    const size = s.nodes[i + iSize];
    total += size;
    let key: string;
    if (type === 'object' || type === 'closure') key = `${type === 'closure' ? 'closure ' : ''}${s.strings[s.nodes[i + iName]]}`;
    else if (type === 'hidden' || type === 'native' || type === 'array' || type === 'object shape') key = `(${type}) ${s.strings[s.nodes[i + iName]].slice(0, 40)}`;
    else key = `(${type})`;
    const e = by.get(key) ?? { bytes: 0, count: 0 };
    e.bytes += size;
    e.count++;
    by.set(key, e);
  }
  const ind = o.indent ?? '';
  const per = o.per;
  const lines = [`${ind}${(total / 1048576).toFixed(1)} MiB in the heap snapshot${per ? `, ${(total / per).toFixed(0)} bytes per binding` : ''}; by kind (self size):`];
  for (const [k, v] of [...by].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, o.top ?? 25)) {
    lines.push(`${ind}  ${(v.bytes / 1048576).toFixed(1).padStart(7)} MiB ${String(v.count).padStart(9)} x  ${per ? `${(v.bytes / per).toFixed(0).padStart(5)} B/binding  ` : ''}${k}`);
  }
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const a = process.argv.slice(2);
  const num = (n: string): number | undefined => {
    const x = a.find((v) => v.startsWith(`--${n}=`));
    return x ? Number(x.slice(n.length + 3)) : undefined;
  };
  const file = a.find((v) => !v.startsWith('--'));
  if (!file) {
    process.stderr.write('usage: bench/heapsnapshot.ts FILE.heapsnapshot [--per=N] [--top=25]\n');
    process.exit(2);
  }
  console.log(summariseHeap(file, { per: num('per'), top: num('top') }));
}
