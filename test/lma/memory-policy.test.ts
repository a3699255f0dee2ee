// A policy source that answers from memory (MemoryLmaPolicy.policyNow): RFC 5213 §5.3.1
// checks 5-8 decided without the policy source's promises, with the same outcomes, and a
// fall-back to the promise path when it has no answer or fails. (LMA_MEMORY_POLICY=1 runs
// every harness-based LMA test this way.)
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { BaStatus } from '../../src/mh/index.ts';
import { harness, hnpsOf, makeProfile, MAG1 } from './driver.ts';
import type { Harness } from './driver.ts';

const MN = 'mn1@example.net';
const P1 = '2001:db8:1:1::/64';

describe('policy answered from memory (RFC 5213 §5.3.1 steps 5-8)', () => {
  let h: Harness;
  let asked: string[];
  beforeEach(async () => {
    h = await harness({ profiles: [makeProfile(MN, { hnps: [P1] })] });
    h.policy.memory = true;
    asked = [];
    const profile = h.policy.profile.bind(h.policy);
    const mag = h.policy.magAuthorized.bind(h.policy);
    h.policy.profile = (id) => {
      asked.push(`profile ${id}`);
      return profile(id);
    };
    h.policy.magAuthorized = (coa) => {
      asked.push(`mag ${coa}`);
      return mag(coa);
    };
  });
  afterEach(() => h.close());

  it('§5.3.2: an initial registration is decided from policyNow; the promise methods are not asked', async () => {
    const mag = h.mag();
    mag.pbu({ mnId: MN });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, 0);
    assert.deepEqual(hnpsOf(pba), [P1]);
    assert.equal(h.policy.nowCalls, 1);
    assert.deepEqual(asked, []);
    assert.deepEqual(h.sink.kinds(), ['created']);
    assert.equal(h.dp.routes.size, 1);
  });

  it('§5.3.1 steps 5-7: unknown MN -> 153, unauthorised MAG -> 154, the same as through the promises', async () => {
    const mag = h.mag();
    mag.pbu({ mnId: 'nobody@example.net' });
    await h.settle();
    assert.equal(mag.pba().status, BaStatus.NOT_LMA_FOR_THIS_MOBILE_NODE);
    h.policy.mags.clear();
    mag.pbu({ mnId: MN });
    await h.settle();
    assert.equal(mag.pba().status, BaStatus.MAG_NOT_AUTHORIZED_FOR_PROXY_REG);
    h.policy.mags.add(MAG1);
    mag.pbu({ mnId: MN });
    await h.settle();
    assert.equal(mag.pba().status, 0);
    assert.deepEqual(asked, []);
  });

  it('no answer in memory (undefined) or a throwing policyNow: asked through the promises instead', async () => {
    const mag = h.mag();
    h.policy.policyNow = () => undefined;
    mag.pbu({ mnId: MN });
    await h.settle();
    assert.equal(mag.pba().status, 0);
    assert.deepEqual(asked.sort(), [`mag ${MAG1}`, `profile ${MN}`]);

    asked = [];
    h.policy.policyNow = () => {
      throw new Error('cache broken');
    };
    mag.pbu({ mnId: 'nobody@example.net' });
    await h.settle();
    assert.equal(mag.pba().status, BaStatus.NOT_LMA_FOR_THIS_MOBILE_NODE);
    assert.deepEqual(asked.sort(), [`mag ${MAG1}`, 'profile nobody@example.net']);
    assert.equal(h.lma.counters.dropped['internal-error'], 0);
  });

  it('a source failing both ways drops the PBU for the MAG to retransmit (counted as policy-unavailable)', async () => {
    const mag = h.mag();
    h.policy.policyNow = () => {
      throw new Error('cache broken');
    };
    h.policy.fail = true;
    mag.pbu({ mnId: MN });
    await h.settle();
    assert.equal(mag.take(), undefined);
    assert.equal(h.lma.counters.dropped['policy-unavailable'], 1);
    assert.equal(h.lma.counters.dropped['internal-error'], 0);
  });
});
