// RFC 6572 end to end on loopback, every part real and in one process: the policy store
// (PGlite), our RADIUS server on it (StoreRadiusPolicy, the MAG's address as its AAA client),
// an LMA (pmip6's LMA role on UDP, RFC 5844 §4) and a MAG (pmip6's MAG role) whose policy is
// RADIUS (src/main/mag-aaa.ts). An MN attaches; the MAG learns its profile in an
// Access-Request/Accept (§5.1/§5.2), registers it at the LMA the profile names with the
// profile's HNP, and reports the session in accounting (§7). Operator changes then reach the
// MAG as RFC 5176 CoA (re-registration: in place, then onto a new prefix) and Disconnect
// (de-registration), found from that accounting.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualDetector } from '../../src/attach/manual.ts';
import { configSchema, type Config } from '../../src/config/index.ts';
import { startLmaRole, type LmaRole } from '../../src/main/lma-role.ts';
import { startMagRole, type MagRole } from '../../src/main/mag-role.ts';
import { StoreRadiusPolicy } from '../../src/main/radius-policy.ts';
import type { MagEvent } from '../../src/mag/index.ts';
import { aaaClientInputSchema, profileInputSchema } from '../../src/policy/validate.ts';
import { DynamicAuthorizer, RadiusServer } from '../../src/radius/index.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { migrate } from '../../src/store/migrate.ts';
import { storeOn, type Store } from '../../src/store/index.ts';
import { freePort } from '../helpers/cli.ts';

const SECRET = 'e2e-radius-secret';
const MN = 'mn1@example.net';
const HNP = '2001:db8:1:1::/64';
const HNP2 = '2001:db8:1:2::/64';

/** Waits for a condition (bounded; the test checks outcomes, not speed). */
async function until<T>(what: string, f: () => T | Promise<T>, ms = 10_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('RFC 6572: a MAG learns the MN profile over RADIUS and registers it at the LMA', () => {
  let store: Store;
  let radius: RadiusServer;
  let policy: StoreRadiusPolicy;
  let lma: LmaRole;
  let mag: MagRole;
  let dac: DynamicAuthorizer;
  const detector = new ManualDetector();
  const events: MagEvent[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'pmip6-e2e-radius-'));

  const lmaBinding = () => lma.lma.bindings.list({}).items.find((b) => b.mnId === MN);
  const accounting = async () =>
    (await store.db.query<{ status_type: string; session_id: string; terminate_cause: number | null; client_address: string }>(
      `SELECT status_type, session_id, terminate_cause, host(client_address) AS client_address FROM accounting WHERE mn_id = $1 ORDER BY id`,
      [MN],
    )).rows;

  before(async () => {
    const db = await openPglite();
    await migrate(db);
    store = storeOn(db);
    // The MAG's RADIUS client sends from 127.0.0.1; its Proxy-CoA (NAS-IP-Address) is 127.0.0.2.
    await store.aaaClients.create(aaaClientInputSchema.parse({ kind: 'radius', name: 'mag1', address: '127.0.0.1', secret: SECRET }), 'test');
    await store.profiles.create(profileInputSchema.parse({ mnId: MN, hnps: [HNP], lma: '127.0.0.1', serviceSelection: 'internet' }), 'test');

    policy = new StoreRadiusPolicy(store);
    radius = new RadiusServer({ policy, hosts: ['127.0.0.1'], authPort: 0, acctPort: 0 });
    await radius.start();

    const lmaConfig: Config = configSchema.parse({
      dataDir,
      security: { allowUnprotectedSignalling: true },
      lma: { address: '127.0.0.1', udpPort: 0, authorizeAnyMag: true, heartbeatInterval: 0, minDelayBeforeBCEDelete: 200 },
    });
    lma = await startLmaRole(lmaConfig, store);

    const coaPort = await freePort('udp');
    const magConfig: Config = configSchema.parse({
      dataDir,
      security: { allowUnprotectedSignalling: true },
      mag: { lmaAddress: '192.0.2.99', lmaPort: lma.port, heartbeatInterval: 0 },
      radius: {
        bind: ['127.0.0.1'],
        coaPort,
        servers: [`127.0.0.1:${radius.ports.auth}/${radius.ports.acct}`],
        secret: SECRET,
        timeoutMs: 500,
        retries: 2,
      },
    });
    mag = await startMagRole(magConfig, { id: 'mag1', proxyCoa: '127.0.0.2', port: 0, detector, events: { emit: (e) => void events.push(e) } });
    dac = new DynamicAuthorizer({ policy, defaultPort: coaPort, timeoutMs: 1000, retries: 2 });
  });

  after(async () => {
    dac?.close();
    await mag?.stop({ deregister: false });
    await lma?.stop();
    await radius?.stop();
    await store?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('RFC 6572 §5.1/§5.2, RFC 5213 §6.9.1.1: attach → Access-Request/Accept → PBU to the profile\'s LMA → PBA 0; the LMA binds the profile\'s HNP', async () => {
    assert.ok(mag.aaa, 'the MAG uses RADIUS when radius.servers is set');
    assert.ok(detector.attach({ mnId: MN, link: 'ap0', accessTechType: 4, mnLinkLayerId: '02:00:00:00:00:01' }));
    const bule = await until('the MAG binding', () => {
      const b = mag.mag.view.get(MN);
      return b?.state === 'registered' ? b : null;
    });
    // The profile came over RADIUS: one Access-Request answered with an Access-Accept.
    assert.equal(radius.stat('request:access'), 1);
    assert.equal(radius.stat('sent:access_accept'), 1);
    assert.deepEqual(mag.aaa!.policy.stats, { accept: 1, reject: 0, error: 0 });
    // ... and the MAG acted on it: the LMA named there (not mag.lmaAddress), the HNP from the profile.
    assert.equal(bule.lma, '127.0.0.1');
    assert.deepEqual(bule.hnps, [HNP]);
    assert.equal(bule.lastStatus, 0);
    assert.equal(mag.mag.counters.pbaStatus[0], 1);
    const b = await until('the LMA binding', lmaBinding);
    assert.deepEqual(b.hnps, [HNP]);
    assert.equal(b.proxyCoa, '127.0.0.2');
  });

  it('RFC 6572 §7, RFC 2866: the MAG reports the session (Start) and the AAA server finds it for RFC 5176', async () => {
    const rows = await until('Accounting Start stored', async () => ((await accounting()).length === 1 ? accounting() : null));
    assert.equal(rows[0].status_type, 'start');
    assert.equal(rows[0].client_address, '127.0.0.1');
    assert.equal(radius.stat('sent:accounting_response'), 1);
    const sessions = await policy.findSessions(MN);
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0].acctSessionId, rows[0].session_id);
    assert.equal(sessions[0].nasIdentifier, 'mag1');
    assert.equal(sessions[0].nasIpAddress, '127.0.0.2');
  });

  it('RFC 5176 CoA-Request: a profile change the PBU does not carry re-registers the live binding (HI 5, same BCE)', async () => {
    const pbus = mag.mag.counters.sent.pbu;
    const registeredAt = lmaBinding()!.registeredAt;
    await store.profiles.update(MN, { dhcpv6Server: '2001:db8::53', serviceSelection: 'internet' }, 'test');
    const out = await dac.profileChanged(MN);
    assert.deepEqual(out.map((o) => [o.kind, o.result]), [['coa', 'ack']]);
    await until('the re-registration PBA', () => events.some((e) => e.type === 'refreshed'));
    assert.equal(radius.stat('request:access'), 2, 'the MAG dropped its cached Accept and asked again');
    assert.equal(mag.mag.counters.sent.pbu, pbus + 1);
    assert.equal(mag.mag.view.get(MN)!.state, 'registered');
    assert.deepEqual(lmaBinding()!.hnps, [HNP]);
    assert.equal(lmaBinding()!.registeredAt, registeredAt, 'the same binding cache entry');
    assert.equal((await accounting()).length, 1, 'the accounting session goes on');
  });

  it('RFC 5176 CoA-Request: a new HNP replaces the binding (RFC 5213 cannot change prefixes in place); accounting Stop + Start', async () => {
    await store.profiles.update(MN, { hnps: [HNP2] }, 'test');
    const out = await dac.profileChanged(MN);
    assert.deepEqual(out.map((o) => [o.kind, o.result]), [['coa', 'ack']]);
    const b = await until('the binding on the new prefix', () => {
      const x = mag.mag.view.get(MN);
      return x?.state === 'registered' && x.hnps[0] === HNP2 ? x : null;
    });
    assert.deepEqual(b.hnps, [HNP2]);
    await until('the LMA binding on the new prefix', () => lmaBinding()?.hnps[0] === HNP2);
    await until('the old BCE deleted', () => lma.lma.bindings.list({}).items.filter((x) => x.mnId === MN).length === 1);
    const rows = await until('Stop and a new Start', async () => ((await accounting()).length === 3 ? accounting() : null));
    assert.deepEqual(rows.map((r) => r.status_type), ['start', 'stop', 'start']);
    assert.equal(rows[1].session_id, rows[0].session_id);
    assert.notEqual(rows[2].session_id, rows[0].session_id);
    assert.equal((await policy.findSessions(MN)).length, 1);
  });

  it('RFC 5176 Disconnect-Request: disabling the profile de-registers the MN at the MAG and the LMA', async () => {
    await store.profiles.update(MN, { enabled: false }, 'test');
    const out = await dac.profileChanged(MN);
    assert.deepEqual(out.map((o) => [o.kind, o.result]), [['disconnect', 'ack']]);
    await until('the MAG binding removed', () => mag.mag.view.get(MN) === undefined);
    assert.ok(events.some((e) => e.type === 'deregistered' && e.mnId === MN && e.acked));
    await until('the LMA binding removed', () => lmaBinding() === undefined);
    const rows = await until('Accounting Stop stored', async () => ((await accounting()).length === 4 ? accounting() : null));
    assert.equal(rows[3].status_type, 'stop');
    assert.equal(rows[3].terminate_cause, 6, 'Acct-Terminate-Cause Admin-Reset (RFC 2866 §5.10)');
    assert.deepEqual(await policy.findSessions(MN), [], 'no session left to send RFC 5176 requests to');
  });

  it('RFC 6572 §5.1: a disabled MN attaching again gets an Access-Reject and is not registered', async () => {
    const rejects = radius.stat('sent:access_reject');
    assert.ok(detector.attach({ mnId: MN, link: 'ap0', accessTechType: 4 }));
    await until('the refusal', () => events.some((e) => e.type === 'failed' && e.mnId === MN && e.reason === 'not-eligible'));
    assert.equal(radius.stat('sent:access_reject'), rejects + 1);
    assert.equal(mag.aaa!.policy.stats.reject, 1);
    assert.equal(mag.mag.view.get(MN), undefined);
  });
});
