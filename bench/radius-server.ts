// Child process for bench/radius.ts: our RADIUS server with N in-memory profiles, in its own
// process like FreeRADIUS, so its CPU and event loop are measured alone. Prints
// "READY <authPort>" on stdout when listening; exits on SIGTERM.
import { FeatureVector } from '../src/policy/profile.ts';
import { MemoryRadiusPolicy, makeProfile } from '../src/radius/memory-policy.ts';
import { RadiusServer } from '../src/radius/server.ts';
import { benchMns } from './radius-profiles.ts';

const [secret, count] = [process.argv[2], Number(process.argv[3])];
const policy = new MemoryRadiusPolicy();
policy.addClient({ address: '127.0.0.1', secret, requireMessageAuthenticator: true, name: 'bench' });
for (const m of benchMns(count)) {
  policy.addProfile(makeProfile({
    mnId: m.mnId, hnps: [m.hnp], lma: '2001:db8::1', ipv4HoA: m.hoa, ipv4PrefixLength: 16, ipv4DefaultRouter: '10.0.0.1',
    serviceSelection: 'internet', mip6FeatureVector: FeatureVector.PMIP6_SUPPORTED | FeatureVector.IP4_HOA_SUPPORTED,
  }));
}
const server = new RadiusServer({ policy, hosts: ['127.0.0.1'], authPort: 0, acctPort: 0, rateLimit: { perSecond: 1e9, burst: 1e9 } });
await server.start();
process.stdout.write(`READY ${server.ports.auth}\n`);
process.on('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
