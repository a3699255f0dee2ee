// RFC 5213 §6.9.1.1 (attach), §6.7/§6.8 (per-MN RA from the fixed link-local, RFC 6543),
// §6.13 (detach), end to end with an unmodified Linux MN: namespaces MN, MAG1, MAG2, LMA.
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
import type { MagEvent } from '../../src/mag/index.ts';

const skip = netnsUnavailable() ?? (loadNative().ok ? null : 'native addon not built');
const MN = 'mn1@example.net';
const HNP = '2001:db8:77:1::/64';
const LMA = '2001:db8:f1::1';
const MN_MAC = '02:00:5e:10:00:01';
const ACCESS = { interfaces: ['acc*'], raMaxIntervalS: 10, nudProbes: 2, nudRetransMs: 300, reachableTimeMs: 5000, holdDownMs: 100, raDelayMs: 50 };

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

function defaultRouter(ns: Netns): string | null {
  const j = JSON.parse(ns.ip('-j', '-6', 'route', 'show', 'default')) as { gateway?: string; dev?: string }[];
  return j.find((r) => r.dev === 'mn0')?.gateway ?? null;
}

describe('access link: an unmodified MN attaches, gets its HNP by SLAAC, and keeps its address across MAGs', { skip: skip ?? false }, () => {
  const lab = new Lab('at');
  let mn: Netns, mag1: Netns, mag2: Netns, lmaNs: Netns;
  let lma: Agent, a1: Agent, a2: Agent;

  before(async () => {
    lmaNs = lab.ns('lma');
    mag1 = lab.ns('mag1');
    mag2 = lab.ns('mag2');
    mn = lab.ns('mn');
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

    lma = await Agent.start(lab, lmaNs);
    await lma.call('lma', { address: LMA, mags: ['2001:db8:f1::2', '2001:db8:f2::2'], profiles: [{ mnId: MN, hnps: [HNP] }] });
    a1 = await Agent.start(lab, mag1, [], 'test/attach/mag-agent.ts');
    a2 = await Agent.start(lab, mag2, [], 'test/attach/mag-agent.ts');
    const common = { lma: LMA, directory: [[MN, MN_MAC]], access: ACCESS };
    await a1.call('start', { ...common, magId: 'mag1', proxyCoa: '2001:db8:f1::2' });
    await a2.call('start', { ...common, magId: 'mag2', proxyCoa: '2001:db8:f2::2' });
  });

  after(async () => {
    await lab.cleanup();
  });

  it('MAG1 detects the MN at link up, registers it and the MN forms an address from its HNP by SLAAC', async () => {
    mag1.ip('link', 'set', 'acc0', 'up');
    mn.ip('link', 'set', 'mn0', 'up');
    const att = await until('MAG1 detects the MN', async () => (await a1.call<Attached[]>('attached')).find((a) => a.mnId === MN && a.advertised)).catch(async (e: unknown) => {
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
    const ev = (await a1.call<MagEvent[]>('events')).find((e) => e.type === 'registered');
    assert.deepEqual(ev && ev.type === 'registered' ? ev.hnps : null, [HNP]);
  });

  it('the MN moves to MAG2: MAG1 de-registers, MAG2 registers and advertises the same prefix, the MN keeps its address', async () => {
    const before = globalAddresses(mn);
    mag1.ip('link', 'set', 'acc0', 'netns', mag2.name);
    mag2.ip('link', 'set', 'acc0', 'up');
    await until('MAG1 de-registers', async () => (await a1.call<MagEvent[]>('events')).some((e) => e.type === 'deregistered' && e.mnId === MN));
    const att = await until('MAG2 detects the MN and advertises', async () => (await a2.call<Attached[]>('attached')).find((a) => a.mnId === MN && a.advertised), 15_000);
    assert.equal(att.mac, MN_MAC);
    const c = await a2.call<{ access: { sent: { ra: number } } }>('counters');
    assert.ok(c.access.sent.ra >= 1);
    // The MN's neighbour entry for its router: the same MAC at MAG2 (the interface was given it).
    const mac = mag2.ip('-j', 'link', 'show', 'acc0');
    assert.match(mac, /00:00:5e:00:52:13/);
    assert.deepEqual(globalAddresses(mn), before);
    assert.equal(defaultRouter(mn), 'fe80::200:5eff:fe00:5213');
    const lc = await lma.call<{ bindings: number }>('lmaCounters');
    assert.equal(lc.bindings, 1);
  });

  it('link down at MAG2: the MAG detaches and de-registers', async () => {
    mag2.ip('link', 'set', 'acc0', 'down');
    await until('MAG2 de-registers', async () => (await a2.call<MagEvent[]>('events')).some((e) => e.type === 'deregistered' && e.mnId === MN));
    assert.deepEqual(await a2.call('attached'), []);
    await until('LMA binding removed', async () => (await lma.call<{ bindings: number }>('lmaCounters')).bindings === 0);
  });
});
