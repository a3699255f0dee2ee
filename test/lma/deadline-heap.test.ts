// The binding cache's deadline heap (src/lma/deadline-heap.ts): order, lazy re-keying of
// deadlines moved later, immediate sifting of deadlines moved earlier, removal anywhere.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeadlineHeap, type HeapItem } from '../../src/lma/deadline-heap.ts';

const item = (): HeapItem & { n: number } => ({ deadline: 0, heapKey: 0, heapIdx: -1, n: 0 });

function drain(h: DeadlineHeap<HeapItem & { n: number }>, now: number): number[] {
  const out: number[] = [];
  for (let x = h.popDue(now); x !== undefined; x = h.popDue(now)) out.push(x.n);
  return out;
}

describe('DeadlineHeap', () => {
  it('pops due items in deadline order and leaves the others', () => {
    const h = new DeadlineHeap<HeapItem & { n: number }>();
    const deadlines = [50, 10, 40, 30, 20, 60, 5];
    deadlines.forEach((d, i) => h.schedule(Object.assign(item(), { n: i }), d));
    assert.equal(h.nextDeadline(), 5);
    assert.deepEqual(drain(h, 40), [6, 1, 4, 3, 2]);
    assert.equal(h.size, 2);
    assert.deepEqual(drain(h, 100), [0, 5]);
    assert.equal(h.nextDeadline(), Infinity);
  });

  it('a deadline moved later is re-keyed lazily, one moved earlier at once', () => {
    const h = new DeadlineHeap<HeapItem & { n: number }>();
    const a = Object.assign(item(), { n: 1 });
    const b = Object.assign(item(), { n: 2 });
    h.schedule(a, 10);
    h.schedule(b, 20);
    h.schedule(a, 30); // later: key stays 10 until it reaches the top
    assert.equal(h.nextDeadline(), 10);
    assert.deepEqual(drain(h, 15), []);
    assert.equal(h.nextDeadline(), 20);
    h.schedule(a, 1); // earlier: sifted now
    assert.equal(h.nextDeadline(), 1);
    assert.deepEqual(drain(h, 25), [1, 2]);
  });

  it('removes from any position and keeps the heap ordered', () => {
    const h = new DeadlineHeap<HeapItem & { n: number }>();
    const items = Array.from({ length: 200 }, (_, i) => Object.assign(item(), { n: i }));
    for (const x of items) h.schedule(x, (x.n * 7919) % 1000);
    for (const x of items) if (x.n % 3 === 0) h.remove(x);
    for (const x of items) if (x.n % 3 === 0) assert.equal(x.heapIdx, -1);
    h.remove(items[0]); // not in it: no-op
    const got = drain(h, Infinity);
    const want = items.filter((x) => x.n % 3 !== 0).sort((p, q) => p.deadline - q.deadline || 0).map((x) => x.deadline);
    assert.deepEqual(got.map((n) => items[n].deadline), want);
  });
});
