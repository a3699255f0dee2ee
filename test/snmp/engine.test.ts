// GET / GETNEXT / SET over the in-code tree (RFC 3416 §4.2), and the persisted settings.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { oidContent, oidText } from '../../src/snmp/encode.ts';
import { ErrorStatus, MibEngine, type OutVarbind } from '../../src/snmp/engine.ts';
import { T, pmip6Objects, type ReadContext } from '../../src/snmp/mib.ts';
import { JsonFilePersistence, MemoryPersistence, Pmip6Settings } from '../../src/snmp/settings.ts';
import { bindingCacheIndex, inetAddr } from '../../src/snmp/table.ts';
import { FakeLma, FakeMag, syntheticBinding } from './fake-view.ts';
import { tempDir } from './helpers.ts';

const MIB = '1.3.6.1.2.1.206';
const oid = (s: string) => s.split('.').map(Number);
const name = (vb: OutVarbind) => oidText(vb.prefix, vb.suffix);

async function setup(opts: { lma?: FakeLma; mag?: FakeMag; persistence?: MemoryPersistence } = {}) {
  const lma = opts.lma ?? new FakeLma();
  const mag = opts.mag;
  const persistence = opts.persistence ?? new MemoryPersistence();
  const settings = await Pmip6Settings.open(persistence, { lmaStatus: 'enabled' });
  const engine = new MibEngine(pmip6Objects({ lma, mag, settings, startedAt: Date.now() - 5000 }), settings);
  const ctx: ReadContext = { counters: () => lma.counters(), upTime: () => 500 };
  const next = (o: string) => engine.next(oid(o), oidContent(o), ctx);
  return { lma, mag, settings, engine, ctx, next, persistence };
}

describe('GET and GETNEXT (RFC 3416 §4.2.1, §4.2.2)', () => {
  test('RFC 3416 §4.2.1: scalars answer at .0, other instances are noSuchInstance, unknown OIDs noSuchObject', async () => {
    const { engine, ctx } = await setup();
    assert.deepEqual(engine.get(oid(`${MIB}.1.3.1.1.0`), ctx), { type: T.Integer, value: 1 }); // pmip6LmaStatus enabled
    assert.equal(engine.get(oid(`${MIB}.1.3.1.1.1`), ctx).type, T.NoSuchInstance);
    assert.equal(engine.get(oid(`${MIB}.1.3.1.1`), ctx).type, T.NoSuchInstance);
    assert.equal(engine.get(oid(`${MIB}.1.9.9.0`), ctx).type, T.NoSuchObject);
    // not-accessible index columns are not served (pmip6LmaLMAAType)
    assert.equal(engine.get(oid(`${MIB}.1.3.1.2.1.1.2.16.32.1.13.184.255.255.0.0.0.0.0.0.0.0.0.1`), ctx).type, T.NoSuchObject);
    // a MAG object in an LMA-only process
    assert.equal(engine.get(oid(`${MIB}.1.2.1.1.0`), ctx).type, T.NoSuchObject);
  });

  test('RFC 6475 pmip6Capabilities: BITS with localMobilityAnchor(1) and/or mobilityAccessGateway(0)', async () => {
    const a = await setup();
    assert.deepEqual(a.engine.get(oid(`${MIB}.1.1.1.1.0`), a.ctx).value, Buffer.from([0x40]));
    const b = await setup({ mag: new FakeMag() });
    assert.deepEqual(b.engine.get(oid(`${MIB}.1.1.1.1.0`), b.ctx).value, Buffer.from([0xc0]));
  });

  test('RFC 3416 §4.2.2: GETNEXT walks columns in OID order and ends with endOfMibView named as requested', async () => {
    const lma = new FakeLma();
    for (let i = 3; i >= 1; i--) lma.addBinding(syntheticBinding(i));
    const { next } = await setup({ lma });
    assert.equal(name(next(MIB)), `${MIB}.1.1.1.1.0`);
    const first = next(`${MIB}.1.1.2`);
    assert.equal(name(first), `${MIB}.1.1.2.1.1.1.${bindingCacheIndex(inetAddr('2001:db8:0:1::')).join('.')}`);
    const last = `${MIB}.1.1.2.1.1.1.${bindingCacheIndex(inetAddr('2001:db8:0:3::')).join('.')}`;
    assert.equal(name(next(last)), `${MIB}.1.1.2.1.1.2.${bindingCacheIndex(inetAddr('2001:db8:0:1::')).join('.')}`); // next column
    const eom = next('1.3.6.1.6.3.99');
    assert.equal(eom.type, T.EndOfMibView);
    const probe = next('1.3.6.1.6.3.15.1.1.6.0'); // after the last object
    assert.equal(probe.type, T.EndOfMibView);
    assert.equal(name(probe), '1.3.6.1.6.3.15.1.1.6.0');
  });

  test('RFC 6475 pmip6BindingPBUFlag: for a binding from a mobile node the other columns have no instance', async () => {
    const lma = new FakeLma();
    const hoa = lma.addBinding(syntheticBinding(1));
    lma.addBinding(syntheticBinding(2));
    lma.sources.get(Buffer.from(hoa.octets).toString('hex'))!.proxyRegistration = false;
    const { engine, ctx, next } = await setup({ lma });
    const idx = bindingCacheIndex(hoa).join('.');
    assert.equal(engine.get(oid(`${MIB}.1.1.2.1.1.1.${idx}`), ctx).value, 2); // false(2)
    assert.equal(engine.get(oid(`${MIB}.1.1.2.1.1.2.${idx}`), ctx).type, T.NoSuchInstance);
    assert.equal(name(next(`${MIB}.1.1.2.1.1.2`)), `${MIB}.1.1.2.1.1.2.${bindingCacheIndex(inetAddr('2001:db8:0:2::')).join('.')}`);
  });

  test('RFC 6475 pmip6BindingRegCounters: Counter32 wraps at 2^32; discontinuity is sysUpTime of the event', async () => {
    const { lma, engine, ctx } = await setup();
    lma.counterValues.timestampMismatch = 2 ** 32 + 5;
    lma.counterValues.discontinuityTime = Date.now() - 2000; // the agent started 5 s ago
    assert.deepEqual(engine.get(oid(`${MIB}.1.1.4.1.9.0`), ctx), { type: T.Counter32, value: 5 });
    const d = engine.get(oid(`${MIB}.1.1.4.1.17.0`), ctx);
    assert.equal(d.type, T.TimeTicks);
    assert.ok(Math.abs((d.value as number) - 300) <= 5, `discontinuity ${d.value}`);
  });
});

describe('SET (RFC 3416 §4.2.5) and persistence (RFC 6475 read-write objects)', () => {
  const S = (o: string, type: number, value: unknown) => ({ oid: o, type, value });
  const MIN_DELAY = `${MIB}.1.3.2.1.0`;
  const LL_TYPE = `${MIB}.1.1.3.2.0`;
  const LL_ADDR = `${MIB}.1.1.3.3.0`;

  test('RFC 3416 §4.2.5: error order and status for each kind of bad varbind, with its index', async () => {
    const { engine, settings } = await setup();
    const cases: [ReturnType<typeof S>[], boolean, number, number][] = [
      [[S(MIN_DELAY, T.Integer, 5)], false, ErrorStatus.noAccess, 1],
      [[S(MIN_DELAY, T.Integer, 5), S(`${MIB}.1.1.4.1.1.0`, T.Counter32, 1)], true, ErrorStatus.notWritable, 2],
      [[S('1.3.6.1.4.1.99999.1.0', T.Integer, 1)], true, ErrorStatus.notWritable, 1],
      [[S(MIN_DELAY, T.OctetString, Buffer.from('x'))], true, ErrorStatus.wrongType, 1],
      [[S(MIN_DELAY, T.Integer, 0)], true, ErrorStatus.wrongValue, 1],
      [[S(MIN_DELAY, T.Integer, 65536)], true, ErrorStatus.wrongValue, 1],
      [[S(`${MIB}.1.3.1.1.0`, T.Integer, 3)], true, ErrorStatus.wrongValue, 1],
      [[S(LL_ADDR, T.OctetString, Buffer.alloc(256))], true, ErrorStatus.wrongLength, 1],
      [[S(`${MIB}.1.3.2.1.1`, T.Integer, 5)], true, ErrorStatus.noCreation, 1],
      [[S(LL_ADDR, T.OctetString, Buffer.alloc(8))], true, ErrorStatus.inconsistentValue, 1],
      [[S(LL_TYPE, T.Integer, 4)], true, ErrorStatus.inconsistentValue, 1],
      [[S(LL_TYPE, T.Integer, 1)], true, ErrorStatus.wrongValue, 1],
      [[S(LL_TYPE, T.Integer, 7)], true, ErrorStatus.wrongValue, 1],
    ];
    for (const [vbs, mayWrite, status, index] of cases) {
      assert.deepEqual(await engine.set(vbs, mayWrite), { errorStatus: status, errorIndex: index }, JSON.stringify(vbs));
    }
    assert.equal(settings.values.lmaMinDelayBeforeBCEDelete, 10000, 'nothing was applied');
  });

  test('RFC 4001: an InetAddressType/InetAddress pair changes together in one SET', async () => {
    const { engine, settings } = await setup();
    const ll = Buffer.alloc(20, 0);
    ll[0] = 0xfe;
    ll[1] = 0x80;
    assert.deepEqual(await engine.set([S(LL_TYPE, T.Integer, 4), S(LL_ADDR, T.OctetString, ll)], true), { errorStatus: 0, errorIndex: 0 });
    assert.equal(settings.values.fixedMagLinkLocalAddress.type, 4);
    assert.deepEqual(Buffer.from(settings.values.fixedMagLinkLocalAddress.octets), ll);
  });

  test('RFC 3416 §4.2.5: a failure while applying undoes what was applied (commitFailed)', async () => {
    const lma = new FakeLma();
    const hoa = lma.addBinding(syntheticBinding(1));
    const persistence = new MemoryPersistence();
    const { engine, settings } = await setup({ lma, persistence });
    const hnpIdx = `1.1.${bindingCacheIndex(hoa).join('.')}`;
    const LIFETIME = `${MIB}.1.3.2.6.1.4.${hnpIdx}`;
    assert.deepEqual(await engine.set([S(LIFETIME, T.Gauge32, 7200)], true), { errorStatus: 0, errorIndex: 0 });
    assert.equal(lma.homeNetworkPrefixes.get(oid(hnpIdx))!.lifetime, 7200);
    // the role refuses a value (RFC 6275 lifetime range): wrongValue, nothing applied
    assert.deepEqual(await engine.set([S(LIFETIME, T.Gauge32, 300000)], true), { errorStatus: ErrorStatus.wrongValue, errorIndex: 1 });
    // the settings store fails after the row was written: the row is put back
    persistence.failNextSave = true;
    assert.deepEqual(await engine.set([S(LIFETIME, T.Gauge32, 60), S(MIN_DELAY, T.Integer, 2000)], true), {
      errorStatus: ErrorStatus.commitFailed,
      errorIndex: 2,
    });
    assert.equal(lma.homeNetworkPrefixes.get(oid(hnpIdx))!.lifetime, 7200);
    assert.equal(settings.values.lmaMinDelayBeforeBCEDelete, 10000);
    // a row that does not exist cannot be created
    assert.equal((await engine.set([S(`${MIB}.1.3.2.6.1.4.9.9.2.16.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0`, T.Gauge32, 1)], true)).errorStatus, ErrorStatus.noCreation);
  });

  describe('values persist across restarts (RFC 6475 pmip6LmaStatus / pmip6MagStatus "MUST remain unchanged across reboots")', () => {
    let dir: ReturnType<typeof tempDir>;
    before(() => (dir = tempDir('settings')));
    after(() => dir.remove());

    test('RFC 6475: SET values, engine ID and a growing snmpEngineBoots (RFC 3414 §2.2) survive a restart', async () => {
      const file = join(dir.path, 'snmp.json');
      const s1 = await Pmip6Settings.open(new JsonFilePersistence(file), { lmaStatus: 'enabled', magStatus: 'enabled' });
      const e1 = await s1.startEngine();
      const engine = new MibEngine(pmip6Objects({ lma: new FakeLma(), mag: new FakeMag(), settings: s1, startedAt: Date.now() }), s1);
      const changes: string[][] = [];
      s1.onChange((_v, changed) => changes.push([...changed]));
      const r = await engine.set(
        [S(`${MIB}.1.2.1.1.0`, T.Integer, 2), S(`${MIB}.1.3.2.3.0`, T.Integer, 450), S(`${MIB}.1.2.2.1.0`, T.Integer, 1), S(`${MIB}.1.1.3.4.0`, T.OctetString, Buffer.from('020000000001', 'hex'))],
        true,
      );
      assert.deepEqual(r, { errorStatus: 0, errorIndex: 0 });
      assert.deepEqual(changes, [['magStatus', 'lmaTimestampValidityWindow', 'magEnableLocalRouting', 'fixedMagLinkLayerAddress']]);

      const s2 = await Pmip6Settings.open(new JsonFilePersistence(file), { lmaStatus: 'enabled', magStatus: 'enabled' });
      assert.equal(s2.values.magStatus, 'disabled');
      assert.equal(s2.values.lmaStatus, 'enabled');
      assert.equal(s2.values.lmaTimestampValidityWindow, 450);
      assert.equal(s2.values.magEnableLocalRouting, true);
      assert.equal(Buffer.from(s2.values.fixedMagLinkLayerAddress).toString('hex'), '020000000001');
      const e2 = await s2.startEngine();
      assert.deepEqual(e2.engineId, e1.engineId);
      assert.equal(e2.engineBoots, e1.engineBoots + 1);
    });

    test('RFC 6475: an initial value the MIB cannot hold, or a damaged file, is refused at start', async () => {
      await assert.rejects(Pmip6Settings.open(new MemoryPersistence(), { lmaMinDelayBeforeBCEDelete: 0 }), RangeError);
      const file = join(dir.path, 'bad.json');
      writeFileSync(file, '[1,2]');
      await assert.rejects(Pmip6Settings.open(new JsonFilePersistence(file)));
    });
  });
});
