// Issue 13, bad input: "Packets of one MN never reach another MN's tunnel ... two IPv4 MNs with
// the same private address behind different MAGs, separated by GRE keys" (RFC 5845 §1). MN-A
// (service corp-a) behind MAG1 and MN-B (service corp-b) behind MAG2 have the same IPv4 home
// address (RFC 5844); the LMA runs a routing context per service (dataplane.contexts: its own
// TUN device, routing table and IPv4 address space), each leading to its own correspondent
// node, CN-A and CN-B, which even share one address. Each MN's ping reaches its own CN only:
// per-context counters, and a capture on the LMA decoded by tshark (the GRE keys on each
// MAG link, no packet of A on B's link or upstream, nor the reverse). Packets forged with
// A's address and B's key (and the reverse) are dropped and counted. Namespaces (p6t-vrf-*)
// and processes are removed even when the test fails.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, netnsUnavailable, type Netns } from '../helpers/netns.ts';
import { buildPmipDomain } from '../helpers/pmipv6-domain.ts';
import { Agent } from '../helpers/ns-agent-client.ts';
import { Capture, TSHARK, problems, tshark } from '../helpers/capture.ts';
import { pmip6, stopProcess, type Child } from '../helpers/cli.ts';
import { createPgDatabase } from '../helpers/db.ts';
import { pgUnixBridge, type PgBridge } from '../helpers/pg-bridge.ts';
import { until } from '../helpers/until.ts';
import { runIn } from '../helpers/pmipv6-suite.ts';
import { loadNative } from '../../src/transport/native.ts';

const NET = '2001:db8:d7';
const LMAA = `${NET}::1`;
const MAG1 = `${NET}:1::2`;
const MAG2 = `${NET}:2::2`;
const TOKEN = 'e2e-vrf-token';
const MAG_LL = 'fe80::1';
const MAG_MAC = '02:00:5e:d7:00:01';
/** The one private IPv4 home address both MNs have, and their default router on every MAG. */
const HOA = '10.66.0.5';
const ROUTER = '10.66.0.1';
/** CN-A and CN-B: the same address, each behind its own upstream interface of the LMA. */
const CN = '198.51.100.2';
const UP = '198.51.100.1';
const MN_A = { mnId: 'mn-a@vrf.example', service: 'corp-a.vrf', hnp: `${NET}:fa::/64`, table: 5301, tun: 'pmip6-c5301', pattern: 'a1a1a1a1', count: 5 };
const MN_B = { mnId: 'mn-b@vrf.example', service: 'corp-b.vrf', hnp: `${NET}:fb::/64`, table: 5302, tun: 'pmip6-c5302', pattern: 'b2b2b2b2', count: 7 };
const FORGED = 'c3c3c3c3';

const skip =
  netnsUnavailable() ??
  (loadNative().ok ? null : 'native addon not built') ??
  (spawnSync('ping', ['-V']).error ? 'ping (iputils-ping) is not installed' : null) ??
  (spawnSync(TSHARK, ['-v']).error ? 'tshark is not installed' : null);

type Binding = { mnId: string; proxyCoa: string; ipv4HoA: string | null };
type Bul = { mnId: string; state: string; greKeyDownlink?: number | null; greKeyUplink?: number | null };

/** An IPv4 ICMP echo request (valid header checksum) from `src` to `dst` whose data is `pattern` repeated, as Python. */
const echo4 = (src: string, dst: string, pattern: string): string => `(lambda s, d, data: (lambda h: h[:10] + ck(h).to_bytes(2, 'big') + h[12:])(bytes.fromhex('4500') + (28 + len(data)).to_bytes(2, 'big') + bytes.fromhex('0000400040010000') + s + d) + (lambda i: i[:2] + ck(i).to_bytes(2, 'big') + i[4:])(bytes.fromhex('08000000abcd0001') + data))(socket.inet_aton('${src}'), socket.inet_aton('${dst}'), bytes.fromhex('${pattern}') * 8)`;
const CK = 'def ck(b):\n  s = sum(int.from_bytes(b[i:i+2], "big") for i in range(0, len(b), 2))\n  while s >> 16: s = (s & 0xffff) + (s >> 16)\n  return ~s & 0xffff';

describe('routing contexts: two IPv4 MNs with the same private home address behind different MAGs, kept apart by GRE keys (RFC 5845 §1)', { skip: skip ?? false }, () => {
  const lab = new Lab('vrf');
  const dir = mkdtempSync(join(tmpdir(), 'pmip6-e2e-vrf-'));
  const children: Child[] = [];
  let nsL: Netns, nsM1: Netns, nsM2: Netns, nsCnA: Netns, nsCnB: Netns;
  let l: Agent, a1: Agent, a2: Agent;
  let lma: Child;
  let upA = '', upB = '';
  const mns: { ns: Netns; accessIf: string }[] = [];
  let db: { name: string; drop(): Promise<void> } | undefined;
  let bridge: PgBridge | undefined;

  const api = async <T>(a: Agent, port: number, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> => {
    const r = await a.call<{ status: number; body: string }>('fetch', { url: `http://127.0.0.1:${port}${path}`, method, body, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } });
    return { status: r.status, json: (r.body ? JSON.parse(r.body) : null) as T };
  };
  const bindings = async (): Promise<Binding[]> => (await api<{ items: Binding[] }>(l, 8080, 'GET', '/api/v1/bindings?limit=100')).json.items;
  /** The MAG's binding update list: the RFC 5845 keys it negotiated (uplink = the LMA's, downlink = its own). */
  const bul = async (a: Agent, mnId: string): Promise<Bul | undefined> => (await api<{ items: Bul[] }>(a, 8081, 'GET', '/api/v1/mag/bul?limit=100')).json.items.find((b) => b.mnId === mnId);
  const metric = async (re: RegExp): Promise<number> => Number(re.exec((await l.call<{ body: string }>('fetch', { url: 'http://127.0.0.1:8080/metrics' })).body)?.[1] ?? 0);
  const ctxPackets = (tun: string, dir: 'to-tunnel' | 'from-tunnel') => metric(new RegExp(`pmip6_dataplane_context_packets_total\\{role="lma",tun="${tun}",direction="${dir}"\\} (\\d+)`));
  const lmaDrops = (cause: string) => metric(new RegExp(`pmip6_dataplane_dropped_total\\{role="lma",direction="from-tunnel",cause="${cause}"\\} (\\d+)`));
  /** A capture's marker datagram, sent over the namespace's loopback. */
  const probeIn = (ns: Netns) => async (marker: string) =>
    runIn(ns, '/usr/bin/python3', ['-c', `import socket\nsocket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b'${marker}', ('::1', 9))`]);

  const startMag = async (ns: Netns, id: string, coa: string): Promise<Child> => {
    const c = pmip6(['mag', '--id', id, '--proxy-coa', coa, '--lma', LMAA], {
      PMIP6_DATA_DIR: mkdtempSync(join(dir, `${id}-`)), PMIP6_API_HOST: '127.0.0.1', PMIP6_API_PORT: '8081', PMIP6_API_TOKEN: TOKEN,
      PMIP6_SNMP_ENABLED: 'false', PMIP6_MAG_HEARTBEAT_INTERVAL: '0', PMIP6_LOG_LEVEL: 'info',
      PMIP6_DATAPLANE_KIND: 'userspace', PMIP6_MAG_GRE_MODE: 'always', PMIP6_MAG_REQUEST_IPV4: 'true',
    }, { prefix: ['ip', 'netns', 'exec', ns.name] });
    children.push(c);
    lab.track(c.child);
    await until(`${id} up`, () => c.out().includes(`MAG ${id} running`) || c.child.exitCode !== null, 60_000);
    assert.equal(c.child.exitCode, null, c.out());
    return c;
  };

  /** An MN with the shared HoA on an access link of `mag`: the MAG end has the RFC 6543 addresses and the default router. */
  const mnAt = (mag: Netns, tag: string): { ns: Netns; accessIf: string } => {
    const ns = lab.ns(tag);
    const [mnIf, accessIf] = lab.link(ns, mag);
    mag.ip('link', 'set', accessIf, 'down');
    mag.ip('link', 'set', accessIf, 'address', MAG_MAC);
    mag.addAddress(accessIf, `${MAG_LL}/64`);
    mag.ip('addr', 'add', `${ROUTER}/24`, 'dev', accessIf);
    mag.ip('link', 'set', accessIf, 'up');
    ns.ip('addr', 'add', `${HOA}/24`, 'dev', mnIf);
    ns.ip('route', 'add', 'default', 'via', ROUTER);
    ns.ip('neigh', 'replace', ROUTER, 'lladdr', MAG_MAC, 'dev', mnIf, 'nud', 'permanent');
    return { ns, accessIf };
  };

  before(async () => {
    const d = buildPmipDomain(lab, NET);
    ({ lma: nsL, mag1: nsM1, mag2: nsM2 } = d);
    // CN-A is the domain's CN; CN-B a second one. Same address, same LMA-side address, two links.
    nsCnA = d.cn;
    nsCnB = lab.ns('cnb');
    let cnBIf: string;
    [upB, cnBIf] = lab.link(nsL, nsCnB);
    upA = d.lmaToCn;
    for (const [ns, lmaIf, cnIf] of [[d.cn, upA, d.cnIf], [nsCnB, upB, cnBIf]] as const) {
      nsL.ip('addr', 'add', `${UP}/24`, 'dev', lmaIf);
      ns.ip('addr', 'add', `${CN}/24`, 'dev', cnIf);
      ns.ip('route', 'add', 'default', 'via', UP);
    }
    mns.push(mnAt(nsM1, 'mna'), mnAt(nsM2, 'mnb'));
    [l, a1, a2] = await Promise.all([Agent.start(lab, nsL), Agent.start(lab, nsM1), Agent.start(lab, nsM2)]);
    db = await createPgDatabase('pmip6_e2e_vrf');
    bridge = await pgUnixBridge();
    lma = pmip6(['start'], {
      PMIP6_DATA_DIR: join(dir, 'lma-data'), DATABASE_URL: bridge.url(db.name),
      PMIP6_RADIUS_ENABLED: 'false', PMIP6_SNMP_ENABLED: 'false',
      PMIP6_API_HOST: '127.0.0.1', PMIP6_API_PORT: '8080', PMIP6_API_TOKEN: TOKEN,
      PMIP6_LMA_ADDRESS: LMAA, PMIP6_LMA_HEARTBEAT_INTERVAL: '0', PMIP6_LMA_TIMESTAMP_VALIDITY_WINDOW: '10000',
      PMIP6_DATAPLANE_KIND: 'userspace', PMIP6_LOG_LEVEL: 'info',
      PMIP6_DATAPLANE_CONTEXTS: [MN_A, MN_B].map((m, i) => `${m.service} table=${m.table} upstream=${i === 0 ? upA : upB}`).join(','),
    }, { prefix: ['ip', 'netns', 'exec', nsL.name] });
    children.push(lma);
    lab.track(lma.child);
    await until('LMA ready', async () => lma.child.exitCode !== null || (await l.call<{ status: number }>('fetch', { url: 'http://127.0.0.1:8080/readyz' }).catch(() => ({ status: 0 }))).status === 200, 90_000);
    assert.equal(lma.child.exitCode, null, lma.out());
    for (const m of [MN_A, MN_B]) assert.match(lma.out(), new RegExp(`routing context for service ${m.service.replace('.', '\\.')} on TUN ${m.tun}, table ${m.table}`));
    for (const [id, coa] of [['mag1', MAG1], ['mag2', MAG2]]) assert.equal((await api(l, 8080, 'POST', '/api/v1/mags', { id, proxyCoa: [coa], authorized: true })).status, 201);
  });

  after(async () => {
    for (const c of children) await stopProcess(c).catch(() => undefined);
    await lab.cleanup();
    await bridge?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the store takes one IPv4 HoA once per service: a second profile of the same service is refused', async () => {
    for (const m of [MN_A, MN_B]) {
      const r = await api(l, 8080, 'POST', '/api/v1/profiles', { mnId: m.mnId, hnps: [m.hnp], ipv4HoA: HOA, ipv4PrefixLength: 24, ipv4DefaultRouter: ROUTER, serviceSelection: m.service, greKeyPolicy: 'required' });
      assert.equal(r.status, 201, JSON.stringify(r.json));
    }
    const dup = await api(l, 8080, 'POST', '/api/v1/profiles', { mnId: 'mn-c@vrf.example', hnps: [], ipv4HoA: HOA, serviceSelection: MN_A.service });
    assert.equal(dup.status, 409, 'the same address twice in one service');
  });

  it('MN-A and MN-B, same HoA behind MAG1 and MAG2: each reaches only its own CN, with its own GRE keys; forged keys are dropped', async (t) => {
    const mags = await Promise.all([startMag(nsM1, 'mag1', MAG1), startMag(nsM2, 'mag2', MAG2)]);
    const diag = (what: string) => (e: unknown) => {
      t.diagnostic(`${what}: LMA ${lma.out().slice(-3000)}\nMAG1 ${mags[0].out().slice(-1500)}\nMAG2 ${mags[1].out().slice(-1500)}\nLMA rules ${nsL.ip('-4', 'rule')} ${nsL.ip('-4', 'route', 'show', 'table', 'all')}`);
      throw e;
    };
    const cap = await Capture.start(lab, nsL, join(dir, 'vrf.pcapng'), (marker) => l.call('probe', { marker }));
    // And at each CN: what reached it.
    const cnCaps = [await Capture.start(lab, nsCnA, join(dir, 'cn-a.pcapng'), probeIn(nsCnA)), await Capture.start(lab, nsCnB, join(dir, 'cn-b.pcapng'), probeIn(nsCnB))];
    try {
      for (const [i, m] of [MN_A, MN_B].entries()) {
        const r = await api(i === 0 ? a1 : a2, 8081, 'POST', '/api/v1/mag/attach', { mnId: m.mnId, link: mns[i].accessIf, handoffIndicator: 1 });
        assert.equal(r.status, 202);
      }
      await until('both registered with GRE keys', async () => (await bul(a1, MN_A.mnId))?.greKeyUplink != null && (await bul(a2, MN_B.mnId))?.greKeyUplink != null, 30_000).catch(diag('not registered'));
      const bs = await bindings();
      const la = bs.find((b) => b.mnId === MN_A.mnId)!;
      const lb = bs.find((b) => b.mnId === MN_B.mnId)!;
      assert.deepEqual([la.proxyCoa, la.ipv4HoA, lb.proxyCoa, lb.ipv4HoA], [MAG1, HOA, MAG2, HOA], 'one address, two sessions');
      const keyed = (b: Bul | undefined) => ({ up: b!.greKeyUplink!, down: b!.greKeyDownlink! });
      const ba = keyed(await bul(a1, MN_A.mnId));
      const bb = keyed(await bul(a2, MN_B.mnId));
      assert.notEqual(ba.up, bb.up, 'the LMA gave each session its own uplink key');
      // Each context's table routes the HoA into its own TUN device.
      for (const m of [MN_A, MN_B]) assert.match(nsL.ip('-4', 'route', 'show', 'table', String(m.table)), new RegExp(`${HOA.replace(/\./g, '\\.')} dev ${m.tun}`));

      const ping = (i: number, m: typeof MN_A, count: number) =>
        runIn(mns[i].ns, 'ping', ['-4', '-c', String(count), '-i', '0.2', '-W', '2', '-p', m.pattern, CN]);
      for (const [i, m] of [MN_A, MN_B].entries()) await until(`${m.mnId} reaches its CN`, async () => (await ping(i, m, 1)).status === 0, 20_000).catch(diag('no ping'));
      const before = await Promise.all([MN_A, MN_B].map((m) => ctxPackets(m.tun, 'to-tunnel')));
      for (const [i, m] of [MN_A, MN_B].entries()) {
        const r = await ping(i, m, m.count);
        assert.match(r.stdout, new RegExp(`${m.count} packets transmitted, ${m.count} received`), r.stdout);
      }
      // Per-context counters: each context encapsulated exactly its own MN's replies, none of the other's.
      for (const [i, m] of [MN_A, MN_B].entries()) {
        assert.equal((await ctxPackets(m.tun, 'to-tunnel')) - before[i], m.count, `${m.tun}: ${m.count} echo replies tunnelled`);
        assert.ok((await ctxPackets(m.tun, 'from-tunnel')) >= m.count + 1);
      }
      assert.equal(await ctxPackets('pmip6-lma', 'to-tunnel'), 0, 'nothing in the default context');

      // Forged: A's address with B's uplink key from MAG1, B's address with A's key from MAG2, and A's key with an address not A's.
      const forge = (ns: Netns, src: string, key: number, inner: string) =>
        runIn(ns, '/usr/bin/python3', ['-c', `import socket\n${CK}\ns = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 47)\ns.bind(('${src}', 0))\nfor _ in range(3): s.sendto(bytes.fromhex('20000800') + (${key}).to_bytes(4, 'big') + ${inner}, ('${LMAA}', 0))`]);
      const badKey0 = await lmaDrops('badKey');
      const noBinding0 = await lmaDrops('noBinding');
      for (const r of await Promise.all([
        forge(nsM1, MAG1, bb.up, echo4(HOA, CN, FORGED)),
        forge(nsM2, MAG2, ba.up, echo4(HOA, CN, FORGED)),
        forge(nsM1, MAG1, ba.up, echo4('10.66.0.9', CN, FORGED)),
      ])) assert.equal(r.status, 0, r.stderr);
      await until('forged keys counted', async () => (await lmaDrops('badKey')) >= badKey0 + 6, 10_000);
      await until('a foreign inner address counted', async () => (await lmaDrops('noBinding')) >= noBinding0 + 3, 10_000);
      await cap.stop();
      for (const c of cnCaps) await c.stop();

      // The wire: keys per MAG link, patterns per link and per upstream interface.
      const fieldsOf = (file: string, filter: string, ...f: string[]) => tshark(['-r', file, '-Y', filter, '-T', 'fields', ...f.flatMap((x) => ['-e', x])]).split('\n').filter(Boolean);
      const fields = (filter: string, ...f: string[]) => fieldsOf(cap.file, filter, ...f);
      const has = (p: string) => `data.data contains ${p.match(/../g)!.join(':')}`;
      for (const [i, m, other, mag] of [[0, MN_A, MN_B, MAG1], [1, MN_B, MN_A, MAG2]] as const) {
        const b = i === 0 ? ba : bb;
        const keys = new Set(fields(`gre && ipv6.addr == ${mag} && icmp && !(${has(FORGED)})`, 'gre.key').map(Number));
        assert.deepEqual([...keys].sort((x, y) => x - y), [b.up, b.down].sort((x, y) => x - y), `only ${m.mnId}'s keys between ${mag} and the LMA (the forged packets aside)`);
        assert.ok(fields(`gre && ipv6.src == ${LMAA} && ipv6.dst == ${mag} && icmp.type == 0 && ${has(m.pattern)}`, 'frame.number').length >= m.count, `${m.mnId}'s replies down its own tunnel`);
        assert.deepEqual(fields(`gre && ipv6.addr == ${mag} && ${has(other.pattern)}`, 'frame.number'), [], `no packet of ${other.mnId} in ${m.mnId}'s tunnel`);
        const atCn = cnCaps[i].file;
        assert.ok(fieldsOf(atCn, `ip.src == ${HOA} && icmp.type == 8 && ${has(m.pattern)}`, 'frame.number').length >= m.count + 1, `${m.mnId}'s echo requests reach its own CN`);
        assert.deepEqual(fieldsOf(atCn, has(other.pattern), 'frame.number'), [], `nothing of ${other.mnId} at ${m.mnId}'s CN`);
        assert.deepEqual(fieldsOf(atCn, has(FORGED), 'frame.number'), [], `no forged packet at ${m.mnId}'s CN`);
      }
      assert.deepEqual(fields(`!gre && ${has(FORGED)}`, 'frame.number'), [], 'no forged packet left the tunnels');
      assert.deepEqual(problems(cap.file, 'gre'), [], 'GRE decoded clean');

      // De-registration takes the HoA out of each context's table.
      for (const [i, m] of [MN_A, MN_B].entries()) assert.equal((await api(i === 0 ? a1 : a2, 8081, 'POST', '/api/v1/mag/detach', { mnId: m.mnId, link: mns[i].accessIf })).status, 202);
      await until('bindings gone', async () => (await bindings()).length === 0, 30_000);
      for (const m of [MN_A, MN_B]) await until(`${m.tun}'s route removed`, () => !nsL.ip('-4', 'route', 'show', 'table', String(m.table)).includes(HOA), 10_000);
    } finally {
      for (const c of [cap, ...cnCaps]) await c.stop().catch(() => undefined);
      for (const m of mags) await stopProcess(m).catch(() => undefined);
    }
  });

  it('shutdown leaves no context behind: no TUN device, no rule, no route of the contexts', async () => {
    await stopProcess(lma);
    for (const m of [MN_A, MN_B]) {
      assert.ok(!nsL.ip('link', 'show').includes(m.tun), `${m.tun} gone`);
      assert.ok(!nsL.ip('-4', 'rule', 'show').includes(`lookup ${m.table}`), `no rule for table ${m.table}`);
      assert.equal(nsL.ip('-4', 'route', 'show', 'table', String(m.table)).trim(), '', `table ${m.table} empty`);
    }
  });
});
