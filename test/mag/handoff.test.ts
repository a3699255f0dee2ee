// Handoff between two MAGs (RFC 5213 §5.3.5, §6.9.1.1 item 4, §6.9.1.4): the new MAG's
// registration wins; the old MAG's de-registration, early or late, never removes it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeMessage, getOption } from '../../src/mh/index.ts';
import type { Peer } from '../../src/transport/types.ts';
import { LMA, MAG_A, MAG_B, attachEv, profile, world } from './harness.ts';

const MN = 'ho@example.net';
const MAC = '02:00:00:00:00:42';

describe('RFC 5213 handoff between MAGs', () => {
  it('§6.9.1.1 item 4: the new MAG sends HI 3 from the attach event; the LMA moves the binding to its Proxy-CoA', async () => {
    const w = world({ profiles: [profile(MN)] });
    const a = await w.addMag(MAG_A);
    const b = await w.addMag(MAG_B);
    a.detector.attach(attachEv(MN, { mnLinkLayerId: MAC, handoffIndicator: 1 }));
    await w.advance(0);
    const hnp = a.view(MN).hnps;
    await w.advance(5000);
    b.detector.attach(attachEv(MN, { mnLinkLayerId: MAC, handoffIndicator: 3 }));
    await w.advance(0);
    const pbuB = w.lma.lastPbu();
    assert.equal(getOption(pbuB, 'handoffIndicator')?.hi, 3);
    assert.equal(w.lma.bces.get(MN)?.proxyCoa, MAG_B);
    assert.deepEqual(b.view(MN).hnps, hnp, 'the MN keeps its prefix');
  });

  it('§5.3.5: the old MAG detaches after the new MAG registered; its de-registration is ignored and it times out', async () => {
    const w = world({ profiles: [profile(MN)] });
    const a = await w.addMag(MAG_A);
    const b = await w.addMag(MAG_B);
    a.detector.attach(attachEv(MN, { mnLinkLayerId: MAC, handoffIndicator: 1 }));
    await w.advance(0);
    b.detector.attach(attachEv(MN, { mnLinkLayerId: MAC, handoffIndicator: 3 }));
    await w.advance(0);
    a.detector.detach({ mnId: MN, link: 'ap0', mnLinkLayerId: MAC });
    await w.advance(0);
    const dereg = w.lma.lastPbu();
    assert.equal(dereg.lifetime, 0);
    assert.equal(w.lma.received.at(-1)?.from.address, MAG_A, 'sent from the old Proxy-CoA, no Alternate CoA');
    assert.equal(getOption(dereg, 'altCoa'), undefined);
    assert.equal(w.lma.bces.get(MN)?.proxyCoa, MAG_B, 'binding untouched');
    await w.advance(1000);
    assert.equal(a.mag.view.size(), 0, 'old MAG removed its BULE after INITIAL_BINDACK_TIMEOUT');
    assert.equal(a.dp.routes.size, 0);
    assert.equal(a.dp.tunnels.size, 0);
    assert.equal(b.view(MN).state, 'registered');
    assert.equal(b.dp.routes.size, 1, "the new MAG's forwarding is intact");
    // And the new MAG keeps refreshing without trouble.
    await w.advance(240_000);
    assert.equal(b.view(MN).state, 'registered');
    assert.equal(w.lma.bces.get(MN)?.proxyCoa, MAG_B);
  });

  it('§6.9.1.4: a de-registration delayed past the new registration gets 157; the old MAG does not re-register', async () => {
    const w = world({ profiles: [profile(MN)] });
    const a = await w.addMag(MAG_A);
    const b = await w.addMag(MAG_B);
    a.detector.attach(attachEv(MN, { mnLinkLayerId: MAC, handoffIndicator: 1 }));
    await w.advance(0);
    // Hold the old MAG's de-registration in the network.
    const held: { data: Buffer; from: Peer; to: Peer }[] = [];
    w.hub.drop = (data, from, to) => {
      const r = decodeMessage(data);
      if (from.address === MAG_A && r.ok && r.msg.type === 'bu' && r.msg.lifetime === 0 && held.length === 0) {
        held.push({ data, from, to });
        return true;
      }
      return false;
    };
    a.detector.detach({ mnId: MN, link: 'ap0', mnLinkLayerId: MAC }); // break...
    await w.advance(10);
    b.detector.attach(attachEv(MN, { mnLinkLayerId: MAC, handoffIndicator: 3 })); // ...before make
    await w.advance(0);
    assert.equal(b.view(MN).state, 'registered');
    assert.equal(held.length, 1);
    w.hub.deliver(held[0].data, held[0].from, held[0].to);
    await w.advance(0);
    assert.equal(w.lma.sentPbas.at(-1)?.status, 157, 'the LMA refuses the stale de-registration');
    assert.equal(w.lma.bces.get(MN)?.proxyCoa, MAG_B);
    assert.equal(a.mag.view.size(), 0);
    const fromA = w.lma.received.filter((r) => r.from.address === MAG_A);
    assert.equal(fromA.length, 2, 'registration + de-registration only: no attempt to reassert the binding');
    await w.advance(60_000);
    assert.equal(w.lma.received.filter((r) => r.from.address === MAG_A).length, 2);
    assert.equal(b.dp.routes.size, 1);
  });

  it('the old MAG answers an inter-MAG-handover revocation for the MN that left (RFC 5846 §9.1)', async () => {
    const w = world({ profiles: [profile(MN)] });
    const a = await w.addMag(MAG_A);
    const b = await w.addMag(MAG_B);
    a.detector.attach(attachEv(MN, { mnLinkLayerId: MAC }));
    await w.advance(0);
    b.detector.attach(attachEv(MN, { mnLinkLayerId: MAC, handoffIndicator: 3 }));
    a.detector.markLost(MN, 'ap0');
    await w.advance(0);
    w.lma.sendBri({ address: MAG_A, port: 5436 }, { trigger: 4, seq: 9, flags: 0x80, options: [{ type: 'mnId', subtype: 1, id: Buffer.from(MN) }] });
    await w.advance(0);
    const bra = w.lma.of('bra').at(-1);
    assert.equal(bra?.msg.status, 0);
    assert.equal(a.mag.view.size(), 0);
    assert.equal(b.view(MN).state, 'registered');
    assert.equal(LMA, w.lma.address);
  });
});
