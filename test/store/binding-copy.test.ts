// New bindings go to PostgreSQL by COPY FROM STDIN (src/store/repos/bindings.ts copyNew,
// src/store/pg-copy.ts): every column round-trips whatever the text holds, a row that exists
// after all turns the batch into an upsert, and a failed COPY leaves the pool usable.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BindingRepo, type PersistedBinding } from '../../src/store/repos/bindings.ts';
import { openTestDb, type TestDb } from '../helpers/db.ts';

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0, 123);
function row(lmaId: string, k: number, o: Partial<PersistedBinding> = {}): PersistedBinding {
  return {
    lmaId, sessionKey: String(k), mnId: `mn${k}@example.net`, mnLlId: null, att: 4, proxyCoa: '192.0.2.7', hnps: [`2001:db8:${k.toString(16)}::/64`],
    ipv4HoA: null, lifetimeS: 600, registeredAt: new Date(NOW), expiresAt: new Date(NOW + 600_000), state: { seq: 1 }, ...o,
  };
}

describe('binding store: new rows by COPY (postgres)', () => {
  let t: TestDb;
  before(async () => {
    t = await openTestDb('postgres');
  });
  after(() => t.drop());

  it('the pool has COPY', () => {
    assert.equal(typeof t.db.copyFrom, 'function');
  });

  it('every column round-trips: tabs, newlines, backslashes, quotes, \\N, NULLs, several prefixes, IPv6 Proxy-CoA', async () => {
    const repo = new BindingRepo(t.db);
    const odd = 'a\tb\nc\rd\\e"f\'g\\N{}h,ü\u0001';
    const rows = [
      row('copy\t1', 1, { mnId: odd, mnLlId: odd, state: { s: odd, n: 1.5, nested: { a: [1, null, '\\'] } } }),
      row('copy\t1', 2, { att: null, proxyCoa: '2001:db8:f::1', hnps: ['2001:db8:2::/64', '2001:db8:3::/64'], ipv4HoA: '10.0.0.9', mnLlId: '\\N' }),
      row('copy\t1', 3, { hnps: [] }),
    ];
    await repo.commit('copy\t1', rows, [], undefined, rows.length);
    const live = (await repo.loadLive('copy\t1', new Date(NOW))).sort((a, b) => a.sessionKey.localeCompare(b.sessionKey));
    assert.deepEqual(live, rows);
  });

  it('a new row the store holds after all (a batch that landed after its caller gave up) is upserted, not refused', async () => {
    const repo = new BindingRepo(t.db);
    await repo.commit('dup', [row('dup', 1)], [], undefined, 1);
    await repo.commit('dup', [row('dup', 1, { state: { seq: 2 } }), row('dup', 2)], [], undefined, 2);
    const live = (await repo.loadLive('dup', new Date(NOW))).sort((a, b) => a.sessionKey.localeCompare(b.sessionKey));
    assert.deepEqual(live.map((b) => [b.sessionKey, b.state.seq]), [['1', 2], ['2', 1]]);
  });

  it('a COPY the server refuses rejects with its error and leaves the pool usable; nothing of the batch lands', async () => {
    const repo = new BindingRepo(t.db);
    await assert.rejects(repo.commit('bad', [row('bad', 1), row('bad', 2, { proxyCoa: 'not-an-address' })], [], undefined, 2), /inet|invalid/i);
    assert.equal((await repo.loadLive('bad', new Date(NOW))).length, 0, 'one statement: all or nothing');
    for (let i = 0; i < 12; i++) await repo.commit('bad', [row('bad', 10 + i)], [], undefined, 1); // more than the pool's connections
    assert.equal((await repo.loadLive('bad', new Date(NOW))).length, 12);
  });

  it('a COPY refused before copy-in mode (its data already sent with it) rejects and leaves the connection usable', async () => {
    // pg-copy.ts sends Query, CopyData and CopyDone in one write: the server must drop the data.
    const data = Buffer.from('x\ty\n'.repeat(100));
    for (let i = 0; i < 12; i++) await assert.rejects(t.db.copyFrom!('COPY no_such_table_pmip6 (a, b) FROM STDIN', data), /no_such_table_pmip6/);
    assert.equal((await t.db.query<{ one: number }>('SELECT 1 AS one')).rows[0].one, 1);
    const repo = new BindingRepo(t.db);
    for (let i = 0; i < 12; i++) await repo.commit('early', [row('early', i + 1)], [], undefined, 1);
    assert.equal((await repo.loadLive('early', new Date(NOW))).length, 12);
  });
});
