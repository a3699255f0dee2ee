// The group commit's batches (src/lma/commit.ts), on its own with a recording store:
// - a backlog of lazy changes (a second of refreshes) is written LAZY_ROWS (500) rows at a
//   time, in batches of their own, never as one batch the next PBAs would wait behind;
// - with gatherMs, a batch much smaller than the one before it waits for the PBUs still to come;
// - a batch whose PBAs wait carries at most as many lazy rows again, and commits at once;
// - rows of new sessions are hinted as such (`fresh`) until they are written.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Bce, MagPeer } from '../../src/lma/bce.ts';
import { GroupCommit } from '../../src/lma/commit.ts';
import { newCounters } from '../../src/lma/counters.ts';
import type { BindingStore } from '../../src/lma/index.ts';
import type { PersistedBinding } from '../../src/store/repos/bindings.ts';
import type { MhTransport } from '../../src/transport/types.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { logger } from '../../src/util/log.ts';

class RecordingStore implements BindingStore {
  readonly batches: { rows: number; fresh: number }[] = [];
  async commit(_l: string, ups: readonly PersistedBinding[], rems: readonly string[], _s?: unknown, fresh = 0): Promise<void> {
    this.batches.push({ rows: ups.length + rems.length, fresh });
  }
  async loadLive(): Promise<PersistedBinding[]> {
    return [];
  }
}

/** A store whose commits end when the test says so (open()), in order. */
class GatedStore implements BindingStore {
  readonly batches: number[] = [];
  private readonly gates: (() => void)[] = [];
  async commit(_l: string, ups: readonly PersistedBinding[], rems: readonly string[]): Promise<void> {
    this.batches.push(ups.length + rems.length);
    await new Promise<void>((r) => this.gates.push(r));
  }
  async loadLive(): Promise<PersistedBinding[]> {
    return [];
  }
  open(): void {
    this.gates.shift()?.();
  }
}

const settle = () => new Promise((r) => setImmediate(r));

function setup<S extends BindingStore = RecordingStore>(gatherMs = 0, store: S = new RecordingStore() as unknown as S) {
  const clock = new ManualClock();
  const gc = new GroupCommit(store, undefined, {
    lmaId: 'gc', clock, lazyIntervalMs: 1000, retryMs: 1000, commitTimeoutMs: 5000, durable: true,
    counters: newCounters(clock.now()), log: logger('test'), gatherMs,
  });
  const peer = new MagPeer('192.0.2.1', '192.0.2.1', 5436, '192.0.2.100', 'udp4', {} as MhTransport);
  const bces = Array.from({ length: 1300 }, (_, i) => {
    const b = new Bce(i + 1, `mn${i}@example.net`, null, 4, peer);
    b.hnps = `2001:db8:${i.toString(16)}::/64`;
    b.expiresAt = clock.now() + 600_000;
    return b;
  });
  return { clock, store, gc, bces };
}

describe('group commit batches', () => {
  it('gathering (gatherMs): after a batch, a much smaller next one waits for as many PBAs as the batch had, or gatherMs', async () => {
    const { clock, store, gc, bces } = setup(5, new GatedStore());
    const queue = (from: number, to: number): Promise<boolean[]> => {
      const list = bces.slice(from, to);
      for (const b of list) gc.upsert(b, true);
      return Promise.all(list.map((b) => gc.committed(b)));
    };
    const a = queue(0, 8);
    await settle();
    assert.deepEqual(store.batches, [8]);
    const early = queue(8, 9); // came while the batch of 8 commits
    store.open();
    assert.deepEqual(await a, Array(8).fill(true));
    await settle();
    assert.deepEqual(store.batches, [8], 'one row after a batch of 8: it gathers');
    const more = queue(9, 16);
    await settle();
    assert.deepEqual(store.batches, [8], '8 of the 9 it waits for');
    const last = queue(16, 17);
    await settle();
    assert.deepEqual(store.batches, [8, 9], 'as many as the last batch had (and the early one): it goes');
    store.open();
    assert.deepEqual(await Promise.all([early, more, last]), [[true], Array(7).fill(true), [true]]);
    // A lone row after a batch, and nothing more comes: it goes after gatherMs.
    const c = queue(20, 24);
    await settle();
    const lone = queue(24, 25);
    store.open();
    await c;
    await settle();
    assert.deepEqual(store.batches, [8, 9, 4]);
    clock.advance(5);
    await settle();
    assert.deepEqual(store.batches, [8, 9, 4, 1]);
    store.open();
    assert.deepEqual(await lone, [true]);
    assert.equal(gc.pending, 0);
  });

  it('a lazy backlog goes 500 rows at a time; PBAs waiting meanwhile get a batch with at most as many lazy rows again', async () => {
    const { clock, store, gc, bces } = setup();
    for (const b of bces) gc.upsert(b, false);
    assert.equal(store.batches.length, 0, 'lazy: nothing before the interval');
    clock.advance(1000);
    const waiting = bces.slice(0, 3);
    for (const b of waiting) gc.upsert(b, true); // rows of the first lazy batch: wait for it, then go
    const acks = waiting.map((b) => gc.committed(b));
    for (let i = 0; i < 10; i++) {
      await settle();
      clock.advance(0);
    }
    assert.deepEqual(await Promise.all(acks), [true, true, true]);
    clock.advance(1000); // the rest of the backlog (under 500 rows) at the next interval
    await settle();
    const rows = store.batches.map((b) => b.rows);
    assert.ok(rows.every((n) => n <= 500), `batches of at most 500 rows: ${rows.join(',')}`);
    assert.equal(rows.reduce((a, n) => a + n, 0), 1300 + 3);
    assert.ok(store.batches.some((b) => b.rows <= 9), `the waiting rows in a small batch: ${rows.join(',')}`);
    assert.equal(gc.pending, 0);
    for (const b of bces) assert.ok(gc.written(b));
  });

  it('rows of new sessions are hinted as new until written; then updates', async () => {
    const { store, gc, bces } = setup();
    const [a, b] = bces;
    gc.created(a);
    gc.upsert(a, true);
    gc.upsert(b, true); // restored, say: the store holds it
    assert.equal(gc.written(a), false);
    assert.equal(await gc.committed(a), true);
    assert.deepEqual(store.batches, [{ rows: 2, fresh: 1 }]);
    gc.upsert(a, true);
    assert.equal(await gc.committed(a), true);
    assert.deepEqual(store.batches[1], { rows: 1, fresh: 0 });
  });
});
