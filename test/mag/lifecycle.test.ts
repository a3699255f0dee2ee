// Registration, refresh and de-registration (RFC 5213 §6.9.1.2 items 12-14, §6.9.1.3,
// §6.9.1.4, §6.13) and per-MN ordering.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getOption, getOptions, prefixToString } from '../../src/mh/index.ts';
import { mapPolicy } from '../../src/mag/index.ts';
import type { Profile } from '../../src/policy/profile.ts';
import { LMA, MAG_A, attachEv, profile, world } from './harness.ts';

describe('RFC 5213 §6.9.1.2 PBA status 0', () => {
  it('items 12-14: tunnel to the LMA, a route per HNP over it, BULE updated, "registered" event', async () => {
    const w = world({ profiles: [profile('ok@x')] });
    const a = await w.addMag(MAG_A, { lifetimeS: 400 });
    a.detector.attach(attachEv('ok@x', { handoffIndicator: 1 }));
    await w.advance(0);
    const e = a.view();
    assert.equal(e.state, 'registered');
    assert.deepEqual(e.hnps, ['2001:db8:1::/64'], 'the HNP the LMA assigned');
    assert.equal(e.hnpsAssigned, true);
    assert.equal(e.lifetimeS, 400);
    assert.equal(e.acceptedAt, w.clock.now());
    assert.equal(e.expiresAt, w.clock.now() + 400_000);
    assert.deepEqual([...a.dp.tunnels.values()], [{ local: MAG_A, remote: LMA, encap: 'ip6ip6' }]);
    const tunnelId = [...a.dp.tunnels.keys()][0];
    assert.deepEqual([...a.dp.routes], [['2001:db8:1::/64', tunnelId]]);
    assert.equal(e.tunnelId, tunnelId);
    assert.deepEqual(a.events, [
      { type: 'registered', mnId: 'ok@x', link: 'ap0', lma: LMA, hnps: ['2001:db8:1::/64'], ipv4HoA: null, lifetimeS: 400, handoffIndicator: 1 },
    ]);
    assert.equal(a.mag.counters.pbaStatus[0], 1);
    assert.equal(a.mag.counters.bindings.registered, 1);
  });

  it('§5.6.1 / §6.10.4: one tunnel shared by every MN with the same LMA; deleted with the last binding', async () => {
    const w = world({ profiles: [profile('s1@x'), profile('s2@x')] });
    const a = await w.addMag(MAG_A);
    a.detector.attach(attachEv('s1@x', { link: 'p1' }));
    a.detector.attach(attachEv('s2@x', { link: 'p2' }));
    await w.advance(0);
    assert.equal(a.dp.tunnels.size, 1);
    assert.equal(a.dp.routes.size, 2);
    assert.equal(a.dp.ops.filter((o) => o.op === 'ensureTunnel').length, 1);
    a.detector.detach({ mnId: 's1@x', link: 'p1' });
    await w.advance(0);
    assert.equal(a.dp.tunnels.size, 1, 'still used by s2');
    assert.equal(a.dp.routes.size, 1);
    a.detector.detach({ mnId: 's2@x', link: 'p2' });
    await w.advance(0);
    assert.equal(a.dp.tunnels.size, 0);
    assert.equal(a.dp.routes.size, 0);
  });
});

describe('RFC 5213 §6.9.1.3 re-registration', () => {
  it('refreshes before expiry with HI 5, the assigned HNPs and the same option set', async () => {
    const w = world({ profiles: [profile('rf@x')] });
    const a = await w.addMag(MAG_A, { lifetimeS: 100, refreshRatio: 0.75 });
    a.detector.attach(attachEv('rf@x', { handoffIndicator: 1 }));
    await w.advance(0);
    const first = w.lma.lastPbu();
    await w.advance(74_000);
    assert.equal(w.lma.pbus().length, 1, 'not yet');
    await w.advance(1_000);
    assert.equal(w.lma.pbus().length, 2, 'refresh at 75 % of the granted lifetime');
    const r = w.lma.lastPbu();
    assert.equal(getOption(r, 'handoffIndicator')?.hi, 5);
    assert.deepEqual(getOptions(r, 'hnp').map((h) => prefixToString(h.prefix, h.prefixLen)), ['2001:db8:1::/64']);
    assert.deepEqual(r.options.map((o) => o.type), first.options.map((o) => o.type));
    assert.equal(r.lifetime, first.lifetime);
    const e = a.view();
    assert.equal(e.state, 'registered');
    assert.equal(e.expiresAt, w.clock.now() + 100_000);
    assert.deepEqual(a.events.map((x) => x.type), ['registered', 'refreshed']);
    assert.equal(a.dp.ops.filter((o) => o.op === 'addRoute').length, 1, 'no data-plane churn on refresh');
    // And again, periodically.
    await w.advance(75_000);
    assert.equal(w.lma.pbus().length, 3);
  });

  it('§6.13: no refresh for an MN that is no longer attached; it is de-registered instead', async () => {
    const w = world({ profiles: [profile('np@x')] });
    const a = await w.addMag(MAG_A, { lifetimeS: 40 });
    a.detector.attach(attachEv('np@x'));
    await w.advance(0);
    a.detector.markLost('np@x', 'ap0');
    await w.advance(30_000);
    const p = w.lma.lastPbu();
    assert.equal(p.lifetime, 0);
    assert.equal(getOption(p, 'handoffIndicator')?.hi, 4);
    assert.equal(a.mag.view.size(), 0);
    assert.deepEqual(a.events.map((x) => x.type), ['registered', 'deregistered']);
  });

  it('a refresh that is never answered stops forwarding when the lifetime runs out', async () => {
    const w = world({ profiles: [profile('exp@x')] });
    const a = await w.addMag(MAG_A, { lifetimeS: 40, maxRetransmissions: 20 });
    a.detector.attach(attachEv('exp@x'));
    await w.advance(0);
    w.lma.respond = () => 'drop';
    await w.advance(30_000 + 1 + 2 + 4 + 8 * 1000);
    assert.equal(a.dp.routes.size, 1, 'still within the lifetime');
    await w.advance(20_000);
    assert.equal(a.dp.routes.size, 0, 'routes removed after expiry');
    assert.equal(a.view().state, 'registering', 'still trying');
    w.lma.respond = null;
    await w.advance(40_000);
    assert.equal(a.view().state, 'registered');
    assert.equal(a.dp.routes.size, 1);
  });
});

describe('RFC 5213 §6.9.1.4 de-registration', () => {
  it('on detach: lifetime 0, HI 4, every assigned HNP; BULE, routes and tunnel go on PBA 0', async () => {
    const w = world({ profiles: [profile('dr@x', { hnps: ['2001:db8:7:1::/64', '2001:db8:7:2::/64'] })] });
    const a = await w.addMag(MAG_A);
    a.detector.attach(attachEv('dr@x'));
    await w.advance(0);
    assert.equal(a.dp.routes.size, 2);
    a.detector.detach({ mnId: 'dr@x', link: 'ap0' });
    await w.advance(0);
    const p = w.lma.lastPbu();
    assert.equal(p.lifetime, 0);
    assert.equal(getOption(p, 'handoffIndicator')?.hi, 4);
    assert.deepEqual(getOptions(p, 'hnp').map((h) => prefixToString(h.prefix, h.prefixLen)), ['2001:db8:7:1::/64', '2001:db8:7:2::/64']);
    assert.ok(getOption(p, 'timestamp'));
    assert.ok(getOption(p, 'mnLinkLayerId'), 'same option set as the initial PBU');
    assert.equal(a.mag.view.size(), 0);
    assert.equal(a.dp.routes.size, 0);
    assert.equal(a.dp.tunnels.size, 0);
    assert.deepEqual(a.events.at(-1), { type: 'deregistered', mnId: 'dr@x', link: 'ap0', lma: LMA, acked: true });
    assert.equal(w.lma.bces.size, 0);
  });

  it('without a PBA the BULE is deleted after INITIAL_BINDACK_TIMEOUT, with no retransmission', async () => {
    const w = world({ profiles: [profile('dt@x')] });
    const a = await w.addMag(MAG_A);
    a.detector.attach(attachEv('dt@x'));
    await w.advance(0);
    w.lma.respond = () => 'drop';
    a.detector.detach({ mnId: 'dt@x', link: 'ap0' });
    await w.advance(999);
    assert.equal(a.mag.view.size(), 1);
    await w.advance(1);
    assert.equal(a.mag.view.size(), 0);
    assert.equal(a.dp.routes.size, 0);
    assert.equal(w.lma.pbus().length, 2, 'initial + one de-registration');
    assert.deepEqual(a.events.at(-1), { type: 'deregistered', mnId: 'dt@x', link: 'ap0', lma: LMA, acked: false });
  });

  it('a detach while the initial PBA is outstanding still de-registers (the LMA may hold a binding)', async () => {
    const w = world({ profiles: [profile('early@x')] });
    const a = await w.addMag(MAG_A);
    w.lma.respond = (pbu) => (pbu.lifetime > 0 ? 'drop' : 'default');
    a.detector.attach(attachEv('early@x'));
    await w.advance(0);
    a.detector.detach({ mnId: 'early@x', link: 'ap0' });
    await w.advance(2000);
    assert.equal(w.lma.pbus().at(-1)?.msg.lifetime, 0);
    assert.equal(a.mag.view.size(), 0);
    assert.equal(a.mag.counters.retransmissions, 0, 'no registration retransmission after detach');
  });

  it('a detach for an unknown MN is counted and ignored', async () => {
    const w = world();
    const a = await w.addMag(MAG_A);
    a.detector.detach({ mnId: 'nobody@x', link: 'ap0' });
    await w.advance(0);
    assert.equal(a.mag.counters.dropped.unknownMn, 1);
  });

  it('stop({ deregister: true }) de-registers every binding and waits for the answers', async () => {
    const w = world({ profiles: [profile('st1@x'), profile('st2@x')] });
    const a = await w.addMag(MAG_A);
    a.detector.attach(attachEv('st1@x', { link: 'p1' }));
    a.detector.attach(attachEv('st2@x', { link: 'p2' }));
    await w.advance(0);
    const stopped = a.mag.stop({ deregister: true });
    await w.advance(0);
    await stopped;
    assert.equal(a.mag.view.size(), 0);
    assert.equal(w.lma.bces.size, 0);
  });
});

describe('per-MN serialisation', () => {
  it('attach, detach, attach for one MN apply in order across the asynchronous policy lookup', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const base = mapPolicy([profile('ser@x')]);
    const slow = {
      async profile(mnId: string): Promise<Profile | null> {
        await gate;
        return base.profile(mnId);
      },
    };
    const w = world();
    const a = await w.addMag(MAG_A, {}, slow);
    a.detector.attach(attachEv('ser@x'));
    a.detector.detach({ mnId: 'ser@x', link: 'ap0' });
    await w.advance(0);
    assert.equal(w.lma.pbus().length, 0, 'waiting for the policy source');
    release();
    await w.advance(0);
    const lifetimes = w.lma.pbus().map((p) => p.msg.lifetime);
    assert.deepEqual(lifetimes.map((l) => l > 0), [true, false], 'registration first, then de-registration');
    assert.equal(a.mag.view.size(), 0);
  });

  it('a re-attach during de-registration registers again', async () => {
    const w = world({ profiles: [profile('back@x')] });
    const a = await w.addMag(MAG_A);
    a.detector.attach(attachEv('back@x'));
    await w.advance(0);
    w.lma.respond = (pbu) => (pbu.lifetime === 0 ? 'drop' : 'default');
    a.detector.detach({ mnId: 'back@x', link: 'ap0' });
    a.detector.attach(attachEv('back@x'));
    await w.advance(0);
    assert.equal(a.view().state, 'registered');
    await w.advance(5000);
    assert.equal(a.mag.view.size(), 1, 'the old de-registration timeout does not remove it');
    assert.equal(a.dp.routes.size, 1);
  });
});
