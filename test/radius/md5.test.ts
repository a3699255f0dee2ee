import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { hmacKey, hmacMd5, md5 } from '../../src/radius/md5.ts';

describe('MD5 (RFC 1321) and HMAC-MD5 (RFC 2104) against node:crypto', () => {
  it('RFC 1321 §A.5 test suite', () => {
    const v: [string, string][] = [
      ['', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['a', '0cc175b9c0f1b6a831c399e269772661'],
      ['abc', '900150983cd24fb0d6963f7d28e17f72'],
      ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
      ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
      ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', '57edf4a22be3c955ac49da2e2107b67a'],
    ];
    for (const [m, h] of v) assert.equal(md5(Buffer.from(m)).toString('hex'), h, m);
  });

  it('RFC 2104 / RFC 2202 §2 HMAC-MD5 vectors', () => {
    assert.equal(hmacMd5(hmacKey(Buffer.alloc(16, 0x0b)), Buffer.from('Hi There')).toString('hex'), '9294727a3638bb1c13f48ef8158bfc9d');
    assert.equal(hmacMd5(hmacKey(Buffer.from('Jefe')), Buffer.from('what do ya want for nothing?')).toString('hex'), '750c783e6ab0b503eaa86e310a5db738');
    assert.equal(hmacMd5(hmacKey(Buffer.alloc(80, 0xaa)), Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First')).toString('hex'), '6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd');
  });

  it('equals node:crypto for any input split into parts (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 9000 }), fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.nat(), (msg, key, cut) => {
        const m = Buffer.from(msg);
        const k = Buffer.from(key);
        const c = m.length ? cut % (m.length + 1) : 0;
        assert.deepEqual(md5(m.subarray(0, c), m.subarray(c)), crypto.createHash('md5').update(m).digest());
        assert.deepEqual(hmacMd5(hmacKey(k), m.subarray(0, c), m.subarray(c)), crypto.createHmac('md5', k).update(m).digest());
      }),
      { numRuns: 500 },
    );
  });
});
