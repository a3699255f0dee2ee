// Runs inside a test namespace (`ip netns exec`, see rtnl-netns.test.ts): executes the steps
// given as JSON in argv[2] against the native RouteNetlink or a PolicyRouting implementation
// and prints one JSON line: one { ok, result } or { ok: false, error } per step.
//   { native: 'route' | 'rule' | 'dumpRoutes' | 'dumpRules', args: [...] }
//   { routing: 'rtnetlink' | 'ip-command', method: 'ruleAdd' | ..., args: [...] }
//   { time: 'rtnetlink' | 'ip-command', n }   route replace + rule add + rule del + route del,
//     n times: { perOpUs } (bench numbers for the report, never asserted)
//   { steer: 'rtnetlink' | 'ip-command', n, dev }   a MAG's data plane (TUN nlbst0): addRoute of
//     an HNP out of the access link `dev` (what a MAG does at every registration and handover,
//     RFC 5213 §6.10), then removeRoute, n times: { addUs, removeUs } per call
import { loadNative } from '../../src/transport/native.ts';
import { RtnetlinkRouting } from '../../src/dataplane/rtnl.ts';
import { ipCommandRouting } from '../../src/dataplane/iproute.ts';
import type { PolicyRouting } from '../../src/dataplane/steering.ts';
import { UserspaceDataPlane } from '../../src/dataplane/userspace.ts';
import { pino } from 'pino';

type Step = { native?: string; routing?: 'rtnetlink' | 'ip-command'; method?: string; time?: 'rtnetlink' | 'ip-command'; steer?: 'rtnetlink' | 'ip-command'; n?: number; args?: unknown[]; dev?: string };

const n = loadNative();
if (!n.ok || !n.addon.RouteNetlink) throw new Error(n.ok ? 'no RouteNetlink' : n.reason);
const nl = new n.addon.RouteNetlink();
const rt = new RtnetlinkRouting(n.addon);
const impl = (k: string): PolicyRouting => (k === 'rtnetlink' ? rt : ipCommandRouting);
const steps = JSON.parse(process.argv[2] ?? '[]') as Step[];
const out: unknown[] = [];
for (const s of steps) {
  try {
    if (s.native) {
      const fn = (nl as unknown as Record<string, (...a: unknown[]) => unknown>)[s.native];
      out.push({ ok: true, result: fn.apply(nl, s.args ?? []) ?? null });
    } else if (s.routing) {
      const p = impl(s.routing) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      out.push({ ok: true, result: (await p[s.method!](...(s.args ?? []))) ?? null });
    } else if (s.time) {
      const p = impl(s.time);
      const count = s.n ?? 50;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < count; i++) {
        const prefix = `2001:db8:77:${i.toString(16)}::/64`;
        await p.routeReplace(prefix, s.dev!, 5298);
        await p.ruleAdd(6, { from: prefix }, 5298, 5298);
        await p.ruleDel(6, { from: prefix }, 5298, 5298);
        await p.routeDel(prefix, 5298);
      }
      out.push({ ok: true, result: { perOpUs: Number(process.hrtime.bigint() - t0) / 1000 / (count * 4) } });
    } else if (s.steer) {
      const dp = await UserspaceDataPlane.open({
        role: 'mag', addon: n.addon, tunName: 'nlbst0', table: 5296, rulePriority: 5296, mtu: 1452, maxTunnels: 4, maxRoutes: 16,
        enableForwarding: false, log: pino({ level: 'silent' }), dropLogIntervalMs: 0, routing: s.steer,
      });
      const id = await dp.ensureTunnel({ local: '2001:db8:96::2', remote: '2001:db8:96::1', encap: 'ip6ip6' });
      const count = s.n ?? 20;
      let add = 0n;
      let del = 0n;
      for (let i = 0; i < count; i++) {
        const t0 = process.hrtime.bigint();
        await dp.addRoute('2001:db8:96:f001::/64', id, { mnLink: s.dev! });
        const t1 = process.hrtime.bigint();
        await dp.removeRoute('2001:db8:96:f001::/64', id);
        del += process.hrtime.bigint() - t1;
        add += t1 - t0;
      }
      await dp.close();
      out.push({ ok: true, result: { addUs: Number(add) / 1000 / count, removeUs: Number(del) / 1000 / count } });
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    out.push({ ok: false, error: { name: err.name, message: err.message, code: err.code ?? null, errno: err.errno ?? null, syscall: err.syscall ?? null } });
  }
}
nl.close();
rt.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
