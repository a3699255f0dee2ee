// Issue 9 attacks on a running LMA (pmip6's LMA role on real IPv4/UDP sockets, PGlite store):
// RFC 5213 §5.3.1 steps 5-6 decided on the packet's source address, never on an address the
// packet names (RFC 5844 §4.1.1: over IPv4/UDP the Proxy-CoA is the source address), a MAG
// identified by its address whatever its UDP port (§5.3.5), global revocation (RFC 5846 §8.2)
// only by the MAG it names, and unprovisioned sources answered 154 from memory: no database
// query, nothing queued, while a provisioned MAG still registers (issue 9 item 3).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BaStatus, BraStatus, BrFlag, HandoffIndicator as HI, RevocationTrigger, encodeMessage, mnIdFromNai, parseIpv6 } from '../../src/mh/index.ts';
import type { MhMessage } from '../../src/mh/index.ts';
import { configSchema } from '../../src/config/index.ts';
import { startLmaRole, type LmaRole } from '../../src/main/lma-role.ts';
import { magInputSchema, profileInputSchema } from '../../src/policy/validate.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { migrate } from '../../src/store/migrate.ts';
import { storeOn, type Store } from '../../src/store/index.ts';
import type { Db } from '../../src/store/db.ts';
import { openUdpTransport, type UdpTransport } from '../../src/transport/udp.ts';
import { TestMag, buildPbu } from './driver.ts';
import { heapAfterGc } from '../helpers/heap.ts';

const VICTIM = 'victim@example.net';
const P1 = '2001:db8:1:1::/64';

/** Registers legit<i> through `mag`: up to 10 sends, each waiting 500 ms for its answer. */
async function registerDuringFlood(mag: TestMag, i: number): Promise<boolean> {
  for (let tries = 0; tries < 10; tries++) {
    while (mag.take()) ; // late answers to earlier sends
    const reply = mag.next();
    mag.pbu({ mnId: `legit${i}@example.net`, hnps: [`2001:db8:2:${i}::/64`] });
    const got = await Promise.race([reply, new Promise<null>((r) => setTimeout(() => r(null), 500))]);
    if (got && (got as { status: number }).status === 0) return true;
    if (got && (got as { status: number }).status !== BaStatus.TIMESTAMP_MISMATCH) return false;
  }
  return false;
}

const victimBindingOf = (lma: LmaRole, mnId: string) => lma.lma.bindings.list().items.find((b) => b.mnId === mnId);

describe('issue 9: who sent the PBU (RFC 5213 §5.3.1 steps 5-6, RFC 5844 §4.1.1) on a running LMA', () => {
  let store: Store;
  let lma: LmaRole;
  let queries = 0;
  const transports: UdpTransport[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'pmip6-sender-auth-'));
  const clock = { now: () => Date.now() };

  const magAt = async (address: string): Promise<TestMag> => {
    const t = await openUdpTransport({ addresses: [address], port: 0 });
    transports.push(t);
    return new TestMag(t, { address: '127.0.0.1', port: lma.port }, clock);
  };
  const status = async (m: TestMag): Promise<number> => ((await m.next()) as { status: number }).status;
  const victimBinding = () => lma.lma.bindings.list().items.find((b) => b.mnId === VICTIM);

  before(async () => {
    const db = await openPglite();
    await migrate(db);
    // Every query the LMA's policy makes goes through here.
    const counted: Db = { ...db, query: (sql, params) => ((queries++), db.query(sql, params)) } as Db;
    store = storeOn(counted);
    await store.mags.create(magInputSchema.parse({ id: 'mag1', proxyCoa: ['127.0.0.2'] }), 'test');
    await store.mags.create(magInputSchema.parse({ id: 'mag2', proxyCoa: ['127.0.0.3'] }), 'test');
    await store.profiles.create(profileInputSchema.parse({ mnId: VICTIM, hnps: [P1] }), 'test');
    for (let i = 0; i < 20; i++) await store.profiles.create(profileInputSchema.parse({ mnId: `legit${i}@example.net`, hnps: [`2001:db8:2:${i}::/64`] }), 'test');
    lma = await startLmaRole(configSchema.parse({ dataDir, security: { allowUnprotectedSignalling: true }, lma: { address: '127.0.0.1', udpPort: 0, heartbeatInterval: 0, policyCacheTtl: 0 } }), store);
  });

  after(async () => {
    await lma?.stop();
    for (const t of transports) await t.close();
    await store?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the victim registers from its provisioned MAG (127.0.0.2)', async () => {
    const mag1 = await magAt('127.0.0.2');
    mag1.pbu({ mnId: VICTIM, hnps: [P1] });
    assert.equal(await status(mag1), 0);
    assert.equal(victimBinding()?.proxyCoa, '127.0.0.2');
  });

  it('forged Alternate-CoA: an unprovisioned host naming the MAG address gets 154 and moves nothing', async () => {
    const attacker = await magAt('127.0.0.9');
    const alt = { type: 'altCoa' as const, addr: parseIpv6('::ffff:127.0.0.2') };
    attacker.pbu({ mnId: VICTIM, hnps: [P1], hi: HI.HANDOFF_BETWEEN_MAGS, extra: [alt] });
    assert.equal(await status(attacker), BaStatus.MAG_NOT_AUTHORIZED_FOR_PROXY_REG);
    attacker.pbu({ mnId: VICTIM, hnps: [P1], lifetime: 0, extra: [alt] });
    assert.equal(await status(attacker), BaStatus.MAG_NOT_AUTHORIZED_FOR_PROXY_REG);
    const b = victimBinding();
    assert.equal(b?.proxyCoa, '127.0.0.2');
    assert.equal(b?.state, 'active');
    assert.ok(lma.lma.counters.refused['unknown-source'] >= 2);
  });

  it('RFC 5844 §4.1.1: an Alternate-CoA over IPv4/UDP is refused even from a provisioned MAG', async () => {
    const mag2 = await magAt('127.0.0.3');
    mag2.pbu({ mnId: VICTIM, hnps: [P1], hi: HI.HANDOFF_BETWEEN_MAGS, extra: [{ type: 'altCoa', addr: parseIpv6('::ffff:127.0.0.2') }] });
    assert.equal(await status(mag2), BaStatus.MAG_NOT_AUTHORIZED_FOR_PROXY_REG);
    assert.equal(victimBinding()?.proxyCoa, '127.0.0.2');
    assert.ok(lma.lma.counters.refused['alt-coa-over-ipv4'] >= 1);
  });

  it('RFC 5846 §8.2: a global revocation naming another MAG is not authorised; naming itself, it is', async () => {
    const mag2 = await magAt('127.0.0.3');
    const bri = (id: string): MhMessage => ({ type: 'bri', seq: 7, trigger: RevocationTrigger.PER_PEER_POLICY, flags: BrFlag.P | BrFlag.G, options: [mnIdFromNai(id)] });
    mag2.send(bri('mag1'));
    assert.equal(((await mag2.next()) as { status: number }).status, BraStatus.GLOBAL_REVOCATION_NOT_AUTHORIZED);
    const stranger = await magAt('127.0.0.10');
    stranger.send(bri('mag1'));
    assert.equal(((await stranger.next()) as { status: number }).status, BraStatus.GLOBAL_REVOCATION_NOT_AUTHORIZED);
    mag2.send(bri('mag2'));
    assert.equal(((await mag2.next()) as { status: number }).status, BraStatus.BINDING_DOES_NOT_EXIST, 'its own: accepted, it holds nothing');
    assert.equal(victimBinding()?.state, 'active');
  });

  it('RFC 5213 §5.3.5: a de-registration from the MAG address through another source port is a de-registration, answered to that port', async () => {
    const other = await magAt('127.0.0.2'); // same address, a new UDP port
    other.pbu({ mnId: VICTIM, hnps: [P1], lifetime: 0 });
    assert.equal(await status(other), 0);
    assert.equal(victimBinding()?.state, 'deregistering');
  });

  it('RFC 5213 §4 scope: a MAG limited by realm, list or prefix serves only those MNs (provisioned while the LMA runs)', async () => {
    for (const [mnId, hnp] of [['out@example.net', '2001:db8:5:1::/64'], ['in@example.org', '2001:db8:5:2::/64'], ['listed@example.net', '2001:db8:5:3::/64'], ['byprefix@example.net', '2001:db8:77:1::/64']]) {
      await store.profiles.create(profileInputSchema.parse({ mnId, hnps: [hnp] }), 'test');
    }
    await store.mags.create(magInputSchema.parse({ id: 'mag3', proxyCoa: ['127.0.0.4'], scope: { realms: ['example.org'], mnIds: ['listed@example.net'], prefixes: ['2001:db8:77::/48'] } }), 'test');
    const mag3 = await magAt('127.0.0.4');
    // The LMA learns of mag3 from the store's change notification, without a restart.
    for (let i = 0; i < 100; i++) {
      mag3.pbu({ mnId: 'in@example.org', hnps: ['2001:db8:5:2::/64'] });
      if ((await status(mag3)) === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(victimBindingOf(lma, 'in@example.org')?.proxyCoa, '127.0.0.4', 'by realm');
    mag3.pbu({ mnId: 'listed@example.net', hnps: ['2001:db8:5:3::/64'] });
    assert.equal(await status(mag3), 0, 'by list');
    mag3.pbu({ mnId: 'byprefix@example.net', hnps: ['2001:db8:77:1::/64'] });
    assert.equal(await status(mag3), 0, 'by prefix');
    mag3.pbu({ mnId: 'out@example.net', hnps: ['2001:db8:5:1::/64'] });
    assert.equal(await status(mag3), BaStatus.MAG_NOT_AUTHORIZED_FOR_PROXY_REG, 'out of scope');
    assert.equal(victimBindingOf(lma, 'out@example.net'), undefined);
    assert.equal((await store.mags.get('mag3')).scope?.realms[0], 'example.org');
  });

  it('100,000 PBUs from unprovisioned sources: 154 from memory, no database query, nothing queued; a provisioned MAG still registers meanwhile', async () => {
    const sources = 50;
    const floods: UdpTransport[] = [];
    for (let i = 0; i < sources; i++) floods.push(await openUdpTransport({ addresses: [`127.0.${1 + (i >> 6)}.${10 + (i & 63)}`], port: 0 }));
    transports.push(...floods);
    const legit = await magAt('127.0.0.2');
    const to = { address: '127.0.0.1', port: lma.port };
    const refusedBefore = Object.values(lma.lma.counters.refused).reduce((a, b) => a + b, 0);
    const droppedBefore = lma.lma.counters.dropped['refusal-rate-limited'];
    const q0 = queries;
    const rx0 = lma.lma.counters.rx.pbu;
    const heap0 = heapAfterGc();
    let legitOk = 0;
    for (let n = 0; n < 100_000; n++) {
      const pbu = encodeMessage(buildPbu({ mnId: `forged${n}@example.net`, hnps: [`2001:db8:9:${(n & 0xffff).toString(16)}::/64`] }, () => Date.now(), n & 0xffff));
      floods[n % sources].send(pbu, to);
      if (n % 10_000 === 5_000) {
        // A provisioned MAG registers a new MN in the middle of the flood, as a MAG does: it
        // retransmits when the PBU or PBA is lost in a full socket buffer (RFC 5213 §6.9.4) and
        // sends a fresh timestamp after a 156 (the flood can queue a PBU past the 300 ms window).
        if (await registerDuringFlood(legit, n / 10_000 | 0)) legitOk++;
      }
      if (n % 500 === 499) await new Promise((r) => setImmediate(r)); // let the sockets drain
    }
    await new Promise((r) => setTimeout(r, 200));
    await lma.lma.settle();
    const refused = Object.values(lma.lma.counters.refused).reduce((a, b) => a + b, 0) - refusedBefore;
    const limited = lma.lma.counters.dropped['refusal-rate-limited'] - droppedBefore;
    assert.equal(legitOk, 10, 'every legitimate registration during the flood was accepted');
    assert.ok(refused > 50_000, `most forged PBUs reached the LMA and were refused (${refused})`);
    assert.ok(limited > 0 && limited <= refused, 'their 154s were rate-limited, and the rest counted');
    // Each legitimate PBU that got past the sender check reads its profile and may write its
    // binding; the forged ones add nothing.
    const legitPbus = lma.lma.counters.rx.pbu - rx0 - refused;
    assert.ok(legitPbus >= 10 && legitPbus <= 100, `legitimate PBUs processed: ${legitPbus}`);
    assert.ok(queries - q0 <= 3 * legitPbus, `database queries during the flood: ${queries - q0} for ${legitPbus} legitimate PBUs`);
    assert.equal(lma.lma.serial.pending, 0, 'no per-MN work queued');
    assert.equal(lma.lma.cache.peers.size <= 2, true, 'no peer records for forged sources');
    const grown = heapAfterGc() - heap0;
    assert.ok(grown < 16 * 1024 * 1024, `heap grew by ${grown} bytes`);
  });
});
