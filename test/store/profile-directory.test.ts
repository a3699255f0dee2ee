// The profile directory (src/store/profile-directory.ts) on PGlite and PostgreSQL: answers equal
// ProfileRepo.find, changes made elsewhere (another pool, another process: psql) reach it through
// the migration-004 notifications, unknown MNs stay unknown only until inserted, a read in
// flight when its MN changes is not kept, and with the notification channel lost or unconfirmed
// lookups go to the database until it is back.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ProfileDirectory } from '../../src/store/profile-directory.ts';
import { registry } from '../../src/metrics/registry.ts';
import { openPostgres } from '../../src/store/pg.ts';
import { storeOn, type Store } from '../../src/store/index.ts';
import { profileInputSchema } from '../../src/policy/validate.ts';
import { DB_KINDS, PG_ADMIN_URL, openTestDb, type TestDb } from '../helpers/db.ts';
import { until } from '../helpers/until.ts';

const prof = (o: Record<string, unknown>) => profileInputSchema.parse(o);
const run = promisify(execFile);

/** A value from the process registry (/metrics); 0 when the series is absent. */
async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  assert.ok(m, `${name} registered`);
  const { values } = await m.get();
  return values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}
const lookups = async () => ({
  hit: await metric('pmip6_profile_directory_lookups_total', { result: 'hit' }),
  miss: await metric('pmip6_profile_directory_lookups_total', { result: 'miss' }),
  negative: await metric('pmip6_profile_directory_lookups_total', { result: 'negative-hit' }),
  bypass: await metric('pmip6_profile_directory_lookups_total', { result: 'bypass' }),
});
const diff = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.keys(a).map((k) => [k, b[k] - a[k]]));

for (const kind of DB_KINDS) {
  describe(`profile directory on ${kind}`, () => {
    let t: TestDb;
    let store: Store;
    /** The writer "elsewhere": another pool on PostgreSQL (another API node); PGlite has only this process. */
    let other: Store;
    const dirs: ProfileDirectory[] = [];
    const open = async (o: ConstructorParameters<typeof ProfileDirectory>[1] = {}) => {
      const d = new ProfileDirectory(store, { listenUrl: t.url, ...o });
      dirs.push(d);
      await d.start();
      return d;
    };
    /** Waits until the directory has seen `n` more notifications than before `write`. */
    const afterNotified = async (d: ProfileDirectory, write: () => Promise<unknown>, n = 1) => {
      const seen = d.stats.notifications;
      await write();
      await until('the change notification', () => d.stats.notifications >= seen + n);
    };

    before(async () => {
      t = await openTestDb(kind);
      store = storeOn(t.db);
      other = kind === 'postgres' ? storeOn(await openPostgres(t.url!, { max: 2 })) : store;
      for (let i = 0; i < 20; i++) {
        await store.profiles.create(prof({ mnId: `mn${i}@example.net`, hnps: [`2001:db8:${i}::/64`], lma: '2001:db8::1', ipv4HoA: `10.0.0.${i + 1}` }), 'test');
      }
      await t.db.exec(`INSERT INTO pools (name, family, prefix, assign_length) VALUES ('p6', 6, '2001:db8:f000::/48', 64)`);
      await store.profiles.create(prof({ mnId: 'pooled@example.net', hnpPool: 'p6', hnpCount: 1 }), 'test');
    });
    after(async () => {
      for (const d of dirs) await d.close();
      if (other !== store) await other.close();
      await t.drop();
    });

    it('lazy: answers equal ProfileRepo.find; the second lookup, known or unknown, comes from memory', async () => {
      const d = await open({ mode: 'lazy' });
      const m0 = await lookups();
      const ids = ['mn1@example.net', 'mn2@example.net', 'pooled@example.net', 'nobody@example.net'];
      const got = await Promise.all(ids.map((id) => d.find(id)));
      for (let i = 0; i < ids.length; i++) assert.deepEqual(got[i], await store.profiles.find(ids[i]));
      assert.equal(d.stats.reads, 1, 'one batched read');
      assert.deepEqual(d.peek('mn1@example.net'), got[0], 'the same profile from memory');
      assert.equal(d.peek('nobody@example.net'), null, 'a known unknown');
      assert.deepEqual(await d.find('mn2@example.net'), got[1]);
      assert.deepEqual(d.size, { profiles: 3, unknown: 1 });
      assert.deepEqual(
        { hits: d.stats.hits, negativeHits: d.stats.negativeHits, misses: d.stats.misses, bypasses: d.stats.bypasses },
        { hits: 2, negativeHits: 1, misses: 4, bypasses: 0 },
      );
      assert.deepEqual(diff(m0, await lookups()), { hit: 2, miss: 4, negative: 1, bypass: 0 }, 'pmip6_profile_directory_lookups_total');
    });

    it('metrics: entries and serving follow the running directories; invalidations count one / all; counts outlive close', async () => {
      const entries = () => Promise.all([metric('pmip6_profile_directory_entries', { kind: 'profile' }), metric('pmip6_profile_directory_entries', { kind: 'unknown' })]);
      const [p0, u0] = await entries();
      const inv0 = { one: await metric('pmip6_profile_directory_invalidations_total', { kind: 'one' }), all: await metric('pmip6_profile_directory_invalidations_total', { kind: 'all' }) };
      const d = await open({ mode: 'lazy' });
      assert.equal(await metric('pmip6_profile_directory_serving'), 1);
      await Promise.all(['mn12@example.net', 'mn13@example.net', 'ghost@example.net'].map((id) => d.find(id)));
      assert.deepEqual(await entries(), [p0 + 2, u0 + 1]);
      d.invalidate('mn12@example.net');
      assert.deepEqual(await entries(), [p0 + 1, u0 + 1]);
      d.invalidate();
      assert.deepEqual(await entries(), [p0, u0]);
      assert.equal(await metric('pmip6_profile_directory_invalidations_total', { kind: 'one' }), inv0.one + 1);
      assert.equal(await metric('pmip6_profile_directory_invalidations_total', { kind: 'all' }), inv0.all + 1);
      assert.deepEqual({ one: d.stats.invalidatedOne, all: d.stats.invalidatedAll }, { one: 1, all: 1 });
      await d.find('mn12@example.net');
      assert.deepEqual(await entries(), [p0 + 1, u0]);
      const before = await lookups();
      await d.close();
      assert.deepEqual(await entries(), [p0, u0], 'a closed directory leaves the gauges');
      assert.deepEqual(await lookups(), before, 'its lookups stay counted');
      assert.equal(await d.find('mn12@example.net').then((p) => p?.mnId), 'mn12@example.net');
      assert.equal((await lookups()).bypass, before.bypass + 1, 'closed: read from the database');
      const e = new ProfileDirectory(store, { listenUrl: t.url, mode: 'lazy' });
      await e.start(); // a second directory in the process registers without a duplicate-metric error
      dirs.push(e);
      assert.equal(await metric('pmip6_profile_directory_serving'), 1);
    });

    it('a change made through another connection reaches the directory: update, prefixes, insert of an unknown MN, delete', async () => {
      const d = await open({ mode: 'lazy' });
      await d.find('mn3@example.net');
      await afterNotified(d, () => other.profiles.update('mn3@example.net', { serviceSelection: 'ims' }, 'test'));
      assert.equal(d.peek('mn3@example.net'), undefined, 'dropped');
      assert.equal((await d.find('mn3@example.net'))!.serviceSelection, 'ims');

      await afterNotified(d, () => other.db.exec(`INSERT INTO hnp_assignments (prefix, profile_id, position) SELECT '2001:db8:3:1::/64', id, 1 FROM profiles WHERE mn_id = 'mn3@example.net'`));
      assert.deepEqual((await d.find('mn3@example.net'))!.hnps, ['2001:db8:3::/64', '2001:db8:3:1::/64']);

      assert.equal(await d.find('new@example.net'), null);
      assert.equal(d.peek('new@example.net'), null);
      await afterNotified(d, () => other.profiles.create(prof({ mnId: 'new@example.net', hnps: ['2001:db8:99::/64'] }), 'test'));
      assert.deepEqual((await d.find('new@example.net'))!.hnps, ['2001:db8:99::/64'], 'a new MN is found at once');

      await afterNotified(d, () => other.profiles.delete('new@example.net', 'test'));
      assert.equal(await d.find('new@example.net'), null);
    });

    it('a renamed pool or a TRUNCATE drops every entry (payload "")', async () => {
      const d = await open({ mode: 'lazy' });
      await d.find('pooled@example.net');
      await d.find('mn4@example.net');
      const resets = d.stats.resets;
      await afterNotified(d, () => other.db.exec(`UPDATE pools SET name = 'p6b' WHERE name = 'p6'`));
      assert.ok(d.stats.resets > resets);
      assert.equal(d.stats.invalidatedAll, 1, 'one flush notification');
      assert.deepEqual(d.size, { profiles: 0, unknown: 0 });
      assert.equal((await d.find('pooled@example.net'))!.hnpPool, 'p6b');
    });

    it('a read in flight when its MN is invalidated answers its caller but is not kept', async () => {
      const d = await open({ mode: 'lazy' });
      const pending = d.find('mn5@example.net');
      await new Promise((r) => setImmediate(r)); // the batched read has gone to the database
      d.invalidate('mn5@example.net');
      assert.equal(d.stats.invalidatedOne, 1);
      assert.ok(await pending);
      assert.equal(d.peek('mn5@example.net'), undefined);
      await d.find('mn5@example.net');
      assert.ok(d.peek('mn5@example.net'), 'a read started after the invalidation is kept');
    });

    it('preload: every profile in memory at start; a changed one is read again at once', async () => {
      const d = await open({ mode: 'preload', preloadPageSize: 7 });
      const n = await store.profiles.count();
      assert.equal(d.size.profiles, n);
      assert.equal(d.stats.preloaded, n);
      const p = d.peek('mn6@example.net');
      assert.deepEqual(p, await store.profiles.find('mn6@example.net'));
      await afterNotified(d, () => other.profiles.update('mn6@example.net', { enabled: false }, 'test'));
      await until('the profile read again', () => d.peek('mn6@example.net') !== undefined);
      assert.equal(d.peek('mn6@example.net')!.enabled, false);
    });

    it('followedGeneration: changes with every change of an answer from memory (notification, invalidate, flush); undefined in mode off', async () => {
      const d = await open({ mode: 'lazy' });
      await until('serving', () => d.serving);
      const g0 = d.followedGeneration();
      assert.equal(typeof g0, 'number');
      await d.find('mn14@example.net');
      assert.equal(d.followedGeneration(), g0, 'a read that fills memory changes no answer');
      await afterNotified(d, () => other.profiles.update('mn14@example.net', { serviceSelection: 'ims' }, 'test'));
      const g1 = d.followedGeneration();
      assert.notEqual(g1, g0, 'a change notification');
      d.invalidate('mn15@example.net');
      const g2 = d.followedGeneration();
      assert.ok(g2 !== g1 && g2 !== g0, 'invalidate(mnId)');
      d.invalidate();
      assert.ok(![g0, g1, g2].includes(d.followedGeneration()), 'invalidate()');
      const off = await open({ mode: 'off' });
      assert.equal(off.followedGeneration(), undefined);
    });

    it('off: every lookup reads the database', async () => {
      const m0 = await lookups();
      const d = await open({ mode: 'off' });
      assert.ok(await d.find('mn7@example.net'));
      assert.equal(d.peek('mn7@example.net'), undefined);
      assert.deepEqual(d.size, { profiles: 0, unknown: 0 });
      assert.equal(d.stats.reads, 1);
      assert.equal(d.stats.bypasses, 1);
      assert.deepEqual(diff(m0, await lookups()), { hit: 0, miss: 0, negative: 0, bypass: 1 });
    });

    if (kind === 'pglite') {
      it('PGlite: the notification arrives before the write resolves (the process reads its own writes)', async () => {
        const d = await open({ mode: 'lazy' });
        await d.find('mn8@example.net');
        await store.profiles.update('mn8@example.net', { serviceSelection: 'video' }, 'test');
        assert.equal(d.peek('mn8@example.net'), undefined);
        assert.equal((await d.find('mn8@example.net'))!.serviceSelection, 'video');
      });
    }

    if (kind === 'postgres') {
      it('another process (psql) changes a profile: seen through the notification', async () => {
        const d = await open({ mode: 'lazy' });
        await d.find('mn9@example.net');
        await afterNotified(d, () => run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', t.url!, '-c', `UPDATE profiles SET lma = '2001:db8::9' WHERE mn_id = 'mn9@example.net'`]));
        assert.equal((await d.find('mn9@example.net'))!.lma, '2001:db8::9');
      });

      it('the LISTEN connection is lost: entries only held for an outage, lookups read the database, memory again once LISTEN is back', async () => {
        const d = await open({ mode: 'lazy' });
        await d.find('mn10@example.net');
        assert.ok(d.serving);
        const admin = await openPostgres(PG_ADMIN_URL, { max: 1 });
        try {
          const name = new URL(t.url!).pathname.slice(1);
          const killed = await admin.query<{ ok: boolean }>(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND application_name = 'pmip6-listen'`, [name]);
          assert.ok(killed.rows.length >= 1);
        } finally {
          await admin.close();
        }
        await until('the channel reported down', () => !d.serving);
        assert.deepEqual(d.size, { profiles: 1, unknown: 0 }, 'held (answers only while the database cannot be reached)');
        assert.equal(d.peek('mn10@example.net'), undefined, 'not answered from memory while the database can be read');
        // A change while nobody listens: its notification is lost for good; lookups read the database.
        await other.profiles.update('mn10@example.net', { serviceSelection: 'while-down' }, 'test');
        assert.equal((await d.find('mn10@example.net'))!.serviceSelection, 'while-down');
        await until('LISTEN active again', () => d.serving);
        assert.equal((await d.find('mn10@example.net'))!.serviceSelection, 'while-down');
        assert.ok(d.peek('mn10@example.net'));
      });

      it('no confirmation that notifications arrive for longer than maxStaleMs: lookups read the database', async () => {
        let skew = 0;
        const d = await open({ mode: 'lazy', maxStaleMs: 300, now: () => performance.now() + skew });
        await d.find('mn11@example.net');
        // Served from memory once a liveness query answered within maxStaleMs (300 ms is short on a loaded machine).
        await until('answered from memory', () => d.peek('mn11@example.net'));
        skew += 1000; // as if the liveness queries had gone unanswered for a second
        assert.equal(d.peek('mn11@example.net'), undefined);
        assert.equal(d.followedGeneration(), undefined, 'not following changes while not verified');
        assert.equal(await metric('pmip6_profile_directory_serving'), 0, 'not verified: 0');
        const reads = d.stats.reads;
        assert.ok(await d.find('mn11@example.net'));
        assert.equal(d.stats.reads, reads + 1, 'read from the database');
        assert.equal(d.stats.bypasses, 1);
        // The next answered liveness query on the same connection proves nothing was missed.
        await until('confirmed again', () => d.serving);
        assert.ok(d.peek('mn11@example.net'));
      });
    }
  });
}
