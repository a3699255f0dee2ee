// Session settings through openPostgres (lma.commitWait "server" opens the LMA's binding
// connections with synchronous_commit off, src/main/lma-role.ts); real PostgreSQL.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPgDatabase } from '../helpers/db.ts';
import { openPostgres } from '../../src/store/pg.ts';
import { migrate } from '../../src/store/migrate.ts';
import { BindingRepo } from '../../src/store/repos/bindings.ts';

describe('openPostgres session options (postgres)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const f of cleanup.reverse()) await f();
  });

  it('every connection of the pool has the settings; binding commits through it land', async () => {
    const created = await createPgDatabase();
    cleanup.push(() => created.drop());
    const plain = await openPostgres(created.url, { max: 1 });
    cleanup.push(() => plain.close());
    await migrate(plain);
    const fast = await openPostgres(created.url, { max: 2, options: '-c synchronous_commit=off' });
    cleanup.push(() => fast.close());
    const shows = await Promise.all([0, 1, 2, 3].map(() => fast.query<{ synchronous_commit: string }>('SHOW synchronous_commit')));
    assert.deepEqual(shows.map((r) => r.rows[0].synchronous_commit), ['off', 'off', 'off', 'off']);
    assert.equal((await plain.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0].synchronous_commit, 'on', 'other connections keep theirs');
    const now = Date.now();
    await new BindingRepo(fast).commit('lma-o', [{
      lmaId: 'lma-o', sessionKey: '1', mnId: 'mn1@example.net', mnLlId: null, att: 4, proxyCoa: '192.0.2.9', hnps: ['2001:db8:9::/64'],
      ipv4HoA: null, lifetimeS: 60, registeredAt: new Date(now), expiresAt: new Date(now + 60_000), state: { seq: 1 },
    }], [], undefined, 1);
    assert.deepEqual((await new BindingRepo(plain).loadLive('lma-o')).map((r) => r.hnps), [['2001:db8:9::/64']], 'visible to another connection');
  });
});
