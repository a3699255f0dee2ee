// The Diameter server on the policy store (StoreDiameterPolicy) on PostgreSQL (PGlite runs the
// same in test/e2e/diameter-mag-lma.test.ts): peers
// provisioned as aaa-clients of kind diameter (migration 007: allowed addresses, TLS
// fingerprint), refused identities answered from memory (no query per CER), profiles from the
// profile directory (no query per AAR once it holds the MN), LMA authorisation in the store.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DiameterServer } from '../../src/diameter/index.ts';
import { Avp, Result } from '../../src/diameter/constants.ts';
import { findAvp, decodeGrouped } from '../../src/diameter/codec.ts';
import { decHomeLinkPrefix, encAddress, encHomeLinkPrefix } from '../../src/diameter/values.ts';
import { StoreDiameterPolicy } from '../../src/main/diameter-policy.ts';
import { storeOn, type Store } from '../../src/store/index.ts';
import { openProfileDirectory, type ProfileDirectory } from '../../src/store/profile-directory.ts';
import { aaaClientInputSchema, profileInputSchema } from '../../src/policy/validate.ts';
import { openTestDb, type TestDb } from '../helpers/db.ts';
import { RawPeer, REALM, SERVER_ID, aar, resultCode } from './helpers.ts';

for (const kind of ['postgres'] as const) {
  describe(`Diameter server on the policy store (${kind})`, () => {
    let t: TestDb;
    let store: Store;
    let directory: ProfileDirectory;
    let policy: StoreDiameterPolicy;
    let server: DiameterServer;
    let queries = 0;

    before(async () => {
      t = await openTestDb(kind);
      store = storeOn(t.db);
      const q = t.db.query.bind(t.db);
      t.db.query = ((...args: Parameters<typeof q>) => {
        queries++;
        return q(...args);
      }) as typeof t.db.query;
      await store.aaaClients.create(aaaClientInputSchema.parse({ kind: 'diameter', name: 'mag one', identity: 'mag1.example.net', realm: REALM, allowedAddresses: ['127.0.0.1'] }), 'test');
      await store.aaaClients.create(aaaClientInputSchema.parse({ kind: 'diameter', identity: 'lma1.example.net', realm: REALM, allowedAddresses: ['127.0.0.0/8'], role: 'lma', lmaAddresses: ['2001:db8::1'] }), 'test');
      await store.aaaClients.create(aaaClientInputSchema.parse({ kind: 'diameter', identity: 'tls-only.example.net', realm: REALM, tlsFingerprint: 'AB:'.repeat(31) + 'AB' }), 'test');
      await t.db.exec(`INSERT INTO pools (name, family, prefix, assign_length) VALUES ('p6', 6, '2001:db8:70::/48', 64)`);
      await store.profiles.create(profileInputSchema.parse({ mnId: 'mn1@example.net', hnps: ['2001:db8:1:1::/64'], lma: '2001:db8::1' }), 'test');
      await store.profiles.create(profileInputSchema.parse({ mnId: 'pooled@example.net', hnpPool: 'p6' }), 'test');
      directory = await openProfileDirectory(store, { mode: 'lazy', listenUrl: t.url });
      policy = new StoreDiameterPolicy(store, { directory });
      server = new DiameterServer({ policy, identity: SERVER_ID, realm: REALM, hosts: ['127.0.0.1'], port: 0 });
      await server.start();
    });

    after(async () => {
      await server?.stop();
      await directory?.close();
      await t?.drop();
    });

    it('migration 007: a diameter aaa-client keeps its allowed addresses (canonical prefixes) and fingerprint', async () => {
      const all = await store.aaaClients.diameterPeers();
      assert.deepEqual(all.map((c) => [c.identity, c.allowedAddresses, c.tlsFingerprint]), [
        ['mag1.example.net', ['127.0.0.1/32'], null],
        ['lma1.example.net', ['127.0.0.0/8'], null],
        ['tls-only.example.net', [], 'ab'.repeat(32)],
      ]);
      await assert.rejects(t.db.query(`INSERT INTO aaa_clients (kind, address, secret, allowed_addresses) VALUES ('radius', '192.0.2.9', 'x', '{10.0.0.0/8}')`));
    });

    it('RFC 6733 §5.3: the provisioned peer is admitted; unknown identities are refused from memory, not with a query each', async () => {
      const p = await RawPeer.connect(server.ports.tcp);
      assert.equal(await p.exchangeCapabilities('mag1.example.net'), Result.Success);
      const before = queries;
      for (let i = 0; i < 20; i++) {
        const x = await RawPeer.connect(server.ports.tcp);
        assert.equal(await x.exchangeCapabilities(`stranger${i}.example.net`), Result.UnknownPeer);
        x.close();
      }
      assert.equal(queries - before, 0, 'the peer list is read at most once per 5 s');
      assert.equal(server.stat('problem:unknown_peer'), 20);
      // A TLS-only peer may not come over plain TCP.
      const tls = await RawPeer.connect(server.ports.tcp);
      assert.equal(await tls.exchangeCapabilities('tls-only.example.net'), Result.UnknownPeer);
      tls.close();

      // The profile directory answers the second AAR for an MN without the database.
      const ask = async (n: number) => resultCode(await p.request(aar({ hopByHop: p.nextHbh(), sessionId: `mag1.example.net;1;${n}`, originHost: 'mag1.example.net', userName: 'mn1@example.net' })));
      assert.equal(await ask(1), Result.Success);
      const q0 = queries;
      assert.equal(await ask(2), Result.Success);
      assert.equal(queries, q0, 'no query for a profile in memory');
      p.close();
    });

    it('RFC 5779 §4.2.3: an LMA delegating the HNP gets one assigned from the profile\'s pool, recorded with an audit entry', async () => {
      const l = await RawPeer.connect(server.ports.tcp);
      assert.equal(await l.exchangeCapabilities('lma1.example.net'), Result.Success);
      const a = await l.request(aar({
        hopByHop: l.nextHbh(), sessionId: 'lma1.example.net;1;1', originHost: 'lma1.example.net', userName: 'pooled@example.net',
        fill: (w) => w.group(Avp.Mip6AgentInfo, (g) => g.octets(Avp.MipHomeAgentAddress, encAddress('2001:db8::1')!).octets(Avp.Mip6HomeLinkPrefix, encHomeLinkPrefix('::/0')!)),
      }));
      assert.equal(resultCode(a), Result.Success);
      const inner = decodeGrouped(findAvp(a.avps, Avp.Mip6AgentInfo)!.data);
      assert.ok(inner.ok);
      assert.equal(decHomeLinkPrefix(findAvp(inner.value, Avp.Mip6HomeLinkPrefix)!.data)!.prefix, '2001:db8:70::/64');
      const p = await store.profiles.get('pooled@example.net');
      assert.deepEqual(p.hnps, ['2001:db8:70::/64']);
      assert.equal(p.lma, '2001:db8::1');
      const audit = await t.db.query<{ actor: string }>(`SELECT actor FROM audit_log WHERE resource_id = 'pooled@example.net' AND action = 'update'`);
      assert.deepEqual(audit.rows.map((r) => r.actor), ['diameter:lma1.example.net']);
      l.close();
    });
  });
}
