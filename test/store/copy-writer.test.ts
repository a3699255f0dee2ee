// CopyWriter (src/store/repos/copy-writer.ts) writes the bytes the string encoders of the
// binding store would: copyText for text fields, String(n) for numbers, Date#toISOString
// (copyTimestamp) for timestamps, whatever the text holds (escapes, non-ASCII, surrogate pairs).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopyWriter } from '../../src/store/repos/copy-writer.ts';
import { copyText, copyTimestamp } from '../../src/store/repos/bindings.ts';

describe('CopyWriter', () => {
  it('text fields as copyText escapes them, in UTF-8', () => {
    const texts = ['', 'mn1@example.net', 'tab\there\nnew\\line\r"q"', 'é€ and \t after', 'emoji 😀\\😀\n', 'x'.repeat(5000) + '\té'];
    const w = new CopyWriter(16);
    let want = '';
    for (const s of texts) {
      w.text(s);
      w.byte(9);
      w.raw(s.replace(/[\\\t\n\r]/g, '_'));
      w.byte(10);
      want += `${copyText(s)}\t${s.replace(/[\\\t\n\r]/g, '_')}\n`;
    }
    assert.deepEqual(w.bytes(), Buffer.from(want));
  });

  it('numbers as String(n), timestamps as Date#toISOString', () => {
    const nums = [0, -0, 7, -16, 65535, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53 + 2, 1234567.5, 1e21, NaN, -Infinity];
    const NOW = Date.UTC(2026, 11, 6, 23, 59, 59, 7);
    const times = [NOW, NOW + 1, NOW + 1000, NOW + 86_400_000 * 3 + 1, 0, -1, -86_400_001, Date.UTC(2000, 1, 29), NOW + 0.75, Date.UTC(-5, 0, 1), Date.UTC(10_500, 0, 1)];
    const w = new CopyWriter(1);
    let want = '';
    for (const n of nums) {
      w.num(n);
      w.byte(44);
      want += `${String(n)},`;
    }
    for (const t of times) {
      w.timestamp(t);
      w.byte(44);
      want += `${copyTimestamp(t)},`;
      assert.equal(copyTimestamp(t), new Date(Math.floor(t)).toISOString());
    }
    assert.equal(w.bytes().toString(), want);
  });
});
