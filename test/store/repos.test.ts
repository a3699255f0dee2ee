// Repository tests, run unchanged against PGlite and a real PostgreSQL.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DB_KINDS, openTestDb, type TestDb } from '../helpers/db.ts';
import { storeOn, type Store } from '../../src/store/index.ts';
import { migrate } from '../../src/store/migrate.ts';
import { ConflictError, InvalidError, NotFoundError } from '../../src/store/errors.ts';
import { profileInputSchema, poolInputSchema, lmaInputSchema, magInputSchema, aaaClientInputSchema } from '../../src/policy/validate.ts';
import { createPool, getPool } from '../../src/store/repos/pools.ts';
import { listAudit } from '../../src/store/repos/audit.ts';

const prof = (o: Record<string, unknown>) => profileInputSchema.parse(o);

for (const kind of DB_KINDS) {
  describe(`policy store on ${kind}`, () => {
    let t: TestDb;
    let s: Store;
    before(async () => {
      t = await openTestDb(kind);
      s = storeOn(t.db);
    });
    after(async () => {
      await t.drop();
    });

    it('migrations are recorded and a second run applies nothing', async () => {
      assert.deepEqual(await migrate(t.db), []);
      const r = await t.db.query<{ name: string }>('SELECT name FROM schema_migrations');
      assert.ok(r.rows.some((x) => x.name === '001_policy_store.sql'));
    });

    it('int8 comes back as bigint on both drivers (MIP6-Feature-Vector is 64-bit)', async () => {
      const p = await s.profiles.create(prof({ mnId: 'fv@example.net', hnps: ['2001:db8:f::/64'], mip6FeatureVector: '0x8001020000000000' }), 'test');
      assert.equal(p.mip6FeatureVector, 0x8001020000000000n);
      assert.equal((await s.profiles.get('fv@example.net')).mip6FeatureVector, 0x8001020000000000n);
    });

    it('creates, reads, updates, lists and deletes a profile, auditing each change', async () => {
      const p = await s.profiles.create(
        prof({ mnId: 'mn1@example.net', hnps: ['2001:DB8:1:1::/64'], lma: '2001:db8::1', ipv4HoA: '10.0.0.5', ipv4PrefixLength: 24, mnLinkLayerIds: ['02-00-00-00-00-01'] }),
        'test',
      );
      assert.deepEqual(p.hnps, ['2001:db8:1:1::/64']);
      assert.equal(p.ipv4HoA, '10.0.0.5');
      assert.deepEqual(p.mnLinkLayerIds, ['02:00:00:00:00:01']);
      const u = await s.profiles.update('mn1@example.net', { hnps: ['2001:db8:1:2::/64', '2001:db8:1:1::/64'], enabled: false }, 'test');
      assert.deepEqual(u.hnps, ['2001:db8:1:2::/64', '2001:db8:1:1::/64']);
      assert.equal(u.enabled, false);
      const l = await s.profiles.list({ q: 'mn1', enabled: false });
      assert.equal(l.total, 1);
      assert.equal((await s.profiles.list({ hnp: '2001:db8:1::/48' })).total, 1);
      const log = await listAudit(t.db, { resource: 'profile', resourceId: 'mn1@example.net' });
      assert.deepEqual(log.map((x) => x.action).reverse(), ['create', 'update']);
      await s.profiles.delete('mn1@example.net', 'test');
      await assert.rejects(s.profiles.get('mn1@example.net'), NotFoundError);
      // The deleted profile's prefixes are free again.
      await s.profiles.create(prof({ mnId: 'mn1b@example.net', hnps: ['2001:db8:1:1::/64'] }), 'test');
    });

    it('refuses a duplicate MN identifier, naming the field', async () => {
      await s.profiles.create(prof({ mnId: 'dup@example.net', hnps: ['2001:db8:2::/64'] }), 'test');
      await assert.rejects(s.profiles.create(prof({ mnId: 'dup@example.net', hnps: ['2001:db8:3::/64'] }), 'test'), (e: unknown) => e instanceof ConflictError && e.field === 'mnId');
    });

    it('refuses a prefix already held by another MN, or overlapping one, and writes nothing', async () => {
      await s.profiles.create(prof({ mnId: 'a@example.net', hnps: ['2001:db8:4::/64'] }), 'test');
      await assert.rejects(s.profiles.create(prof({ mnId: 'b@example.net', hnps: ['2001:db8:4::/64'] }), 'test'), (e: unknown) => e instanceof ConflictError && e.field === 'hnps');
      await assert.rejects(s.profiles.create(prof({ mnId: 'c@example.net', hnps: ['2001:db8:5::/64', '2001:db8:4::/48'] }), 'test'), (e: unknown) => e instanceof ConflictError && e.field === 'hnps');
      assert.equal(await s.profiles.find('b@example.net'), null);
      assert.equal(await s.profiles.find('c@example.net'), null, 'nothing half-written');
      const r = await t.db.query(`SELECT 1 FROM hnp_assignments WHERE prefix = '2001:db8:5::/64'`);
      assert.equal(r.rows.length, 0);
    });

    it('refuses overlapping pools and unknown pools', async () => {
      await createPool(t.db, poolInputSchema.parse({ name: 'v6a', prefix: '2001:db8:100::/48', assignLength: 64 }), 'test');
      await assert.rejects(createPool(t.db, poolInputSchema.parse({ name: 'v6b', prefix: '2001:db8:100:8000::/49' }), 'test'), (e: unknown) => e instanceof ConflictError && e.field === 'prefix');
      await assert.rejects(createPool(t.db, poolInputSchema.parse({ name: 'v6a', prefix: '2001:db8:200::/48' }), 'test'), (e: unknown) => e instanceof ConflictError && e.field === 'name');
      await assert.rejects(s.profiles.create(prof({ mnId: 'np@example.net', hnpPool: 'nope' }), 'test'), (e: unknown) => e instanceof InvalidError && e.field === 'hnpPool');
    });

    it('50 parallel profile creations draw 50 distinct prefixes from one pool', async () => {
      await createPool(t.db, poolInputSchema.parse({ name: 'par', prefix: '2001:db8:300::/56', assignLength: 64 }), 'test');
      // A fixed prefix inside the pool must be skipped by allocation.
      await s.profiles.create(prof({ mnId: 'fixed@example.net', hnps: ['2001:db8:300:1::/64'] }), 'test');
      const made = await Promise.all(Array.from({ length: 50 }, (_, i) => s.profiles.create(prof({ mnId: `par${i}@example.net`, hnpPool: 'par' }), 'test')));
      const prefixes = made.map((p) => p.hnps[0]);
      assert.equal(new Set(prefixes).size, 50);
      assert.ok(!prefixes.includes('2001:db8:300:1::/64'));
      for (const p of prefixes) assert.match(p, /^2001:db8:300:[0-9a-f]{0,2}::\/64$|^2001:db8:300::\/64$/);
      assert.equal((await getPool(t.db, 'par')).used, 50);
    });

    it('a pool that runs out says so, and freed prefixes are reused', async () => {
      await createPool(t.db, poolInputSchema.parse({ name: 'tiny', prefix: '2001:db8:400::/63', assignLength: 64 }), 'test');
      await s.profiles.create(prof({ mnId: 't1@example.net', hnpPool: 'tiny' }), 'test');
      await s.profiles.create(prof({ mnId: 't2@example.net', hnpPool: 'tiny' }), 'test');
      await assert.rejects(s.profiles.create(prof({ mnId: 't3@example.net', hnpPool: 'tiny' }), 'test'), (e: unknown) => e instanceof InvalidError && /exhausted/.test(e.message));
      const gone = await s.profiles.delete('t1@example.net', 'test');
      const again = await s.profiles.create(prof({ mnId: 't3@example.net', hnpPool: 'tiny' }), 'test');
      assert.deepEqual(again.hnps, gone.hnps);
    });

    it('IPv4 pools skip network, broadcast and gateway addresses', async () => {
      await createPool(t.db, poolInputSchema.parse({ name: 'v4', prefix: '10.9.0.0/30', ipv4Gateway: '10.9.0.1' }), 'test');
      const p = await s.profiles.create(prof({ mnId: 'v4a@example.net', ipv4Pool: 'v4' }), 'test');
      assert.equal(p.ipv4HoA, '10.9.0.2');
      assert.equal(p.ipv4PrefixLength, 30);
      assert.equal(p.ipv4DefaultRouter, '10.9.0.1');
      await assert.rejects(s.profiles.create(prof({ mnId: 'v4b@example.net', ipv4Pool: 'v4' }), 'test'), /exhausted/);
      await assert.rejects(s.profiles.create(prof({ mnId: 'v4c@example.net', ipv4HoA: '10.9.0.2' }), 'test'), (e: unknown) => e instanceof ConflictError && e.field === 'ipv4HoA');
    });

    it('LMAs, MAGs and AAA clients: CRUD, Proxy-CoA lookup, write-only secrets', async () => {
      await s.lmas.create(lmaInputSchema.parse({ name: 'lma1', ipv6Address: '2001:db8::1', group: 'g1' }), 'test');
      await assert.rejects(s.lmas.create(lmaInputSchema.parse({ name: 'lma2', ipv6Address: '2001:db8::1' }), 'test'), (e: unknown) => e instanceof ConflictError && e.field === 'ipv6Address');
      assert.equal((await s.lmas.list({ group: 'g1' })).total, 1);
      await s.mags.create(magInputSchema.parse({ id: 'mag1', proxyCoa: ['2001:db8:f::1', '192.0.2.77'] }), 'test');
      assert.equal((await s.mags.findByProxyCoa('192.0.2.77'))?.id, 'mag1');
      assert.equal(await s.mags.findByProxyCoa('192.0.2.78'), null);
      await assert.rejects(s.mags.create(magInputSchema.parse({ id: 'mag2', proxyCoa: ['2001:db8:f::1'] }), 'test'), (e: unknown) => e instanceof ConflictError && e.field === 'proxyCoa');
      const c = await s.aaaClients.create(aaaClientInputSchema.parse({ kind: 'radius', address: '127.0.0.1', secret: 'testing123' }), 'test');
      assert.equal((c as unknown as Record<string, unknown>).secret, undefined);
      assert.equal((await s.aaaClients.radiusClientByAddress('127.0.0.1'))?.secret, 'testing123');
      const log = await listAudit(t.db, { resource: 'aaa-client' });
      assert.ok(!JSON.stringify(log).includes('testing123'), 'secret never reaches the audit log');
      await s.aaaClients.create(aaaClientInputSchema.parse({ kind: 'diameter', identity: 'mag1.example.net', realm: 'example.net' }), 'test');
      assert.equal((await s.aaaClients.diameterPeer('mag1.example.net'))?.realm, 'example.net');
    });

    it('a profile is found by a link-layer identifier through the GIN index, not a scan of every profile', async () => {
      await s.profiles.create(prof({ mnId: 'llid@example.net', mnLinkLayerIds: ['02:00:5e:10:20:30'], hnps: ['2001:db8:77:1::/64'] }), 'test');
      assert.deepEqual(await s.profiles.mnIdsByLinkLayerId('02:00:5e:10:20:30'), ['llid@example.net']);
      assert.deepEqual(await s.profiles.mnIdsByLinkLayerId('02:00:5e:10:20:31'), []);
      // A handful of rows makes a scan cheapest; forbid it to see whether the index can answer.
      await t.db.transaction(async (tx) => {
        await tx.exec('SET LOCAL enable_seqscan = off');
        const plan = await tx.query<Record<string, string>>(`EXPLAIN SELECT mn_id FROM profiles WHERE mn_ll_ids @> ARRAY['02:00:5e:10:20:30']::text[]`);
        const text = plan.rows.map((r) => Object.values(r).join(' ')).join('\n');
        assert.match(text, /profiles_mn_ll_ids_gin/, text);
      });
      await s.profiles.delete('llid@example.net', 'test');
    });
    it('accounting records and persisted bindings round-trip', async () => {
      await s.accounting.record({ statusType: 'Start', sessionId: 's1', mnId: 'mn1@example.net', nasAddress: '192.0.2.1', nasIdentifier: 'mag1', clientAddress: '127.0.0.1', inputOctets: 2n ** 40n });
      const a = await s.accounting.list({ mnId: 'mn1@example.net' });
      assert.equal(a.total, 1);
      assert.equal(a.items[0].inputOctets, String(2n ** 40n));
      const now = Date.now();
      await s.bindings.upsert({ lmaId: 'lma1', sessionKey: 'k1', mnId: 'mn1@example.net', mnLlId: null, att: 4, proxyCoa: '2001:db8:f::1', hnps: ['2001:db8:1:1::/64'], ipv4HoA: null, lifetimeS: 60, registeredAt: new Date(now), expiresAt: new Date(now + 60000), state: { seq: 1 } });
      const live = await s.bindings.loadLive('lma1');
      assert.equal(live.length, 1);
      assert.deepEqual(live[0].hnps, ['2001:db8:1:1::/64']);
      assert.equal(live[0].proxyCoa, '2001:db8:f::1');
      await s.bindings.remove('lma1', 'k1');
      assert.equal((await s.bindings.loadLive('lma1')).length, 0);
    });

    it('group commit of bindings: upserts and deletions in one statement, and in chunks within one transaction', async () => {
      const now = Date.now();
      const row = (k: number, hnp = `2001:db8:${k.toString(16)}::/64`) => ({
        lmaId: 'lma2', sessionKey: String(k), mnId: `mn${k}@example.net`, mnLlId: k % 2 ? '02:00:00:00:00:01' : null, att: 4, proxyCoa: '192.0.2.7',
        hnps: [hnp], ipv4HoA: k === 1 ? '10.0.0.1' : null, lifetimeS: 60, registeredAt: new Date(now), expiresAt: new Date(now + 60000), state: { seq: k, lla: null },
      });
      await s.bindings.commit('lma2', [row(1), row(2), row(3)], []);
      await s.bindings.commit('lma2', [row(2, '2001:db8:ff::/64'), row(4)], ['1', '3']); // one statement with both
      const live = (await s.bindings.loadLive('lma2')).sort((a, b) => a.sessionKey.localeCompare(b.sessionKey));
      assert.deepEqual(live.map((r) => [r.sessionKey, r.hnps[0], r.state.seq]), [['2', '2001:db8:ff::/64', 2], ['4', '2001:db8:4::/64', 4]]);
      const many = Array.from({ length: 1200 }, (_, i) => row(100 + i));
      await s.bindings.commit('lma2', many, ['2', '4']);
      assert.equal((await s.bindings.loadLive('lma2')).length, 1200, 'several statements, one transaction');
      const ctl = new AbortController();
      ctl.abort();
      await assert.rejects(s.bindings.commit('lma2', many.map((r) => ({ ...r, lifetimeS: 1 })), ['100'], ctl.signal));
      assert.equal((await s.bindings.loadLive('lma2')).filter((r) => r.lifetimeS === 60).length, 1200, 'an abandoned batch is not committed');
    });

    it('rows of new sessions are inserted; one that exists after all turns the batch into an upsert', async () => {
      const now = Date.now();
      const row = (k: number, seq: number) => ({
        lmaId: 'lma3', sessionKey: String(k), mnId: `mn${k}@example.net`, mnLlId: null, att: 4, proxyCoa: '192.0.2.7',
        hnps: [`2001:db8:3:${k.toString(16)}::/64`], ipv4HoA: null, lifetimeS: 60, registeredAt: new Date(now), expiresAt: new Date(now + 60000), state: { seq },
      });
      await s.bindings.commit('lma3', [row(1, 1), row(2, 1)], [], undefined, 2);
      await s.bindings.commit('lma3', [row(3, 1)], ['2'], undefined, 1); // insert and delete in one statement
      // Row 1 exists (a batch that committed although its caller had given up on it): upserted, not refused.
      await s.bindings.commit('lma3', [row(1, 2), row(4, 1)], [], undefined, 2);
      // Identifiers come from the wire: quotes, backslashes, commas, braces and NULL-like words are data.
      const odd = ['mn"5\\,{x} NULL@example.net', 'NULL', ' lead and trail '];
      await s.bindings.commit('lma3', odd.map((id, i) => ({ ...row(5 + i, 1), mnId: id, mnLlId: i === 1 ? 'NULL' : null })), [], undefined, 3);
      const live = (await s.bindings.loadLive('lma3')).sort((a, b) => a.sessionKey.localeCompare(b.sessionKey));
      assert.deepEqual(live.map((r) => [r.sessionKey, r.state.seq]), [['1', 2], ['3', 1], ['4', 1], ['5', 1], ['6', 1], ['7', 1]]);
      assert.deepEqual(live.slice(3).map((r) => [r.mnId, r.mnLlId]), [[odd[0], null], [odd[1], 'NULL'], [odd[2], null]]);
    });
  });
}
