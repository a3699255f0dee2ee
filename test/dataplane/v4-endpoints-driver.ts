// Runs inside a test namespace (`ip netns exec`, see ipv4-endpoints.test.ts): the forwarder's
// tunnel programming with IPv4 endpoints (RFC 5844 §4 transport). Prints one JSON line with
// what each call did: a slot, or the error's message.
import { loadNative } from '../../src/transport/native.ts';

const n = loadNative();
if (!n.ok || !n.addon.TunForwarder) throw new Error(n.ok ? 'no TunForwarder' : n.reason);
const f = new n.addon.TunForwarder({ name: 'dpv4e0', role: 'mag', maxTunnels: 16, maxRoutes: 64 });
type Spec = Parameters<typeof f.addTunnel>[0];
const tryAdd = (s: Spec): number | string => {
  try {
    return f.addTunnel(s);
  } catch (e) {
    return (e as Error).message;
  }
};
const out: Record<string, number | string | boolean> = {
  ip4: tryAdd({ local: '198.18.9.2', remote: '198.51.100.9', encap: 'ip6' }),
  gre4: tryAdd({ local: '198.18.9.2', remote: '198.51.100.9', encap: 'gre', keyIn: 5, keyOut: 6 }),
  ip4Again: tryAdd({ local: '198.18.9.2', remote: '198.51.100.9', encap: 'ip6' }),
  mixed: tryAdd({ local: '198.18.9.2', remote: '2001:db8::9', encap: 'ip6' }),
  mapped: tryAdd({ local: '::ffff:198.18.9.2', remote: '::ffff:198.51.100.9', encap: 'ip6' }),
  udp6: tryAdd({ local: '2001:db8::2', remote: '2001:db8::9', encap: 'udp' }),
};
out.udpBoundBefore = /:153D /.test(await import('node:fs').then((fs) => fs.readFileSync('/proc/net/udp', 'utf8')));
out.udp4 = tryAdd({ local: '198.18.9.2', remote: '198.51.100.10', encap: 'udp' });
// RFC 5844 §4.1: port 5437 (0x153D) bound once the first IPv4-UDP tunnel exists.
out.udpBound = /:153D /.test(await import('node:fs').then((fs) => fs.readFileSync('/proc/net/udp', 'utf8')));
out.route = f.addRoute('10.80.0.5', 32, out.gre4 as number);
out.tunnels = f.stats().tunnels;
f.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
