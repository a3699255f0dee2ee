// RFC 6275 §9.2 (unknown MH Type -> Binding Error, malformed input dropped), counters and
// metrics, the API view, events, the write-behind store and restart recovery.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { BaStatus, HandoffIndicator as HI, encodeMessage } from '../../src/mh/index.ts';
import { registry } from '../../src/metrics/registry.ts';
import type { PersistedBinding } from '../../src/store/repos/bindings.ts';
import { RecordingDataPlane } from '../../src/dataplane/recording.ts';
import type { BindingStore } from '../../src/lma/index.ts';
import { harness, makeProfile, MAG1 } from './driver.ts';
import type { Harness } from './driver.ts';

const MN = 'mn1@example.net';
const P1 = '2001:db8:1:1::/64';

class MemStore implements BindingStore {
  readonly rows = new Map<string, PersistedBinding>();
  writes = 0;
  commits = 0;
  fail = false;
  async commit(lmaId: string, ups: readonly PersistedBinding[], rems: readonly string[]): Promise<void> {
    if (this.fail) throw new Error('db down');
    this.commits++;
    for (const b of ups) {
      this.writes++;
      this.rows.set(`${b.lmaId}/${b.sessionKey}`, structuredClone(b));
    }
    for (const k of rems) this.rows.delete(`${lmaId}/${k}`);
  }
  async loadLive(lmaId: string, now = new Date()): Promise<PersistedBinding[]> {
    return [...this.rows.values()].filter((r) => r.lmaId === lmaId && r.expiresAt > now).map((r) => structuredClone(r));
  }
}

describe('RFC 6275 §9.2 unknown and malformed messages', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('§9.2: unknown MH Type -> Binding Error status 2 to the sender', async () => {
    h = await harness();
    const mag = h.mag();
    mag.send({ type: 'unknown', mhType: 200, data: Buffer.alloc(10) });
    await h.settle();
    const be = mag.take();
    assert.equal(be?.type, 'be');
    assert.equal(be.type === 'be' && be.status, 2);
    assert.equal(h.lma.counters.rx.unknown, 1);
    assert.equal(h.lma.counters.tx.be, 1);
  });

  it('§9.2: Binding Errors are rate-limited (token bucket)', async () => {
    h = await harness({ config: { bindingErrorRatePerS: 3 } });
    const mag = h.mag();
    for (let i = 0; i < 10; i++) mag.send({ type: 'unknown', mhType: 17, data: Buffer.alloc(2) });
    await h.settle();
    assert.equal(h.lma.counters.tx.be, 3);
    assert.equal(h.lma.counters.dropped['be-rate-limited'], 7);
    await h.advance(1000);
    mag.send({ type: 'unknown', mhType: 17, data: Buffer.alloc(2) });
    await h.settle();
    assert.equal(h.lma.counters.tx.be, 4);
  });

  it('§9.2: malformed datagrams are dropped and counted per cause; the LMA still answers a valid PBU', async () => {
    h = await harness({ profiles: [makeProfile(MN, { hnps: [P1] })] });
    const mag = h.mag();
    const good = encodeMessage({ type: 'bu', seq: 1, flags: 0x8200, lifetime: 10, options: [] });
    mag.sendRaw(Buffer.alloc(3)); // truncated
    mag.sendRaw(Buffer.concat([good, Buffer.alloc(8)])); // Header Len says less
    const proto = Buffer.from(good);
    proto[0] = 6;
    mag.sendRaw(proto); // bad payload proto
    const over = Buffer.from(good);
    over[12] = 22; // HNP option running past the end
    over[13] = 18;
    mag.sendRaw(over);
    mag.sendRaw(Buffer.alloc(4000)); // oversized
    await h.settle();
    const d = h.lma.counters.dropped;
    assert.deepEqual([d.truncated, d['bad-header-len'], d['bad-payload-proto'], d['option-overrun'], d.oversized], [1, 1, 1, 1, 1]);
    assert.equal(mag.take(), undefined);
    mag.pbu({ mnId: MN });
    await h.settle();
    assert.equal(mag.pba().status, 0);
  });

  it('§8.3: a PBU whose HNP Prefix Length is over 128 (or IPv4 HoA Request over 32) is refused by the decoder, counted as bad-option-value, never answered', async () => {
    h = await harness({ profiles: [makeProfile(MN, { hnps: [P1], ipv4HoA: '10.0.0.5' })] });
    const mag = h.mag();
    // A valid PBU, then the same bytes with the HNP option's Prefix Length octet set to 200.
    const valid = encodeMessage({
      type: 'bu', seq: 7, flags: 0x8200, lifetime: 10,
      options: [
        { type: 'mnId', subtype: 1, id: Buffer.from(MN) },
        { type: 'hnp', prefixLen: 64, prefix: Buffer.alloc(16) },
        { type: 'handoffIndicator', hi: HI.NEW_INTERFACE },
        { type: 'accessTechType', att: 4 },
        { type: 'ipv4HoaRequest', prefixLen: 24, addr: 0 },
      ],
    });
    const hnpAt = valid.indexOf(Buffer.from([22, 18])); // HNP option: Type 22, Length 18
    assert.ok(hnpAt > 0);
    const badHnp = Buffer.from(valid);
    badHnp[hnpAt + 3] = 200;
    const v4At = valid.indexOf(Buffer.from([36, 6, 24 << 2])); // IPv4 HoA Request: Type 36, Length 6, Prefix-len 24
    assert.ok(v4At > 0);
    const badV4 = Buffer.from(valid);
    badV4[v4At + 2] = 40 << 2;
    const rx = h.lma.counters.rx.pbu;
    mag.sendRaw(badHnp);
    mag.sendRaw(badV4);
    await h.settle();
    assert.equal(h.lma.counters.dropped['bad-option-value'], 2);
    assert.equal(h.lma.counters.rx.pbu, rx, 'not processed as a PBU');
    assert.equal(h.lma.counters.dropped['unencodable-reply'], 0, 'no attempt to echo it');
    assert.equal(mag.take(), undefined, 'no PBA');
    assert.equal(h.lma.bindingCount, 0);
    const metrics = await registry.metrics();
    assert.match(metrics, /pmip6_lma_rx_dropped_total\{cause="bad-option-value"\} [1-9]\d*/, 'on /metrics too');
    // The unmodified PBU is accepted.
    mag.sendRaw(valid);
    await h.settle();
    assert.equal(mag.pba().status, 0);
  });

  it('a failing policy source drops a new PBU (MAG retransmits) but a re-registration uses the cached policy', async () => {
    h = await harness({ config: { policyCacheTtlMs: 1000 }, profiles: [makeProfile(MN, { hnps: [P1] })] });
    const mag = h.mag();
    mag.pbu({ mnId: MN });
    await h.settle();
    mag.pba();
    h.policy.fail = true;
    await h.advance(5000);
    mag.pbu({ mnId: MN, hnps: [P1], hi: HI.NOT_CHANGED });
    await h.settle();
    assert.equal(mag.pba().status, 0, 'stale snapshot used');
    mag.pbu({ mnId: 'other@example.net' });
    await h.settle();
    assert.equal(mag.take(), undefined);
    assert.equal(h.lma.counters.dropped['policy-unavailable'], 1);
  });

  it('a data-plane failure refuses the session with 130 and leaves nothing behind; the next PBU tries again', async () => {
    const dp = new RecordingDataPlane();
    let failures = 1;
    const ensure = dp.ensureTunnel.bind(dp);
    dp.ensureTunnel = async (spec) => {
      if (failures-- > 0) throw new Error('no tunnel driver');
      return ensure(spec);
    };
    h = await harness({ dp, profiles: [makeProfile(MN, { hnps: [P1] })] });
    const mag = h.mag();
    mag.pbu({ mnId: MN });
    await h.settle();
    assert.equal(mag.pba().status, BaStatus.INSUFFICIENT_RESOURCES);
    assert.equal(h.lma.bindingCount, 0);
    mag.pbu({ mnId: MN });
    await h.settle();
    assert.equal(mag.pba().status, 0);
    assert.equal(dp.routes.size, 1);
  });

  it('counters add up and are exported on the prom-client registry', async () => {
    h = await harness({ profiles: [makeProfile(MN, { hnps: [P1] })] });
    const mag = h.mag();
    mag.pbu({ mnId: MN });
    mag.pbu({ mnId: 'nobody@example.net' });
    mag.sendRaw(Buffer.alloc(3));
    await h.settle();
    const c = h.lma.counters;
    assert.equal(c.rx.pbu, 2);
    assert.equal(c.tx.pba, 2);
    assert.equal(c.pbaByStatus[0], 1);
    assert.equal(c.pbaByStatus[BaStatus.NOT_LMA_FOR_THIS_MOBILE_NODE], 1);
    const text = await registry.metrics();
    assert.match(text, /pmip6_lma_pbu_received_total \d+/);
    assert.match(text, /pmip6_lma_pba_sent_total\{status="0"\} \d+/);
    assert.match(text, /pmip6_lma_pba_sent_total\{status="153"\} \d+/);
    assert.match(text, /pmip6_lma_rx_dropped_total\{cause="truncated"\} \d+/);
    assert.match(text, /pmip6_lma_bindings \d+/);
  });
});

describe('the API view and events', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('bindings list: filter by MN-ID, pagination in session-key order, get by key', async () => {
    const profiles = Array.from({ length: 12 }, (_, i) => makeProfile(`mn${i}@example.net`, { hnps: [`2001:db8:${i + 1}::/64`] }));
    h = await harness({ profiles });
    const mag = h.mag();
    for (let i = 0; i < 12; i++) mag.pbu({ mnId: `mn${i}@example.net` });
    await h.settle();
    const page1 = h.lma.bindings.list({ limit: 5 });
    const page3 = h.lma.bindings.list({ limit: 5, offset: 10 });
    assert.equal(page1.total, 12);
    assert.equal(page1.items.length, 5);
    assert.equal(page3.items.length, 2);
    const keys = [...page1.items, ...h.lma.bindings.list({ limit: 5, offset: 5 }).items, ...page3.items].map((b) => Number(b.sessionKey));
    assert.deepEqual(keys, [...keys].sort((a, b) => a - b));
    assert.equal(new Set(keys).size, 12);
    const one = h.lma.bindings.list({ mnId: 'mn3@example.net' });
    assert.equal(one.total, 1);
    assert.deepEqual(one.items[0].hnps, ['2001:db8:4::/64']);
    assert.equal(h.lma.binding(one.items[0].sessionKey)?.mnId, 'mn3@example.net');
    assert.equal(h.lma.bindings.list({ proxyCoa: MAG1 }).total, 12);
    assert.equal([...h.lma.bindings.from(String(keys[9]))].length, 2);
  });

  it('events carry what a log line, an SNMP notification and the API need', async () => {
    h = await harness({ profiles: [makeProfile(MN, { hnps: [P1] })] });
    const mag = h.mag();
    mag.pbu({ mnId: MN, llId: '02:00:00:00:00:01', att: 3 });
    await h.settle();
    const e = h.sink.bindings[0];
    assert.equal(e.kind, 'created');
    assert.equal(e.at, h.clock.now());
    assert.equal(e.binding.mnId, MN);
    assert.equal(e.binding.mnLinkLayerId, '02:00:00:00:00:01');
    assert.equal(e.binding.accessTechnologyType, 3);
    assert.equal(e.binding.proxyCoa, MAG1);
    assert.deepEqual(e.binding.tunnel, { encap: 'ip6ip6', greKeyUplink: null, greKeyDownlink: null });
    assert.ok(e.binding.timestampMs! > 0);
  });
});

describe('group commit and restart recovery', () => {
  it('new bindings are committed (together) before their PBAs, refreshes written lazily, removed when gone, and restored with their forwarding after a restart', async () => {
    const store = new MemStore();
    let h = await harness({ store, config: { persistIntervalMs: 1000 }, profiles: [makeProfile(MN, { hnps: [P1] }), makeProfile('mn2@example.net', { hnps: ['2001:db8:2::/64'] })] });
    const mag = h.mag();
    mag.pbu({ mnId: MN, lifetime: 3600, gre: undefined });
    mag.pbu({ mnId: 'mn2@example.net', lifetime: 40 });
    await h.settle();
    assert.equal(mag.pba().status, 0);
    assert.equal(mag.pba().status, 0);
    assert.equal(store.rows.size, 2, 'both committed before the PBAs');
    assert.equal(store.commits, 1, 'PBUs arriving together share one transaction');
    mag.pbu({ mnId: MN, hnps: [P1], hi: HI.NOT_CHANGED, lifetime: 3600 });
    await h.settle();
    assert.equal(mag.pba().status, 0, 'a refresh is acknowledged at once');
    assert.equal(store.writes, 2, 'and written lazily');
    await h.advance(1000);
    assert.equal(store.writes, 3);
    await h.advance(40_000); // mn2 expires
    await h.advance(1000);
    assert.equal(store.rows.size, 1);
    const key = h.lma.bindings.list().items[0].sessionKey;
    await h.close();

    // restart: same store, fresh data plane
    const dp = new RecordingDataPlane();
    h = await harness({ store, dp, clock: h.clock, profiles: [makeProfile(MN, { hnps: [P1] })] });
    assert.equal(h.lma.bindingCount, 1);
    const b = h.lma.binding(key)!;
    assert.equal(b.mnId, MN);
    assert.deepEqual(b.hnps, [P1]);
    assert.equal(b.proxyCoa, MAG1);
    assert.ok(dp.routes.has(P1), 'forwarding re-installed');
    // the restored session keeps working: re-registration with the cached policy, no new session
    const mag2 = h.mag();
    mag2.pbu({ mnId: MN, hnps: [P1], hi: HI.NOT_CHANGED });
    await h.settle();
    assert.equal(mag2.pba().status, 0);
    assert.equal(h.lma.bindingCount, 1);
    // a new session gets a key that was never used
    h.policy.add(makeProfile('mn3@example.net', { hnps: ['2001:db8:3::/64'] }));
    mag2.pbu({ mnId: 'mn3@example.net' });
    await h.settle();
    const keys = h.lma.bindings.list().items.map((x) => Number(x.sessionKey));
    assert.ok(keys[1] > keys[0]);
    await h.close();
  });

  it('a failing store (no journal): no PBA for the new binding, retried, counted; the retransmission waits for the commit', async () => {
    const store = new MemStore();
    store.fail = true;
    const h = await harness({ store, profiles: [makeProfile(MN, { hnps: [P1] })] });
    const mag = h.mag();
    mag.pbu({ mnId: MN });
    await h.settle();
    assert.equal(mag.take(), undefined, 'not durable: no PBA');
    assert.equal(h.lma.counters.persist.errors, 1);
    assert.equal(h.lma.counters.persist.waitFailures, 1);
    mag.pbu({ mnId: MN, hnps: [P1], hi: HI.NOT_CHANGED }); // the MAG retries; the binding exists but is not durable
    await h.settle();
    assert.equal(mag.take(), undefined, 'still not durable: still no PBA');
    store.fail = false;
    await h.advance(1000);
    assert.equal(store.rows.size, 1, 'retried after commitRetryMs');
    mag.pbu({ mnId: MN, hnps: [P1], hi: HI.NOT_CHANGED });
    await h.settle();
    assert.equal(mag.pba().status, 0);
    await h.close();
  });
});
