// The binding log (migrations/010_binding_log.sql, src/store/repos/bindings.ts): group-commit
// batches appended as one row each, folded into `bindings` later. Nothing acknowledged may be
// missing from a read (restart recovery, operator API) whether or not the fold ran, and the
// newest entry of a binding wins. On PostgreSQL (the default there) and on PGlite (forced).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BindingRepo, type PersistedBinding } from '../../src/store/repos/bindings.ts';
import { DB_KINDS, openTestDb, type TestDb } from '../helpers/db.ts';

const NOW = Date.now();
function row(lmaId: string, k: number, hnp = `2001:db8:${k.toString(16)}::/64`, seq = 1): PersistedBinding {
  return {
    lmaId, sessionKey: String(k), mnId: `mn${k}@example.net`, mnLlId: k % 2 ? 'll\\"quoted"\t1' : null, att: 4, proxyCoa: k % 3 ? '192.0.2.7' : '2001:db8:f::1',
    hnps: [hnp], ipv4HoA: k % 2 ? '10.0.0.9' : null, lifetimeS: 600, registeredAt: new Date(NOW), expiresAt: new Date(NOW + 600_000), state: { seq, note: 'a "b" \\ c' },
  };
}
const count = async (t: TestDb, table: string, lmaId: string): Promise<number> =>
  Number((await t.db.query<{ n: bigint }>(`SELECT count(*) AS n FROM ${table} WHERE lma_id = $1`, [lmaId])).rows[0].n);

for (const kind of DB_KINDS) {
  describe(`binding log (${kind})`, () => {
    let t: TestDb;
    before(async () => {
      t = await openTestDb(kind);
    });
    after(() => t.drop());

    it('a crash between log append and fold loses nothing: a new repository reads the log too', async () => {
      const repo = new BindingRepo(t.db, { log: true, foldMs: Infinity }); // the fold never runs by itself
      await repo.commit('crash', [row('crash', 1), row('crash', 2)], [], undefined, 2);
      await repo.commit('crash', [row('crash', 3)], ['2'], undefined, 1);
      assert.equal(await count(t, 'bindings', 'crash'), 0, 'not folded yet');
      assert.equal(await count(t, 'binding_log', 'crash'), 2, 'one log row per batch');
      // The process dies here; the restarted LMA has a repository of its own.
      const restarted = new BindingRepo(t.db, { log: true, foldMs: Infinity });
      const live = (await restarted.loadLive('crash', new Date(NOW))).sort((a, b) => a.sessionKey.localeCompare(b.sessionKey));
      assert.deepEqual(live.map((b) => b.sessionKey), ['1', '3']);
      assert.deepEqual(live[0], { ...row('crash', 1) }, 'every column round-trips through the log (quotes, tabs, backslashes)');
      assert.equal(await count(t, 'binding_log', 'crash'), 0, 'folded by the read');
    });

    it('the newest entry of a binding wins, within one fold and across folds; removals too', async () => {
      const repo = new BindingRepo(t.db, { log: true, foldMs: Infinity });
      await repo.commit('order', [row('order', 1, '2001:db8:a::/64', 1), row('order', 2)], [], undefined, 2);
      await repo.fold();
      await repo.commit('order', [row('order', 1, '2001:db8:b::/64', 2)], []);
      await repo.commit('order', [row('order', 1, '2001:db8:c::/64', 3)], ['2']);
      await repo.commit('order', [row('order', 4)], [], undefined, 1);
      await repo.commit('order', [], ['4']);
      await repo.fold();
      const live = await repo.loadLive('order', new Date(NOW));
      assert.deepEqual(live.map((b) => [b.sessionKey, b.hnps[0], b.state.seq]), [['1', '2001:db8:c::/64', 3]]);
      // A removal of a row the store never held is no error.
      await repo.commit('order', [], ['99']);
      assert.equal((await repo.loadLive('order', new Date(NOW))).length, 1);
    });

    it('the operator API (list) sees acknowledged bindings still in the log; several LMAs share the log', async () => {
      const a = new BindingRepo(t.db, { log: true, foldMs: Infinity });
      const b = new BindingRepo(t.db, { log: true, foldMs: Infinity });
      await a.commit('api-a', [row('api-a', 1), row('api-a', 2)], [], undefined, 2);
      await b.commit('api-b', [row('api-b', 1)], [], undefined, 1);
      const api = new BindingRepo(t.db, { log: true, foldMs: Infinity });
      assert.equal((await api.list({ lmaId: 'api-a' })).total, 2);
      assert.equal((await api.list({ lmaId: 'api-b' })).items[0].mnId, 'mn1@example.net');
      assert.equal((await api.list({ mnId: 'mn2@example.net' })).total, 1);
    });

    it('folds in the background and under concurrent appends keeps each binding at its last committed state', async () => {
      const repo = new BindingRepo(t.db, { log: true, foldMs: 10 });
      const writers: Promise<void>[] = [];
      for (let w = 0; w < 4; w++) {
        writers.push(
          (async () => {
            // writer w owns keys w*100 .. w*100+49 and writes each 5 times, in order
            for (let round = 1; round <= 5; round++) {
              const rows = Array.from({ length: 50 }, (_, i) => row('conc', w * 100 + i + 1, `2001:db8:${w}:${i}::/64`, round));
              await repo.commit('conc', rows, [], undefined, round === 1 ? rows.length : 0);
              if (round === 3) void repo.fold(); // a read-side fold racing the background ones
            }
          })(),
        );
      }
      await Promise.all(writers);
      // The background fold empties the log by itself.
      for (let i = 0; i < 500 && (await count(t, 'binding_log', 'conc')) > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(await count(t, 'binding_log', 'conc'), 0, 'background fold ran');
      assert.equal(await count(t, 'bindings', 'conc'), 200);
      const seqs = new Set((await repo.loadLive('conc', new Date(NOW))).map((b) => b.state.seq));
      assert.deepEqual([...seqs], [5]);
    });

    it('single-row upsert and remove go through the log in order with the batches', async () => {
      const repo = new BindingRepo(t.db, { log: true, foldMs: Infinity });
      await repo.commit('single', [row('single', 1, '2001:db8:1::/64', 1)], []);
      await repo.upsert(row('single', 1, '2001:db8:1::/64', 2));
      assert.equal((await repo.loadLive('single', new Date(NOW)))[0].state.seq, 2);
      await repo.remove('single', '1');
      assert.equal((await repo.loadLive('single', new Date(NOW))).length, 0);
    });
  });
}
