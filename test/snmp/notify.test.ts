// Tunnel notifications (RFC 6475 pmip6{Mag,Lma}HomeTunnel{Established,Released}) received by
// snmptrapd as SNMPv2c traps and SNMPv3 informs when bindings come and go; rate limiting.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pmip6SnmpAgent } from '../../src/snmp/agent.ts';
import { MemoryPersistence, Pmip6Settings } from '../../src/snmp/settings.ts';
import { FakeLma, FakeMag, syntheticBinding } from './fake-view.ts';
import { OUR_MIBS, IETF_MIBS, startTrapReceiver, tempDir, type TrapReceiver } from './helpers.ts';

let tmp: ReturnType<typeof tempDir>;
let trapd: TrapReceiver;

before(async () => {
  tmp = tempDir('notify');
  const mibPath = `${OUR_MIBS}:${IETF_MIBS}`;
  trapd = await startTrapReceiver(tmp.path, mibPath, [
    'authCommunity log trapcomm',
    'createUser trapuser SHA-256 trap-auth-1 AES trap-priv-1',
    'authUser log trapuser priv',
  ]);
});
after(async () => {
  await trapd.stop();
  tmp.remove();
});

/** The notifications snmptrapd logged, as "name | varbinds" per notification, from a given source port onwards. */
function received(out: string): string[] {
  return out
    .split(/\n(?=\d{4}-\d\d-\d\d )/)
    .filter((b) => /pmip6\w+HomeTunnel/.test(b))
    .map((b) => b.replace(/\s+/g, ' '));
}

describe('notifications (RFC 6475 §5.2, RFC 3416 §4.2.6/§4.2.7)', () => {
  test('RFC 6475: a binding coming and going at the LMA and at the MAG reaches snmptrapd as v2c traps and v3 informs', async () => {
    const lma = new FakeLma();
    const mag = new FakeMag();
    const agent = new Pmip6SnmpAgent(
      {
        port: 0,
        bind: ['127.0.0.1'],
        communities: [{ name: 'public', view: 'full' }],
        notificationTargets: [
          { address: '127.0.0.1', port: trapd.port, version: '2c', community: 'trapcomm' },
          { address: '127.0.0.1', port: trapd.port, version: '3', user: { name: 'trapuser', authProtocol: 'sha256', authKey: 'trap-auth-1', privProtocol: 'aes', privKey: 'trap-priv-1' } },
        ],
      },
      { lma, mag, settings: await Pmip6Settings.open(new MemoryPersistence()) },
    );
    await agent.start();
    try {
      lma.events = agent;
      mag.events = agent;
      const h1 = lma.addBinding(syntheticBinding(41));
      const h2 = mag.addBinding(syntheticBinding(42));
      lma.removeBinding(h1);
      mag.removeBinding(h2);
      await agent.notificationsSettled();
      const out = await trapd.waitFor((o) => received(o).length >= 8);
      const got = received(out);
      assert.equal(got.length, 8);
      const lmaIdx = 'ipv6."20:01:0d:b8:00:00:00:29:00:00:00:00:00:00:00:00"';
      const magIdx = 'ipv6."20:01:0d:b8:00:00:00:2a:00:00:00:00:00:00:00:00".ipv6."20:01:0d:b8:ff:ff:00:00:00:00:00:00:00:00:00:01"';
      const lmaa = 'ipv6."20:01:0d:b8:ff:ff:00:00:00:00:00:00:00:00:00:01"';
      const pcoa = 'ipv6."20:01:0d:b8:ee:ee:00:00:00:00:00:00:00:00:00:01"';
      const expect = [
        `OID: PMIPV6-MIB::pmip6LmaHomeTunnelEstablished PMIPV6-MIB::pmip6BindingTunnelIfIdentifier.${lmaIdx} = STRING: 0:0:0:29 PMIPV6-MIB::pmip6LmaLMAAState.${lmaa} = INTEGER: tunneled(3)`,
        `OID: PMIPV6-MIB::pmip6MagHomeTunnelEstablished PMIPV6-MIB::pmip6MagBLTunnelIfIdentifier.${magIdx} = STRING: 0:0:0:2a PMIPV6-MIB::pmip6MagProxyCOAState.${pcoa} = INTEGER: tunneled(3)`,
        `OID: PMIPV6-MIB::pmip6LmaHomeTunnelReleased PMIPV6-MIB::pmip6BindingTunnelIfIdentifier.${lmaIdx} = STRING: 0:0:0:29 PMIPV6-MIB::pmip6LmaLMAAState.${lmaa} = INTEGER: activated(2)`,
        `OID: PMIPV6-MIB::pmip6MagHomeTunnelReleased PMIPV6-MIB::pmip6MagBLTunnelIfIdentifier.${magIdx} = STRING: 0:0:0:2a PMIPV6-MIB::pmip6MagProxyCOAState.${pcoa} = INTEGER: activated(2)`,
      ];
      for (const e of expect) {
        // once as a trap, once as an inform; each starts with sysUpTime.0 and snmpTrapOID.0 (RFC 3416 §4.2.6)
        const hits = got.filter((g) => g.includes(e));
        assert.equal(hits.length, 2, `${e}\nin:\n${got.join('\n')}`);
        for (const h of hits) assert.match(h, /SNMPv2-MIB::sysUpTime\.0 = Timeticks: \(\d+\) [^=]*SNMPv2-MIB::snmpTrapOID\.0 = OID: PMIPV6-MIB::/);
      }
      assert.equal(agent.stats.notificationsSent, 4);
      assert.equal(agent.stats.informsAcknowledged, 4);
      assert.equal(agent.stats.notificationsFailed, 0);
    } finally {
      await agent.stop();
    }
  });

  test('RFC 6475 notifications are rate-limited: over the burst they are dropped and counted', async () => {
    const lma = new FakeLma();
    const agent = new Pmip6SnmpAgent(
      {
        port: 0,
        bind: ['127.0.0.1'],
        notificationTargets: [{ address: '127.0.0.1', port: trapd.port, version: '2c', community: 'trapcomm' }],
        notificationRate: { perSecond: 0.001, burst: 3 },
      },
      { lma, settings: await Pmip6Settings.open(new MemoryPersistence()) },
    );
    await agent.start();
    try {
      lma.events = agent;
      const before = received(trapd.output()).length;
      for (let i = 0; i < 10; i++) lma.addBinding(syntheticBinding(500 + i));
      await agent.notificationsSettled();
      await trapd.waitFor((o) => received(o).length >= before + 3);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(received(trapd.output()).length, before + 3);
      assert.equal(agent.stats.notificationsSent, 3);
      assert.equal(agent.stats.notificationsSuppressed, 7);
    } finally {
      await agent.stop();
    }
  });
});
