// RFC 8044 §3.4/§3.9 text parsing: the single-pass parseIpv4/parseIpv6 (src/radius/values.ts)
// agree with a straightforward split-based reference (the previous implementation, kept here
// as the oracle) on hand-picked forms and on 200,000 random near-valid strings.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIpv4, parseIpv6 } from '../../src/radius/values.ts';

function refIpv4(s: string): Buffer | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === '0')) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function refGroups(s: string, allowV4Tail: boolean): number[] | null {
  if (s === '') return [];
  const parts = s.split(':');
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (i === parts.length - 1 && allowV4Tail && p.includes('.')) {
      const v4 = refIpv4(p);
      if (!v4) return null;
      out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
      out.push(parseInt(p, 16));
    }
  }
  return out;
}

function refIpv6(s: string): Buffer | null {
  if (s.length < 2 || s.length > 45) return null;
  const dc = s.indexOf('::');
  let groups: number[];
  if (dc >= 0) {
    if (s.indexOf('::', dc + 1) >= 0) return null;
    const head = refGroups(s.slice(0, dc), false);
    const tail = refGroups(s.slice(dc + 2), true);
    if (!head || !tail || head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const g = refGroups(s, true);
    if (!g || g.length !== 8) return null;
    groups = g;
  }
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(groups[i], i * 2);
  return out;
}

const same = (a: Buffer | null, b: Buffer | null) => (a === null ? b === null : b !== null && a.equals(b));

describe('RFC 8044 address text parsing', () => {
  it('§3.9/§3.4: hand-picked valid and invalid forms match the reference', () => {
    const cases = [
      '::', '::1', '1::', '1::2', '2001:db8::1', 'FE80::1:2', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8',
      '1:2:3:4:5:6:1.2.3.4', '::1.2.3.4', '::ffff:192.0.2.1', '1::1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '1.2.3.4::',
      '1.2.3.4::1', '::1.2.3', '::1.2.3.04', '::256.1.1.1', '1:::2', ':::', ':1', '1:', '1::2:', '::1:', '12345::', 'g::1',
      '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '::0000:0:0:0:0:0:0', '0:0:0:0:0:0:0:0', '::a.b.c.d', '1::2.3.4.5.6',
      '::1.2.3.4:5', '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7', ':', '', 'a', ':: ', ' ::', '::%eth0',
    ];
    for (const c of cases) {
      assert.ok(same(parseIpv6(c), refIpv6(c)), `ipv6 ${JSON.stringify(c)}`);
      assert.ok(same(parseIpv4(c), refIpv4(c)), `ipv4 ${JSON.stringify(c)}`);
    }
    for (const c of ['0.0.0.0', '255.255.255.255', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.256', '1..2.3', '.1.2.3', '1.2.3.', '1000.1.1.1', '1.2.3.4 ']) {
      assert.ok(same(parseIpv4(c), refIpv4(c)), `ipv4 ${JSON.stringify(c)}`);
    }
  });

  it('§3.9/§3.4: 200,000 random near-valid strings parse as the reference does', () => {
    let seed = 0x9e3779b9;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed % n;
    };
    const atoms = ['0', '1', '00', '01', '12', '255', '256', 'ff', 'FFFF', 'abcd', '12345', 'g', ':', '::', '.', '1.2.3.4', '0.0.0.0', '192.0.2.1', '01.2.3.4', '2001', 'db8', ''];
    let valid6 = 0;
    for (let k = 0; k < 200_000; k++) {
      let s = '';
      const parts = 1 + rnd(12);
      for (let i = 0; i < parts; i++) s += atoms[rnd(atoms.length)] + (rnd(3) === 0 ? '' : ':');
      if (rnd(4) === 0) s = s.slice(0, s.length - 1);
      const a = parseIpv6(s);
      assert.ok(same(a, refIpv6(s)), `ipv6 ${JSON.stringify(s)}`);
      if (a) valid6++;
      const v4 = `${atoms[rnd(atoms.length)]}.${atoms[rnd(atoms.length)]}`;
      assert.ok(same(parseIpv4(v4), refIpv4(v4)), `ipv4 ${JSON.stringify(v4)}`);
    }
    assert.ok(valid6 > 1000, `the generator produced ${valid6} valid IPv6 strings`);
  });
});
