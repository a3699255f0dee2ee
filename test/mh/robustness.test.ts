/**
 * Decoder robustness (RFC 6275 9.2: a receiver must survive anything on the
 * wire). Over 100,000 random and mutated inputs: decodeMessage never throws
 * and always returns a well-formed ok/error result. Deterministic (seeded).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeMessage, encodeMessage } from '../../src/mh/index.ts';
import type { DecodeErrorCode, DecodeResult } from '../../src/mh/index.ts';
import { messageArb } from './arbitraries.ts';

const CODES: ReadonlySet<DecodeErrorCode> = new Set([
  'truncated', 'bad-payload-proto', 'bad-header-len', 'bad-checksum', 'bad-option-length', 'bad-option-value', 'option-overrun', 'bad-br-type',
]);
const MSG_TYPES = new Set(['bu', 'ba', 'be', 'heartbeat', 'bri', 'bra', 'unknown']);

/** xorshift32: fast deterministic bytes for mutations. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

const stats = { total: 0, ok: 0, byCode: new Map<string, number>() };

function check(buf: Buffer, src?: Buffer, dst?: Buffer): void {
  let r: DecodeResult;
  try {
    r = src && dst ? decodeMessage(buf, { src, dst }) : decodeMessage(buf);
  } catch (e) {
    assert.fail(`decodeMessage threw on ${buf.toString('hex')}: ${String(e)}`);
  }
  stats.total++;
  if (r.ok) {
    stats.ok++;
    assert.ok(MSG_TYPES.has(r.msg.type));
    // A decoded message re-encodes to something that decodes to the same message: no
    // hidden state in the decoder. The encoder may still refuse one whose re-aligned
    // options would outgrow 2048 octets, never for a field value the decoder let through
    // (an HNP Prefix Length of 200 once decoded and then could not be echoed in a PBA).
    let again: Buffer | undefined;
    try {
      again = encodeMessage(r.msg);
    } catch (e) {
      assert.ok(e instanceof RangeError, String(e));
      assert.match(String(e), /MH would be \d+ octets/, `decoded ${buf.toString('hex')} but cannot re-encode it: ${String(e)}`);
    }
    if (again) {
      const r2 = decodeMessage(again);
      assert.ok(r2.ok);
      assert.deepStrictEqual(r2.msg, r.msg);
    }
  } else {
    assert.ok(CODES.has(r.error.code), r.error.code);
    assert.equal(typeof r.error.reason, 'string');
    if (r.error.offset !== undefined) assert.ok(r.error.offset >= 0 && r.error.offset < Math.max(buf.length, 1));
    stats.byCode.set(r.error.code, (stats.byCode.get(r.error.code) ?? 0) + 1);
  }
}

const valid: Buffer[] = fc.sample(messageArb, { numRuns: 2000, seed: 5213 }).map((m) => encodeMessage(m));

describe('RFC 6275 9.2: decoder robustness', () => {
  it('random byte strings (0..300 octets) never throw', () => {
    const rnd = prng(1);
    for (let i = 0; i < 20000; i++) {
      const b = Buffer.allocUnsafe(rnd() % 301);
      for (let j = 0; j < b.length; j++) b[j] = rnd() & 0xff;
      check(b);
    }
  });

  it('random bodies behind a valid header (known MH type, consistent Header Len) never throw', () => {
    const rnd = prng(2);
    const types = [5, 6, 7, 13, 16];
    for (let i = 0; i < 25000; i++) {
      const total = 8 * (1 + (rnd() % 12));
      const b = Buffer.allocUnsafe(total);
      for (let j = 0; j < total; j++) b[j] = rnd() & 0xff;
      b[0] = 59;
      b[1] = total / 8 - 1;
      b[2] = types[rnd() % types.length];
      if (b[2] === 16) b[6] = 1 + (rnd() & 1);
      check(b);
    }
  });

  it('truncations of valid messages never throw', () => {
    const rnd = prng(3);
    for (let i = 0; i < 15000; i++) {
      const v = valid[i % valid.length];
      const cut = v.subarray(0, rnd() % v.length);
      check(cut);
      // Also with Header Len fixed up to the cut length (rounded down to 8n), so options get parsed.
      if (cut.length >= 8) {
        const fixed = Buffer.from(cut.subarray(0, cut.length & ~7));
        fixed[1] = fixed.length / 8 - 1;
        check(fixed);
      }
    }
  });

  it('bit flips in valid messages never throw (with and without checksum verification)', () => {
    const rnd = prng(4);
    const src = Buffer.from('20010db8000000000000000000000002', 'hex');
    const dst = Buffer.from('20010db8000000000000000000000001', 'hex');
    for (let i = 0; i < 25000; i++) {
      const b = Buffer.from(valid[i % valid.length]);
      const flips = 1 + (rnd() % 8);
      for (let k = 0; k < flips; k++) b[rnd() % b.length] ^= 1 << (rnd() & 7);
      if (i % 5 === 0) check(b, src, dst);
      else check(b);
    }
  });

  it('corrupted Header Len and option Length octets never throw', () => {
    const rnd = prng(5);
    for (let i = 0; i < 20000; i++) {
      const b = Buffer.from(valid[i % valid.length]);
      if (i % 4 === 0) {
        b[1] = rnd() & 0xff;
      } else {
        // Walk to a random option TLV and corrupt its Length octet.
        let off = b[2] === 7 ? 24 : 12;
        const want = rnd() % 6;
        for (let k = 0; k < want && off + 1 < b.length; k++) off += b[off] === 0 ? 1 : 2 + b[off + 1];
        if (off + 1 < b.length) b[off + 1] = rnd() & 0xff;
        else b[b.length - 1] = rnd() & 0xff;
      }
      check(b);
    }
  });

  it('covered more than 100,000 inputs and reached every error cause', () => {
    if (process.env.MH_FUZZ_STATS) console.log(stats.total, stats.ok, [...stats.byCode]);
    assert.ok(stats.total >= 100000, `only ${stats.total} inputs`);
    assert.ok(stats.ok > 1000, 'some mutated inputs still decode');
    for (const code of CODES) assert.ok((stats.byCode.get(code) ?? 0) > 0, `no input produced ${code}`);
  });
});
