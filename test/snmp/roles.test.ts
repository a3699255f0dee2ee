// The agent over a running LMA and MAG (in-memory Mobility Header transport, recording data
// plane, manual clock): an MN attaches at the MAG, the MAG registers it at the LMA (RFC 5213
// §6.9.1.1 / §5.3.2), snmpwalk shows the binding on both sides and snmptrapd receives
// pmip6MagHomeTunnelEstablished and pmip6LmaHomeTunnelEstablished; on detach, the Released ones.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ManualDetector } from '../../src/attach/manual.ts';
import { RecordingDataPlane } from '../../src/dataplane/recording.ts';
import { Lma } from '../../src/lma/index.ts';
import { lmaSnmpView } from '../../src/lma/snmp-view.ts';
import { Mag, mapPolicy, profileFrom } from '../../src/mag/index.ts';
import type { MagEvent, MagEventSink } from '../../src/mag/index.ts';
import { MagSnmpAdapter } from '../../src/mag/snmp-view.ts';
import type { LmaPolicySource } from '../../src/policy/source.ts';
import { Pmip6SnmpAgent } from '../../src/snmp/agent.ts';
import { MemoryPersistence, Pmip6Settings } from '../../src/snmp/settings.ts';
import { MemoryHub } from '../../src/transport/memory.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { OUR_MIBS, run, IETF_MIBS, startTrapReceiver, tempDir, type TrapReceiver } from './helpers.ts';

const LMAA = '2001:db8:ffff::1';
const PROXY_COA = '2001:db8:a::1';
const MN = 'alice@example.net';
const HNP = '2001:db8:77:1::/64';

let tmp: ReturnType<typeof tempDir>;
let mibPath: string;
let env: Record<string, string>;
let trapd: TrapReceiver;

before(async () => {
  tmp = tempDir('roles');
  mibPath = `${OUR_MIBS}:${IETF_MIBS}`;
  mkdirSync(join(tmp.path, 'net-snmp'));
  env = { SNMP_PERSISTENT_DIR: join(tmp.path, 'net-snmp') };
  trapd = await startTrapReceiver(tmp.path, mibPath, ['authCommunity log trapcomm']);
});
after(async () => {
  await trapd.stop();
  tmp.remove();
});

describe('agent over a running MAG and LMA', () => {
  test('RFC 6475 / RFC 5213 §5.3.2, §6.9.1.1: attach and detach of an MN show up in both MIB sides and as notifications', async () => {
    const clock = new ManualClock();
    const hub = new MemoryHub();
    const profile = profileFrom(MN, { lma: LMAA, hnps: [HNP], hnpPool: null });
    const lmaPolicy: LmaPolicySource = { profile: async (id) => (id === MN ? profile : null), magAuthorized: async () => true };
    const lma = new Lma({
      transport: hub.endpoint(LMAA),
      dataPlane: new RecordingDataPlane(),
      policy: lmaPolicy,
      clock,
      config: { lmaId: 'lma-snmp', address: LMAA, heartbeatIntervalMs: 0 },
    });
    await lma.start();
    const sinks: MagEventSink[] = [];
    const detector = new ManualDetector();
    const mag = new Mag(
      { id: 'mag-a', proxyCoa: PROXY_COA, heartbeatIntervalS: 0 },
      {
        clock,
        transport: hub.endpoint(PROXY_COA),
        dataPlane: new RecordingDataPlane(),
        policy: mapPolicy([profile]),
        detector,
        events: { emit: (e: MagEvent) => sinks.forEach((s) => s.emit(e)) },
      },
    );
    await mag.start();
    const settle = async () => {
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setImmediate(r));
        await lma.settle();
      }
    };

    const settings = await Pmip6Settings.open(new MemoryPersistence(), { lmaStatus: 'enabled', magStatus: 'enabled' });
    // The adapters need the sink before the agent (which needs their views) exists.
    const ref: { agent?: Pmip6SnmpAgent } = {};
    const sink = { lmaTunnel: (e: Parameters<Pmip6SnmpAgent['lmaTunnel']>[0]) => ref.agent?.lmaTunnel(e), magTunnel: (e: Parameters<Pmip6SnmpAgent['magTunnel']>[0]) => ref.agent?.magTunnel(e) };
    const lmaSide = lmaSnmpView(lma, { notify: sink });
    const magSide = new MagSnmpAdapter(mag, { events: sink });
    sinks.push(magSide);
    const agent = new Pmip6SnmpAgent(
      { port: 0, bind: ['127.0.0.1'], communities: [{ name: 'public', view: 'full' }], notificationTargets: [{ address: '127.0.0.1', port: trapd.port, version: '2c', community: 'trapcomm' }] },
      { lma: lmaSide.view, mag: magSide.view, settings },
    );
    ref.agent = agent;
    await agent.start();
    const target = `127.0.0.1:${agent.addresses()[0].port}`;
    const walk = async (oid: string) => {
      const r = await run('snmpwalk', ['-M', mibPath, '-m', 'PMIPV6-MIB', '-v2c', '-c', 'public', target, oid], env);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    };
    try {
      detector.attach({ mnId: MN, link: 'ap0', accessTechType: 4, mnLinkLayerId: '02:00:00:00:00:01' });
      await settle();

      const hoa = 'ipv6."20:01:0d:b8:00:77:00:01:00:00:00:00:00:00:00:00"';
      const lmaOut = await walk('PMIPV6-MIB::pmip6Lma');
      assert.match(lmaOut, /pmip6LmaMnIdentifier\.1 = STRING: alice@example\.net/);
      assert.match(lmaOut, new RegExp(`pmip6LmaHomeNetworkPrefixLength\\.1\\.1\\.${hoa.replace(/[."]/g, '\\$&')} = Gauge32: 64`));
      const bc = await walk('PMIPV6-MIB::pmip6BindingCacheTable');
      assert.match(bc, new RegExp(`pmip6BindingPBUFlag\\.${hoa.replace(/[."]/g, '\\$&')} = INTEGER: true\\(1\\)`));
      assert.match(bc, /pmip6BindingMnInterfaceATT\.\S+ = INTEGER: wirelessLan\(4\)/);
      const magOut = await walk('PMIPV6-MIB::pmip6Mag');
      assert.match(magOut, /pmip6MagBLFlag\.ipv6\."20:01:0d:b8:00:77:00:01[0:]*"\.ipv6\."20:01:0d:b8:ff:ff[0:]*01" = INTEGER: true\(1\)/);
      assert.match(magOut, /pmip6MagProfMnIdentifier\.1 = STRING: alice@example\.net/);
      assert.match(magOut, /pmip6MagProxyCOAState\.ipv6\."20:01:0d:b8:00:0a[0:]*01" = INTEGER: tunneled\(3\)/);
      const counters = await walk('PMIPV6-MIB::pmip6InitialBindingRegistrations');
      assert.match(counters, /Counter32: 1/);
      await trapd.waitFor((o) => /pmip6MagHomeTunnelEstablished/.test(o) && /pmip6LmaHomeTunnelEstablished/.test(o));

      detector.detach({ mnId: MN, link: 'ap0' });
      await settle();
      clock.advance(11_000); // RFC 5213 §5.3.5 MinDelayBeforeBCEDelete
      await settle();
      assert.doesNotMatch(await walk('PMIPV6-MIB::pmip6BindingCacheTable'), /pmip6BindingPBUFlag\./);
      assert.doesNotMatch(await walk('PMIPV6-MIB::pmip6MagBLTable'), /pmip6MagBLFlag\./);
      const out = await trapd.waitFor((o) => /pmip6MagHomeTunnelReleased/.test(o) && /pmip6LmaHomeTunnelReleased/.test(o));
      assert.match(out, /pmip6LmaHomeTunnelReleased\s+PMIPV6-MIB::pmip6BindingTunnelIfIdentifier\.ipv6\."20:01:0d:b8:00:77:00:01[0:]*" = STRING: \s+PMIPV6-MIB::pmip6LmaLMAAState\.ipv6\."20:01:0d:b8:ff:ff[0:]*01" = INTEGER: activated\(2\)/);
    } finally {
      await agent.stop();
      lmaSide.close();
      await mag.stop();
      await lma.stop();
    }
  });
});
