/**
 * Round-trip and structural properties of the codec over arbitrary valid
 * messages (fast-check).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, encodeMessageInto, mhChecksum, verifyMhChecksum } from '../../src/mh/index.ts';
import { optionAlignment } from '../../src/mh/options.ts';
import type { MobilityOption } from '../../src/mh/index.ts';
import { bytes, messageArb, optionArb } from './arbitraries.ts';

const RUNS = 3000;

/** Independent checksum: RFC 1071 style over an explicitly built pseudo-header + MH copy. */
function referenceChecksum(mh: Uint8Array, src: Uint8Array, dst: Uint8Array): number {
  const data = Buffer.concat([
    Buffer.from(src), Buffer.from(dst),
    Buffer.from([(mh.length >>> 24) & 0xff, (mh.length >>> 16) & 0xff, (mh.length >>> 8) & 0xff, mh.length & 0xff]),
    Buffer.from([0, 0, 0, 135]),
    Buffer.from(mh),
  ]);
  data[40 + 4] = 0; // checksum field of the MH copy
  data[40 + 5] = 0;
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) {
    sum += (data[i] << 8) + (i + 1 < data.length ? data[i + 1] : 0);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  return ~sum & 0xffff;
}

const OPTION_CODE: Record<MobilityOption['type'], number> = {
  bindingRefreshAdvice: 2, altCoa: 3, mnId: 8, vendorSpecific: 19, serviceSelection: 20, hnp: 22,
  handoffIndicator: 23, accessTechType: 24, mnLinkLayerId: 25, linkLocalAddress: 26, timestamp: 27,
  restartCounter: 28, ipv4HomeAddress: 29, ipv4AddressAck: 30, natDetection: 31, ipv4Coa: 32, greKey: 33,
  ipv4HoaRequest: 36, ipv4HoaReply: 37, ipv4DefaultRouter: 38, ipv4DhcpSupportMode: 39, mnGroupId: 50, unknown: -1,
};

describe('Round trip (RFC 6275 6.1, 6.2)', () => {
  it('RFC 6275 6.1: decode(encode(m)) equals m for arbitrary valid messages', () => {
    fc.assert(fc.property(messageArb, (m) => {
      const r = decodeMessage(encodeMessage(m));
      assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.error));
      assert.deepStrictEqual(r.msg, m);
    }), { numRuns: RUNS });
  });

  it('in place: encodeMessageInto writes the octets of encodeMessage at any offset of a buffer holding anything, and nothing around them', () => {
    fc.assert(fc.property(messageArb, fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 255 }), (m, off, junk) => {
      const enc = encodeMessage(m);
      const room = Buffer.alloc(off + enc.length + 16, junk);
      assert.equal(encodeMessageInto(m, room, off), enc.length);
      assert.deepEqual(room.subarray(off, off + enc.length), enc);
      assert.ok(room.subarray(0, off).every((x) => x === junk));
      assert.ok(room.subarray(off + enc.length).every((x) => x === junk));
      // Too little room: a RangeError, and the buffer as it was.
      const short = Buffer.alloc(off + enc.length - 1, junk);
      assert.throws(() => encodeMessageInto(m, short, off), RangeError);
      assert.ok(short.every((x) => x === junk));
    }), { numRuns: RUNS });
  });

  it('RFC 6275 6.1.1: with src/dst the checksum verifies, equals an independent computation, and decode accepts it', () => {
    fc.assert(fc.property(messageArb, bytes(16, 16), bytes(16, 16), (m, src, dst) => {
      const enc = encodeMessage(m, { src, dst });
      assert.ok(verifyMhChecksum(enc, src, dst));
      assert.equal(enc.readUInt16BE(4), referenceChecksum(enc, src, dst));
      const r = decodeMessage(enc, { src, dst });
      assert.ok(r.ok);
      assert.deepStrictEqual(r.msg, m);
    }), { numRuns: RUNS });
  });

  it('RFC 6275 6.1.1: mhChecksum matches the independent computation on any byte string, odd lengths included', () => {
    fc.assert(fc.property(bytes(6, 300), bytes(16, 16), bytes(16, 16), (mh, src, dst) => {
      assert.equal(mhChecksum(mh, src, dst), referenceChecksum(mh, src, dst));
    }), { numRuns: RUNS });
  });

  it('RFC 6275 6.1.1, 6.2: Payload Proto 59, Header Len, 8-octet total; each option at its xn+y with minimal Pad1/PadN', () => {
    fc.assert(fc.property(messageArb, (m) => {
      const enc = encodeMessage(m);
      assert.equal(enc[0], 59);
      assert.equal(enc.length % 8, 0);
      assert.equal((enc[1] + 1) * 8, enc.length);
      assert.equal(enc[3], 0);
      if (m.type === 'unknown') return;
      // Walk the TLVs independently of the decoder.
      let off = m.type === 'be' ? 24 : 12;
      let padRun = 0;
      let k = 0;
      while (off < enc.length) {
        const t = enc[off];
        if (t === 0) { padRun += 1; off += 1; continue; }
        const len = enc[off + 1];
        if (t === 1) {
          for (let i = 0; i < len; i++) assert.equal(enc[off + 2 + i], 0, 'PadN data is zero');
          padRun += 2 + len; off += 2 + len; continue;
        }
        const opt: MobilityOption = m.options[k++];
        const [x, y] = optionAlignment(opt);
        assert.equal(off % x, y % x, `${opt.type} at ${off} must be ${x}n+${y}`);
        assert.ok(padRun < x || (x === 1 && padRun === 0), `padding ${padRun} before ${opt.type} is minimal`);
        if (OPTION_CODE[opt.type] >= 0) assert.equal(t, OPTION_CODE[opt.type]);
        padRun = 0;
        off += 2 + len;
      }
      assert.equal(off, enc.length);
      assert.equal(k, m.options.length);
      assert.ok(padRun < 8, 'trailing padding is less than 8 octets');
    }), { numRuns: RUNS });
  });

  it('RFC 6275 6.2.1: each option type alone round-trips at every starting alignment', () => {
    // Preceding unknown options of 0..7 data octets shift the start offset through all residues.
    fc.assert(fc.property(optionArb, fc.integer({ min: 0, max: 7 }), (opt, shift) => {
      const options: MobilityOption[] = [{ type: 'unknown', code: 200, data: Buffer.alloc(shift) }, opt];
      const m = { type: 'bu' as const, seq: 1, flags: 0x8200, lifetime: 1, options };
      const r = decodeMessage(encodeMessage(m));
      assert.ok(r.ok);
      assert.deepStrictEqual(r.msg, m);
    }), { numRuns: RUNS });
  });
});
