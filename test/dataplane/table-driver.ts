// Runs inside a test namespace (`ip netns exec`, see forwarder-table.test.ts): drives the
// native forwarder's tables with random operations and checks every answer against a model.
// Prints one JSON line: { ops, mismatches: [...first 10], routes, model }.
import { loadNative } from '../../src/transport/native.ts';

const n = loadNative();
if (!n.ok || !n.addon.TunForwarder) throw new Error(n.ok ? 'no TunForwarder' : n.reason);
const seed = Number(process.argv[2] ?? 1);
const opsWanted = Number(process.argv[3] ?? 20000);
let x = seed >>> 0 || 1;
const rnd = (k: number): number => {
  x ^= x << 13;
  x >>>= 0;
  x ^= x >>> 17;
  x ^= x << 5;
  x >>>= 0;
  return x % k;
};
// Few tunnels and prefixes on purpose: collisions, replacements and deletions in long probe chains.
// Two routing contexts (native/src/fwd_table.h): tunnels alternate between them, and the same
// prefix routed in both is two routes; one context's changes never touch the other's.
const f = new n.addon.TunForwarder({ name: 'dptbl0', role: 'lma', maxTunnels: 16, maxRoutes: 4096, contexts: ['dptbl1'] });
const slots: number[] = [];
const ctxOf = new Map<number, number>(); // slot -> context
const model = new Map<string, number>(); // "context|prefix" -> slot
const mismatches: string[] = [];
const prefixOf = (i: number): [string, number] => (i % 5 === 4 ? [`10.${(i >> 8) & 255}.${i & 255}.1`, 32] : [`2001:db8:${((i * 7919) & 0xffff).toString(16)}:${(i & 0xfff).toString(16)}::`, 48 + (i % 3) * 8]);
const key = (p: [string, number], slot: number) => `${ctxOf.get(slot)}|${p[0]}/${p[1]}`;
const ENOENT = 2;
const ESRCH = 3;
const addTunnel = (spec: Parameters<typeof f.addTunnel>[0]): number => {
  const s = f.addTunnel(spec);
  ctxOf.set(s, spec.ctx ?? 0);
  return s;
};
for (let t = 0; t < 8; t++) slots.push(addTunnel({ local: '2001:db8::1', remote: `2001:db8::${t + 2}`, encap: t % 2 ? 'gre' : 'ip6', ...(t % 2 ? { keyIn: t, keyOut: t } : {}), ctx: (t >> 1) % 2 }));
let ops = 0;
for (; ops < opsWanted; ops++) {
  const p = prefixOf(rnd(3000));
  const r = rnd(10);
  if (r < 5) {
    const s = slots[rnd(slots.length)];
    const k = key(p, s);
    const rc = f.addRoute(p[0], p[1], s);
    if (rc !== 0) mismatches.push(`add ${k} -> ${rc}`);
    else model.set(k, s);
  } else if (r < 9) {
    const s = slots[rnd(slots.length)];
    const k = key(p, s);
    const rc = f.removeRoute(p[0], p[1], s);
    const want = !model.has(k) ? ENOENT : model.get(k) === s ? 0 : ESRCH;
    if (rc !== want) mismatches.push(`remove ${k} over ${s}: ${rc}, model says ${want}`);
    if (rc === 0) model.delete(k);
  } else if (ops % 50 === 0) {
    // a tunnel goes with its routes, and comes back in a free slot
    const i = rnd(slots.length);
    const gone = slots[i];
    if (f.removeTunnel(gone) !== 0) mismatches.push(`removeTunnel ${gone}`);
    for (const [mk, ms] of model) if (ms === gone) model.delete(mk);
    slots[i] = addTunnel({ local: '2001:db8::1', remote: `2001:db8::${((100 + ops) & 0xffff).toString(16)}`, encap: 'ip6', ctx: ops % 2 });
  }
  if (mismatches.length >= 10) break;
}
const st = f.stats();
if (st.contexts.map((c) => c.tun).join() !== 'dptbl0,dptbl1') mismatches.push(`contexts ${JSON.stringify(st.contexts)}`);
const routes = st.routes;
f.close();
process.stdout.write(`${JSON.stringify({ ops, mismatches, routes, model: model.size })}\n`);
