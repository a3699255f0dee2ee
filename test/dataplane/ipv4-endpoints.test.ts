// The user-space forwarder's tunnels with IPv4 endpoints (RFC 5844 §4 transport): IP-in-IP,
// GRE with keys and IPv4-UDP (§4.1) over IPv4 are accepted, one peer and encapsulation only
// once, mixed or IPv4-mapped endpoints and IPv4-UDP over IPv6 refused; the UDP socket on port
// 5437 exists only once an IPv4-UDP tunnel does. The driver runs in a namespace of the test's
// own (a TUN device needs CAP_NET_ADMIN). The data path itself: test/e2e/ipv4-transport-netns.test.ts.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Lab, netnsUnavailable } from '../helpers/netns.ts';
import { ROOT } from '../helpers/cli.ts';
import { loadNative } from '../../src/transport/native.ts';
import { openDataPlane, type DataPlaneConfig } from '../../src/dataplane/select.ts';
import { RecordingDataPlane } from '../../src/dataplane/recording.ts';
import { logger } from '../../src/util/log.ts';

const skip = netnsUnavailable() ?? (loadNative().ok ? null : 'native addon not built');

describe('user-space forwarder: tunnels with IPv4 endpoints (RFC 5844 §4)', { skip: skip ?? false }, () => {
  const lab = new Lab('v4te');
  after(() => lab.cleanup());

  it('accepts IPv4 IP-in-IP, GRE and IPv4-UDP tunnels, refuses mixed families, and opens UDP 5437 only when needed', () => {
    const ns = lab.ns('drv');
    const r = spawnSync('ip', ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', 'test/dataplane/v4-endpoints-driver.ts'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const o = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, number | string | boolean>;
    assert.equal(typeof o.ip4, 'number', String(o.ip4));
    assert.equal(typeof o.gre4, 'number', String(o.gre4));
    assert.match(String(o.ip4Again), /exists/, 'one tunnel per (peer, encapsulation)');
    assert.match(String(o.mixed), /two IPv6 or two IPv4/);
    assert.match(String(o.mapped), /two IPv6 or two IPv4/, 'IPv4-mapped IPv6 endpoints are not IPv6 transport');
    assert.match(String(o.udp6), /needs IPv4 endpoints/);
    assert.equal(o.udpBoundBefore, false, 'no UDP socket before an IPv4-UDP tunnel');
    assert.equal(typeof o.udp4, 'number', String(o.udp4));
    assert.equal(o.udpBound, true, 'UDP 5437 bound for the IPv4-UDP tunnel');
    assert.equal(o.route, 0);
    assert.equal(o.tunnels, 3);
  });
});

describe('data plane selection with IPv4 transport (RFC 5844 §4)', () => {
  const config: DataPlaneConfig = { kind: 'auto', tunName: '', table: 0, rulePriority: 5213, mtu: 1400, maxTunnels: 16, maxRoutes: 64, enableForwarding: false };
  it('auto with loopback-only tunnel endpoints (one host, in-process tests) records: no tunnel leaves the host', async () => {
    for (const endpoints of [['127.0.0.1'], ['127.0.0.2'], ['::1'], ['127.0.0.1', '::1']]) {
      const dp = await openDataPlane('mag', config, logger('test'), endpoints);
      assert.ok(dp instanceof RecordingDataPlane, endpoints.join(','));
    }
  });
});
