// Shared fixtures for the RADIUS tests: a server on free loopback ports with a known profile
// set, a radclient runner, and a raw UDP exchange helper.
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { FeatureVector } from '../../src/policy/profile.ts';
import { MemoryRadiusPolicy, makeProfile } from '../../src/radius/memory-policy.ts';
import { RadiusServer, type RadiusServerOptions } from '../../src/radius/server.ts';

export const SECRET = 'testing123';
export const LEGACY_SECRET = 'legacy-secret';

/** mn1: dual stack, everything set. mn-off: disabled. mn-v4: IPv4 only. mn-bad: contradictory vector. */
export function fixturePolicy(): MemoryRadiusPolicy {
  const pol = new MemoryRadiusPolicy();
  // 127.0.0.1 is also an LMA (RFC 6572 §6) whose LMAA is 2001:db8::1.
  pol.addClient({ address: '127.0.0.1', secret: SECRET, requireMessageAuthenticator: true, name: 'mag1', role: 'lma', lmaAddresses: ['2001:db8::1'] });
  pol.addClient({ address: '::1', secret: SECRET, requireMessageAuthenticator: true, name: 'mag1-v6' });
  pol.addClient({ address: '127.0.0.2', secret: LEGACY_SECRET, requireMessageAuthenticator: false, name: 'legacy' });
  pol.addProfile(makeProfile({
    id: 1,
    mnId: 'mn1@example.net',
    hnps: ['2001:db8:1:1::/64', '2001:db8:2::/48'],
    lma: '2001:db8::1',
    ipv4HoA: '10.0.0.5',
    ipv4PrefixLength: 24,
    ipv4DefaultRouter: '10.0.0.1',
    serviceSelection: 'internet',
    dhcpv4Server: '10.0.0.2',
    dhcpv6Server: '2001:db8::53',
    mip6FeatureVector: FeatureVector.PMIP6_SUPPORTED | FeatureVector.IP4_HOA_SUPPORTED,
    interfaceId: '0211:22ff:fe33:4455',
  }));
  pol.addProfile(makeProfile({ id: 2, mnId: 'mn-off@example.net', hnps: ['2001:db8:9::/64'], lma: '2001:db8::1', enabled: false }));
  pol.addProfile(makeProfile({
    id: 3, mnId: 'mn-v4@example.net', lma: '192.0.2.1', ipv4HoA: '10.1.0.7', ipv4PrefixLength: 16, ipv4DefaultRouter: '10.1.0.1',
    hnps: ['2001:db8:3::/64'],
    mip6FeatureVector: FeatureVector.PMIP6_SUPPORTED | FeatureVector.IP4_HOA_ONLY_SUPPORTED,
  }));
  pol.addProfile(makeProfile({
    id: 4, mnId: 'mn-bad@example.net', hnps: ['2001:db8:4::/64'],
    mip6FeatureVector: FeatureVector.IP4_HOA_ONLY_SUPPORTED | FeatureVector.IP4_HOA_SUPPORTED | FeatureVector.PMIP6_SUPPORTED,
  }));
  pol.addProfile(makeProfile({ id: 5, mnId: 'mn-pool@example.net', hnpPool: 'pool-a', ipv4Pool: 'v4-a', lma: '2001:db8::1', mip6FeatureVector: FeatureVector.PMIP6_SUPPORTED | FeatureVector.IP4_HOA_SUPPORTED }));
  pol.hnpPools.set('pool-a', ['2001:db8:100::/64', '2001:db8:101::/64']);
  pol.ipv4Pools.set('v4-a', [{ address: '10.9.0.10', prefixLength: 24 }]);
  return pol;
}

export async function startServer(policy = fixturePolicy(), opts: Partial<RadiusServerOptions> = {}): Promise<{ server: RadiusServer; policy: MemoryRadiusPolicy; auth: number; acct: number }> {
  const server = new RadiusServer({ policy, hosts: ['127.0.0.1'], authPort: 0, acctPort: 0, ...opts });
  await server.start();
  return { server, policy, auth: server.ports.auth, acct: server.ports.acct };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run radclient with `input` on stdin (one or more requests separated by blank lines). */
export function radclient(args: string[], input: string, timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile('radclient', args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? Number((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

/** Send one datagram from a fresh socket and wait up to `waitMs` for one reply (null if none). */
export async function exchange(port: number, pkt: Buffer, opts: { host?: string; bindAddress?: string; waitMs?: number; sock?: dgram.Socket } = {}): Promise<Buffer | null> {
  const host = opts.host ?? '127.0.0.1';
  const own = !opts.sock;
  const sock = opts.sock ?? dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  if (own) await new Promise<void>((r) => sock.bind(0, opts.bindAddress, () => r()));
  try {
    return await new Promise<Buffer | null>((resolve) => {
      const t = setTimeout(() => {
        sock.off('message', on);
        resolve(null);
      }, opts.waitMs ?? 500);
      const on = (m: Buffer): void => {
        clearTimeout(t);
        sock.off('message', on);
        resolve(m);
      };
      sock.on('message', on);
      sock.send(pkt, port, host);
    });
  } finally {
    if (own) sock.close();
  }
}

/** Parse radclient -x output lines "\tName = value" of the received packet into name → values. */
export function parseReply(stdout: string): { code: string | null; attrs: Map<string, string[]> } {
  const lines = stdout.split('\n');
  const attrs = new Map<string, string[]>();
  let code: string | null = null;
  let inReply = false;
  for (const l of lines) {
    const m = /^Received (\S+) Id/.exec(l);
    if (m) {
      code = m[1];
      inReply = true;
      continue;
    }
    if (/^Sent /.test(l)) inReply = false;
    const a = /^\t(\S+) = (.*)$/.exec(l);
    if (inReply && a) {
      const v = a[2].replace(/^"(.*)"$/, '$1');
      attrs.set(a[1], [...(attrs.get(a[1]) ?? []), v]);
    }
  }
  return { code, attrs };
}
