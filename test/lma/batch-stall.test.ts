// Issue 12: PBUs read in one batch with a stall of the LMA's loop in the middle of the batch
// (the bench saw it at 2^19 bindings, where the binding cache's Maps grow) must be judged by
// their kernel receive stamps (RFC 5213 §5.5), not by when the stall ended; and a MAG that
// retransmits during a stall (a fresh timestamp each time) gets both transmissions accepted.
// Which §5.5 check refused a PBU is counted (counters.timestampRejects).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BaStatus, decodeMessage, encodeMessage } from '../../src/mh/index.ts';
import { openUdpTransport } from '../../src/transport/udp.ts';
import { nativeUdp } from '../../src/transport/udp-native.ts';
import type { MhTransport } from '../../src/transport/types.ts';
import { RecordingDataPlane } from '../../src/dataplane/recording.ts';
import { Lma } from '../../src/lma/index.ts';
import { LMAA, MAG1, MapPolicy, buildPbu, harness, makeProfile } from './driver.ts';
import { busyWait, kernelStampsOn } from './kernel-stamps.ts';

const WINDOW = 300; // RFC 5213 §9.1 TimestampValidityWindow default
const MNS = [`bst-a-${process.pid}@example.net`, `bst-b-${process.pid}@example.net`, `bst-c-${process.pid}@example.net`];
const prefixOf = (i: number): string => `2001:db8:5:${i + 1}::/64`;

describe('RFC 5213 §5.5: a stall inside a received batch (IPv4/UDP, batched socket)', () => {
  it('every PBU of the batch is judged by its kernel stamp: all accepted, whatever the stall', { skip: nativeUdp() === undefined ? 'native addon not built' : false }, async () => {
    const lmaT = await openUdpTransport({ addresses: ['127.0.0.1'], port: 0 });
    // The LMA's transport, with a handler that blocks the loop after the first PBU of the
    // batch for longer than the window, as a growing Map or a collection may.
    let handled = 0;
    const stalling: MhTransport = {
      send: (d, to, from) => lmaT.send(d, to, from),
      onReceive: (h) => lmaT.onReceive((m) => {
        h(m);
        if (++handled === 1) busyWait(WINDOW + 200);
      }),
      onError: (h) => lmaT.onError?.(h),
      localAddress: () => lmaT.localAddress(),
      close: () => lmaT.close(),
    };
    const policy = new MapPolicy();
    MNS.forEach((mn, i) => policy.add(makeProfile(mn, { hnps: [prefixOf(i)] })));
    const lma = new Lma({ transport: stalling, dataPlane: new RecordingDataPlane(), policy, config: { address: '127.0.0.1', heartbeatIntervalMs: 0, timestampValidityWindowMs: WINDOW } });
    await lma.start();
    const statuses = new Map<string, number>();
    let done: () => void = () => undefined;
    const all = new Promise<void>((r) => (done = r));
    const mag = new (nativeUdp()!)({
      address: '127.0.0.2',
      port: 0,
      onPackets: (n, data, info) => {
        for (let i = 0; i < n; i++) {
          const d = decodeMessage(data.subarray(info[i * 4], info[i * 4 + 0] + info[i * 4 + 1]));
          if (!d.ok || d.msg.type !== 'ba') continue;
          const id = d.msg.options.find((o) => o.type === 'mnId');
          if (id?.type === 'mnId') statuses.set(Buffer.from(id.id).toString('utf8'), d.msg.status);
        }
        if (statuses.size === MNS.length) done();
      },
    });
    try {
      await kernelStampsOn();
      // The three PBUs in one sendmmsg: all in the LMA's socket before its loop reads, one batch.
      const bufs = MNS.map((mn, i) => encodeMessage(buildPbu({ mnId: mn, hnps: ['::/0'] }, () => Date.now(), i + 1)));
      const data = Buffer.concat(bufs);
      const info = new Uint32Array(bufs.length * 4);
      let off = 0;
      bufs.forEach((b, i) => {
        info.set([off, b.length, 0x7f000001, lmaT.localAddress().port!], i * 4);
        off += b.length;
      });
      assert.equal(mag.sendBatch(data, info, bufs.length), bufs.length);
      await all;
      assert.deepEqual(Object.fromEntries(statuses), Object.fromEntries(MNS.map((mn) => [mn, BaStatus.ACCEPTED])));
      assert.deepEqual(lma.counters.timestampRejects, { lower: 0, equal: 0, behind: 0, ahead: 0 });
    } finally {
      await lma.stop();
      await lmaT.close();
      mag.close();
    }
  });
});

describe('RFC 5213 §5.5 on an injected clock: retransmissions after a stall, and which check refused', () => {
  const MN = 'mn1@example.net';
  const P1 = '2001:db8:1:1::/64';

  it('a MAG that retransmits during a stall (fresh timestamp): the original and the retransmission are both accepted', async () => {
    const h = await harness({ profiles: [makeProfile(MN, { hnps: [P1] })], config: { timestampValidityWindowMs: WINDOW } });
    try {
      const mag = h.mag();
      const t0 = h.clock.now();
      const original = encodeMessage(buildPbu({ mnId: MN, hnps: ['::/0'] }, () => t0, 7));
      h.clock.advance(1000); // no PBA within 1 s: the MAG sends again, stamped now, same Sequence Number
      const again = encodeMessage(buildPbu({ mnId: MN, hnps: ['::/0'] }, () => h.clock.now(), 7));
      h.clock.advance(WINDOW + 100); // the LMA's loop gets to its socket only now: both wait there
      const stalled = h.clock.now() - t0;
      h.lmaT.receive({ data: original, from: { address: MAG1, port: 5436 }, local: LMAA, carriage: 'memory', queuedMs: stalled });
      h.lmaT.receive({ data: again, from: { address: MAG1, port: 5436 }, local: LMAA, carriage: 'memory', queuedMs: stalled - 1000 });
      await h.settle();
      assert.deepEqual([mag.pba().status, mag.pba().status], [BaStatus.ACCEPTED, BaStatus.ACCEPTED]);
      assert.equal(h.lma.bindingCount, 1);
      assert.deepEqual(h.lma.counters.timestampRejects, { lower: 0, equal: 0, behind: 0, ahead: 0 });
    } finally {
      await h.close();
    }
  });

  it('each refusal is counted under its check: lower (157), equal, behind, ahead (156)', async () => {
    const h = await harness({ profiles: [makeProfile(MN, { hnps: [P1] })], config: { timestampValidityWindowMs: WINDOW } });
    try {
      const mag = h.mag();
      const t0 = h.clock.now();
      const send = async (ts: number): Promise<number> => {
        mag.pbu({ mnId: MN, hnps: ['::/0'], ts });
        await h.settle();
        return mag.pba().status;
      };
      assert.equal(await send(t0), BaStatus.ACCEPTED);
      assert.equal(await send(t0), BaStatus.TIMESTAMP_MISMATCH); // the same timestamp again
      assert.equal(await send(t0 - 50), BaStatus.TIMESTAMP_LOWER_THAN_PREV_ACCEPTED);
      assert.equal(await send(t0 + WINDOW + 100), BaStatus.TIMESTAMP_MISMATCH); // ahead of the LMA's clock
      h.clock.advance(2 * WINDOW + 200);
      assert.equal(await send(t0 + WINDOW), BaStatus.TIMESTAMP_MISMATCH); // newer than the last, but old on arrival
      assert.equal(await send(h.clock.now() + WINDOW - 1), BaStatus.ACCEPTED); // just inside the window
      assert.deepEqual(h.lma.counters.timestampRejects, { lower: 1, equal: 1, behind: 1, ahead: 1 });
      assert.equal(h.lma.counters.pbaByStatus[BaStatus.TIMESTAMP_MISMATCH], 3);
      const { registry } = await import('../../src/metrics/registry.ts');
      assert.match(await registry.metrics(), /pmip6_lma_pbu_timestamp_rejected_total\{reason="behind"\} [1-9]/);
    } finally {
      await h.close();
    }
  });
});
