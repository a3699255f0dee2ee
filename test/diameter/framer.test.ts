// The stream framer (RFC 6733 §3 Message Length): messages split across reads at every octet,
// several in one read, any chunking (fast-check), and unparseable streams (§2.1) reported once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Framer } from '../../src/diameter/framer.ts';
import { AvpWriter } from '../../src/diameter/codec.ts';
import { CmdFlag } from '../../src/diameter/constants.ts';

function message(i: number, extra = 0): Buffer {
  const w = new AvpWriter({ flags: CmdFlag.R, commandCode: 265, applicationId: 1, hopByHop: i, endToEnd: i });
  w.utf8(1, `mn${i}@example.net`);
  if (extra) w.octets(25, Buffer.alloc(extra, i & 0xff));
  return Buffer.from(w.bytes());
}

describe('RFC 6733 §3: framing a byte stream by Message Length', () => {
  it('one message split at every octet boundary comes out whole, once', () => {
    const m = message(7, 37);
    for (let cut = 1; cut < m.length; cut++) {
      const f = new Framer();
      const a = f.push(m.subarray(0, cut));
      assert.deepEqual(a.messages, []);
      assert.equal(f.pending, cut);
      const b = f.push(m.subarray(cut));
      assert.equal(b.messages.length, 1, `cut ${cut}`);
      assert.ok(b.messages[0].equals(m));
      assert.equal(f.pending, 0);
    }
  });

  it('several messages in one read, and a read ending inside the next one', () => {
    const ms = [message(1), message(2, 100), message(3, 3)];
    const all = Buffer.concat(ms);
    const f = new Framer();
    const r = f.push(Buffer.concat([all, ms[0].subarray(0, 10)]));
    assert.deepEqual(r.messages.map((m) => m.readUInt32BE(12)), [1, 2, 3]);
    assert.equal(f.pending, 10);
    const r2 = f.push(ms[0].subarray(10));
    assert.equal(r2.messages.length, 1);
  });

  it('whole messages inside one read are views of it (no copy)', () => {
    const all = Buffer.concat([message(1), message(2)]);
    const r = new Framer().push(all);
    assert.equal(r.messages[0].buffer, all.buffer);
  });

  it('any chunking of any sequence of messages yields the same messages in order (fast-check)', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 20 }),
      fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 50 }),
      (sizes, cuts) => {
        const ms = sizes.map((s, i) => message(i, s));
        const stream = Buffer.concat(ms);
        const f = new Framer();
        const got: Buffer[] = [];
        let off = 0;
        for (let i = 0; off < stream.length; i++) {
          const n = cuts[i % cuts.length];
          got.push(...f.push(stream.subarray(off, off + n)).messages);
          off += n;
        }
        assert.equal(got.length, ms.length);
        got.forEach((g, i) => assert.ok(g.equals(ms[i])));
        assert.equal(f.pending, 0);
      },
    ), { numRuns: 500 });
  });

  it('§2.1: a version other than 1, a length below 20 or above the limit make the stream unparseable', () => {
    const v = message(1);
    v[0] = 2;
    const r = new Framer().push(v);
    assert.equal(r.error?.kind, 'unsupported_version');
    assert.ok(r.error?.kind === 'unsupported_version' && r.error.header?.length === 20, 'header kept for the 5011 answer');
    const short = message(1);
    short.writeUIntBE(12, 1, 3);
    assert.equal(new Framer().push(short).error?.kind, 'length_below_header');
    const f = new Framer(1024);
    const big = Buffer.from([1, 0, 0x10, 0]);
    assert.deepEqual(f.push(big).error, { kind: 'too_long', length: 4096, max: 1024 });
    // Once failed, nothing more comes out.
    assert.deepEqual(f.push(message(2)).messages, []);
  });

  it('a message after valid ones in the same read that is bad stops there; the good ones are delivered', () => {
    const bad = message(9);
    bad[0] = 7;
    const r = new Framer().push(Buffer.concat([message(1), bad]));
    assert.equal(r.messages.length, 1);
    assert.equal(r.error?.kind, 'unsupported_version');
  });
});
