// RFC 5847 heartbeat and RFC 5846 binding revocation at the LMA.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  BraStatus,
  BrFlag,
  HandoffIndicator as HI,
  HeartbeatFlag,
  RevocationTrigger,
  getOption,
  getOptions,
  mnIdFromNai,
  parsePrefix,
} from '../../src/mh/index.ts';
import type { BindingRevocationIndication, MhMessage } from '../../src/mh/index.ts';
import type { RestartCounterState } from '../../src/lma/index.ts';
import { harness, hnpsOf, makeProfile, MAG1, MAG2 } from './driver.ts';
import type { Harness, TestMag } from './driver.ts';

const MN = 'mn1@example.net';
const P1 = '2001:db8:1:1::/64';
const P2 = '2001:db8:1:2::/64';

function is<T extends MhMessage['type']>(m: MhMessage | undefined, type: T): Extract<MhMessage, { type: T }> {
  assert.ok(m, `expected a ${type}, got nothing`);
  assert.equal(m.type, type);
  return m as Extract<MhMessage, { type: T }>;
}

describe('RFC 5847 heartbeat', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('§3.3: every request is answered with R = 1, the same sequence number and our Restart Counter (no BCE needed)', async () => {
    h = await harness();
    const mag = h.mag();
    mag.send({ type: 'heartbeat', flags: 0, seq: 0xdeadbeef, options: [] });
    await h.settle();
    const r = is(mag.take(), 'heartbeat');
    assert.equal(r.flags, HeartbeatFlag.R);
    assert.equal(r.seq, 0xdeadbeef);
    assert.equal(getOption(r, 'restartCounter')?.counter, h.lma.restartCounter);
  });

  it('§3.1: requests every HEARTBEAT_INTERVAL only to MAGs with BCEs; missing responses -> unreachable; a response -> reachable', async () => {
    h = await harness({ config: { heartbeatIntervalMs: 60_000, missingHeartbeatsAllowed: 3 }, profiles: [makeProfile(MN, { hnps: [P1] })] });
    const m1 = h.mag(MAG1);
    const m2 = h.mag(MAG2); // no binding: never asked
    m1.pbu({ mnId: MN, lifetime: 3600 });
    await h.settle();
    m1.pba();
    await h.advance(60_000);
    const req = is(m1.take(), 'heartbeat');
    assert.equal(req.flags & HeartbeatFlag.R, 0);
    assert.equal(m2.take(), undefined);
    for (let i = 0; i < 3; i++) {
      await h.advance(60_000);
      is(m1.take(), 'heartbeat');
    }
    assert.equal(h.sink.peers.length, 0, 'three missed are allowed');
    await h.advance(60_000);
    const last = is(m1.take(), 'heartbeat');
    assert.deepEqual(h.sink.peers.map((e) => e.kind), ['unreachable']);
    assert.equal(h.lma.peers()[0].reachable, false);
    m1.send({ type: 'heartbeat', flags: HeartbeatFlag.R, seq: last.seq, options: [{ type: 'restartCounter', counter: 7 }] });
    await h.settle();
    assert.deepEqual(h.sink.peers.map((e) => e.kind), ['unreachable', 'reachable']);
    assert.equal(h.lma.peers()[0].missingHeartbeats, 0);
    assert.equal(h.lma.peers()[0].restartCounter, 7);
  });

  it('§3.2: a changed Restart Counter marks the MAG bindings and emits "restarted"; U = 1 responses count too', async () => {
    h = await harness({ config: { heartbeatIntervalMs: 60_000 }, profiles: [makeProfile(MN, { hnps: [P1] })] });
    const mag = h.mag();
    mag.pbu({ mnId: MN, lifetime: 3600 });
    await h.settle();
    mag.pba();
    await h.advance(60_000);
    const req = is(mag.take(), 'heartbeat');
    mag.send({ type: 'heartbeat', flags: HeartbeatFlag.R, seq: req.seq, options: [{ type: 'restartCounter', counter: 1 }] });
    await h.settle();
    mag.send({ type: 'heartbeat', flags: HeartbeatFlag.R | HeartbeatFlag.U, seq: 12345, options: [{ type: 'restartCounter', counter: 2 }] });
    await h.settle();
    assert.deepEqual(h.sink.peers.map((e) => [e.kind, e.previousRestartCounter, e.restartCounter]), [['restarted', 1, 2]]);
    assert.equal(h.lma.bindings.list().items[0].peerRestarted, true);
    assert.equal(h.lma.bindingCount, 1, 'only marked by default');
    // a re-registration clears the mark
    mag.pbu({ mnId: MN, hnps: [P1], hi: HI.NOT_CHANGED });
    await h.settle();
    assert.equal(h.lma.bindings.list().items[0].peerRestarted, false);
  });

  it('§3.2: deleteBindingsOnPeerRestart removes the restarted MAG bindings', async () => {
    h = await harness({ config: { heartbeatIntervalMs: 60_000, deleteBindingsOnPeerRestart: true }, profiles: [makeProfile(MN, { hnps: [P1] })] });
    const mag = h.mag();
    mag.pbu({ mnId: MN, lifetime: 3600 });
    await h.settle();
    mag.send({ type: 'heartbeat', flags: HeartbeatFlag.R | HeartbeatFlag.U, seq: 0, options: [{ type: 'restartCounter', counter: 1 }] });
    mag.send({ type: 'heartbeat', flags: HeartbeatFlag.R | HeartbeatFlag.U, seq: 0, options: [{ type: 'restartCounter', counter: 2 }] });
    await h.settle();
    assert.equal(h.lma.bindingCount, 0);
  });

  it('§3: a Binding Error status 2 in answer to our request -> no more heartbeats to that MAG', async () => {
    h = await harness({ config: { heartbeatIntervalMs: 60_000 }, profiles: [makeProfile(MN, { hnps: [P1] })] });
    const mag = h.mag();
    mag.pbu({ mnId: MN, lifetime: 3600 });
    await h.settle();
    mag.pba();
    await h.advance(60_000);
    is(mag.take(), 'heartbeat');
    mag.send({ type: 'be', status: 2, homeAddress: Buffer.alloc(16), options: [] });
    await h.settle();
    await h.advance(60_000);
    assert.equal(mag.take(), undefined);
    assert.deepEqual(h.sink.peers.map((e) => e.kind), ['heartbeat-unsupported']);
  });

  it('§3.4: the Restart Counter is bumped on a restart that lost the bindings, kept when they were restored', async () => {
    let saved: RestartCounterState | null = { counter: 41, cleanStop: true };
    const rcStore = { load: async () => saved, save: async (v: RestartCounterState) => void (saved = v) };
    h = await harness({ restartCounterStore: rcStore });
    assert.equal(h.lma.restartCounter, 42, 'no binding store: state lost, counter bumped');
    await h.close();
    const store = { commit: async () => undefined, loadLive: async () => [] };
    h = await harness({ restartCounterStore: rcStore, store });
    assert.equal(h.lma.restartCounter, 42, 'bindings restored after a clean stop: same counter');
  });
});

describe('RFC 5846 binding revocation, LMA as initiator (§8.1)', () => {
  let h: Harness;
  let m1: TestMag;
  afterEach(() => h.close());

  async function setup(): Promise<void> {
    h = await harness({ profiles: [makeProfile(MN, { hnps: [P1, P2] }), makeProfile('mn2@example.net', { hnps: ['2001:db8:2::/64'] })] });
    m1 = h.mag(MAG1);
    m1.pbu({ mnId: MN, lifetime: 3600 });
    m1.pbu({ mnId: 'mn2@example.net', lifetime: 3600 });
    await h.settle();
    m1.pba();
    m1.pba();
  }

  it('§8.1: one binding: BRI with P, the trigger, MN-ID and every HNP; marked "revoking"; BRA success -> removed', async () => {
    await setup();
    const key = h.lma.bindings.list({ mnId: MN }).items[0].sessionKey;
    const done = h.lma.revokeBinding(key);
    await h.settle();
    const bri = is(m1.take(), 'bri');
    assert.equal(bri.flags, BrFlag.P);
    assert.equal(bri.trigger, RevocationTrigger.ADMINISTRATIVE_REASON);
    assert.equal(Buffer.from(getOption(bri, 'mnId')!.id).toString(), MN);
    assert.deepEqual(hnpsOf(bri).sort(), [P1, P2]);
    assert.equal(h.lma.binding(key)?.revoking, true);
    m1.send({ type: 'bra', status: BraStatus.SUCCESS, seq: bri.seq, flags: BrFlag.P, options: [] });
    await h.settle();
    assert.deepEqual(await done, { result: 'acknowledged', status: 0, removed: 1 });
    assert.equal(h.lma.binding(key), undefined);
    assert.equal(h.lma.bindingCount, 1);
    assert.equal(h.sink.bindings.at(-1)?.kind, 'revoked');
    assert.ok(!h.dp.routes.has(P1));
  });

  it('§6.3: no BRA -> one retransmission after InitMINDelayBRIs (1 s), clean-up after MAX_BRACK_TIMEOUT (2 s)', async () => {
    await setup();
    const key = h.lma.bindings.list({ mnId: MN }).items[0].sessionKey;
    const done = h.lma.revokeBinding(key);
    await h.settle();
    const first = is(m1.take(), 'bri');
    await h.advance(999);
    assert.equal(m1.take(), undefined);
    await h.advance(1);
    const again = is(m1.take(), 'bri');
    assert.equal(again.seq, first.seq, 'the same BRI');
    await h.advance(1999);
    assert.ok(h.lma.binding(key));
    await h.advance(1);
    assert.deepEqual(await done, { result: 'timeout', status: undefined, removed: 1 });
    assert.equal(h.lma.binding(key), undefined);
    assert.equal(m1.take(), undefined, 'BRIMaxRetriesNumber = 1');
  });

  it('§6.2.2: a BRA with an unknown sequence number is dropped', async () => {
    await setup();
    m1.send({ type: 'bra', status: 0, seq: 4321, flags: BrFlag.P, options: [] });
    await h.settle();
    assert.equal(h.lma.counters.dropped['bra-unknown-seq'], 1);
    assert.equal(h.lma.bindingCount, 2);
  });

  it('§8.1: per-peer revocation: G = 1, "Per-Peer Policy", no options; every binding of the MAG goes', async () => {
    await setup();
    const done = h.lma.revokePeer(MAG1);
    await h.settle();
    const bri = is(m1.take(), 'bri');
    assert.equal(bri.flags, BrFlag.P | BrFlag.G);
    assert.equal(bri.trigger, RevocationTrigger.PER_PEER_POLICY);
    assert.equal(bri.options.length, 0);
    m1.send({ type: 'bra', status: 0, seq: bri.seq, flags: BrFlag.P | BrFlag.G, options: [] });
    await h.settle();
    assert.equal((await done).removed, 2);
    assert.equal(h.lma.bindingCount, 0);
    assert.equal(h.dp.tunnels.size, 0);
  });

  it('§8.1: a PBU accepted while revocation is in progress clears the flag; the later BRA removes nothing', async () => {
    await setup();
    const key = h.lma.bindings.list({ mnId: MN }).items[0].sessionKey;
    const done = h.lma.revokeBinding(key);
    await h.settle();
    const bri = is(m1.take(), 'bri');
    m1.pbu({ mnId: MN, hnps: [P1, P2], hi: HI.NOT_CHANGED });
    await h.settle();
    assert.equal(m1.pba().status, 0);
    assert.equal(h.lma.binding(key)?.revoking, false);
    m1.send({ type: 'bra', status: 0, seq: bri.seq, flags: BrFlag.P, options: [] });
    await h.settle();
    assert.equal((await done).removed, 0);
    assert.ok(h.lma.binding(key));
  });

  it('§8.1: HI = 4 handoff -> BRI "Inter-MAG Handover - Unknown" to the old MAG; BRA success = de-registration -> same session moves', async () => {
    await setup();
    const key = h.lma.bindings.list({ mnId: MN }).items[0].sessionKey;
    const m2 = h.mag(MAG2);
    m2.pbu({ mnId: MN, hi: HI.UNKNOWN });
    await h.settle();
    const bri = is(m1.take(), 'bri');
    assert.equal(bri.trigger, RevocationTrigger.INTER_MAG_HANDOVER_UNKNOWN);
    assert.equal(m2.take(), undefined, 'waiting');
    m1.send({ type: 'bra', status: 0, seq: bri.seq, flags: BrFlag.P, options: [] });
    await h.settle();
    const pba = m2.pba();
    assert.equal(pba.status, 0);
    assert.deepEqual(hnpsOf(pba).sort(), [P1, P2]);
    assert.equal(h.lma.binding(key)?.proxyCoa, MAG2);
  });

  it('§8.1: HI = 4 handoff and BRA "MN is Attached" -> a new session at once', async () => {
    h = await harness({ profiles: [makeProfile(MN, { hnps: [P1, P2] })] });
    m1 = h.mag(MAG1);
    m1.pbu({ mnId: MN, hnps: [P1], lifetime: 3600 });
    await h.settle();
    m1.pba();
    const m2 = h.mag(MAG2);
    m2.pbu({ mnId: MN, hi: HI.UNKNOWN });
    await h.settle();
    const bri = is(m1.take(), 'bri');
    m1.send({ type: 'bra', status: BraStatus.REVOCATION_FAILED_MN_IS_ATTACHED, seq: bri.seq, flags: BrFlag.P, options: [] });
    await h.settle();
    const pba = m2.pba();
    assert.equal(pba.status, 0);
    assert.deepEqual(hnpsOf(pba), [P2], 'the other prefix for the other interface');
    assert.equal(h.lma.bindingCount, 2);
  });
});

describe('RFC 5846 §8.2 BRI from a MAG', () => {
  let h: Harness;
  let m1: TestMag;
  afterEach(() => h.close());

  async function setup(): Promise<void> {
    h = await harness({ profiles: [makeProfile(MN, { hnps: [P1] }), makeProfile('mn2@other.net', { hnps: ['2001:db8:2::/64'] })] });
    m1 = h.mag(MAG1);
    m1.pbu({ mnId: MN, lifetime: 3600 });
    m1.pbu({ mnId: 'mn2@other.net', lifetime: 3600 });
    await h.settle();
    m1.pba();
    m1.pba();
  }

  async function bri(msg: Omit<BindingRevocationIndication, 'type'>, mag = m1): Promise<{ status: number; flags: number; seq: number }> {
    mag.send({ type: 'bri', ...msg });
    await h.settle();
    const a = is(mag.take(), 'bra');
    return { status: a.status, flags: a.flags, seq: a.seq };
  }

  it('§8.2 (1): MN-ID only -> that MN bindings at this MAG removed; BRA success copies seq and flags', async () => {
    await setup();
    assert.deepEqual(await bri({ trigger: RevocationTrigger.USER_INITIATED_SESSION_TERMINATION, seq: 77, flags: BrFlag.P, options: [mnIdFromNai(MN)] }), { status: 0, flags: BrFlag.P, seq: 77 });
    await h.settle();
    assert.equal(h.lma.bindingCount, 1);
    assert.equal(h.sink.bindings.at(-1)?.reason, 'mag-initiated');
  });

  it('§8.2 (2): MN-ID + HNP -> only that binding; unknown HNP -> 128', async () => {
    await setup();
    const p = parsePrefix('2001:db8:9::/64');
    assert.equal((await bri({ trigger: 1, seq: 1, flags: BrFlag.P, options: [mnIdFromNai(MN), { type: 'hnp', prefixLen: 64, prefix: p.prefix }] })).status, BraStatus.BINDING_DOES_NOT_EXIST);
    const q = parsePrefix(P1);
    assert.equal((await bri({ trigger: 1, seq: 2, flags: BrFlag.P, options: [mnIdFromNai(MN), { type: 'hnp', prefixLen: 64, prefix: q.prefix }] })).status, 0);
    await h.settle();
    assert.equal(h.lma.bindingCount, 1);
  });

  it('§8.2: a MAG cannot revoke bindings held by another MAG -> 128', async () => {
    await setup();
    const m2 = h.mag(MAG2);
    assert.equal((await bri({ trigger: 1, seq: 3, flags: BrFlag.P, options: [mnIdFromNai(MN)] }, m2)).status, BraStatus.BINDING_DOES_NOT_EXIST);
    assert.equal(h.lma.bindingCount, 2);
  });

  it('§8.2: global "Per-Peer Policy" with the MAG identity -> all its bindings; without MN-ID -> 130', async () => {
    await setup();
    assert.equal((await bri({ trigger: RevocationTrigger.PER_PEER_POLICY, seq: 4, flags: BrFlag.P | BrFlag.G, options: [] })).status, BraStatus.GLOBAL_REVOCATION_NOT_AUTHORIZED);
    const r = await bri({ trigger: RevocationTrigger.PER_PEER_POLICY, seq: 5, flags: BrFlag.P | BrFlag.G, options: [mnIdFromNai('mag1@example.net')] });
    assert.deepEqual(r, { status: 0, flags: BrFlag.P | BrFlag.G, seq: 5 });
    await h.settle();
    assert.equal(h.lma.bindingCount, 0);
  });

  it('§8.1/§8.2: global "Revoking Mobility Node Local Policy" with "@realm" -> only that realm', async () => {
    await setup();
    const r = await bri({ trigger: RevocationTrigger.REVOKING_MOBILITY_NODE_LOCAL_POLICY, seq: 6, flags: BrFlag.P | BrFlag.G, options: [mnIdFromNai('@other.net')] });
    assert.equal(r.status, 0);
    await h.settle();
    assert.deepEqual(h.lma.bindings.list().items.map((b) => b.mnId), [MN]);
  });

  it('§6.2.1: unsupported trigger -> 133; trigger inconsistent with G -> 134; no MN-ID -> 131; V without IPv4 option -> 129', async () => {
    await setup();
    assert.equal((await bri({ trigger: 42, seq: 7, flags: BrFlag.P, options: [mnIdFromNai(MN)] })).status, BraStatus.REVOCATION_TRIGGER_NOT_SUPPORTED);
    assert.equal((await bri({ trigger: 1, seq: 8, flags: BrFlag.P | BrFlag.G, options: [mnIdFromNai(MN)] })).status, BraStatus.REVOCATION_FUNCTION_NOT_SUPPORTED);
    assert.equal((await bri({ trigger: 128, seq: 9, flags: BrFlag.P, options: [] })).status, BraStatus.REVOCATION_FUNCTION_NOT_SUPPORTED);
    assert.equal((await bri({ trigger: 1, seq: 10, flags: BrFlag.P, options: [] })).status, BraStatus.REVOKED_MOBILE_NODES_IDENTITY_REQUIRED);
    assert.equal((await bri({ trigger: 1, seq: 11, flags: BrFlag.P | BrFlag.V, options: [mnIdFromNai(MN)] })).status, BraStatus.IPV4_HOME_ADDRESS_OPTION_REQUIRED);
    assert.equal(h.lma.bindingCount, 2);
    assert.equal(getOptions({ options: [] }, 'hnp').length, 0);
  });
});
