// MD5 (RFC 1321) and HMAC-MD5 (RFC 2104) for RADIUS authenticators, in TypeScript.
// Why not node:crypto: for RADIUS-sized inputs (a few hundred octets) each createHash /
// createHmac / crypto.hash call costs 2.5-6 us on these machines, mostly call and object
// set-up, while this code does a 64-octet block in ~0.4 us and keeps the HMAC key pads
// precomputed per secret (an HMAC of a 150-octet packet is 4 blocks). Checked against
// node:crypto in test/radius/md5.test.ts. Only for RADIUS's own MD5 constructions.
// The 64 steps are unrolled with the RFC 1321 §3.4 constants (K[i] = floor(|sin(i+1)| * 2^32))
// and shift amounts; every addition is truncated with `| 0` so V8 keeps 32-bit integer adds.

const W = new Int32Array(16);

/** Process the 64-octet blocks of buf[off, off+len) into state st (len a multiple of 64). */
function blocks(st: Int32Array, buf: Buffer, off: number, len: number): void {
  let a0 = st[0], b0 = st[1], c0 = st[2], d0 = st[3];
  for (let o = off; o < off + len; o += 64) {
    for (let j = 0; j < 16; j++) {
      const p = o + (j << 2);
      W[j] = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
    }
    let a = a0, b = b0, c = c0, d = d0, t: number;
    t = ((((a + ((b & c) | (~b & d))) | 0) + ((-680876936 + W[0]) | 0)) | 0); a = (b + ((t << 7) | (t >>> 25))) | 0;
    t = ((((d + ((a & b) | (~a & c))) | 0) + ((-389564586 + W[1]) | 0)) | 0); d = (a + ((t << 12) | (t >>> 20))) | 0;
    t = ((((c + ((d & a) | (~d & b))) | 0) + ((606105819 + W[2]) | 0)) | 0); c = (d + ((t << 17) | (t >>> 15))) | 0;
    t = ((((b + ((c & d) | (~c & a))) | 0) + ((-1044525330 + W[3]) | 0)) | 0); b = (c + ((t << 22) | (t >>> 10))) | 0;
    t = ((((a + ((b & c) | (~b & d))) | 0) + ((-176418897 + W[4]) | 0)) | 0); a = (b + ((t << 7) | (t >>> 25))) | 0;
    t = ((((d + ((a & b) | (~a & c))) | 0) + ((1200080426 + W[5]) | 0)) | 0); d = (a + ((t << 12) | (t >>> 20))) | 0;
    t = ((((c + ((d & a) | (~d & b))) | 0) + ((-1473231341 + W[6]) | 0)) | 0); c = (d + ((t << 17) | (t >>> 15))) | 0;
    t = ((((b + ((c & d) | (~c & a))) | 0) + ((-45705983 + W[7]) | 0)) | 0); b = (c + ((t << 22) | (t >>> 10))) | 0;
    t = ((((a + ((b & c) | (~b & d))) | 0) + ((1770035416 + W[8]) | 0)) | 0); a = (b + ((t << 7) | (t >>> 25))) | 0;
    t = ((((d + ((a & b) | (~a & c))) | 0) + ((-1958414417 + W[9]) | 0)) | 0); d = (a + ((t << 12) | (t >>> 20))) | 0;
    t = ((((c + ((d & a) | (~d & b))) | 0) + ((-42063 + W[10]) | 0)) | 0); c = (d + ((t << 17) | (t >>> 15))) | 0;
    t = ((((b + ((c & d) | (~c & a))) | 0) + ((-1990404162 + W[11]) | 0)) | 0); b = (c + ((t << 22) | (t >>> 10))) | 0;
    t = ((((a + ((b & c) | (~b & d))) | 0) + ((1804603682 + W[12]) | 0)) | 0); a = (b + ((t << 7) | (t >>> 25))) | 0;
    t = ((((d + ((a & b) | (~a & c))) | 0) + ((-40341101 + W[13]) | 0)) | 0); d = (a + ((t << 12) | (t >>> 20))) | 0;
    t = ((((c + ((d & a) | (~d & b))) | 0) + ((-1502002290 + W[14]) | 0)) | 0); c = (d + ((t << 17) | (t >>> 15))) | 0;
    t = ((((b + ((c & d) | (~c & a))) | 0) + ((1236535329 + W[15]) | 0)) | 0); b = (c + ((t << 22) | (t >>> 10))) | 0;
    t = ((((a + ((d & b) | (~d & c))) | 0) + ((-165796510 + W[1]) | 0)) | 0); a = (b + ((t << 5) | (t >>> 27))) | 0;
    t = ((((d + ((c & a) | (~c & b))) | 0) + ((-1069501632 + W[6]) | 0)) | 0); d = (a + ((t << 9) | (t >>> 23))) | 0;
    t = ((((c + ((b & d) | (~b & a))) | 0) + ((643717713 + W[11]) | 0)) | 0); c = (d + ((t << 14) | (t >>> 18))) | 0;
    t = ((((b + ((a & c) | (~a & d))) | 0) + ((-373897302 + W[0]) | 0)) | 0); b = (c + ((t << 20) | (t >>> 12))) | 0;
    t = ((((a + ((d & b) | (~d & c))) | 0) + ((-701558691 + W[5]) | 0)) | 0); a = (b + ((t << 5) | (t >>> 27))) | 0;
    t = ((((d + ((c & a) | (~c & b))) | 0) + ((38016083 + W[10]) | 0)) | 0); d = (a + ((t << 9) | (t >>> 23))) | 0;
    t = ((((c + ((b & d) | (~b & a))) | 0) + ((-660478335 + W[15]) | 0)) | 0); c = (d + ((t << 14) | (t >>> 18))) | 0;
    t = ((((b + ((a & c) | (~a & d))) | 0) + ((-405537848 + W[4]) | 0)) | 0); b = (c + ((t << 20) | (t >>> 12))) | 0;
    t = ((((a + ((d & b) | (~d & c))) | 0) + ((568446438 + W[9]) | 0)) | 0); a = (b + ((t << 5) | (t >>> 27))) | 0;
    t = ((((d + ((c & a) | (~c & b))) | 0) + ((-1019803690 + W[14]) | 0)) | 0); d = (a + ((t << 9) | (t >>> 23))) | 0;
    t = ((((c + ((b & d) | (~b & a))) | 0) + ((-187363961 + W[3]) | 0)) | 0); c = (d + ((t << 14) | (t >>> 18))) | 0;
    t = ((((b + ((a & c) | (~a & d))) | 0) + ((1163531501 + W[8]) | 0)) | 0); b = (c + ((t << 20) | (t >>> 12))) | 0;
    t = ((((a + ((d & b) | (~d & c))) | 0) + ((-1444681467 + W[13]) | 0)) | 0); a = (b + ((t << 5) | (t >>> 27))) | 0;
    t = ((((d + ((c & a) | (~c & b))) | 0) + ((-51403784 + W[2]) | 0)) | 0); d = (a + ((t << 9) | (t >>> 23))) | 0;
    t = ((((c + ((b & d) | (~b & a))) | 0) + ((1735328473 + W[7]) | 0)) | 0); c = (d + ((t << 14) | (t >>> 18))) | 0;
    t = ((((b + ((a & c) | (~a & d))) | 0) + ((-1926607734 + W[12]) | 0)) | 0); b = (c + ((t << 20) | (t >>> 12))) | 0;
    t = ((((a + (b ^ c ^ d)) | 0) + ((-378558 + W[5]) | 0)) | 0); a = (b + ((t << 4) | (t >>> 28))) | 0;
    t = ((((d + (a ^ b ^ c)) | 0) + ((-2022574463 + W[8]) | 0)) | 0); d = (a + ((t << 11) | (t >>> 21))) | 0;
    t = ((((c + (d ^ a ^ b)) | 0) + ((1839030562 + W[11]) | 0)) | 0); c = (d + ((t << 16) | (t >>> 16))) | 0;
    t = ((((b + (c ^ d ^ a)) | 0) + ((-35309556 + W[14]) | 0)) | 0); b = (c + ((t << 23) | (t >>> 9))) | 0;
    t = ((((a + (b ^ c ^ d)) | 0) + ((-1530992060 + W[1]) | 0)) | 0); a = (b + ((t << 4) | (t >>> 28))) | 0;
    t = ((((d + (a ^ b ^ c)) | 0) + ((1272893353 + W[4]) | 0)) | 0); d = (a + ((t << 11) | (t >>> 21))) | 0;
    t = ((((c + (d ^ a ^ b)) | 0) + ((-155497632 + W[7]) | 0)) | 0); c = (d + ((t << 16) | (t >>> 16))) | 0;
    t = ((((b + (c ^ d ^ a)) | 0) + ((-1094730640 + W[10]) | 0)) | 0); b = (c + ((t << 23) | (t >>> 9))) | 0;
    t = ((((a + (b ^ c ^ d)) | 0) + ((681279174 + W[13]) | 0)) | 0); a = (b + ((t << 4) | (t >>> 28))) | 0;
    t = ((((d + (a ^ b ^ c)) | 0) + ((-358537222 + W[0]) | 0)) | 0); d = (a + ((t << 11) | (t >>> 21))) | 0;
    t = ((((c + (d ^ a ^ b)) | 0) + ((-722521979 + W[3]) | 0)) | 0); c = (d + ((t << 16) | (t >>> 16))) | 0;
    t = ((((b + (c ^ d ^ a)) | 0) + ((76029189 + W[6]) | 0)) | 0); b = (c + ((t << 23) | (t >>> 9))) | 0;
    t = ((((a + (b ^ c ^ d)) | 0) + ((-640364487 + W[9]) | 0)) | 0); a = (b + ((t << 4) | (t >>> 28))) | 0;
    t = ((((d + (a ^ b ^ c)) | 0) + ((-421815835 + W[12]) | 0)) | 0); d = (a + ((t << 11) | (t >>> 21))) | 0;
    t = ((((c + (d ^ a ^ b)) | 0) + ((530742520 + W[15]) | 0)) | 0); c = (d + ((t << 16) | (t >>> 16))) | 0;
    t = ((((b + (c ^ d ^ a)) | 0) + ((-995338651 + W[2]) | 0)) | 0); b = (c + ((t << 23) | (t >>> 9))) | 0;
    t = ((((a + (c ^ (b | ~d))) | 0) + ((-198630844 + W[0]) | 0)) | 0); a = (b + ((t << 6) | (t >>> 26))) | 0;
    t = ((((d + (b ^ (a | ~c))) | 0) + ((1126891415 + W[7]) | 0)) | 0); d = (a + ((t << 10) | (t >>> 22))) | 0;
    t = ((((c + (a ^ (d | ~b))) | 0) + ((-1416354905 + W[14]) | 0)) | 0); c = (d + ((t << 15) | (t >>> 17))) | 0;
    t = ((((b + (d ^ (c | ~a))) | 0) + ((-57434055 + W[5]) | 0)) | 0); b = (c + ((t << 21) | (t >>> 11))) | 0;
    t = ((((a + (c ^ (b | ~d))) | 0) + ((1700485571 + W[12]) | 0)) | 0); a = (b + ((t << 6) | (t >>> 26))) | 0;
    t = ((((d + (b ^ (a | ~c))) | 0) + ((-1894986606 + W[3]) | 0)) | 0); d = (a + ((t << 10) | (t >>> 22))) | 0;
    t = ((((c + (a ^ (d | ~b))) | 0) + ((-1051523 + W[10]) | 0)) | 0); c = (d + ((t << 15) | (t >>> 17))) | 0;
    t = ((((b + (d ^ (c | ~a))) | 0) + ((-2054922799 + W[1]) | 0)) | 0); b = (c + ((t << 21) | (t >>> 11))) | 0;
    t = ((((a + (c ^ (b | ~d))) | 0) + ((1873313359 + W[8]) | 0)) | 0); a = (b + ((t << 6) | (t >>> 26))) | 0;
    t = ((((d + (b ^ (a | ~c))) | 0) + ((-30611744 + W[15]) | 0)) | 0); d = (a + ((t << 10) | (t >>> 22))) | 0;
    t = ((((c + (a ^ (d | ~b))) | 0) + ((-1560198380 + W[6]) | 0)) | 0); c = (d + ((t << 15) | (t >>> 17))) | 0;
    t = ((((b + (d ^ (c | ~a))) | 0) + ((1309151649 + W[13]) | 0)) | 0); b = (c + ((t << 21) | (t >>> 11))) | 0;
    t = ((((a + (c ^ (b | ~d))) | 0) + ((-145523070 + W[4]) | 0)) | 0); a = (b + ((t << 6) | (t >>> 26))) | 0;
    t = ((((d + (b ^ (a | ~c))) | 0) + ((-1120210379 + W[11]) | 0)) | 0); d = (a + ((t << 10) | (t >>> 22))) | 0;
    t = ((((c + (a ^ (d | ~b))) | 0) + ((718787259 + W[2]) | 0)) | 0); c = (d + ((t << 15) | (t >>> 17))) | 0;
    t = ((((b + (d ^ (c | ~a))) | 0) + ((-343485551 + W[9]) | 0)) | 0); b = (c + ((t << 21) | (t >>> 11))) | 0;
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  st[0] = a0;
  st[1] = b0;
  st[2] = c0;
  st[3] = d0;
}

const IV = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476]);
const STATE = new Int32Array(4);
const SCRATCH = Buffer.alloc(4096 + 128);

/**
 * MD5 of the concatenated parts, continuing from `init` which already absorbed `prefixLen`
 * octets (a multiple of 64); the 16-octet digest goes to out[outOff].
 */
function md5Parts(init: Int32Array, prefixLen: number, parts: readonly Buffer[], out: Buffer, outOff: number): void {
  STATE.set(init);
  let total = 0;
  let fill = 0;
  for (const p of parts) {
    total += p.length;
    let i = 0;
    while (i < p.length) {
      const take = Math.min(p.length - i, 4096 - fill);
      p.copy(SCRATCH, fill, i, i + take);
      fill += take;
      i += take;
      if (fill === 4096) {
        blocks(STATE, SCRATCH, 0, 4096);
        fill = 0;
      }
    }
  }
  // Padding (RFC 1321 §3.1-3.2): 0x80, zeros to 56 mod 64, the bit length little-endian.
  SCRATCH[fill++] = 0x80;
  while ((fill & 63) !== 56) SCRATCH[fill++] = 0;
  const bits = (prefixLen + total) * 8;
  SCRATCH.writeUInt32LE(bits >>> 0, fill);
  SCRATCH.writeUInt32LE(Math.floor(bits / 0x100000000) >>> 0, fill + 4);
  blocks(STATE, SCRATCH, 0, fill + 8);
  for (let i = 0; i < 4; i++) out.writeInt32LE(STATE[i], outOff + i * 4);
}

/** MD5 of the concatenated parts. */
export function md5(...parts: Buffer[]): Buffer {
  const out = Buffer.allocUnsafe(16);
  md5Parts(IV, 0, parts, out, 0);
  return out;
}

/** Precomputed HMAC-MD5 key: the MD5 states after the ipad and opad blocks (RFC 2104 §2). */
export interface HmacKey {
  inner: Int32Array;
  outer: Int32Array;
}

export function hmacKey(secret: Buffer): HmacKey {
  const k = secret.length > 64 ? md5(secret) : secret;
  const ipad = Buffer.alloc(64, 0x36);
  const opad = Buffer.alloc(64, 0x5c);
  for (let i = 0; i < k.length; i++) {
    ipad[i] ^= k[i];
    opad[i] ^= k[i];
  }
  const inner = new Int32Array(IV);
  const outer = new Int32Array(IV);
  blocks(inner, ipad, 0, 64);
  blocks(outer, opad, 0, 64);
  return { inner, outer };
}

const INNER = Buffer.alloc(16);

/** HMAC-MD5 of the concatenated parts. */
export function hmacMd5(key: HmacKey, ...parts: Buffer[]): Buffer {
  const out = Buffer.allocUnsafe(16);
  md5Parts(key.inner, 64, parts, INNER, 0);
  md5Parts(key.outer, 64, [INNER], out, 0);
  return out;
}
