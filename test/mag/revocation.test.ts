// Binding revocation, MAG as responder (RFC 5846 §6.1.2, §6.2.1, §9.1).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BraStatus, BrFlag, getOptions, mnIdFromNai, naiFromMnId, parseIpv4, parsePrefix } from '../../src/mh/index.ts';
import type { MobilityOption } from '../../src/mh/index.ts';
import { LMA, MAG_A, attachEv, profile, world } from './harness.ts';

const TO = { address: MAG_A, port: 5436 };
const P = BrFlag.P;

async function setup(n = 1, lmaOf: (i: number) => string = () => LMA) {
  const profiles = Array.from({ length: n }, (_, i) => profile(`r${i}@x`, { lma: lmaOf(i), ipv4Pool: 'v4' }));
  const w = world({ profiles });
  const a = await w.addMag(MAG_A);
  for (let i = 0; i < n; i++) a.detector.attach(attachEv(`r${i}@x`, { link: `p${i}` }));
  await w.advance(0);
  return { w, a };
}

function lastBra(w: Awaited<ReturnType<typeof setup>>['w']) {
  const r = w.lma.of('bra').at(-1);
  assert.ok(r, 'a BRA was sent');
  return r.msg;
}

describe('RFC 5846 §9.1 BRI at the MAG', () => {
  it('per-MN revocation: BULE, routes and tunnel removed, BRA success with the sequence number and P copied; no de-registration PBU', async () => {
    const { w, a } = await setup(1);
    const pbus = w.lma.pbus().length;
    w.lma.sendBri(TO, { trigger: 1, seq: 4242, flags: P, options: [mnIdFromNai('r0@x')] });
    await w.advance(0);
    const bra = lastBra(w);
    assert.equal(bra.status, BraStatus.SUCCESS);
    assert.equal(bra.seq, 4242);
    assert.equal(bra.flags, P);
    assert.equal(naiFromMnId(getOptions(bra, 'mnId')[0]), 'r0@x');
    assert.equal(a.mag.view.size(), 0);
    assert.equal(a.dp.routes.size, 0);
    assert.equal(a.dp.tunnels.size, 0);
    assert.equal(w.lma.pbus().length, pbus, 'the LMA already released the binding: no PBU');
    assert.deepEqual(a.events.at(-1), { type: 'revoked', mnId: 'r0@x', link: 'p0', lma: LMA, trigger: 1, ipv4Only: false });
    assert.equal(a.mag.counters.bindings.revoked, 1);
    // Timers are gone too: nothing is sent later.
    await w.advance(600_000);
    assert.equal(w.lma.pbus().length, pbus);
  });

  it('per-MN revocation narrowed by HNP: only the session holding that prefix goes', async () => {
    const { w, a } = await setup(1);
    const hnp = parsePrefix(a.view().hnps[0]);
    w.lma.sendBri(TO, { trigger: 1, seq: 1, flags: P, options: [mnIdFromNai('r0@x'), { type: 'hnp', ...hnp }] });
    await w.advance(0);
    assert.equal(lastBra(w).status, 0);
    assert.equal(a.mag.view.size(), 0);
    const { w: w2, a: a2 } = await setup(1);
    w2.lma.sendBri(TO, {
      trigger: 1,
      seq: 2,
      flags: P,
      options: [mnIdFromNai('r0@x'), { type: 'hnp', ...parsePrefix('2001:db8:ffff::/64') }],
    });
    await w2.advance(0);
    assert.equal(lastBra(w2).status, BraStatus.BINDING_DOES_NOT_EXIST);
    assert.equal(a2.mag.view.size(), 1);
  });

  it('§6.2.1: unknown MN -> 128 Binding Does NOT Exist; no MN-ID -> 131', async () => {
    const { w } = await setup(1);
    w.lma.sendBri(TO, { trigger: 1, seq: 1, flags: P, options: [mnIdFromNai('nobody@x')] });
    await w.advance(0);
    assert.equal(lastBra(w).status, BraStatus.BINDING_DOES_NOT_EXIST);
    w.lma.sendBri(TO, { trigger: 1, seq: 2, flags: P, options: [] });
    await w.advance(0);
    assert.equal(lastBra(w).status, BraStatus.REVOKED_MOBILE_NODES_IDENTITY_REQUIRED);
  });

  it('G=1 trigger 128 (Per-Peer Policy): every binding with that LMA, and only those; BRA success with G copied', async () => {
    const OTHER = '2001:db8::2';
    const { w, a } = await setup(4, (i) => (i < 3 ? LMA : OTHER));
    assert.equal(a.mag.view.size(), 4);
    w.lma.sendBri(TO, { trigger: 128, seq: 77, flags: P | BrFlag.G, options: [] });
    await w.advance(0);
    const bra = lastBra(w);
    assert.equal(bra.status, 0);
    assert.equal(bra.flags, P | BrFlag.G);
    assert.equal(bra.seq, 77);
    assert.deepEqual(a.mag.view.list().map((e) => e.mnId), ['r3@x'], 'the binding with the other LMA stays');
    assert.equal(a.mag.counters.bindings.revoked, 3);
  });

  it('G=1 trigger 128 with options is malformed for that intent: discarded, no BRA', async () => {
    const { w, a } = await setup(1);
    w.lma.sendBri(TO, { trigger: 128, seq: 5, flags: P | BrFlag.G, options: [mnIdFromNai('r0@x')] });
    await w.advance(0);
    assert.equal(w.lma.of('bra').length, 0);
    assert.equal(a.mag.counters.dropped.badBri, 1);
    assert.equal(a.mag.view.size(), 1);
  });

  it('G=1 trigger 129: the MN-IDs listed; none -> 131; some already gone -> partial success naming them', async () => {
    const { w, a } = await setup(2);
    w.lma.sendBri(TO, { trigger: 129, seq: 1, flags: P | BrFlag.G, options: [] });
    await w.advance(0);
    assert.equal(lastBra(w).status, BraStatus.REVOKED_MOBILE_NODES_IDENTITY_REQUIRED);
    w.lma.sendBri(TO, { trigger: 129, seq: 2, flags: P | BrFlag.G, options: [mnIdFromNai('r0@x'), mnIdFromNai('gone@x')] });
    await w.advance(0);
    const bra = lastBra(w);
    assert.equal(bra.status, BraStatus.PARTIAL_SUCCESS);
    assert.deepEqual(getOptions(bra, 'mnId').map((o) => naiFromMnId(o)), ['gone@x']);
    assert.deepEqual(a.mag.view.list().map((e) => e.mnId), ['r1@x']);
  });

  it('§6.2.1: trigger inconsistent with G -> 134; unsupported trigger -> 133; no P -> 128', async () => {
    const { w, a } = await setup(1);
    const cases: [number, number, MobilityOption[], number][] = [
      [1, P | BrFlag.G, [mnIdFromNai('r0@x')], BraStatus.REVOCATION_FUNCTION_NOT_SUPPORTED],
      [128, P, [mnIdFromNai('r0@x')], BraStatus.REVOCATION_FUNCTION_NOT_SUPPORTED],
      [99, P, [mnIdFromNai('r0@x')], BraStatus.REVOCATION_TRIGGER_NOT_SUPPORTED],
      [1, 0, [mnIdFromNai('r0@x')], BraStatus.BINDING_DOES_NOT_EXIST],
    ];
    let seq = 100;
    for (const [trigger, flags, options, status] of cases) {
      w.lma.sendBri(TO, { trigger, seq: ++seq, flags, options });
      await w.advance(0);
      const bra = lastBra(w);
      assert.equal(bra.seq, seq);
      assert.equal(bra.status, status, `trigger ${trigger} flags ${flags}`);
    }
    assert.equal(a.mag.view.size(), 1, 'nothing revoked');
  });

  it('V=1: only the IPv4 HoA binding is released; the IPv6 part stays and later PBUs omit the IPv4 request', async () => {
    const { w, a } = await setup(1);
    const v4 = a.view().ipv4HoA!;
    assert.equal(a.dp.routes.size, 2);
    w.lma.sendBri(TO, {
      trigger: 1,
      seq: 8,
      flags: P | BrFlag.V,
      options: [mnIdFromNai('r0@x'), { type: 'ipv4HoaRequest', prefixLen: 24, addr: parseIpv4(v4) }],
    });
    await w.advance(0);
    const bra = lastBra(w);
    assert.equal(bra.status, 0);
    assert.equal(bra.flags, P | BrFlag.V);
    assert.equal(a.view().ipv4HoA, null);
    assert.deepEqual([...a.dp.routes.keys()], a.view().hnps);
    assert.ok(a.events.some((e) => e.type === 'revoked' && e.ipv4Only));
    // Wrong address -> 128.
    w.lma.sendBri(TO, {
      trigger: 1,
      seq: 9,
      flags: P | BrFlag.V,
      options: [mnIdFromNai('r0@x'), { type: 'ipv4HoaRequest', prefixLen: 24, addr: parseIpv4('10.99.0.1') }],
    });
    await w.advance(0);
    assert.equal(lastBra(w).status, BraStatus.BINDING_DOES_NOT_EXIST);
  });

  it('§9.1 inter-MAG handover trigger while the MN is verifiably still attached -> 132, nothing removed', async () => {
    const { w, a } = await setup(1);
    w.lma.sendBri(TO, { trigger: 2, seq: 3, flags: P, options: [mnIdFromNai('r0@x')] });
    await w.advance(0);
    assert.equal(lastBra(w).status, BraStatus.REVOCATION_FAILED_MN_IS_ATTACHED);
    assert.equal(a.mag.view.size(), 1);
  });

  it('a BRI from an LMA we hold no binding with -> 128', async () => {
    const { w, a } = await setup(1, () => '2001:db8::2');
    w.lma.sendBri(TO, { trigger: 1, seq: 1, flags: P, options: [mnIdFromNai('r0@x')] });
    await w.advance(0);
    assert.equal(lastBra(w).status, BraStatus.BINDING_DOES_NOT_EXIST);
    assert.equal(a.mag.view.size(), 1);
  });
});
