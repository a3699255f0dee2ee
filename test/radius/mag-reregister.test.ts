// The MAG side of RFC 5176 dynamic authorisation: Mag.reRegister (src/mag/reregister.ts),
// which main/ calls for a CoA-Request after invalidating the AAA client's cache. Runs on the
// MAG unit-test harness (test/mag/harness.ts: manual clock, in-memory hub, fake LMA).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandoffIndicator, getOption, getOptions, prefixToString } from '../../src/mh/index.ts';
import { mapPolicy } from '../../src/mag/index.ts';
import type { Profile } from '../../src/policy/profile.ts';
import type { MagPolicySource } from '../../src/policy/source.ts';
import { MAG_A, attachEv, profile, world } from '../mag/harness.ts';

const MN = 'mn-coa@x';

async function registered(p: Profile) {
  const profiles = new Map([[MN, p]]);
  const w = world();
  const a = await w.addMag(MAG_A, {}, mapPolicy(profiles));
  a.detector.attach(attachEv(MN));
  await w.advance(0);
  assert.equal(a.view(MN).state, 'registered');
  return { w, a, profiles };
}

const hnpsOf = (pbu: Parameters<typeof getOptions>[0]) => getOptions(pbu, 'hnp').map((o) => prefixToString(o.prefix, o.prefixLen));

describe('RFC 5176 CoA at the MAG: re-registration with the new profile', () => {
  it('RFC 5213 §6.9.1.3: same LMA and prefixes: one PBU with HI 5 on the live binding, which stays', async () => {
    const { w, a, profiles } = await registered(profile(MN, { hnps: ['2001:db8:50::/64'], hnpPool: null }));
    const before = w.lma.pbus().length;
    const tunnels = [...a.dp.tunnels.keys()];
    profiles.set(MN, profile(MN, { hnps: ['2001:db8:50::/64'], hnpPool: null, serviceSelection: 'ims', dhcpv6Server: '2001:db8::53' }));
    assert.deepEqual(await a.mag.reRegister(MN), { sessions: 1, policyError: false });
    await w.advance(0);
    const pbus = w.lma.pbus().slice(before);
    assert.equal(pbus.length, 1);
    assert.ok(pbus[0].msg.lifetime > 0);
    assert.equal(getOption(pbus[0].msg, 'handoffIndicator')?.hi, HandoffIndicator.NOT_CHANGED);
    assert.deepEqual(hnpsOf(pbus[0].msg), ['2001:db8:50::/64']);
    assert.equal(a.view(MN).state, 'registered');
    assert.deepEqual([...a.dp.tunnels.keys()], tunnels, 'forwarding state kept');
    assert.deepEqual(a.events.map((e) => e.type), ['registered', 'refreshed']);
  });

  it('RFC 5213 §5.4.1.1: new prefixes cannot be put on the binding: de-register it, register a new session', async () => {
    const { w, a, profiles } = await registered(profile(MN, { hnps: ['2001:db8:50::/64'], hnpPool: null }));
    const before = w.lma.pbus().length;
    profiles.set(MN, profile(MN, { hnps: ['2001:db8:51::/64'], hnpPool: null }));
    assert.deepEqual(await a.mag.reRegister(MN), { sessions: 1, policyError: false });
    await w.advance(0);
    const pbus = w.lma.pbus().slice(before).map((r) => r.msg);
    assert.deepEqual(pbus.map((p) => [p.lifetime === 0 ? 'dereg' : 'reg', hnpsOf(p)]), [['dereg', ['2001:db8:50::/64']], ['reg', ['2001:db8:51::/64']]]);
    assert.deepEqual(a.view(MN).hnps, ['2001:db8:51::/64']);
    assert.equal(a.view(MN).state, 'registered');
    assert.equal(a.view(MN).link, 'ap0');
    assert.deepEqual(a.events.map((e) => e.type), ['registered', 'deregistered', 'registered']);
    assert.equal(a.mag.counters.dropped.unmatched, 1, "the old binding's de-registration PBA finds no entry");
  });

  it('RFC 5213 §6.9.1.4: a withdrawn (disabled) profile de-registers the session', async () => {
    const { w, a, profiles } = await registered(profile(MN));
    profiles.set(MN, profile(MN, { enabled: false }));
    assert.deepEqual(await a.mag.reRegister(MN), { sessions: 1, policyError: false });
    await w.advance(0);
    assert.equal(w.lma.lastPbu().lifetime, 0);
    assert.equal(a.mag.view.get(MN), undefined);
    assert.deepEqual(a.events.map((e) => e.type), ['registered', 'deregistered']);
  });

  it('an MN without a session here: 0 (the DAE answers NAK 503), nothing sent', async () => {
    const { w, a } = await registered(profile(MN));
    const before = w.lma.received.length;
    assert.deepEqual(await a.mag.reRegister('other@x'), { sessions: 0, policyError: false });
    await w.advance(0);
    assert.equal(w.lma.received.length, before);
  });

  it('a failing policy source is reported (the DAE answers NAK) and leaves the binding alone', async () => {
    let fail = false;
    const p = profile(MN);
    const policy: MagPolicySource = { profile: async () => { if (fail) throw new Error('AAA down'); return p; } };
    const w = world();
    const a = await w.addMag(MAG_A, {}, policy);
    a.detector.attach(attachEv(MN));
    await w.advance(0);
    fail = true;
    assert.deepEqual(await a.mag.reRegister(MN), { sessions: 1, policyError: true });
    await w.advance(0);
    assert.equal(a.view(MN).state, 'registered');
  });
});
