// RFC 5213 §4 signalling protection (src/security/ipsec.ts, src/main/protection.ts):
// - the XFRM commands built from configured keys (RFC 4301 transport mode, RFC 4303 ESP,
//   RFC 3776: the signalling only), checked argument by argument;
// - the ESP probe against this machine's real kernel (it has no ESP: the probe must say so);
// - the start decision: refused without IPsec unless unprotected signalling is accepted, and a
//   real LMA role refusing to start here.
// What cannot be tested here: installing SAs in a kernel with ESP, and traffic through them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { configSchema } from '../../src/config/index.ts';
import { startLmaRole } from '../../src/main/lma-role.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { migrate } from '../../src/store/migrate.ts';
import { storeOn } from '../../src/store/index.ts';
import { parseSa, probeEsp, protectSignalling, redact, UnprotectedSignallingError, xfrmCommands, xfrmRemoveCommands, type Run } from '../../src/security/ipsec.ts';

const K32a = 'aa'.repeat(32);
const K32b = 'bb'.repeat(32);
const E16a = '0123456789abcdef0123456789abcdef';
const E16b = 'fedcba9876543210fedcba9876543210';
const SPEC = `peer=2001:db8::2,spiIn=0x1001,spiOut=4098,auth=hmac(sha256),authKeyIn=0x${K32a},authKeyOut=${K32b},enc=cbc(aes),encKeyIn=${E16a},encKeyOut=${E16b}`;

describe('RFC 5213 §4: IPsec for the signalling', () => {
  it('parses an SA spec and refuses bad ones with the field named (keys never echoed)', () => {
    const sa = parseSa(SPEC);
    assert.deepEqual(sa, { peer: '2001:db8::2', spiIn: 0x1001, spiOut: 4098, auth: 'hmac(sha256)', authKeyIn: K32a, authKeyOut: K32b, enc: 'cbc(aes)', encKeyIn: E16a, encKeyOut: E16b });
    assert.equal(parseSa(`peer=192.0.2.9,spiIn=300,spiOut=301,auth=hmac(sha1),authKeyIn=${'11'.repeat(20)},authKeyOut=${'22'.repeat(20)}`).enc, 'ecb(cipher_null)');
    assert.throws(() => parseSa(SPEC.replace('spiIn=0x1001', 'spiIn=7')), /spiIn must be an integer 256/);
    assert.throws(() => parseSa(SPEC.replace(`authKeyIn=0x${K32a}`, 'authKeyIn=abcd')), /authKeyIn must be 32 bytes/);
    assert.throws(() => parseSa(SPEC.replace('hmac(sha256)', 'md5')), /auth must be one of/);
    assert.throws(() => parseSa(SPEC.replace(',encKeyOut=', ',x=')), (e: Error) => /encKeyOut is missing/.test(e.message) && !e.message.includes(E16a));
    assert.ok(!redact(SPEC).includes(K32a) && !redact(SPEC).includes(E16b));
  });

  it('RFC 4301 / RFC 3776: transport-mode SAs both ways and policies for UDP 5436 only (LMA side), and their removal', () => {
    const cmds = xfrmCommands({ local: '2001:db8::1', carriage: 'udp', port: 5436, role: 'lma' }, parseSa(SPEC));
    assert.deepEqual(cmds, [
      ['xfrm', 'state', 'add', 'src', '2001:db8::1', 'dst', '2001:db8::2', 'proto', 'esp', 'spi', '0x1002', 'mode', 'transport', 'auth', 'hmac(sha256)', `0x${K32b}`, 'enc', 'cbc(aes)', `0x${E16b}`],
      ['xfrm', 'state', 'add', 'src', '2001:db8::2', 'dst', '2001:db8::1', 'proto', 'esp', 'spi', '0x1001', 'mode', 'transport', 'auth', 'hmac(sha256)', `0x${K32a}`, 'enc', 'cbc(aes)', `0x${E16a}`],
      ['xfrm', 'policy', 'add', 'src', '2001:db8::1', 'dst', '2001:db8::2', 'proto', 'udp', 'sport', '5436', 'dir', 'out', 'tmpl', 'src', '2001:db8::1', 'dst', '2001:db8::2', 'proto', 'esp', 'mode', 'transport', 'level', 'required'],
      ['xfrm', 'policy', 'add', 'src', '2001:db8::2', 'dst', '2001:db8::1', 'proto', 'udp', 'dport', '5436', 'dir', 'in', 'tmpl', 'src', '2001:db8::2', 'dst', '2001:db8::1', 'proto', 'esp', 'mode', 'transport', 'level', 'required'],
    ]);
    const mag = xfrmCommands({ local: '2001:db8::2', carriage: 'udp', port: 5436, role: 'mag' }, parseSa(SPEC));
    assert.deepEqual(mag[2].slice(7, 11), ['proto', 'udp', 'dport', '5436'], 'the MAG sends to the LMA port');
    const mh = xfrmCommands({ local: '2001:db8::1', carriage: 'mh', port: 0, role: 'lma' }, parseSa(SPEC));
    assert.deepEqual(mh[3].slice(7, 9), ['proto', '135'], 'Mobility Header over IPv6');
    assert.deepEqual(xfrmRemoveCommands({ local: '2001:db8::1', carriage: 'udp', port: 5436, role: 'lma' }, parseSa(SPEC)), [
      ['xfrm', 'state', 'delete', 'src', '2001:db8::1', 'dst', '2001:db8::2', 'proto', 'esp', 'spi', '0x1002'],
      ['xfrm', 'state', 'delete', 'src', '2001:db8::2', 'dst', '2001:db8::1', 'proto', 'esp', 'spi', '0x1001'],
      ['xfrm', 'policy', 'delete', 'src', '2001:db8::1', 'dst', '2001:db8::2', 'proto', 'udp', 'sport', '5436', 'dir', 'out'],
      ['xfrm', 'policy', 'delete', 'src', '2001:db8::2', 'dst', '2001:db8::1', 'proto', 'udp', 'dport', '5436', 'dir', 'in'],
    ]);
  });

  it("the probe on this machine's kernel (no ESP): unavailable, with the kernel's reason", async () => {
    const p = await probeEsp();
    assert.equal(p.available, false);
    assert.match(p.detail, /not found|not supported|No such|Operation not permitted/i);
  });

  it('the decision: IPsec when the kernel has ESP; otherwise refused unless unprotected signalling is accepted', async () => {
    const sel = { local: '2001:db8::1', port: 5436, role: 'lma' as const };
    const calls: string[][] = [];
    const withEsp: Run = async (argv) => (calls.push(argv), { ok: true, stderr: '' });
    const d = await protectSignalling({ sas: [SPEC], allowUnprotected: false, selector: sel }, withEsp);
    assert.equal(d.protection, 'ipsec');
    assert.equal(calls[0][10], '0x504d3601', 'the probe first');
    assert.equal(calls.filter((c) => c[2] === 'add' && c[10] !== '0x504d3601').length, 4, 'then 2 SAs and 2 policies');
    await d.remove();
    assert.equal(calls.filter((c) => c[2] === 'delete').length, 1 + 4);
    const noEsp: Run = async () => ({ ok: false, stderr: 'Error: Requested type not found.' });
    await assert.rejects(protectSignalling({ sas: [SPEC], allowUnprotected: false, selector: sel }, noEsp), UnprotectedSignallingError);
    await assert.rejects(protectSignalling({ sas: [], allowUnprotected: false, selector: sel }, withEsp), /no security.ipsecSas configured/);
    const lab = await protectSignalling({ sas: [SPEC], allowUnprotected: true, selector: sel }, noEsp);
    assert.equal(lab.protection, 'unprotected');
    assert.match(lab.reason, /no ESP/);
    // A failing install is undone and, unless accepted, refused.
    let n = 0;
    const failsLate: Run = async (argv) => ({ ok: argv[2] !== 'add' || ++n < 4, stderr: 'boom' });
    const undone: string[][] = [];
    await assert.rejects(protectSignalling({ sas: [SPEC], allowUnprotected: false, selector: sel }, async (argv) => {
      if (argv[2] === 'delete') undone.push(argv);
      return failsLate(argv);
    }), /installing the SAs for 2001:db8::2 failed/);
    assert.ok(undone.length >= 4);
  });

  it('a real LMA role does not start here without IPsec, and says why; with the flag it starts and reports it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pmip6-ipsec-'));
    const db = await openPglite();
    await migrate(db);
    const store = storeOn(db);
    try {
      const base = { dataDir, lma: { address: '127.0.0.1', udpPort: 0, heartbeatInterval: 0 } };
      await assert.rejects(startLmaRole(configSchema.parse(base), store), (e: Error) => e instanceof UnprotectedSignallingError && /allowUnprotectedSignalling/.test(e.message));
      const role = await startLmaRole(configSchema.parse({ ...base, security: { allowUnprotectedSignalling: true } }), store);
      assert.equal(role.signalling, 'unprotected');
      await role.stop();
    } finally {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
