// The `pmip6 start` heap sizing (src/main/heap-tuning.ts): the configured growth step is set
// unless the operator gave node the flag, and 0 leaves V8's default; set in a real child
// process, V8 takes it (the old generation's limit after a full collection follows it).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { heapGrowingPercent } from '../../src/main/heap-tuning.ts';

describe('heap tuning', () => {
  it('sets the configured step unless node was given the flag or 0 is configured', () => {
    assert.equal(heapGrowingPercent(20, []), 20);
    assert.equal(heapGrowingPercent(35, ['--max-old-space-size=4096']), 35);
    assert.equal(heapGrowingPercent(0, []), null);
    assert.equal(heapGrowingPercent(20, ['--heap-growing-percent=50']), null);
    assert.equal(heapGrowingPercent(20, ['--heap_growing_percent=50']), null);
  });

  it('is taken by V8 at run time: more full collections while the heap grows with a small step', () => {
    // A child grows a retained array to ~250 MB; V8's own trace counts its full collections.
    const src = `
      import { tuneHeap } from ${JSON.stringify(new URL('../../src/main/heap-tuning.ts', import.meta.url).href)};
      tuneHeap(Number(process.argv[1]));
      const keep = [];
      for (let i = 0; i < 3_000_000; i++) keep.push({ a: i, b: String(i) });
    `;
    const fulls = (p: number): number => {
      const out = execFileSync(process.execPath, ['--trace-gc', '--import', 'tsx', '--input-type=module', '-e', src, String(p)], { encoding: 'utf8' });
      return out.split('\n').filter((l) => l.includes('Mark-Compact')).length;
    };
    const tight = fulls(10);
    const loose = fulls(0); // V8's default
    assert.ok(tight > loose, `full collections with a 10% step (${tight}) outnumber those with V8's default (${loose})`);
  });
});
