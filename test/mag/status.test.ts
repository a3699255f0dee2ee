// PBA processing (RFC 5213 §6.9.1.2) for every status, and PBA matching.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countOptions, getOption, getOptions, isAllZero, mnIdFromNai, prefixToString } from '../../src/mh/index.ts';
import type { BindingUpdate } from '../../src/mh/index.ts';
import { MAG_A, attachEv, profile, world } from './harness.ts';

/** The fake LMA answers the first `n` registrations with `status`, then normally. */
function firstWith(status: number, n = 1) {
  let left = n;
  return (pbu: BindingUpdate) => {
    if (pbu.lifetime > 0 && left > 0) {
      left--;
      return { status };
    }
    return 'default' as const;
  };
}

describe('RFC 5213 §6.9.1.2 PBA matching', () => {
  it('item 5: a PBA with a sequence number we did not send is ignored; retransmission continues', async () => {
    const w = world({ profiles: [profile('m@x')] });
    const a = await w.addMag(MAG_A);
    let first = true;
    w.lma.respond = (pbu) => {
      if (first) {
        first = false;
        return { seq: (pbu.seq + 77) & 0xffff };
      }
      return 'default';
    };
    a.detector.attach(attachEv('m@x'));
    await w.advance(0);
    assert.equal(a.view().state, 'registering');
    assert.equal(a.mag.counters.dropped.unmatched, 1);
    assert.equal(a.dp.routes.size, 0);
    await w.advance(1000);
    assert.equal(a.view().state, 'registered', 'the retransmission was answered properly');
  });

  it('item 5: a PBA for an MN-ID with no outstanding PBU, or from another address, is ignored', async () => {
    const w = world({ profiles: [profile('m2@x')] });
    const a = await w.addMag(MAG_A);
    w.lma.respond = () => ({ mapOptions: (o) => o.map((x) => (x.type === 'mnId' ? mnIdFromNai('other@x') : x)) });
    a.detector.attach(attachEv('m2@x'));
    await w.advance(0);
    assert.equal(a.mag.counters.dropped.unmatched, 1);
    assert.equal(a.view('m2@x').state, 'registering');
  });

  it('item 6: a PBA echoing a different HI is ignored and the PBU is not retransmitted (held)', async () => {
    const w = world({ profiles: [profile('hi@x')] });
    const a = await w.addMag(MAG_A);
    w.lma.respond = () => ({ mapOptions: (o) => o.map((x) => (x.type === 'handoffIndicator' ? { type: 'handoffIndicator', hi: 2 } : x)) });
    a.detector.attach(attachEv('hi@x', { handoffIndicator: 1 }));
    await w.advance(0);
    assert.equal(a.view().state, 'held');
    assert.equal(a.mag.counters.dropped.optionMismatch, 1);
    await w.advance(60_000);
    assert.equal(w.lma.pbus().length, 1, 'no retransmission until administrative action');
    assert.equal(a.dp.routes.size, 0);
    w.lma.respond = null;
    assert.equal(await a.mag.adminReset('hi@x'), true);
    await w.advance(0);
    assert.equal(a.view().state, 'registered');
  });

  it('item 6: mismatching ATT or MN-LL-ID are ignored the same way', async () => {
    const w = world({ profiles: [profile('att@x'), profile('ll@x')] });
    const a = await w.addMag(MAG_A);
    w.lma.respond = (pbu) =>
      getOption(pbu, 'mnId') && Buffer.from(getOption(pbu, 'mnId')!.id).toString() === 'att@x'
        ? { mapOptions: (o) => o.map((x) => (x.type === 'accessTechType' ? { type: 'accessTechType', att: 8 } : x)) }
        : { mapOptions: (o) => o.map((x) => (x.type === 'mnLinkLayerId' ? { type: 'mnLinkLayerId', id: Buffer.from('020000000099', 'hex') } : x)) };
    a.detector.attach(attachEv('att@x', { link: 'p1' }));
    a.detector.attach(attachEv('ll@x', { link: 'p2' }));
    await w.advance(0);
    assert.equal(a.view('att@x').state, 'held');
    assert.equal(a.view('ll@x').state, 'held');
  });

  it('§5.5: an accepted PBA whose Timestamp is not the one we sent is ignored', async () => {
    const w = world({ profiles: [profile('ts@x')] });
    const a = await w.addMag(MAG_A);
    let once = true;
    w.lma.respond = () => {
      if (!once) return 'default';
      once = false;
      return { mapOptions: (o) => o.map((x) => (x.type === 'timestamp' ? { type: 'timestamp', value: x.value - 65536n } : x)) };
    };
    a.detector.attach(attachEv('ts@x'));
    await w.advance(0);
    assert.equal(a.mag.counters.dropped.timestamp, 1);
    assert.equal(a.view().state, 'registering');
  });

  it('a BA without the P flag is not a PBA: dropped', async () => {
    const w = world({ profiles: [profile('np@x')] });
    const a = await w.addMag(MAG_A);
    w.lma.respond = () => ({ flags: 0 });
    a.detector.attach(attachEv('np@x'));
    await w.advance(0);
    assert.equal(a.mag.counters.dropped.notProxy, 1);
    assert.equal(a.view().state, 'registering');
  });
});

describe('RFC 5213 §6.9.1.2 status codes', () => {
  it('item 7: 152 PROXY_REG_NOT_ENABLED: service denied, no further PBU for the MN until administrative action', async () => {
    const w = world({ profiles: [profile('p152@x')] });
    const a = await w.addMag(MAG_A);
    w.lma.respond = firstWith(152);
    a.detector.attach(attachEv('p152@x'));
    await w.advance(0);
    assert.equal(a.mag.view.size(), 0);
    assert.deepEqual(a.events.at(-1), { type: 'failed', mnId: 'p152@x', link: 'ap0', lma: w.lma.address, status: 152, reason: 'rejected' });
    a.detector.attach(attachEv('p152@x'));
    await w.advance(10_000);
    assert.equal(w.lma.pbus().length, 1, 'blocked');
    assert.equal(a.mag.counters.dropped.blocked, 1);
    await a.mag.adminReset('p152@x');
    a.detector.attach(attachEv('p152@x'));
    await w.advance(0);
    assert.equal(a.view().state, 'registered');
  });

  it('item 8: 157 TIMESTAMP_LOWER_THAN_PREV_ACCEPTED: re-register at once with a newer timestamp', async () => {
    const w = world({ profiles: [profile('p157@x')] });
    const a = await w.addMag(MAG_A);
    w.lma.respond = firstWith(157);
    a.detector.attach(attachEv('p157@x'));
    await w.advance(0);
    const [p1, p2] = w.lma.pbus().map((p) => p.msg);
    assert.ok(getOption(p2, 'timestamp')!.value > getOption(p1, 'timestamp')!.value);
    assert.equal(getOption(p2, 'handoffIndicator')?.hi, getOption(p1, 'handoffIndicator')?.hi);
    assert.equal(a.view().state, 'registered');
    assert.deepEqual(a.events.map((e) => e.type), ['registered']);
  });

  it('item 8: repeated 157s are bounded (maxStatusRetries), then the registration fails', async () => {
    const w = world({ profiles: [profile('loop@x')] });
    const a = await w.addMag(MAG_A, { maxStatusRetries: 2 });
    w.lma.respond = firstWith(157, 100);
    a.detector.attach(attachEv('loop@x'));
    await w.advance(5000);
    assert.equal(w.lma.pbus().length, 3);
    assert.equal(a.mag.view.size(), 0);
    assert.equal(a.mag.counters.pbaStatus[157], 3);
  });

  it('item 9: 156 TIMESTAMP_MISMATCH: re-register only after the time-sync hook reports the clock synced', async () => {
    const w = world({ profiles: [profile('p156@x')] });
    let synced!: (ok: boolean) => void;
    let asked = 0;
    const a = await w.addMag(MAG_A);
    // Replace the MAG with one that has a timeSync hook.
    await a.mag.stop();
    const { Mag } = await import('../../src/mag/index.ts');
    const { ManualDetector } = await import('../../src/attach/manual.ts');
    const { RecordingDataPlane } = await import('../../src/dataplane/recording.ts');
    const { mapPolicy } = await import('../../src/mag/index.ts');
    const det = new ManualDetector();
    const mag = new Mag(
      { proxyCoa: '2001:db8:c::1', heartbeatIntervalS: 0 },
      {
        clock: w.clock,
        transport: w.hub.endpoint('2001:db8:c::1'),
        dataPlane: new RecordingDataPlane(),
        policy: mapPolicy([profile('p156@x')]),
        detector: det,
        timeSync: () => {
          asked++;
          return new Promise<boolean>((r) => (synced = r));
        },
      },
    );
    await mag.start();
    w.lma.respond = firstWith(156);
    det.attach(attachEv('p156@x'));
    await w.advance(10_000);
    assert.equal(asked, 1);
    assert.equal(w.lma.pbus().length, 1, 'nothing sent before the clock is synced');
    assert.equal(mag.view.get('p156@x')?.state, 'registering');
    synced(true);
    await w.advance(0);
    assert.equal(w.lma.pbus().length, 2);
    assert.equal(mag.view.get('p156@x')?.state, 'registered');
  });

  it('item 9: 156 without a time-sync hook: re-register after resyncDelayMs', async () => {
    const w = world({ profiles: [profile('p156b@x')] });
    const a = await w.addMag(MAG_A, { resyncDelayMs: 5000 });
    w.lma.respond = firstWith(156);
    a.detector.attach(attachEv('p156b@x'));
    await w.advance(4000);
    assert.equal(w.lma.pbus().length, 1);
    await w.advance(1000);
    assert.equal(w.lma.pbus().length, 2);
    assert.equal(a.view().state, 'registered');
  });

  it('item 10: 155 NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX: retry with one ALL_ZERO HNP, not the same prefix', async () => {
    const w = world({ profiles: [profile('p155@x', { hnps: ['2001:db8:99::/64'] })] });
    const a = await w.addMag(MAG_A);
    w.lma.respond = firstWith(155);
    a.detector.attach(attachEv('p155@x'));
    await w.advance(0);
    const retry = w.lma.lastPbu();
    const hnps = getOptions(retry, 'hnp');
    assert.equal(hnps.length, 1);
    assert.ok(isAllZero(hnps[0].prefix));
    assert.equal(a.view().state, 'registered');
    assert.deepEqual(a.view().hnps, ['2001:db8:1::/64']);
  });

  it('item 11: any other status >= 128 denies service: no routes, BULE removed, failed(status)', async () => {
    for (const status of [128, 129, 130, 153, 154, 158, 159, 160, 161, 162, 173, 174, 200]) {
      const w = world({ profiles: [profile('rej@x')] });
      const a = await w.addMag(MAG_A);
      w.lma.respond = firstWith(status);
      a.detector.attach(attachEv('rej@x'));
      await w.advance(10_000);
      assert.equal(a.mag.view.size(), 0, `status ${status}`);
      assert.equal(a.dp.routes.size, 0);
      assert.equal(a.dp.tunnels.size, 0);
      assert.equal(w.lma.pbus().length, 1, `no retry for ${status}`);
      assert.deepEqual(a.events.at(-1), { type: 'failed', mnId: 'rej@x', link: 'ap0', lma: w.lma.address, status, reason: 'rejected' });
      assert.equal(a.mag.counters.pbaStatus[status], 1);
    }
  });

  it('a refresh rejected with >= 128 removes the routes of the existing binding', async () => {
    const w = world({ profiles: [profile('rr@x')] });
    const a = await w.addMag(MAG_A, { lifetimeS: 40 });
    a.detector.attach(attachEv('rr@x'));
    await w.advance(0);
    assert.equal(a.dp.routes.size, 1);
    w.lma.respond = () => ({ status: 130 });
    await w.advance(30_000);
    assert.equal(a.dp.routes.size, 0);
    assert.equal(a.mag.view.size(), 0);
  });

  it('RFC 6275 §11.7.3: 135 in sequence-number mode: continue from the LMA\'s sequence number', async () => {
    const w = world({ profiles: [profile('s135@x')] });
    const a = await w.addMag(MAG_A, { timestampMode: false });
    let first = true;
    w.lma.respond = () => {
      if (!first) return 'default';
      first = false;
      return { status: 135, seq: 5000 };
    };
    a.detector.attach(attachEv('s135@x'));
    await w.advance(0);
    assert.equal(w.lma.lastPbu().seq, 5001);
    assert.equal(a.view().state, 'registered');
  });
});

describe('RFC 5845 §5.1 GRE key statuses', () => {
  it('status 0 with the GRE Key option: GRE tunnel with our downlink and the LMA\'s uplink key', async () => {
    const w = world({ profiles: [profile('g0@x', { greKeyPolicy: 'optional' })] });
    const a = await w.addMag(MAG_A);
    a.detector.attach(attachEv('g0@x'));
    await w.advance(0);
    const e = a.view();
    assert.equal(e.greKeyUplink, w.lma.bces.get('g0@x')?.greUp);
    const spec = [...a.dp.tunnels.values()][0];
    assert.deepEqual(spec, { local: MAG_A, remote: w.lma.address, encap: 'gre', greKeyIn: e.greKeyDownlink, greKeyOut: e.greKeyUplink });
    // Re-registration keeps sending the downlink key.
    await w.advance(240_000);
    assert.equal(getOption(w.lma.lastPbu(), 'greKey')?.key, e.greKeyDownlink);
  });

  it('163 GRE_KEY_OPTION_REQUIRED: resend with the GRE Key option', async () => {
    const w = world({ profiles: [profile('g163@x')] });
    const a = await w.addMag(MAG_A);
    w.lma.respond = firstWith(163);
    a.detector.attach(attachEv('g163@x'));
    await w.advance(0);
    const [p1, p2] = w.lma.pbus().map((p) => p.msg);
    assert.equal(countOptions(p1, 'greKey'), 0);
    assert.equal(countOptions(p2, 'greKey'), 1);
    assert.equal(a.view().state, 'registered');
    assert.equal([...a.dp.tunnels.values()][0].encap, 'gre');
  });

  it('2 GRE_KEY_OPTION_NOT_REQUIRED: accepted without GRE, and the option is not sent again', async () => {
    const w = world({ profiles: [profile('g2@x', { greKeyPolicy: 'optional' })] });
    const a = await w.addMag(MAG_A, { lifetimeS: 40 });
    w.lma.respond = (pbu) => (pbu.lifetime > 0 ? { status: 2, mapOptions: (o) => o.filter((x) => x.type !== 'greKey') } : 'default');
    a.detector.attach(attachEv('g2@x'));
    await w.advance(0);
    assert.equal(a.view().state, 'registered');
    assert.equal([...a.dp.tunnels.values()][0].encap, 'ip6ip6');
    await w.advance(30_000);
    assert.equal(w.lma.pbus().length, 2);
    assert.equal(countOptions(w.lma.lastPbu(), 'greKey'), 0);
  });

  it('success without the GRE Key option: the LMA does not support it; stop offering it to that LMA', async () => {
    const w = world({ profiles: [profile('gn1@x', { greKeyPolicy: 'optional' }), profile('gn2@x', { greKeyPolicy: 'optional' })] });
    const a = await w.addMag(MAG_A);
    w.lma.respond = () => ({ mapOptions: (o) => o.filter((x) => x.type !== 'greKey') });
    a.detector.attach(attachEv('gn1@x', { link: 'p1' }));
    await w.advance(0);
    a.detector.attach(attachEv('gn2@x', { link: 'p2' }));
    await w.advance(0);
    assert.equal(countOptions(w.lma.lastPbu(), 'greKey'), 0);
    assert.equal(a.mag.view.lmas()[0].greSupported, false);
  });

  it('de-registration PBUs do not carry the GRE Key option', async () => {
    const w = world({ profiles: [profile('gd@x', { greKeyPolicy: 'required' })] });
    const a = await w.addMag(MAG_A);
    a.detector.attach(attachEv('gd@x'));
    await w.advance(0);
    a.detector.detach({ mnId: 'gd@x', link: 'ap0' });
    await w.advance(0);
    assert.equal(w.lma.lastPbu().lifetime, 0);
    assert.equal(countOptions(w.lma.lastPbu(), 'greKey'), 0);
    assert.equal(a.dp.tunnels.size, 0);
  });
});

describe('RFC 5844 §3.2.3.2 IPv4 statuses', () => {
  it('status 0 with an accepted IPv4 HoA Reply: IPv4 host route over the tunnel, default router recorded', async () => {
    const w = world({ profiles: [profile('v4@x', { ipv4Pool: 'v4' })] });
    const a = await w.addMag(MAG_A);
    a.detector.attach(attachEv('v4@x'));
    await w.advance(0);
    const e = a.view();
    assert.equal(e.ipv4HoA, '10.0.0.1');
    assert.equal(e.ipv4PrefixLength, 24);
    assert.equal(e.ipv4DefaultRouter, '10.0.0.1');
    assert.deepEqual([...a.dp.routes.keys()].sort(), ['10.0.0.1/32', '2001:db8:1::/64']);
    // §3.2.3.3: re-registration carries the assigned address.
    await w.advance(230_000);
    const r = getOption(w.lma.lastPbu(), 'ipv4HoaRequest');
    assert.equal(r?.addr, 0x0a000001);
    assert.equal(r?.prefixLen, 24);
  });

  it('no IPv4 HoA Reply (or a rejected one): no IPv4 service, IPv6 continues', async () => {
    const w = world({ profiles: [profile('nor@x', { ipv4Pool: 'v4' })] });
    const a = await w.addMag(MAG_A);
    w.lma.respond = () => ({ mapOptions: (o) => o.filter((x) => x.type !== 'ipv4HoaReply') });
    a.detector.attach(attachEv('nor@x'));
    await w.advance(0);
    assert.equal(a.view().ipv4HoA, null);
    assert.deepEqual([...a.dp.routes.keys()], ['2001:db8:1::/64']);
    const w2 = world({ profiles: [profile('rejr@x', { ipv4Pool: 'v4' })] });
    const b = await w2.addMag(MAG_A);
    w2.lma.respond = () => ({
      mapOptions: (o) => o.map((x) => (x.type === 'ipv4HoaReply' ? { ...x, status: 132, addr: 0 } : x)),
    });
    b.detector.attach(attachEv('rejr@x'));
    await w2.advance(0);
    assert.equal(b.view().ipv4HoA, null);
    assert.equal(b.dp.routes.size, 1);
  });

  it('170: no more IPv4 HoA Requests for the MN until administrative action; IPv6-only retry', async () => {
    const w = world({ profiles: [profile('p170@x', { ipv4Pool: 'v4' })] });
    const a = await w.addMag(MAG_A);
    w.lma.respond = firstWith(170);
    a.detector.attach(attachEv('p170@x'));
    await w.advance(0);
    assert.equal(countOptions(w.lma.lastPbu(), 'ipv4HoaRequest'), 0);
    assert.equal(a.view().state, 'registered');
    a.detector.detach({ mnId: 'p170@x', link: 'ap0' });
    await w.advance(0);
    a.detector.attach(attachEv('p170@x'));
    await w.advance(0);
    assert.equal(countOptions(w.lma.lastPbu(), 'ipv4HoaRequest'), 0, 'still blocked');
  });

  it('170 for an IPv4-only MN: no service', async () => {
    const w = world({ profiles: [profile('o170@x', { hnpPool: null, ipv4Pool: 'v4' })] });
    const a = await w.addMag(MAG_A);
    w.lma.respond = firstWith(170);
    a.detector.attach(attachEv('o170@x'));
    await w.advance(0);
    assert.equal(a.mag.view.size(), 0);
    assert.equal(w.lma.pbus().length, 1);
  });

  it('171: do not ask for the same address again; retry with 0.0.0.0', async () => {
    const w = world({ profiles: [profile('p171@x', { ipv4HoA: '10.9.9.9', ipv4PrefixLength: 24 })] });
    const a = await w.addMag(MAG_A);
    w.lma.respond = firstWith(171);
    a.detector.attach(attachEv('p171@x'));
    await w.advance(0);
    const r = getOption(w.lma.lastPbu(), 'ipv4HoaRequest');
    assert.equal(r?.addr, 0);
    assert.equal(r?.prefixLen, 0);
    assert.equal(a.view().ipv4HoA, '10.0.0.1');
  });

  it('172: no more HNP options until administrative action; IPv4-only retry', async () => {
    const w = world({ profiles: [profile('p172@x', { ipv4Pool: 'v4' })] });
    const a = await w.addMag(MAG_A);
    w.lma.respond = firstWith(172);
    a.detector.attach(attachEv('p172@x'));
    await w.advance(0);
    const retry = w.lma.lastPbu();
    assert.equal(countOptions(retry, 'hnp'), 0);
    assert.equal(countOptions(retry, 'ipv4HoaRequest'), 1);
    assert.equal(a.view().state, 'registered');
    assert.deepEqual(a.view().hnps, []);
    assert.deepEqual([...a.dp.routes.keys()], [`${a.view().ipv4HoA}/32`]);
  });

  it('over IPv4 transport the tunnel is IPv4 (or IPv4-UDP when the LMA sends NAT Detection with F)', async () => {
    const w = world({ profiles: [profile('t4@x', { lma: '192.0.2.1' }), profile('u4@x', { lma: '192.0.2.1' })], lmaAddress: '192.0.2.1' });
    const a = await w.addMag('198.51.100.1');
    a.detector.attach(attachEv('t4@x', { link: 'p1' }));
    await w.advance(0);
    assert.equal([...a.dp.tunnels.values()][0].encap, 'ipip');
    w.lma.respond = () => ({ mapOptions: (o) => [...o, { type: 'natDetection', f: true, refreshTime: 0xffffffff }] });
    a.detector.attach(attachEv('u4@x', { link: 'p2' }));
    await w.advance(0);
    assert.deepEqual([...a.dp.tunnels.values()].map((t) => t.encap).sort(), ['ip4-udp', 'ipip']);
  });
});

describe('RFC 5213 §6.9.1.2 item 15: Link-local Address option', () => {
  it('a NON_ZERO link-local address from the LMA is kept and sent back in re-registrations', async () => {
    const w = world({ profiles: [profile('lla@x')] });
    const a = await w.addMag(MAG_A, { fixedMagLinkLocal: '::', lifetimeS: 40 });
    w.lma.respond = () => ({
      mapOptions: (o) => [...o, { type: 'linkLocalAddress', addr: Buffer.from('fe800000000000000000000000000042', 'hex') }],
    });
    a.detector.attach(attachEv('lla@x'));
    await w.advance(0);
    assert.equal(a.view().magLinkLocal, 'fe80::42');
    await w.advance(30_000);
    const ll = getOption(w.lma.lastPbu(), 'linkLocalAddress');
    assert.equal(prefixToString(ll!.addr, 128), 'fe80::42/128');
  });
});



describe('RFC 5213 §6.9.1.2 item 8 after a handoff from a MAG with a faster clock', () => {
  it('157: the retry carries a timestamp above the LMA time of day from the PBA', async () => {
    const w = world({ profiles: [profile('skew@x')] });
    const a = await w.addMag(MAG_A);
    const ahead = w.clock.now() + 50; // the LMA (and the previous MAG) are 50 ms ahead of us
    const { timestampFromMs: tsOf } = await import('../../src/mh/index.ts');
    let first = true;
    w.lma.respond = () => {
      if (!first) return 'default';
      first = false;
      return { status: 157, mapOptions: (o) => o.map((x) => (x.type === 'timestamp' ? { type: 'timestamp', value: tsOf(ahead) } : x)) };
    };
    a.detector.attach(attachEv('skew@x'));
    await w.advance(0);
    const retry = w.lma.lastPbu();
    assert.ok(getOption(retry, 'timestamp')!.value > tsOf(ahead));
    assert.equal(a.view().state, 'registered');
  });
});
