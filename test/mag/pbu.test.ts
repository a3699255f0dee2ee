// PBU contents (RFC 5213 §6.9.1.1, §6.9.1.5, §8.1; RFC 5844 §3.2.3.1; RFC 5845 §5.1).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BuFlag,
  countOptions,
  getOption,
  getOptions,
  ipv4ToString,
  isAllZero,
  naiFromMnId,
  prefixToString,
  timestampToMs,
} from '../../src/mh/index.ts';
import { LMA, MAG_A, attachEv, profile, world } from './harness.ts';

describe('RFC 5213 §6.9.1.1 initial PBU', () => {
  it('§6.9.1.5: A and P set, H/L/K/M/R clear; MN-ID NAI, one HNP per profile prefix, HI, ATT, Timestamp, MN-LL-ID', async () => {
    const w = world({ profiles: [profile('mn1@example.net', { hnps: ['2001:db8:1:1::/64', '2001:db8:1:2::/64'] })] });
    const a = await w.addMag(MAG_A, { lifetimeS: 300 });
    w.lma.respond = () => 'drop'; // look at the BULE before any answer
    const t0 = w.clock.now();
    a.detector.attach(attachEv('mn1@example.net', { handoffIndicator: 1, accessTechType: 4, mnLinkLayerId: '02:00:5e:00:00:01' }));
    await w.advance(0);
    const pbus = w.lma.pbus();
    assert.equal(pbus.length, 1);
    const { msg: pbu, from } = pbus[0];
    assert.equal(from.address, MAG_A, 'IPv6 src = Proxy-CoA');
    assert.equal(pbu.flags & BuFlag.A, BuFlag.A, 'A');
    assert.equal(pbu.flags & BuFlag.P, BuFlag.P, 'P');
    for (const f of ['H', 'L', 'K', 'M', 'R', 'F', 'T', 'B'] as const) assert.equal(pbu.flags & BuFlag[f], 0, f);
    assert.equal(pbu.lifetime, 75, '300 s in 4-second units');
    assert.equal(naiFromMnId(getOption(pbu, 'mnId')), 'mn1@example.net');
    assert.equal(getOption(pbu, 'mnId')?.subtype, 1, 'NAI subtype');
    assert.deepEqual(
      getOptions(pbu, 'hnp').map((h) => prefixToString(h.prefix, h.prefixLen)),
      ['2001:db8:1:1::/64', '2001:db8:1:2::/64'],
    );
    assert.equal(getOption(pbu, 'handoffIndicator')?.hi, 1);
    assert.equal(getOption(pbu, 'accessTechType')?.att, 4);
    const ts = getOption(pbu, 'timestamp');
    assert.ok(ts, 'timestamp option (TimestampBasedApproachInUse default 1)');
    assert.equal(Math.floor(timestampToMs(ts.value)), t0);
    assert.deepEqual([...(getOption(pbu, 'mnLinkLayerId')?.id ?? [])], [0x02, 0, 0x5e, 0, 0, 1]);
    // Each single-instance option at most once (§8.1); no Link-local Address with the RFC 6543 default.
    for (const t of ['mnId', 'handoffIndicator', 'accessTechType', 'timestamp', 'mnLinkLayerId'] as const) assert.equal(countOptions(pbu, t), 1, t);
    assert.equal(countOptions(pbu, 'linkLocalAddress'), 0);
    assert.equal(countOptions(pbu, 'ipv4HoaRequest'), 0, 'profile has no IPv4');
    assert.equal(countOptions(pbu, 'greKey'), 0, 'profile greKeyPolicy none');
    assert.equal(countOptions(pbu, 'altCoa'), 0, 'no Alternate CoA: the source address is the Proxy-CoA');
    // §6.9.1.1 item 11: the BULE exists as soon as the PBU is sent.
    assert.equal(a.mag.view.get('mn1@example.net')?.state, 'registering');
    assert.equal(a.mag.view.get('mn1@example.net')?.lma, LMA);
  });

  it('§6.9.1.1 item 3: no prefix in the profile -> exactly one ALL_ZERO HNP', async () => {
    const w = world({ profiles: [profile('mn2@example.net')] });
    const a = await w.addMag(MAG_A);
    a.detector.attach(attachEv('mn2@example.net'));
    await w.advance(0);
    const hnps = getOptions(w.lma.lastPbu(), 'hnp');
    assert.equal(hnps.length, 1);
    assert.ok(isAllZero(hnps[0].prefix));
  });

  it('§6.9.1.1 item 4: HI defaults to 4 (unknown) when the detector cannot tell', async () => {
    const w = world({ profiles: [profile('mn3@example.net')] });
    const a = await w.addMag(MAG_A);
    a.detector.attach(attachEv('mn3@example.net'));
    await w.advance(0);
    assert.equal(getOption(w.lma.lastPbu(), 'handoffIndicator')?.hi, 4);
  });

  it('§6.9.1.1 item 7: no MN-LL-ID option when the identifier is unknown or ALL_ZERO', async () => {
    const w = world({ profiles: [profile('a@x'), profile('b@x')] });
    const a = await w.addMag(MAG_A);
    a.detector.attach(attachEv('a@x', { mnLinkLayerId: undefined }));
    a.detector.attach(attachEv('b@x', { mnLinkLayerId: '00:00:00:00:00:00' }));
    await w.advance(0);
    for (const p of w.lma.pbus()) assert.equal(countOptions(p.msg, 'mnLinkLayerId'), 0);
  });

  it('§6.9.1.1 item 9: FixedMAGLinkLocalAddressOnAllAccessLinks ALL_ZERO -> Link-local Address option ALL_ZERO', async () => {
    const w = world({ profiles: [profile('ll@x')] });
    const a = await w.addMag(MAG_A, { fixedMagLinkLocal: '::' });
    a.detector.attach(attachEv('ll@x'));
    await w.advance(0);
    const ll = getOption(w.lma.lastPbu(), 'linkLocalAddress');
    assert.ok(ll && isAllZero(ll.addr));
  });

  it('§5.5 / §6.9.1.1 item 6: sequence-number mode has no Timestamp and a per-session sequence number', async () => {
    const w = world({ profiles: [profile('s@x')] });
    const a = await w.addMag(MAG_A, { timestampMode: false });
    a.detector.attach(attachEv('s@x'));
    await w.advance(0);
    const pbu = w.lma.lastPbu();
    assert.equal(countOptions(pbu, 'timestamp'), 0);
    assert.equal(a.mag.view.get('s@x')?.seq, pbu.seq);
  });

  it('§6.9.1.1 item 6: timestamp mode fills the sequence number from one per-MAG increasing counter', async () => {
    const w = world({ profiles: [profile('c1@x'), profile('c2@x')] });
    const a = await w.addMag(MAG_A, { initialSeq: 0xfffe });
    a.detector.attach(attachEv('c1@x'));
    a.detector.attach(attachEv('c2@x'));
    await w.advance(0);
    assert.deepEqual(
      w.lma.pbus().map((p) => p.msg.seq),
      [0xffff, 0],
    );
  });

  it('H flag only when configured (homeRegistrationFlag, interop knob); F with forceUdpEncapsulation (RFC 5844 §4)', async () => {
    const w = world({ profiles: [profile('h@x')] });
    const a = await w.addMag(MAG_A, { homeRegistrationFlag: true, forceUdpEncapsulation: true });
    a.detector.attach(attachEv('h@x'));
    await w.advance(0);
    const f = w.lma.lastPbu().flags;
    assert.equal(f & BuFlag.H, BuFlag.H);
    assert.equal(f & BuFlag.F, BuFlag.F);
  });

  it('RFC 5844 §3.2.3.1: IPv4 profile -> exactly one IPv4 HoA Request (specific address, or ALL_ZERO for dynamic)', async () => {
    const w = world({
      profiles: [
        profile('v4fixed@x', { ipv4HoA: '10.1.2.3', ipv4PrefixLength: 24 }),
        profile('v4pool@x', { ipv4Pool: 'v4' }),
        profile('v4only@x', { hnpPool: null, ipv4Pool: 'v4' }),
      ],
    });
    const a = await w.addMag(MAG_A);
    for (const m of ['v4fixed@x', 'v4pool@x', 'v4only@x']) a.detector.attach(attachEv(m));
    await w.advance(0);
    const [fixed, pool, only] = w.lma.pbus().map((p) => p.msg);
    assert.equal(countOptions(fixed, 'ipv4HoaRequest'), 1);
    assert.equal(ipv4ToString(getOption(fixed, 'ipv4HoaRequest')!.addr), '10.1.2.3');
    assert.equal(getOption(fixed, 'ipv4HoaRequest')!.prefixLen, 24);
    assert.equal(getOption(pool, 'ipv4HoaRequest')!.addr, 0);
    assert.equal(getOption(pool, 'ipv4HoaRequest')!.prefixLen, 0);
    assert.equal(countOptions(pool, 'hnp'), 1, 'dual stack keeps the HNP');
    assert.equal(countOptions(only, 'hnp'), 0, 'IPv4-only: HNP options MUST NOT be present');
    assert.equal(countOptions(only, 'ipv4HoaRequest'), 1);
  });

  it('RFC 5845 §5.1: GRE Key option with a downlink key when the profile asks for GRE', async () => {
    const w = world({ profiles: [profile('g@x', { greKeyPolicy: 'required' })] });
    const a = await w.addMag(MAG_A);
    a.detector.attach(attachEv('g@x'));
    await w.advance(0);
    const gre = getOption(w.lma.lastPbu(), 'greKey');
    assert.ok(gre && typeof gre.key === 'number');
    assert.equal(a.mag.view.get('g@x')?.greKeyDownlink, gre.key);
  });

  it('§6.9.1.1 item 1: an MN without an enabled profile gets no PBU', async () => {
    const w = world({ profiles: [profile('off@x', { enabled: false })] });
    const a = await w.addMag(MAG_A);
    a.detector.attach(attachEv('off@x'));
    a.detector.attach(attachEv('unknown@x'));
    await w.advance(0);
    assert.equal(w.lma.pbus().length, 0);
    assert.equal(a.mag.counters.dropped.notEligible, 2);
    assert.deepEqual(a.events.map((e) => e.type === 'failed' && e.reason), ['not-eligible', 'not-eligible']);
  });

  it('§6.2: the LMA address comes from the profile, else from the configured default LMA', async () => {
    const w = world({ profiles: [profile('d@x', { lma: null })] });
    const a = await w.addMag(MAG_A, { defaultLma: LMA });
    a.detector.attach(attachEv('d@x'));
    await w.advance(0);
    assert.equal(w.lma.pbus().length, 1);
  });
});

describe('MN link-layer identifier text (RFC 5213 §8.6)', () => {
  it('colon, dot, dash and bare hex forms; ALL_ZERO, odd-length and non-hex give no identifier', async () => {
    const { linkLayerIdBytes, linkLayerIdText } = await import('../../src/mag/build.ts');
    for (const t of ['02:00:5e:00:00:01', '0200.5e00.0001', '02-00-5E-00-00-01', '02005e000001']) {
      assert.equal(linkLayerIdText(linkLayerIdBytes(t)!), '02:00:5e:00:00:01', t);
    }
    for (const t of ['00:00:00:00:00:00', '02:00:5', 'zz:00', '']) assert.equal(linkLayerIdBytes(t), null, t);
  });
});
