// `npm run bench -- steering [--n=200]`: what one change of the user-space data plane's
// policy routing costs (src/dataplane/steering.ts): rtnetlink from the native addon
// (rtnl.ts) next to iproute2's `ip` command (iproute.ts, the baseline), in the same run, in a
// namespace of its own. Each round is route replace + rule add + rule del + route del for
// one HNP: a MAG does the adds on every registration and handover (RFC 5213 §6.10).
// Needs root. The driver (test/dataplane/rtnl-driver.ts) runs inside the namespace.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Lab, netnsUnavailable } from '../test/helpers/netns.ts';

const DRIVER = fileURLToPath(new URL('../test/dataplane/rtnl-driver.ts', import.meta.url));

export async function run(args: string[]): Promise<void> {
  const skip = netnsUnavailable();
  if (skip) {
    process.stdout.write(`skipped: ${skip}\n`);
    return;
  }
  const n = Number(args.find((a) => a.startsWith('--n='))?.slice(4) ?? 200);
  const lab = new Lab('bsteer');
  try {
    const ns = lab.ns('s');
    ns.ip('link', 'add', 'bsv0', 'type', 'veth', 'peer', 'name', 'bsv1');
    ns.ip('link', 'set', 'bsv0', 'up');
    const few = Math.max(5, Math.round(n / 20));
    const steps = [
      { time: 'rtnetlink', n, dev: 'bsv0' }, { time: 'ip-command', n: few, dev: 'bsv0' },
      { steer: 'rtnetlink', n: few * 2, dev: 'bsv0' }, { steer: 'ip-command', n: few, dev: 'bsv0' },
    ];
    const out = JSON.parse(execFileSync('ip', ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', DRIVER, JSON.stringify(steps)], { encoding: 'utf8' })) as { ok: boolean; result: { perOpUs: number; addUs: number; removeUs: number } }[];
    const bad = out.find((o) => !o.ok);
    if (bad) throw new Error(JSON.stringify(bad));
    const [nl, ipc] = out.map((o) => o.result.perOpUs);
    const [snl, sip] = [out[2].result, out[3].result];
    const load = (await import('node:os')).loadavg()[0].toFixed(2);
    process.stdout.write(`per route/rule change: rtnetlink ${nl.toFixed(1)} µs, ip command ${(ipc / 1000).toFixed(2)} ms: ${(ipc / nl).toFixed(0)}x\n`);
    process.stdout.write(
      `MAG addRoute (HNP out of the access link: rule from, route, rule to): rtnetlink ${(snl.addUs / 1000).toFixed(3)} ms, ip command ${(sip.addUs / 1000).toFixed(2)} ms: ${(sip.addUs / snl.addUs).toFixed(0)}x; ` +
        `removeRoute ${(snl.removeUs / 1000).toFixed(3)} ms vs ${(sip.removeUs / 1000).toFixed(2)} ms (load average ${load})\n`,
    );
  } finally {
    await lab.cleanup();
  }
}
