// Issue 9 item 3: every queue keyed by what a packet says has a bound, and what is dropped at
// the bound is counted: the LMA's per-MN PBU queues (MNs with work pending, PBUs per MN) and
// the profile directory's lookups waiting for the database. And sysDescr tells how the
// signalling is protected.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Serializer } from '../../src/lma/context.ts';
import { ProfileDirectory } from '../../src/store/profile-directory.ts';
import type { Store } from '../../src/store/index.ts';
import { sysDescr } from '../../src/main/snmp-role.ts';
import { harness, makeProfile } from './driver.ts';

describe('issue 9: bounded queues', () => {
  it('Serializer.tryRun: refuses a new MN past maxKeys and a PBU past maxPerKey; timer work (run) is never refused', async () => {
    const s = new Serializer(() => undefined, { maxKeys: 2, maxPerKey: 2 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    assert.equal(s.tryRun('a', () => gate), 'ok');
    assert.equal(s.tryRun('b', () => gate), 'ok');
    assert.equal(s.tryRun('c', () => undefined), 'keys-full');
    assert.equal(s.tryRun('a', () => undefined), 'ok');
    assert.equal(s.tryRun('a', () => undefined), 'ok');
    assert.equal(s.tryRun('a', () => undefined), 'key-full');
    let ran = false;
    s.run('c', () => void (ran = true));
    assert.equal(ran, true, 'run() is not bounded');
    release();
    await s.idle();
    assert.equal(s.tryRun('c', () => undefined), 'ok');
  });

  it('the LMA counts PBUs dropped at the per-MN bound (the policy source is slow: every PBU waits)', async () => {
    const h = await harness({ profiles: [makeProfile('mn1@example.net', { hnps: ['2001:db8:1::/64'] })], config: { maxQueuedPerMn: 3, maxPendingMns: 1 } });
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const profile = h.policy.profile.bind(h.policy);
    h.policy.profile = async (id) => (await slow, profile(id));
    const mag = h.mag();
    for (let i = 0; i < 10; i++) mag.pbu({ mnId: 'mn1@example.net', hnps: ['2001:db8:1::/64'] });
    mag.pbu({ mnId: 'other@example.net' });
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.equal(h.lma.counters.dropped['mn-queue-full'], 10 - 1 - 3, 'one running, three queued, the rest dropped');
    assert.equal(h.lma.counters.dropped['mn-queues-full'], 1);
    release();
    await h.settle();
    await h.close();
  });

  it('the profile directory refuses lookups past maxWaiting and counts them', async () => {
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const store = {
      db: { kind: 'pglite' },
      profiles: { findMany: async () => (await slow, []) },
    } as unknown as Store;
    const d = new ProfileDirectory(store, { mode: 'off', maxWaiting: 5, maxBatchesInFlight: 1, batchSize: 1 });
    const all = Array.from({ length: 10 }, (_, i) => d.find(`mn${i}@x`).then(() => 'ok', () => 'refused'));
    release();
    const got = await Promise.all(all);
    assert.ok(got.filter((g) => g === 'refused').length >= 4, got.join(','));
    assert.equal(d.stats.refusedFull, got.filter((g) => g === 'refused').length);
  });

  it('sysDescr says whether MAG-LMA signalling is protected', () => {
    assert.match(sysDescr('unprotected'), /UNPROTECTED \(no IPsec, RFC 5213 §4\)/);
    assert.match(sysDescr('ipsec'), /protected by IPsec/);
  });
});
