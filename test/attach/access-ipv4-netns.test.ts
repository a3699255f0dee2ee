// RFC 5844 §3.4 end to end with an unmodified IPv4-only host: its DHCP client (busybox
// udhcpc) is the only thing it sends. MAG1 detects it from its DHCPDISCOVER, registers it
// (IPv4 home address assigned by the LMA), and the MN gets that address by DHCP. Its link
// moves to MAG2; the client asks again (requesting the address it had), MAG2 detects it,
// registers it (the LMA's binding moves), and hands out the same address. Back at MAG1 with
// no DHCP client, its ARP for the default router is what attaches it. Namespaces are removed
// even when the test fails.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, netnsUnavailable, type Netns } from '../helpers/netns.ts';
import { Agent } from '../helpers/ns-agent-client.ts';
import { until } from '../helpers/until.ts';
import { loadNative } from '../../src/transport/native.ts';
import type { MagEvent } from '../../src/mag/index.ts';

const UDHCPC = ['/usr/sbin/udhcpc', '/sbin/udhcpc'].find((p) => spawnSync(p, ['--help']).error === undefined);
const skip = netnsUnavailable() ?? (loadNative().ok ? null : 'native addon not built') ?? (UDHCPC ? null : 'udhcpc (Debian package udhcpc) is not installed');
const MN = 'v4mn@example.net';
const MN_MAC = '02:00:5e:10:00:04';
const HOA = '10.77.0.5';
const LMA = '2001:db8:f1::1';
/** Short NUD timers: the IPv4-only MN is probed by unicast ARP (it answers no Neighbor Solicitation). */
const ACCESS = { interfaces: ['acc*'], holdDownMs: 100, reachableTimeMs: 1500, nudProbes: 2, nudRetransMs: 300 };

describe('access link, IPv4: an unmodified IPv4-only host gets its IPv4 home address by DHCP at MAG1 and again at MAG2 (RFC 5844 §3.4)', { skip: skip ?? false }, () => {
  const lab = new Lab('at');
  const dir = mkdtempSync(join(tmpdir(), 'at-udhcpc-'));
  const script = join(dir, 'script.sh');
  const leases = join(dir, 'leases');
  let mn: Netns, mag1: Netns, mag2: Netns, lmaNs: Netns;
  let lma: Agent, a1: Agent, a2: Agent;

  /** Runs the DHCP client once (-q: until it has a lease), asking for `request` if given. */
  function dhcp(request?: string): { status: number | null; out: string } {
    const args = ['netns', 'exec', mn.name, UDHCPC!, '-i', 'mn0', '-f', '-q', '-n', '-t', '15', '-T', '1', '-A', '1', '-s', script, ...(request ? ['-r', request] : [])];
    const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  }

  before(async () => {
    // What the client learnt, for the test to read; the address goes on the interface.
    writeFileSync(script, `#!/bin/sh\ncase "$1" in bound|renew)\n  echo "$1 ip=$ip mask=$mask router=$router serverid=$serverid mtu=$mtu lease=$lease" >> ${leases}\n  ip -4 addr replace "$ip/$mask" dev "$interface"\n;;\nesac\nexit 0\n`);
    chmodSync(script, 0o755);
    lmaNs = lab.ns('lma');
    mag1 = lab.ns('mag1');
    mag2 = lab.ns('mag2');
    mn = lab.ns('mn');
    spawnSync('ip', ['netns', 'exec', mn.name, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    const [l1, m1] = lab.link(lmaNs, mag1);
    const [l2, m2] = lab.link(lmaNs, mag2);
    lmaNs.addAddress(l1, '2001:db8:f1::1/64');
    lmaNs.addAddress(l2, '2001:db8:f2::1/64');
    mag1.addAddress(m1, '2001:db8:f1::2/64');
    mag2.addAddress(m2, '2001:db8:f2::2/64');
    mag2.ip('-6', 'route', 'add', '2001:db8:f1::/64', 'via', '2001:db8:f2::1');
    mag1.ip('link', 'add', 'acc0', 'type', 'veth', 'peer', 'name', 'mn0');
    mag1.ip('link', 'set', 'mn0', 'netns', mn.name);
    mn.ip('link', 'set', 'mn0', 'address', MN_MAC);
    lma = await Agent.start(lab, lmaNs);
    await lma.call('lma', { address: LMA, mags: ['2001:db8:f1::2', '2001:db8:f2::2'], profiles: [{ mnId: MN, hnps: [], ipv4HoA: HOA, ipv4PrefixLength: 24, ipv4DefaultRouter: '10.77.0.1' }] });
    a1 = await Agent.start(lab, mag1, [], 'test/attach/mag-agent.ts');
    a2 = await Agent.start(lab, mag2, [], 'test/attach/mag-agent.ts');
    const common = { lma: LMA, directory: [[MN, MN_MAC]], access: ACCESS, ipv4Only: true };
    await a1.call('start', { ...common, magId: 'mag1', proxyCoa: '2001:db8:f1::2' });
    await a2.call('start', { ...common, magId: 'mag2', proxyCoa: '2001:db8:f2::2' });
  });

  after(async () => {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('MAG1: DHCPDISCOVER attaches the MN; after PBA 0 it is offered the LMA\'s IPv4 HoA with mask, router, MTU and server id', async () => {
    mag1.ip('link', 'set', 'acc0', 'up');
    mn.ip('link', 'set', 'mn0', 'up');
    const r = dhcp();
    assert.equal(r.status, 0, r.out);
    assert.match(readFileSync(leases, 'utf8'), new RegExp(`bound ip=${HOA.replace(/\./g, '\\.')} mask=24 router=10.77.0.1 serverid=10.77.0.1 mtu=1452 lease=3600`));
    assert.match(mn.ip('-4', 'addr', 'show', 'dev', 'mn0'), /inet 10\.77\.0\.5\/24/);
    const ev = (await a1.call<MagEvent[]>('events')).find((e) => e.type === 'registered');
    assert.equal(ev && ev.type === 'registered' ? ev.ipv4HoA : null, HOA);
    const [b] = await lma.call<{ proxyCoa: string }[]>('lmaBindings', { mnId: MN });
    assert.equal(b.proxyCoa, '2001:db8:f1::2');
    // Its default router answers ARP from the RFC 6543 MAC (a ping makes the MN ask; the echo
    // itself needs the MAG's route to the MN, the data plane's part, so its outcome is not checked).
    await until('ARP for the default router answered', () => {
      spawnSync('ip', ['netns', 'exec', mn.name, 'ping', '-c', '1', '-W', '1', '10.77.0.1']);
      return /lladdr 00:00:5e:00:52:13/.test(mn.ip('neigh', 'show', '10.77.0.1'));
    });
    // Reachability of an IPv4-only MN: it answers the MAG's unicast ARP probes and stays.
    await until('MAG1 probed the MN by ARP', async () => (await a1.call<{ access: { sent: { arp: number } } }>('counters')).access.sent.arp >= 2, 15_000);
    const c = await a1.call<{ access: { detaches: { unreachable: number } } }>('counters');
    assert.equal(c.access.detaches.unreachable, 0);
    assert.equal((await a1.call<MagEvent[]>('events')).filter((e) => e.type === 'deregistered').length, 0);
  });

  it('the link moves to MAG2: the client asks again, MAG2 registers the MN and hands out the same address', async () => {
    mag1.ip('link', 'set', 'acc0', 'netns', mag2.name);
    mag2.ip('link', 'set', 'acc0', 'up');
    await until('MAG1 de-registers', async () => (await a1.call<MagEvent[]>('events')).some((e) => e.type === 'deregistered' && e.mnId === MN));
    const r = dhcp(HOA);
    assert.equal(r.status, 0, r.out);
    assert.equal(readFileSync(leases, 'utf8').trim().split('\n').length, 2);
    assert.match(readFileSync(leases, 'utf8').trim().split('\n')[1], new RegExp(`bound ip=${HOA.replace(/\./g, '\\.')} `));
    assert.match(mn.ip('-4', 'addr', 'show', 'dev', 'mn0'), /inet 10\.77\.0\.5\/24/);
    const bindings = await lma.call<{ proxyCoa: string }[]>('lmaBindings', { mnId: MN });
    assert.deepEqual(bindings.map((b) => b.proxyCoa), ['2001:db8:f2::2']);
    const c = await a2.call<{ access: { sent: { dhcp: number; ra: number } } }>('counters');
    assert.ok(c.access.sent.dhcp >= 2); // OFFER and ACK
    assert.equal(c.access.sent.ra, 0); // IPv4 only: no RA
  });

  it('back to MAG1 with no DHCP client running (the address now as good as static): its first ARP attaches it, MAG1 registers it again', async () => {
    mag2.ip('link', 'set', 'acc0', 'netns', mag1.name);
    mag1.ip('link', 'set', 'acc0', 'up');
    await until('the LMA binding points at MAG1 again', async () => {
      // The host's traffic to its default router starts with an ARP request (RFC 826).
      spawnSync('ip', ['netns', 'exec', mn.name, 'ping', '-c', '1', '-W', '1', '10.77.0.1']);
      return (await lma.call<{ proxyCoa: string }[]>('lmaBindings', { mnId: MN })).some((b) => b.proxyCoa === '2001:db8:f1::2');
    }, 20_000);
    assert.match(mn.ip('-4', 'addr', 'show', 'dev', 'mn0'), /inet 10\.77\.0\.5\/24/);
    assert.equal(readFileSync(leases, 'utf8').trim().split('\n').length, 2, 'no DHCP this time');
  });
});
