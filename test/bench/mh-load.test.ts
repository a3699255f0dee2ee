// The bench's C load generator (bench/c/mh-load.c) when a PBU is retransmitted and both the
// original and the retransmission get answered, as after a stall of the LMA longer than the
// generator's 1 s retransmission timer (issue 12): the second answer belongs to an MN already
// done and must not be taken for the next MN sent in the same window slot.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BaStatus, MH_BU } from '../../src/mh/index.ts';
import { LMA_ADDRESS, buildLoadTool, generate, writeTemplates } from '../../bench/lma-parts.ts';

/** A PBA (RFC 6275 §6.1.8, RFC 5213 §8.2) with no options: what the generator reads of it. */
function pba(status: number, seq: number): Buffer {
  const b = Buffer.alloc(12);
  b[0] = 59; // Payload Proto: no next header
  b[1] = 0; // Header Len: 8 octets units beyond the first 8
  b[2] = 6; // MH Type: Binding Acknowledgement
  b[6] = status;
  b.writeUInt16BE(seq, 8);
  return b;
}

describe('mh-load gen: answers to a PBU and to its retransmission', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pmip6-mh-load-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the second answer is counted stale, and the next MN of the slot gets its own answer', async () => {
    const bin = buildLoadTool();
    const tpl = join(dir, 'initial.bin');
    writeTemplates(tpl, 2, false);
    // A responder that sits on the first PBU until the generator sends it again, answers both
    // (0), then answers the next PBU (the second MN, same slot) with 156.
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, LMA_ADDRESS, r));
    const seen: number[] = [];
    sock.on('message', (m, from) => {
      if (m.length < 12 || m[2] !== MH_BU) return;
      const seq = m.readUInt16BE(6);
      seen.push(seq);
      const reply = (b: Buffer): void => sock.send(b, from.port, from.address);
      if (seen.length === 2) {
        reply(pba(BaStatus.ACCEPTED, seen[0]));
        reply(pba(BaStatus.ACCEPTED, seen[1]));
      } else if (seen.length === 3) {
        reply(pba(BaStatus.TIMESTAMP_MISMATCH, seq));
      }
    });
    try {
      // MNs 0 and 1, two answers wanted, one PBU in flight (window 1: one slot).
      const r = (await generate(bin, tpl, (sock.address() as { port: number }).port, 0, 2, 2, 1, 60_000)) as Awaited<ReturnType<typeof generate>> & { stale?: number };
      assert.equal(seen.length, 3, 'the first MN twice (sent again after 1 s), then the second MN');
      assert.notEqual(seen[0], seen[1], 'a retransmission carries a Sequence Number of its own');
      assert.deepEqual(
        { completed: r.completed, retransmits: r.retransmits, stale: r.stale, rejected: r.rejected, statuses: r.statuses },
        { completed: 2, retransmits: 1, stale: 1, rejected: 1, statuses: { [BaStatus.TIMESTAMP_MISMATCH]: 1 } },
      );
    } finally {
      sock.close();
    }
  });
});
