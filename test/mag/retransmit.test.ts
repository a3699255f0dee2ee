// Retransmission and rate limiting (RFC 5213 §6.9.4, RFC 6275 §11.8, §12).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeMessage, getOption, timestampToMs } from '../../src/mh/index.ts';
import type { BindingUpdate } from '../../src/mh/index.ts';
import { MAG_A, attachEv, profile, world } from './harness.ts';
import type { World } from './harness.ts';

/** Every PBU the MAG sends, with the clock time at the moment of sending. */
function sendLog(w: World): { t: number; pbu: BindingUpdate }[] {
  const log: { t: number; pbu: BindingUpdate }[] = [];
  w.hub.drop = (data) => {
    const r = decodeMessage(data);
    if (r.ok && r.msg.type === 'bu') log.push({ t: w.clock.now(), pbu: r.msg });
    return false;
  };
  return log;
}

describe('RFC 5213 §6.9.4 retransmissions', () => {
  it('§6.9.4 items 1, 3: INITIAL_BINDACK_TIMEOUT 1 s, doubled each time up to MAX_BINDACK_TIMEOUT 32 s, then bounded', async () => {
    const w = world({ profiles: [profile('r@x')] });
    const a = await w.addMag(MAG_A, { maxRetransmissions: 7 });
    w.lma.respond = () => 'drop';
    const log = sendLog(w);
    const t0 = w.clock.now();
    a.detector.attach(attachEv('r@x'));
    await w.advance(200_000);
    const gaps = log.map((e, i) => (i === 0 ? e.t - t0 : e.t - log[i - 1].t));
    assert.deepEqual(gaps, [0, 1000, 2000, 4000, 8000, 16000, 32000, 32000], 'initial + 7 retransmissions');
    // After the last one the MAG waits one more MAX_BINDACK_TIMEOUT, then gives up.
    const failed = a.events.find((e) => e.type === 'failed');
    assert.ok(failed && failed.type === 'failed' && failed.reason === 'timeout');
    assert.equal(a.mag.view.size(), 0, 'BULE removed after giving up');
    assert.equal(a.mag.counters.retransmissions, 7);
    assert.equal(a.mag.counters.sent.pbu, 8);
  });

  it('§6.9.4 item 4: every retransmission carries the latest timestamp and a new sequence number', async () => {
    const w = world({ profiles: [profile('t@x')] });
    const a = await w.addMag(MAG_A, { maxRetransmissions: 3 });
    w.lma.respond = () => 'drop';
    const log = sendLog(w);
    a.detector.attach(attachEv('t@x'));
    await w.advance(20_000);
    assert.equal(log.length, 4);
    const seqs = new Set(log.map((e) => e.pbu.seq));
    assert.equal(seqs.size, 4, 'distinct sequence numbers');
    for (const e of log) assert.equal(Math.floor(timestampToMs(getOption(e.pbu, 'timestamp')!.value)), e.t, 'timestamp = time of sending');
  });

  it('§6.9.4 item 4: sequence-number mode retransmits with a greater sequence number', async () => {
    const w = world({ profiles: [profile('sq@x')] });
    const a = await w.addMag(MAG_A, { timestampMode: false, maxRetransmissions: 2 });
    w.lma.respond = () => 'drop';
    const log = sendLog(w);
    a.detector.attach(attachEv('sq@x'));
    await w.advance(10_000);
    const s = log.map((e) => e.pbu.seq);
    assert.equal(s.length, 3);
    assert.equal((s[1] - s[0]) & 0xffff, 1);
    assert.equal((s[2] - s[1]) & 0xffff, 1);
  });

  it('§6.9.4 item 2: no retransmission once the MN has left (de-registers instead)', async () => {
    const w = world({ profiles: [profile('gone@x')] });
    const a = await w.addMag(MAG_A);
    w.lma.respond = (pbu) => (pbu.lifetime > 0 ? 'drop' : 'default');
    const log = sendLog(w);
    a.detector.attach(attachEv('gone@x'));
    await w.advance(0);
    a.detector.markLost('gone@x', 'ap0');
    await w.advance(1000);
    assert.equal(log.length, 2);
    assert.equal(log[1].pbu.lifetime, 0, 'the second PBU is a de-registration, not a retransmission');
    await w.advance(1000);
    assert.equal(a.mag.view.size(), 0);
  });

  it('§6.9.1.2 item 5: a PBA answering the previous transmission, arriving after the retransmission, is accepted', async () => {
    const w = world({ profiles: [profile('late@x')] });
    const a = await w.addMag(MAG_A);
    const held: { data: Buffer; from: { address: string; port?: number }; to: { address: string; port?: number } }[] = [];
    let fromLma = 0;
    w.hub.drop = (data, from, to) => {
      if (from.address !== w.lma.address) return false;
      fromLma++;
      if (fromLma === 1) held.push({ data, from, to }); // delayed
      return fromLma <= 2; // the answer to the retransmission is lost
    };
    a.detector.attach(attachEv('late@x'));
    await w.advance(1000);
    assert.equal(w.lma.pbus().length, 2, 'retransmitted');
    assert.equal(a.mag.view.get('late@x')?.state, 'registering');
    w.hub.deliver(held[0].data, held[0].from, held[0].to);
    await w.advance(0);
    assert.equal(a.mag.view.get('late@x')?.state, 'registered');
    assert.equal(a.mag.counters.dropped.unmatched, 0);
  });

  it('RFC 6275 §11.8: at most MAX_UPDATE_RATE (3) PBUs per second for one mobility session', async () => {
    const w = world({ profiles: [profile('rate@x')] });
    const a = await w.addMag(MAG_A, { maxStatusRetries: 10 });
    // 157 on every registration: the MAG re-registers at once (§6.9.1.2 item 8), which the cap throttles.
    w.lma.respond = (pbu) => (pbu.lifetime > 0 ? { status: 157 } : 'default');
    const log = sendLog(w);
    a.detector.attach(attachEv('rate@x'));
    await w.advance(2500);
    const t0 = log[0].t;
    const inFirstSecond = log.filter((e) => e.t - t0 < 1000).length;
    assert.equal(inFirstSecond, 3);
    for (let i = 3; i < log.length; i++) assert.ok(log[i].t - log[i - 3].t >= 1000, 'no 4 sends within one second');
    assert.ok(a.mag.counters.rateLimited > 0);
  });
});
