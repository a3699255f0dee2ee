// RFC 6475 PMIPV6-MIB view of the LMA (src/snmp/view.ts LmaView) over the live binding cache.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { HandoffIndicator as HI } from '../../src/mh/index.ts';
import { bindingCacheIndex, hnpIndex, inetAddr, inetIndex } from '../../src/snmp/table.ts';
import { TunnelEndpointState } from '../../src/snmp/view.ts';
import type { LmaTunnelEvent } from '../../src/snmp/view.ts';
import { lmaSnmpView } from '../../src/lma/snmp-view.ts';
import { harness, makeProfile, MAG2 } from './driver.ts';
import type { Harness } from './driver.ts';

const P1 = '2001:db8:1:1::/64';
const P1b = '2001:db8:1:2::/64';
const P2 = '2001:db8:2::/64';

describe('RFC 6475 LmaView over the binding cache', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('pmip6BindingCacheTable / MN / MN-LL / HNP tables follow registrations, handoffs and deletions; tunnel notifications', async () => {
    h = await harness({
      profiles: [makeProfile('a@example.net', { hnps: [P1b, P1] }), makeProfile('b@example.net', { hnps: [P2] }), makeProfile('c@example.net', { ipv4HoA: '10.0.0.3', ipv4PrefixLength: 24 })],
    });
    const events: LmaTunnelEvent[] = [];
    const a = lmaSnmpView(h.lma, { notify: { lmaTunnel: (e) => events.push(e), magTunnel: () => undefined } });
    const v = a.view;
    const mag = h.mag();
    mag.pbu({ mnId: 'a@example.net', llId: '02:00:00:00:00:0a', att: 3 });
    mag.pbu({ mnId: 'b@example.net' });
    mag.pbu({ mnId: 'c@example.net', hnps: [], v4: { addr: '0.0.0.0' } });
    await h.settle();
    assert.equal(v.bindingCache.size, 3);
    assert.equal(v.mobileNodes.size, 3);
    assert.equal(v.homeNetworkPrefixes.size, 3);
    // the row of MN a is indexed by its lowest HNP
    const rowA = v.bindingCache.get(bindingCacheIndex(inetAddr('2001:db8:1:1::')));
    assert.ok(rowA);
    assert.equal(rowA.proxyRegistration, true);
    assert.equal(rowA.accessTechnologyType, 3);
    assert.ok(rowA.timeRecentlyAccepted > 0n);
    assert.equal(v.mobileNodes.get([rowA.mnIndex])?.mnIdentifier, 'a@example.net');
    assert.deepEqual([...(v.mobileNodeInterfaces.get([rowA.mnIndex, rowA.mnLLIndex])!.mnLLIdentifier as Uint8Array)], [2, 0, 0, 0, 0, 0x0a]);
    assert.equal(v.homeNetworkPrefixes.get(hnpIndex(rowA.mnIndex, rowA.mnLLIndex, inetAddr('2001:db8:1:2::')))?.lifetime, 300);
    // the IPv4-only session is indexed by its IPv4 HoA
    assert.ok(v.bindingCache.get(bindingCacheIndex(inetAddr('10.0.0.3'))));
    // GETNEXT walk in index order: ipv4 (type 1) rows before ipv6 (type 2)
    const first = v.bindingCache.next([]);
    assert.deepEqual(first?.index.slice(0, 2), [1, 4]);
    assert.equal(v.lmaAddresses.get(inetIndex(inetAddr('2001:db8:ffff::1')))?.state, TunnelEndpointState.tunneled);
    assert.deepEqual(events.map((e) => e.kind), ['established', 'established', 'established']);

    const c = v.counters();
    assert.equal(c.initialBindingRegistrations, 3);
    assert.equal(c.bindingBindingAcks, 3);

    // handoff of b -> another established notification; its row stays
    const m2 = h.mag(MAG2);
    m2.pbu({ mnId: 'b@example.net', hnps: [P2], hi: HI.HANDOFF_BETWEEN_MAGS });
    await h.settle();
    assert.equal(events.at(-1)?.kind, 'established');
    assert.equal(v.counters().bindingLifeTimeExtensionAfterHandOff, 1);
    // de-registration of b: the row stays during MinDelayBeforeBCEDelete, then goes with a released notification
    m2.pbu({ mnId: 'b@example.net', hnps: [P2], hi: HI.UNKNOWN, lifetime: 0 });
    await h.settle();
    assert.equal(v.bindingCache.size, 3);
    await h.advance(10_000);
    assert.equal(v.bindingCache.size, 2);
    assert.equal(events.at(-1)?.kind, 'released');
    assert.equal(v.counters().bindingDeRegistrations, 1);
    a.close();
  });

  it('a binding that exists before the view is created is in it; SET of the prefix lifetime changes the binding', async () => {
    h = await harness({ profiles: [makeProfile('a@example.net', { hnps: [P1] })] });
    const mag = h.mag();
    mag.pbu({ mnId: 'a@example.net' });
    await h.settle();
    const { view, close } = lmaSnmpView(h.lma);
    assert.equal(view.bindingCache.size, 1);
    const e = view.homeNetworkPrefixes.next([])!;
    const r = await view.setHomeNetworkPrefixLifetime!(e.index, 1000);
    assert.deepEqual(r, { ok: true });
    assert.equal(h.lma.bindings.list().items[0].lifetimeS, 1000);
    assert.equal(view.homeNetworkPrefixes.get(e.index)?.lifetime, 1000);
    await h.advance(1_000_000);
    assert.equal(h.lma.bindingCount, 0);
    assert.equal(view.bindingCache.size, 0);
    close();
  });

  it('a selective IPv4 de-registration re-files the row (its home address may change)', async () => {
    h = await harness({ profiles: [makeProfile('a@example.net', { hnps: [P1], ipv4HoA: '10.0.0.5', ipv4PrefixLength: 24 })] });
    const { view, close } = lmaSnmpView(h.lma);
    const mag = h.mag();
    mag.pbu({ mnId: 'a@example.net', v4: { addr: '0.0.0.0' } });
    await h.settle();
    mag.pbu({ mnId: 'a@example.net', hnps: [P1], hi: HI.UNKNOWN, lifetime: 0 }); // only IPv6 goes
    await h.settle();
    assert.equal(view.bindingCache.size, 1);
    assert.ok(view.bindingCache.get(bindingCacheIndex(inetAddr('10.0.0.5'))), 'now indexed by the IPv4 HoA');
    assert.equal(view.homeNetworkPrefixes.size, 0);
    close();
  });
});
