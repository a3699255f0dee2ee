// OrderedTable (the sorted index behind every served table) and the INDEX encoders.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OrderedTable, bulIndex, compareIndex, hnpIndex, inetAddr, inetIndex, parseInetIndex } from '../../src/snmp/table.ts';

/** Reference model: a plain sorted array. */
function modelNext(keys: number[][], after: readonly number[]): number[] | undefined {
  return keys.find((k) => compareIndex(k, after) > 0);
}

// Real INDEX values are never empty (RFC 2578 §7.7).
const index = fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 4 });

describe('OrderedTable', () => {
  test('RFC 2578 §7.7: next() returns the lexicographic successor, get() exact rows, under random inserts and deletes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('set', 'delete', 'next', 'walk'), index), { maxLength: 400 }),
        (ops) => {
          const t = new OrderedTable<string>();
          const model = new Map<string, number[]>();
          const sorted = () => [...model.values()].sort(compareIndex);
          for (const [op, idx] of ops) {
            const k = idx.join('.');
            if (op === 'set') {
              t.set([...idx], k);
              model.set(k, idx);
            } else if (op === 'delete') {
              assert.equal(t.delete(idx), model.delete(k));
            } else if (op === 'next') {
              assert.deepEqual(t.next(idx)?.index, modelNext(sorted(), idx));
            } else {
              // A walk from the start, feeding back the returned index (the O(1) finger path).
              const seen: (readonly number[])[] = [];
              for (let e = t.next([]); e; e = t.next(e.index)) seen.push(e.index);
              assert.deepEqual(seen, sorted());
            }
            assert.equal(t.size, model.size);
            assert.equal(t.get(idx), model.has(k) ? k : undefined);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('RFC 2578 §7.7: a walk interleaved with changes still returns every remaining row once, in order', () => {
    const t = new OrderedTable<number>();
    for (let i = 0; i < 5000; i++) t.set([2, 16, i >> 8, i & 0xff], i);
    const got: number[] = [];
    let e = t.next([]);
    while (e) {
      got.push(e.row);
      if (e.row % 100 === 0) {
        t.delete([2, 16, (e.row + 1) >> 8, (e.row + 1) & 0xff]); // the successor disappears
        t.set([1, e.row], -1); // a row behind the walk appears
      }
      e = t.next(e.index);
    }
    for (let i = 1; i < got.length; i++) assert.ok(got[i] > got[i - 1]);
    assert.ok(!got.includes(101) && got.includes(102) && got.length === 5000 - 50);
  });

  test('RFC 4001 §4.1: InetAddress indexes are type, length, octets (not IMPLIED)', () => {
    const hoa = inetAddr('2001:db8:1:1::');
    assert.deepEqual(inetIndex(hoa), [2, 16, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(inetIndex(inetAddr('192.0.2.7')), [1, 4, 192, 0, 2, 7]);
    assert.deepEqual(parseInetIndex(inetIndex(hoa))?.addr.octets, hoa.octets);
    assert.equal(parseInetIndex([2, 16, 1]), undefined);
    const lmaa = inetAddr('2001:db8::1');
    assert.deepEqual(bulIndex(hoa, lmaa), [...inetIndex(hoa), ...inetIndex(lmaa)]);
    assert.deepEqual(hnpIndex(7, 2, hoa), [7, 2, ...inetIndex(hoa)]);
    assert.deepEqual([...inetAddr('::ffff:192.0.2.1').octets.slice(10)], [0xff, 0xff, 192, 0, 2, 1]);
    assert.throws(() => inetAddr('2001:db8::1::2'));
    assert.throws(() => inetAddr('300.1.1.1'));
  });
});
