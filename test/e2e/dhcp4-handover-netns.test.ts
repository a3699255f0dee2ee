// Issue 13, "Done when", second item: the SLAAC handover (slaac-handover-netns.test.ts) with an
// IPv4 host and GRE keys. An UNMODIFIED IPv4-only MN (IPv6 off; busybox udhcpc is all it runs)
// is detected by MAG1's access-link detector from its DHCPDISCOVER, registered with an IPv4
// home address (RFC 5844 §3.1.2.2, from its profile) over a GRE tunnel with RFC 5845 keys
// (mag.greMode=always, the profile's greKeyPolicy required), gets that address by DHCP
// (RFC 5844 §3.4), and reaches the CN through the user-space forwarder. Its link moves to
// MAG2 (the MAG end of its veth goes to MAG2's namespace: a carrier flap, after which the
// host's only packets are its ARP requests for its default router); it keeps its address,
// its traffic resumes through MAG2's GRE tunnel, the LMA's binding points at MAG2, and a
// DHCP request at MAG2 hands out the same address. The interruption (link move to first
// answer through MAG2) is reported, never asserted. Namespaces (p6t-vrfd-*) and processes
// are removed even when the test fails.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, netnsUnavailable, type Netns } from '../helpers/netns.ts';
import { buildPmipDomain } from '../helpers/pmipv6-domain.ts';
import { forwarded, runIn, startSuiteLma, startSuiteMag, udpEcho, udpPinger, type SuiteLma, moveAccessLink, moveTimeline } from '../helpers/pmipv6-suite.ts';
import { Agent } from '../helpers/ns-agent-client.ts';
import { stopProcess, type Child } from '../helpers/cli.ts';
import { until } from '../helpers/until.ts';
import { loadNative } from '../../src/transport/native.ts';

const NET = '2001:db8:d8';
const LMAA = `${NET}::1`;
const MAG1 = `${NET}:1::2`;
const MAG2 = `${NET}:2::2`;
const CN4 = '203.0.113.2';
const TOKEN = 'e2e-vrfd-token';
const MN_ID = 'mn4@vrfd.example';
const MN_MAC = '02:00:5e:d8:00:04';
const HOA = '10.78.0.5';
const ROUTER = '10.78.0.1';
const UDHCPC = ['/usr/sbin/udhcpc', '/sbin/udhcpc'].find((p) => spawnSync(p, ['--help']).error === undefined);

const skip =
  netnsUnavailable() ??
  (loadNative().ok ? null : 'native addon not built') ??
  (spawnSync('ping', ['-V']).error ? 'ping (iputils-ping) is not installed' : null) ??
  (UDHCPC ? null : 'udhcpc (Debian package udhcpc) is not installed');

type Binding = { mnId: string; proxyCoa: string; ipv4HoA: string | null; state: string };
type Bul = { mnId: string; state: string; greKeyDownlink?: number | null; greKeyUplink?: number | null };

describe('DHCPv4 handover: an unmodified IPv4-only MN gets its HoA by DHCP at MAG1, keeps it and its traffic to the CN across a move to MAG2, over GRE with keys', { skip: skip ?? false }, () => {
  const lab = new Lab('vrfd');
  const dir = mkdtempSync(join(tmpdir(), 'pmip6-e2e-vrfd-'));
  const script = join(dir, 'udhcpc.sh');
  const leases = join(dir, 'leases');
  const mags: Child[] = [];
  let nsM1: Netns, nsM2: Netns, nsMn: Netns;
  let a1: Agent, a2: Agent;
  let lma: SuiteLma | undefined;

  const bindings = async (): Promise<Binding[]> => (await lma!.api<{ items: Binding[] }>('/api/v1/bindings?limit=100')).json.items.filter((b) => b.mnId === MN_ID);
  const bul = async (a: Agent): Promise<Bul | undefined> => {
    const r = await a.call<{ status: number; body: string }>('fetch', { url: 'http://127.0.0.1:8081/api/v1/mag/bul?limit=100', headers: { authorization: `Bearer ${TOKEN}` } });
    return (JSON.parse(r.body) as { items: Bul[] }).items.find((b) => b.mnId === MN_ID);
  };
  /**
   * The MN's DHCP client, once (-q: until it has a lease), asking for `request` if given. Not
   * spawnSync: the LMA's database connection goes through this process (pg-bridge.ts).
   */
  const dhcp = async (request?: string): Promise<{ status: number | null; out: string }> => {
    const c = lab.track(nsMn.spawn(UDHCPC!, ['-i', 'mn0', '-f', '-q', '-n', '-t', '40', '-T', '1', '-A', '1', '-s', script, ...(request ? ['-r', request] : [])], { stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const status = await new Promise<number | null>((resolve) => c.once('exit', (code) => resolve(code)));
    return { status, out };
  };
  const ping4 = async (): Promise<boolean> => (await runIn(nsMn, 'ping', ['-4', '-c', '1', '-W', '1', CN4])).status === 0;
  const mnAddresses = (): string[] => (JSON.parse(nsMn.ip('-j', '-4', 'addr', 'show', 'dev', 'mn0')) as { addr_info: { local: string }[] }[]).flatMap((i) => i.addr_info.map((a) => a.local));

  before(async () => {
    // What the client learnt goes to a file for the test and onto the interface, with the default route, like any DHCP client's script.
    writeFileSync(script, `#!/bin/sh\ncase "$1" in bound|renew)\n  echo "$1 ip=$ip mask=$mask router=$router serverid=$serverid lease=$lease" >> ${leases}\n  ip -4 addr replace "$ip/$mask" dev "$interface"\n  ip -4 route replace default via "$router" dev "$interface"\n;;\nesac\nexit 0\n`);
    chmodSync(script, 0o755);
    const d = buildPmipDomain(lab, NET);
    ({ mag1: nsM1, mag2: nsM2 } = d);
    d.lma.ip('addr', 'add', '203.0.113.1/24', 'dev', d.lmaToCn);
    d.cn.ip('addr', 'add', `${CN4}/24`, 'dev', d.cnIf);
    d.cn.ip('route', 'add', 'default', 'via', '203.0.113.1');
    udpEcho(lab, d.cn);
    nsMn = lab.ns('mn');
    spawnSync('ip', ['netns', 'exec', nsMn.name, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    // The MN's access link: MAG end acc0 (at MAG1 first), MN end mn0 with only its MAC.
    nsM1.ip('link', 'add', 'acc0', 'type', 'veth', 'peer', 'name', 'mn0');
    nsM1.ip('link', 'set', 'mn0', 'netns', nsMn.name);
    nsMn.ip('link', 'set', 'mn0', 'address', MN_MAC);
    [a1, a2] = await Promise.all([Agent.start(lab, nsM1), Agent.start(lab, nsM2)]);
    lma = await startSuiteLma(lab, d.lma, { dir, lmaa: LMAA, token: TOKEN, dbPrefix: 'pmip6_e2e_vrfd' });
    for (const [id, coa] of [['mag1', MAG1], ['mag2', MAG2]]) assert.equal((await lma.api('/api/v1/mags', 'POST', { id, proxyCoa: [coa], authorized: true })).status, 201);
    // The profile's HNP only because the MAGs ask for IPv6 as well; the host has IPv6 off.
    const p = await lma.api('/api/v1/profiles', 'POST', { mnId: MN_ID, hnps: [`${NET}:f004::/64`], ipv4HoA: HOA, ipv4PrefixLength: 24, ipv4DefaultRouter: ROUTER, greKeyPolicy: 'required' });
    assert.equal(p.status, 201, JSON.stringify(p.json));
    const env = {
      PMIP6_MAG_ACCESS_DETECTOR: 'access-link', PMIP6_MAG_ACCESS_INTERFACES: 'acc*', PMIP6_MAG_ACCESS_MNS: `${MN_MAC}=${MN_ID}`,
      PMIP6_MAG_ACCESS_RA_MAX_INTERVAL: '10', PMIP6_MAG_ACCESS_HOLD_DOWN: '100', PMIP6_MAG_ACCESS_RA_DELAY: '50',
      PMIP6_MAG_REQUEST_IPV4: 'true', PMIP6_MAG_GRE_MODE: 'always',
    };
    mags.push(...(await Promise.all([
      startSuiteMag(lab, nsM1, { dir, id: 'mag1', coa: MAG1, lmaa: LMAA, token: TOKEN, env, detector: true }),
      startSuiteMag(lab, nsM2, { dir, id: 'mag2', coa: MAG2, lmaa: LMAA, token: TOKEN, env, detector: true }),
    ])));
  });

  after(async () => {
    for (const m of mags) await stopProcess(m).catch(() => undefined);
    await lma?.close();
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('DHCP at MAG1, the CN through a GRE tunnel, the link moves to MAG2: same address, traffic resumes, binding at MAG2', async (t) => {
    const diag = (what: string) => async (e: unknown) => {
      t.diagnostic(`${what}: MAG1 ${mags[0].out().slice(-2500)}\nMAG2 ${mags[1].out().slice(-2500)}\nLMA ${lma!.child.out().slice(-1500)}\nMN ${nsMn.ip('-4', 'addr')} ${nsMn.ip('-4', 'route')} ${nsMn.ip('-4', 'neigh')}`);
      throw e;
    };
    nsM1.ip('link', 'set', 'acc0', 'up');
    nsMn.ip('link', 'set', 'mn0', 'up');
    const r = await dhcp();
    if (r.status !== 0) {
      const m = (await a1.call<{ body: string }>('fetch', { url: 'http://127.0.0.1:8081/metrics' })).body.split('\n').filter((x) => /pbu|pba|binding|mag_reg|sent|status/i.test(x) && !x.startsWith('#') && !/ 0$/.test(x));
      assert.fail(`${r.out}\nMAG1 ${mags[0].out().slice(-3000)}\n${m.join('\n')}\nLMA ${lma!.child.out().slice(-3000)}`);
    }
    assert.match(readFileSync(leases, 'utf8'), new RegExp(`bound ip=${HOA.replace(/\./g, '\\.')} mask=24 router=${ROUTER.replace(/\./g, '\\.')} `));
    assert.deepEqual(mnAddresses(), [HOA]);
    await until('the LMA binding points at MAG1', async () => (await bindings()).some((b) => b.proxyCoa === MAG1 && b.ipv4HoA === HOA), 30_000).catch(diag('no binding at MAG1'));
    const keys1 = await bul(a1);
    assert.ok(keys1?.greKeyUplink != null && keys1.greKeyDownlink != null, `GRE keys negotiated at MAG1 (RFC 5845): ${JSON.stringify(keys1)}`);
    await until('the MN reaches the CN through MAG1', ping4, 30_000).catch(diag('no ping through MAG1'));
    assert.ok((await forwarded(a1, 8081, 'mag', 'to-tunnel')) > 0, 'MAG1 tunnelled the MN\'s packets');
    assert.ok((await forwarded(a1, 8081, 'mag', 'from-tunnel')) > 0, 'MAG1 delivered the CN\'s answers');
    const m2Before = [await forwarded(a2, 8081, 'mag', 'to-tunnel'), await forwarded(a2, 8081, 'mag', 'from-tunnel')];

    const p = udpPinger(lab, nsMn, CN4);
    const { moveStart, moveDone, registered, last, first } = await moveAccessLink({ pinger: p, from: nsM1, to: nsM2, mag2: MAG2, bindings, fail: diag });
    t.diagnostic(
      `IPv4 over GRE: ${Math.round(first - moveStart)} ms from the link move to the first answer through MAG2 ` +
        `(the test's own link move took ${moveDone - moveStart} ms; the LMA's binding was seen at MAG2 after ${registered - moveStart} ms, test polling included; ` +
        `last answer before the move to the first after: ${Math.round(first - last)} ms; UDP probe every 5 ms; the host is unmodified, so its ARP entry ` +
        `for the default router, flushed by the veth's carrier loss, is resolved again by its own ARP request, which is also what attaches it at MAG2)`,
    );
    t.diagnostic(`timeline: ${moveTimeline(moveStart, [['MAG1', mags[0]], ['MAG2', mags[1]], ['LMA', lma!.child]])}`);
    const n = p.replies.length;
    await until('more answers through MAG2', () => p.replies.length >= n + 10, 10_000);
    p.child.kill('SIGINT');

    assert.deepEqual(mnAddresses(), [HOA], 'the MN keeps its address');
    await until('MAG1 de-registered (only MAG2 holds the binding)', async () => (await bindings()).length === 1, 15_000);
    const [b] = await bindings();
    assert.equal(b.proxyCoa, MAG2, 'the LMA binding points at MAG2');
    assert.equal(b.ipv4HoA, HOA, 'the same IPv4 home address after the move');
    const keys2 = await bul(a2);
    assert.ok(keys2?.greKeyUplink != null && keys2.greKeyDownlink != null, `GRE keys negotiated at MAG2: ${JSON.stringify(keys2)}`);
    assert.ok((await forwarded(a2, 8081, 'mag', 'to-tunnel')) > m2Before[0], 'MAG2 tunnelled the MN\'s packets');
    assert.ok((await forwarded(a2, 8081, 'mag', 'from-tunnel')) > m2Before[1], 'MAG2 delivered the CN\'s answers');
    assert.match(nsM2.ip('-4', 'route', 'show', 'table', 'all'), new RegExp(`${HOA.replace(/\./g, '\\.')} dev acc0 table 5214`), 'MAG2 routes the HoA to the MN\'s access link');
    // Its DHCP client asks again at MAG2 (as after a reboot or at renewal): the same address.
    const again = await dhcp(HOA);
    assert.equal(again.status, 0, again.out);
    assert.match(readFileSync(leases, 'utf8').trim().split('\n').at(-1)!, new RegExp(`bound ip=${HOA.replace(/\./g, '\\.')} `));
    assert.ok(await ping4(), 'ICMP to the CN through MAG2 too');
  });
});
