// RFC 5213 §6.9.1.1 (attach), §6.7/§6.8 (per-MN RA from the fixed link-local, RFC 6543),
// §6.13 (detach), end to end with an unmodified Linux MN: namespaces MN, MN2, MAG1, MAG2, LMA.
// MAG1 is a Mag in a helper process (test/attach/mag-agent.ts, for introspection); MAG2 is
// `pmip6 mag` itself with mag.access.* from the environment (the main/ wiring).
// The MN's link (a veth whose MAG end is "acc0") starts at MAG1: MAG1 detects it from its
// DAD NS / MLD reports, registers it at the LMA, sends the RA, and the MN forms an address
// by SLAAC from its HNP. Then the MAG end moves to MAG2's namespace (a carrier flap for the
// MN, which then sends only MLD reports): MAG1 de-registers, MAG2 detects the MN, registers
// it (the LMA's binding moves), and advertises the same prefix from the same link-local
// and MAC; the MN keeps its address. Namespaces are removed even when the test fails.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, netnsUnavailable, type Netns } from '../helpers/netns.ts';
import { Agent } from '../helpers/ns-agent-client.ts';
import { until } from '../helpers/until.ts';
import { loadNative } from '../../src/transport/native.ts';
import { pmip6, type Child } from '../helpers/cli.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MagEvent } from '../../src/mag/index.ts';

const skip = netnsUnavailable() ?? (loadNative().ok ? null : 'native addon not built');
const MN = 'mn1@example.net';
const HNP = '2001:db8:77:1::/64';
const LMA = '2001:db8:f1::1';
const MN_MAC = '02:00:5e:10:00:01';
/** Known to MAG1 by its MAC, but the LMA has no profile for it: PBA 153, so no RA. */
const MN2 = 'mn2@example.net';
const MN2_MAC = '02:00:5e:10:00:02';
/** MAG1: short NUD timers (RFC 4861 §7.3), so the test sees probes answered and probes unanswered. */
const ACCESS = { interfaces: ['acc*'], raMaxIntervalS: 10, nudProbes: 2, nudRetransMs: 300, reachableTimeMs: 1500, holdDownMs: 100, raDelayMs: 50 };

interface Attached {
  mnId: string;
  mac: string;
  link: string;
  linkLocal: string | null;
  advertised: boolean;
}

function globalAddresses(ns: Netns): string[] {
  const j = JSON.parse(ns.ip('-j', '-6', 'addr', 'show', 'dev', 'mn0')) as { addr_info: { local: string; scope: string; tentative?: boolean }[] }[];
  return j.flatMap((i) => i.addr_info).filter((a) => a.scope === 'global' && !a.tentative).map((a) => a.local);
}

function globalAddressesOf(ns: Netns, dev: string): string[] {
  const j = JSON.parse(ns.ip('-j', '-6', 'addr', 'show', 'dev', dev)) as { addr_info: { local: string; scope: string }[] }[];
  return j.flatMap((i) => i.addr_info).filter((a) => a.scope === 'global').map((a) => a.local);
}

/** The MN's neighbour entry for its router: [link-layer address, router flag]. */
function routerNeighbour(ns: Netns): [string | undefined, boolean] | null {
  const j = JSON.parse(ns.ip('-j', '-6', 'neigh', 'show', 'dev', 'mn0')) as { dst: string; lladdr?: string; router?: null }[];
  const n = j.find((e) => e.dst === 'fe80::200:5eff:fe00:5213');
  return n ? [n.lladdr, 'router' in n] : null;
}

function defaultRouter(ns: Netns): string | null {
  const j = JSON.parse(ns.ip('-j', '-6', 'route', 'show', 'default')) as { gateway?: string; dev?: string }[];
  return j.find((r) => r.dev === 'mn0')?.gateway ?? null;
}

describe('access link: an unmodified MN attaches, gets its HNP by SLAAC, and keeps its address across MAGs', { skip: skip ?? false }, () => {
  const lab = new Lab('at');
  let mn: Netns, mn2: Netns, mag1: Netns, mag2: Netns, lmaNs: Netns;
  let lma: Agent, a1: Agent;
  let cli2: Child | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'at-mag2-'));

  before(async () => {
    lmaNs = lab.ns('lma');
    mag1 = lab.ns('mag1');
    mag2 = lab.ns('mag2');
    mn = lab.ns('mn');
    mn2 = lab.ns('mn2');
    // Core: LMA 2001:db8:f1::1 <-> MAG1 2001:db8:f1::2; LMA 2001:db8:f2::1 <-> MAG2 2001:db8:f2::2.
    const [l1, m1] = lab.link(lmaNs, mag1);
    const [l2, m2] = lab.link(lmaNs, mag2);
    lmaNs.addAddress(l1, '2001:db8:f1::1/64');
    lmaNs.addAddress(l2, '2001:db8:f2::1/64');
    mag1.addAddress(m1, '2001:db8:f1::2/64');
    mag2.addAddress(m2, '2001:db8:f2::2/64');
    mag2.ip('-6', 'route', 'add', '2001:db8:f1::/64', 'via', '2001:db8:f2::1');
    // The MN's access link: a veth whose MAG end is acc0 (in MAG1) and MN end mn0.
    mag1.ip('link', 'add', 'acc0', 'type', 'veth', 'peer', 'name', 'mn0');
    mag1.ip('link', 'set', 'mn0', 'netns', mn.name);
    mn.ip('link', 'set', 'mn0', 'address', MN_MAC);
    mag1.ip('link', 'add', 'acc1', 'type', 'veth', 'peer', 'name', 'mn0');
    mag1.ip('link', 'set', 'mn0', 'netns', mn2.name);
    mn2.ip('link', 'set', 'mn0', 'address', MN2_MAC);

    lma = await Agent.start(lab, lmaNs);
    await lma.call('lma', { address: LMA, mags: ['2001:db8:f1::2', '2001:db8:f2::2'], profiles: [{ mnId: MN, hnps: [HNP] }] });
    a1 = await Agent.start(lab, mag1, [], 'test/attach/mag-agent.ts');
    await a1.call('start', { lma: LMA, directory: [[MN, MN_MAC], [MN2, MN2_MAC]], access: ACCESS, magId: 'mag1', proxyCoa: '2001:db8:f1::2' });
    cli2 = pmip6(
      ['mag', '--id', 'mag2', '--proxy-coa', '2001:db8:f2::2', '--lma', LMA, '--allow-unprotected-signalling'],
      {
        PMIP6_DATA_DIR: dataDir,
        PMIP6_LOG_LEVEL: 'info',
        PMIP6_API_HOST: '127.0.0.1',
        PMIP6_SNMP_ENABLED: 'false',
        PMIP6_MAG_HEARTBEAT_INTERVAL: '0',
        PMIP6_MAG_ACCESS_DETECTOR: 'access-link',
        PMIP6_MAG_ACCESS_INTERFACES: 'acc*',
        PMIP6_MAG_ACCESS_MNS: `${MN_MAC}=${MN}`,
        PMIP6_MAG_ACCESS_RA_MAX_INTERVAL: '10',
        PMIP6_MAG_ACCESS_HOLD_DOWN: '100',
        PMIP6_MAG_ACCESS_RA_DELAY: '50',
      },
      { prefix: ['ip', 'netns', 'exec', mag2.name] },
    );
    lab.track(cli2.child);
    await until('pmip6 mag (MAG2) running', () => cli2!.out().includes('access-link detector running') && cli2!.out().includes('MAG running'), 60_000).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}: ${cli2!.out().slice(-3000)}`);
    });
  });

  after(async () => {
    await lab.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('MAG1 detects the MN at link up, registers it and the MN forms an address from its HNP by SLAAC', async () => {
    mag1.ip('link', 'set', 'acc0', 'up');
    mn.ip('link', 'set', 'mn0', 'up');
    const att = await until('MAG1 detects the MN', async () => (await a1.call<Attached[]>('attached')).find((a) => a.mnId === MN && a.advertised), 20_000).catch(async (e: unknown) => {
      console.log(JSON.stringify(await a1.call('counters')), JSON.stringify(await a1.call('attached')), JSON.stringify(await a1.call('events')), mag1.ip('link'), mag1.ip('addr'));
      throw e;
    });
    assert.equal(att.mac, MN_MAC);
    assert.equal(att.link, 'acc0');
    const addrs = await until('SLAAC address from the HNP', () => globalAddresses(mn).filter((a) => a.startsWith('2001:db8:77:1:')).at(0), 15_000);
    // EUI-64 interface identifier from the MN's MAC (RFC 4291 §2.5.1, RFC 4862 §5.5.3).
    assert.equal(addrs, '2001:db8:77:1:0:5eff:fe10:1');
    // RFC 5213 §6.8 / RFC 6543: the default router is the fixed MAG link-local with the fixed MAC.
    assert.equal(await until('default route', () => defaultRouter(mn)), 'fe80::200:5eff:fe00:5213');
    // ... and the same link-layer address (RFC 6543), learnt from the RA's SLLA option.
    assert.deepEqual(await until('router neighbour entry', () => routerNeighbour(mn)), ['00:00:5e:00:52:13', true]);
    const ev = (await a1.call<MagEvent[]>('events')).find((e) => e.type === 'registered');
    assert.deepEqual(ev && ev.type === 'registered' ? ev.hnps : null, [HNP]);
    const [b] = await lma.call<{ proxyCoa: string }[]>('lmaBindings', { mnId: MN });
    assert.equal(b.proxyCoa, '2001:db8:f1::2');
  });

  it('an MN the LMA refuses (no profile: PBA 153) gets no Router Advertisement and no address', async () => {
    mag1.ip('link', 'set', 'acc1', 'up');
    mn2.ip('link', 'set', 'mn0', 'up');
    await until('MAG1 registration of MN2 fails', async () => (await a1.call<MagEvent[]>('events')).some((e) => e.type === 'failed' && e.mnId === MN2 && e.status === 153), 15_000);
    // The MN sends its RS about a second after link up; wait for it to be seen, then a while more.
    await until('MN2 sent its RS (it has its link-local)', async () => (await a1.call<Attached[]>('attached')).find((a) => a.mnId === MN2 && a.linkLocal !== null), 15_000);
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(globalAddressesOf(mn2, 'mn0'), []);
    assert.equal(defaultRouter(mn2), null);
    assert.equal((await a1.call<Attached[]>('attached')).find((a) => a.mnId === MN2)?.advertised, false);
  });

  it('NUD: the real MN answers the MAG\'s unicast probes and stays attached; MN2, once it stops answering (IPv6 off), is detached as unreachable', async () => {
    const sentBefore = (await a1.call<{ access: { sent: { ns: number } } }>('counters')).access.sent.ns;
    await until('MAG1 probed the silent MN', async () => (await a1.call<{ access: { sent: { ns: number } } }>('counters')).access.sent.ns > sentBefore + 1, 15_000);
    assert.ok((await a1.call<Attached[]>('attached')).some((a) => a.mnId === MN), 'MN1 answered and is still attached');
    // The link stays up (no carrier loss for MAG1 to see); the host just stops answering.
    spawnSync('ip', ['netns', 'exec', mn2.name, 'sysctl', '-qw', 'net.ipv6.conf.mn0.disable_ipv6=1']);
    await until('MN2 detached by NUD', async () => (await a1.call<{ access: { detaches: { unreachable: number } } }>('counters')).access.detaches.unreachable >= 1, 20_000);
    assert.equal((await a1.call<Attached[]>('attached')).some((a) => a.mnId === MN2), false);
    assert.ok((await a1.call<Attached[]>('attached')).some((a) => a.mnId === MN));
    // MN1 was never lost on the way: one registration, no de-registration.
    const ev = await a1.call<MagEvent[]>('events');
    assert.equal(ev.filter((e) => e.type === 'registered' && e.mnId === MN).length, 1);
    assert.equal(ev.filter((e) => e.type === 'deregistered' && e.mnId === MN).length, 0);
  });

  it('the MN moves to MAG2 (pmip6 mag): MAG1 de-registers, MAG2 registers and advertises the same prefix, the MN keeps its address', async (t) => {
    const before = globalAddresses(mn);
    const t0 = Date.now();
    mag1.ip('link', 'set', 'acc0', 'netns', mag2.name);
    mag2.ip('link', 'set', 'acc0', 'up');
    await until('the LMA binding points at MAG2', async () => (await lma.call<{ proxyCoa: string }[]>('lmaBindings', { mnId: MN })).some((b) => b.proxyCoa === '2001:db8:f2::2'), 15_000);
    const ms = Date.now() - t0;
    await until('MAG1 de-registers', async () => (await a1.call<MagEvent[]>('events')).some((e) => e.type === 'deregistered' && e.mnId === MN));
    // MAG2 advertises: the MN's router entry is refreshed by an RA with the same link-local and MAC.
    await until('MAG2 registered the MN and advertises its prefix', () => cli2!.out().includes('binding registered') && cli2!.out().includes('advertising the home network prefixes'));
    assert.match(cli2!.out(), /"hnps":\["2001:db8:77:1::\/64"\],"to":"fe80::5eff:fe10:1"/);
    const mac = mag2.ip('-j', 'link', 'show', 'acc0');
    assert.match(mac, /00:00:5e:00:52:13/);
    assert.deepEqual(globalAddresses(mn), before);
    assert.equal(defaultRouter(mn), 'fe80::200:5eff:fe00:5213');
    assert.deepEqual(routerNeighbour(mn)?.[0], '00:00:5e:00:52:13');
    const bindings = await lma.call<{ proxyCoa: string }[]>('lmaBindings', { mnId: MN });
    assert.deepEqual(bindings.map((b) => b.proxyCoa), ['2001:db8:f2::2']);
    t.diagnostic(`link move to the LMA's binding at MAG2: ${ms} ms (includes the test's own polling)`);
  });

  it('link down at MAG2: the MAG detaches and de-registers', async () => {
    mag2.ip('link', 'set', 'acc0', 'down');
    // The LMA keeps the entry MinDelayBeforeBCEDelete (RFC 5213 §5.3.5, 10 s) after an acknowledged de-registration.
    await until('MAG2 de-registered, acknowledged', () => cli2!.out().includes('binding deregistered') && cli2!.out().includes('"acked":true'), 15_000);
    assert.match(cli2!.out(), /"why":"linkDown","msg":"MN detached"/);
  });
});
