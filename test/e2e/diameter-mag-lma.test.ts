// RFC 5779 end to end on loopback, every part real and in one process: the policy store (PGlite,
// migrations 001-007), our Diameter server on it (pmip6's Diameter role: StoreDiameterPolicy and
// the profile-change pushes), an LMA (pmip6's LMA role) that authorises PBUs over Diameter
// (RFC 5779 §4.2) and a MAG (pmip6's MAG role) that learns profiles over Diameter (§4.1), each
// provisioned as an aaa-client of kind diameter. An MN attaches: AAR/AAA to the MAG, PBU to the
// LMA the profile names, AAR/AAA from the LMA, PBA 0. Operator changes then reach the MAG as RAR
// (re-authorisation and re-registration in the same session) and ASR (de-registration, then STR).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualDetector } from '../../src/attach/manual.ts';
import { configSchema, type Config } from '../../src/config/index.ts';
import { startDiameterRole, type DiameterRole } from '../../src/main/diameter-role.ts';
import { startLmaRole, type LmaRole } from '../../src/main/lma-role.ts';
import { startMagRole, type MagRole } from '../../src/main/mag-role.ts';
import type { MagEvent } from '../../src/mag/index.ts';
import { aaaClientInputSchema, profileInputSchema } from '../../src/policy/validate.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { migrate } from '../../src/store/migrate.ts';
import { storeOn, type Store } from '../../src/store/index.ts';

const MN = 'mn1@example.net';
const HNP = '2001:db8:1:1::/64';
const REALM = 'example.net';

async function until<T>(what: string, f: () => T | Promise<T>, ms = 10_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('RFC 5779: a MAG learns the MN profile over Diameter, the LMA authorises the PBU over Diameter', () => {
  let store: Store;
  let aaa: DiameterRole;
  let lma: LmaRole;
  let mag: MagRole;
  const detector = new ManualDetector();
  const events: MagEvent[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'pmip6-e2e-diameter-'));
  const lmaBinding = () => lma.lma.bindings.list({}).items.find((b) => b.mnId === MN);

  before(async () => {
    const db = await openPglite();
    await migrate(db);
    store = storeOn(db);
    for (const [identity, role] of [['mag1.example.net', 'mag'], ['lma1.example.net', 'lma']]) {
      await store.aaaClients.create(aaaClientInputSchema.parse({ kind: 'diameter', identity, realm: REALM, allowedAddresses: ['127.0.0.1'], role }), 'test');
    }
    await store.profiles.create(profileInputSchema.parse({ mnId: MN, hnps: [HNP], lma: '127.0.0.1', serviceSelection: 'internet' }), 'test');

    const base = { dataDir, diameter: { identity: 'aaa.example.net', realm: REALM, bind: ['127.0.0.1'], port: 0, enabled: true } };
    aaa = await startDiameterRole(configSchema.parse(base), store);
    const peers = [`aaa://127.0.0.1:${aaa.server.ports.tcp}`];

    const lmaConfig: Config = configSchema.parse({
      dataDir,
      aaa: { protocol: 'diameter' },
      security: { allowUnprotectedSignalling: true },
      diameter: { identity: 'lma1.example.net', realm: REALM, peers },
      lma: { address: '127.0.0.1', udpPort: 0, authorizeAnyMag: true, heartbeatInterval: 0, minDelayBeforeBCEDelete: 200 },
    });
    lma = await startLmaRole(lmaConfig, store);

    const magConfig: Config = configSchema.parse({
      dataDir,
      aaa: { protocol: 'diameter' },
      security: { allowUnprotectedSignalling: true },
      diameter: { identity: 'mag1.example.net', realm: REALM, peers },
      mag: { lmaAddress: '192.0.2.99', lmaPort: lma.port, heartbeatInterval: 0 },
    });
    mag = await startMagRole(magConfig, { id: 'mag1', proxyCoa: '127.0.0.2', port: 0, detector, events: { emit: (e) => void events.push(e) } });
    await mag.diameter!.client.ready();
  });

  after(async () => {
    await mag?.stop({ deregister: false });
    await lma?.stop();
    await aaa?.stop();
    await store?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('RFC 5779 §4.1, §4.2, RFC 5213 §6.9.1.1: attach → AAR/AAA at the MAG → PBU to the profile\'s LMA → AAR/AAA at the LMA → PBA 0', async () => {
    assert.ok(mag.diameter, 'aaa.protocol=diameter with diameter.peers: the MAG uses Diameter');
    assert.equal(mag.aaa, undefined);
    assert.ok(detector.attach({ mnId: MN, link: 'ap0', accessTechType: 4, mnLinkLayerId: '02:00:00:00:00:01' }));
    const bule = await until('the MAG binding', () => {
      const b = mag.mag.view.get(MN);
      return b?.state === 'registered' ? b : null;
    });
    assert.equal(aaa.server.stat('answer:mag_aar:2001'), 1, 'one AA exchange for the MAG');
    assert.ok(aaa.server.stat('answer:lma_aar:2001') >= 1, 'the LMA asked the HAAA (RFC 5779 §4.2.1: at least for the initial PBU)');
    assert.deepEqual(mag.diameter!.policy.stats, { accept: 1, reject: 0, error: 0 });
    assert.equal(bule.lma, '127.0.0.1', 'the LMA from MIP6-Agent-Info, not mag.lmaAddress');
    assert.deepEqual(bule.hnps, [HNP]);
    assert.equal(bule.lastStatus, 0);
    const b = await until('the LMA binding', lmaBinding);
    assert.deepEqual(b.hnps, [HNP]);
    assert.equal(b.proxyCoa, '127.0.0.2');
    assert.deepEqual(aaa.server.connectedPeers().sort(), ['lma1.example.net', 'mag1.example.net']);
    assert.equal(aaa.server.sessions.size, 1, 'the MAG\'s session is kept (STATE_MAINTAINED); the LMA\'s is not');
  });

  it('RFC 6733 §8.3, RFC 7155 §3.3-3.4: a profile change is pushed as RAR; the MAG answers RAA, asks again (AAR) and re-registers the same binding', async () => {
    const pbus = mag.mag.counters.sent.pbu;
    const registeredAt = lmaBinding()!.registeredAt;
    const sid = mag.diameter!.client.sessionId(MN);
    await store.profiles.update(MN, { dhcpv6Server: '2001:db8::53', serviceSelection: 'internet' }, 'test');
    aaa.profileChanged(MN, false); // the API's profile-change hook
    await until('the RAA', () => aaa.server.stat('push:rar:ack') === 1);
    await until('the re-registration PBA', () => events.some((e) => e.type === 'refreshed'));
    assert.equal(aaa.server.stat('answer:mag_aar:2001'), 2, 'the MAG asked again');
    assert.equal(mag.diameter!.client.sessionId(MN), sid, 'in the same Session-Id');
    assert.equal(mag.mag.counters.sent.pbu, pbus + 1);
    assert.equal(lmaBinding()!.registeredAt, registeredAt, 'the same binding cache entry');
  });

  it('RFC 6733 §8.5, RFC 5779 §6.3: disabling the profile is pushed as ASR; the MAG de-registers the MN and ends the session with STR', async () => {
    await store.profiles.update(MN, { enabled: false }, 'test');
    aaa.profileChanged(MN, true);
    await until('the ASA', () => aaa.server.stat('push:asr:ack') === 1);
    await until('the MAG binding removed', () => mag.mag.view.get(MN) === undefined);
    assert.ok(events.some((e) => e.type === 'deregistered' && e.mnId === MN && e.acked));
    await until('the LMA binding removed', () => lmaBinding() === undefined);
    await until('STR answered', () => aaa.server.stat('answer:str:2001') + aaa.server.stat('answer:str:5002') === 1);
    assert.equal(aaa.server.sessions.size, 0);
  });

  it('RFC 5779 §4.1: a disabled MN attaching again is refused (5003) and not registered', async () => {
    assert.ok(detector.attach({ mnId: MN, link: 'ap0', accessTechType: 4 }));
    await until('the refusal', () => events.some((e) => e.type === 'failed' && e.mnId === MN && e.reason === 'not-eligible'));
    assert.equal(aaa.server.stat('answer:mag_aar:5003'), 1);
    assert.equal(mag.diameter!.policy.stats.reject, 1);
    assert.equal(mag.mag.view.get(MN), undefined);
  });
});
