// StoreRadiusPolicy (src/main/radius-policy.ts) on PGlite and PostgreSQL: batched profile
// reads give exactly what ProfileRepo.find gives (RFC 6572 §5.1 profile download), unknown MNs
// are null; with the profile directory, answers come from memory, follow changes made
// elsewhere, and the LMA authorisation updates (RFC 6572 §6.1) of this policy are seen at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StoreRadiusPolicy } from '../../src/main/radius-policy.ts';
import { ProfileDirectory } from '../../src/store/profile-directory.ts';
import { storeOn, type Store } from '../../src/store/index.ts';
import { profileInputSchema } from '../../src/policy/validate.ts';
import { FeatureVector } from '../../src/policy/profile.ts';
import type { RadiusClient } from '../../src/radius/index.ts';
import { DB_KINDS, openTestDb, type TestDb } from '../helpers/db.ts';
import { until } from '../helpers/until.ts';

const prof = (o: Record<string, unknown>) => profileInputSchema.parse(o);
const CLIENT: RadiusClient = { address: '127.0.0.1', secret: 's', requireMessageAuthenticator: true, name: 'lma1' };

for (const kind of DB_KINDS) {
  describe(`StoreRadiusPolicy on ${kind}`, () => {
    let t: TestDb;
    let store: Store;

    before(async () => {
      t = await openTestDb(kind);
      store = storeOn(t.db);
      for (let i = 0; i < 40; i++) {
        await store.profiles.create(prof({
          mnId: `mn${i}@example.net`, hnps: [`2001:db8:${i}::/64`, `2001:db8:${i}:1::/64`], lma: '2001:db8::1',
          ipv4HoA: `10.0.0.${i + 1}`, ipv4PrefixLength: 24, serviceSelection: 'internet',
          mip6FeatureVector: String(FeatureVector.PMIP6_SUPPORTED | (1n << 63n)),
        }), 'test');
      }
      await store.profiles.create(prof({ mnId: 'mn-off@example.net', hnps: ['2001:db8:ff::/64'], enabled: false }), 'test');
      await store.profiles.create(prof({
        mnId: 'mn-full@example.net', mnLinkLayerIds: ['02:00:00:00:00:01', '02:00:00:00:00:02'], hnps: ['2001:db8:fe::/64'], lma: '192.0.2.9',
        lmaGroup: 'g1', ipv4HoA: '10.9.9.9', ipv4PrefixLength: 16, ipv4DefaultRouter: '10.9.0.1', greKeyPolicy: 'required',
        dhcpv4Server: '10.9.0.2', dhcpv6Server: '2001:db8::53', interfaceId: '0200:5eff:fe00:5213', serviceSelection: 'ims',
      }), 'test');
      await t.db.exec(`INSERT INTO pools (name, family, prefix, assign_length) VALUES ('p6', 6, '2001:db8:f000::/48', 64)`);
      await store.profiles.create(prof({ mnId: 'mn-pool@example.net', hnpPool: 'p6', hnpCount: 1 }), 'test');
      await t.db.exec(`DELETE FROM hnp_assignments WHERE profile_id = (SELECT id FROM profiles WHERE mn_id = 'mn-pool@example.net')`);
    });
    after(async () => {
      await t.drop();
    });

    it('by link-layer address (Calling-Station-Id of a MAG that knows the MN only by its MAC): the one profile listing it, else null', async () => {
      const policy = new StoreRadiusPolicy(store, {});
      assert.equal((await policy.findProfileByLinkLayerId('02:00:00:00:00:02'))?.mnId, 'mn-full@example.net');
      assert.equal(await policy.findProfileByLinkLayerId('02:00:00:00:00:09'), null);
      await store.profiles.create(prof({ mnId: 'mn-twin@example.net', mnLinkLayerIds: ['02:00:00:00:00:02'], hnps: ['2001:db8:fd::/64'] }), 'test');
      assert.equal(await policy.findProfileByLinkLayerId('02:00:00:00:00:02'), null, 'two profiles list it: ambiguous');
      await store.profiles.delete('mn-twin@example.net', 'test');
    });

    it('RFC 6572 §5.1: batched reads of many MNs at once equal ProfileRepo.find, unknown MNs are null', async () => {
      const policy = new StoreRadiusPolicy(store, { batchSize: 7, maxBatchesInFlight: 2 });
      const ids = [...Array.from({ length: 40 }, (_, i) => `mn${i}@example.net`), 'mn-off@example.net', 'nobody@example.net', 'mn3@example.net', 'mn-full@example.net', 'mn-pool@example.net'];
      const got = await Promise.all(ids.map((id) => policy.findProfile(id)));
      for (let i = 0; i < ids.length; i++) {
        assert.deepEqual(got[i], await store.profiles.find(ids[i]), ids[i]);
      }
      assert.equal(got[41], null);
      assert.equal(got[40]!.enabled, false);
      assert.deepEqual(got[5]!.hnps, ['2001:db8:5::/64', '2001:db8:5:1::/64']);
      assert.equal(got[5]!.mip6FeatureVector, FeatureVector.PMIP6_SUPPORTED | (1n << 63n), 'int8 read back as the unsigned 64-bit vector');
    });

    it('default: no cache, a change is seen by the next request', async () => {
      const policy = new StoreRadiusPolicy(store);
      assert.equal((await policy.findProfile('mn1@example.net'))!.serviceSelection, 'internet');
      await store.profiles.update('mn1@example.net', { serviceSelection: 'ims' }, 'test');
      assert.equal((await policy.findProfile('mn1@example.net'))!.serviceSelection, 'ims');
    });

    it('with the profile directory: answers from memory, a change made elsewhere is seen once notified', async () => {
      const directory = new ProfileDirectory(store, { mode: 'lazy', listenUrl: t.url });
      await directory.start();
      try {
        const policy = new StoreRadiusPolicy(store, { directory });
        const a = await policy.findProfile('mn2@example.net');
        const hits = directory.stats.hits;
        assert.deepEqual(await policy.findProfile('mn2@example.net'), a, 'the same profile');
        assert.equal(directory.stats.hits, hits + 1, 'from memory');
        const seen = directory.stats.notifications;
        await store.db.exec(`UPDATE profiles SET service_selection = 'video' WHERE mn_id = 'mn2@example.net'`);
        await until('the notification', () => directory.stats.notifications > seen);
        assert.equal((await policy.findProfile('mn2@example.net'))!.serviceSelection, 'video');
        assert.equal(await policy.findProfile('mn-new@example.net'), null);
        await store.profiles.create(prof({ mnId: 'mn-new@example.net', hnps: ['2001:db8:77::/64'] }), 'test');
        await until('the insert notification', () => directory.peek('mn-new@example.net') === undefined);
        assert.ok(await policy.findProfile('mn-new@example.net'), 'a newly provisioned MN is found');
      } finally {
        await directory.close();
      }
    });

    it('RFC 6572 §6.1: an LMA authorisation that assigns a prefix drops the MN from the directory at once', async () => {
      const directory = new ProfileDirectory(store, { mode: 'lazy', listenUrl: t.url });
      await directory.start();
      try {
        const policy = new StoreRadiusPolicy(store, { directory });
        assert.deepEqual((await policy.findProfile('mn-pool@example.net'))!.hnps, []);
        const r = await policy.authorizeLma({ mnId: 'mn-pool@example.net', userName: null, lmaAddress: '2001:db8::9', hnps: 'delegate', ipv4HoA: null, serviceSelection: null, callingStationId: null, nasIdentifier: 'lma1', client: CLIENT });
        assert.ok(r.ok);
        assert.equal(r.profile.hnps.length, 1);
        // No wait for the notification: the policy dropped the MN itself.
        const p = (await policy.findProfile('mn-pool@example.net'))!;
        assert.deepEqual(p.hnps, r.profile.hnps);
        assert.equal(p.lma, '2001:db8::9');
      } finally {
        await directory.close();
      }
    });

    it('a failing store rejects every waiter of the batch (the server drops, the NAS retransmits)', async () => {
      const failing = storeOn({ ...t.db, query: () => Promise.reject(new Error('db down')) });
      const policy = new StoreRadiusPolicy(failing);
      const rs = await Promise.allSettled([policy.findProfile('mn1@example.net'), policy.findProfile('mn2@example.net')]);
      assert.deepEqual(rs.map((r) => r.status), ['rejected', 'rejected']);
    });
  });
}
