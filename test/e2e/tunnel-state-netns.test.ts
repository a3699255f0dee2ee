// PMIPV6-MIB's tunnel objects over the real data plane (issue 13: "SNMP tunnel objects report
// the real tunnels"): an LMA (`pmip6 start`) and a MAG (`pmip6 mag`) with the user-space
// forwarder and their SNMP agents, each in its own namespace (p6t-nlsnmp-*). An MN attached
// through the MAG's API gets a binding; net-snmp's snmpwalk, run inside each namespace, reads
// pmip6BindingTunnelIfIdentifier (LMA) and pmip6MagBLTunnelIfIdentifier (MAG) (RFC 6475,
// Ipv6AddressIfIdentifierTC): the ifIndex of the TUN device that carries the tunnel there, in
// network byte order, the index `ip link` shows for pmip6-lma / pmip6-mag. After detach the
// rows are gone. And the MAG's per-MN route out of the access link survives a flap of that
// link while the binding lasts (the kernel removes it when the link goes down; the MAG's
// data plane puts it back when the link is up again: the API attach here is not tied to the
// link state, so the binding stays). Namespaces and processes are removed even when the test fails.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, netnsUnavailable, type Netns } from '../helpers/netns.ts';
import { buildPmipDomain } from '../helpers/pmipv6-domain.ts';
import { Agent } from '../helpers/ns-agent-client.ts';
import { pmip6, stopProcess, type Child } from '../helpers/cli.ts';
import { createPgDatabase } from '../helpers/db.ts';
import { pgUnixBridge, type PgBridge } from '../helpers/pg-bridge.ts';
import { until } from '../helpers/until.ts';
import { OUR_MIBS, IETF_MIBS } from '../snmp/helpers.ts';
import { loadNative } from '../../src/transport/native.ts';

const LMAA = '2001:db8:d7::1';
const MAG1 = '2001:db8:d7:1::2';
const TOKEN = 'e2e-nlsnmp-token';
const MN_ID = 'mn1@nlsnmp.example';
const HNP = '2001:db8:d7:f001::/64';
const COMMUNITY = 'nl-public';

const skip =
  netnsUnavailable() ??
  (loadNative().ok ? null : 'native addon not built') ??
  (spawnSync('snmpwalk', ['-V']).error ? 'snmpwalk (net-snmp) is not installed' : null);

describe('tunnel state of a running LMA and MAG: SNMP tunnel objects (RFC 6475), the MAG\'s route across an access-link flap', { skip: skip ?? false }, () => {
  const lab = new Lab('nlsnmp');
  const dir = mkdtempSync(join(tmpdir(), 'pmip6-e2e-nlsnmp-'));
  const children: Child[] = [];
  let nsL: Netns, nsM1: Netns;
  let l: Agent, a1: Agent;
  let lma: Child, mag: Child;
  let db: { name: string; drop(): Promise<void> } | undefined;
  let bridge: PgBridge | undefined;

  const api = async <T>(a: Agent, port: number, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> => {
    const r = await a.call<{ status: number; body: string }>('fetch', { url: `http://127.0.0.1:${port}${path}`, method, body, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } });
    return { status: r.status, json: (r.body ? JSON.parse(r.body) : null) as T };
  };
  /** snmpwalk inside a namespace, our MIB path first; the values of one column. */
  const walk = (ns: Netns, object: string): string[] => {
    mkdirSync(join(dir, 'net-snmp'), { recursive: true });
    const r = spawnSync('ip', ['netns', 'exec', ns.name, 'snmpwalk', '-M', `${OUR_MIBS}:${IETF_MIBS}`, '-m', 'PMIPV6-MIB', '-v2c', '-c', COMMUNITY, '-r', '1', '-t', '3', '127.0.0.1:1161', `PMIPV6-MIB::${object}`], {
      encoding: 'utf8', env: { ...process.env, SNMP_PERSISTENT_DIR: join(dir, 'net-snmp') },
    });
    assert.equal(r.status, 0, `snmpwalk ${object}: ${r.stderr}`);
    return r.stdout.split('\n').filter((x) => x.startsWith(`PMIPV6-MIB::${object}.`));
  };
  /** "0:7" for ifIndex 7: DISPLAY-HINT "2x:" prints the 4 octets as two 16-bit hex groups. */
  const hint = (ifindex: number): string => [ifindex >>> 16, ifindex & 0xffff].map((b) => b.toString(16)).join(':');
  const ifIndexOf = (ns: Netns, dev: string): number => (JSON.parse(ns.ip('-j', 'link', 'show', 'dev', dev)) as { ifindex: number }[])[0].ifindex;
  const snmpEnv = { PMIP6_SNMP_ENABLED: 'true', PMIP6_SNMP_PORT: '1161', PMIP6_SNMP_BIND: '127.0.0.1', PMIP6_SNMP_COMMUNITIES: `${COMMUNITY}:full` };

  before(async () => {
    const d = buildPmipDomain(lab, '2001:db8:d7');
    ({ lma: nsL, mag1: nsM1 } = d);
    // The MN's access link at the MAG (the MN end stays without a namespace of its own: only signalling matters here).
    nsM1.ip('link', 'add', 'nlacc0', 'type', 'veth', 'peer', 'name', 'nlmn0');
    nsM1.ip('link', 'set', 'nlacc0', 'up');
    nsM1.ip('link', 'set', 'nlmn0', 'up');
    [l, a1] = await Promise.all([Agent.start(lab, nsL), Agent.start(lab, nsM1)]);
    db = await createPgDatabase('pmip6_e2e_nlsnmp');
    bridge = await pgUnixBridge();
    lma = pmip6(['start'], {
      ...snmpEnv,
      PMIP6_DATA_DIR: join(dir, 'lma-data'), DATABASE_URL: bridge.url(db.name), PMIP6_RADIUS_ENABLED: 'false',
      PMIP6_API_HOST: '127.0.0.1', PMIP6_API_PORT: '8080', PMIP6_API_TOKEN: TOKEN,
      PMIP6_LMA_ADDRESS: LMAA, PMIP6_LMA_HEARTBEAT_INTERVAL: '0', PMIP6_LMA_MIN_DELAY_BEFORE_BCE_DELETE: '500',
      PMIP6_DATAPLANE_KIND: 'userspace', PMIP6_LOG_LEVEL: 'info',
    }, { prefix: ['ip', 'netns', 'exec', nsL.name] });
    children.push(lma);
    lab.track(lma.child);
    await until('LMA ready', async () => lma.child.exitCode !== null || (await l.call<{ status: number }>('fetch', { url: 'http://127.0.0.1:8080/readyz' }).catch(() => ({ status: 0 }))).status === 200, 90_000);
    assert.equal(lma.child.exitCode, null, lma.out());
    assert.equal((await api(l, 8080, 'POST', '/api/v1/mags', { id: 'mag1', proxyCoa: [MAG1], authorized: true })).status, 201);
    assert.equal((await api(l, 8080, 'POST', '/api/v1/profiles', { mnId: MN_ID, hnps: [HNP] })).status, 201);
    mag = pmip6(['mag', '--id', 'mag1', '--proxy-coa', MAG1, '--lma', LMAA], {
      ...snmpEnv,
      PMIP6_DATA_DIR: mkdtempSync(join(dir, 'mag1-')), PMIP6_API_HOST: '127.0.0.1', PMIP6_API_PORT: '8081', PMIP6_API_TOKEN: TOKEN,
      PMIP6_MAG_HEARTBEAT_INTERVAL: '0', PMIP6_LOG_LEVEL: 'info', PMIP6_DATAPLANE_KIND: 'userspace',
    }, { prefix: ['ip', 'netns', 'exec', nsM1.name] });
    children.push(mag);
    lab.track(mag.child);
    await until('MAG up', () => mag.out().includes('MAG mag1 running') || mag.child.exitCode !== null, 60_000);
    assert.equal(mag.child.exitCode, null, mag.out());
  });

  after(async () => {
    for (const c of children) await stopProcess(c).catch(() => undefined);
    await lab.cleanup();
    await bridge?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pmip6BindingTunnelIfIdentifier and pmip6MagBLTunnelIfIdentifier are the TUN devices\' ifIndex', async () => {
    assert.equal((await api(a1, 8081, 'POST', '/api/v1/mag/attach', { mnId: MN_ID, link: 'nlacc0', mnLinkLayerId: '02:00:5e:d7:00:01' })).status, 202);
    await until('binding at the LMA', async () => (await api<{ items: { mnId: string; state: string }[] }>(l, 8080, 'GET', '/api/v1/bindings?limit=10')).json.items.some((b) => b.mnId === MN_ID), 30_000);
    const lmaIf = ifIndexOf(nsL, 'pmip6-lma');
    const magIf = ifIndexOf(nsM1, 'pmip6-mag');
    const lmaRows = await until('LMA row with the tunnel', () => {
      const r = walk(nsL, 'pmip6BindingTunnelIfIdentifier');
      return r.length > 0 && !r[0].endsWith('""') ? r : undefined;
    }, 15_000);
    assert.equal(lmaRows.length, 1, lmaRows.join('\n'));
    assert.match(lmaRows[0], new RegExp(`= STRING: ${hint(lmaIf)}$`), `LMA: ifIndex ${lmaIf} of pmip6-lma`);
    const magRows = await until('MAG row with the tunnel', () => {
      const r = walk(nsM1, 'pmip6MagBLTunnelIfIdentifier');
      return r.length > 0 && !r[0].endsWith('""') ? r : undefined;
    }, 15_000);
    assert.equal(magRows.length, 1, magRows.join('\n'));
    assert.match(magRows[0], new RegExp(`= STRING: ${hint(magIf)}$`), `MAG: ifIndex ${magIf} of pmip6-mag`);

  });

  it('an access-link flap at the MAG: the per-MN route comes back while the binding lasts', async () => {
    const route = (): boolean => nsM1.ip('-6', 'route', 'show', 'table', '5214').includes('2001:db8:d7:f001::/64 dev nlacc0');
    await until('the MAG routes the HNP out of the access link', route, 15_000);
    nsM1.ip('link', 'set', 'nlacc0', 'down');
    await until('the kernel removed the route with the link', () => !route(), 10_000);
    nsM1.ip('link', 'set', 'nlacc0', 'up');
    await until('the route is back', route, 10_000);
    const bul = (await api<{ items: { mnId: string; state: string }[] }>(a1, 8081, 'GET', '/api/v1/mag/bul?limit=10')).json.items;
    assert.deepEqual(bul.map((b) => [b.mnId, b.state]), [[MN_ID, 'registered']], 'the binding stayed');
    assert.match(mag.out(), /access link up: per-MN routes put back/);

    assert.equal((await api(a1, 8081, 'POST', '/api/v1/mag/detach', { mnId: MN_ID, link: 'nlacc0' })).status, 202);
    await until('rows gone at the MAG and the LMA', () => walk(nsM1, 'pmip6MagBLTunnelIfIdentifier').length === 0 && walk(nsL, 'pmip6BindingTunnelIfIdentifier').length === 0, 30_000);
    await until('the route is gone with the binding', () => !route(), 10_000);
  });
});
