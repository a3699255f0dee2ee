// Scale-out (docs/ARCHITECTURE.md): two nodes on one PostgreSQL. Node A is `pmip6 start` (LMA and
// RADIUS server, here in the test process so its profile directory can be inspected) with the
// profile cache on; node B is another `pmip6 start` process serving only the operator API. An
// operator's changes through B reach A's cached profiles through the database's notifications:
// the RADIUS server (RFC 6572 §5) and the LMA (RFC 5213 §5.3.1) answer from memory, and an MN
// that B provisions, or disables, is accepted, or refused (Access-Reject, PBA 152), by A.
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualDetector } from '../../src/attach/manual.ts';
import { configSchema } from '../../src/config/index.ts';
import { startMagRole, type MagRole } from '../../src/main/mag-role.ts';
import { startSuite, type RunningSuite } from '../../src/main/suite.ts';
import { templatePolicy, type MagEvent } from '../../src/mag/index.ts';
import { RadiusAaaClient } from '../../src/radius/index.ts';
import { createPgDatabase } from '../helpers/db.ts';
import { freePort, startSuiteProcess, stopProcess, type Child } from '../helpers/cli.ts';
import { until } from '../helpers/until.ts';

const SECRET = 'scale-out-secret';
const TOKEN = 'scale-out-token-0123';
const MN1 = 'mn1@example.net';
const MN2 = 'mn2@example.net';

describe('scale-out: a profile changed through another node reaches the cached profiles of the LMA and RADIUS server', () => {
  let pg: Awaited<ReturnType<typeof createPgDatabase>>;
  let a: RunningSuite;
  let b: Child & { base: string };
  let mag: MagRole;
  let aaa: RadiusAaaClient;
  const detector = new ManualDetector();
  const events: MagEvent[] = [];
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'pmip6-scale-out-'));
    dirs.push(d);
    return d;
  };
  const api = (path: string, method = 'GET', body?: unknown) =>
    fetch(`${b.base}/api/v1${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

  const SEALING_KEY = randomBytes(32).toString('hex');

  before(async () => {
    pg = await createPgDatabase('pmip6_scale_out');
    a = await startSuite(configSchema.parse({
      dataDir: tmp(),
      databaseUrl: pg.url,
      store: { profileCache: 'lazy' },
      // Nodes sharing one PostgreSQL share the key that seals AAA secrets (README "Security").
      security: { secretKey: SEALING_KEY, allowUnprotectedSignalling: true },
      api: { enabled: false },
      snmp: { enabled: false },
      radius: { bind: ['127.0.0.1'], authPort: 0, acctPort: 0, coaPort: await freePort('udp') },
      lma: { address: '127.0.0.1', udpPort: 0, authorizeAnyMag: true, heartbeatInterval: 0 },
    }));
    b = await startSuiteProcess({
      DATABASE_URL: pg.url, PMIP6_DATA_DIR: tmp(), PMIP6_API_TOKEN: TOKEN, PMIP6_SECURITY_SECRET_KEY: SEALING_KEY,
      PMIP6_LMA_ENABLED: 'false', PMIP6_RADIUS_ENABLED: 'false', PMIP6_SNMP_ENABLED: 'false', PMIP6_LOG_LEVEL: 'warn',
    });
    assert.equal((await api('/aaa-clients', 'POST', { kind: 'radius', name: 'mag1', address: '127.0.0.1', secret: SECRET })).status, 201);
    assert.equal((await api('/profiles', 'POST', { mnId: MN1, hnps: ['2001:db8:1:1::/64'], lma: '127.0.0.1' })).status, 201);
    aaa = new RadiusAaaClient({ servers: [{ host: '127.0.0.1', port: a.radius!.server.ports.auth, secret: SECRET }], nasIdentifier: 'mag1', cacheTtlMs: 0, timeoutMs: 500 });
    mag = await startMagRole(configSchema.parse({ dataDir: tmp(), security: { allowUnprotectedSignalling: true }, mag: { lmaAddress: '127.0.0.1', lmaPort: a.lma!.port, heartbeatInterval: 0 } }), {
      id: 'mag1', proxyCoa: '127.0.0.2', port: 0, detector,
      policy: templatePolicy({ lma: '127.0.0.1', hnpPool: 'assigned-by-lma' }),
      events: { emit: (e) => void events.push(e) },
    });
  });

  after(async () => {
    aaa?.close();
    await mag?.stop({ deregister: false });
    await a?.stop();
    if (b) await stopProcess(b);
    await pg?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('RFC 6572 §5.1 and RFC 5213 §5.3.1: A answers from its profile directory (one database read per MN)', async () => {
    const d = a.profiles!;
    assert.equal(d.mode, 'lazy');
    assert.ok(d.serving, 'following the notifications of PostgreSQL');
    assert.equal((await aaa.authorize({ userName: MN1 })).status, 'accept');
    assert.equal((await aaa.authorize({ userName: MN2 })).status, 'reject', 'not provisioned yet');
    const misses = d.stats.misses;
    assert.equal((await aaa.authorize({ userName: MN1 })).status, 'accept');
    assert.equal((await aaa.authorize({ userName: MN2 })).status, 'reject');
    assert.ok(detector.attach({ mnId: MN1, link: 'ap0', accessTechType: 4 }));
    const bule = await until('the registration', () => (mag.mag.view.get(MN1)?.state === 'registered' ? mag.mag.view.get(MN1) : null));
    assert.equal(bule.lastStatus, 0);
    assert.deepEqual(bule.hnps, ['2001:db8:1:1::/64']);
    assert.equal(d.stats.misses, misses, 'RADIUS and the LMA answered from memory');
  });

  it('an MN provisioned through B is accepted by A (its "unknown" entry dropped by the insert notification)', async () => {
    assert.equal((await api('/profiles', 'POST', { mnId: MN2, hnps: ['2001:db8:2:1::/64'], lma: '127.0.0.1' })).status, 201);
    await until('A accepts the new MN', async () => (await aaa.authorize({ userName: MN2 })).status === 'accept');
  });

  it('RFC 5213 §5.3.1 step 8: a profile disabled through B is refused by A: Access-Reject, and PBA 152 to its PBU', async () => {
    assert.equal((await api(`/profiles/${MN2}`, 'PATCH', { enabled: false })).status, 200);
    await until('A refuses the disabled MN', async () => (await aaa.authorize({ userName: MN2 })).status === 'reject');
    assert.ok(detector.attach({ mnId: MN2, link: 'ap1', accessTechType: 4 }));
    const failed = await until('the refusal', () => events.find((e) => e.type === 'failed' && e.mnId === MN2));
    assert.equal(failed.type === 'failed' && failed.status, 152, 'PROXY_REG_NOT_ENABLED');
    assert.equal(mag.mag.view.get(MN2), undefined);
  });
});
