// RFC 3415 VACM as the agent applies it (src/snmp/vacm.ts), with the net-snmp tools against a
// running agent over a populated LMA and MAG:
// - a v2c community (default view) walking the whole MIB sees counters and the LMA's and MAG's
//   own tables, but no MN identifier, link-layer identifier, prefix or binding cache row, and
//   a GET of a subscriber object answers noSuchObject;
// - a noAuth v3 user sees the same; an authPriv user sees everything;
// - only an authPriv user configured rw can SET; "name:rw" for v2c and ":rw" without privacy
//   are refused when the configuration is read.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Pmip6SnmpAgent, Pmip6Settings, MemoryPersistence } from '../../src/snmp/index.ts';
import { parseCommunity, parseUser, refusedSetting, SnmpConfigError } from '../../src/main/snmp-role.ts';
import { decideAccess, inView } from '../../src/snmp/vacm.ts';
import { PMIP6_MIB } from '../../src/snmp/mib.ts';
import { FakeMag, populatedLma, syntheticBinding } from './fake-view.ts';
import { IETF_MIBS, OUR_MIBS, freeUdpPort, run, tempDir, type RunResult } from './helpers.ts';

const SUBSCRIBER = /pmip6(Lma|Mag)MnIdentifier|MnLLIdentifier|HomeNetworkPrefix(Length|LifeTime)|pmip6Binding(PBUFlag|MnIndex|MnLLIndex|MagLinkLocal|TunnelIf|MnInterfaceATT|TimeRecently)|pmip6MagBL|pmip6MagProf/;

describe('RFC 3415 VACM: who sees subscriber data', () => {
  let tmp: ReturnType<typeof tempDir>;
  let env: Record<string, string>;
  let mibPath: string;
  let port: number;
  let agent: Pmip6SnmpAgent;
  const tool = (cmd: string, args: string[]): Promise<RunResult> => run(cmd, ['-M', mibPath, '-m', 'PMIPV6-MIB', '-r', '1', '-t', '3', ...args], env);
  const target = () => `127.0.0.1:${port}`;
  const NOAUTH = ['-v3', '-l', 'noAuthNoPriv', '-u', 'guest'];
  const AUTHPRIV_RO = ['-v3', '-l', 'authPriv', '-u', 'noc', '-a', 'SHA-256', '-A', 'noc-auth-1', '-x', 'AES', '-X', 'noc-priv-1'];
  const AUTHPRIV_RW = ['-v3', '-l', 'authPriv', '-u', 'admin', '-a', 'SHA-256', '-A', 'admin-auth', '-x', 'AES', '-X', 'admin-priv'];

  before(async () => {
    tmp = tempDir('vacm');
    mibPath = `${OUR_MIBS}:${IETF_MIBS}`;
    const persist = join(tmp.path, 'net-snmp');
    mkdirSync(persist);
    env = { SNMP_PERSISTENT_DIR: persist };
    port = await freeUdpPort();
    const mag = new FakeMag();
    for (let i = 1; i <= 3; i++) mag.addBinding(syntheticBinding(2000 + i));
    agent = new Pmip6SnmpAgent(
      {
        port, bind: ['127.0.0.1'],
        communities: [parseCommunity('public')],
        users: [parseUser('guest'), parseUser('noc:sha256:noc-auth-1:aes:noc-priv-1'), parseUser('admin:sha256:admin-auth:aes:admin-priv:rw')],
      },
      { lma: populatedLma(10), mag, settings: await Pmip6Settings.open(new MemoryPersistence(), { lmaStatus: 'enabled', magStatus: 'enabled' }) },
    );
    await agent.start();
  });
  after(async () => {
    await agent.stop();
    tmp.remove();
  });

  test('a v2c community walking the MIB: counters and own tables, no subscriber identifier, link-layer address or prefix', async () => {
    const full = await tool('snmpwalk', [...AUTHPRIV_RO, target(), 'PMIPV6-MIB::pmip6MIB']);
    assert.equal(full.code, 0, full.stderr);
    assert.match(full.stdout, /pmip6LmaMnIdentifier\.\d+ = STRING/, 'authPriv sees the MN identifiers');
    assert.match(full.stdout, /pmip6BindingMnInterfaceATT/, 'and the binding cache');
    for (const auth of [['-v2c', '-c', 'public'], NOAUTH]) {
      const r = await tool('snmpwalk', [...auth, target(), 'PMIPV6-MIB::pmip6MIB']);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.split('\n').filter(Boolean);
      assert.ok(lines.some((l) => /pmip6InitialBindingRegistrations\.0 = Counter32/.test(l)), 'counters are visible');
      assert.ok(lines.some((l) => /pmip6LmaMinDelayBeforeBCEDelete\.0/.test(l)), 'settings are visible');
      const leaked = lines.filter((l) => SUBSCRIBER.test(l));
      assert.deepEqual(leaked, [], `${auth.join(' ')} sees subscriber data`);
      assert.ok(lines.length < full.stdout.split('\n').filter(Boolean).length);
      const get = await tool('snmpget', [...auth, target(), 'PMIPV6-MIB::pmip6LmaMnIdentifier.1']);
      assert.match(get.stdout, /No Such Object/);
    }
  });

  test('write access: the authPriv rw user only', async () => {
    const set = (auth: string[]) => tool('snmpset', ['-Ir', ...auth, target(), 'PMIPV6-MIB::pmip6LmaTimestampValidityWindow.0', 'i', '400']);
    for (const auth of [['-v2c', '-c', 'public'], NOAUTH, AUTHPRIV_RO]) assert.match((await set(auth)).stderr, /noAccess/, auth.join(' '));
    const ok = await set(AUTHPRIV_RW);
    assert.equal(ok.code, 0, ok.stderr);
  });

  test('configuration: v2c "name:rw" and ":rw" without privacy are refused with a clear message; views are per community and user', () => {
    assert.throws(() => parseCommunity('private:rw'), (e: Error) => e instanceof SnmpConfigError && /travels in clear/.test(e.message) && /authPriv/.test(e.message));
    assert.throws(() => parseUser('ops:sha256:ops-auth-1:rw'), /":rw" needs authPriv/);
    assert.deepEqual(parseCommunity('nms:full'), { name: 'nms', access: 'read-only', view: 'full' });
    assert.equal(parseUser('noc:sha256:noc-auth-1:aes:noc-priv-1:rw:restricted').view, 'restricted');
    assert.deepEqual(decideAccess({ kind: 'user', readWrite: true }, 'authNoPriv'), { read: 'restricted', write: false });
    assert.equal(inView('restricted', [...PMIP6_MIB, 1, 1, 4, 1, 1, 0]), true);
    assert.equal(inView('restricted', [...PMIP6_MIB, 1, 1, 2, 1, 1, 2]), false);
  });
});

describe('RFC 6475 read-write objects: a SET takes effect or is refused; only SET values are saved', () => {
  test('refusedSetting: status objects and unimplemented MAG objects are refused; LMA timers need an LMA', () => {
    assert.equal(refusedSetting({ lmaStatus: 'disabled' }, { lma: {} }), 'lmaStatus');
    assert.equal(refusedSetting({ magEnableLocalRouting: true }, { mag: {} }), 'magEnableLocalRouting');
    assert.equal(refusedSetting({ lmaTimestampValidityWindow: 400 }, { mag: {} }), 'lmaTimestampValidityWindow');
    assert.equal(refusedSetting({ lmaTimestampValidityWindow: 400 }, { lma: {} }), undefined);
    assert.equal(refusedSetting({ fixedMagLinkLocalAddress: { type: 2, octets: new Uint8Array(16) } }, { mag: {} }), undefined);
  });

  test('a refused change is not saved and not published; the saved document holds only SET values, so a new configuration wins for the rest', async () => {
    const store = new MemoryPersistence();
    const s1 = await Pmip6Settings.open(store, { lmaStatus: 'enabled', lmaMinDelayBeforeBCEDelete: 10000, lmaTimestampValidityWindow: 300 });
    s1.guard((patch) => refusedSetting(patch, { lma: {} }));
    await assert.rejects(s1.update({ lmaStatus: 'disabled' }), /lmaStatus: inconsistentValue/);
    assert.equal(s1.values.lmaStatus, 'enabled');
    await s1.update({ lmaTimestampValidityWindow: 450 });
    const saved = store.doc!.objects as Record<string, unknown>;
    assert.deepEqual(Object.keys(saved), ['lmaTimestampValidityWindow'], 'only what a SET changed');
    // The configuration changes the other timer: it wins; the SET value stays.
    const s2 = await Pmip6Settings.open(store, { lmaStatus: 'enabled', lmaMinDelayBeforeBCEDelete: 2000, lmaTimestampValidityWindow: 300 });
    assert.equal(s2.values.lmaMinDelayBeforeBCEDelete, 2000);
    assert.equal(s2.values.lmaTimestampValidityWindow, 450);
    // A version 1 document (every value saved): values equal to the old configuration count as unset.
    const old = new MemoryPersistence();
    old.doc = { version: 1, objects: { lmaStatus: 'enabled', lmaMinDelayBeforeBCEDelete: 10000, lmaTimestampValidityWindow: 300, magStatus: 'disabled' } };
    const s3 = await Pmip6Settings.open(old, { lmaStatus: 'enabled', lmaMinDelayBeforeBCEDelete: 10000, lmaTimestampValidityWindow: 300 });
    await s3.update({ lmaTimestampValidityWindow: 301 });
    assert.deepEqual(Object.keys(old.doc.objects as object), ['lmaTimestampValidityWindow']);
  });
});
