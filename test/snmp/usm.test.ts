// SNMPv3 USM checks on crafted messages (RFC 3414 §3.2, RFC 3412 §7.2): the cases the
// Debian tools never produce (a stale engine time, another engine's ID, a flipped digest).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BerReader, Tag, ber } from '../../src/snmp/ber.ts';
import type { SnmpEngineCounters } from '../../src/snmp/mib.ts';
import { Level, Usm, makeUser, type UsmUser } from '../../src/snmp/usm.ts';

const ENGINE = Buffer.from('800000000501020304050607080910', 'hex');
const zero = (): SnmpEngineCounters =>
  Object.fromEntries(
    [
      'snmpInPkts', 'snmpOutPkts', 'snmpInBadVersions', 'snmpInBadCommunityNames', 'snmpInBadCommunityUses', 'snmpInASNParseErrs',
      'snmpSilentDrops', 'snmpProxyDrops', 'snmpUnknownSecurityModels', 'snmpInvalidMsgs', 'snmpUnknownPDUHandlers', 'snmpUnknownContexts',
      'usmStatsUnsupportedSecLevels', 'usmStatsNotInTimeWindows', 'usmStatsUnknownUserNames', 'usmStatsUnknownEngineIDs',
      'usmStatsWrongDigests', 'usmStatsDecryptionErrors',
    ].map((k) => [k, 0]),
  ) as unknown as SnmpEngineCounters;

const users = (): UsmUser[] => [
  makeUser({ name: 'alice', authProtocol: 'sha256', authKey: 'alice-auth', privProtocol: 'aes', privKey: 'alice-priv' }),
  makeUser({ name: 'bob', authProtocol: 'sha', authKey: 'bob-auth-1' }),
];

/** The agent's USM, and a "manager" that encodes with the same user table but its own notion of the engine. */
function pair(managerBoots = 7, managerTime = 100, managerEngine = ENGINE) {
  const counters = zero();
  const agent = new Usm(users(), { engineId: ENGINE, engineBoots: 7, engineTime: () => 100 }, counters, 65507);
  const manager = new Usm(users(), { engineId: managerEngine, engineBoots: managerBoots, engineTime: () => managerTime }, zero(), 65507);
  return { agent, manager, counters };
}

const getPdu = (reqId = 77) =>
  ber.constructed(Tag.GetRequest, ber.int(reqId), ber.int(0), ber.int(0), ber.seq(ber.seq(ber.oid([1, 3, 6, 1, 2, 1, 1, 3, 0]), { tag: Tag.Null, content: Buffer.alloc(0) })));

/** A GetRequest from a manager (reportable, RFC 3412 §6.4). */
function request(usm: Usm, level: number, user: string, contextName = ''): Buffer {
  return usm.encodeMessage(1234, level, usm.user(user), getPdu(), Buffer.from(contextName), true);
}

/** Parses a Report: flags, the usmStats OID and the request-id. */
function report(buf: Buffer): { flags: number; oid: string; requestId: number; user: string } {
  const msg = new BerReader(buf).sequence();
  msg.integer();
  const gd = msg.sequence();
  gd.integer();
  gd.integer();
  const flags = gd.octets().value[0];
  gd.integer();
  const sp = new BerReader(buf, msg.read(Tag.OctetString).start).sequence();
  sp.octets();
  sp.integer();
  sp.integer();
  const user = sp.octets().value.toString();
  assert.equal(flags & 2, 0, 'reports are never encrypted here');
  const scoped = msg.sequence();
  scoped.octets();
  scoped.octets();
  const pdu = scoped.sequence(Tag.Report);
  const requestId = pdu.integer();
  pdu.integer();
  pdu.integer();
  const vb = pdu.sequence().sequence();
  const oidTlv = vb.read(Tag.Oid);
  const bytes = buf.subarray(oidTlv.start, oidTlv.end);
  const ids = [Math.floor(bytes[0] / 40), bytes[0] % 40];
  let v = 0;
  for (const b of bytes.subarray(1)) {
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      ids.push(v);
      v = 0;
    }
  }
  return { flags, oid: ids.join('.'), requestId, user };
}

describe('SNMPv3 USM (RFC 3414 §3.2)', () => {
  test('RFC 3414 §3.2 step 7: an authentic request outside the time window gets an authenticated usmStatsNotInTimeWindows report', () => {
    for (const [boots, time] of [[8, 100], [6, 100], [7, 251]]) {
      const { agent, manager, counters } = pair(boots, time);
      const d = agent.check(request(manager, Level.authNoPriv, 'bob'));
      assert.equal(d.action, 'reply');
      const r = report((d as { message: Buffer }).message);
      assert.equal(r.oid, '1.3.6.1.6.3.15.1.1.2.0');
      assert.equal(r.flags & 1, 1, 'authNoPriv (RFC 3414 §3.2 7a)');
      assert.equal(r.user, 'bob');
      assert.equal(r.requestId, 77);
      assert.equal(counters.usmStatsNotInTimeWindows, 1);
    }
    const { agent } = pair(7, 250);
    assert.equal(agent.check(request(pair(7, 250).manager, Level.authNoPriv, 'bob')).action, 'pass', 'within 150 s');
  });

  test('RFC 3414 §3.2 step 3: a message for another engine ID gets usmStatsUnknownEngineIDs (also engine discovery)', () => {
    const { agent, manager, counters } = pair(7, 100, Buffer.from('80000000050a0b0c0d', 'hex'));
    const d = agent.check(request(manager, Level.authPriv, 'alice'));
    assert.equal(report((d as { message: Buffer }).message).oid, '1.3.6.1.6.3.15.1.1.4.0');
    assert.equal(counters.usmStatsUnknownEngineIDs, 1);
    // RFC 3412 §7.1 step 3b: PDU type unknown (encrypted) and not reportable: counted, no report
    const quiet = manager.encodeMessage(1, Level.authPriv, manager.user('alice'), getPdu(), Buffer.alloc(0), false);
    assert.equal(agent.check(quiet).action, 'drop');
    assert.equal(counters.usmStatsUnknownEngineIDs, 2);
  });

  test('RFC 3414 §3.2 steps 4-6, 8: unknown user, unsupported level, wrong digest, undecryptable PDU', () => {
    const { agent, manager, counters } = pair();
    const stranger = new Usm([makeUser({ name: 'eve', authProtocol: 'sha', authKey: 'eve-auth-1' })], { engineId: ENGINE, engineBoots: 7, engineTime: () => 100 }, zero(), 65507);
    const oidOf = (b: Buffer) => report((agent.check(b) as { message: Buffer }).message).oid;
    assert.equal(oidOf(request(stranger, Level.authNoPriv, 'eve')), '1.3.6.1.6.3.15.1.1.3.0');
    // bob has no privacy key: authPriv is not a level his entry supports
    const bobPriv = new Usm([makeUser({ name: 'bob', authProtocol: 'sha', authKey: 'bob-auth-1', privProtocol: 'aes', privKey: 'whatever-1' })], { engineId: ENGINE, engineBoots: 7, engineTime: () => 100 }, zero(), 65507);
    assert.equal(oidOf(request(bobPriv, Level.authPriv, 'bob')), '1.3.6.1.6.3.15.1.1.1.0');
    // one flipped bit in the digest
    const m = request(manager, Level.authNoPriv, 'bob');
    const flipped = Buffer.from(m);
    const i = flipped.indexOf(Buffer.from('bob')) + 3 + 2;
    flipped[i] ^= 1;
    assert.equal(oidOf(flipped), '1.3.6.1.6.3.15.1.1.5.0');
    // the right auth key but another privacy key: the PDU does not decrypt to a scoped PDU
    const otherPriv = new Usm([makeUser({ name: 'alice', authProtocol: 'sha256', authKey: 'alice-auth', privProtocol: 'aes', privKey: 'not-alice-priv' })], { engineId: ENGINE, engineBoots: 7, engineTime: () => 100 }, zero(), 65507);
    assert.equal(oidOf(request(otherPriv, Level.authPriv, 'alice')), '1.3.6.1.6.3.15.1.1.6.0');
    assert.deepEqual(
      [counters.usmStatsUnknownUserNames, counters.usmStatsUnsupportedSecLevels, counters.usmStatsWrongDigests, counters.usmStatsDecryptionErrors],
      [1, 1, 1, 1],
    );
  });

  test('RFC 3413 §3.2: an authPriv request naming another context gets an snmpUnknownContexts report; a good one passes', () => {
    const { agent, manager, counters } = pair();
    const d = agent.check(request(manager, Level.authNoPriv, 'bob', 'router-2'));
    assert.equal(report((d as { message: Buffer }).message).oid, '1.3.6.1.6.3.12.1.5.0');
    assert.equal(counters.snmpUnknownContexts, 1);
    const ok = agent.check(request(manager, Level.authPriv, 'alice'));
    assert.equal(ok.action, 'pass');
  });
});
