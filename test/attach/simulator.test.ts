// The attach simulator (pmip6 simulate) and the manual detector, alone and driving MAGs
// against the fake LMA of test/mag.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualDetector } from '../../src/attach/manual.ts';
import { AttachSimulator } from '../../src/attach/simulator.ts';
import type { SimEvent } from '../../src/attach/simulator.ts';
import { RecordingDataPlane } from '../../src/dataplane/recording.ts';
import { Mag, templatePolicy } from '../../src/mag/index.ts';
import type { MagEvent } from '../../src/mag/index.ts';
import { getOption } from '../../src/mh/index.ts';
import { MemoryHub } from '../../src/transport/memory.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { FakeLma } from '../mag/fake-lma.ts';
import { settle } from '../mag/harness.ts';

function collect(sim: AttachSimulator): SimEvent[] {
  const out: SimEvent[] = [];
  sim.onEvent((e) => out.push(e));
  return out;
}

async function runOut(clock: ManualClock, sim: AttachSimulator, stepMs = 50, maxMs = 600_000): Promise<void> {
  let done = false;
  void sim.done.then(() => (done = true));
  for (let t = 0; t < maxMs && !done; t += stepMs) {
    clock.advance(stepMs);
    await settle(3);
  }
  assert.ok(done, 'simulation finished');
}

describe('AttachSimulator', () => {
  it('attach-detach: N MNs with NAIs sim-<i>@realm and locally administered MACs, at R events per second', async () => {
    const clock = new ManualClock();
    const sim = new AttachSimulator({ mns: 10, rate: 5, scenario: 'attach-detach', realm: 'r.test', clock });
    const ev = collect(sim);
    await sim.start();
    assert.equal(ev.length, 1, 'the first event at once');
    clock.advance(999);
    assert.equal(ev.length, 5);
    clock.advance(1);
    assert.equal(ev.length, 6);
    await runOut(clock, sim);
    const s = await sim.done;
    assert.equal(s.events, 20);
    assert.equal(s.attaches, 10);
    assert.equal(s.detaches, 10);
    assert.equal(s.attachedAtEnd, 0);
    assert.equal(s.finishedAt - s.startedAt, 19 * 200, '20 events at 5/s');
    const first = ev[0].event;
    assert.equal(first.kind, 'attach');
    assert.equal(first.mnId, 'sim-0@r.test');
    assert.equal(first.mnLinkLayerId, '02:00:00:00:00:00');
    assert.equal(first.kind === 'attach' && first.handoffIndicator, 1);
    assert.equal(sim.mac(0x01020304), '02:00:01:02:03:04');
    assert.deepEqual(ev.slice(10).map((e) => e.event.kind), Array(10).fill('detach'));
  });

  it('lifecycle with two MAGs: attach at one, move (detach + attach with HI 3) to the other, detach there', async () => {
    const clock = new ManualClock();
    const sim = new AttachSimulator({ mns: 4, rate: 1000, mags: ['A', 'B'], clock });
    const ev = collect(sim);
    await sim.start();
    await runOut(clock, sim, 10);
    const s = sim.summary();
    assert.equal(s.moves, 4);
    assert.equal(s.events, 4 + 8 + 4);
    const mn0 = ev.filter((e) => e.event.mnId === sim.mnId(0)).map((e) => `${e.mag}:${e.event.kind}`);
    assert.deepEqual(mn0, ['A:attach', 'A:detach', 'B:attach', 'B:detach']);
    const moveAttach = ev.filter((e) => e.event.mnId === sim.mnId(0) && e.event.kind === 'attach')[1].event;
    assert.equal(moveAttach.kind === 'attach' && moveAttach.handoffIndicator, 3);
    // A: MN 0, 2 attach there and leave; MN 1, 3 move in and detach there. B the other way round.
    assert.deepEqual(s.perMag, { A: { attaches: 4, detaches: 4 }, B: { attaches: 4, detaches: 4 } });
  });

  it('make-before-break moves attach at the new MAG first; per-MAG presence follows the MN', async () => {
    const clock = new ManualClock();
    const sim = new AttachSimulator({ mns: 1, rate: 1, mags: ['A', 'B'], moveOrder: 'make-before-break', clock });
    const a = sim.detectorFor('A');
    const b = sim.detectorFor('B');
    const seen: string[] = [];
    a.onEvent((e) => seen.push(`A:${e.kind}`));
    b.onEvent((e) => seen.push(`B:${e.kind}`));
    await sim.start();
    assert.equal(a.isAttached?.(sim.mnId(0), sim.link(0)), true);
    clock.advance(1000);
    assert.deepEqual(seen, ['A:attach', 'B:attach']);
    assert.equal(a.isAttached?.(sim.mnId(0), sim.link(0)), false);
    assert.equal(b.isAttached?.(sim.mnId(0), sim.link(0)), true);
    clock.advance(1000);
    assert.deepEqual(seen, ['A:attach', 'B:attach', 'A:detach']);
    await runOut(clock, sim, 500);
    assert.equal(sim.whereIs(0), null);
  });

  it('churn is deterministic per seed and ends with every MN detached', async () => {
    const run = async (seed: number) => {
      const clock = new ManualClock();
      const sim = new AttachSimulator({ mns: 20, rate: 10_000, mags: ['A', 'B', 'C'], scenario: 'churn', churnSteps: 200, seed, clock });
      const ev = collect(sim);
      await sim.start();
      await runOut(clock, sim, 5);
      return { ev: ev.map((e) => `${e.mag}${e.event.kind[0]}${e.event.mnId}`), s: sim.summary() };
    };
    const r1 = await run(7);
    const r2 = await run(7);
    const r3 = await run(8);
    assert.deepEqual(r1.ev, r2.ev);
    assert.notDeepEqual(r1.ev, r3.ev);
    assert.equal(r1.s.attachedAtEnd, 0);
    assert.equal(r1.s.attaches, r1.s.detaches);
    // Per MN the events alternate attach/detach and a detach is at the MAG of the last attach.
    const where = new Map<string, string>();
    for (const e of r1.ev) {
      const mag = e[0];
      const kind = e[1];
      const mn = e.slice(2);
      if (kind === 'a') {
        assert.ok(!where.has(mn), `${mn} attached twice`);
        where.set(mn, mag);
      } else {
        assert.equal(where.get(mn), mag);
        where.delete(mn);
      }
    }
  });

  it('phaseGapMs pauses between phases; stop() ends early with a summary', async () => {
    const clock = new ManualClock();
    const sim = new AttachSimulator({ mns: 3, rate: 1, scenario: 'attach-detach', phaseGapMs: 5000, clock });
    const ev = collect(sim);
    await sim.start();
    clock.advance(2500);
    assert.equal(ev.length, 3, 'attaches at 0, 1, 2 s');
    clock.advance(5400); // the pause starts when the next event would be due (3 s) and lasts 5 s
    assert.equal(ev.length, 3, 'pausing');
    clock.advance(100);
    assert.equal(ev.length, 4);
    await sim.stop();
    const s = await sim.done;
    assert.equal(s.events, 4);
    assert.equal(s.attachedAtEnd, 2);
  });
});

describe('AttachSimulator driving MAGs', () => {
  async function twoMags(n: number, rate: number) {
    const clock = new ManualClock();
    const hub = new MemoryHub();
    const lma = new FakeLma(hub, '2001:db8::1', clock);
    const sim = new AttachSimulator({ mns: n, rate, mags: ['A', 'B'], scenario: 'lifecycle', phaseGapMs: 2000, clock });
    const policy = templatePolicy({ lma: '2001:db8::1' });
    const mk = async (label: string, addr: string) => {
      const events: MagEvent[] = [];
      const dp = new RecordingDataPlane();
      const mag = new Mag(
        { id: `sim-${label}`, proxyCoa: addr, heartbeatIntervalS: 0 },
        { clock, transport: hub.endpoint(addr), dataPlane: dp, policy, detector: sim.detectorFor(label), events: { emit: (e) => events.push(e) } },
      );
      await mag.start();
      return { mag, events, dp };
    };
    const A = await mk('A', '2001:db8:a::1');
    const B = await mk('B', '2001:db8:b::1');
    return { clock, lma, sim, A, B };
  }

  it('N MNs attach at MAG A/B, move to the other MAG and detach: every PBA accepted, LMA empty at the end', async () => {
    const { clock, lma, sim, A, B } = await twoMags(50, 200);
    await sim.start();
    await runOut(clock, sim, 20);
    clock.advance(2000);
    await settle();
    await A.mag.idle();
    await B.mag.idle();
    const s = sim.summary();
    assert.equal(s.moves, 50);
    const statuses = lma.sentPbas.map((p) => p.status);
    assert.ok(statuses.length > 0);
    assert.ok(statuses.every((x) => x === 0), 'every PBA accepted');
    assert.equal(lma.bces.size, 0, "the LMA's binding cache is empty");
    assert.equal(A.mag.view.size(), 0);
    assert.equal(B.mag.view.size(), 0);
    assert.equal(A.dp.routes.size + B.dp.routes.size, 0);
    assert.equal(A.dp.tunnels.size + B.dp.tunnels.size, 0);
    const reg = [...A.events, ...B.events].filter((e) => e.type === 'registered').length;
    assert.equal(reg, 100, 'one registration at the first MAG and one at the second per MN');
    assert.equal([...A.events, ...B.events].filter((e) => e.type === 'failed').length, 0);
    // The move attach carried HI 3.
    const hi = lma.pbus().filter((p) => p.msg.lifetime > 0).map((p) => getOption(p.msg, 'handoffIndicator')?.hi);
    assert.equal(hi.filter((x) => x === 3).length, 50);
    assert.equal(hi.filter((x) => x === 1).length, 50);
  });
});

describe('ManualDetector', () => {
  it('emits injected events in order once started; markLost drives the presence check', async () => {
    const d = new ManualDetector();
    const seen: string[] = [];
    d.onEvent((e) => seen.push(`${e.kind}:${e.mnId}`));
    assert.equal(d.attach({ mnId: 'x@y', link: 'l', accessTechType: 1 }), false, 'not started');
    await d.start();
    assert.equal(d.attach({ mnId: 'x@y', link: 'l', accessTechType: 1 }), true);
    d.detach({ mnId: 'x@y', link: 'l' });
    assert.deepEqual(seen, ['attach:x@y', 'detach:x@y']);
    assert.equal(d.isAttached('x@y', 'l'), true);
    d.markLost('x@y', 'l');
    assert.equal(d.isAttached('x@y', 'l'), false);
    d.attach({ mnId: 'x@y', link: 'l', accessTechType: 1 });
    assert.equal(d.isAttached('x@y', 'l'), true);
    await d.stop();
    assert.equal(d.detach({ mnId: 'x@y', link: 'l' }), false);
  });
});

describe('AttachSimulator timing of moves', () => {
  it('the two halves of a move never share a millisecond, even at high rates (RFC 5213 §5.5 timestamps)', async () => {
    const clock = new ManualClock();
    const sim = new AttachSimulator({ mns: 50, rate: 100_000, mags: ['A', 'B'], clock });
    const at: { t: number; e: SimEvent }[] = [];
    sim.onEvent((e) => at.push({ t: clock.now(), e }));
    await sim.start();
    await runOut(clock, sim, 1);
    const byMn = new Map<string, number[]>();
    for (const { t, e } of at) byMn.set(e.event.mnId, [...(byMn.get(e.event.mnId) ?? []), t]);
    for (const [mn, ts] of byMn) {
      assert.equal(ts.length, 4, mn);
      assert.ok(ts[2] > ts[1], `${mn}: move detach and attach in different ms`);
    }
  });
});
