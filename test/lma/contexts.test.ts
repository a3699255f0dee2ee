// Routing contexts at the LMA (LmaConfig.addressContexts, src/dataplane/contexts.ts): an IPv4
// home address (RFC 5844 §3.1.2.2) is unique within the context of the MN's service only, so
// two MNs of two services may hold the same private address (RFC 5845 §1: their GRE keys tell
// them apart); each session's tunnel names its context for the data plane; the context
// survives a restart from the binding store.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { BaStatus } from '../../src/mh/index.ts';
import { harness, makeProfile, MAG1, MAG2, v4ReplyOf } from './driver.ts';
import type { Harness } from './driver.ts';
import { parseContexts } from '../../src/dataplane/contexts.ts';
import { fromPersisted, toPersisted } from '../../src/lma/persist.ts';
import { Bce, MagPeer } from '../../src/lma/bce.ts';

const HOA = '10.0.0.5';
const profile = (mnId: string, hnp: string, service: string | null) =>
  makeProfile(mnId, { hnps: [hnp], ipv4HoA: HOA, ipv4PrefixLength: 24, serviceSelection: service, greKeyPolicy: 'required' });
const PROFILES = [
  profile('a@example.net', '2001:db8:a::/64', 'corp-a'),
  profile('b@example.net', '2001:db8:b::/64', 'corp-b'),
  profile('c@example.net', '2001:db8:c::/64', 'corp-a'),
  profile('d@example.net', '2001:db8:d::/64', null),
];

describe('LMA routing contexts: one IPv4 address space per service', () => {
  let h: Harness;
  afterEach(() => h.close());

  const register = async (mnId: string, mag: string, gre: number) => {
    const m = h.mag(mag);
    m.pbu({ mnId, v4: { addr: '0.0.0.0' }, gre });
    await h.settle();
    return m.pba();
  };

  it('the same HoA for MNs of two services, and for one of the default context; a second MN of one service is refused (130)', async () => {
    h = await harness({ profiles: PROFILES, config: { addressContexts: ['corp-a', 'corp-b'] } });
    const a = await register('a@example.net', MAG1, 11);
    const b = await register('b@example.net', MAG2, 22);
    const d = await register('d@example.net', MAG2, 44);
    for (const p of [a, b, d]) {
      assert.equal(p.status, 0);
      assert.equal(v4ReplyOf(p)?.addr, HOA);
    }
    assert.equal((await register('c@example.net', MAG1, 33)).status, BaStatus.INSUFFICIENT_RESOURCES, 'corp-a has that address already');
    assert.equal(h.lma.bindingCount, 3);
    // Each session's tunnel names its context; the default context's none.
    const contexts = h.dp.ops.filter((o) => o.op === 'ensureTunnel').map((o) => (o.op === 'ensureTunnel' ? `${o.spec.remote}#${o.spec.greKeyOut} ${o.spec.context ?? '-'}` : ''));
    assert.deepEqual(contexts.sort(), [`${MAG1}#11 corp-a`, `${MAG2}#22 corp-b`, `${MAG2}#44 -`]);
    // A re-registration finds each MN's own session (RFC 5844 §3.1.2.7: the HoA as key).
    const m = h.mag(MAG2);
    m.pbu({ mnId: 'b@example.net', hnps: ['2001:db8:b::/64'], v4: { addr: HOA }, gre: 22 });
    await h.settle();
    assert.equal(m.pba().status, 0);
    assert.equal(h.lma.bindingCount, 3);
  });

  it('without contexts the address is the first MN\'s alone, whatever the services (as before)', async () => {
    h = await harness({ profiles: PROFILES });
    assert.equal((await register('a@example.net', MAG1, 11)).status, 0);
    assert.equal((await register('b@example.net', MAG2, 22)).status, BaStatus.INSUFFICIENT_RESOURCES);
    assert.ok(h.dp.ops.every((o) => o.op !== 'ensureTunnel' || o.spec.context === undefined));
  });

  it('the context is kept in the binding store and restored', () => {
    const peer = new MagPeer(MAG1, MAG1, -1, '2001:db8::1', 'ip6', null as never);
    const b = new Bce(7, 'a@example.net', null, 4, peer);
    b.v4 = 0x0a000005;
    b.ctx = 2;
    b.expiresAt = b.registeredAt = Date.now();
    const back = fromPersisted(toPersisted('lma', b), () => peer);
    assert.equal(back?.ctx, 2);
    b.ctx = 0;
    assert.equal(fromPersisted(toPersisted('lma', b), () => peer)?.ctx, 0);
  });
});

describe('dataplane.contexts items', () => {
  it('parses service, table, upstream interfaces, tun and next hops; the TUN device defaults to pmip6-c<table>', () => {
    assert.deepEqual(parseContexts(['corp-a table=5301 upstream=eth2+eth3 via=198.51.100.1 via=2001:db8::1', 'corp-b table=5302 upstream=eth4 tun=tun-b'], 5213), [
      { service: 'corp-a', tunName: 'pmip6-c5301', table: 5301, upstream: ['eth2', 'eth3'], via: ['198.51.100.1', '2001:db8::1'] },
      { service: 'corp-b', tunName: 'tun-b', table: 5302, upstream: ['eth4'], via: [] },
    ]);
  });

  it('refuses what would mix contexts up or cannot work, naming the item', () => {
    const bad: [string[], RegExp][] = [
      [['corp-a upstream=eth2'], /needs table/],
      [['corp-a table=5301'], /needs upstream/],
      [['corp-a table=5213 upstream=eth2'], /default context/],
      [['corp-a table=254 upstream=eth2'], /not a free routing table/],
      [['corp-a table=5301 upstream=eth2', 'corp-a table=5302 upstream=eth3'], /service named twice/],
      [['corp-a table=5301 upstream=eth2', 'corp-b table=5301 upstream=eth3'], /used twice/],
      [['corp-a table=5301 upstream=eth2 via=1.2.3.4 via=5.6.7.8'], /one via per address family/],
      [['corp-a table=5301 upstream=eth2 tun=a-name-much-too-long'], /at most 15/],
      [['corp-a table=5301 upstream=eth2 colour=red'], /unknown key colour/],
      [['table=5301 upstream=eth2'], /starts with the service name/],
    ];
    for (const [items, re] of bad) assert.throws(() => parseContexts(items, 5213), re, items.join(','));
  });
});
