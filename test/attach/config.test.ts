// mag.access.* (src/config/schema.ts) and its wiring (src/main/access.ts), plus the RFC 4861
// §6.2.1 limits the detector enforces on its RA timers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { accessLinkDetector, forgetAccessMetrics } from '../../src/main/access.ts';
import { registry } from '../../src/metrics/registry.ts';
import { LinkLayerDirectory } from '../../src/attach/directory.ts';
import { resolveAccessConfig } from '../../src/attach/config.ts';
import { combineDetectors } from '../../src/attach/combine.ts';
import { ManualDetector } from '../../src/attach/manual.ts';
import { loadNative } from '../../src/transport/native.ts';

describe('mag.access configuration', () => {
  it('defaults: detector api, RFC 6543 addresses, RFC 4861 timers', () => {
    const a = loadConfig({ env: {} }).mag.access;
    assert.equal(a.detector, 'api');
    assert.equal(a.linkLayerAddress, '00:00:5e:00:52:13');
    assert.equal(a.linkLocal, 'fe80::200:5eff:fe00:5213');
    assert.equal(a.raMaxInterval, 600);
    assert.equal(accessLinkDetector(loadConfig({ env: {} })), null);
  });

  it('from the environment; access-link needs interfaces; mns must be MAC=NAI', () => {
    const c = loadConfig({ env: { PMIP6_MAG_ACCESS_DETECTOR: 'access-link', PMIP6_MAG_ACCESS_INTERFACES: 'acc*,eth1', PMIP6_MAG_ACCESS_MNS: '02:00:5e:10:00:01=mn1@example.net,02-00-5E-10-00-02=mn2@example.net', PMIP6_MAG_ACCESS_RA_MAX_INTERVAL: '30' } });
    assert.deepEqual(c.mag.access.interfaces, ['acc*', 'eth1']);
    assert.equal(c.mag.access.raMaxInterval, 30);
    assert.throws(() => loadConfig({ env: { PMIP6_MAG_ACCESS_DETECTOR: 'access-link' } }), /mag\.access\.interfaces/);
    assert.throws(() => loadConfig({ env: { PMIP6_MAG_ACCESS_MNS: 'mn1@example.net' } }), /MAC=NAI/);
    assert.throws(() => loadConfig({ env: { PMIP6_MAG_ACCESS_LINK_LOCAL: '2001:db8::1' } }), /link-local/);
    assert.throws(() => loadConfig({ env: { PMIP6_MAG_ACCESS_IDENTITY: 'aaa' } }), /macRealm/);
    const aaa = loadConfig({ env: { PMIP6_MAG_ACCESS_DETECTOR: 'access-link', PMIP6_MAG_ACCESS_INTERFACES: 'acc0', PMIP6_MAG_ACCESS_IDENTITY: 'aaa', PMIP6_MAG_ACCESS_MAC_REALM: 'example.net' } });
    assert.throws(() => accessLinkDetector(aaa), /radius\.servers/);
  });

  it('the detector it builds knows the MNs by MAC (any spelling) and uses the RA timers', { skip: !loadNative().ok && 'native addon not built' }, () => {
    const c = loadConfig({ env: { PMIP6_MAG_ACCESS_DETECTOR: 'access-link', PMIP6_MAG_ACCESS_INTERFACES: 'acc0', PMIP6_MAG_ACCESS_MNS: '02-00-5E-10-00-02=mn2@example.net', PMIP6_MAG_ACCESS_RA_MAX_INTERVAL: '30' } });
    const dir = new LinkLayerDirectory();
    const d = accessLinkDetector(c, dir)!;
    assert.equal(dir.lookup('02:00:5e:10:00:02'), 'mn2@example.net');
    assert.equal(d.config.raMaxIntervalS, 30);
    assert.equal(d.config.raMinIntervalS, 9.9);
    assert.equal(d.config.routerLifetimeS, 90);
  });

  it('/metrics reports its counters by MAG and cause', { skip: !loadNative().ok && 'native addon not built' }, async () => {
    const c = loadConfig({ env: { PMIP6_MAG_ID: 'mag-metrics', PMIP6_MAG_ACCESS_DETECTOR: 'access-link', PMIP6_MAG_ACCESS_INTERFACES: 'acc0' } });
    accessLinkDetector(c);
    const text = await registry.metrics();
    assert.match(text, /pmip6_mag_access_dropped_total\{mag="mag-metrics",cause="unknownMac"\} 0/);
    assert.match(text, /pmip6_mag_access_events_total\{mag="mag-metrics",event="sent_ra"\} 0/);
    assert.match(text, /pmip6_mag_access_attached\{mag="mag-metrics"\} 0/);
    forgetAccessMetrics('mag-metrics');
    assert.doesNotMatch(await registry.metrics(), /mag-metrics/);
  });

  it('RFC 4861 §6.2.1 limits on the RA timers', () => {
    assert.throws(() => resolveAccessConfig({ raMaxIntervalS: 3 }), /MaxRtrAdvInterval/);
    assert.throws(() => resolveAccessConfig({ raMaxIntervalS: 10, raMinIntervalS: 8 }), /MinRtrAdvInterval/);
    assert.throws(() => resolveAccessConfig({ prefixValidS: 10, prefixPreferredS: 20 }), /preferred/);
  });
});

describe('LinkLayerDirectory: bounded, one owner per address', () => {
  it('refuses addresses past its bound and addresses another MN owns; replaces an MN\'s set', () => {
    const d = new LinkLayerDirectory(2);
    assert.equal(d.set('a', ['02:00:00:00:00:01']), true);
    assert.equal(d.set('b', ['02:00:00:00:00:01']), false);
    assert.equal(d.set('b', ['02-00-00-00-00-02', '02:00:00:00:00:03']), false);
    assert.equal(d.size, 2);
    assert.equal(d.refused, 2);
    d.set('a', []);
    assert.equal(d.lookup('02:00:00:00:00:01'), null);
    assert.equal(d.lookup('02:00:00:00:00:02'), 'b');
  });
});

describe('combineDetectors', () => {
  it('passes every event on and asks the detector that reported the MN', async () => {
    const a = new ManualDetector();
    const b = new ManualDetector();
    const c = combineDetectors(a, b);
    const seen: string[] = [];
    c.onEvent((e) => seen.push(`${e.kind} ${e.mnId}`));
    await c.start();
    a.attach({ mnId: 'x', link: 'l', accessTechType: 3 });
    b.attach({ mnId: 'y', link: 'm', accessTechType: 3 });
    b.markLost('y', 'm');
    assert.equal(c.isAttached!('x', 'l'), true);
    assert.equal(c.isAttached!('y', 'm'), false);
    a.detach({ mnId: 'x', link: 'l' });
    assert.deepEqual(seen, ['attach x', 'attach y', 'detach x']);
    await c.stop();
  });
});
