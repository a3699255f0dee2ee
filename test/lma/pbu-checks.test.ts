// RFC 5213 §5.3.1 (every check, in order, with its status) and §5.3.6 (PBA construction).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { BaFlag, BaStatus, BuFlag, MnIdSubtype, getOption, ipv6ToString, timestampToMs } from '../../src/mh/index.ts';
import { harness, hnpsOf, makeProfile, MAG1 } from './driver.ts';
import type { Harness } from './driver.ts';

const MN = 'mn1@example.net';
const HNP = '2001:db8:1:1::/64';

describe('RFC 5213 §5.3.1 PBU processing order', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness({ profiles: [makeProfile(MN, { hnps: [HNP] })] });
  });
  afterEach(() => h.close());

  async function status(spec: Parameters<ReturnType<Harness['mag']>['pbu']>[0], mag = h.mag()): Promise<number> {
    mag.pbu(spec);
    await h.settle();
    return mag.pba().status;
  }

  it('§5.3.1 step 4: no MN-ID option -> 160 with a zero-length MN-ID in the PBA', async () => {
    const mag = h.mag();
    mag.pbu({ mnId: null, hi: null, att: null }); // step 4 comes before everything else
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, BaStatus.MISSING_MN_IDENTIFIER_OPTION);
    const id = getOption(pba, 'mnId');
    assert.ok(id);
    assert.equal(id.id.length, 0);
    assert.equal(id.subtype, MnIdSubtype.NAI);
    assert.equal(h.policy.profileCalls + h.policy.magCalls, 0, 'no policy lookup for a PBU without MN-ID');
  });

  it('§5.3.1 steps 5-6: MAG not authorised -> 154 (before 153 for an unknown MN)', async () => {
    h.policy.mags.clear();
    h.policy.mags.add('2001:db8:cccc::1');
    assert.equal(await status({ mnId: 'nobody@example.net' }), BaStatus.MAG_NOT_AUTHORIZED_FOR_PROXY_REG);
  });

  it('§5.3.1 step 7: unknown MN -> 153 (before 152 and the ordering check)', async () => {
    assert.equal(await status({ mnId: 'nobody@example.net', ts: 1 }), BaStatus.NOT_LMA_FOR_THIS_MOBILE_NODE);
  });

  it('§5.3.1 step 7: profile anchored at another LMA -> 153 when servedLmaNames is set', async () => {
    const h2 = await harness({ config: { servedLmaNames: ['lma-a'] }, profiles: [makeProfile(MN, { hnps: [HNP], lma: 'lma-b' })] });
    const mag = h2.mag();
    mag.pbu({ mnId: MN });
    await h2.settle();
    assert.equal(mag.pba().status, BaStatus.NOT_LMA_FOR_THIS_MOBILE_NODE);
    await h2.close();
  });

  it('§5.3.1 step 8: MN not enabled for network-based mobility -> 152 (before the ordering check)', async () => {
    h.policy.add(makeProfile('off@example.net', { hnps: ['2001:db8:9::/64'], enabled: false }));
    assert.equal(await status({ mnId: 'off@example.net', ts: 1 }), BaStatus.PROXY_REG_NOT_ENABLED);
  });

  it('§5.3.1 step 9 comes before step 10: a stale timestamp wins over a missing HNP', async () => {
    assert.equal(await status({ mnId: MN, ts: 1, hnps: [] }), BaStatus.TIMESTAMP_MISMATCH);
  });

  it('§5.3.1 step 10: no HNP option (and no IPv4 HoA Request) -> 158 with one ALL_ZERO HNP echoed', async () => {
    const mag = h.mag();
    mag.pbu({ mnId: MN, hnps: [], hi: null });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, BaStatus.MISSING_HOME_NETWORK_PREFIX_OPTION);
    assert.deepEqual(hnpsOf(pba), ['::/0']);
  });

  it('§5.3.1 step 11: no Handoff Indicator -> 161, PBA HI = 0', async () => {
    const mag = h.mag();
    mag.pbu({ mnId: MN, hi: null, att: null });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, BaStatus.MISSING_HANDOFF_INDICATOR_OPTION);
    assert.equal(getOption(pba, 'handoffIndicator')?.hi, 0);
  });

  it('§5.3.1 step 12: no Access Technology Type -> 162, PBA ATT = 0', async () => {
    const mag = h.mag();
    mag.pbu({ mnId: MN, att: null });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, BaStatus.MISSING_ACCESS_TECH_TYPE_OPTION);
    assert.equal(getOption(pba, 'accessTechType')?.att, 0);
  });

  it('§5.3.1 step 13 / §5.3.2: a valid PBU is accepted with status 0', async () => {
    assert.equal(await status({ mnId: MN }), BaStatus.ACCEPTED);
    assert.equal(h.lma.bindingCount, 1);
  });

  it('RFC 6275 §9.2: a BU without the P flag is not a PBU: dropped and counted', async () => {
    const mag = h.mag();
    mag.pbu({ mnId: MN, flags: BuFlag.A | BuFlag.H });
    await h.settle();
    assert.equal(mag.take(), undefined);
    assert.equal(h.lma.counters.dropped['bu-not-proxy'], 1);
  });

  it('RFC 6275 §10.3.1: A = 0 and accepted -> no PBA; rejected -> PBA anyway', async () => {
    const mag = h.mag();
    mag.pbu({ mnId: MN, flags: BuFlag.P });
    await h.settle();
    assert.equal(mag.take(), undefined);
    assert.equal(h.lma.bindingCount, 1);
    mag.pbu({ mnId: 'nobody@example.net', flags: BuFlag.P });
    await h.settle();
    assert.equal(mag.pba().status, BaStatus.NOT_LMA_FOR_THIS_MOBILE_NODE);
  });
});

describe('RFC 5213 §5.3.6 PBA construction', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness({ profiles: [makeProfile(MN, { hnps: [HNP, '2001:db8:1:2::/64'] })] });
  });
  afterEach(() => h.close());

  it('§5.3.6: P flag, sequence number copied, MN-ID/HI/ATT copied, assigned HNPs, timestamp echoed', async () => {
    const mag = h.mag();
    const sent = mag.pbu({ mnId: MN, seq: 4242, hi: 1, att: 3 });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, 0);
    assert.equal(pba.flags & BaFlag.P, BaFlag.P);
    assert.equal(pba.seq, 4242);
    assert.equal(pba.lifetime, 75); // 300 s
    assert.equal(Buffer.from(getOption(pba, 'mnId')!.id).toString(), MN);
    assert.equal(getOption(pba, 'handoffIndicator')?.hi, 1);
    assert.equal(getOption(pba, 'accessTechType')?.att, 3);
    assert.deepEqual(hnpsOf(pba).sort(), [HNP, '2001:db8:1:2::/64']);
    assert.equal(getOption(pba, 'timestamp')?.value, getOption(sent, 'timestamp')?.value);
    assert.equal(getOption(pba, 'mnLinkLayerId'), undefined);
    assert.equal(getOption(pba, 'linkLocalAddress'), undefined);
  });

  it('§5.3.6: no Timestamp in the PBU -> none in the PBA; MN-LL-ID copied when present', async () => {
    const mag = h.mag();
    mag.pbu({ mnId: MN, ts: null, llId: '02:00:00:00:00:01' });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, 0);
    assert.equal(getOption(pba, 'timestamp'), undefined);
    assert.equal(Buffer.from(getOption(pba, 'mnLinkLayerId')!.id).toString('hex'), '020000000001');
  });

  it('§5.3.6: rejected -> every HNP of the request echoed, lifetime 0', async () => {
    const mag = h.mag();
    mag.pbu({ mnId: MN, hnps: ['2001:db8:77::/64', '2001:db8:78::/64'] });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, BaStatus.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX);
    assert.deepEqual(hnpsOf(pba), ['2001:db8:77::/64', '2001:db8:78::/64']);
    assert.equal(pba.lifetime, 0);
  });

  it('§5.3.6: rejected with a Timestamp -> the PBU timestamp echoed (156/157 aside)', async () => {
    const mag = h.mag();
    const sent = mag.pbu({ mnId: 'nobody@example.net' });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, BaStatus.NOT_LMA_FOR_THIS_MOBILE_NODE);
    assert.equal(getOption(pba, 'timestamp')?.value, getOption(sent, 'timestamp')?.value);
  });

  it('§5.3.6: Link-local Address ALL_ZERO, no BCE -> LMA generates one and keeps it for the session', async () => {
    const mag = h.mag();
    mag.pbu({ mnId: MN, lla: '::' });
    await h.settle();
    const lla1 = getOption(mag.pba(), 'linkLocalAddress')!.addr;
    assert.equal(lla1[0], 0xfe);
    assert.equal(lla1[1] & 0xc0, 0x80);
    mag.pbu({ mnId: MN, lla: '::', hnps: [HNP, '2001:db8:1:2::/64'], hi: 5 });
    await h.settle();
    const lla2 = getOption(mag.pba(), 'linkLocalAddress')!.addr;
    assert.deepEqual(Buffer.from(lla2), Buffer.from(lla1), 'ALL_ZERO + existing BCE -> the BCE value');
    assert.equal(h.lma.bindings.list().items[0].magLinkLocalAddress, ipv6ToString(lla1));
  });

  it('§5.3.6: Link-local Address NON_ZERO -> echoed and stored; rejected -> request echoed', async () => {
    const mag = h.mag();
    mag.pbu({ mnId: MN, lla: 'fe80::1234' });
    await h.settle();
    const pba = mag.pba();
    assert.equal(ipv6ToString(getOption(pba, 'linkLocalAddress')!.addr), 'fe80::1234');
    assert.equal(h.lma.bindings.list().items[0].magLinkLocalAddress, 'fe80::1234');
    mag.pbu({ mnId: 'nobody@example.net', lla: '::' });
    await h.settle();
    const rej = mag.pba();
    assert.equal(rej.status, BaStatus.NOT_LMA_FOR_THIS_MOBILE_NODE);
    assert.equal(ipv6ToString(getOption(rej, 'linkLocalAddress')!.addr), '::');
  });

  it('§5.3.6 / RFC 5844 §4.1.3.2: the PBA goes to the PBU source (address and port) from the PBU destination', async () => {
    h.hub.record = true;
    const mag = h.mag(MAG1, 40000);
    mag.pbu({ mnId: MN });
    await h.settle();
    const pba = h.hub.sent.find((s) => s.data[2] === 6)!;
    assert.deepEqual(pba.to, { address: MAG1, port: 40000 });
    assert.equal(pba.from.address, '2001:db8:ffff::1');
    assert.equal(pba.data.readUInt16BE(4), 0, 'MH checksum left 0 (kernel or UDP checksum)');
  });

  it('RFC 5213 §5.5: 156 and 157 carry the LMA current time of day', async () => {
    const mag = h.mag();
    mag.pbu({ mnId: MN, ts: h.clock.now() - 10_000 });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, BaStatus.TIMESTAMP_MISMATCH);
    assert.ok(Math.abs(timestampToMs(getOption(pba, 'timestamp')!.value) - h.clock.now()) < 1);
  });
});
