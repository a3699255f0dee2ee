// RFC 5844 §3.1.2 IPv4 home address at the LMA and RFC 5845 §5.2 GRE key handling.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { BaFlag, BaStatus, BuFlag, HandoffIndicator as HI, Ipv4HoaReplyStatus, getOption, ipv4ToString } from '../../src/mh/index.ts';
import { harness, hnpsOf, makeProfile, MAG1, MAG2, v4ReplyOf } from './driver.ts';
import type { Harness } from './driver.ts';
import type { GreKeyPolicy } from '../../src/policy/profile.ts';

const MN = 'mn1@example.net';
const P1 = '2001:db8:1:1::/64';

describe('RFC 5844 §3.1.2 IPv4 home address', () => {
  let h: Harness;
  afterEach(() => h.close());

  async function v4Harness(over: Parameters<typeof makeProfile>[1] = {}): Promise<Harness> {
    h = await harness({ profiles: [makeProfile(MN, { hnps: [P1], ipv4HoA: '10.0.0.5', ipv4PrefixLength: 24, ipv4DefaultRouter: '10.0.0.1', ...over })] });
    return h;
  }

  it('§3.1.2.2: 0.0.0.0 requested -> the profile HoA assigned; Reply status 0, Default-Router present, /32 host route', async () => {
    await v4Harness();
    const mag = h.mag();
    mag.pbu({ mnId: MN, v4: { addr: '0.0.0.0' } });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, 0);
    assert.deepEqual(v4ReplyOf(pba), { status: 0, addr: '10.0.0.5', prefixLen: 24 });
    assert.equal(ipv4ToString(getOption(pba, 'ipv4DefaultRouter')!.addr), '10.0.0.1');
    assert.deepEqual(hnpsOf(pba), [P1]);
    assert.ok(h.dp.routes.has('10.0.0.5/32'));
    assert.ok(h.dp.routes.has(P1));
    assert.equal(h.lma.bindingCount, 1, 'one BCE holds IPv4 and IPv6 state');
    assert.equal(h.lma.bindings.list().items[0].ipv4HoA, '10.0.0.5');
  });

  it('§3.1.2.6: PBU with only an IPv4 HoA Request -> PBA without any HNP option', async () => {
    await v4Harness();
    const mag = h.mag();
    mag.pbu({ mnId: MN, hnps: [], v4: { addr: '0.0.0.0' } });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, 0);
    assert.deepEqual(hnpsOf(pba), []);
    assert.equal(v4ReplyOf(pba)?.addr, '10.0.0.5');
    assert.equal(h.dp.routes.size, 1);
  });

  it('§3.1.2.2: the specific authorised address -> accepted; another one -> 171 with Reply status 129, no Default-Router', async () => {
    await v4Harness();
    const mag = h.mag();
    mag.pbu({ mnId: MN, v4: { addr: '10.0.0.9', prefixLen: 24 } });
    await h.settle();
    const rej = mag.pba();
    assert.equal(rej.status, BaStatus.NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS);
    assert.deepEqual(v4ReplyOf(rej), { status: Ipv4HoaReplyStatus.ADMINISTRATIVELY_PROHIBITED, addr: '10.0.0.9', prefixLen: 24 });
    assert.equal(getOption(rej, 'ipv4DefaultRouter'), undefined);
    mag.pbu({ mnId: MN, v4: { addr: '10.0.0.5', prefixLen: 24 } });
    await h.settle();
    assert.equal(mag.pba().status, 0);
  });

  it('§3.1.2.1: IPv4 request for an MN without IPv4 service -> 170; HNP for an MN without IPv6 -> 172', async () => {
    h = await harness({ profiles: [makeProfile(MN, { hnps: [P1] }), makeProfile('v4only@example.net', { ipv4HoA: '10.0.0.7' })] });
    const mag = h.mag();
    mag.pbu({ mnId: MN, v4: { addr: '0.0.0.0' } });
    mag.pbu({ mnId: 'v4only@example.net' });
    await h.settle();
    const a = mag.pba();
    const b = mag.pba();
    assert.equal(a.status, BaStatus.NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE);
    assert.equal(v4ReplyOf(a)?.status, Ipv4HoaReplyStatus.ADMINISTRATIVELY_PROHIBITED);
    assert.equal(b.status, BaStatus.NOT_AUTHORIZED_FOR_IPV6_MOBILITY_SERVICE);
  });

  it('§3.1.2.1: two IPv4 HoA Request options -> 173', async () => {
    await v4Harness();
    const mag = h.mag();
    mag.pbu({ mnId: MN, v4: [{ addr: '0.0.0.0' }, { addr: '0.0.0.0' }] });
    await h.settle();
    assert.equal(mag.pba().status, BaStatus.MULTIPLE_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_SUPPORTED);
  });

  it('§3.1.2.2: no address to assign (pool allowed but nothing assigned) -> 130 with Reply status 128', async () => {
    await v4Harness({ ipv4HoA: null, ipv4Pool: 'v4pool' });
    const mag = h.mag();
    mag.pbu({ mnId: MN, v4: { addr: '0.0.0.0' } });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, BaStatus.INSUFFICIENT_RESOURCES);
    assert.equal(v4ReplyOf(pba)?.status, Ipv4HoaReplyStatus.FAILURE_REASON_UNSPECIFIED);
  });

  it('§3.1.2.7: lookup by a NON_ZERO IPv4 HoA alone (re-registration and handoff)', async () => {
    await v4Harness();
    const m1 = h.mag(MAG1);
    m1.pbu({ mnId: MN, hnps: [], v4: { addr: '0.0.0.0' } });
    await h.settle();
    m1.pba();
    const m2 = h.mag(MAG2);
    m2.pbu({ mnId: MN, hnps: [], v4: { addr: '10.0.0.5', prefixLen: 24 }, hi: HI.HANDOFF_BETWEEN_MAGS });
    await h.settle();
    assert.equal(m2.pba().status, 0);
    assert.equal(h.lma.bindingCount, 1);
    assert.equal(h.dp.tunnels.get(h.dp.routes.get('10.0.0.5/32')!)!.remote, MAG2);
  });

  it('§3.1.2.4: a handoff PBU without HNPs extends IPv4 only and releases the IPv6 prefixes', async () => {
    await v4Harness();
    const m1 = h.mag(MAG1);
    m1.pbu({ mnId: MN, v4: { addr: '0.0.0.0' } });
    await h.settle();
    m1.pba();
    const m2 = h.mag(MAG2);
    m2.pbu({ mnId: MN, hnps: [], v4: { addr: '10.0.0.5', prefixLen: 24 }, hi: HI.HANDOFF_BETWEEN_MAGS });
    await h.settle();
    assert.equal(m2.pba().status, 0);
    const b = h.lma.bindings.list().items[0];
    assert.deepEqual(b.hnps, []);
    assert.equal(b.ipv4HoA, '10.0.0.5');
    assert.ok(!h.dp.routes.has(P1));
  });

  it('§3.1.2.5: selective de-registration of IPv4 keeps the BCE and its IPv6 state', async () => {
    await v4Harness();
    const mag = h.mag();
    mag.pbu({ mnId: MN, v4: { addr: '0.0.0.0' } });
    await h.settle();
    mag.pba();
    mag.pbu({ mnId: MN, hnps: [], v4: { addr: '10.0.0.5', prefixLen: 24 }, lifetime: 0, hi: HI.UNKNOWN });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, 0);
    assert.equal(h.lma.bindingCount, 1);
    const b = h.lma.bindings.list().items[0];
    assert.equal(b.state, 'active');
    assert.equal(b.ipv4HoA, null);
    assert.deepEqual(b.hnps, [P1]);
    assert.ok(!h.dp.routes.has('10.0.0.5/32'));
    assert.ok(h.dp.routes.has(P1));
  });

  it('§3.1.2.1 (last bullet): adding IPv4 to an IPv6-only session in a re-registration', async () => {
    await v4Harness();
    const mag = h.mag();
    mag.pbu({ mnId: MN });
    await h.settle();
    mag.pba();
    mag.pbu({ mnId: MN, hnps: [P1], v4: { addr: '0.0.0.0' }, hi: HI.NOT_CHANGED });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, 0);
    assert.equal(v4ReplyOf(pba)?.addr, '10.0.0.5');
    assert.ok(h.dp.routes.has('10.0.0.5/32'));
  });
});

describe('RFC 5845 §5.2 GRE key option', () => {
  let h: Harness;
  afterEach(() => h.close());

  async function greHarness(policy: GreKeyPolicy): Promise<Harness> {
    h = await harness({ profiles: [makeProfile(MN, { hnps: [P1], greKeyPolicy: policy })] });
    return h;
  }

  it('§5.2: GRE Key option but GRE not needed (policy none) -> status 2, no GRE Key option', async () => {
    await greHarness('none');
    const mag = h.mag();
    mag.pbu({ mnId: MN, gre: 0x1111 });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, BaStatus.GRE_KEY_OPTION_NOT_REQUIRED);
    assert.equal(getOption(pba, 'greKey'), undefined);
    assert.equal([...h.dp.tunnels.values()][0].encap, 'ip6ip6');
  });

  it('§5.2: GRE required and no option -> 163', async () => {
    await greHarness('required');
    const mag = h.mag();
    mag.pbu({ mnId: MN });
    await h.settle();
    assert.equal(mag.pba().status, BaStatus.GRE_KEY_OPTION_REQUIRED);
  });

  it('§3.3.1: downlink key in the PBU -> uplink key in the PBA, GRE tunnel with both keys', async () => {
    await greHarness('optional');
    const mag = h.mag();
    mag.pbu({ mnId: MN, gre: 0xabcd });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, 0);
    const up = getOption(pba, 'greKey')!.key;
    assert.equal(typeof up, 'number');
    const t = [...h.dp.tunnels.values()][0];
    assert.deepEqual({ encap: t.encap, in: t.greKeyIn, out: t.greKeyOut }, { encap: 'gre', in: up, out: 0xabcd });
  });

  it('§3.3.2: the uplink key stays the same across re-registration and handoff', async () => {
    await greHarness('required');
    const m1 = h.mag(MAG1);
    m1.pbu({ mnId: MN, gre: 1 });
    await h.settle();
    const up = getOption(m1.pba(), 'greKey')!.key;
    m1.pbu({ mnId: MN, gre: 1, hnps: [P1], hi: HI.NOT_CHANGED });
    await h.settle();
    assert.equal(getOption(m1.pba(), 'greKey')!.key, up);
    const m2 = h.mag(MAG2);
    m2.pbu({ mnId: MN, gre: 2, hnps: [P1], hi: HI.HANDOFF_BETWEEN_MAGS });
    await h.settle();
    const pba = m2.pba();
    assert.equal(pba.status, 0);
    assert.equal(getOption(pba, 'greKey')!.key, up);
    assert.equal(h.dp.tunnels.size, 1);
    assert.equal([...h.dp.tunnels.values()][0].greKeyOut, 2, 'the new MAG downlink key');
  });

  it('§3.3.2: handoff PBU without the option for a GRE session: required -> 163; optional -> accepted without GRE', async () => {
    await greHarness('required');
    const m1 = h.mag(MAG1);
    m1.pbu({ mnId: MN, gre: 1 });
    await h.settle();
    m1.pba();
    const m2 = h.mag(MAG2);
    m2.pbu({ mnId: MN, hnps: [P1], hi: HI.HANDOFF_BETWEEN_MAGS });
    await h.settle();
    assert.equal(m2.pba().status, BaStatus.GRE_KEY_OPTION_REQUIRED);
    await h.close();

    await greHarness('optional');
    const a = h.mag(MAG1);
    a.pbu({ mnId: MN, gre: 1 });
    await h.settle();
    a.pba();
    const b = h.mag(MAG2);
    b.pbu({ mnId: MN, hnps: [P1], hi: HI.HANDOFF_BETWEEN_MAGS });
    await h.settle();
    const pba = b.pba();
    assert.equal(pba.status, 0);
    assert.equal(getOption(pba, 'greKey'), undefined);
    assert.equal([...h.dp.tunnels.values()][0].encap, 'ip6ip6');
  });

  it('§3.2: GRE Key option without a key (Length 2) -> GRE mode only, option echoed without a key', async () => {
    await greHarness('optional');
    const mag = h.mag();
    mag.pbu({ mnId: MN, gre: null });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, 0);
    assert.deepEqual(getOption(pba, 'greKey'), { type: 'greKey', key: null });
    assert.equal([...h.dp.tunnels.values()][0].encap, 'gre');
    assert.equal([...h.dp.tunnels.values()][0].greKeyIn, undefined);
  });

  it('§7.2: T flag without TLV-header support -> status 3 and T clear in the PBA', async () => {
    await greHarness('optional');
    const mag = h.mag();
    mag.pbu({ mnId: MN, gre: 7, flags: BuFlag.A | BuFlag.P | BuFlag.T });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, BaStatus.GRE_TUNNELING_BUT_TLV_HEADER_NOT_SUPPORTED);
    assert.equal(pba.flags & BaFlag.T, 0);
    assert.equal(typeof getOption(pba, 'greKey')!.key, 'number');
  });

  it('§5.2: de-registration cleans up the GRE tunnel with the binding', async () => {
    await greHarness('optional');
    const mag = h.mag();
    mag.pbu({ mnId: MN, gre: 9 });
    await h.settle();
    mag.pba();
    mag.pbu({ mnId: MN, hnps: [P1], hi: HI.UNKNOWN, lifetime: 0 });
    await h.settle();
    assert.equal(mag.pba().status, 0);
    assert.equal(h.dp.tunnels.size, 0);
  });
});
