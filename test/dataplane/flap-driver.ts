// Runs inside a test namespace (see access-flap-netns.test.ts): a MAG's user-space data plane
// (TUN nlflap0, table 5297) with one tunnel and an MN's HNP and IPv4 HoA routed out of the
// access link nlacc0. Reads commands on stdin, one per line, answers one JSON line each:
//   stats      -> { restoredRoutes }
//   remove     -> removes both routes (the binding ended)
//   add        -> adds them again
//   close      -> closes the data plane and exits
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { loadNative } from '../../src/transport/native.ts';
import { UserspaceDataPlane } from '../../src/dataplane/userspace.ts';

const n = loadNative();
if (!n.ok) throw new Error(n.reason);
const log = pino({ level: 'warn' }, pino.destination(2));
const dp = await UserspaceDataPlane.open({
  role: 'mag', addon: n.addon, tunName: 'nlflap0', table: 5297, rulePriority: 5297, mtu: 1452,
  maxTunnels: 16, maxRoutes: 64, enableForwarding: false, log, dropLogIntervalMs: 0, routing: (process.argv[2] ?? 'auto') as 'auto',
});
const id = await dp.ensureTunnel({ local: '2001:db8:97::2', remote: '2001:db8:97::1', encap: 'ip6ip6' });
const routes = ['2001:db8:97:f001::/64', '10.97.0.5/32'];
for (const r of routes) await dp.addRoute(r, id, { mnLink: 'nlacc0' });
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'stats') process.stdout.write(`${JSON.stringify({ restoredRoutes: dp.restoredRoutes })}\n`);
  else if (line === 'remove') {
    for (const r of routes) await dp.removeRoute(r, id);
    process.stdout.write('{"ok":true}\n');
  } else if (line === 'add') {
    for (const r of routes) await dp.addRoute(r, id, { mnLink: 'nlacc0' });
    process.stdout.write('{"ok":true}\n');
  } else if (line === 'close') {
    await dp.close();
    process.stdout.write('{"ok":true}\n');
    process.exit(0);
  }
}
