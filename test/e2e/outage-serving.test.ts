// Serving through a database outage: `pmip6 start`'s roles (RADIUS, LMA, API) in this process
// reach PostgreSQL through a TCP relay that the test cuts and restores (test/helpers/tcp-proxy.ts).
// While it is cut: RADIUS accepts an MN it answered before (held profile, held AAA client) and
// gives no answer for an MN it never saw; the LMA accepts a new registration of a held profile
// from a provisioned MAG (held authorisation), journalling the binding locally before the PBA;
// /readyz says "degraded" with the cause. After the relay is back, the store holds every
// acknowledged binding and /readyz is ready again.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.ts';
import { startSuite, type RunningSuite } from '../../src/main/suite.ts';
import { startMagRole, type MagRole } from '../../src/main/mag-role.ts';
import { ManualDetector } from '../../src/attach/manual.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { loadSecretBox } from '../../src/store/secret-box.ts';
import { randomBytes } from 'node:crypto';
import { aaaClientInputSchema, magInputSchema, profileInputSchema } from '../../src/policy/validate.ts';
import { AttrWriter } from '../../src/radius/attrs.ts';
import { decodePacket, encodeRequest } from '../../src/radius/codec.ts';
import { Attr, Code } from '../../src/radius/constants.ts';
import { registry } from '../../src/metrics/registry.ts';
import type { MagEvent } from '../../src/mag/index.ts';
import { createPgDatabase } from '../helpers/db.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { exchange } from '../radius/helpers.ts';
import { until } from '../helpers/until.ts';

const SECRET = 'outage-secret';
/** The key sealing AAA secrets at rest (issue 9): the same for the provisioning store and the suite. */
const SEALING_KEY = randomBytes(32).toString('hex');
const MAG = '127.0.0.7';
const LMA_ID = 'outage-lma';
const PREFIX = { a: '2001:db8:a0::/64', b: '2001:db8:b0::/64', c: '2001:db8:c0::/64' };

describe('serving through a database outage (PostgreSQL behind a TCP relay)', () => {
  let db: Awaited<ReturnType<typeof createPgDatabase>>;
  let relay: TcpProxy;
  let direct: Store;
  let suite: RunningSuite;
  let mag: MagRole;
  const detector = new ManualDetector();
  const registered = new Map<string, string[]>();
  let dataDir: string;

  before(async () => {
    db = await createPgDatabase();
    direct = await openStore({ databaseUrl: db.url, secrets: loadSecretBox({ key: SEALING_KEY, file: '', previous: [] }).box });
    for (const [k, p] of Object.entries(PREFIX)) await direct.profiles.create(profileInputSchema.parse({ mnId: `${k}@outage.example`, hnps: [p] }), 'test');
    await direct.aaaClients.create(aaaClientInputSchema.parse({ kind: 'radius', address: '127.0.0.1', secret: SECRET }), 'test');
    await direct.mags.create(magInputSchema.parse({ id: 'outage-mag', proxyCoa: [MAG], authorized: true }), 'test');
    relay = new TcpProxy('127.0.0.1', 5432);
    await relay.up();
    const viaRelay = new URL(db.url);
    viaRelay.host = `127.0.0.1:${relay.port}`;
    dataDir = mkdtempSync(join(tmpdir(), 'pmip6-outage-'));
    suite = await startSuite(loadConfig({
      env: {
        PMIP6_DATA_DIR: dataDir, PMIP6_DATABASE_URL: viaRelay.toString(), PMIP6_SNMP_ENABLED: 'false',
        PMIP6_STORE_PROFILE_CACHE_MAX_STALE_MS: '1500',
        PMIP6_RADIUS_BIND: '127.0.0.1', PMIP6_RADIUS_AUTH_PORT: '0', PMIP6_RADIUS_ACCT_PORT: '0',
        PMIP6_LMA_ID: LMA_ID, PMIP6_LMA_ADDRESS: '127.0.0.1', PMIP6_LMA_UDP_PORT: '0',
        PMIP6_API_HOST: '127.0.0.1', PMIP6_API_PORT: '0', PMIP6_API_TOKEN: 'outage-token',
        PMIP6_SECURITY_ALLOW_UNPROTECTED_SIGNALLING: 'true', PMIP6_SECURITY_SECRET_KEY: SEALING_KEY,
      },
    }));
    const magConfig = loadConfig({ env: { PMIP6_DATA_DIR: join(dataDir, 'mag'), PMIP6_MAG_LMA_ADDRESS: '127.0.0.1', PMIP6_MAG_LMA_PORT: String(suite.lma!.port), PMIP6_MAG_HEARTBEAT_INTERVAL: '0', PMIP6_SECURITY_ALLOW_UNPROTECTED_SIGNALLING: 'true' } });
    mag = await startMagRole(magConfig, {
      id: 'outage-mag', proxyCoa: MAG, port: 0, detector,
      events: { emit: (e: MagEvent) => void (e.type === 'registered' && registered.set(e.mnId, e.hnps)) },
    });
  });
  after(async () => {
    await mag?.stop({ deregister: false });
    await relay.up().catch(() => undefined);
    await suite?.stop();
    await relay.down();
    await direct.close();
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  let rid = 0;
  const radius = async (mnId: string): Promise<number | null> => {
    const req = encodeRequest(Code.AccessRequest, rid++ & 0xff, new AttrWriter().text(Attr.UserName, mnId).text(Attr.NasIdentifier, 'mag').bytes(), Buffer.from(SECRET), true);
    const r = await exchange(suite.radius!.server.ports.auth, req.packet, { waitMs: 1500 });
    if (!r) return null;
    const d = decodePacket(r);
    return d.ok ? d.packet.code : -1;
  };
  const attach = (k: string) => detector.attach({ mnId: `${k}@outage.example`, accessTechType: 4, link: `link-${k}`, handoffIndicator: 1 });
  /** A sample from /metrics: `name` or `name{labels}` exactly as exposed. */
  const metric = async (sample: string) => {
    const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${sample} `));
    return line === undefined ? NaN : Number(line.slice(sample.length + 1));
  };

  it('RADIUS and the LMA keep answering held MNs; the acknowledged binding reaches the store when it returns', async () => {
    // Before: RADIUS answers a and b (now held), the LMA registers a.
    assert.equal(await radius('a@outage.example'), Code.AccessAccept);
    assert.equal(await radius('b@outage.example'), Code.AccessAccept);
    attach('a');
    await until('a registered', () => registered.has('a@outage.example'));

    await relay.down();
    await until('/readyz degraded', async () => (await fetch(`${suite.apiUrl}/readyz`)).status === 503);
    const ready = (await (await fetch(`${suite.apiUrl}/readyz`)).json()) as { status: string; cause: string; checks: { database: { cause: string } } };
    assert.equal(ready.status, 'degraded');
    assert.equal(ready.cause, 'database unreachable');
    assert.doesNotMatch(JSON.stringify(ready), /ECONNREFUSED|127\.0\.0\.1|connect|terminat/i, 'our words, not the driver text');
    await until('the directory holding profiles for the outage', () => suite.profiles!.size.profiles >= 2 && !suite.profiles!.serving);

    // During: held MN accepted, unseen MN not answered (its client fails over), new registration of a held profile accepted.
    assert.equal(await radius('a@outage.example'), Code.AccessAccept, 'RADIUS answers an MN it answered before');
    assert.equal(await radius('c@outage.example'), null, 'no answer for an MN not held');
    attach('b');
    await until('b registered during the outage', () => registered.has('b@outage.example'));
    assert.deepEqual(registered.get('b@outage.example'), [PREFIX.b]);
    assert.ok(suite.lma!.lma.counters.persist.journalled >= 1, 'journalled locally before the PBA');
    assert.equal(await metric('pmip6_profile_directory_stale'), 1);
    assert.ok((await metric('pmip6_profile_directory_lookups_total{result="stale"}')) >= 1);

    // After: the journal reaches the store; every acknowledged binding is there.
    await relay.up();
    await until('the store to hold every acknowledged binding', async () => {
      const rows = await direct.bindings.loadLive(LMA_ID);
      return rows.some((r) => r.mnId === 'b@outage.example') && rows.some((r) => r.mnId === 'a@outage.example');
    }, 20_000);
    const rows = await direct.bindings.loadLive(LMA_ID);
    for (const [mn, hnps] of registered) assert.deepEqual(rows.find((r) => r.mnId === mn)?.hnps, hnps, mn);
    // The rows can be visible to another connection a moment before the LMA has its commit's answer and empties the journal.
    await until('the local journal emptied', () => suite.lma!.lma.commits!.journalledRows === 0, 10_000);
    await until('/readyz ready again', async () => (await fetch(`${suite.apiUrl}/readyz`)).status === 200);
    assert.equal(await radius('c@outage.example'), Code.AccessAccept, 'and unseen MNs are answered again');
  });
});
