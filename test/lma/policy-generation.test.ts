// A binding's policy snapshot (src/lma/handle.ts snapshotServes) past lma.policyCacheTtl: while
// the policy source follows changes (MemoryLmaPolicy.policyGeneration, the profile directory)
// and reports none, re-registrations are decided from the snapshot without asking it; after a
// change (any MN's) the next re-registration asks again, so a disabled profile gets 152 at once
// (RFC 5213 §5.3.1 step 8); a source that stops following falls back to the TTL alone, and the
// snapshot never serves past POLICY_FOLLOWED_MAX_MS.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { BaStatus, HandoffIndicator } from '../../src/mh/index.ts';
import { POLICY_FOLLOWED_MAX_MS } from '../../src/lma/handle.ts';
import { POLICY_BITS, policyFromSnapshot } from '../../src/lma/pbu.ts';
import { F } from '../../src/lma/bce.ts';
import { harness, makeProfile } from './driver.ts';
import type { Harness, TestMag } from './driver.ts';

const MN = 'mn1@example.net';
const OTHER = 'mn2@example.net';
const P1 = '2001:db8:1:1::/64';
const TTL = 1000;

describe('policy snapshot while the policy source follows changes', () => {
  let h: Harness;
  let mag: TestMag;
  /** The source's generation; undefined: not following changes. */
  let gen: number | undefined;
  let generationCalls: number;
  beforeEach(async () => {
    h = await harness({ config: { policyCacheTtlMs: TTL }, profiles: [makeProfile(MN, { hnps: [P1] }), makeProfile(OTHER)] });
    h.policy.memory = true;
    gen = 7;
    generationCalls = 0;
    Object.assign(h.policy, {
      policyGeneration: () => {
        generationCalls++;
        return gen;
      },
    });
    mag = h.mag();
    mag.pbu({ mnId: MN });
    await h.settle();
    assert.equal(mag.pba().status, 0);
  });
  afterEach(() => h.close());

  const reRegister = async (): Promise<number> => {
    mag.pbu({ mnId: MN, hnps: [P1], hi: HandoffIndicator.NOT_CHANGED });
    await h.settle();
    return mag.pba().status;
  };

  it('serves past the TTL while nothing changes; asks again after any change', async () => {
    const asked = h.policy.nowCalls;
    await h.advance(TTL - 1);
    assert.equal(await reRegister(), 0);
    assert.equal(h.policy.nowCalls, asked, 'within the TTL: the snapshot');
    // Past the TTL: the registration's answer was asked in the millisecond the generation was first
    // seen (the manual clock stands still), so it is not trusted; the answer asked now is.
    await h.advance(TTL * 5);
    assert.equal(await reRegister(), 0);
    assert.equal(h.policy.nowCalls, asked + 1);
    for (let i = 0; i < 3; i++) {
      await h.advance(TTL * 5);
      assert.equal(await reRegister(), 0);
    }
    assert.equal(h.policy.nowCalls, asked + 1, 'unchanged source: the snapshot served past the TTL');
    // Another MN's profile changes: the snapshot is not trusted past the TTL any more.
    gen = 8;
    await h.advance(TTL * 5);
    assert.equal(await reRegister(), 0);
    assert.equal(h.policy.nowCalls, asked + 2, 'asked again after a change');
    // That answer was asked in the millisecond the change was seen: not trusted past the TTL;
    // the next one is, until the next change.
    await h.advance(TTL * 5);
    assert.equal(await reRegister(), 0);
    assert.equal(h.policy.nowCalls, asked + 3);
    await h.advance(TTL * 5);
    assert.equal(await reRegister(), 0);
    assert.equal(h.policy.nowCalls, asked + 3);
    assert.ok(generationCalls > 0);
  });

  it('a profile disabled meanwhile: 152 at the first re-registration after the change (§5.3.1 step 8)', async () => {
    await h.advance(TTL * 5);
    h.policy.profiles.set(MN, makeProfile(MN, { hnps: [P1], enabled: false }));
    gen = 9;
    assert.equal(await reRegister(), BaStatus.PROXY_REG_NOT_ENABLED);
  });

  it('a source that stops following changes: the TTL alone; following again: snapshots from before are not trusted', async () => {
    const asked = h.policy.nowCalls;
    gen = undefined;
    await h.advance(TTL * 5);
    assert.equal(await reRegister(), 0);
    assert.equal(h.policy.nowCalls, asked + 1);
    await h.advance(TTL - 1);
    assert.equal(await reRegister(), 0);
    assert.equal(h.policy.nowCalls, asked + 1, 'within the TTL: the snapshot');
    gen = 7; // following again, with the same number as before
    await h.advance(TTL * 5);
    assert.equal(await reRegister(), 0);
    assert.equal(h.policy.nowCalls, asked + 2, 'a snapshot from before the source followed again is asked again');
  });

  it('never serves past POLICY_FOLLOWED_MAX_MS, nor with a TTL of 0', async () => {
    await h.advance(TTL * 5);
    assert.equal(await reRegister(), 0); // asked (see the first case)
    const asked = h.policy.nowCalls;
    const step = 250_000; // re-registrations within the 300 s lifetime
    let t = 0;
    while (t + step < POLICY_FOLLOWED_MAX_MS) {
      await h.advance(step);
      t += step;
      assert.equal(await reRegister(), 0);
      assert.equal(h.policy.nowCalls, asked, `${t} ms after the answer: the snapshot`);
    }
    await h.advance(step);
    assert.equal(await reRegister(), 0);
    assert.equal(h.policy.nowCalls, asked + 1, 'past the bound: asked');
    await h.advance(1);
    assert.equal(await reRegister(), 0);
    assert.equal(h.policy.nowCalls, asked + 1, 'the new answer serves');
    h.lma.configure({ policyCacheTtlMs: 0 }); // 0: every PBU asks, followed or not
    await h.advance(1);
    assert.equal(await reRegister(), 0);
    assert.equal(h.policy.nowCalls, asked + 2);
  });
});

describe('policy snapshots', () => {
  it('one shared, immutable policy per pattern of the policy bits', () => {
    const seen = new Set<object>();
    for (let bits = 0; bits <= POLICY_BITS; bits++) {
      if ((bits & ~POLICY_BITS) !== 0) continue;
      const p = policyFromSnapshot(bits);
      assert.equal(p.bits, bits);
      assert.equal(p.magOk, (bits & F.POL_MAG_OK) !== 0);
      assert.ok(p.snapshot && Object.isFrozen(p));
      assert.equal(policyFromSnapshot(bits), p, 'shared');
      seen.add(p);
    }
    assert.equal(seen.size, 32, 'five bits, 32 patterns');
  });
});
