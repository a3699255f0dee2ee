// PMIPv6 over IPv6 itself (Mobility Header, IP protocol 135; RFC 5213 §6.10.1) end to end,
// between network namespaces joined by veth pairs: the LMA (`pmip6 start`) in one, two
// MAGs (`pmip6 mag`) in two others. MNs attach at MAG 1, move to MAG 2 (Handoff Indicator
// 3, RFC 5213 §5.4.1) and detach; heartbeats run both ways (RFC 5847). A capture in the
// LMA's namespace, decoded by tshark, has every PBU, PBA and heartbeat clean, and every MH
// checksum right (checked here over the IPv6 pseudo-header: tshark does not).
// Then the same with an independent peer whose encoding is scapy's (scapy_pmip6.py): our
// LMA answers scapy MAGs, and our MAGs register with a scapy LMA.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, netnsUnavailable, type Netns } from '../helpers/netns.ts';
import { Agent } from '../helpers/ns-agent-client.ts';
import { Capture, mhChecksumOk, mhFrames, problems } from '../helpers/capture.ts';
import { pmip6, stopProcess, type Child } from '../helpers/cli.ts';
import { requireScapy, ScapyPeer } from '../helpers/scapy-peer.ts';
import { createPgDatabase } from '../helpers/db.ts';
import { pgUnixBridge, type PgBridge } from '../helpers/pg-bridge.ts';
import { until } from '../helpers/until.ts';
import { encodeMessage } from '../../src/mh/index.ts';

const LMAA = '2001:db8:e6::1';
const LMA_V4 = '198.51.100.1';
const MAG1 = '2001:db8:e6:1::2';
const MAG2 = '2001:db8:e6:2::2';
const TOKEN = 'e2e-ip6-token';
const MNS = ['mn1@ip6.example', 'mn2@ip6.example', 'mn3@ip6.example'];
const hnpOf = (i: number): string => `2001:db8:e6:f0${i}::/64`;

const skip = netnsUnavailable();

type Binding = { mnId: string; proxyCoa: string; hnps: string[]; state: string };
type Bul = { mnId: string; state: string; hnps?: string[] };

describe('PMIPv6 over IPv6 (protocol 135) between namespaces, end to end', { skip: skip ?? false }, () => {
  const lab = new Lab('e2e6');
  const dir = mkdtempSync(join(tmpdir(), 'pmip6-e2e-ip6-'));
  const children: Child[] = [];
  let nsL: Netns;
  let nsM1: Netns;
  let nsM2: Netns;
  let l: Agent;
  let m1: Agent;
  let m2: Agent;
  let lma: Child;
  let capture: Capture;
  let db: { name: string; drop(): Promise<void> } | undefined;
  let bridge: PgBridge | undefined;

  const api = async <T>(a: Agent, port: number, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> => {
    const r = await a.call<{ status: number; body: string }>('fetch', { url: `http://127.0.0.1:${port}${path}`, method, body, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } });
    return { status: r.status, json: (r.body ? JSON.parse(r.body) : null) as T };
  };
  const bindings = async (): Promise<Binding[]> => (await api<{ items: Binding[] }>(l, 8080, 'GET', '/api/v1/bindings?limit=100')).json.items;
  const bul = async (a: Agent): Promise<Bul[]> => (await api<{ items: Bul[] }>(a, 8081, 'GET', '/api/v1/mag/bul?limit=100')).json.items;
  const attach = async (a: Agent, mnId: string, hi: number): Promise<void> => {
    const r = await api(a, 8081, 'POST', '/api/v1/mag/attach', { mnId, link: `ap-${mnId}`, handoffIndicator: hi, mnLinkLayerId: '02:00:00:00:00:01' });
    assert.equal(r.status, 202);
  };
  const detach = async (a: Agent, mnId: string): Promise<void> => {
    const r = await api(a, 8081, 'POST', '/api/v1/mag/detach', { mnId, link: `ap-${mnId}` });
    assert.equal(r.status, 202);
  };
  const metric = async (a: Agent, port: number, re: RegExp): Promise<number> => {
    const text = (await a.call<{ body: string }>('fetch', { url: `http://127.0.0.1:${port}/metrics` })).body;
    return Number(re.exec(text)?.[1] ?? 0);
  };
  const startMag = async (ns: Netns, id: string, coa: string): Promise<Child> => {
    const env = { PMIP6_DATA_DIR: mkdtempSync(join(dir, `${id}-`)), PMIP6_API_HOST: '127.0.0.1', PMIP6_API_PORT: '8081', PMIP6_API_TOKEN: TOKEN, PMIP6_SNMP_ENABLED: 'false', PMIP6_MAG_HEARTBEAT_INTERVAL: '1', PMIP6_MAG_HEARTBEAT_INTERVAL_FORCE: 'true', PMIP6_LOG_LEVEL: 'warn' };
    const c = pmip6(['mag', '--id', id, '--proxy-coa', coa, '--lma', LMAA], env, { prefix: ['ip', 'netns', 'exec', ns.name] });
    children.push(c);
    await until(`${id} up`, () => c.out().includes(`MAG ${id} running`) || c.child.exitCode !== null, 60_000);
    assert.equal(c.child.exitCode, null, c.out());
    return c;
  };

  before(async () => {
    requireScapy();
    nsL = lab.ns('lma');
    nsM1 = lab.ns('mag1');
    nsM2 = lab.ns('mag2');
    const [l1, m1if] = lab.link(nsL, nsM1);
    const [l2, m2if] = lab.link(nsL, nsM2);
    nsL.addAddress('lo', `${LMAA}/128`);
    nsL.addAddress(l1, '2001:db8:e6:1::1/64');
    nsL.addAddress(l2, '2001:db8:e6:2::1/64');
    nsM1.addAddress(m1if, `${MAG1}/64`);
    nsM2.addAddress(m2if, `${MAG2}/64`);
    nsM1.ip('-6', 'route', 'add', `${LMAA}/128`, 'via', '2001:db8:e6:1::1');
    nsM2.ip('-6', 'route', 'add', `${LMAA}/128`, 'via', '2001:db8:e6:2::1');
    // IPv4/UDP (RFC 5844 §4) next to raw IPv6 at the same LMA.
    nsL.ip('addr', 'add', `${LMA_V4}/24`, 'dev', l1);
    nsM1.ip('addr', 'add', '198.51.100.2/24', 'dev', m1if);
    [l, m1, m2] = await Promise.all([Agent.start(lab, nsL), Agent.start(lab, nsM1), Agent.start(lab, nsM2)]);
    capture = await Capture.start(lab, nsL, join(dir, 'lma.pcapng'), (marker) => l.call('probe', { marker }));

    // The policy store: the test machine's PostgreSQL, reached from the namespace over a Unix socket.
    db = await createPgDatabase('pmip6_e2e_ip6');
    bridge = await pgUnixBridge();
    lma = pmip6(['start'], {
      PMIP6_DATA_DIR: join(dir, 'lma-data'),
      DATABASE_URL: bridge.url(db.name),
      PMIP6_RADIUS_ENABLED: 'false',
      PMIP6_SNMP_ENABLED: 'false',
      PMIP6_API_HOST: '127.0.0.1',
      PMIP6_API_PORT: '8080',
      PMIP6_API_TOKEN: TOKEN,
      PMIP6_LMA_ADDRESS: LMAA,
      PMIP6_LMA_IPV4_ADDRESS: LMA_V4,
      PMIP6_LMA_HEARTBEAT_INTERVAL: '1',
      PMIP6_LMA_HEARTBEAT_INTERVAL_FORCE: 'true', // RFC 5847 §5 says at least 30 s; a test may force 1 s
      PMIP6_LMA_MIN_DELAY_BEFORE_BCE_DELETE: '5000',
      // RFC 5213 §5.5: a loaded test machine must not turn a late PBU into status 156.
      PMIP6_LMA_TIMESTAMP_VALIDITY_WINDOW: '10000',
      PMIP6_LOG_LEVEL: 'warn',
    }, { prefix: ['ip', 'netns', 'exec', nsL.name] });
    children.push(lma);
    await until('LMA ready', async () => lma.child.exitCode !== null || (await l.call<{ status: number }>('fetch', { url: 'http://127.0.0.1:8080/readyz' }).catch(() => ({ status: 0 }))).status === 200, 90_000);
    assert.equal(lma.child.exitCode, null, lma.out());
    for (const [id, coa] of [['mag1', MAG1], ['mag2', MAG2]]) {
      assert.equal((await api(l, 8080, 'POST', '/api/v1/mags', { id, proxyCoa: [coa], authorized: true })).status, 201);
    }
    for (let i = 0; i < MNS.length; i++) assert.equal((await api(l, 8080, 'POST', '/api/v1/profiles', { mnId: MNS[i], hnps: [hnpOf(i)] })).status, 201);
    assert.equal((await api(l, 8080, 'POST', '/api/v1/profiles', { mnId: 'scapy1@ip6.example', hnps: ['2001:db8:e6:f0ff::/64'] })).status, 201);
    assert.equal((await api(l, 8080, 'POST', '/api/v1/profiles', { mnId: 'scapy2@ip6.example', hnps: ['2001:db8:e6:f0fe::/64'] })).status, 201);
  });

  after(async () => {
    await capture?.stop().catch(() => undefined);
    for (const c of children) await stopProcess(c);
    await lab.cleanup();
    await bridge?.close();
    await db?.drop();
  });

  it('our MAGs and LMA: attach, handoff (HI 3), detach over protocol 135; heartbeats both ways; tshark decodes it all clean, checksums right', async () => {
    // The same LMA answers on IPv4/UDP 5436 at the same time: a heartbeat request gets its response.
    const hb = encodeMessage({ type: 'heartbeat', flags: 0, seq: 42, options: [] });
    const reply = await m1.call<string | null>('udp', { to: LMA_V4, port: 5436, hex: hb.toString('hex') });
    assert.ok(reply, 'heartbeat answered over IPv4/UDP');
    assert.equal(Buffer.from(reply, 'hex')[2], 13);

    const [mag1, mag2] = await Promise.all([startMag(nsM1, 'mag1', MAG1), startMag(nsM2, 'mag2', MAG2)]);
    for (const mn of MNS) await attach(m1, mn, 1);
    await until('bindings at MAG 1', async () => (await bindings()).filter((b) => b.proxyCoa === MAG1).length === MNS.length, 30_000);
    const atMag1 = await bindings();
    assert.deepEqual(atMag1.map((b) => b.hnps[0]).sort(), MNS.map((_, i) => hnpOf(i)).sort());
    await until('MAG 1 registered', async () => (await bul(m1)).filter((b) => b.state === 'registered').length === MNS.length);
    // RFC 5847: the LMA asks MAG 1, MAG 1 asks the LMA (interval 1 s), both answered.
    await until('heartbeats both ways', async () =>
      (await metric(l, 8080, /pmip6_lma_messages_received_total\{type="heartbeat_response"\} (\d+)/)) >= 1 &&
      (await metric(l, 8080, /pmip6_lma_messages_received_total\{type="heartbeat_request"\} (\d+)/)) >= 2, 15_000);

    // Break before make: detach at MAG 1 (its de-registration answered: RFC 5213 §5.3.5 keeps the
    // BCE for MinDelayBeforeBCEDelete), then attach at MAG 2 saying "handoff between MAGs" (HI 3).
    for (const mn of MNS) {
      await detach(m1, mn);
      await until(`${mn} gone from MAG 1`, async () => !(await bul(m1)).some((b) => b.mnId === mn), 30_000);
      await attach(m2, mn, 3);
    }
    await until('bindings moved to MAG 2', async () => {
      const bs = await bindings();
      return bs.length === MNS.length && bs.every((b) => b.proxyCoa === MAG2 && b.state !== 'deregistering');
    }, 30_000);
    // The event is counted once the data plane has the new tunnel (a moment after the binding shows MAG 2).
    await until('handed-off counted', async () => (await metric(l, 8080, /pmip6_lma_binding_events_total\{event="handed-off"\} (\d+)/)) >= MNS.length, 10_000);
    assert.equal(await metric(l, 8080, /pmip6_lma_binding_events_total\{event="handed-off"\} (\d+)/), MNS.length, 'RFC 5213 §5.3.4: each BCE moved to MAG 2, none made anew');
    const moved = await bindings();
    assert.deepEqual(moved.map((b) => b.hnps[0]).sort(), atMag1.map((b) => b.hnps[0]).sort(), 'the same prefixes after the handoff');
    await until('MAG 2 registered, MAG 1 empty', async () => (await bul(m2)).filter((b) => b.state === 'registered').length === MNS.length && (await bul(m1)).length === 0);

    for (const mn of MNS) await detach(m2, mn);
    await until('binding cache empty', async () => (await bindings()).length === 0, 30_000);
    await until('MAG 2 empty', async () => (await bul(m2)).length === 0);
    assert.equal(await metric(l, 8080, /pmip6_lma_pba_sent_total\{status="0"\} (\d+)/) >= 3 * MNS.length, true);
    assert.equal(await metric(l, 8080, /pmip6_mh_ip6_dropped_total\{cause="kernel"\} (\d+)/), 0, 'no MH dropped by the kernel (bad checksum, full buffer)');
    for (const c of [mag1, mag2]) assert.doesNotMatch(c.out(), /"level":[56]0/, 'no error in the MAGs');

    await capture.stop();
    const frames = mhFrames(capture.file, 'mipv6 && ipv6 && !udp && !icmpv6');
    const kinds = (t: string) => frames.filter((f) => f.f['mip6.mhtype'] === t);
    const pbus = kinds('5');
    const pbas = kinds('6');
    const hbs = kinds('13');
    assert.ok(pbus.length >= 4 * MNS.length, `attach, de-registration at MAG 1, attach at MAG 2, de-registration at MAG 2 (${pbus.length})`);
    assert.equal(pbas.length, pbus.length, 'every PBU answered');
    assert.ok(hbs.length >= 4, `heartbeat requests and responses in both directions (${hbs.length})`);
    assert.deepEqual([...new Set(pbas.map((f) => f.f['mip6.ba.status']))], ['0'], 'every PBA accepted');
    const his = pbus.map((f) => f.f['mip6.hi']).flat();
    assert.ok(his.includes('3'), `a PBU with Handoff Indicator 3 (saw ${[...new Set(his)].join(',')})`);
    for (const f of [...pbus, ...pbas, ...hbs]) {
      assert.equal(f.f['mip6.proto'], '59');
      assert.ok(mhChecksumOk(f.src, f.dst, f.mh), `MH checksum of frame ${f.frame} (${f.src} -> ${f.dst})`);
      assert.ok([LMAA, MAG1, MAG2].includes(f.src) && [LMAA, MAG1, MAG2].includes(f.dst));
    }
    assert.deepEqual(problems(capture.file, 'mipv6'), [], 'no malformed frame, no expert error');
  });

  it('a scapy MAG registers with our LMA, heartbeats, hands off to a second scapy MAG (HI 3) and de-registers; a revocation (BRI/BRA) both ways', async () => {
    const s1 = await ScapyPeer.start(lab, nsM1, ['mag', '--address', MAG1, '--lma', LMAA]);
    const s2 = await ScapyPeer.start(lab, nsM2, ['mag', '--address', MAG2, '--lma', LMAA]);
    const mn = 'scapy1@ip6.example';
    const pba1 = await s1.command(`register ${mn} 1`, (e) => e.event === 'pba' || e.event === 'timeout');
    const { event, src, status, checksumOk, mnId, proxyFlag, hnps, hi, timestampEcho } = pba1;
    assert.deepEqual({ event, src, status, checksumOk, mnId, proxyFlag, hnps, hi, timestampEcho }, { event: 'pba', src: LMAA, status: 0, checksumOk: true, mnId: mn, proxyFlag: true, hnps: ['2001:db8:e6:f0ff::/64'], hi: 1, timestampEcho: true });
    const hb = await s1.command('heartbeat', (e) => e.event === 'heartbeat-response' || e.event === 'timeout');
    assert.equal(hb.event, 'heartbeat-response');
    assert.equal(hb.checksumOk, true);
    assert.equal(typeof hb.restartCounter, 'number', 'RFC 5847 §3.4: the Restart Counter option in the response');
    // Our LMA asks the MAG that holds a binding (heartbeat interval 1 s); scapy answers.
    const asked = await s1.next((e) => e.event === 'heartbeat-request', 10_000);
    assert.equal(asked.src, LMAA);
    assert.equal(asked.checksumOk, true);
    await until('LMA got the scapy MAG heartbeat response', async () => (await metric(l, 8080, /pmip6_lma_messages_received_total\{type="heartbeat_response"\} (\d+)/)) >= 2);

    const pba2 = await s2.command(`register ${mn} 3 2001:db8:e6:f0ff::`, (e) => e.event === 'pba' || e.event === 'timeout');
    assert.equal(pba2.status, 0);
    assert.equal(pba2.hi, 3);
    assert.deepEqual(pba2.hnps, ['2001:db8:e6:f0ff::/64']);
    await until('binding at scapy MAG 2', async () => (await bindings()).some((b) => b.mnId === mn && b.proxyCoa === MAG2));
    const dereg = await s2.command(`deregister ${mn} 2001:db8:e6:f0ff::`, (e) => e.event === 'pba' || e.event === 'timeout');
    assert.equal(dereg.status, 0);
    assert.equal(dereg.lifetime, 0);
    await until('binding gone', async () => !(await bindings()).some((b) => b.mnId === mn));

    // RFC 5846 §8.1 over protocol 135: MAG 2 says "handoff state unknown" (HI 4) for an MN MAG 1
    // holds; the LMA asks MAG 1 with a BRI, scapy acknowledges, and MAG 2 gets its binding.
    const mn2 = 'scapy2@ip6.example';
    assert.equal((await s1.command(`register ${mn2} 1`, (e) => e.event === 'pba' || e.event === 'timeout')).status, 0);
    const pba4 = await s2.command(`register ${mn2} 4`, (e) => e.event === 'pba' || e.event === 'timeout');
    const bri = await s1.next((e) => e.event === 'bri');
    assert.deepEqual({ src: bri.src, trigger: bri.trigger, mnId: bri.mnId, checksumOk: bri.checksumOk }, { src: LMAA, trigger: 4, mnId: mn2, checksumOk: true }, 'BRI, trigger 4: Inter-MAG Handover - Unknown');
    assert.equal(pba4.status, 0);
    assert.deepEqual(pba4.hnps, ['2001:db8:e6:f0fe::/64']);
    await until('revocation acknowledged', async () => (await metric(l, 8080, /pmip6_lma_revocation_events_total\{event="acknowledged"\} (\d+)/)) >= 1);
    assert.equal((await s2.command(`deregister ${mn2} 2001:db8:e6:f0fe::`, (e) => e.event === 'pba' || e.event === 'timeout')).status, 0);
    for (const e of [...s1.events, ...s2.events]) if ('checksumOk' in e) assert.equal(e.checksumOk, true, JSON.stringify(e));
    await s1.stop();
    await s2.stop();
  });

  it('our MAGs register with a scapy LMA: attach at MAG 1, handoff to MAG 2 (HI 3), detach; heartbeats both ways', async () => {
    await stopProcess(lma);
    const s = await ScapyPeer.start(lab, nsL, ['lma', '--address', LMAA]);
    const mn = 'foreign1@ip6.example';
    await attach(m1, mn, 1);
    const p1 = await s.next((e) => e.event === 'pbu' && e.mnId === mn);
    assert.deepEqual({ src: p1.src, dst: p1.dst, checksumOk: p1.checksumOk, proxy: p1.proxy, hi: p1.hi, att: p1.att, lifetime: p1.lifetime, requested: p1.requested }, { src: MAG1, dst: LMAA, checksumOk: true, proxy: true, hi: 1, att: 4, lifetime: 300, requested: ['::'] });
    assert.equal(typeof p1.timestamp, 'number', 'RFC 5213 §5.5: timestamp mode');
    await until('MAG 1 registered with the scapy LMA', async () => (await bul(m1)).some((b) => b.mnId === mn && b.state === 'registered'));
    const b1 = (await bul(m1)).find((b) => b.mnId === mn)!;
    assert.deepEqual(b1.hnps, [`${p1.assigned as string}/64`]);
    // RFC 5847: MAG 1 asks the scapy LMA; the scapy LMA asked MAG 1 and got its answer.
    const req = await s.next((e) => e.event === 'heartbeat-request' && e.src === MAG1, 10_000);
    assert.equal(req.checksumOk, true);
    const resp = await s.next((e) => e.event === 'heartbeat-response' && e.src === MAG1, 10_000);
    assert.equal(resp.checksumOk, true);
    assert.equal(typeof resp.restartCounter, 'number');

    await detach(m1, mn);
    await attach(m2, mn, 3);
    const p2 = await s.next((e) => e.event === 'pbu' && e.mnId === mn && e.src === MAG2);
    assert.equal(p2.hi, 3);
    assert.equal(p2.checksumOk, true);
    const dereg1 = await s.next((e) => e.event === 'pbu' && e.mnId === mn && e.src === MAG1 && e.lifetime === 0);
    assert.equal(dereg1.hi, 4, 'RFC 5213 §6.9.1.4: a de-registration says "handoff state unknown"');
    await until('MAG 2 registered, MAG 1 empty', async () => (await bul(m2)).some((b) => b.mnId === mn && b.state === 'registered') && (await bul(m1)).length === 0);
    assert.deepEqual((await bul(m2)).find((b) => b.mnId === mn)!.hnps, b1.hnps, 'the same prefix after the handoff');

    await detach(m2, mn);
    const dereg2 = await s.next((e) => e.event === 'pbu' && e.mnId === mn && e.src === MAG2 && e.lifetime === 0);
    assert.equal(dereg2.checksumOk, true);
    await until('MAG 2 empty', async () => (await bul(m2)).length === 0);
    for (const e of s.events) if ('checksumOk' in e) assert.equal(e.checksumOk, true, JSON.stringify(e));
    await s.stop();
  });
});
