// PMIPV6-MIB (RFC 6475) over real running roles: `pmip6 start` runs the LMA with its SNMP
// agent, `pmip6 mag` runs a MAG with its own agent, both as separate processes talking
// PMIPv6 over IPv4/UDP (RFC 5844 §4). MNs attach and detach through the MAG's API; Debian's
// net-snmp tools read both agents over SNMPv2c and SNMPv3 authPriv (SHA-256/AES) with our
// mibs/ first on the MIB path (the standard modules of mibs/ietf after it), and snmptrapd receives the tunnel notifications: v2c traps from the LMA,
// v3 informs from the MAG. A SET of pmip6LmaMinDelayBeforeBCEDelete (RFC 5213 §9.1) over
// v3 changes the running LMA and is still in force after the LMA process restarts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, pmip6, startSuiteProcess, stopProcess, type Child } from '../helpers/cli.ts';
import { OUR_MIBS, freeUdpPort, meaningful, run, IETF_MIBS, startTrapReceiver, tempDir, type RunResult, type TrapReceiver } from '../snmp/helpers.ts';

const MAG_COA = '127.0.0.2';
const MNS = [1, 2, 3].map((i) => ({
  mnId: `mn${i}@e2e.pmip6.example`,
  mac: `02:00:5e:00:e2:0${i}`,
  hnp: `2001:db8:e2e0:${i}::/64`,
  /** The HNP as the InetAddress index snmpwalk prints (host bits zero, RFC 6475 view). */
  hoa: `ipv6."20:01:0d:b8:e2:e0:00:0${i}:00:00:00:00:00:00:00:00"`,
  /** The same index as numbers, for input (net-snmp reads a quoted index as text, not with the display hint). */
  hoaOid: `2.16.32.1.13.184.226.224.0.${i}.0.0.0.0.0.0.0.0`,
}));
const LMAA_IDX = 'ipv4."127.0.0.1"';
const V3_RW = ['-v3', '-l', 'authPriv', '-u', 'noc', '-a', 'SHA-256', '-A', 'noc-auth-pass', '-x', 'AES', '-X', 'noc-priv-pass'];
const V3_RO = ['-v3', '-l', 'authPriv', '-u', 'viewer', '-a', 'SHA-256', '-A', 'viewer-auth-1', '-x', 'AES', '-X', 'viewer-priv-1'];
const V2C = ['-v2c', '-c', 'noc-public'];
/** Configured MinDelayBeforeBCEDelete: long enough that a binding deleted sooner shows the SET value is in force. */
const CONFIG_MIN_DELAY_MS = 60_000;
const SET_MIN_DELAY_MS = 400;
/** Bounded waits: well below CONFIG_MIN_DELAY_MS. */
const WAIT_MS = 20_000;

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\"]/g, '\\$&');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let tmp: ReturnType<typeof tempDir>;
let mibPath: string;
let toolEnv: Record<string, string>;
let trapd: TrapReceiver;
let lmaEnv: Record<string, string>;
let lma: Child & { base: string };
let mag: Child;
let magApi: string;
let lmaSnmp: string;
let magSnmp: string;
let lmaToken: string;
const MAG_TOKEN = 'mag-e2e-token-0123456789';
/** SMI access and net-snmp type per PMIPV6-MIB object, from `snmptranslate -Tp` over our module. */
let mibTypes: Map<string, { access: string; type: string }>;

const tool = (cmd: string, args: string[], timeoutS = 3): Promise<RunResult> => run(cmd, ['-M', mibPath, '-m', 'PMIPV6-MIB', '-r', '1', '-t', String(timeoutS), ...args], toolEnv);

async function ok(cmd: string, args: string[]): Promise<string> {
  const r = await tool(cmd, args);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  assert.deepEqual(meaningful(r.stderr), [], `${cmd}: diagnostics`);
  return r.stdout;
}

interface Varbind {
  name: string;
  index: string;
  type: string;
  value: string;
}

/** Output lines as varbinds; a line that does not start a varbind continues the previous one (long Hex-STRINGs). */
function varbinds(out: string): Varbind[] {
  const lines: string[] = [];
  for (const l of out.split('\n')) {
    if (l === '') continue;
    if (/^\S+::/.test(l) || lines.length === 0) lines.push(l);
    else lines[lines.length - 1] += ` ${l.trim()}`;
  }
  return lines.map((l) => {
    const m = /^PMIPV6-MIB::(\w+)\.(\S+) = (?:([\w-]+): ?)?(.*)$/.exec(l);
    assert.ok(m, `does not resolve to a PMIPV6-MIB name: ${l}`);
    return { name: m[1], index: m[2], type: m[3] ?? (m[4] === '""' ? 'STRING' : '?'), value: m[4] };
  });
}

/** How snmpwalk prints the SMI base types `snmptranslate -Tp` names. */
const PRINTED: Record<string, RegExp> = {
  EnumVal: /^INTEGER$/,
  Integer32: /^INTEGER$/,
  INTEGER: /^INTEGER$/,
  Unsigned: /^Gauge32$/,
  Gauge: /^Gauge32$/,
  Counter: /^Counter32$/,
  TimeTicks: /^Timeticks$/,
  String: /^(Hex-)?STRING$/,
  BitString: /^BITS$/,
};

/** Every varbind is a readable PMIPV6-MIB object printed with its MIB type. */
function assertTyped(vbs: Varbind[], what: string): void {
  assert.ok(vbs.length > 0, `${what}: no varbinds`);
  for (const v of vbs) {
    const t = mibTypes.get(v.name);
    assert.ok(t, `${what}: ${v.name} is not an object of our PMIPV6-MIB`);
    assert.notEqual(t.access, '----', `${what}: ${v.name} is not-accessible in the MIB but was served`);
    assert.ok(PRINTED[t.type], `${what}: no printed form known for ${t.type}`);
    assert.match(v.type, PRINTED[t.type], `${what}: ${v.name}.${v.index} printed as ${v.type}, MIB type ${t.type}`);
  }
}

/** snmptrapd's log as one string per received notification. */
function notifications(out: string): string[] {
  return out
    .split(/\n(?=\d{4}-\d\d-\d\d )/)
    .filter((b) => /pmip6\w+HomeTunnel/.test(b))
    .map((b) => b.replace(/\s+/g, ' '));
}

const countOf = (out: string, name: string, index: string) => notifications(out).filter((n) => n.includes(`OID: PMIPV6-MIB::${name} `) && n.includes(`.${index} `)).length;

async function magCall(path: string, body: unknown): Promise<void> {
  const r = await fetch(`${magApi}/api/v1/mag/${path}`, { method: 'POST', headers: { authorization: `Bearer ${MAG_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(r.status, 202, `${path}: ${await r.text()}`);
}

async function lmaApi(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const r = await fetch(`${lma.base}/api/v1${path}`, { method, headers: { authorization: `Bearer ${lmaToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, json: await r.json().catch(() => null) };
}

async function lmaBindings(): Promise<{ mnId: string; state: string; hnps: string[] }[]> {
  const r = await lmaApi('GET', '/bindings?limit=100');
  assert.equal(r.status, 200);
  return (r.json as { items: { mnId: string; state: string; hnps: string[] }[] }).items;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = WAIT_MS): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

async function startLma(): Promise<void> {
  lma = await startSuiteProcess(lmaEnv);
  lmaToken = readFileSync(join(lmaEnv.PMIP6_DATA_DIR, 'api-token'), 'utf8').trim();
}

before(async () => {
  tmp = tempDir('e2e-roles');
  mibPath = `${OUR_MIBS}:${IETF_MIBS}`;
  mkdirSync(join(tmp.path, 'net-snmp'));
  toolEnv = { SNMP_PERSISTENT_DIR: join(tmp.path, 'net-snmp') };

  const tree = await run('snmptranslate', ['-M', mibPath, '-m', 'PMIPV6-MIB', '-Tp', 'PMIPV6-MIB::pmip6MIB'], toolEnv);
  assert.equal(tree.code, 0, tree.stderr);
  mibTypes = new Map();
  for (const m of tree.stdout.matchAll(/\+-- (\S{4}) (\w+)\s+(\w+)\(\d+\)/g)) mibTypes.set(m[3], { access: m[1], type: m[2] });
  assert.ok(mibTypes.size > 50, `snmptranslate -Tp listed ${mibTypes.size} objects`);

  trapd = await startTrapReceiver(tmp.path, mibPath, ['authCommunity log trapcomm', 'createUser trapuser SHA-256 trap-auth-1 AES trap-priv-1', 'authUser log trapuser priv']);

  const lmaPort = await freePort('udp');
  const lmaSnmpPort = await freeUdpPort();
  lmaSnmp = `127.0.0.1:${lmaSnmpPort}`;
  const lmaDir = join(tmp.path, 'lma-data');
  mkdirSync(lmaDir);
  lmaEnv = {
    PMIP6_DATA_DIR: lmaDir,
    PMIP6_RADIUS_ENABLED: 'false',
    PMIP6_LMA_ADDRESS: '127.0.0.1',
    PMIP6_LMA_UDP_PORT: String(lmaPort),
    PMIP6_LMA_MIN_DELAY_BEFORE_BCE_DELETE: String(CONFIG_MIN_DELAY_MS),
    PMIP6_SNMP_PORT: String(lmaSnmpPort),
    PMIP6_SNMP_BIND: '127.0.0.1',
    PMIP6_SNMP_COMMUNITIES: 'noc-public:full', // the full view, opted into (RFC 3415; default: no subscriber data over v2c)
    PMIP6_SNMP_USERS: 'noc:sha256:noc-auth-pass:aes:noc-priv-pass:rw,viewer:sha256:viewer-auth-1:aes:viewer-priv-1',
    PMIP6_SNMP_TRAP_TARGETS: `127.0.0.1:${trapd.port}`,
    PMIP6_SNMP_TRAP_COMMUNITY: 'trapcomm',
    PMIP6_LOG_LEVEL: process.env.E2E_LOG || 'warn',
  };
  await startLma();

  // The MAG must be authorised at the LMA (RFC 5213 §5.3.1 check 5), the MNs need profiles with HNPs.
  const m = await lmaApi('POST', '/mags', { id: 'mag-e2e', proxyCoa: [MAG_COA], authorized: true });
  assert.equal(m.status, 201, JSON.stringify(m.json));
  for (const mn of MNS) {
    const p = await lmaApi('POST', '/profiles', { mnId: mn.mnId, hnps: [mn.hnp], mnLinkLayerIds: [mn.mac] });
    assert.equal(p.status, 201, JSON.stringify(p.json));
  }

  const magApiPort = await freePort();
  const magSnmpPort = await freeUdpPort();
  magApi = `http://127.0.0.1:${magApiPort}`;
  magSnmp = `127.0.0.1:${magSnmpPort}`;
  const magDir = join(tmp.path, 'mag-data');
  mkdirSync(magDir);
  mag = pmip6(['mag', '--id', 'mag-e2e', '--proxy-coa', MAG_COA, '--lma', '127.0.0.1'], {
    PMIP6_DATA_DIR: magDir,
    PMIP6_MAG_LMA_PORT: String(lmaPort),
    PMIP6_MAG_PORT: '0',
    PMIP6_API_PORT: String(magApiPort),
    PMIP6_API_HOST: '127.0.0.1',
    PMIP6_API_TOKEN: MAG_TOKEN,
    PMIP6_SNMP_PORT: String(magSnmpPort),
    PMIP6_SNMP_BIND: '127.0.0.1',
    PMIP6_SNMP_COMMUNITIES: 'noc-public:full', // the full view, opted into (RFC 3415; default: no subscriber data over v2c)
    PMIP6_SNMP_USERS: 'noc:sha256:noc-auth-pass:aes:noc-priv-pass:rw,trapuser:sha256:trap-auth-1:aes:trap-priv-1',
    PMIP6_SNMP_TRAP_TARGETS: `v3:trapuser@127.0.0.1:${trapd.port}`,
    PMIP6_LOG_LEVEL: process.env.E2E_LOG || 'warn',
  });
  await until(
    'the MAG API',
    async () => {
      if (mag.child.exitCode !== null) throw new Error(`pmip6 mag exited: ${mag.out()}`);
      return (await fetch(`${magApi}/healthz`).then((r) => r.ok).catch(() => false)) || undefined;
    },
    60_000,
  );
});

after(async () => {
  if (mag) await stopProcess(mag);
  if (lma) await stopProcess(lma);
  if (trapd) await trapd.stop();
  if (process.env.E2E_LOG) console.log(`--- LMA\n${lma?.out()}\n--- MAG\n${mag?.out()}\n--- snmptrapd\n${trapd?.output()}`);
  tmp?.remove();
});

describe('PMIPV6-MIB agents of a running LMA (pmip6 start) and MAG (pmip6 mag) (RFC 6475, RFC 5213)', () => {
  test('RFC 5213 §5.3.2 / RFC 6475 pmip6BindingCacheTable: MNs attached at the MAG appear at the LMA over v2c and v3 authPriv, every varbind named and typed by PMIPV6-MIB; tunnel-established notifications reach snmptrapd', async () => {
    for (const mn of MNS) await magCall('attach', { mnId: mn.mnId, mnLinkLayerId: mn.mac, link: `ap-${mn.mnId}`, accessTechType: 4 });
    await until('three bindings at the LMA', async () => (await lmaBindings()).filter((b) => b.state === 'active').length === 3);

    // The binding-cache table: one row per MN, indexed by its HNP, over v2c walk, v2c bulkwalk and v3 authPriv bulkwalk.
    const walk = await ok('snmpwalk', [...V2C, lmaSnmp, 'PMIPV6-MIB::pmip6BindingCacheTable']);
    const bulk = await ok('snmpbulkwalk', [...V2C, '-Cr5', lmaSnmp, 'PMIPV6-MIB::pmip6BindingCacheTable']);
    const v3 = await ok('snmpbulkwalk', [...V3_RO, '-Cr7', lmaSnmp, 'PMIPV6-MIB::pmip6BindingCacheTable']);
    assert.equal(bulk, walk, 'v2c snmpbulkwalk = snmpwalk');
    assert.equal(v3, walk, 'v3 authPriv snmpbulkwalk = v2c snmpwalk');
    const rows = varbinds(walk);
    assertTyped(rows, 'pmip6BindingCacheTable');
    assert.deepEqual([...new Set(rows.map((r) => r.index))].sort(), MNS.map((m) => m.hoa).sort(), 'one row per attached MN, indexed by its HNP');
    for (const mn of MNS) {
      assert.match(walk, new RegExp(`pmip6BindingPBUFlag\\.${esc(mn.hoa)} = INTEGER: true\\(1\\)`));
      assert.match(walk, new RegExp(`pmip6BindingMnInterfaceATT\\.${esc(mn.hoa)} = INTEGER: wirelessLan\\(4\\)`));
    }
    // The MN-ID of each row, by its pmip6BindingMnIndex, with snmpget.
    for (const mn of MNS) {
      const idx = rows.find((r) => r.name === 'pmip6BindingMnIndex' && r.index === mn.hoa)!.value;
      const ll = rows.find((r) => r.name === 'pmip6BindingMnLLIndex' && r.index === mn.hoa)!.value;
      const id = await ok('snmpget', [...V3_RW, lmaSnmp, `PMIPV6-MIB::pmip6LmaMnIdentifier.${idx}`, `PMIPV6-MIB::pmip6LmaHomeNetworkPrefixLength.${idx}.${ll}.${mn.hoaOid}`]);
      assert.match(id, new RegExp(`pmip6LmaMnIdentifier\\.${idx} = STRING: ${esc(mn.mnId)}\\n`));
      assert.match(id, new RegExp(`pmip6LmaHomeNetworkPrefixLength\\.${idx}\\.${ll}\\.${esc(mn.hoa)} = Gauge32: 64\\n`));
    }

    // The whole LMA side of the MIB over v3 authPriv: every varbind resolves and has the MIB's type.
    const all = await ok('snmpbulkwalk', [...V3_RO, '-Cr20', lmaSnmp, 'PMIPV6-MIB::pmip6MIB']);
    const allVbs = varbinds(all);
    assertTyped(allVbs, 'LMA pmip6MIB');
    assert.match(all, /pmip6LmaStatus\.0 = INTEGER: enabled\(1\)/);
    assert.match(all, /pmip6Capabilities\.0 = BITS: 40 localMobilityAnchor\(1\)/);
    assert.match(all, /pmip6InitialBindingRegistrations\.0 = Counter32: 3/);
    assert.match(all, new RegExp(`pmip6LmaLMAAState\\.${esc(LMAA_IDX)} = INTEGER: \\w+\\(\\d\\)`));
    assert.equal(allVbs.filter((v) => v.name === 'pmip6LmaMnIdentifier').length, 3);
    assert.ok(!allVbs.some((v) => v.name.startsWith('pmip6MagBL')), 'no MAG rows at the LMA');

    const out = await trapd.waitFor((o) => MNS.every((mn) => countOf(o, 'pmip6LmaHomeTunnelEstablished', mn.hoa) === 1), WAIT_MS);
    for (const n of notifications(out).filter((x) => x.includes('pmip6LmaHomeTunnelEstablished'))) {
      assert.match(n, new RegExp(`PMIPV6-MIB::pmip6LmaLMAAState\\.${esc(LMAA_IDX)} = INTEGER: (activated\\(2\\)|tunneled\\(3\\))`));
    }
  });

  test('RFC 6475 MAG tables: the MAG process serves its Binding Update List (pmip6MagBLTable) and sends pmip6MagHomeTunnelEstablished as v3 informs', async () => {
    const bl = await ok('snmpwalk', [...V2C, magSnmp, 'PMIPV6-MIB::pmip6MagBLTable']);
    const v3 = await ok('snmpbulkwalk', [...V3_RW, '-Cr9', magSnmp, 'PMIPV6-MIB::pmip6MagBLTable']);
    assert.equal(v3, bl, 'v3 authPriv snmpbulkwalk = v2c snmpwalk');
    const rows = varbinds(bl);
    assertTyped(rows, 'pmip6MagBLTable');
    assert.deepEqual([...new Set(rows.map((r) => r.index))].sort(), MNS.map((m) => `${m.hoa}.${LMAA_IDX}`).sort(), 'one BUL row per MN, indexed by HNP and LMAA');
    for (const mn of MNS) assert.match(bl, new RegExp(`pmip6MagBLFlag\\.${esc(mn.hoa)}\\.${esc(LMAA_IDX)} = INTEGER: true\\(1\\)`));

    const all = await ok('snmpbulkwalk', [...V3_RW, '-Cr20', magSnmp, 'PMIPV6-MIB::pmip6MIB']);
    const vbs = varbinds(all);
    assertTyped(vbs, 'MAG pmip6MIB');
    assert.match(all, /pmip6MagStatus\.0 = INTEGER: enabled\(1\)/);
    assert.match(all, /pmip6Capabilities\.0 = BITS: 80 mobilityAccessGateway\(0\)/);
    assert.match(all, new RegExp(`pmip6MagProxyCOAState\\.ipv4\\."${esc(MAG_COA)}" = INTEGER: \\w+\\(\\d\\)`));
    for (const mn of MNS) assert.match(all, new RegExp(`pmip6MagProfMnIdentifier\\.\\d+ = STRING: ${esc(mn.mnId)}\\n`));
    assert.ok(!vbs.some((v) => v.name === 'pmip6BindingPBUFlag' || v.name === 'pmip6LmaMnIdentifier'), 'no LMA rows at the MAG');

    await trapd.waitFor((o) => MNS.every((mn) => countOf(o, 'pmip6MagHomeTunnelEstablished', `${mn.hoa}.${LMAA_IDX}`) === 1), WAIT_MS);
  });

  test('RFC 3414 / RFC 3584: a wrong community, a wrong v3 authentication or privacy password and an unknown user get no data', async () => {
    const obj = 'PMIPV6-MIB::pmip6BindingCacheTable';
    const cases: [string, string[]][] = [
      ['wrong community', ['-v2c', '-c', 'not-the-community']],
      ['wrong auth password', ['-v3', '-l', 'authPriv', '-u', 'noc', '-a', 'SHA-256', '-A', 'wrong-auth-pass', '-x', 'AES', '-X', 'noc-priv-pass']],
      ['wrong priv password', ['-v3', '-l', 'authPriv', '-u', 'noc', '-a', 'SHA-256', '-A', 'noc-auth-pass', '-x', 'AES', '-X', 'wrong-priv-pass']],
      ['unknown user', ['-v3', '-l', 'authPriv', '-u', 'mallory', '-a', 'SHA-256', '-A', 'noc-auth-pass', '-x', 'AES', '-X', 'noc-priv-pass']],
    ];
    for (const target of [lmaSnmp, magSnmp]) {
      for (const [what, auth] of cases) {
        const r = await run('snmpbulkwalk', ['-M', mibPath, '-m', 'PMIPV6-MIB', '-r', '0', '-t', '1', ...auth, target, obj], toolEnv);
        assert.notEqual(r.code, 0, `${what} at ${target}: ${r.stdout}`);
        assert.doesNotMatch(r.stdout, /PMIPV6-MIB::|\d+@e2e/, `${what} at ${target} got data`);
      }
    }
    // The right credentials still work afterwards.
    await ok('snmpget', [...V3_RW, lmaSnmp, 'PMIPV6-MIB::pmip6LmaStatus.0']);
  });

  test('RFC 6475 pmip6LmaMinDelayBeforeBCEDelete / RFC 5213 §5.3.5: a v3 SET changes the running LMA (a de-registered BCE goes after the new delay) and survives a restart', async () => {
    const get = async () => ok('snmpget', [...V2C, lmaSnmp, 'PMIPV6-MIB::pmip6LmaMinDelayBeforeBCEDelete.0']);
    assert.match(await get(), new RegExp(`= INTEGER: ${CONFIG_MIN_DELAY_MS} milliseconds`));
    // Read-only access may not write it.
    const denied = await tool('snmpset', [...V3_RO, lmaSnmp, 'PMIPV6-MIB::pmip6LmaMinDelayBeforeBCEDelete.0', 'i', String(SET_MIN_DELAY_MS)]);
    assert.match(denied.stderr, /noAccess|authorizationError/);
    assert.match(await get(), new RegExp(`= INTEGER: ${CONFIG_MIN_DELAY_MS} milliseconds`));
    const set = await tool('snmpset', [...V3_RW, lmaSnmp, 'PMIPV6-MIB::pmip6LmaMinDelayBeforeBCEDelete.0', 'i', String(SET_MIN_DELAY_MS)]);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, new RegExp(`pmip6LmaMinDelayBeforeBCEDelete\\.0 = INTEGER: ${SET_MIN_DELAY_MS} milliseconds`));
    assert.match(await get(), new RegExp(`= INTEGER: ${SET_MIN_DELAY_MS} milliseconds`));

    // Detach MN 1: the MAG de-registers (RFC 5213 §6.10); the LMA deletes the BCE after the
    // SET delay, not the configured 60 s, and sends pmip6LmaHomeTunnelReleased.
    const [mn1, mn2, mn3] = MNS;
    await magCall('detach', { mnId: mn1.mnId, link: `ap-${mn1.mnId}` });
    await until('MN 1 gone from the LMA', async () => !(await lmaBindings()).some((b) => b.mnId === mn1.mnId));
    await trapd.waitFor((o) => countOf(o, 'pmip6LmaHomeTunnelReleased', mn1.hoa) === 1 && countOf(o, 'pmip6MagHomeTunnelReleased', `${mn1.hoa}.${LMAA_IDX}`) === 1, WAIT_MS);
    const walk = await ok('snmpwalk', [...V2C, lmaSnmp, 'PMIPV6-MIB::pmip6BindingPBUFlag']);
    assert.deepEqual(varbinds(walk).map((v) => v.index).sort(), [mn2.hoa, mn3.hoa].sort());
    const bl = await ok('snmpwalk', [...V2C, magSnmp, 'PMIPV6-MIB::pmip6MagBLFlag']);
    assert.deepEqual(varbinds(bl).map((v) => v.index).sort(), [mn2, mn3].map((m) => `${m.hoa}.${LMAA_IDX}`).sort());

    // Restart the LMA process with the same configuration (which still says 60 s).
    assert.equal(await stopProcess(lma), 0, lma.out().slice(-2000));
    await startLma();
    assert.match(await get(), new RegExp(`= INTEGER: ${SET_MIN_DELAY_MS} milliseconds`), 'the SET value survived the restart');
    // Its bindings were restored (RFC 5213 §5.1 BCE, persisted write-behind) and show in the MIB.
    const after = await ok('snmpwalk', [...V3_RW, lmaSnmp, 'PMIPV6-MIB::pmip6BindingPBUFlag']);
    assert.deepEqual(varbinds(after).map((v) => v.index).sort(), [mn2.hoa, mn3.hoa].sort());
    // ... and the restarted LMA applies the saved delay.
    await magCall('detach', { mnId: mn2.mnId, link: `ap-${mn2.mnId}` });
    await until('MN 2 gone from the restarted LMA', async () => !(await lmaBindings()).some((b) => b.mnId === mn2.mnId));
    await trapd.waitFor((o) => countOf(o, 'pmip6LmaHomeTunnelReleased', mn2.hoa) === 1, WAIT_MS);
    const left = await ok('snmpwalk', [...V2C, lmaSnmp, 'PMIPV6-MIB::pmip6BindingPBUFlag']);
    assert.deepEqual(varbinds(left).map((v) => v.index), [mn3.hoa]);
    assert.ok(mag.child.exitCode === null, 'the MAG kept running');
  });
});
