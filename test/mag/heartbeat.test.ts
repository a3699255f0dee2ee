// RFC 5847 heartbeats on the MAG.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeartbeatFlag, getOption } from '../../src/mh/index.ts';
import { MAG_A, attachEv, profile, world } from './harness.ts';

describe('RFC 5847 heartbeat', () => {
  it('§3: answers every request, binding or not, with R=1, the same sequence number and our Restart Counter', async () => {
    const w = world();
    const a = await w.addMag(MAG_A, { restartCounter: 7 });
    w.lma.sendHeartbeatRequest({ address: MAG_A, port: 5436 }, 0xdeadbeef);
    await w.advance(0);
    const r = w.lma.of('heartbeat').at(-1)!.msg;
    assert.equal(r.flags & HeartbeatFlag.R, HeartbeatFlag.R);
    assert.equal(r.flags & HeartbeatFlag.U, 0);
    assert.equal(r.seq, 0xdeadbeef);
    assert.equal(getOption(r, 'restartCounter')?.counter, 7);
    assert.equal(a.mag.counters.received.heartbeatRequest, 1);
    assert.equal(a.mag.counters.sent.heartbeatResponse, 1);
  });

  it('§3: requests every HEARTBEAT_INTERVAL only to LMAs holding bindings for us, with increasing sequence numbers', async () => {
    const w = world({ profiles: [profile('hb@x')] });
    const a = await w.addMag(MAG_A, { heartbeatIntervalS: 60, lifetimeS: 3600 });
    await w.advance(61_000);
    assert.equal(w.lma.of('heartbeat').length, 0, 'no binding yet: no request');
    a.detector.attach(attachEv('hb@x'));
    await w.advance(60_000);
    await w.advance(60_000);
    const reqs = w.lma.of('heartbeat').filter((r) => (r.msg.flags & HeartbeatFlag.R) === 0);
    assert.equal(reqs.length, 2);
    assert.equal(reqs[1].msg.seq, (reqs[0].msg.seq + 1) >>> 0);
    assert.equal(a.mag.view.lmas()[0].restartCounter, 1);
    assert.equal(a.mag.view.lmas()[0].reachable, true);
  });

  it('§3.1: more than MISSING_HEARTBEATS_ALLOWED unanswered requests -> LMA unreachable; a response restores it', async () => {
    const w = world({ profiles: [profile('miss@x')] });
    const a = await w.addMag(MAG_A, { heartbeatIntervalS: 30, missingHeartbeatsAllowed: 3, lifetimeS: 3600 });
    a.detector.attach(attachEv('miss@x'));
    await w.advance(0);
    w.lma.heartbeat = 'ignore';
    await w.advance(30_000 * 4);
    assert.equal(a.mag.view.lmas()[0].reachable, true, '3 missing is still allowed');
    await w.advance(30_000);
    assert.equal(a.mag.view.lmas()[0].reachable, false);
    assert.deepEqual(a.events.filter((e) => e.type === 'lmaUnreachable').length, 1);
    assert.equal(a.mag.counters.lmaUnreachable, 1);
    assert.equal(a.view().state, 'registered', 'bindings are marked (LMA unreachable), not torn down');
    w.lma.heartbeat = 'answer';
    await w.advance(30_000);
    assert.equal(a.mag.view.lmas()[0].reachable, true);
    assert.equal(a.events.at(-1)?.type, 'lmaReachable');
  });

  it('§3.2: a changed Restart Counter -> every binding with that LMA is re-registered at once', async () => {
    const w = world({ profiles: [profile('rc1@x'), profile('rc2@x')] });
    const a = await w.addMag(MAG_A, { heartbeatIntervalS: 60, lifetimeS: 3600 });
    a.detector.attach(attachEv('rc1@x', { link: 'p1' }));
    a.detector.attach(attachEv('rc2@x', { link: 'p2' }));
    await w.advance(60_000);
    assert.equal(a.mag.view.lmas()[0].restartCounter, 1);
    const before = w.lma.pbus().length;
    w.lma.restartCounter = 2;
    w.lma.bces.clear(); // the LMA lost its state
    await w.advance(60_000);
    const rereg = w.lma.pbus().slice(before).map((p) => p.msg);
    assert.equal(rereg.length, 2);
    for (const p of rereg) {
      assert.ok(p.lifetime > 0);
      assert.equal(getOption(p, 'handoffIndicator')?.hi, 5);
    }
    assert.equal(w.lma.bces.size, 2, 'bindings restored at the LMA');
    assert.equal(a.mag.counters.lmaRestarts, 1);
    assert.ok(a.events.some((e) => e.type === 'lmaRestarted' && e.previous === 1 && e.restartCounter === 2));
  });

  it('§3.2: an unsolicited response (U=1) with a new counter is a restart too; its sequence number is ignored', async () => {
    const w = world({ profiles: [profile('u@x')] });
    const a = await w.addMag(MAG_A, { heartbeatIntervalS: 60, lifetimeS: 3600 });
    a.detector.attach(attachEv('u@x'));
    await w.advance(60_000);
    const before = w.lma.pbus().length;
    w.lma.send(
      { type: 'heartbeat', flags: HeartbeatFlag.R | HeartbeatFlag.U, seq: 12345, options: [{ type: 'restartCounter', counter: 9 }] },
      { address: MAG_A, port: 5436 },
    );
    await w.advance(0);
    assert.equal(w.lma.pbus().length, before + 1);
    assert.equal(a.mag.counters.dropped.staleHeartbeat, 0);
  });

  it('§3.2: an unsolicited response (U=1) before any counter was learnt announces a restart: re-register', async () => {
    const w = world({ profiles: [profile('early@x')] });
    const a = await w.addMag(MAG_A, { heartbeatIntervalS: 60, lifetimeS: 3600 });
    a.detector.attach(attachEv('early@x'));
    await w.advance(0);
    assert.equal(a.mag.view.lmas()[0].restartCounter, null, 'no heartbeat exchanged yet');
    const before = w.lma.pbus().length;
    w.lma.send({ type: 'heartbeat', flags: HeartbeatFlag.R | HeartbeatFlag.U, seq: 0, options: [{ type: 'restartCounter', counter: 7 }] }, { address: MAG_A, port: 5436 });
    await w.advance(0);
    assert.equal(w.lma.pbus().length, before + 1, 'the binding is registered again');
    assert.ok(a.events.some((e) => e.type === 'lmaRestarted' && e.previous === -1 && e.restartCounter === 7));
    // A solicited response is only learnt: no re-registration.
    const w2 = world({ profiles: [profile('calm@x')] });
    const b = await w2.addMag(MAG_A, { heartbeatIntervalS: 60, lifetimeS: 3600 });
    b.detector.attach(attachEv('calm@x'));
    await w2.advance(60_000);
    assert.equal(b.mag.counters.lmaRestarts, 0);
  });

  it('§3: Binding Error status 2 in reply -> never send heartbeats to that LMA again', async () => {
    const w = world({ profiles: [profile('be@x')] });
    const a = await w.addMag(MAG_A, { heartbeatIntervalS: 60, lifetimeS: 3600 });
    w.lma.heartbeat = 'unsupported';
    a.detector.attach(attachEv('be@x'));
    await w.advance(60_000);
    assert.equal(w.lma.of('heartbeat').length, 1);
    await w.advance(600_000);
    assert.equal(w.lma.of('heartbeat').length, 1);
    assert.equal(a.mag.view.lmas()[0].heartbeatSupported, false);
  });

  it('a response with an unknown sequence number is counted and ignored', async () => {
    const w = world();
    const a = await w.addMag(MAG_A);
    w.lma.send({ type: 'heartbeat', flags: HeartbeatFlag.R, seq: 1, options: [] }, { address: MAG_A, port: 5436 });
    await w.advance(0);
    assert.equal(a.mag.counters.dropped.unknownPeer, 1);
  });

  it('announceRestart sends unsolicited responses with our counter to former LMAs', async () => {
    const w = world();
    const a = await w.addMag(MAG_A, { restartCounter: 4 });
    a.mag.announceRestart([{ address: w.lma.address }]);
    await w.advance(0);
    const m = w.lma.of('heartbeat').at(-1)!.msg;
    assert.equal(m.flags, HeartbeatFlag.R | HeartbeatFlag.U);
    assert.equal(getOption(m, 'restartCounter')?.counter, 4);
  });
});
