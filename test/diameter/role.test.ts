// The Diameter settings do what they say (README "Configuration"): set from the environment
// (PMIP6_DIAMETER_*, PMIP6_AAA_PROTOCOL), the server role listens on TCP and, with certificate
// files, on TLS (RFC 6733 §2.1); a client built from the same kind of settings reaches it over
// aaas:// with its own certificate; bad combinations are refused with the key's name.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { startDiameterRole, type DiameterRole } from '../../src/main/diameter-role.ts';
import { diameterClientFor } from '../../src/main/diameter-mag.ts';
import { storeOn, type Store } from '../../src/store/index.ts';
import { aaaClientInputSchema, profileInputSchema } from '../../src/policy/validate.ts';
import { openTestDb, type TestDb } from '../helpers/db.ts';
import { makeCerts, type Certs } from './helpers.ts';

describe('diameter.* and aaa.protocol settings', () => {
  let t: TestDb;
  let store: Store;
  let certs: Certs;
  let role: DiameterRole;

  before(async () => {
    t = await openTestDb('postgres');
    store = storeOn(t.db);
    certs = makeCerts('aaa.example.net', ['mag1.example.net']);
    // Over TLS only the certificate may claim this identity: no address is allowed.
    await store.aaaClients.create(aaaClientInputSchema.parse({ kind: 'diameter', identity: 'mag1.example.net', realm: 'example.net' }), 'test');
    await store.profiles.create(profileInputSchema.parse({ mnId: 'mn1@example.net', hnps: ['2001:db8:1::/64'], lma: '2001:db8::1' }), 'test');
    const config = loadConfig({
      env: {
        PMIP6_DIAMETER_ENABLED: 'true', PMIP6_DIAMETER_BIND: '127.0.0.1', PMIP6_DIAMETER_PORT: '0', PMIP6_DIAMETER_TLS_PORT: '0',
        PMIP6_DIAMETER_IDENTITY: 'aaa.example.net', PMIP6_DIAMETER_REALM: 'example.net', PMIP6_DIAMETER_WATCHDOG_MS: '6000',
        PMIP6_DIAMETER_TLS_CERT: certs.serverCert, PMIP6_DIAMETER_TLS_KEY: certs.serverKey, PMIP6_DIAMETER_TLS_CA: certs.ca,
        PMIP6_DIAMETER_MAX_SESSIONS: '10',
      },
    });
    assert.equal(config.diameter.watchdogMs, 6000);
    role = await startDiameterRole(config, store);
  });

  after(async () => {
    await role?.stop();
    await t?.drop();
    certs?.cleanup();
  });

  it('the server listens on TCP and TLS; a client configured from the environment connects with aaas:// and its certificate', async () => {
    assert.ok(role.server.ports.tcp > 0);
    assert.ok(role.server.ports.tls > 0);
    const c = loadConfig({
      env: {
        PMIP6_AAA_PROTOCOL: 'diameter', PMIP6_DIAMETER_IDENTITY: 'mag1.example.net', PMIP6_DIAMETER_REALM: 'example.net',
        PMIP6_DIAMETER_PEERS: `aaas://127.0.0.1:${role.server.ports.tls}`, PMIP6_DIAMETER_REQUEST_TIMEOUT_MS: '2000',
        PMIP6_DIAMETER_TLS_CERT: certs.clients['mag1.example.net'].cert, PMIP6_DIAMETER_TLS_KEY: certs.clients['mag1.example.net'].key, PMIP6_DIAMETER_TLS_CA: certs.ca,
      },
    });
    assert.equal(c.aaa.protocol, 'diameter');
    assert.deepEqual(c.diameter.peers, [`aaas://127.0.0.1:${role.server.ports.tls}`]);
    const shared = diameterClientFor(c, { nasIdentifier: 'mag1' });
    try {
      await shared.client.ready();
      const r = await shared.client.authorize({ userName: 'mn1@example.net' });
      assert.ok(r.status === 'accept' && r.profile.homeLmaIpv6 === '2001:db8::1');
      assert.deepEqual(role.server.connectedPeers(), ['mag1.example.net']);
    } finally {
      await shared.release();
    }
  });

  it('refused: a watchdog below RFC 3539\'s 6 s, a protocol other than radius/diameter, a certificate without its CA', async () => {
    assert.throws(() => loadConfig({ env: { PMIP6_DIAMETER_WATCHDOG_MS: '5000' } }), /diameter\.watchdogMs/);
    assert.throws(() => loadConfig({ env: { PMIP6_AAA_PROTOCOL: 'tacacs' } }), /aaa\.protocol/);
    const c = loadConfig({ env: { PMIP6_DIAMETER_TLS_CERT: certs.serverCert, PMIP6_DIAMETER_TLS_KEY: certs.serverKey, PMIP6_DIAMETER_PORT: '0' } });
    await assert.rejects(startDiameterRole(c, store), /diameter\.tlsCa/);
    assert.throws(() => diameterClientFor(loadConfig({ env: { PMIP6_DIAMETER_PEERS: 'http://x' } }), {}), /diameter\.peers/);
    const missing = loadConfig({ env: { PMIP6_DIAMETER_TLS_CERT: '/nonexistent/cert.pem', PMIP6_DIAMETER_TLS_KEY: certs.serverKey, PMIP6_DIAMETER_TLS_CA: certs.ca, PMIP6_DIAMETER_PORT: '0' } });
    await assert.rejects(startDiameterRole(missing, store), /cannot read \/nonexistent\/cert\.pem .*diameter\.tlsCert \(PMIP6_DIAMETER_TLS_CERT\)/);
    // A port in use names the setting to change (src/main/errors.ts).
    const busy = loadConfig({ env: { PMIP6_DIAMETER_BIND: '127.0.0.1', PMIP6_DIAMETER_PORT: String(role.server.ports.tcp) } });
    await assert.rejects(startDiameterRole(busy, store), /Diameter server: TCP port \d+ on 127\.0\.0\.1 is in use .*diameter\.port \(PMIP6_DIAMETER_PORT\)/);
  });
});
