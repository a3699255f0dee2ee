// The profile directory's batched reads never fail because of one key: identifiers no
// profile can have are answered "unknown" before batching, and a batch that still fails (for
// another reason than an outage) is answered one MN at a time.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProfileDirectory } from '../../src/store/profile-directory.ts';
import type { Profile } from '../../src/policy/profile.ts';
import { makeProfile } from '../lma/driver.ts';
import { DbUnavailableError, type Db } from '../../src/store/db.ts';
import type { ProfileRepo } from '../../src/store/repos/profiles.ts';

function fakeStore(findMany: (ids: readonly string[]) => Promise<Profile[]>) {
  const calls: string[][] = [];
  const store = {
    db: { kind: 'pglite' } as Db,
    profiles: {
      findMany: (ids: readonly string[]) => {
        calls.push([...ids]);
        return findMany(ids);
      },
    } as unknown as ProfileRepo,
  };
  return { store, calls };
}

describe('profile directory: one bad key never fails a batch', () => {
  it('identifiers with NUL, control or bidi characters, or lone surrogates never reach the batched query', async () => {
    const { store, calls } = fakeStore(async (ids) => ids.map((id) => makeProfile(id)));
    const d = new ProfileDirectory(store, { mode: 'off' });
    const ids = ['a@x', 'b\u0000@x', 'c@x', 'd\u0007@x', 'e\u202e@x', 'f\ud800@x', 'g@x'];
    const got = await Promise.all(ids.map((id) => d.find(id)));
    assert.deepEqual(got.map((p) => p?.mnId ?? null), ['a@x', null, 'c@x', null, null, null, 'g@x']);
    assert.deepEqual(calls, [['a@x', 'c@x', 'g@x']], 'one batch of the valid keys');
    assert.equal(d.stats.invalid, 4);
  });

  it('a batch that fails (not an outage) is answered key by key; only the failing key fails', async () => {
    const { store, calls } = fakeStore(async (ids) => {
      if (ids.includes('poison@x')) throw new Error('invalid input syntax');
      return ids.map((id) => makeProfile(id));
    });
    const d = new ProfileDirectory(store, { mode: 'off' });
    const ids = ['a@x', 'poison@x', 'b@x'];
    const got = await Promise.allSettled(ids.map((id) => d.find(id)));
    assert.equal(got[0].status === 'fulfilled' && got[0].value?.mnId, 'a@x');
    assert.equal(got[1].status, 'rejected');
    assert.equal(got[2].status === 'fulfilled' && got[2].value?.mnId, 'b@x');
    assert.deepEqual(calls, [['a@x', 'poison@x', 'b@x'], ['a@x'], ['poison@x'], ['b@x']]);
    assert.equal(d.stats.splitBatches, 1);
  });

  it('an outage fails the batch as a whole (no key-by-key storm against a dead database)', async () => {
    const { store, calls } = fakeStore(async () => {
      throw new DbUnavailableError(new Error('ECONNREFUSED'));
    });
    const d = new ProfileDirectory(store, { mode: 'off' });
    const got = await Promise.allSettled(['a@x', 'b@x'].map((id) => d.find(id)));
    assert.ok(got.every((g) => g.status === 'rejected'));
    assert.equal(calls.length, 1);
    // Known down: the next lookups within the probe interval do not touch the database either.
    await assert.rejects(d.find('c@x'));
    assert.equal(calls.length, 1);
    assert.equal(d.stats.unavailable, 3, 'every lookup counted as unanswered: none was held');
  });
});
