// The read-only BUL view (RFC 6475 pmip6MagBLTable indexes), counters and /metrics names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registry } from '../../src/metrics/registry.ts';
import { Bul, Bule } from '../../src/mag/bul.ts';
import { MAG_A, attachEv, profile, world } from './harness.ts';

function bule(mnId: string, link: string): Bule {
  return new Bule({
    mnId,
    link,
    mnLinkLayerId: null,
    att: 4,
    lma: '2001:db8::1',
    lmaPort: 5436,
    wantIpv6: true,
    hnps: [],
    wantIpv4: false,
    ipv4HoA: null,
    ipv4PrefixLen: 0,
    handoffIndicator: 1,
    seq: 0,
    statusRetries: 3,
  });
}

describe('Binding Update List indexes (RFC 6475 Pmip6MnIndex / Pmip6MnLLIndex)', () => {
  it('MN index per MN in increasing order, LL index per session; ordered iteration from any key', () => {
    const bul = new Bul();
    const a1 = bule('a@x', 'l1');
    const b1 = bule('b@x', 'l1');
    const a2 = bule('a@x', 'l2');
    const c1 = bule('c@x', 'l1');
    for (const b of [a1, b1, a2, c1]) bul.add(b);
    assert.deepEqual([a1, b1, a2, c1].map((b) => [b.mnIndex, b.llIndex]), [[1, 1], [2, 1], [1, 2], [3, 1]]);
    const key = (it: Iterable<Bule>) => [...it].map((b) => `${b.mnIndex}.${b.llIndex}`);
    assert.deepEqual(key(bul.entries()), ['1.1', '1.2', '2.1', '3.1']);
    assert.deepEqual(key(bul.entriesAfter(1, 1)), ['1.2', '2.1', '3.1']);
    assert.deepEqual(key(bul.entriesAfter(1, 2)), ['2.1', '3.1']);
    assert.deepEqual(key(bul.entriesAfter(2, 9)), ['3.1']);
    assert.deepEqual(key(bul.entriesAfter(3, 1)), []);
    assert.equal(bul.getByIndex(1, 2), a2);
    assert.equal(bul.get('a@x', 'l2'), a2);
    assert.equal(bul.get('a@x'), a1);
    bul.remove(a1);
    assert.equal(bul.get('a@x'), a2, 'the other session becomes the head');
    assert.deepEqual(key(bul.entries()), ['1.2', '2.1', '3.1']);
    bul.remove(b1);
    assert.deepEqual(key(bul.entries()), ['1.2', '3.1']);
    const d = bule('d@x', 'l1');
    bul.add(d);
    assert.equal(d.mnIndex, 4, 'indexes are not reused');
    assert.equal(bul.size(), 3);
  });

  it('stays ordered through heavy churn (lazy compaction)', () => {
    const bul = new Bul();
    const live: Bule[] = [];
    for (let i = 0; i < 1000; i++) {
      const b = bule(`m${i}@x`, 'l');
      bul.add(b);
      live.push(b);
      if (i % 3 !== 0) bul.remove(live.splice(live.length - 2, 1)[0] ?? b);
    }
    const idx = [...bul.entries()].map((b) => b.mnIndex);
    assert.equal(idx.length, bul.size());
    for (let i = 1; i < idx.length; i++) assert.ok(idx[i] > idx[i - 1]);
    const mid = idx[Math.floor(idx.length / 2)];
    assert.equal([...bul.entriesAfter(mid, 1)][0]?.mnIndex, idx[Math.floor(idx.length / 2) + 1]);
  });
});

describe('MagBulView, counters and metrics', () => {
  it('view snapshots, counts by state and counters per message type, status and drop cause', async () => {
    const w = world({ profiles: [profile('v1@x'), profile('v2@x')] });
    const a = await w.addMag(MAG_A, { id: 'view-test' });
    a.detector.attach(attachEv('v1@x', { link: 'p1' }));
    await w.advance(0);
    w.lma.respond = () => 'drop';
    a.detector.attach(attachEv('v2@x', { link: 'p2' }));
    await w.advance(0);
    const v = a.mag.view;
    assert.equal(v.size(), 2);
    assert.deepEqual(v.counts(), { registering: 1, registered: 1, refreshing: 0, deregistering: 0, held: 0, total: 2 });
    const e1 = v.get('v1@x')!;
    assert.equal(e1.mnIndex, 1);
    assert.equal(e1.llIndex, 1);
    assert.deepEqual(v.getByIndex(2, 1)?.mnId, 'v2@x');
    assert.deepEqual([...v.entriesFrom({ mnIndex: 1, llIndex: 1 })].map((e) => e.mnId), ['v2@x']);
    assert.deepEqual(v.list().map((e) => e.mnId), ['v1@x', 'v2@x']);
    e1.hnps.push('tampered');
    assert.notDeepEqual(v.get('v1@x')!.hnps, e1.hnps, 'snapshots, not live state');
    const c = v.counters();
    assert.equal(c.sent.pbu, 2);
    assert.equal(c.received.pba, 1);
    assert.equal(c.pbaStatus[0], 1);
    assert.equal(c.bindings.registered, 1);
    await w.advance(1000);
    assert.equal(v.counters().retransmissions, 1);

    const text = await registry.metrics();
    assert.match(text, /pmip6_mag_pbu_sent_total\{mag="view-test"\} 3/);
    assert.match(text, /pmip6_mag_pba_received_total\{mag="view-test",status="0"\} 1/);
    assert.match(text, /pmip6_mag_pbu_retransmissions_total\{mag="view-test"\} 1/);
    assert.match(text, /pmip6_mag_messages_sent_total\{mag="view-test",type="pbu"\} 3/);
    assert.match(text, /pmip6_mag_binding_events_total\{mag="view-test",event="registered"\} 1/);
    assert.match(text, /pmip6_mag_bul_entries\{mag="view-test",state="registered"\} 1/);
    a.detector.detach({ mnId: 'nobody@x', link: 'p9' });
    await w.advance(0);
    assert.match(await registry.metrics(), /pmip6_mag_dropped_total\{mag="view-test",cause="unknownMn"\} 1/);
  });

  it('unknown MH types are answered with Binding Error status 2 (RFC 6275 §9.2); BUs are dropped', async () => {
    const w = world();
    const a = await w.addMag(MAG_A);
    w.lma.transport.send(Buffer.from('3b01630000000000000000000000000000'.slice(0, 32), 'hex'), { address: MAG_A });
    w.lma.send({ type: 'bu', seq: 1, flags: 0x8200, lifetime: 1, options: [] }, { address: MAG_A });
    await w.advance(0);
    const be = w.lma.of('be');
    assert.equal(be.length, 1);
    assert.equal(be[0].msg.status, 2);
    assert.equal(a.mag.counters.dropped.unexpectedType, 2);
    w.lma.transport.send(Buffer.from('3b0206', 'hex'), { address: MAG_A });
    await w.advance(0);
    assert.equal(a.mag.counters.dropped.decode, 1);
  });
});

describe('event sinks', () => {
  it('fanOut delivers to every sink even when one throws', async () => {
    const { fanOut, collectEvents } = await import('../../src/mag/index.ts');
    const c = collectEvents();
    const sink = fanOut({ emit: () => { throw new Error('boom'); } }, undefined, c);
    sink.emit({ type: 'lmaReachable', lma: 'x' });
    assert.deepEqual(c.events, [{ type: 'lmaReachable', lma: 'x' }]);
  });
});
