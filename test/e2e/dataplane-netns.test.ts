// The data plane end to end (issue 13 part A; RFC 5213 §5.6 and §6.10): an MN, two MAGs, the
// LMA and a correspondent node (CN), each in its own network namespace (p6t-dp-*), joined by
// veth pairs. The suite's LMA (`pmip6 start`) and MAGs (`pmip6 mag`) run inside them with
// the user-space forwarder (TUN + raw sockets). The MN has a static address from its home
// network prefix and a default route via the MAG's fixed link-local address (RFC 6543: the
// same fe80::1 and link-layer address on every MAG); it is registered through the MAG's
// attach API. It pings the CN through the MAG-LMA tunnel; then its link moves to MAG2 (the
// MAG end of its veth goes to MAG2's namespace), MAG2 registers it (Handoff Indicator 3),
// the ping resumes and the LMA's binding points at MAG2. The interruption is reported, not
// asserted. A capture on the MAG-LMA links, decoded by tshark, shows IPv6-in-IPv6 (and, in
// the GRE variant, GRE with the keys the BUL says were negotiated, RFC 5845) and nothing
// malformed. De-registration and shutdown leave no rule, route or TUN device behind.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, netnsUnavailable, type Netns } from '../helpers/netns.ts';
import { buildPmipDomain } from '../helpers/pmipv6-domain.ts';
import { Agent } from '../helpers/ns-agent-client.ts';
import { Capture, problems, tshark } from '../helpers/capture.ts';
import { pmip6, stopProcess, type Child } from '../helpers/cli.ts';
import { createPgDatabase } from '../helpers/db.ts';
import { pgUnixBridge, type PgBridge } from '../helpers/pg-bridge.ts';
import { until } from '../helpers/until.ts';
import { udpPinger } from '../helpers/pmipv6-suite.ts';

const LMAA = '2001:db8:d1::1';
const MAG1 = '2001:db8:d1:1::2';
const MAG2 = '2001:db8:d1:2::2';
const CN = '2001:db8:d1:c::2';
const TOKEN = 'e2e-dp-token';
const MAG_LL = 'fe80::1';
const MAG_MAC = '02:00:5e:d1:00:01';
const CN4 = '203.0.113.2';
const TABLE_LMA = '5213';
const TABLE_MAG = '5214';
const PROBE = new URL('./dp_udp_probe.py', import.meta.url).pathname;

const skip = netnsUnavailable() ?? (spawnSync('ping', ['-V']).error ? 'ping (iputils-ping) is not installed' : null);

type Binding = { mnId: string; proxyCoa: string; hnps: string[]; state: string };
type Bul = { mnId: string; state: string; greKeyDownlink?: number | null; greKeyUplink?: number | null };

describe('data plane: an MN keeps its address and its traffic across a move between MAGs (user-space forwarder)', { skip: skip ?? false }, () => {
  const lab = new Lab('dp');
  const dir = mkdtempSync(join(tmpdir(), 'pmip6-e2e-dp-'));
  const children: Child[] = [];
  let nsL: Netns, nsM1: Netns, nsM2: Netns, nsCn: Netns;
  let l: Agent, a1: Agent, a2: Agent;
  let lma: Child;
  let db: { name: string; drop(): Promise<void> } | undefined;
  let bridge: PgBridge | undefined;

  const api = async <T>(a: Agent, port: number, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> => {
    const r = await a.call<{ status: number; body: string }>('fetch', { url: `http://127.0.0.1:${port}${path}`, method, body, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } });
    return { status: r.status, json: (r.body ? JSON.parse(r.body) : null) as T };
  };
  const bindings = async (): Promise<Binding[]> => (await api<{ items: Binding[] }>(l, 8080, 'GET', '/api/v1/bindings?limit=100')).json.items;
  const bul = async (a: Agent): Promise<Bul[]> => (await api<{ items: Bul[] }>(a, 8081, 'GET', '/api/v1/mag/bul?limit=100')).json.items;

  const startMag = async (ns: Netns, id: string, coa: string, gre: boolean, extra: Record<string, string> = {}): Promise<Child> => {
    const env = {
      ...extra,
      PMIP6_DATA_DIR: mkdtempSync(join(dir, `${id}-`)), PMIP6_API_HOST: '127.0.0.1', PMIP6_API_PORT: '8081', PMIP6_API_TOKEN: TOKEN,
      PMIP6_SNMP_ENABLED: 'false', PMIP6_MAG_HEARTBEAT_INTERVAL: '0', PMIP6_LOG_LEVEL: 'info',
      PMIP6_DATAPLANE_KIND: 'userspace', PMIP6_MAG_GRE_MODE: gre ? 'always' : 'never',
    };
    const c = pmip6(['mag', '--id', id, '--proxy-coa', coa, '--lma', LMAA], env, { prefix: ['ip', 'netns', 'exec', ns.name] });
    children.push(c);
    await until(`${id} up`, () => c.out().includes(`MAG ${id} running`) || c.child.exitCode !== null, 60_000);
    assert.equal(c.child.exitCode, null, c.out());
    assert.match(c.out(), /data plane: user-space forwarder on TUN pmip6-mag/);
    return c;
  };

  /**
   * The MAG end of an access link: the same link-layer and link-local address on every MAG
   * (RFC 6543), configured before the link comes up (as on a MAG whose access interface is
   * ready when the MN arrives): else the MN's first Neighbor Solicitation for the router
   * goes unanswered and it retries only after RetransTimer (1 s, RFC 4861 §10).
   */
  const accessUp = (ns: Netns, ifname: string): void => {
    ns.ip('link', 'set', ifname, 'down');
    ns.ip('link', 'set', ifname, 'address', MAG_MAC);
    ns.addAddress(ifname, `${MAG_LL}/64`);
    ns.ip('link', 'set', ifname, 'up');
  };

  const pingOnce = (mn: Netns): boolean => spawnSync('ip', ['netns', 'exec', mn.name, 'ping', '-6', '-c', '1', '-W', '1', CN]).status === 0;

  before(async () => {
    const d = buildPmipDomain(lab, '2001:db8:d1');
    ({ lma: nsL, mag1: nsM1, mag2: nsM2, cn: nsCn } = d);
    nsL.ip('addr', 'add', '203.0.113.1/24', 'dev', d.lmaToCn);
    nsCn.ip('addr', 'add', `${CN4}/24`, 'dev', d.cnIf);
    nsCn.ip('route', 'add', 'default', 'via', '203.0.113.1');
    lab.track(nsCn.spawn('/usr/bin/python3', [PROBE, 'echo', '7'], { stdio: 'ignore' }));
    [l, a1, a2] = await Promise.all([Agent.start(lab, nsL), Agent.start(lab, nsM1), Agent.start(lab, nsM2)]);

    db = await createPgDatabase('pmip6_e2e_dp');
    bridge = await pgUnixBridge();
    lma = pmip6(['start'], {
      PMIP6_DATA_DIR: join(dir, 'lma-data'), DATABASE_URL: bridge.url(db.name),
      PMIP6_RADIUS_ENABLED: 'false', PMIP6_SNMP_ENABLED: 'false',
      PMIP6_API_HOST: '127.0.0.1', PMIP6_API_PORT: '8080', PMIP6_API_TOKEN: TOKEN,
      PMIP6_LMA_ADDRESS: LMAA, PMIP6_LMA_HEARTBEAT_INTERVAL: '0',
      PMIP6_LMA_MIN_DELAY_BEFORE_BCE_DELETE: '2000', PMIP6_LMA_TIMESTAMP_VALIDITY_WINDOW: '10000',
      PMIP6_DATAPLANE_KIND: 'userspace', PMIP6_LOG_LEVEL: 'info',
    }, { prefix: ['ip', 'netns', 'exec', nsL.name] });
    children.push(lma);
    await until('LMA ready', async () => lma.child.exitCode !== null || (await l.call<{ status: number }>('fetch', { url: 'http://127.0.0.1:8080/readyz' }).catch(() => ({ status: 0 }))).status === 200, 90_000);
    assert.equal(lma.child.exitCode, null, lma.out());
    assert.match(lma.out(), /data plane: user-space forwarder on TUN pmip6-lma/);
    for (const [id, coa] of [['mag1', MAG1], ['mag2', MAG2]]) {
      assert.equal((await api(l, 8080, 'POST', '/api/v1/mags', { id, proxyCoa: [coa], authorized: true })).status, 201);
    }
  });

  after(async () => {
    for (const c of children) await stopProcess(c);
    await lab.cleanup();
    await bridge?.close();
    await db?.drop();
  });

  /** One MN through attach at MAG1, ping, move to MAG2, ping, detach; returns what was measured. */
  const moveOnce = async (variant: 'ip6ip6' | 'gre', mnId: string, hnp: string, mnAddr: string): Promise<void> => {
    const gre = variant === 'gre';
    assert.equal((await api(l, 8080, 'POST', '/api/v1/profiles', { mnId, hnps: [hnp], greKeyPolicy: gre ? 'optional' : 'none' })).status, 201);
    const mags = await Promise.all([startMag(nsM1, 'mag1', MAG1, gre), startMag(nsM2, 'mag2', MAG2, gre)]);
    const nsMn = lab.ns(`mn-${variant}`);
    const [mnIf, accessIf] = lab.link(nsMn, nsM1);
    nsMn.addAddress(mnIf, `${mnAddr}/64`);
    nsMn.ip('-6', 'route', 'add', 'default', 'via', MAG_LL, 'dev', mnIf);
    // RFC 6543: every MAG answers with the same link-local and link-layer address, so the MN's
    // neighbour entry for its router stays right across the move. A veth's carrier loss would
    // flush it (a Wi-Fi roam does not), and a Neighbor Solicitation sent while the link is
    // moving is retried only after 1 s (RFC 4861 RetransTimer): pin the entry, so what is
    // measured is the suite's part (registration, data plane), not the test's own link move.
    nsMn.ip('-6', 'neigh', 'replace', MAG_LL, 'lladdr', MAG_MAC, 'dev', mnIf, 'nud', 'permanent');
    accessUp(nsM1, accessIf);
    let cap: Capture | undefined;
    try {
      // Every interface of the LMA's namespace (the marker goes over loopback); the MAG links are told apart by address.
      cap = await Capture.start(lab, nsL, join(dir, `${variant}.pcapng`), (marker) => l.call('probe', { marker }));
      const attach = async (a: Agent, hi: number) =>
        assert.equal((await api(a, 8081, 'POST', '/api/v1/mag/attach', { mnId, link: accessIf, handoffIndicator: hi, mnLinkLayerId: '02:00:00:00:d1:05' })).status, 202);
      await attach(a1, 1);
      await until('registered at MAG1', async () => (await bindings()).some((b) => b.mnId === mnId && b.proxyCoa === MAG1) && (await bul(a1)).some((b) => b.mnId === mnId && b.state === 'registered'), 30_000);
      await until('MN reaches the CN through MAG1', () => pingOnce(nsMn), 20_000);

      // The move: the MAG end of the MN's link goes to MAG2's namespace; MAG2 registers the MN (HI 3), MAG1 lets it go.
      const p = udpPinger(lab, nsMn, CN);
      await until('steady pings', () => p.replies.length >= 20, 20_000);
      const moveStart = Date.now();
      nsM1.ip('link', 'set', accessIf, 'netns', nsM2.name);
      accessUp(nsM2, accessIf);
      const moveDone = Date.now(); // from here on a reply can only have come through MAG2
      await attach(a2, 3);
      assert.equal((await api(a1, 8081, 'POST', '/api/v1/mag/detach', { mnId, link: accessIf })).status, 202);
      await until('binding at MAG2', async () => (await bindings()).some((b) => b.mnId === mnId && b.proxyCoa === MAG2 && b.state !== 'deregistering'), 30_000);
      const registered = Date.now();
      await until('pings resume through MAG2', () => p.replies.some((t) => t > moveDone), 30_000);
      const last = p.replies.filter((t) => t <= moveStart).at(-1) ?? moveStart;
      const first = p.replies.find((t) => t > moveDone)!;
      process.stdout.write(
        `# ${variant}: ${Math.round(first - moveStart)} ms from the link move to the first reply through MAG2 ` +
          `(the test's own link move took ${moveDone - moveStart} ms, the LMA's binding was seen at MAG2 after ${registered - moveStart} ms; last reply before the move to first after: ${Math.round(first - last)} ms; UDP probe every 5 ms)\n`,
      );
      const n = p.replies.length;
      await until('more replies', () => p.replies.length >= n + 10, 10_000);
      p.child.kill('SIGINT');
      const [b] = (await bindings()).filter((x) => x.mnId === mnId);
      assert.equal(b.proxyCoa, MAG2, 'the LMA binding points at MAG2');
      assert.deepEqual(b.hnps, [hnp], 'the same prefix after the move');
      const keys = (await bul(a2)).find((x) => x.mnId === mnId);
      assert.ok(keys, 'MAG2 has the MN in its BUL');

      // On the wire: the MN's packets between the MAGs and the LMA are encapsulated, decoded clean by tshark.
      await cap.stop();
      const file = cap.file;
      // The suite's own part of the interruption, from the wire: MAG2's PBA (RFC 5213 §6.9.1.2)
      // to the first of the MN's packets MAG2 tunnels (its data plane programmed in between).
      const times = (filter: string) => tshark(['-r', file, '-Y', filter, '-T', 'fields', '-e', 'frame.time_epoch']).split('\n').filter(Boolean).map(Number);
      const firstUp = times(`ipv6.src == ${MAG2} && udp.dstport == 7`)[0];
      const pba = times(`mip6.mhtype == 6 && ipv6.dst == ${MAG2}`).filter((t) => t <= firstUp).at(-1);
      const pbu = times(`mip6.mhtype == 5 && ipv6.src == ${MAG2}`).filter((t) => pba !== undefined && t <= pba).at(-1);
      if (pba !== undefined && firstUp !== undefined && pbu !== undefined) {
        process.stdout.write(`# ${variant}: MAG2's PBU to the LMA's PBA ${((pba - pbu) * 1000).toFixed(1)} ms (the LMA moved the binding and its forwarding state), the PBA to the first packet MAG2 tunnels ${((firstUp - pba) * 1000).toFixed(1)} ms\n`);
      }
      for (const i of [0, 1]) {
        const inner = gre ? 'gre && ipv6.src == ' : 'ipv6.nxt == 41 && ipv6.src == ';
        const fields = tshark(['-r', file, '-Y', `${inner}${[LMAA, MAG1, MAG2][i === 0 ? 1 : 2]} && udp.dstport == 7`, '-T', 'fields', '-e', 'ipv6.src', '-e', 'ipv6.dst', ...(gre ? ['-e', 'gre.key'] : [])]).split('\n').filter(Boolean);
        assert.ok(fields.length > 0, `${variant}: UDP probes tunnelled from MAG${i + 1} to the LMA`);
        for (const f of fields) {
          const [srcs, dsts] = f.split('\t');
          assert.deepEqual(srcs.split(','), [i === 0 ? MAG1 : MAG2, mnAddr], 'outer source the Proxy-CoA, inner source the MN');
          assert.deepEqual(dsts.split(','), [LMAA, CN]);
        }
        const down = tshark(['-r', file, '-Y', `${gre ? 'gre' : 'ipv6.nxt == 41'} && ipv6.src == ${LMAA} && ipv6.dst == ${i === 0 ? MAG1 : MAG2} && udp.srcport == 7`, '-T', 'fields', '-e', 'ipv6.dst', ...(gre ? ['-e', 'gre.key'] : [])]).split('\n').filter(Boolean);
        assert.ok(down.length > 0, `${variant}: UDP answers tunnelled from the LMA to MAG${i + 1}`);
        if (gre) {
          // RFC 5845 §3: uplink packets carry the key the LMA chose, downlink the one the MAG chose.
          const upKeys = new Set(fields.map((f) => f.split('\t')[2]));
          const downKeys = new Set(down.map((f) => f.split('\t')[1]));
          assert.equal(upKeys.size, 1, `one uplink key (${[...upKeys].join(',')})`);
          assert.equal(downKeys.size, 1, `one downlink key (${[...downKeys].join(',')})`);
          if (i === 1) {
            assert.equal(Number([...upKeys][0]), keys.greKeyUplink, 'the uplink GRE key the PBA gave');
            assert.equal(Number([...downKeys][0]), keys.greKeyDownlink, 'the downlink GRE key the MAG offered');
          }
        }
        assert.deepEqual(problems(file, `ipv6.addr == ${i === 0 ? MAG1 : MAG2}`), [], `${variant}: no malformed frame on the link to MAG${i + 1}`);
      }

      // Hostile input at MAG2 (from the LMA's namespace, raw sockets): a GRE packet with a key no
      // tunnel expects, one from an address that is no tunnel peer, and an IPv6-in-IPv6 packet
      // whose inner destination is no MN of that tunnel: each dropped and counted, none delivered.
      const metric = async (a: Agent, port: number, re: RegExp): Promise<number> => Number(re.exec((await a.call<{ body: string }>('fetch', { url: `http://127.0.0.1:${port}/metrics` })).body)?.[1] ?? 0);
      const inner = `bytes.fromhex('6000000000083b40') + socket.inet_pton(socket.AF_INET6, '${CN}') + socket.inet_pton(socket.AF_INET6, '${mnAddr}') + bytes(8)`;
      const forge = (proto: number, src: string, payload: string) =>
        spawnSync('ip', ['netns', 'exec', nsL.name, '/usr/bin/python3', '-c', `import socket\ns = socket.socket(socket.AF_INET6, socket.SOCK_RAW, ${proto})\ns.bind(('${src}', 0))\ns.sendto(${payload}, ('${MAG2}', 0))`], { encoding: 'utf8' });
      for (const r of [
        forge(47, LMAA, `bytes.fromhex('200086dddeadbeef') + ${inner}`),
        forge(41, '2001:db8:d1:2::1', inner),
        forge(gre ? 47 : 41, LMAA, `${gre ? `bytes.fromhex('200086dd') + (${keys.greKeyDownlink ?? 0}).to_bytes(4, 'big') + ` : ''}bytes.fromhex('6000000000083b40') + socket.inet_pton(socket.AF_INET6, '${CN}') + socket.inet_pton(socket.AF_INET6, '2001:db8:d1:ffff::9') + bytes(8)`),
      ]) assert.equal(r.status, 0, r.stderr);
      const drop = (cause: string) => metric(a2, 8081, new RegExp(`pmip6_dataplane_dropped_total\\{role="mag",direction="from-tunnel",cause="${cause}"\\} (\\d+)`));
      if (gre) await until('bad key counted', async () => (await drop('badKey')) >= 1, 10_000);
      await until('unknown peer counted', async () => (await drop('unknownPeer')) >= 1, 10_000);
      await until('no binding counted', async () => (await drop('noBinding')) >= 1, 10_000);
      assert.ok((await metric(a2, 8081, /pmip6_dataplane_packets_total\{role="mag",direction="from-tunnel"\} (\d+)/)) > 0, 'MAG2 decapsulated the MN\'s traffic');
      assert.ok((await metric(l, 8080, /pmip6_dataplane_packets_total\{role="lma",direction="to-tunnel"\} (\d+)/)) > 0, 'the LMA encapsulated traffic to the MN');

      // De-registration removes the forwarding state: no HNP route at the LMA, no rule at MAG2.
      assert.equal((await api(a2, 8081, 'POST', '/api/v1/mag/detach', { mnId, link: accessIf })).status, 202);
      await until('binding gone', async () => !(await bindings()).some((x) => x.mnId === mnId), 30_000);
      await until('LMA route removed', () => !nsL.ip('-6', 'route', 'show', 'table', TABLE_LMA).includes(hnp.split('/')[0]), 10_000);
      await until('MAG2 rules removed', () => !nsM2.ip('-6', 'rule', 'show').includes(hnp.split('/')[0]), 10_000);
      assert.ok(!pingOnce(nsMn), 'no forwarding without a binding');
    } finally {
      await cap?.stop().catch(() => undefined);
      for (const m of mags) await stopProcess(m);
      children.splice(children.indexOf(mags[0]), 2);
    }
    // Shutdown removes the rest: no TUN device, no rule looking up the MAGs' table.
    for (const ns of [nsM1, nsM2]) {
      assert.ok(!ns.ip('link', 'show').includes('pmip6-mag'), `no TUN device left in ${ns.name}`);
      assert.ok(!ns.ip('-6', 'rule', 'show').includes(`lookup ${TABLE_MAG}`), `no rule left in ${ns.name}`);
    }
  };

  it('IPv6-in-IPv6: ping through MAG1, link moves to MAG2, ping resumes, binding at MAG2; encapsulation decoded clean', async () => {
    await moveOnce('ip6ip6', 'mn1@dp.example', '2001:db8:d1:f001::/64', '2001:db8:d1:f001::5');
  });

  it('an IPv4 home address (RFC 5844) over IPv6 transport: IPv4-in-IPv6 through MAG1, the move, through MAG2', async () => {
    const mnId = 'mn4@dp.example';
    const hoa = '10.77.0.5';
    assert.equal((await api(l, 8080, 'POST', '/api/v1/profiles', { mnId, hnps: ['2001:db8:d1:f004::/64'], ipv4HoA: hoa })).status, 201);
    const mags = await Promise.all([startMag(nsM1, 'mag1', MAG1, false, { PMIP6_MAG_REQUEST_IPV4: 'true' }), startMag(nsM2, 'mag2', MAG2, false, { PMIP6_MAG_REQUEST_IPV4: 'true' })]);
    const nsMn = lab.ns('mn-ip4');
    const [mnIf, accessIf] = lab.link(nsMn, nsM1);
    // The IPv4 default router is the same address and link-layer address on every MAG (RFC 5844 §3.2.2's DHCP/static per profile).
    const access4 = (ns: Netns) => {
      accessUp(ns, accessIf);
      ns.ip('addr', 'add', '10.77.0.1/24', 'dev', accessIf);
    };
    nsMn.ip('addr', 'add', `${hoa}/24`, 'dev', mnIf);
    nsMn.ip('route', 'add', 'default', 'via', '10.77.0.1');
    nsMn.ip('neigh', 'replace', '10.77.0.1', 'lladdr', MAG_MAC, 'dev', mnIf, 'nud', 'permanent');
    access4(nsM1);
    const ping4 = (): boolean => spawnSync('ip', ['netns', 'exec', nsMn.name, 'ping', '-4', '-c', '1', '-W', '1', CN4]).status === 0;
    let cap: Capture | undefined;
    try {
      cap = await Capture.start(lab, nsL, join(dir, 'ip4.pcapng'), (marker) => l.call('probe', { marker }));
      const attach = async (a: Agent, hi: number) => assert.equal((await api(a, 8081, 'POST', '/api/v1/mag/attach', { mnId, link: accessIf, handoffIndicator: hi })).status, 202);
      await attach(a1, 1);
      await until('IPv4 HoA registered at MAG1', async () => (await bindings()).some((b) => b.mnId === mnId && b.proxyCoa === MAG1), 30_000);
      await until('the MN reaches the CN over IPv4 through MAG1', ping4, 20_000);
      nsM1.ip('link', 'set', accessIf, 'netns', nsM2.name);
      access4(nsM2);
      await attach(a2, 3);
      assert.equal((await api(a1, 8081, 'POST', '/api/v1/mag/detach', { mnId, link: accessIf })).status, 202);
      await until('binding at MAG2', async () => (await bindings()).some((b) => b.mnId === mnId && b.proxyCoa === MAG2 && b.state !== 'deregistering'), 30_000);
      await until('the MN reaches the CN over IPv4 through MAG2', ping4, 20_000);
      await cap.stop();
      for (const mag of [MAG1, MAG2]) {
        // RFC 5844 §3.1.2.2: IPv4 in IPv6, Next Header 4.
        const up = tshark(['-r', cap.file, '-Y', `ipv6.src == ${mag} && ipv6.nxt == 4 && ip.src == ${hoa} && icmp.type == 8`, '-T', 'fields', '-e', 'ip.dst']).split('\n').filter(Boolean);
        const down = tshark(['-r', cap.file, '-Y', `ipv6.dst == ${mag} && ipv6.nxt == 4 && ip.dst == ${hoa} && icmp.type == 0`, '-T', 'fields', '-e', 'ip.src']).split('\n').filter(Boolean);
        assert.ok(up.length > 0 && up.every((d) => d === CN4), `IPv4 echo requests from the HoA tunnelled by ${mag}`);
        assert.ok(down.length > 0 && down.every((d) => d === CN4), `IPv4 echo replies tunnelled to ${mag}`);
      }
      assert.deepEqual(problems(cap.file, 'ipv6.nxt == 4'), [], 'no malformed IPv4-in-IPv6 frame');
      assert.equal((await api(a2, 8081, 'POST', '/api/v1/mag/detach', { mnId, link: accessIf })).status, 202);
      await until('binding gone', async () => !(await bindings()).some((x) => x.mnId === mnId), 30_000);
      await until('LMA IPv4 route removed', () => !nsL.ip('-4', 'route', 'show', 'table', TABLE_LMA).includes(hoa), 10_000);
      assert.ok(!ping4(), 'no IPv4 forwarding without a binding');
    } finally {
      await cap?.stop().catch(() => undefined);
      for (const m of mags) await stopProcess(m);
      children.splice(children.indexOf(mags[0]), 2);
    }
  });

  it('a MAG killed with bindings leaves rules behind; its next start removes them (reconcile) and says so', async () => {
    const mnId = 'mn5@dp.example';
    assert.equal((await api(l, 8080, 'POST', '/api/v1/profiles', { mnId, hnps: ['2001:db8:d1:f005::/64'] })).status, 201);
    const m = await startMag(nsM1, 'mag1', MAG1, false);
    assert.equal((await api(a1, 8081, 'POST', '/api/v1/mag/attach', { mnId, link: 'ap-mn5', handoffIndicator: 1 })).status, 202);
    await until('registered', async () => (await bul(a1)).some((b) => b.mnId === mnId && b.state === 'registered'), 30_000);
    await until('rule installed', () => nsM1.ip('-6', 'rule', 'show').includes('2001:db8:d1:f005::/64'), 10_000);
    m.child.kill('SIGKILL');
    await m.exited;
    children.splice(children.indexOf(m), 1);
    assert.ok(nsM1.ip('-6', 'rule', 'show').includes('2001:db8:d1:f005::/64'), 'a crash leaves the rule');
    assert.ok(!nsM1.ip('link', 'show').includes('pmip6-mag'), 'the TUN device went with the process');
    const again = await startMag(nsM1, 'mag1', MAG1, false);
    assert.match(again.out(), /removed rules and routes a previous run left behind/);
    assert.ok(!nsM1.ip('-6', 'rule', 'show').includes('2001:db8:d1:f005::/64'), 'the stale rule is gone');
    await stopProcess(again);
    children.splice(children.indexOf(again), 1);
  });

  it('GRE with RFC 5845 keys: the same move, packets carry the negotiated keys', async () => {
    await moveOnce('gre', 'mn2@dp.example', '2001:db8:d1:f002::/64', '2001:db8:d1:f002::5');
  });
});
