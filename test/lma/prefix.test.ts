// The registration path's prefix reader (src/lma/prefix.ts) against the codec's parsePrefix:
// wherever the quick reader answers, it gives the same bytes and length; it declines (and
// readPrefix falls back) everywhere else, so what a profile may hold is unchanged
// (RFC 5213 §5.3.2: the HNPs a new session gets come from the MN's profile).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ipv6ToString, parsePrefix } from '../../src/mh/index.ts';
import { isCanonicalPrefix, quickPrefix, readPrefix } from '../../src/lma/prefix.ts';
import { prefixKey } from '../../src/lma/pbu.ts';

function reference(text: string): { prefix: number[]; prefixLen: number } | 'error' {
  try {
    const p = parsePrefix(text);
    return { prefix: [...p.prefix], prefixLen: p.prefixLen };
  } catch {
    return 'error';
  }
}

/** IPv6 text in many spellings: full, compressed, upper case, leading zeros, an IPv4 tail. */
const spelled = fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 4 }), fc.boolean()).map(([b, style, upper]) => {
  const groups = Array.from({ length: 8 }, (_, i) => (b[2 * i] << 8) | b[2 * i + 1]);
  let s: string;
  if (style === 0) s = ipv6ToString(b);
  else if (style === 1) s = groups.map((g) => g.toString(16)).join(':');
  else if (style === 2) s = groups.map((g) => g.toString(16).padStart(4, '0')).join(':');
  else if (style === 3) s = `${groups.slice(0, 6).map((g) => g.toString(16)).join(':')}:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  else {
    // "::" somewhere, even where RFC 5952 would not put it (zero out what it stands for)
    const at = b[0] % 8;
    const n = 1 + (b[1] % (8 - at));
    const head = groups.slice(0, at).map((g) => g.toString(16));
    const tail = groups.slice(at + n).map((g) => g.toString(16));
    s = `${head.join(':')}::${tail.join(':')}`;
  }
  return upper ? s.toUpperCase() : s;
});

const texts = fc.oneof(
  fc.tuple(spelled, fc.integer({ min: 0, max: 140 })).map(([a, l]) => `${a}/${l}`),
  // mangled: characters dropped, doubled or replaced
  fc.tuple(spelled, fc.integer({ min: 0, max: 128 }), fc.nat(), fc.constantFrom('', ':', '::', '.', 'g', '/', ' ', '0', '12345')).map(([a, l, at, ins]) => {
    const t = `${a}/${l}`;
    const k = at % (t.length + 1);
    return t.slice(0, k) + ins + t.slice(k + (at % 3 === 0 ? 1 : 0));
  }),
  fc.string({ maxLength: 50 }),
  fc.constantFrom('::/0', '::/128', '::1/128', '1::/16', '1:2:3:4:5:6:7::/64', '::2:3:4:5:6:7:8/64', '1:2:3:4:5:6:7:8/128', '1:2:3:4:5:6:7:8:9/64', ':1::/64', '1::2::3/64', '2001:db8::/', '2001:db8::/0129', '/64', '2001:db8::/+64'),
);

describe('profile prefixes on the registration path (RFC 5213 §5.3.2)', () => {
  it('quickPrefix agrees with parsePrefix wherever it answers; readPrefix accepts and refuses exactly what parsePrefix does', () => {
    let answered = 0;
    fc.assert(
      fc.property(texts, (text) => {
        const ref = reference(text);
        const q = quickPrefix(text);
        if (q !== undefined) {
          answered++;
          assert.notEqual(ref, 'error', `quickPrefix accepted ${JSON.stringify(text)}, parsePrefix refuses it`);
          assert.deepEqual({ prefix: [...q.prefix], prefixLen: q.prefixLen }, ref, text);
        }
        let r: { prefix: number[]; prefixLen: number } | 'error';
        try {
          const p = readPrefix(text);
          r = { prefix: [...p.prefix], prefixLen: p.prefixLen };
        } catch {
          r = 'error';
        }
        assert.deepEqual(r, ref, text);
      }),
      { numRuns: 20000 },
    );
    assert.ok(answered > 5000, `the quick path answered ${answered} times`);
  });

  it('the usual store forms take the quick path', () => {
    for (const t of ['2001:db8:1:1::/64', '2001:db8::/48', '::/0', 'fd00:1:2:3:4:5:6:7/128', '2001:DB8:0:0:0:0:0:1/127']) {
      const q = quickPrefix(t);
      assert.ok(q, t);
      assert.deepEqual([...q.prefix], [...parsePrefix(t).prefix]);
    }
    assert.equal(quickPrefix('::ffff:10.0.0.1/128'), undefined, 'IPv4 tails go to parsePrefix');
    assert.deepEqual([...readPrefix('::ffff:10.0.0.1/128').prefix], [...parsePrefix('::ffff:10.0.0.1/128').prefix]);
  });

  it('isCanonicalPrefix is true exactly when the text is its own prefixKey (hex groups)', () => {
    let canonical = 0;
    const check = (text: string): void => {
      let p: { prefix: Uint8Array; prefixLen: number };
      try {
        p = readPrefix(text);
      } catch {
        return;
      }
      const want = prefixKey(p.prefix, p.prefixLen) === text;
      if (want) canonical++;
      // IPv4-mapped prefixes (a dotted tail) are left to prefixKey: "no" only costs building it.
      if (text.includes('.')) assert.ok(!isCanonicalPrefix(text, p.prefix, p.prefixLen) || want, text);
      else assert.equal(isCanonicalPrefix(text, p.prefix, p.prefixLen), want, text);
    };
    fc.assert(fc.property(texts, (t) => check(t)), { numRuns: 20000 });
    // canonical texts of random prefixes (host bits cleared or not), lengths 0..128
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 128 }), fc.nat(8), (b, l, zeros) => {
        for (let i = 0; i < zeros; i++) b[(b[15 - i] + i) % 16] = 0; // zero runs
        check(`${ipv6ToString(b)}/${l}`);
        check(prefixKey(b, l));
      }),
      { numRuns: 20000 },
    );
    for (const t of ['2001:db8:1:1::/64', '::/0', '::ffff:0:0/96', '::ffff:0.0.0.0/96', '2001:db8::1/64', '2001:db8:0:0::/64', '2001:DB8::/32', '1:0:0:2::/64', '1::2:0:0:0/128']) check(t);
    assert.ok(canonical > 5000, `${canonical} canonical texts`);
  });
});
