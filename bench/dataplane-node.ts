// One user-space data plane, programmed by hand (no signalling), for `npm run bench -- dataplane`:
// `node --import tsx bench/dataplane-node.ts ROLE LOCAL REMOTE PREFIX [MN_LINK]` inside a namespace.
// Prints "ready" once forwarding is set up; SIGTERM prints its counters and removes everything.
import { pino } from 'pino';
import { UserspaceDataPlane } from '../src/dataplane/userspace.ts';
import { loadNative } from '../src/transport/native.ts';

const [role, local, remote, prefix, link] = process.argv.slice(2);
const n = loadNative();
if (!n.ok) throw new Error(n.reason);
const dp = await UserspaceDataPlane.open({
  role: role as 'lma' | 'mag', addon: n.addon, tunName: `bench-${role}`, table: 5213, rulePriority: 5213, mtu: 1452,
  maxTunnels: 16, maxRoutes: 16, enableForwarding: true, log: pino({ level: 'warn' }), dropLogIntervalMs: 0,
});
const id = await dp.ensureTunnel({ local, remote, encap: 'ip6ip6' });
await dp.addRoute(prefix, id, { mnLink: link });
process.stdout.write('ready\n');
// The forwarder's threads are not event-loop handles: keep the process alive until SIGTERM.
const alive = setInterval(() => undefined, 60_000);
process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify(dp.stats())}\n`);
  clearInterval(alive);
  void dp.close().then(() => process.exit(0));
});
