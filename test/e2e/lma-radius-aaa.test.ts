// RFC 6572 §6 end to end on loopback, every part real and in one process: the policy store
// (PGlite), our RADIUS server on it (StoreRadiusPolicy, the LMA's address as its AAA client), an
// LMA (pmip6's LMA role on UDP, RFC 5844 §4) with `radius.servers` set, so it authorises each MN
// over RADIUS (Service-Type Authorize-Only) instead of reading the store, and a MAG with a static
// policy that leaves prefix assignment to the LMA (ALL_ZERO HNP, RFC 5213 §6.9.1.1). The LMA
// delegates the assignment to the AAA server (PMIP6-Home-HN-Prefix ::/128), which draws the
// prefix from the profile's pool and records the LMA (RFC 6097); a disabled or unknown MN is
// refused with PBA 152 (RFC 5213 §5.3.1 step 8). MAG authorisation stays with the store.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualDetector } from '../../src/attach/manual.ts';
import { configSchema } from '../../src/config/index.ts';
import { startLmaRole, type LmaRole } from '../../src/main/lma-role.ts';
import { startMagRole, type MagRole } from '../../src/main/mag-role.ts';
import { StoreRadiusPolicy } from '../../src/main/radius-policy.ts';
import { templatePolicy, type MagEvent } from '../../src/mag/index.ts';
import { aaaClientInputSchema, magInputSchema, profileInputSchema } from '../../src/policy/validate.ts';
import { RadiusServer } from '../../src/radius/index.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { migrate } from '../../src/store/migrate.ts';
import { storeOn, type Store } from '../../src/store/index.ts';
import { until } from '../helpers/until.ts';

const SECRET = 'e2e-lma-aaa-secret';
const MN1 = 'mn1@example.net';
const MN2 = 'mn2@example.net';
const MN3 = 'mn3@example.net';

describe('RFC 6572 §6: the LMA authorises PBUs at our RADIUS server', () => {
  let store: Store;
  let radius: RadiusServer;
  let lma: LmaRole;
  let mag: MagRole;
  const detector = new ManualDetector();
  const events: MagEvent[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'pmip6-e2e-lma-aaa-'));
  const refusal = (mnId: string) => until(`the refusal of ${mnId}`, () => events.find((e) => e.type === 'failed' && e.mnId === mnId));

  before(async () => {
    const db = await openPglite();
    await migrate(db);
    store = storeOn(db);
    // The LMA's RADIUS client sends from 127.0.0.1; the MAG's Proxy-CoA is 127.0.0.2.
    await store.aaaClients.create(aaaClientInputSchema.parse({ kind: 'radius', name: 'lma1', address: '127.0.0.1', secret: SECRET, role: 'lma' }), 'test');
    await store.mags.create(magInputSchema.parse({ id: 'mag1', proxyCoa: ['127.0.0.2'], authorized: true }), 'test');
    await db.exec(`INSERT INTO pools (name, family, prefix, assign_length) VALUES ('p6', 6, '2001:db8:f000::/48', 64)`);
    // An MN whose prefix is still to be drawn from its pool, anchored at no LMA yet.
    await store.profiles.create(profileInputSchema.parse({ mnId: MN1, hnpPool: 'p6' }), 'test');
    await db.exec(`DELETE FROM hnp_assignments WHERE profile_id = (SELECT id FROM profiles WHERE mn_id = '${MN1}')`);
    await store.profiles.create(profileInputSchema.parse({ mnId: MN2, hnps: ['2001:db8:2:1::/64'] }), 'test');
    await store.profiles.create(profileInputSchema.parse({ mnId: MN3, hnps: ['2001:db8:3:1::/64'] }), 'test');

    radius = new RadiusServer({ policy: new StoreRadiusPolicy(store), hosts: ['127.0.0.1'], authPort: 0, acctPort: 0 });
    await radius.start();
    lma = await startLmaRole(configSchema.parse({
      security: { allowUnprotectedSignalling: true },
      dataDir,
      lma: { address: '127.0.0.1', udpPort: 0, heartbeatInterval: 0 },
      radius: { servers: [`127.0.0.1:${radius.ports.auth}/${radius.ports.acct}`], secret: SECRET, timeoutMs: 500, retries: 2 },
    }), store);
    mag = await startMagRole(configSchema.parse({ dataDir, security: { allowUnprotectedSignalling: true }, mag: { lmaAddress: '127.0.0.1', lmaPort: lma.port, heartbeatInterval: 0 } }), {
      id: 'mag1', proxyCoa: '127.0.0.2', port: 0, detector,
      policy: templatePolicy({ lma: '127.0.0.1', hnpPool: 'assigned-by-lma' }),
      events: { emit: (e) => void events.push(e) },
    });
  });

  after(async () => {
    await mag?.stop({ deregister: false });
    await lma?.stop();
    await radius?.stop();
    await store?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('RFC 6572 §6.1, §4.8: Authorize-Only, then ::/128 delegation → the server draws the HNP; PBA 0 with that HNP; the LMA is recorded (RFC 6097)', async () => {
    assert.ok(detector.attach({ mnId: MN1, link: 'ap0', accessTechType: 4 }));
    const bule = await until('the registration', () => (mag.mag.view.get(MN1)?.state === 'registered' ? mag.mag.view.get(MN1) : null));
    assert.equal(bule.lastStatus, 0);
    const stored = (await store.profiles.find(MN1))!;
    assert.equal(stored.hnps.length, 1, 'the server assigned a prefix from the pool');
    assert.match(stored.hnps[0], /^2001:db8:f000:[0-9a-f]*::\/64$/);
    assert.deepEqual(bule.hnps, stored.hnps, 'the MAG got the delegated HNP in the PBA');
    const b = lma.lma.bindings.list({}).items.find((x) => x.mnId === MN1)!;
    assert.deepEqual(b.hnps, stored.hnps);
    assert.equal(stored.lma, '127.0.0.1', 'the LMA address the request carried');
    assert.equal(radius.stat('request:lma_authorize'), 2, 'authorisation, then delegation');
    assert.equal(radius.stat('sent:access_accept'), 2);
  });

  it('RFC 6572 §6.1: an MN with a prefix of its own is authorised in one request and gets that prefix', async () => {
    const before = radius.stat('request:lma_authorize');
    assert.ok(detector.attach({ mnId: MN3, link: 'ap1', accessTechType: 4 }));
    const bule = await until('the registration', () => (mag.mag.view.get(MN3)?.state === 'registered' ? mag.mag.view.get(MN3) : null));
    assert.equal(bule.lastStatus, 0);
    assert.deepEqual(bule.hnps, ['2001:db8:3:1::/64']);
    assert.equal(radius.stat('request:lma_authorize'), before + 1);
  });

  it('RFC 5213 §5.3.1 step 8: a disabled profile → Access-Reject → PBA 152 (PROXY_REG_NOT_ENABLED)', async () => {
    await store.profiles.update(MN2, { enabled: false }, 'test');
    const rejects = radius.stat('sent:access_reject');
    assert.ok(detector.attach({ mnId: MN2, link: 'ap2', accessTechType: 4 }));
    const failed = await refusal(MN2);
    assert.equal(failed.type === 'failed' && failed.status, 152);
    assert.equal(radius.stat('sent:access_reject'), rejects + 1);
    assert.equal(lma.lma.bindings.list({}).items.find((x) => x.mnId === MN2), undefined);
  });

  it('an MN the AAA server does not know: Access-Reject → PBA 152 as well (the Reject carries no machine-readable cause)', async () => {
    assert.ok(detector.attach({ mnId: 'nobody@example.net', link: 'ap3', accessTechType: 4 }));
    const failed = await refusal('nobody@example.net');
    assert.equal(failed.type === 'failed' && failed.status, 152);
  });
});
