// Issue 9 item 4 and part of item 9 at the MAG: its state is not taken from the peer.
// - A PBA 157 with a far-future Timestamp (RFC 5213 §5.5, §6.9.1.2 item 8) raises the next
//   timestamp of that one binding only, and never beyond now + TimestampValidityWindow.
// - A refused re-registration (status >= 128) withdraws the MN's forwarding for the refused
//   family before any retry (§6.9.1.2 item 11).
// - An accepted PBA lacking an option §6.9.1.2 / §8.2 require is ignored.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BaStatus, BraStatus, BrFlag, RevocationTrigger, getOption, mnIdFromNai, timestampFromMs, timestampToMs } from '../../src/mh/index.ts';
import type { BindingUpdate } from '../../src/mh/index.ts';
import { MAG_A, attachEv, profile, world } from './harness.ts';

const tsOf = (pbu: BindingUpdate): number => timestampToMs(getOption(pbu, 'timestamp')!.value);

describe('issue 9: the MAG does not take its state from the peer', () => {
  it('§5.5: a 157 with a far-future timestamp moves only that binding, and at most by the validity window', async () => {
    const w = world({ profiles: [profile('a@x'), profile('b@x')] });
    const m = await w.addMag(MAG_A, { timestampValidityWindowMs: 300, maxStatusRetries: 2 });
    m.detector.attach(attachEv('a@x', { link: 'p1', mnLinkLayerId: '02:00:00:00:00:0a' }));
    m.detector.attach(attachEv('b@x', { link: 'p2', mnLinkLayerId: '02:00:00:00:00:0b' }));
    await w.advance(0);
    const year = 365 * 24 * 3600_000;
    let once = true;
    w.lma.respond = (pbu) => {
      if (!once || pbu.options.every((o) => o.type !== 'mnId' || Buffer.from(o.id).toString() !== 'a@x')) return 'default';
      once = false;
      const far = timestampFromMs(w.clock.now() + 10 * year);
      return { status: BaStatus.TIMESTAMP_LOWER_THAN_PREV_ACCEPTED, mapOptions: (os) => os.map((o) => (o.type === 'timestamp' ? { ...o, value: far } : o)) };
    };
    await w.advance(250_000); // refresh of both
    const now = w.clock.now();
    const aPbus = w.lma.pbus().filter((r) => getOption(r.msg, 'mnId') && Buffer.from(getOption(r.msg, 'mnId')!.id).toString() === 'a@x');
    const retry = aPbus[aPbus.length - 1].msg;
    assert.ok(tsOf(retry) <= now + 300 + 1, `the retry's timestamp is capped: ${tsOf(retry) - now} ms ahead`);
    assert.equal(m.view('a@x').state, 'registered', 'the capped retry was accepted');
    // The next PBU of another MN carries our own time, not the peer's.
    m.detector.detach({ mnId: 'b@x', link: 'p2' });
    await w.advance(0);
    const last = w.lma.lastPbu();
    assert.ok(Math.abs(tsOf(last) - w.clock.now()) <= 300 + 1, 'b@x: our clock');
  });

  it('§6.9.1.2 item 11: a refused re-registration withdraws the forwarding before the retry', async () => {
    const w = world({ profiles: [profile('r@x')] });
    const m = await w.addMag(MAG_A, { lifetimeS: 100, refreshRatio: 0.75, maxStatusRetries: 1 });
    m.detector.attach(attachEv('r@x'));
    await w.advance(0);
    assert.equal(m.dp.routes.size, 1);
    let routesAtRetry = -1;
    let n = 0;
    w.lma.respond = () => {
      n++;
      if (n === 1) return { status: BaStatus.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX };
      routesAtRetry = m.dp.routes.size; // what the MAG forwards while it retries
      return 'drop';
    };
    await w.advance(76_000);
    assert.equal(routesAtRetry, 0, 'no route for the refused prefix while retrying');
  });

  it('§6.9.1.2 / §8.2: an accepted PBA without the MN-ID or Handoff Indicator option is ignored', async () => {
    for (const missing of ['mnId', 'handoffIndicator'] as const) {
      const w = world({ profiles: [profile('m@x')] });
      const m = await w.addMag(MAG_A);
      w.lma.respond = () => ({ mapOptions: (os) => os.filter((o) => o.type !== missing) });
      m.detector.attach(attachEv('m@x'));
      await w.advance(0);
      assert.notEqual(m.view('m@x').state, 'registered', missing);
      const d = m.mag.counters.dropped;
      assert.equal(missing === 'mnId' ? d.unmatched : d.optionMissing, 1, missing); // no MN-ID: matches nothing (§6.9.1.2 item 5)
      assert.equal(m.dp.routes.size, 0);
    }
  });
});

describe('RFC 5846 §9.1: realm-based global revocation at the MAG', () => {
  it('G=1, "Revoking Mobility Node Local Policy", MN-ID "@x": every binding of realm x with that LMA, and only those', async () => {
    const w = world({ profiles: [profile('r1@x'), profile('r2@X'), profile('s1@y'), profile('t1@foo.x')] });
    const m = await w.addMag(MAG_A);
    for (const [i, id] of ['r1@x', 'r2@X', 's1@y', 't1@foo.x'].entries()) m.detector.attach(attachEv(id, { link: `p${i}`, mnLinkLayerId: `02:00:00:00:01:0${i}` }));
    await w.advance(0);
    assert.equal(m.mag.view.size(), 4);
    w.lma.sendBri({ address: MAG_A, port: 5436 }, { trigger: RevocationTrigger.REVOKING_MOBILITY_NODE_LOCAL_POLICY, seq: 9, flags: BrFlag.P | BrFlag.G, options: [mnIdFromNai('@x')] });
    await w.advance(0);
    const bra = w.lma.of('bra').at(-1)!.msg;
    assert.equal(bra.status, BraStatus.SUCCESS);
    assert.deepEqual(m.mag.view.list(10).map((e) => e.mnId).sort(), ['s1@y', 't1@foo.x']);
    w.lma.sendBri({ address: MAG_A, port: 5436 }, { trigger: RevocationTrigger.REVOKING_MOBILITY_NODE_LOCAL_POLICY, seq: 10, flags: BrFlag.P | BrFlag.G, options: [mnIdFromNai('@z')] });
    await w.advance(0);
    assert.equal(w.lma.of('bra').at(-1)!.msg.status, BraStatus.BINDING_DOES_NOT_EXIST);
  });
});
