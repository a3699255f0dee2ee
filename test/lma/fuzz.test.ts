// Fuzz: 100,000+ random and mutated Mobility Headers (mutations of valid PBUs) to a live LMA
// over real UDP on loopback (RFC 6275 §9.2: malformed input is dropped, the node keeps
// working). Afterwards the LMA still answers a valid PBU, nothing threw, and the counters
// add up. Deterministic PRNG: a failure is reproducible from FUZZ_SEED.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BuFlag, encodeMessage, mnIdFromNai, parsePrefix, timestampFromMs, decodeMessage } from '../../src/mh/index.ts';
import type { MobilityOption } from '../../src/mh/index.ts';
import { openUdpTransport } from '../../src/transport/udp.ts';
import { RecordingDataPlane } from '../../src/dataplane/recording.ts';
import { DROP_CAUSES, Lma } from '../../src/lma/index.ts';
import { MapPolicy, makeProfile } from './driver.ts';

const TOTAL = Number(process.env.FUZZ_COUNT ?? 100_000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);

/** xorshift32 */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

describe('fuzzing a live LMA over UDP', () => {
  it(`RFC 6275 §9.2: ${TOTAL} random and mutated messages never break the LMA; counters add up`, async () => {
    const rnd = prng(SEED);
    const int = (n: number): number => Math.floor(rnd() * n);
    const policy = new MapPolicy();
    const MNS = 50;
    for (let i = 0; i < MNS; i++) {
      policy.add(makeProfile(`mn${i}@fuzz.example`, {
        hnps: [`2001:db8:${i.toString(16)}::/64`],
        ipv4HoA: i % 2 ? `10.9.${i}.1` : null,
        greKeyPolicy: (['none', 'optional', 'required'] as const)[i % 3],
      }));
    }
    const lmaT = await openUdpTransport({ addresses: ['127.0.0.1'], port: 0 });
    const magT = await openUdpTransport({ addresses: ['127.0.0.2'], port: 0 });
    const dp = new RecordingDataPlane(false);
    const lma = new Lma({
      transport: lmaT,
      dataPlane: dp,
      policy,
      config: { address: '127.0.0.1', heartbeatIntervalMs: 0, maxDelayBeforeNewBceAssignMs: 5, revokeOnUnknownHandoff: false, bindingErrorRatePerS: 1000 },
    });
    await lma.start();
    const to = { address: '127.0.0.1', port: lmaT.localAddress().port };
    let replies = 0;
    magT.onReceive(() => replies++);
    try {

    const validPbu = (): Buffer => {
      const i = int(MNS + 5); // some unknown MNs too
      const options: MobilityOption[] = [mnIdFromNai(`mn${i}@fuzz.example`)];
      const p = parsePrefix(int(2) ? `2001:db8:${i.toString(16)}::/64` : '::/0');
      options.push({ type: 'hnp', prefixLen: p.prefixLen, prefix: p.prefix });
      options.push({ type: 'handoffIndicator', hi: int(7) });
      options.push({ type: 'accessTechType', att: int(14) });
      if (int(2)) options.push({ type: 'timestamp', value: timestampFromMs(Date.now() + int(200)) });
      if (int(3) === 0) options.push({ type: 'ipv4HoaRequest', prefixLen: 24, addr: int(2) ? 0 : 0x0a090000 + i });
      if (int(3) === 0) options.push({ type: 'greKey', key: int(2) ? int(0xffffffff) : null });
      if (int(4) === 0) options.push({ type: 'mnLinkLayerId', id: Buffer.from([2, 0, 0, 0, 0, int(4)]) });
      if (int(4) === 0) options.push({ type: 'linkLocalAddress', addr: Buffer.alloc(16) });
      return encodeMessage({ type: 'bu', seq: int(0x10000), flags: BuFlag.A | BuFlag.P | (int(8) === 0 ? BuFlag.F : 0), lifetime: int(4) === 0 ? 0 : int(100), options });
    };
    const mutate = (b: Buffer): Buffer => {
      const out = Buffer.from(b);
      switch (int(6)) {
        case 0: // flip bytes
          for (let k = 1 + int(4); k > 0; k--) out[int(out.length)] ^= 1 << int(8);
          return out;
        case 1: // truncate
          return out.subarray(0, int(out.length));
        case 2: // extend
          return Buffer.concat([out, Buffer.from(Array.from({ length: 1 + int(24) }, () => int(256)))]);
        case 3: // an option Type/Length octet gets a random value (options start at 12)
          if (out.length > 13) out[12 + int(out.length - 12)] = int(256);
          return out;
        case 4: // another MH type with the same body
          out[2] = int(32);
          return out;
        default: // Header Len
          out[1] = int(256);
          return out;
      }
    };
    const random = (): Buffer => {
      const len = int(3) === 0 ? int(64) : 8 * (1 + int(8));
      const buf = Buffer.from(Array.from({ length: len }, () => int(256)));
      if (len >= 8 && int(2)) {
        buf[0] = 59; // make it get past the first checks more often
        buf[1] = len / 8 - 1;
        buf[2] = [5, 6, 7, 13, 16, int(256)][int(6)];
      }
      return buf;
    };

    let sent = 0;
    const CHUNK = 500;
    const received = (): number => {
      const c = lma.counters;
      let n = 0;
      for (const v of Object.values(c.rx)) n += v;
      for (const k of ['truncated', 'bad-payload-proto', 'bad-header-len', 'bad-checksum', 'bad-option-length', 'bad-option-value', 'option-overrun', 'bad-br-type', 'oversized'] as const) n += c.dropped[k];
      return n;
    };
    let expectedDecodable = 0;
    while (sent < TOTAL) {
      for (let k = 0; k < CHUNK && sent < TOTAL; k++, sent++) {
        const r = int(10);
        const data = r < 4 ? random() : r < 9 ? mutate(validPbu()) : validPbu();
        if (decodeMessage(data).ok) expectedDecodable++;
        magT.send(data, to);
      }
      // Pace: let the LMA catch up so loopback buffers never overflow.
      const deadline = Date.now() + 10_000;
      while (received() < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      if (process.env.FUZZ_DEBUG) console.error('chunk', sent, received(), JSON.stringify(lma.counters.rx));
    }
    await new Promise((r) => setTimeout(r, 50));
    await lma.settle();

    const c = lma.counters;
    assert.equal(received(), sent, 'every datagram was received and accounted for');
    assert.equal(c.dropped['internal-error'], 0, 'no exception escaped processing');
    let rx = 0;
    for (const v of Object.values(c.rx)) rx += v;
    assert.equal(rx, expectedDecodable, 'decodable messages are exactly the ones dispatched');
    const pbaSent = c.pbaByStatus.reduce((a, b) => a + b, 0);
    assert.equal(c.tx.pba, pbaSent);
    let ignored = 0;
    for (const v of Object.values(c.pbuIgnored)) ignored += v;
    // every PBU was answered, deliberately left unanswered (RFC 5213 §5.3.5, §5.4.1; a waiting one
    // replaced by a newer one), or dropped for want of policy; the waiting ones have been answered by now
    assert.equal(lma.parked.size, 0);
    assert.equal(c.rx.pbu, pbaSent + ignored + c.dropped['policy-unavailable'] + c.dropped['unencodable-reply']);
    // An option value no PBA could echo (HNP Prefix Length > 128) is refused by the decoder and counted there.
    assert.ok(c.dropped['bad-option-value'] > 0, 'mutations produced impossible option values, counted as bad-option-value');
    assert.equal(c.tx.be + c.dropped['be-rate-limited'], c.rx.unknown);
    assert.equal(c.tx.heartbeat_response, c.rx.heartbeat_request);
    for (const k of DROP_CAUSES) assert.ok(Number.isInteger(c.dropped[k]));
    assert.ok(replies > 0);

    // still alive: a valid PBU is answered
    const ok = new Promise<Buffer>((r) => magT.onReceive((m) => r(m.data)));
    policy.add(makeProfile('after@fuzz.example', { hnps: ['2001:db8:ffff::/64'] }));
    magT.send(encodeMessage({
      type: 'bu', seq: 1, flags: BuFlag.A | BuFlag.P, lifetime: 10,
      options: [mnIdFromNai('after@fuzz.example'), { type: 'hnp', prefixLen: 0, prefix: Buffer.alloc(16) }, { type: 'handoffIndicator', hi: 1 }, { type: 'accessTechType', att: 4 }],
    }), to);
    const d = decodeMessage(await ok);
    assert.ok(d.ok && d.msg.type === 'ba' && d.msg.status === 0);
    } finally {
      await lma.stop();
      await lmaT.close();
      await magT.close();
    }
  });
});
