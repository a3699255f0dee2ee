// Issue 13, IPv4 transport (RFC 5844 §4): the MAGs and the LMA signal over IPv4/UDP 5436 (an
// IPv4 Proxy-CoA and an IPv4 LMAA) and the user-space forwarder carries the MN's packets in
// IPv4: IPv6-in-IPv4 (protocol 41) for an IPv6 HNP, IPv4-in-IPv4 (protocol 4) and GRE over
// IPv4 (protocol 47 with the RFC 5845 keys) and IPv4-UDP (§4.1, UDP 5437, the MAG's F flag
// honoured by the LMA) for an IPv4 home address. Real `pmip6` processes
// in namespaces (p6t-v4t-*), an MN attached through the MAG's attach API pings the CN through
// MAG1, its link moves to MAG2, the traffic resumes and the LMA's binding points at MAG2. A
// capture on the MAG-LMA links is decoded by tshark (outer IPv4, protocol and GRE keys,
// nothing malformed); packets forged from an IPv4 address that is no tunnel peer (and, for
// GRE, with a key no tunnel expects) are dropped and counted. Everything is removed even when
// the test fails.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, netnsUnavailable, type Netns } from '../helpers/netns.ts';
import { buildPmipDomain } from '../helpers/pmipv6-domain.ts';
import { forwarded, runIn, startSuiteLma, startSuiteMag, udpEcho, udpPinger, type SuiteLma } from '../helpers/pmipv6-suite.ts';
import { Agent } from '../helpers/ns-agent-client.ts';
import { Capture, problems, tshark } from '../helpers/capture.ts';
import { stopProcess, type Child } from '../helpers/cli.ts';
import { until } from '../helpers/until.ts';
import { loadNative } from '../../src/transport/native.ts';

const NET = '2001:db8:d9';
const LMAA = '198.51.100.1'; // the LMA's IPv4 address (RFC 5844 IPv4 LMAA), on its loopback
const MAG1 = '198.18.1.2'; // IPv4 Proxy-CoAs
const MAG2 = '198.18.2.2';
const NOT_PEER = '198.18.2.1'; // the LMA's own address on MAG2's link: no tunnel's endpoint
const CN6 = `${NET}:c::2`;
const CN4 = '203.0.113.2';
const TOKEN = 'e2e-v4t-token';
const MAG_LL = 'fe80::1';
const MAG_MAC = '02:00:5e:d9:00:01';

const skip = netnsUnavailable() ?? (loadNative().ok ? null : 'native addon not built') ?? (spawnSync('ping', ['-V']).error ? 'ping (iputils-ping) is not installed' : null);

type Binding = { mnId: string; proxyCoa: string; hnps: string[]; ipv4HoA: string | null; state: string };
type Bul = { mnId: string; state: string; greKeyDownlink?: number | null; greKeyUplink?: number | null };
type Variant = 'ip6-in-ip4' | 'ip4-in-ip4' | 'gre-ip4' | 'udp-ip4';

describe('IPv4 transport (RFC 5844 §4): the user-space forwarder tunnels over IPv4 across a move between MAGs', { skip: skip ?? false }, () => {
  const lab = new Lab('v4t');
  const dir = mkdtempSync(join(tmpdir(), 'pmip6-e2e-v4t-'));
  const mags: Child[] = [];
  let nsL: Netns, nsM1: Netns, nsM2: Netns;
  let a1: Agent, a2: Agent;
  let lma: SuiteLma | undefined;

  const magApi = async <T>(a: Agent, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> => {
    const r = await a.call<{ status: number; body: string }>('fetch', { url: `http://127.0.0.1:8081${path}`, method, body, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } });
    return { status: r.status, json: (r.body ? JSON.parse(r.body) : null) as T };
  };
  const bindings = async (mnId: string): Promise<Binding[]> => (await lma!.api<{ items: Binding[] }>('/api/v1/bindings?limit=100')).json.items.filter((b) => b.mnId === mnId);
  const bul = async (a: Agent, mnId: string): Promise<Bul | undefined> => (await magApi<{ items: Bul[] }>(a, 'GET', '/api/v1/mag/bul?limit=100')).json.items.find((b) => b.mnId === mnId);
  const metric = async (a: Agent, re: RegExp): Promise<number> => Number(re.exec((await a.call<{ body: string }>('fetch', { url: 'http://127.0.0.1:8081/metrics' })).body)?.[1] ?? 0);
  const drop = (a: Agent, cause: string) => metric(a, new RegExp(`pmip6_dataplane_dropped_total\\{role="mag",direction="from-tunnel",cause="${cause}"\\} (\\d+)`));

  before(async () => {
    const d = buildPmipDomain(lab, NET);
    ({ lma: nsL, mag1: nsM1, mag2: nsM2 } = d);
    // IPv4 transport: the LMA's IPv4 LMAA on its loopback, an IPv4 subnet on each MAG link.
    nsL.ip('addr', 'add', `${LMAA}/32`, 'dev', 'lo');
    nsL.ip('addr', 'add', '198.18.1.1/24', 'dev', d.links.lmaToMag1);
    nsL.ip('addr', 'add', '198.18.2.1/24', 'dev', d.links.lmaToMag2);
    nsM1.ip('addr', 'add', `${MAG1}/24`, 'dev', d.links.mag1);
    nsM2.ip('addr', 'add', `${MAG2}/24`, 'dev', d.links.mag2);
    nsM1.ip('route', 'add', `${LMAA}/32`, 'via', '198.18.1.1');
    nsM2.ip('route', 'add', `${LMAA}/32`, 'via', '198.18.2.1');
    nsL.ip('addr', 'add', '203.0.113.1/24', 'dev', d.lmaToCn);
    d.cn.ip('addr', 'add', `${CN4}/24`, 'dev', d.cnIf);
    d.cn.ip('route', 'add', 'default', 'via', '203.0.113.1');
    udpEcho(lab, d.cn);
    [a1, a2] = await Promise.all([Agent.start(lab, nsM1), Agent.start(lab, nsM2)]);
    // RFC 5844 §5 AcceptForcedIPv4UDPEncapsulationRequest: the F flag of a MAG that asks is honoured (IPv4-UDP).
    lma = await startSuiteLma(lab, nsL, { dir, lmaa: LMAA, token: TOKEN, dbPrefix: 'pmip6_e2e_v4t', env: { PMIP6_LMA_ACCEPT_FORCED_IPV4_UDP_ENCAPSULATION: 'true' } });
    assert.match(lma.child.out(), /over IPv4\/UDP, RFC 5844/);
    for (const [id, coa] of [['mag1', MAG1], ['mag2', MAG2]]) assert.equal((await lma.api('/api/v1/mags', 'POST', { id, proxyCoa: [coa], authorized: true })).status, 201);
  });

  after(async () => {
    for (const m of mags) await stopProcess(m).catch(() => undefined);
    await lma?.close().catch(() => undefined);
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The MAG end of the access link: the same link-layer, link-local and IPv4 router address on every MAG (RFC 6543). */
  const accessUp = (ns: Netns, ifname: string, v4: boolean): void => {
    ns.ip('link', 'set', ifname, 'down');
    ns.ip('link', 'set', ifname, 'address', MAG_MAC);
    if (v4) ns.ip('addr', 'add', '10.79.0.1/24', 'dev', ifname);
    else ns.addAddress(ifname, `${MAG_LL}/64`);
    ns.ip('link', 'set', ifname, 'up');
  };

  const moveOnce = async (variant: Variant, n: number): Promise<void> => {
    const v4 = variant !== 'ip6-in-ip4';
    const gre = variant === 'gre-ip4';
    const udp = variant === 'udp-ip4';
    const mnId = `mn${n}@v4t.example`;
    const hnp = `${NET}:f00${n}::/64`;
    const mnAddr = v4 ? `10.79.0.${n + 4}` : `${NET}:f00${n}::5`;
    const cn = v4 ? CN4 : CN6;
    const profile = { mnId, hnps: [hnp], greKeyPolicy: gre ? 'required' : 'none', ...(v4 ? { ipv4HoA: mnAddr, ipv4PrefixLength: 24, ipv4DefaultRouter: '10.79.0.1' } : {}) };
    assert.equal((await lma!.api('/api/v1/profiles', 'POST', profile)).status, 201);
    const env = { PMIP6_MAG_GRE_MODE: gre ? 'always' : 'never', PMIP6_MAG_REQUEST_IPV4: v4 ? 'true' : 'false', PMIP6_MAG_FORCE_IPV4_UDP_ENCAPSULATION: udp ? 'true' : 'false' };
    const started = await Promise.all([
      startSuiteMag(lab, nsM1, { dir, id: 'mag1', coa: MAG1, lmaa: LMAA, token: TOKEN, env }),
      startSuiteMag(lab, nsM2, { dir, id: 'mag2', coa: MAG2, lmaa: LMAA, token: TOKEN, env }),
    ]);
    mags.push(...started);
    const nsMn = lab.ns(`mn${n}`);
    const [mnIf, accessIf] = lab.link(nsMn, nsM1);
    if (v4) {
      nsMn.ip('addr', 'add', `${mnAddr}/24`, 'dev', mnIf);
      nsMn.ip('route', 'add', 'default', 'via', '10.79.0.1');
      nsMn.ip('neigh', 'replace', '10.79.0.1', 'lladdr', MAG_MAC, 'dev', mnIf, 'nud', 'permanent');
    } else {
      nsMn.addAddress(mnIf, `${mnAddr}/64`);
      nsMn.ip('-6', 'route', 'add', 'default', 'via', MAG_LL, 'dev', mnIf);
      nsMn.ip('-6', 'neigh', 'replace', MAG_LL, 'lladdr', MAG_MAC, 'dev', mnIf, 'nud', 'permanent');
    }
    accessUp(nsM1, accessIf, v4);
    const ping = async (): Promise<boolean> => (await runIn(nsMn, 'ping', [v4 ? '-4' : '-6', '-c', '1', '-W', '1', cn])).status === 0;
    const diag = (what: string) => (e: unknown) => {
      throw new Error(`${what}: ${(e as Error).message}\nMAG1 ${started[0].out().slice(-2000)}\nMAG2 ${started[1].out().slice(-2000)}\nLMA ${lma!.child.out().slice(-2000)}`);
    };
    let cap: Capture | undefined;
    try {
      cap = await Capture.start(lab, nsL, join(dir, `${variant}.pcapng`), (marker) => lma!.agent.call('probe', { marker }));
      const attach = async (a: Agent, hi: number) => assert.equal((await magApi(a, 'POST', '/api/v1/mag/attach', { mnId, link: accessIf, handoffIndicator: hi })).status, 202);
      await attach(a1, 1);
      await until('registered at MAG1', async () => (await bindings(mnId)).some((b) => b.proxyCoa === MAG1) && (await bul(a1, mnId))?.state === 'registered', 30_000).catch(diag('no binding at MAG1'));
      await until('the MN reaches the CN through MAG1', ping, 20_000).catch(diag('no ping through MAG1'));

      const p = udpPinger(lab, nsMn, cn);
      await until('steady answers', () => p.replies.length >= 20, 20_000);
      const moveStart = Date.now();
      nsM1.ip('link', 'set', accessIf, 'netns', nsM2.name);
      accessUp(nsM2, accessIf, v4);
      const moveDone = Date.now(); // from here on an answer can only have come through MAG2
      await attach(a2, 3);
      assert.equal((await magApi(a1, 'POST', '/api/v1/mag/detach', { mnId, link: accessIf })).status, 202);
      await until('binding at MAG2', async () => (await bindings(mnId)).some((b) => b.proxyCoa === MAG2 && b.state !== 'deregistering'), 30_000).catch(diag('no binding at MAG2'));
      await until('answers resume through MAG2', () => p.replies.some((t) => t > moveDone), 30_000).catch(diag('no answer through MAG2'));
      const first = p.replies.find((t) => t > moveDone)!;
      process.stdout.write(`# ${variant}: ${Math.round(first - moveStart)} ms from the link move to the first answer through MAG2 (the test's own link move took ${moveDone - moveStart} ms; UDP probe every 5 ms)\n`);
      p.child.kill('SIGINT');
      const [b] = await bindings(mnId);
      assert.equal(b.proxyCoa, MAG2, 'the LMA binding points at MAG2');
      if (v4) assert.equal(b.ipv4HoA, mnAddr, 'the same IPv4 home address after the move');
      else assert.deepEqual(b.hnps, [hnp], 'the same prefix after the move');
      const keys = await bul(a2, mnId);
      if (gre) assert.ok(keys?.greKeyUplink != null && keys.greKeyDownlink != null, `GRE keys negotiated at MAG2 (RFC 5845): ${JSON.stringify(keys)}`);
      assert.ok((await forwarded(a2, 8081, 'mag', 'to-tunnel')) > 0 && (await forwarded(a2, 8081, 'mag', 'from-tunnel')) > 0, 'MAG2 forwarded both ways');

      // On the wire: outer IPv4 between the Proxy-CoA and the LMAA, the protocol of the variant.
      await cap.stop();
      const proto = udp ? 17 : gre ? 47 : v4 ? 4 : 41;
      const inner = v4 ? 'ip' : 'ipv6';
      // IPv4-UDP (RFC 5844 §4.1): UDP 5437 both ways, its payload decoded as the inner IPv4 packet.
      const dec = udp ? ['-d', 'udp.port==5437,ip'] : [];
      const outer = udp ? 'udp.srcport == 5437 && udp.dstport == 5437' : `ip.proto == ${proto}`;
      for (const mag of [MAG1, MAG2]) {
        const up: string[] = tshark(['-r', cap.file, ...dec, '-Y', `${outer} && ip.src == ${mag} && ip.dst == ${LMAA} && udp.dstport == 7`, '-T', 'fields', '-e', `${inner}.src`, '-e', `${inner}.dst`, ...(gre ? ['-e', 'gre.key'] : [])]).split('\n').filter(Boolean);
        const down: string[] = tshark(['-r', cap.file, ...dec, '-Y', `${outer} && ip.src == ${LMAA} && ip.dst == ${mag} && udp.srcport == 7`, '-T', 'fields', '-e', `${inner}.dst`, ...(gre ? ['-e', 'gre.key'] : [])]).split('\n').filter(Boolean);
        assert.ok(up.length > 0, `${variant}: probes tunnelled from ${mag} to the LMA over IPv4 protocol ${proto}`);
        assert.ok(down.length > 0, `${variant}: answers tunnelled from the LMA to ${mag}`);
        for (const f of up) {
          const [srcs, dsts] = f.split('\t');
          // For an IPv4 inner packet tshark lists the outer and the inner IPv4 addresses.
          assert.equal(srcs.split(',').at(-1), mnAddr, 'inner source the MN');
          assert.equal(dsts.split(',').at(-1), cn, 'inner destination the CN');
        }
        if (gre) {
          const upKeys = new Set(up.map((f) => f.split('\t')[2]));
          const downKeys = new Set(down.map((f) => f.split('\t')[1]));
          assert.equal(upKeys.size, 1, `one uplink key (${[...upKeys].join(',')})`);
          assert.equal(downKeys.size, 1, `one downlink key (${[...downKeys].join(',')})`);
          if (mag === MAG2) {
            assert.equal(Number([...upKeys][0]), keys!.greKeyUplink, 'the uplink GRE key the PBA gave (RFC 5845 §3)');
            assert.equal(Number([...downKeys][0]), keys!.greKeyDownlink, 'the downlink GRE key the MAG offered');
          }
        }
        assert.deepEqual(problems(cap.file, `ip.addr == ${mag}`), [], `${variant}: no malformed frame on the link to ${mag}`);
      }
      // The MAGs have IPv6 addresses on these links too: none of the MN's packets went over IPv6 transport.
      assert.equal(tshark(['-r', cap.file, '-Y', `(ipv6.addr == ${NET}:1::2 || ipv6.addr == ${NET}:2::2) && udp.port == 7`]).trim(), '', 'nothing of the MN over IPv6 transport');

      // Hostile input at MAG2 (raw IPv4 sockets in the LMA's namespace): the variant's
      // encapsulation from an address that is no tunnel peer; for GRE also the right peer with a
      // key no tunnel expects. Dropped and counted, never delivered.
      const innerPkt = v4
        ? `bytes.fromhex('4500001c00000000401100000a4fffff') + socket.inet_aton('${mnAddr}') + bytes(8)`
        : `bytes.fromhex('6000000000083b40') + socket.inet_pton(socket.AF_INET6, '${CN6}') + socket.inet_pton(socket.AF_INET6, '${mnAddr}') + bytes(8)`;
      const greHdr = (key: number) => `bytes.fromhex('2000${v4 ? '0800' : '86dd'}') + (${key}).to_bytes(4, 'big') + `;
      const forge = (src: string, payload: string) =>
        runIn(nsL, '/usr/bin/python3', ['-c', `import socket\ns = socket.socket(socket.AF_INET, ${udp ? 'socket.SOCK_DGRAM' : `socket.SOCK_RAW, ${proto}`})\ns.bind(('${src}', 0))\ns.sendto(${payload}, ('${MAG2}', ${udp ? 5437 : 0}))`]);
      const was = { peer: await drop(a2, 'unknownPeer'), key: await drop(a2, 'badKey') };
      const delivered = await forwarded(a2, 8081, 'mag', 'from-tunnel');
      let r = await forge(NOT_PEER, `${gre ? greHdr(keys!.greKeyDownlink!) : ''}${innerPkt}`);
      assert.equal(r.status, 0, r.stderr);
      await until('unknown peer counted', async () => (await drop(a2, 'unknownPeer')) > was.peer, 10_000);
      if (gre) {
        r = await forge(LMAA, `${greHdr((keys!.greKeyDownlink! ^ 0x5a5a5a5a) >>> 0)}${innerPkt}`);
        assert.equal(r.status, 0, r.stderr);
        await until('bad key counted', async () => (await drop(a2, 'badKey')) > was.key, 10_000);
      }
      assert.equal(await forwarded(a2, 8081, 'mag', 'from-tunnel'), delivered, 'no forged packet delivered');

      // De-registration removes the forwarding state.
      assert.equal((await magApi(a2, 'POST', '/api/v1/mag/detach', { mnId, link: accessIf })).status, 202);
      await until('binding gone', async () => (await bindings(mnId)).length === 0, 30_000);
      assert.ok(!(await ping()), 'no forwarding without a binding');
    } finally {
      await cap?.stop().catch(() => undefined);
      for (const m of started) await stopProcess(m).catch(() => undefined);
      mags.splice(mags.indexOf(started[0]), 2);
    }
  };

  it('IPv6-in-IPv4 (protocol 41): an IPv6 HNP over IPv4 transport, ping through MAG1, the move, through MAG2; forged packets dropped', async () => {
    await moveOnce('ip6-in-ip4', 1);
  });

  it('IPv4-in-IPv4 (protocol 4): an IPv4 home address over IPv4 transport, the same move', async () => {
    await moveOnce('ip4-in-ip4', 2);
  });

  it('GRE over IPv4 (protocol 47) with RFC 5845 keys and an IPv4 home address: the same move, packets carry the negotiated keys', async () => {
    await moveOnce('gre-ip4', 3);
  });

  it('IPv4-UDP (RFC 5844 §4.1, the F flag honoured): an IPv4 home address in UDP 5437 over IPv4 transport, the same move', async () => {
    await moveOnce('udp-ip4', 4);
  });
});
