// RFC 5213 §5.4.1 BCE lookup (cases A: NON_ZERO HNP, B: MN-LL-ID, C: MN-ID only) and
// §5.5 message ordering (timestamps with TimestampValidityWindow; sequence numbers).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { BaStatus, HandoffIndicator as HI, getOption, timestampFromMs } from '../../src/mh/index.ts';
import { harness, hnpsOf, makeProfile, MAG1, MAG2 } from './driver.ts';
import type { Harness, TestMag } from './driver.ts';

const MN = 'mn1@example.net';
const P1 = '2001:db8:1:1::/64';
const P2 = '2001:db8:1:2::/64';
const LL1 = '02:00:00:00:00:01';
const LL2 = '02:00:00:00:00:02';

describe('RFC 5213 §5.4.1 BCE lookup', () => {
  let h: Harness;
  let m1: TestMag;
  let m2: TestMag;
  beforeEach(async () => {
    h = await harness({
      config: { revokeOnUnknownHandoff: false },
      profiles: [makeProfile(MN, { hnps: [P1, P2] }), makeProfile('mn2@example.net', { hnps: ['2001:db8:2::/64'] })],
    });
    m1 = h.mag(MAG1);
    m2 = h.mag(MAG2);
  });
  afterEach(() => h.close());

  async function register(spec: Parameters<TestMag['pbu']>[0], mag = m1): Promise<number> {
    mag.pbu({ mnId: MN, ...spec });
    await h.settle();
    return mag.pba().status;
  }

  it('§5.4.1.1 (2): NON_ZERO HNPs held by no BCE -> new session', async () => {
    assert.equal(await register({ hnps: [P1] }), 0);
    assert.equal(h.lma.bindingCount, 1);
  });

  it('§5.4.1.1 (3): prefix held by another MN -> 155', async () => {
    await register({ hnps: [P1] });
    m2.pbu({ mnId: 'mn2@example.net', hnps: [P1], hi: HI.HANDOFF_BETWEEN_MAGS });
    await h.settle();
    assert.equal(m2.pba().status, BaStatus.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX);
  });

  it('§5.4.1.1 (4): same MN but prefix set differs in content or count -> 159', async () => {
    await register({ hnps: [P1, P2] });
    assert.equal(await register({ hnps: [P1], hi: HI.NOT_CHANGED }), BaStatus.BCE_PBU_PREFIX_SET_DO_NOT_MATCH);
    assert.equal(await register({ hnps: [P1, P2, '2001:db8:1:3::/64'], hi: HI.NOT_CHANGED }), BaStatus.BCE_PBU_PREFIX_SET_DO_NOT_MATCH);
  });

  it('§5.4.1.1 (5): MN-LL-ID and ATT match -> update, even from another MAG with HI = 1', async () => {
    await register({ hnps: [P1], llId: LL1, att: 4 });
    assert.equal(await register({ hnps: [P1], llId: LL1, att: 4, hi: HI.NEW_INTERFACE }, m2), 0);
    assert.equal(h.lma.bindingCount, 1);
    assert.equal(h.lma.bindings.list().items[0].proxyCoa, MAG2);
  });

  it('§5.4.1.1 (5): no MN-LL-ID, BCE LL-ID ALL_ZERO, ATT equal, HI = 3 -> update (handoff)', async () => {
    await register({ hnps: [P1], att: 4 });
    assert.equal(await register({ hnps: [P1], att: 4, hi: HI.HANDOFF_BETWEEN_MAGS }, m2), 0);
    assert.deepEqual(h.sink.kinds(), ['created', 'handed-off']);
  });

  it('§5.4.1.1 (5): same Proxy-CoA and ATT -> update (re-registration)', async () => {
    await register({ hnps: [P1], att: 4 });
    assert.equal(await register({ hnps: [P1], att: 4, hi: HI.NOT_CHANGED }), 0);
    assert.deepEqual(h.sink.kinds(), ['created', 'refreshed']);
  });

  it('§5.4.1.1 (6): full match but no update condition and lifetime 0 -> silently ignored', async () => {
    await register({ hnps: [P1], att: 4 });
    m2.pbu({ mnId: MN, hnps: [P1], att: 8, hi: HI.UNKNOWN, lifetime: 0 });
    await h.settle();
    assert.equal(m2.take(), undefined);
    assert.equal(h.lma.counters.pbuIgnored['dereg-no-session'], 1);
    assert.equal(h.lma.bindings.list().items[0].state, 'active');
  });

  it('§5.4.1.1 (2): lifetime 0 for prefixes nobody holds -> silently ignored', async () => {
    m1.pbu({ mnId: MN, hnps: [P1], hi: HI.UNKNOWN, lifetime: 0 });
    await h.settle();
    assert.equal(m1.take(), undefined);
  });

  it('§5.4.1.2 (2): (MN-ID, ATT, MN-LL-ID) match with an ALL_ZERO HNP -> update', async () => {
    await register({ llId: LL1, att: 4 });
    assert.equal(await register({ llId: LL1, att: 4, hi: HI.HANDOFF_BETWEEN_MAGS }, m2), 0);
    assert.equal(h.lma.bindingCount, 1);
    assert.equal(h.lma.bindings.list().items[0].proxyCoa, MAG2);
  });

  it('§5.4.1.2 (3): no (MN-ID, ATT, LL-ID) match, HI = 2, exactly one BCE -> update', async () => {
    await register({ llId: LL1, att: 4 });
    assert.equal(await register({ llId: LL2, att: 8, hi: HI.HANDOFF_BETWEEN_INTERFACES }, m2), 0);
    assert.equal(h.lma.bindingCount, 1);
  });

  it('§5.4.1.2 (5): no match, HI = 1 -> new session (multihoming) with the other prefix', async () => {
    await register({ hnps: [P1], llId: LL1, att: 4 });
    m2.pbu({ mnId: MN, llId: LL2, att: 8, hi: HI.NEW_INTERFACE });
    await h.settle();
    const pba = m2.pba();
    assert.equal(pba.status, 0);
    assert.deepEqual(hnpsOf(pba), [P2]);
    assert.equal(h.lma.bindingCount, 2);
  });

  it('§5.4.1.2 (4): no match, HI = 4, one BCE at another MAG -> wait', async () => {
    await register({ llId: LL1, att: 4 });
    m2.pbu({ mnId: MN, llId: LL2, att: 4, hi: HI.UNKNOWN });
    await h.settle();
    assert.equal(m2.take(), undefined);
    assert.equal(h.lma.bindingCount, 1);
  });

  it('§5.4.1.3 (2): no LL-ID, one BCE, HI = 3 -> update', async () => {
    await register({});
    assert.equal(await register({ hi: HI.HANDOFF_BETWEEN_MAGS }, m2), 0);
    assert.equal(h.lma.bindingCount, 1);
    assert.equal(h.lma.bindings.list().items[0].proxyCoa, MAG2);
  });

  it('§5.4.1.3 (4): no LL-ID, HI = 1 -> new session; lifetime 0 with no session -> ignored', async () => {
    m1.pbu({ mnId: MN, lifetime: 0, hi: HI.UNKNOWN });
    await h.settle();
    assert.equal(m1.take(), undefined);
    await register({ hnps: [P1] });
    assert.equal(await register({ hi: HI.NEW_INTERFACE }, m2), 0);
    assert.equal(h.lma.bindingCount, 2);
  });

  it('§5.4.1.3: HI = 1 again from the MAG holding the only session (its first PBU retransmitted) -> the same session, not a second one (extension)', async () => {
    await register({ hi: HI.NEW_INTERFACE });
    const first = h.lma.bindings.list().items[0];
    assert.equal(await register({ hi: HI.NEW_INTERFACE }), 0);
    assert.equal(h.lma.bindingCount, 1);
    assert.deepEqual(h.sink.kinds(), ['created', 'refreshed']);
    assert.deepEqual(h.lma.bindings.list().items[0].hnps, first.hnps);
  });

  it('§5.4.1.3: HI = 5 from the MAG holding the only session, ALL_ZERO HNP -> re-registration (extension)', async () => {
    await register({});
    assert.equal(await register({ hi: HI.NOT_CHANGED }), 0);
    assert.equal(h.lma.bindingCount, 1);
    assert.deepEqual(h.sink.kinds(), ['created', 'refreshed']);
  });
});

describe('RFC 5213 §5.5 message ordering', () => {
  let h: Harness;
  let mag: TestMag;
  beforeEach(async () => {
    h = await harness({ profiles: [makeProfile(MN, { hnps: [P1] })] });
    mag = h.mag();
  });
  afterEach(() => h.close());

  it('§5.5 (6): timestamp within TimestampValidityWindow (300 ms) -> accepted and echoed', async () => {
    const ts = h.clock.now() + 299;
    mag.pbu({ mnId: MN, ts });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, 0);
    assert.equal(getOption(pba, 'timestamp')?.value, timestampFromMs(ts));
  });

  it('§5.5 (9): timestamp outside the window (either side) -> 156', async () => {
    mag.pbu({ mnId: MN, ts: h.clock.now() + 301 });
    mag.pbu({ mnId: MN, ts: h.clock.now() - 301 });
    await h.settle();
    assert.equal(mag.pba().status, BaStatus.TIMESTAMP_MISMATCH);
    assert.equal(mag.pba().status, BaStatus.TIMESTAMP_MISMATCH);
  });

  it('§5.5 (8): lower than the last accepted timestamp -> 157; equal -> 156', async () => {
    const t0 = h.clock.now();
    mag.pbu({ mnId: MN, ts: t0 + 100 });
    await h.settle();
    assert.equal(mag.pba().status, 0);
    mag.pbu({ mnId: MN, ts: t0 + 50, hnps: [P1], hi: HI.NOT_CHANGED });
    await h.settle();
    assert.equal(mag.pba().status, BaStatus.TIMESTAMP_LOWER_THAN_PREV_ACCEPTED);
    mag.pbu({ mnId: MN, ts: t0 + 100, hnps: [P1], hi: HI.NOT_CHANGED });
    await h.settle();
    assert.equal(mag.pba().status, BaStatus.TIMESTAMP_MISMATCH);
    mag.pbu({ mnId: MN, ts: t0 + 101, hnps: [P1], hi: HI.NOT_CHANGED });
    await h.settle();
    assert.equal(mag.pba().status, 0);
  });

  it('§5.5 (5): in timestamp mode the sequence number is ignored but copied', async () => {
    mag.pbu({ mnId: MN, seq: 100 });
    await h.settle();
    mag.pba();
    mag.pbu({ mnId: MN, seq: 5, hnps: [P1], hi: HI.NOT_CHANGED });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, 0);
    assert.equal(pba.seq, 5);
  });

  it('§5.5: MobileNodeGeneratedTimestampInUse -> only the "greater than" check applies', async () => {
    const h2 = await harness({ config: { mobileNodeGeneratedTimestampInUse: true }, profiles: [makeProfile(MN, { hnps: [P1] })] });
    const m = h2.mag();
    m.pbu({ mnId: MN, ts: 5_000 });
    await h2.settle();
    assert.equal(m.pba().status, 0);
    m.pbu({ mnId: MN, ts: 4_000, hnps: [P1], hi: HI.NOT_CHANGED });
    await h2.settle();
    assert.equal(m.pba().status, BaStatus.TIMESTAMP_LOWER_THAN_PREV_ACCEPTED);
    await h2.close();
  });

  it('§5.5 sequence-number approach: no Timestamp -> RFC 6275 rules per session, 135 carries the last accepted number', async () => {
    mag.pbu({ mnId: MN, ts: null, seq: 1000 });
    await h.settle();
    const first = mag.pba();
    assert.equal(first.status, 0);
    assert.equal(getOption(first, 'timestamp'), undefined);
    mag.pbu({ mnId: MN, ts: null, seq: 1000, hnps: [P1], hi: HI.NOT_CHANGED });
    await h.settle();
    const dup = mag.pba();
    assert.equal(dup.status, BaStatus.SEQUENCE_NUMBER_OUT_OF_WINDOW);
    assert.equal(dup.seq, 1000);
    mag.pbu({ mnId: MN, ts: null, seq: 999, hnps: [P1], hi: HI.NOT_CHANGED });
    await h.settle();
    assert.equal(mag.pba().status, BaStatus.SEQUENCE_NUMBER_OUT_OF_WINDOW);
    mag.pbu({ mnId: MN, ts: null, seq: 1001, hnps: [P1], hi: HI.NOT_CHANGED });
    await h.settle();
    assert.equal(mag.pba().status, 0);
    assert.equal(h.lma.bindings.list().items[0].timestampMs, null, 'BCE timestamp ALL_ZERO in sequence mode (§5.1)');
  });

  it('RFC 6275 §9.5.1: sequence numbers compare modulo 2^16 (65535 -> 0 is newer)', async () => {
    mag.pbu({ mnId: MN, ts: null, seq: 65535 });
    await h.settle();
    mag.pba();
    mag.pbu({ mnId: MN, ts: null, seq: 0, hnps: [P1], hi: HI.NOT_CHANGED });
    await h.settle();
    assert.equal(mag.pba().status, 0);
    mag.pbu({ mnId: MN, ts: null, seq: 32768, hnps: [P1], hi: HI.NOT_CHANGED });
    await h.settle();
    assert.equal(mag.pba().status, BaStatus.SEQUENCE_NUMBER_OUT_OF_WINDOW, '0 + 32768 is not greater');
  });

  it('§5.5: with no BCE any sequence number is accepted', async () => {
    mag.pbu({ mnId: MN, ts: null, seq: 7 });
    await h.settle();
    assert.equal(mag.pba().status, 0);
  });

  it('per-MN serialisation: two PBUs back to back are processed in order although the policy lookup is async', async () => {
    // both arrive before the first profile lookup resolves; the second must see the first's BCE
    mag.pbu({ mnId: MN, seq: 1 });
    mag.pbu({ mnId: MN, seq: 2, hnps: [P1], hi: HI.NOT_CHANGED });
    await h.settle();
    const a = mag.pba();
    const b = mag.pba();
    assert.deepEqual([a.seq, a.status, b.seq, b.status], [1, 0, 2, 0]);
    assert.deepEqual(h.sink.kinds(), ['created', 'refreshed']);
    assert.equal(h.policy.profileCalls, 1, 'the second PBU used the BCE snapshot');
  });
});
