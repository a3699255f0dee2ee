// The agent over UDP (IPv4 and IPv6) against Debian's net-snmp tools, with MIB names from
// our mibs/ plus the standard modules of mibs/ietf: v2c and v3 authPriv reads, SETs
// that persist, and every kind of refused or malformed request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Pmip6SnmpAgent } from '../../src/snmp/agent.ts';
import type { SnmpAgentOptions } from '../../src/snmp/options.ts';
import { Tag, ber, encode } from '../../src/snmp/ber.ts';
import { communityMessage } from '../../src/snmp/encode.ts';
import { pmip6Objects } from '../../src/snmp/mib.ts';
import { JsonFilePersistence, MemoryPersistence, Pmip6Settings } from '../../src/snmp/settings.ts';
import { FakeMag, populatedLma, syntheticBinding, type FakeLma } from './fake-view.ts';
import { OUR_MIBS, assertSameText, freeUdpPort, meaningful, run, IETF_MIBS, tempDir, type RunResult } from './helpers.ts';

const N = 25; // LMA bindings
const USERS: SnmpAgentOptions['users'] = [
  { name: 'ro-sha', authProtocol: 'sha', authKey: 'auth-pass-1', privProtocol: 'aes', privKey: 'priv-pass-1' },
  { name: 'rw-sha256', authProtocol: 'sha256', authKey: 'auth-pass-2', privProtocol: 'aes', privKey: 'priv-pass-2', access: 'read-write' },
];
const V3_SHA = ['-v3', '-l', 'authPriv', '-u', 'ro-sha', '-a', 'SHA', '-A', 'auth-pass-1', '-x', 'AES', '-X', 'priv-pass-1'];
const V3_SHA256 = ['-v3', '-l', 'authPriv', '-u', 'rw-sha256', '-a', 'SHA-256', '-A', 'auth-pass-2', '-x', 'AES', '-X', 'priv-pass-2'];

let tmp: ReturnType<typeof tempDir>;
let mibPath: string;
let env: Record<string, string>;
let port: number;
let lma: FakeLma;
let mag: FakeMag;
let agent: Pmip6SnmpAgent;
let settingsFile: string;

async function startAgent(): Promise<Pmip6SnmpAgent> {
  const settings = await Pmip6Settings.open(new JsonFilePersistence(settingsFile), { lmaStatus: 'enabled', magStatus: 'enabled' });
  const a = new Pmip6SnmpAgent(
    { port, bind: ['127.0.0.1', '::1'], communities: [{ name: 'public', view: 'full' }], users: USERS },
    { lma, mag, settings },
  );
  await a.start();
  return a;
}

const tool = (cmd: string, args: string[]): Promise<RunResult> => run(cmd, ['-M', mibPath, '-m', 'PMIPV6-MIB', '-r', '1', '-t', '3', ...args], env);
const target = () => `127.0.0.1:${port}`;

before(async () => {
  tmp = tempDir('agent');
  mibPath = `${OUR_MIBS}:${IETF_MIBS}`;
  const persist = join(tmp.path, 'net-snmp');
  mkdirSync(persist);
  env = { SNMP_PERSISTENT_DIR: persist };
  settingsFile = join(tmp.path, 'snmp-settings.json');
  port = await freeUdpPort();
  lma = populatedLma(N);
  mag = new FakeMag();
  for (let i = 1; i <= 3; i++) mag.addBinding(syntheticBinding(1000 + i));
  agent = await startAgent();
});
after(async () => {
  await agent.stop();
  tmp.remove();
});

/** "PMIPV6-MIB::name.index = TYPE: value" lines. */
function parseWalk(out: string): { name: string; index: string; type: string; value: string }[] {
  return out
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const m = /^PMIPV6-MIB::(\w+)\.(\S+) = ([\w-]+): ?(.*)$/.exec(l);
      assert.ok(m, `not a named, typed varbind: ${l}`);
      return { name: m[1], index: m[2], type: m[3], value: m[4] };
    });
}

/** How snmpwalk prints each SMI type of PMIPV6-MIB. */
const PRINTED: Record<string, RegExp> = {
  TruthValue: /^INTEGER$/,
  Enumeration: /^INTEGER$/,
  InetAddressType: /^INTEGER$/,
  Pmip6MnInterfaceATT: /^INTEGER$/,
  Integer32: /^INTEGER$/,
  Pmip6MnIndex: /^Gauge32$/,
  Pmip6MnLLIndex: /^Gauge32$/,
  InetAddressPrefixLength: /^Gauge32$/,
  Unsigned32: /^Gauge32$/,
  Gauge32: /^Gauge32$/,
  Counter32: /^Counter32$/,
  TimeStamp: /^Timeticks$/,
  Bits: /^BITS$/,
  InetAddress: /^(Hex-)?STRING$/,
  PhysAddress: /^(Hex-)?STRING$/,
  Ipv6AddressIfIdentifierTC: /^STRING$/,
  Pmip6MnIdentifier: /^STRING$/,
  Pmip6MnLLIdentifier: /^STRING$/,
  Pmip6TimeStamp64: /^STRING$/,
};

describe('PMIPV6-MIB agent with snmpwalk / snmpbulkwalk / snmpget (RFC 3416, RFC 6475)', () => {
  let walk: string;

  test('RFC 3416 §4.2.2: snmpwalk over v2c returns every object of the MAG and LMA groups, each named and typed as the MIB says', async () => {
    const r = await tool('snmpwalk', ['-v2c', '-c', 'public', target(), 'PMIPV6-MIB::pmip6MIB']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(meaningful(r.stderr), []);
    walk = r.stdout;
    const rows = parseWalk(walk);
    const settings = await Pmip6Settings.open(new MemoryPersistence());
    const typeOf = new Map(pmip6Objects({ lma, mag, settings, startedAt: 0 }).map((o) => [o.name, o.smiType]));
    const count = new Map<string, number>();
    for (const row of rows) {
      const t = typeOf.get(row.name);
      assert.ok(t, `unexpected object ${row.name}`);
      assert.match(row.type, PRINTED[t], `${row.name} printed as ${row.type}`);
      count.set(row.name, (count.get(row.name) ?? 0) + 1);
    }
    assert.equal(count.size, typeOf.size, 'every served object appears');
    for (const c of ['pmip6BindingPBUFlag', 'pmip6BindingTimeRecentlyAccepted', 'pmip6LmaMnIdentifier', 'pmip6LmaMnLLIdentifier', 'pmip6LmaHomeNetworkPrefixLifeTime']) {
      assert.equal(count.get(c), N, c);
    }
    assert.equal(count.get('pmip6MagBLTunnelIfIdentifier'), 3);
    assert.match(walk, /PMIPV6-MIB::pmip6Capabilities\.0 = BITS: C0 mobilityAccessGateway\(0\) localMobilityAnchor\(1\)/);
    assert.match(walk, /PMIPV6-MIB::pmip6LmaMnIdentifier\.7 = STRING: mn7@example\.net/);
    assert.match(walk, /PMIPV6-MIB::pmip6BindingMnInterfaceATT\.ipv6\."20:01:0d:b8:00:00:00:07:00:00:00:00:00:00:00:00" = INTEGER: wirelessLan\(4\)/); // 3 + 7 % 6
    assert.match(walk, /PMIPV6-MIB::pmip6BindingTimeRecentlyAccepted\.ipv6\."20:01:0d:b8:00:00:00:07:[0:]+" = STRING: 1700000007:7/);
    assert.match(walk, /PMIPV6-MIB::pmip6LmaStatus\.0 = INTEGER: enabled\(1\)/);
    assert.match(walk, /PMIPV6-MIB::pmip6LmaLMAAState\.ipv6\."20:01:0d:b8:ff:ff[0:]+01" = INTEGER: tunneled\(3\)/);
  });

  test('RFC 3416 §4.2.3: snmpbulkwalk (v2c) returns exactly what snmpwalk did', async () => {
    const r = await tool('snmpbulkwalk', ['-v2c', '-c', 'public', '-Cr7', target(), 'PMIPV6-MIB::pmip6MIB']);
    assert.equal(r.code, 0, r.stderr);
    assertSameText(r.stdout, walk, 'bulkwalk');
  });

  test('RFC 3414 / RFC 3826: SNMPv3 authPriv with SHA/AES (walk) and SHA-256/AES (bulkwalk over IPv6) see the same data', async () => {
    const a = await tool('snmpwalk', [...V3_SHA, target(), 'PMIPV6-MIB::pmip6MIB']);
    assert.equal(a.code, 0, a.stderr);
    assertSameText(a.stdout, walk, 'v3 SHA walk');
    const b = await tool('snmpbulkwalk', [...V3_SHA256, '-Cr20', `udp6:[::1]:${port}`, 'PMIPV6-MIB::pmip6MIB']);
    assert.equal(b.code, 0, b.stderr);
    assertSameText(b.stdout, walk, 'v3 SHA-256 bulkwalk');
  });

  test('RFC 3416 §4.2.1: snmpget of instances, of a missing instance and of an unknown object', async () => {
    const r = await tool('snmpget', [
      '-v2c', '-c', 'public', `udp6:[::1]:${port}`,
      'PMIPV6-MIB::pmip6LmaMnIdentifier.3', 'PMIPV6-MIB::pmip6LmaMnIdentifier.999', 'PMIPV6-MIB::pmip6LmaTimestampValidityWindow.0', '1.3.6.1.2.1.206.1.9.0',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], 'PMIPV6-MIB::pmip6LmaMnIdentifier.3 = STRING: mn3@example.net');
    assert.equal(lines[1], 'PMIPV6-MIB::pmip6LmaMnIdentifier.999 = No Such Instance currently exists at this OID');
    assert.equal(lines[2], 'PMIPV6-MIB::pmip6LmaTimestampValidityWindow.0 = INTEGER: 300 milliseconds');
    assert.match(lines[3], /No Such Object available on this agent at this OID/);
  });

  test('RFC 6475: values are read at request time from the live state', async () => {
    const hoa = lma.addBinding({ mnId: 'late@example.net', llId: 'aa:bb', hnp: '2001:db8:99::' });
    const r1 = await tool('snmpget', ['-v2c', '-c', 'public', target(), `PMIPV6-MIB::pmip6LmaMnIdentifier.${N + 1}`]);
    assert.match(r1.stdout, /late@example\.net/);
    lma.removeBinding(hoa);
    const r2 = await tool('snmpget', ['-v2c', '-c', 'public', target(), `PMIPV6-MIB::pmip6LmaMnIdentifier.${N + 1}`]);
    assert.match(r2.stdout, /No Such Instance/);
  });
});

describe('refused requests get no data and are counted (RFC 3584, RFC 3412, RFC 3414)', () => {
  const get = (args: string[]) => tool('snmpget', [...args, target(), 'PMIPV6-MIB::pmip6LmaStatus.0']);

  test('RFC 3584 §4.1: a wrong community is dropped silently and counted in snmpInBadCommunityNames', async () => {
    const before = agent.stats.snmpInBadCommunityNames;
    const r = await run('snmpget', ['-M', mibPath, '-m', 'PMIPV6-MIB', '-r', '0', '-t', '1', '-v2c', '-c', 'wrong', target(), 'PMIPV6-MIB::pmip6LmaStatus.0'], env);
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /Timeout/);
    assert.equal(agent.stats.snmpInBadCommunityNames, before + 1);
  });

  test('RFC 3414 §3.2: wrong password, unknown user, wrong privacy key each get their Report and no data', async () => {
    const s0 = agent.stats;
    const wrongAuth = await get(['-v3', '-l', 'authPriv', '-u', 'ro-sha', '-a', 'SHA', '-A', 'not-the-pass', '-x', 'AES', '-X', 'priv-pass-1']);
    assert.equal(wrongAuth.stdout, '');
    assert.match(wrongAuth.stderr, /Authentication failure/);
    const wrongProto = await get(['-v3', '-l', 'authPriv', '-u', 'ro-sha', '-a', 'SHA-256', '-A', 'auth-pass-1', '-x', 'AES', '-X', 'priv-pass-1']);
    assert.match(wrongProto.stderr, /Authentication failure/);
    const unknown = await get(['-v3', '-l', 'authPriv', '-u', 'mallory', '-a', 'SHA', '-A', 'auth-pass-1', '-x', 'AES', '-X', 'priv-pass-1']);
    assert.equal(unknown.stdout, '');
    assert.match(unknown.stderr, /Unknown user name/);
    const wrongPriv = await get(['-v3', '-l', 'authPriv', '-u', 'ro-sha', '-a', 'SHA', '-A', 'auth-pass-1', '-x', 'AES', '-X', 'not-the-priv']);
    assert.equal(wrongPriv.stdout, '');
    assert.match(wrongPriv.stderr, /Decryption error/);
    const s1 = agent.stats;
    assert.equal(s1.usmStatsWrongDigests, s0.usmStatsWrongDigests + 2);
    assert.equal(s1.usmStatsUnknownUserNames, s0.usmStatsUnknownUserNames + 1);
    assert.equal(s1.usmStatsDecryptionErrors, s0.usmStatsDecryptionErrors + 1);
    assert.ok(s1.usmStatsUnknownEngineIDs > s0.usmStatsUnknownEngineIDs, 'engine ID discovery (RFC 3414 §4)');
  });

  test('RFC 3413 §3.2: below the user\'s security level: authorizationError; unknown context: snmpUnknownContexts report', async () => {
    const low = await get(['-v3', '-l', 'authNoPriv', '-u', 'ro-sha', '-a', 'SHA', '-A', 'auth-pass-1']);
    assert.match(low.stderr, /authorizationError/);
    assert.equal(low.stdout, '');
    const before = agent.stats.snmpUnknownContexts;
    const ctx = await get([...V3_SHA, '-n', 'other']);
    assert.match(ctx.stderr, /Bad context specified/);
    assert.equal(agent.stats.snmpUnknownContexts, before + 1);
  });

  test('RFC 3412 §7.2, RFC 3417: malformed, truncated, v1 and garbage datagrams are dropped and counted; the agent keeps answering', async () => {
    const s0 = agent.stats;
    const sock = dgram.createSocket('udp4');
    let sent = 0;
    // Paced: wait until the agent has taken each datagram, so none is lost in the socket buffer.
    const send = async (b: Buffer) => {
      await new Promise<void>((r) => sock.send(b, port, '127.0.0.1', () => r()));
      sent++;
      while (agent.stats.snmpInPkts < s0.snmpInPkts + sent) await new Promise((r) => setImmediate(r));
    };
    const getPdu = (tag: number) => ber.constructed(tag, ber.int(1), ber.int(0), ber.int(0), ber.seq(ber.seq(ber.oid([1, 3, 6, 1, 2, 1, 206, 1, 3, 1, 1, 0]), { tag: Tag.Null, content: Buffer.alloc(0) })));
    const good = communityMessage(Buffer.from('public'), encode(getPdu(Tag.GetRequest)));
    const v1 = encode(ber.seq(ber.int(0), ber.octets('public'), getPdu(Tag.GetRequest)));
    const badModel = encode(ber.seq(ber.int(3), ber.seq(ber.int(1), ber.int(1500), ber.octets(Buffer.from([4])), ber.int(99)), ber.octets(Buffer.alloc(0)), ber.seq()));
    const privNoAuth = encode(ber.seq(ber.int(3), ber.seq(ber.int(1), ber.int(1500), ber.octets(Buffer.from([6])), ber.int(3)), ber.octets(Buffer.alloc(0)), ber.octets(Buffer.alloc(4))));
    await send(Buffer.from('not an SNMP message'));
    await send(good.subarray(0, good.length - 5));
    await send(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02, 0x01, 0x01]));
    await send(v1);
    await send(badModel);
    await send(privNoAuth);
    await send(communityMessage(Buffer.from('public'), encode(getPdu(Tag.Response))));
    // mutations of a valid v2c request
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let i = 0; i < 500; i++) {
      const b = Buffer.from(good);
      for (let k = 0; k < 1 + (i % 4); k++) b[rnd() % b.length] = rnd() & 0xff;
      await send(b.subarray(0, b.length - (rnd() % 3)));
    }
    sock.close();
    const r = await tool('snmpget', ['-v2c', '-c', 'public', target(), 'PMIPV6-MIB::pmip6LmaStatus.0']);
    assert.match(r.stdout, /enabled\(1\)/);
    const s1 = agent.stats;
    assert.ok(s1.snmpInASNParseErrs >= s0.snmpInASNParseErrs + 3, 'snmpInASNParseErrs');
    assert.ok(s1.snmpInBadVersions >= s0.snmpInBadVersions + 1, 'v1 is not served');
    assert.equal(s1.snmpUnknownSecurityModels, s0.snmpUnknownSecurityModels + 1);
    assert.equal(s1.snmpInvalidMsgs, s0.snmpInvalidMsgs + 1);
    assert.equal(s1.internalErrors, 0);
    assert.equal(s1.snmpInPkts, s0.snmpInPkts + 508);
  });

  test('RFC 3418: the agent\'s own counters are readable over SNMP (snmp group, usmStats)', async () => {
    const r = await run('snmpget', ['-On', '-Oq', '-m', '', '-v2c', '-c', 'public', target(), '1.3.6.1.2.1.11.4.0', '1.3.6.1.6.3.15.1.1.5.0', '1.3.6.1.6.3.10.2.1.2.0'], env);
    const values = r.stdout.trim().split('\n').map((l) => Number(l.split(' ')[1]));
    assert.equal(values[0], agent.stats.snmpInBadCommunityNames);
    assert.equal(values[1], agent.stats.usmStatsWrongDigests);
    assert.ok(values[2] >= 1);
  });
});

describe('SET of the read-write objects (RFC 3416 §4.2.5, RFC 6475)', () => {
  const set = (auth: string[], ...vbs: string[]) => tool('snmpset', ['-Ir', ...auth, target(), ...vbs]);
  const RW = V3_SHA256; // write access: authPriv v3 users only (RFC 3415 VACM, src/snmp/vacm.ts)

  test('RFC 3416 §4.2.5: SETs with the right type and range succeed for an authPriv v3 user; the rest get the prescribed error', async () => {
    const ok = await set(RW, 'PMIPV6-MIB::pmip6LmaMinDelayBeforeBCEDelete.0', 'i', '4000', 'PMIPV6-MIB::pmip6MagStatus.0', 'i', '2');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /pmip6LmaMinDelayBeforeBCEDelete\.0 = INTEGER: 4000 milliseconds/);
    const v3 = await set(V3_SHA256, 'PMIPV6-MIB::pmip6MobileNodeGeneratedTimestampInUse.0', 'i', '1');
    assert.equal(v3.code, 0, v3.stderr);
    const cases: [string[], string[], RegExp][] = [
      [['-v2c', '-c', 'public'], ['PMIPV6-MIB::pmip6LmaStatus.0', 'i', '2'], /noAccess/],
      [V3_SHA, ['PMIPV6-MIB::pmip6LmaStatus.0', 'i', '2'], /noAccess/],
      [RW, ['PMIPV6-MIB::pmip6LmaTimestampValidityWindow.0', 's', 'text'], /wrongType/],
      [RW, ['PMIPV6-MIB::pmip6LmaTimestampValidityWindow.0', 'i', '70000'], /wrongValue/],
      [RW, ['PMIPV6-MIB::pmip6LmaStatus.0', 'i', '5'], /wrongValue/],
      [RW, ['PMIPV6-MIB::pmip6LmaStatus.1', 'i', '1'], /noCreation/],
      [RW, ['PMIPV6-MIB::pmip6LmaMnIdentifier.1', 's', 'x'], /notWritable/],
      [RW, ['PMIPV6-MIB::pmip6FixedMagLinkLocalAddressOnAllAccessLinks.0', 'x', 'FE80000000000001'], /inconsistentValue/],
    ];
    for (const [auth, vb, err] of cases) {
      const r = await set(auth, ...vb);
      assert.match(r.stderr, err, `${vb.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
    }
    const lt = await set(RW, `PMIPV6-MIB::pmip6LmaHomeNetworkPrefixLifeTime.2.1.2.16.32.1.13.184.0.0.0.2.0.0.0.0.0.0.0.0`, 'u', '1800');
    assert.equal(lt.code, 0, lt.stderr);
    assert.match(lt.stdout, /Gauge32: 1800 seconds/);
  });

  test('RFC 6475: pmip6MagStatus and the other written values are the same after the agent restarts; snmpEngineBoots grew', async () => {
    const boots = await run('snmpget', ['-Oqv', '-m', '', '-v2c', '-c', 'public', target(), '1.3.6.1.6.3.10.2.1.2.0'], env);
    await agent.stop();
    agent = await startAgent();
    const r = await tool('snmpget', [...V3_SHA, target(), 'PMIPV6-MIB::pmip6MagStatus.0', 'PMIPV6-MIB::pmip6LmaMinDelayBeforeBCEDelete.0', 'PMIPV6-MIB::pmip6MobileNodeGeneratedTimestampInUse.0']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pmip6MagStatus\.0 = INTEGER: disabled\(2\)/);
    assert.match(r.stdout, /pmip6LmaMinDelayBeforeBCEDelete\.0 = INTEGER: 4000 milliseconds/);
    assert.match(r.stdout, /pmip6MobileNodeGeneratedTimestampInUse\.0 = INTEGER: true\(1\)/);
    const boots2 = await run('snmpget', ['-Oqv', '-m', '', '-v2c', '-c', 'public', target(), '1.3.6.1.6.3.10.2.1.2.0'], env);
    assert.equal(Number(boots2.stdout), Number(boots.stdout) + 1);
  });
});
