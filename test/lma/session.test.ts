// RFC 5213 §5.3.2 - §5.3.5 session life cycle: new session, re-registration, handoff between
// two MAGs (and the old MAG's late de-registration), MinDelayBeforeBCEDelete,
// MaxDelayBeforeNewBCEAssign, lifetime expiry, several HNPs, multihoming, tunnels.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { BaStatus, HandoffIndicator as HI, getOption } from '../../src/mh/index.ts';
import { harness, hnpsOf, makeProfile, MAG1, MAG2 } from './driver.ts';
import type { Harness } from './driver.ts';

const MN = 'mn1@example.net';
const P1 = '2001:db8:1:1::/64';
const P2 = '2001:db8:1:2::/64';

describe('RFC 5213 §5.3.2 - §5.3.5 session life cycle', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness({ profiles: [makeProfile(MN, { hnps: [P1] })] });
  });
  afterEach(() => h.close());

  it('§5.3.2: ALL_ZERO HNP -> the profile prefix is assigned, tunnel created, prefix routed over it', async () => {
    const mag = h.mag();
    mag.pbu({ mnId: MN });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, 0);
    assert.deepEqual(hnpsOf(pba), [P1]);
    assert.equal(h.dp.tunnels.size, 1);
    const [tid, spec] = [...h.dp.tunnels][0];
    assert.deepEqual({ local: spec.local, remote: spec.remote, encap: spec.encap }, { local: '2001:db8:ffff::1', remote: MAG1, encap: 'ip6ip6' });
    assert.equal(h.dp.routes.get(P1), tid);
    assert.deepEqual(h.sink.kinds(), ['created']);
    const b = h.lma.bindings.list().items[0];
    assert.equal(b.mnId, MN);
    assert.deepEqual(b.hnps, [P1]);
    assert.equal(b.proxyCoa, MAG1);
    assert.equal(b.lifetimeS, 300);
    assert.equal(h.lma.counters.reg.initial, 1);
  });

  it('§5.3.2 (3): NON_ZERO HNP of the profile -> accepted; of another MN -> 155', async () => {
    h.policy.add(makeProfile('mn2@example.net', { hnps: [P2] }));
    const mag = h.mag();
    mag.pbu({ mnId: MN, hnps: [P1] });
    await h.settle();
    assert.equal(mag.pba().status, 0);
    mag.pbu({ mnId: MN, hnps: [P2], hi: HI.NEW_INTERFACE, llId: '02:00:00:00:00:09' });
    await h.settle();
    assert.equal(mag.pba().status, BaStatus.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX);
  });

  it('§5.3.2 (2): no prefix left to assign -> 130', async () => {
    const mag = h.mag();
    mag.pbu({ mnId: MN, llId: '02:00:00:00:00:01' });
    await h.settle();
    assert.equal(mag.pba().status, 0);
    // a second interface (other LL-ID, HI = 1) of the same MN: the profile's only prefix is taken
    mag.pbu({ mnId: MN, llId: '02:00:00:00:00:02', hi: HI.NEW_INTERFACE });
    await h.settle();
    assert.equal(mag.pba().status, BaStatus.INSUFFICIENT_RESOURCES);
  });

  it('§5.3.3: re-registration from the same MAG extends the lifetime without asking the policy store', async () => {
    const mag = h.mag();
    mag.pbu({ mnId: MN });
    await h.settle();
    mag.pba();
    const calls = h.policy.profileCalls + h.policy.magCalls;
    const ops = h.dp.ops.length;
    await h.advance(100_000);
    mag.pbu({ mnId: MN, hnps: [P1], hi: HI.NOT_CHANGED, lifetime: 600 });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, 0);
    assert.equal(pba.lifetime, 150);
    assert.equal(h.policy.profileCalls + h.policy.magCalls, calls, 'hot path does not hit the policy source');
    assert.equal(h.dp.ops.length, ops, 'no data-plane change');
    assert.deepEqual(h.sink.kinds(), ['created', 'refreshed']);
    assert.equal(h.lma.counters.reg.extensionNoHandoff, 1);
    const b = h.lma.bindings.list().items[0];
    assert.equal(Date.parse(b.expiresAt), h.clock.now() + 600_000);
  });

  it('§5.3.4: handoff to MAG2 moves the route, removes the unused tunnel to MAG1; MAG1 late de-registration is ignored (§5.3.5 (1))', async () => {
    const m1 = h.mag(MAG1);
    const m2 = h.mag(MAG2);
    m1.pbu({ mnId: MN });
    await h.settle();
    m1.pba();
    await h.advance(1000);
    m2.pbu({ mnId: MN, hnps: [P1], hi: HI.HANDOFF_BETWEEN_MAGS });
    await h.settle();
    assert.equal(m2.pba().status, 0);
    const [tid, spec] = [...h.dp.tunnels][0];
    assert.equal(h.dp.tunnels.size, 1);
    assert.equal(spec.remote, MAG2);
    assert.equal(h.dp.routes.get(P1), tid);
    assert.deepEqual(h.sink.kinds(), ['created', 'handed-off']);
    assert.equal(h.sink.bindings[1].previousProxyCoa, MAG1);
    // the old MAG now de-registers (it learnt of the detach late)
    await h.advance(50);
    m1.pbu({ mnId: MN, hnps: [P1], hi: HI.UNKNOWN, lifetime: 0 });
    await h.settle();
    assert.equal(m1.take(), undefined, 'ignored: no PBA');
    assert.equal(h.lma.bindingCount, 1);
    assert.equal(h.lma.bindings.list().items[0].state, 'active');
    assert.equal(h.dp.routes.get(P1), tid);
    await h.advance(20_000);
    assert.equal(h.lma.bindingCount, 1, 'no MinDelayBeforeBCEDelete was started');
  });

  it('§5.3.4: handoff keeps a tunnel still used by another MN (shared per Proxy-CoA, RFC 5213 §5.6.1)', async () => {
    h.policy.add(makeProfile('mn2@example.net', { hnps: [P2] }));
    const m1 = h.mag(MAG1);
    const m2 = h.mag(MAG2);
    m1.pbu({ mnId: MN });
    m1.pbu({ mnId: 'mn2@example.net' });
    await h.settle();
    assert.equal(h.dp.tunnels.size, 1, 'one tunnel for both MNs');
    m2.pbu({ mnId: MN, hnps: [P1], hi: HI.HANDOFF_BETWEEN_MAGS });
    await h.settle();
    assert.equal(h.dp.tunnels.size, 2);
    assert.equal(h.dp.tunnels.get(h.dp.routes.get(P2)!)!.remote, MAG1);
    assert.equal(h.dp.tunnels.get(h.dp.routes.get(P1)!)!.remote, MAG2);
  });

  it('§5.3.5: de-registration -> PBA 0 now, routes gone, BCE kept MinDelayBeforeBCEDelete, then deleted', async () => {
    const mag = h.mag();
    mag.pbu({ mnId: MN });
    await h.settle();
    mag.pba();
    mag.pbu({ mnId: MN, hnps: [P1], hi: HI.UNKNOWN, lifetime: 0 });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, 0);
    assert.equal(pba.lifetime, 0);
    assert.deepEqual(hnpsOf(pba), [P1]);
    assert.equal(h.lma.bindingCount, 1);
    assert.equal(h.lma.bindings.list().items[0].state, 'deregistering');
    assert.equal(h.dp.routes.size, 0, 'the MN traffic is dropped during the wait');
    assert.equal(h.dp.tunnels.size, 0);
    await h.advance(9_999);
    assert.equal(h.lma.bindingCount, 1);
    await h.advance(1);
    assert.equal(h.lma.bindingCount, 0);
    assert.deepEqual(h.sink.kinds(), ['created', 'deregistered']);
    assert.equal(h.sink.bindings[1].reason, 'min-delay-elapsed');
  });

  it('§5.3.5: an accepted PBU during MinDelayBeforeBCEDelete ends the wait and restores the binding', async () => {
    const mag = h.mag();
    mag.pbu({ mnId: MN });
    await h.settle();
    mag.pba();
    mag.pbu({ mnId: MN, hnps: [P1], hi: HI.UNKNOWN, lifetime: 0 });
    await h.settle();
    mag.pba();
    await h.advance(5000);
    mag.pbu({ mnId: MN, hnps: [P1], hi: HI.NOT_CHANGED });
    await h.settle();
    assert.equal(mag.pba().status, 0);
    assert.equal(h.lma.bindings.list().items[0].state, 'active');
    assert.equal(h.dp.routes.size, 1);
    await h.advance(20_000);
    assert.equal(h.lma.bindingCount, 1);
  });

  it('§5.3.5: break-before-make: old MAG de-registers, new MAG registers during the wait -> handoff of the same session', async () => {
    const m1 = h.mag(MAG1);
    const m2 = h.mag(MAG2);
    m1.pbu({ mnId: MN });
    await h.settle();
    const key = h.lma.bindings.list().items[0].sessionKey;
    m1.pbu({ mnId: MN, hnps: [P1], hi: HI.UNKNOWN, lifetime: 0 });
    await h.settle();
    await h.advance(300);
    m2.pbu({ mnId: MN, hi: HI.UNKNOWN }); // ALL_ZERO, handoff state unknown: nothing to wait for
    await h.settle();
    const pba = m2.pba();
    assert.equal(pba.status, 0);
    assert.deepEqual(hnpsOf(pba), [P1]);
    const b = h.lma.bindings.list().items[0];
    assert.equal(b.sessionKey, key);
    assert.equal(b.proxyCoa, MAG2);
    assert.equal(b.state, 'active');
  });

  it('RFC 6275 §9.5 / RFC 5213 §5.3.5: lifetime expiry removes the BCE, its routes and the tunnel', async () => {
    const mag = h.mag();
    mag.pbu({ mnId: MN, lifetime: 40 });
    await h.settle();
    mag.pba();
    await h.advance(39_999);
    assert.equal(h.lma.bindingCount, 1);
    await h.advance(1);
    assert.equal(h.lma.bindingCount, 0);
    assert.equal(h.dp.routes.size, 0);
    assert.equal(h.dp.tunnels.size, 0);
    assert.deepEqual(h.sink.kinds(), ['created', 'expired']);
    assert.equal(h.lma.peerCount, 0);
  });

  it('RFC 5213 §9.1 timers can change at run time (configure)', async () => {
    h.lma.configure({ minDelayBeforeBceDeleteMs: 2000 });
    const mag = h.mag();
    mag.pbu({ mnId: MN });
    await h.settle();
    mag.pbu({ mnId: MN, hnps: [P1], hi: HI.UNKNOWN, lifetime: 0 });
    await h.settle();
    await h.advance(2000);
    assert.equal(h.lma.bindingCount, 0);
  });

  it('the granted lifetime is capped by maxLifetimeS', async () => {
    const h2 = await harness({ config: { maxLifetimeS: 120 }, profiles: [makeProfile(MN, { hnps: [P1] })] });
    const mag = h2.mag();
    mag.pbu({ mnId: MN, lifetime: 3600 });
    await h2.settle();
    assert.equal(mag.pba().lifetime, 30);
    await h2.close();
  });
});

describe('RFC 5213 §5.4 several HNPs and multihoming', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('§5.4: several HNPs in one mobility session, all routed, all returned', async () => {
    h = await harness({ profiles: [makeProfile(MN, { hnps: [P1, P2] })] });
    const mag = h.mag();
    mag.pbu({ mnId: MN });
    await h.settle();
    const pba = mag.pba();
    assert.deepEqual(hnpsOf(pba).sort(), [P1, P2]);
    assert.equal(h.dp.routes.size, 2);
    assert.equal(h.lma.bindingCount, 1);
    // re-registration with both prefixes
    mag.pbu({ mnId: MN, hnps: [P1, P2], hi: HI.NOT_CHANGED });
    await h.settle();
    assert.equal(mag.pba().status, 0);
  });

  it('§5.4: two interfaces of one MN -> two sessions with their own prefixes and lifetimes', async () => {
    h = await harness({ profiles: [makeProfile(MN, { hnps: [P1, P2] })] });
    const m1 = h.mag(MAG1);
    const m2 = h.mag(MAG2);
    m1.pbu({ mnId: MN, hnps: [P1], llId: '02:00:00:00:00:01', att: 4 });
    await h.settle();
    m2.pbu({ mnId: MN, hnps: [P2], llId: '02:00:00:00:00:02', att: 8, hi: HI.NEW_INTERFACE, lifetime: 100 });
    await h.settle();
    assert.equal(m1.pba().status, 0);
    assert.equal(m2.pba().status, 0);
    assert.equal(h.lma.bindingCount, 2);
    const list = h.lma.bindings.list({ mnId: MN });
    assert.equal(list.total, 2);
    await h.advance(100_000);
    assert.equal(h.lma.bindingCount, 1, 'each session has its own lifetime');
    assert.deepEqual(h.lma.bindings.list().items[0].hnps, [P1]);
  });

  it('§5.4.1.2 (3): HI = 2 moves the only session to the new interface', async () => {
    h = await harness({ profiles: [makeProfile(MN, { hnps: [P1] })] });
    const m1 = h.mag(MAG1);
    m1.pbu({ mnId: MN, llId: '02:00:00:00:00:01', att: 4 });
    await h.settle();
    m1.pba();
    const m2 = h.mag(MAG2);
    m2.pbu({ mnId: MN, llId: '02:00:00:00:00:02', att: 8, hi: HI.HANDOFF_BETWEEN_INTERFACES });
    await h.settle();
    const pba = m2.pba();
    assert.equal(pba.status, 0);
    assert.deepEqual(hnpsOf(pba), [P1]);
    const b = h.lma.bindings.list().items[0];
    assert.equal(b.mnLinkLayerId, '02:00:00:00:00:02');
    assert.equal(b.accessTechnologyType, 8);
    assert.equal(b.proxyCoa, MAG2);
    assert.equal(getOption(pba, 'mnLinkLayerId')?.id.length, 6);
  });
});

describe('RFC 5213 §5.4.1.2 (4) / §5.4.1.3 (3) MaxDelayBeforeNewBCEAssign', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('HI = 4 from a new MAG waits for the old MAG; its de-registration turns the wait into a handoff', async () => {
    h = await harness({ config: { revokeOnUnknownHandoff: false }, profiles: [makeProfile(MN, { hnps: [P1] })] });
    const m1 = h.mag(MAG1);
    const m2 = h.mag(MAG2);
    m1.pbu({ mnId: MN });
    await h.settle();
    m1.pba();
    const key = h.lma.bindings.list().items[0].sessionKey;
    m2.pbu({ mnId: MN, hi: HI.UNKNOWN });
    await h.settle();
    assert.equal(m2.take(), undefined, 'waiting');
    await h.advance(500);
    m1.pbu({ mnId: MN, hnps: [P1], hi: HI.UNKNOWN, lifetime: 0 });
    await h.settle();
    assert.equal(m1.pba().status, 0);
    const pba = m2.pba();
    assert.equal(pba.status, 0);
    assert.deepEqual(hnpsOf(pba), [P1]);
    const b = h.lma.bindings.list().items[0];
    assert.equal(h.lma.bindingCount, 1);
    assert.equal(b.sessionKey, key, 'the same session moved');
    assert.equal(b.proxyCoa, MAG2);
    assert.equal(b.state, 'active');
    assert.equal(h.dp.tunnels.get(h.dp.routes.get(P1)!)!.remote, MAG2);
  });

  it('HI = 4 and no de-registration within MaxDelayBeforeNewBCEAssign -> new session (taking the prefixes over)', async () => {
    h = await harness({ config: { revokeOnUnknownHandoff: false }, profiles: [makeProfile(MN, { hnps: [P1] })] });
    const m1 = h.mag(MAG1);
    const m2 = h.mag(MAG2);
    m1.pbu({ mnId: MN });
    await h.settle();
    m1.pba();
    const key = h.lma.bindings.list().items[0].sessionKey;
    m2.pbu({ mnId: MN, hi: HI.UNKNOWN });
    await h.settle();
    await h.advance(1499);
    assert.equal(m2.take(), undefined);
    await h.advance(1);
    const pba = m2.pba();
    assert.equal(pba.status, 0);
    assert.deepEqual(hnpsOf(pba), [P1]);
    assert.equal(h.lma.bindingCount, 1);
    const b = h.lma.bindings.list().items[0];
    assert.notEqual(b.sessionKey, key, 'a new session');
    assert.equal(b.proxyCoa, MAG2);
    assert.deepEqual(h.sink.kinds(), ['created', 'deregistered', 'created']);
    assert.equal(h.sink.bindings[1].reason, 'superseded');
  });

  it('a retransmission while waiting replaces the waiting PBU (only the latest is answered)', async () => {
    h = await harness({ config: { revokeOnUnknownHandoff: false }, profiles: [makeProfile(MN, { hnps: [P1] })] });
    const m1 = h.mag(MAG1);
    const m2 = h.mag(MAG2);
    m1.pbu({ mnId: MN });
    await h.settle();
    m2.pbu({ mnId: MN, hi: HI.UNKNOWN, seq: 10 });
    await h.settle();
    await h.advance(1000);
    m2.pbu({ mnId: MN, hi: HI.UNKNOWN, seq: 11 });
    await h.settle();
    await h.advance(500);
    const pba = m2.pba();
    assert.equal(pba.seq, 11);
    assert.equal(m2.take(), undefined);
    assert.equal(h.lma.counters.pbuIgnored['replaced-while-waiting'], 1);
  });

  it('createNewBceWithoutWaiting: HI = 4 is a new session at once', async () => {
    h = await harness({ config: { createNewBceWithoutWaiting: true }, profiles: [makeProfile(MN, { hnps: [P1] })] });
    const m1 = h.mag(MAG1);
    const m2 = h.mag(MAG2);
    m1.pbu({ mnId: MN });
    await h.settle();
    m2.pbu({ mnId: MN, hi: HI.UNKNOWN });
    await h.settle();
    assert.equal(m2.pba().status, 0);
  });
});
