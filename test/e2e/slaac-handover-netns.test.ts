// Issue 13, first "Done when": an UNMODIFIED MN (no address, no route, no neighbour entry
// configured by the test) in its own namespace gets its address by SLAAC (RFC 4862) from
// MAG1's per-MN Router Advertisement (RFC 5213 §6.7/§6.8, the fixed link-local and
// link-layer address of RFC 6543), reaches a correspondent node (CN) through the MAG-LMA
// tunnel of the user-space forwarder (RFC 5213 §6.10), its link moves to MAG2 (the MAG end
// of its veth goes to MAG2's namespace: a carrier flap for the MN, which then sends only MLD
// reports and DAD NSs, no RS), and it keeps the same address, its traffic to the CN resumes
// through MAG2 and the LMA's binding points at MAG2. Everything runs as the suite's own
// processes: `pmip6 start` (LMA, PostgreSQL) and two `pmip6 mag` with
// mag.access.detector=access-link and dataplane.kind=userspace, configured by environment.
// The interruption (link move to first answer through MAG2) is reported, never asserted.
// Namespaces (p6t-sd-*) and processes are removed even when the test fails.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, netnsUnavailable, type Netns } from '../helpers/netns.ts';
import { buildPmipDomain } from '../helpers/pmipv6-domain.ts';
import { Agent } from '../helpers/ns-agent-client.ts';
import { stopProcess, type Child } from '../helpers/cli.ts';
import { forwarded, startSuiteLma, startSuiteMag, udpEcho, udpPinger, type SuiteLma, moveAccessLink, moveTimeline } from '../helpers/pmipv6-suite.ts';
import { until } from '../helpers/until.ts';
import { loadNative } from '../../src/transport/native.ts';

const LMAA = '2001:db8:d5::1';
const MAG1 = '2001:db8:d5:1::2';
const MAG2 = '2001:db8:d5:2::2';
const CN = '2001:db8:d5:c::2';
const TOKEN = 'e2e-sd-token';
const MN_ID = 'mn1@sd.example';
const MN_MAC = '02:00:5e:d5:00:01';
const HNP = '2001:db8:d5:f001::/64';
/** RFC 4291 §2.5.1 / RFC 4862 §5.5.3: the EUI-64 interface identifier from MN_MAC. */
const MN_ADDR = '2001:db8:d5:f001:0:5eff:fed5:1';
/** RFC 6543: the MAG link-local address every MAG uses, from 00:00:5e:00:52:13. */
const MAG_LL = 'fe80::200:5eff:fe00:5213';

const skip =
  netnsUnavailable() ??
  (loadNative().ok ? null : 'native addon not built') ??
  (spawnSync('ping', ['-V']).error ? 'ping (iputils-ping) is not installed' : null);

type Binding = { mnId: string; proxyCoa: string; hnps: string[]; state: string };

/** The MN's global addresses on mn0 that finished DAD. */
function globalAddresses(ns: Netns): string[] {
  const j = JSON.parse(ns.ip('-j', '-6', 'addr', 'show', 'dev', 'mn0')) as { addr_info: { local: string; scope: string; tentative?: boolean }[] }[];
  return j.flatMap((i) => i.addr_info).filter((a) => a.scope === 'global' && !a.tentative).map((a) => a.local);
}

function defaultRouter(ns: Netns): string | null {
  const j = JSON.parse(ns.ip('-j', '-6', 'route', 'show', 'default')) as { gateway?: string; dev?: string }[];
  return j.find((r) => r.dev === 'mn0')?.gateway ?? null;
}

describe('SLAAC handover: an unmodified MN gets its HNP by SLAAC at MAG1, keeps its address and its traffic to the CN across a move to MAG2', { skip: skip ?? false }, () => {
  const lab = new Lab('sd');
  const dir = mkdtempSync(join(tmpdir(), 'pmip6-e2e-sd-'));
  const children: Child[] = [];
  let nsM1: Netns, nsM2: Netns, nsMn: Netns;
  let a1: Agent, a2: Agent;
  let lma: SuiteLma | undefined, mag1: Child, mag2: Child;

  const api = <T>(path: string, method = 'GET', body?: unknown) => lma!.api<T>(path, method, body);
  const bindings = async (): Promise<Binding[]> => (await api<{ items: Binding[] }>('/api/v1/bindings?limit=100')).json.items.filter((b) => b.mnId === MN_ID);

  const startMag = async (ns: Netns, id: string, coa: string): Promise<Child> => {
    const c = await startSuiteMag(lab, ns, {
      dir, id, coa, lmaa: LMAA, token: TOKEN, detector: true,
      env: {
        // The MN is known to the MAGs by its link-layer address only (RFC 5213 §6.9.1.1).
        PMIP6_MAG_ACCESS_DETECTOR: 'access-link', PMIP6_MAG_ACCESS_INTERFACES: 'acc*', PMIP6_MAG_ACCESS_MNS: `${MN_MAC}=${MN_ID}`,
        PMIP6_MAG_ACCESS_RA_MAX_INTERVAL: '10', PMIP6_MAG_ACCESS_HOLD_DOWN: '100', PMIP6_MAG_ACCESS_RA_DELAY: '50',
      },
    });
    children.push(c);
    return c;
  };
  /** The MAG forwarder's packet counter in one direction. */
  const tunnelled = (a: Agent, direction: 'to-tunnel' | 'from-tunnel'): Promise<number> => forwarded(a, 8081, 'mag', direction);
  const pingOnce = (): boolean => spawnSync('ip', ['netns', 'exec', nsMn.name, 'ping', '-6', '-c', '1', '-W', '1', CN]).status === 0;

  before(async () => {
    const d = buildPmipDomain(lab, '2001:db8:d5');
    ({ mag1: nsM1, mag2: nsM2 } = d);
    nsMn = lab.ns('mn');
    udpEcho(lab, d.cn);
    // The MN's access link: a veth whose MAG end is acc0 (at MAG1 first) and MN end mn0. The MN
    // end gets only its MAC; everything else (address, default route, router's neighbour entry)
    // the MN learns from the MAG like any unmodified host.
    nsM1.ip('link', 'add', 'acc0', 'type', 'veth', 'peer', 'name', 'mn0');
    nsM1.ip('link', 'set', 'mn0', 'netns', nsMn.name);
    nsMn.ip('link', 'set', 'mn0', 'address', MN_MAC);
    [a1, a2] = await Promise.all([Agent.start(lab, nsM1), Agent.start(lab, nsM2)]);
    lma = await startSuiteLma(lab, d.lma, { dir, lmaa: LMAA, token: TOKEN, dbPrefix: 'pmip6_e2e_sd' });
    for (const [id, coa] of [['mag1', MAG1], ['mag2', MAG2]]) {
      assert.equal((await api('/api/v1/mags', 'POST', { id, proxyCoa: [coa], authorized: true })).status, 201);
    }
    assert.equal((await api('/api/v1/profiles', 'POST', { mnId: MN_ID, hnps: [HNP] })).status, 201);
    [mag1, mag2] = await Promise.all([startMag(nsM1, 'mag1', MAG1), startMag(nsM2, 'mag2', MAG2)]);
  });

  after(async () => {
    for (const c of children) await stopProcess(c).catch(() => undefined);
    await lma?.close();
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('SLAAC at MAG1, the CN through the tunnel, the link moves to MAG2: same address, traffic resumes, binding at MAG2', async (t) => {
    const diag = (what: string) => async (e: unknown) => {
      t.diagnostic(`${what}: MAG1 ${mag1.out().slice(-2500)}\nMAG2 ${mag2.out().slice(-2500)}\nLMA ${lma!.child.out().slice(-1500)}\nMN ${nsMn.ip('-6', 'addr')} ${nsMn.ip('-6', 'route')} ${nsMn.ip('-6', 'neigh')}`);
      throw e;
    };
    // Link up at MAG1: the detector sees the MN (DAD NS / MLD report / RS), registers it, advertises its HNP.
    nsM1.ip('link', 'set', 'acc0', 'up');
    nsMn.ip('link', 'set', 'mn0', 'up');
    const addr = await until('SLAAC address from the HNP', () => globalAddresses(nsMn).find((a) => a.startsWith('2001:db8:d5:f001:')), 30_000).catch(diag('no SLAAC address'));
    assert.equal(addr, MN_ADDR, 'EUI-64 address from the advertised HNP');
    assert.equal(await until('default route from the RA', () => defaultRouter(nsMn), 10_000), MAG_LL, 'the default router is the fixed MAG link-local (RFC 6543)');
    await until('the LMA binding points at MAG1', async () => (await bindings()).some((b) => b.proxyCoa === MAG1), 30_000).catch(diag('no binding at MAG1'));
    await until('the MN reaches the CN through MAG1', pingOnce, 30_000).catch(diag('no ping through MAG1'));

    // Through the tunnel: MAG1's forwarder encapsulated the MN's packets and decapsulated the CN's answers.
    assert.ok((await tunnelled(a1, 'to-tunnel')) > 0, 'MAG1 tunnelled the MN\'s packets to the LMA');
    assert.ok((await tunnelled(a1, 'from-tunnel')) > 0, 'MAG1 delivered the CN\'s answers from the tunnel');
    const m2Before = [await tunnelled(a2, 'to-tunnel'), await tunnelled(a2, 'from-tunnel')];

    // The move: the MAG end of the MN's link goes to MAG2's namespace and comes up there.
    const p = udpPinger(lab, nsMn, CN);
    const { moveStart, moveDone, registered, last, first } = await moveAccessLink({ pinger: p, from: nsM1, to: nsM2, mag2: MAG2, bindings, fail: diag });
    t.diagnostic(
      `${Math.round(first - moveStart)} ms from the link move to the first answer through MAG2 ` +
        `(the test's own link move took ${moveDone - moveStart} ms; the LMA's binding was seen at MAG2 after ${registered - moveStart} ms, test polling included; ` +
        `last answer before the move to the first after: ${Math.round(first - last)} ms; UDP probe every 5 ms; the MN is unmodified, so its router's ` +
        `neighbour entry, flushed by the veth's carrier loss, is resolved again by the MN's own Neighbor Solicitation)`,
    );
    t.diagnostic(`timeline: ${moveTimeline(moveStart, [['MAG1', mag1], ['MAG2', mag2], ['LMA', lma!.child]])}`);
    const n = p.replies.length;
    await until('more answers through MAG2', () => p.replies.length >= n + 10, 10_000);
    p.child.kill('SIGINT');

    assert.deepEqual(globalAddresses(nsMn).filter((a) => a.startsWith('2001:db8:d5:f001:')), [MN_ADDR], 'the MN keeps its address');
    assert.equal(defaultRouter(nsMn), MAG_LL, 'and its default router');
    await until('MAG1 de-registered (only MAG2 holds the binding)', async () => (await bindings()).length === 1, 15_000);
    const [b] = await bindings();
    assert.equal(b.proxyCoa, MAG2, 'the LMA binding points at MAG2');
    assert.deepEqual(b.hnps, [HNP], 'the same prefix after the move');
    assert.ok(pingOnce(), 'ICMPv6 to the CN through MAG2 too');
    // Through MAG2's tunnel both ways, and MAG2 routes the HNP back out of the access link the MN is on.
    assert.ok((await tunnelled(a2, 'to-tunnel')) > m2Before[0], 'MAG2 tunnelled the MN\'s packets to the LMA');
    assert.ok((await tunnelled(a2, 'from-tunnel')) > m2Before[1], 'MAG2 delivered the CN\'s answers from the tunnel');
    assert.match(nsM2.ip('-6', 'route', 'show', 'table', 'all'), /2001:db8:d5:f001::\/64 dev acc0 table 5214/, 'MAG2 routes the HNP to the MN\'s access link');
  });
});
