// The MAG's PMIPV6-MIB view (RFC 6475 pmip6MagBLTable and friends) kept from MAG events.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MagSnmpAdapter } from '../../src/mag/snmp-view.ts';
import { timestampFromMs } from '../../src/mh/index.ts';
import { bulIndex, inetAddr } from '../../src/snmp/table.ts';
import type { MagTunnelEvent } from '../../src/snmp/view.ts';
import { LMA, MAG_A, attachEv, profile, world } from './harness.ts';

describe('RFC 6475 MAG tables over the Binding Update List', () => {
  it('a registered binding appears in pmip6MagBLTable, MN and HNP tables; it leaves on de-registration', async () => {
    const w = world({ profiles: [profile('snmp@x', { hnps: ['2001:db8:5:5::/64'] }), profile('two@x')] });
    const a = await w.addMag(MAG_A, { lifetimeS: 400 });
    const tunnels: MagTunnelEvent[] = [];
    const snmp = new MagSnmpAdapter(a.mag, { events: { lmaTunnel: () => undefined, magTunnel: (e) => tunnels.push(e) } });
    a.sinks.push(snmp);

    a.detector.attach(attachEv('snmp@x', { accessTechType: 8, mnLinkLayerId: '02:00:00:00:00:07' }));
    await w.advance(0);
    const v = snmp.view;
    assert.equal(v.bindingUpdateList.size, 1);
    const idx = bulIndex(inetAddr('2001:db8:5:5::'), inetAddr(LMA));
    const row = v.bindingUpdateList.get(idx);
    assert.ok(row, 'indexed by (home address = the HNP, LMA address)');
    assert.equal(row.proxyRegistration, true);
    assert.equal(row.mnIndex, 1);
    assert.equal(row.mnLLIndex, 1);
    assert.equal(row.accessTechnologyType, 8);
    assert.equal(row.timeRecentlyAccepted, timestampFromMs(w.clock.now()));
    assert.deepEqual([...row.magLinkLocalAddress.octets.subarray(0, 2)], [0xfe, 0x80], 'the RFC 6543 fixed link-local');
    assert.equal(row.magIfIdentifierToMn.length, 8);
    assert.equal(Buffer.from(v.mobileNodes.get([1])!.mnIdentifier as string).toString(), 'snmp@x');
    assert.deepEqual([...(v.mobileNodeInterfaces.get([1, 1])!.mnLLIdentifier as Uint8Array)], [2, 0, 0, 0, 0, 7]);
    const hnp = v.homeNetworkPrefixes.next([]);
    assert.equal(hnp?.row.prefixLength, 64);
    assert.equal(hnp?.row.lifetime, 400);
    assert.deepEqual(v.profiles.get([1])?.lmaAddress, inetAddr(LMA));
    assert.equal(v.proxyCoas.get([2, 16, ...inetAddr(MAG_A).octets])?.state, 3, 'tunneled');
    assert.equal(tunnels.length, 1);
    assert.equal(tunnels[0].kind, 'established');

    a.detector.attach(attachEv('two@x', { link: 'p2' }));
    await w.advance(0);
    assert.equal(v.bindingUpdateList.size, 2);
    assert.equal(v.mobileNodes.size, 2);

    const c = v.counters();
    assert.equal(c.initialBindingRegistrations, 2);
    assert.equal(c.bindingBindingAcks, 2);

    a.detector.detach({ mnId: 'snmp@x', link: 'ap0' });
    a.detector.detach({ mnId: 'two@x', link: 'p2' });
    await w.advance(0);
    assert.equal(v.bindingUpdateList.size, 0);
    assert.equal(v.mobileNodes.size, 0);
    assert.equal(v.homeNetworkPrefixes.size, 0);
    assert.equal(v.proxyCoas.get([2, 16, ...inetAddr(MAG_A).octets])?.state, 2, 'activated');
    assert.deepEqual(tunnels.map((t) => t.kind), ['established', 'established', 'released', 'released']);
    assert.equal(v.counters().bindingDeRegistrations, 2);
  });

  it('rejections and PBA statuses feed pmip6BindingRegCounters', async () => {
    const w = world({ profiles: [profile('c@x')] });
    const a = await w.addMag(MAG_A);
    const snmp = new MagSnmpAdapter(a.mag);
    a.sinks.push(snmp);
    w.lma.respond = () => ({ status: 153 });
    a.detector.attach(attachEv('c@x'));
    await w.advance(0);
    assert.equal(snmp.view.counters().notLmaForThisMobileNode, 1);
    assert.equal(snmp.view.bindingUpdateList.size, 0);
  });
});
