// GroupCommit.written() (src/lma/commit.ts) is answered from a BCE's flag bits (F.QUEUED,
// F.INFLIGHT), not from the queue's maps: at every step of a random run of changes, commits
// that succeed and commits that fail, the bits say exactly what the maps say (queued in
// `dirty`, or in a batch in flight), for every BCE in the cache.
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

/** A store whose commits end when the test says, with success or failure. */
class HeldStore implements BindingStore {
  readonly open: { done: (ok: boolean) => void }[] = [];
  commit(): Promise<void> {
    return new Promise((resolve, reject) => this.open.push({ done: (ok) => (ok ? resolve() : reject(new Error('refused'))) }));
  }
  async loadLive(): Promise<PersistedBinding[]> {
    return [];
  }
}

/** What the maps say (the reference the flags must match). */
interface QueueMaps {
  dirty: Map<number, unknown>;
  inflightIds: Set<number>;
}

const settle = () => new Promise((r) => setImmediate(r));

/** A small deterministic generator (the run is the same every time). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

describe('group commit: written() from flag bits', () => {
  it('matches the queue and the batches in flight at every step (success, failure, changes during a commit)', async () => {
    const clock = new ManualClock();
    const store = new HeldStore();
    for (const maxInFlight of [1, 2]) {
      const gc = new GroupCommit(store, undefined, {
        lmaId: 'gc', clock, lazyIntervalMs: 1000, retryMs: 1000, commitTimeoutMs: 60_000, durable: true, maxInFlight,
        counters: newCounters(clock.now()), log: logger('test'),
      });
      const maps = gc as unknown as QueueMaps;
      const peer = new MagPeer('192.0.2.1', '192.0.2.1', 5436, '192.0.2.100', 'udp4', {} as MhTransport);
      const bces = Array.from({ length: 40 }, (_, i) => {
        const b = new Bce(i + 1, `mn${i}@example.net`, null, 4, peer);
        b.hnps = `2001:db8:${i.toString(16)}::/64`;
        b.expiresAt = clock.now() + 600_000;
        return b;
      });
      const check = (step: string): void => {
        for (const b of bces) {
          const ref = !maps.dirty.has(b.id) && !maps.inflightIds.has(b.id);
          assert.equal(gc.written(b), ref, `${step}: BCE ${b.id}`);
        }
      };
      check('start');
      const r = rng(12 + maxInFlight);
      let failures = 0;
      let successes = 0;
      for (let step = 0; step < 400; step++) {
        const x = r();
        if (x < 0.4) {
          const b = bces[Math.floor(r() * bces.length)];
          gc.upsert(b, r() < 0.5);
        } else if (x < 0.55) {
          clock.advance(1000); // lazy interval (or retry) passes: a flush
        } else if (x < 0.9 && store.open.length > 0) {
          const ok = r() < 0.7;
          if (ok) successes++;
          else failures++;
          store.open.shift()!.done(ok);
        }
        await settle();
        clock.advance(0);
        check(`run ${maxInFlight}, step ${step}`);
      }
      while (store.open.length > 0) {
        store.open.shift()!.done(true);
        await settle();
        clock.advance(1000);
        await settle();
        check(`drain ${maxInFlight}`);
      }
      assert.ok(successes > 10 && failures > 5, `both outcomes exercised: ${successes} / ${failures}`);
      gc.stop();
    }
  });
});
