// GETBULK over a binding cache of several thousand rows: strict ordering and completeness
// (RFC 3416 §4.2.3), responses that fit the size limit, and tooBig for GET.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Pmip6SnmpAgent } from '../../src/snmp/agent.ts';
import { BerReader, Tag, ber, encode } from '../../src/snmp/ber.ts';
import { communityMessage } from '../../src/snmp/encode.ts';
import { MemoryPersistence, Pmip6Settings } from '../../src/snmp/settings.ts';
import { compareIndex } from '../../src/snmp/table.ts';
import { populatedLma, type FakeLma } from './fake-view.ts';
import { run, tempDir } from './helpers.ts';

const ROWS = 5000;
const BC = '1.3.6.1.2.1.206.1.1.2.1.1';
let tmp: ReturnType<typeof tempDir>;
let env: Record<string, string>;
let lma: FakeLma;
let agent: Pmip6SnmpAgent;
let small: Pmip6SnmpAgent;
let port: number;
let smallPort: number;

before(async () => {
  tmp = tempDir('bulk');
  mkdirSync(join(tmp.path, 'net-snmp'));
  env = { SNMP_PERSISTENT_DIR: join(tmp.path, 'net-snmp') };
  lma = populatedLma(ROWS);
  const users = [{ name: 'bulk', authProtocol: 'sha256' as const, authKey: 'bulk-auth-1', privProtocol: 'aes' as const, privKey: 'bulk-priv-1' }];
  agent = new Pmip6SnmpAgent({ port: 0, bind: ['127.0.0.1'], communities: [{ name: 'public', view: 'full' }], users }, { lma, settings: await Pmip6Settings.open(new MemoryPersistence()) });
  await agent.start();
  port = agent.addresses()[0].port;
  small = new Pmip6SnmpAgent(
    { port: 0, bind: ['127.0.0.1'], communities: [{ name: 'public', view: 'full' }], maxMessageSize: 1500 },
    { lma, settings: await Pmip6Settings.open(new MemoryPersistence()) },
  );
  await small.start();
  smallPort = small.addresses()[0].port;
});
after(async () => {
  await agent.stop();
  await small.stop();
  tmp.remove();
});

/** Numeric OIDs of `snmpbulkwalk -On -Oq` output, checked strictly increasing. */
function oidsInOrder(out: string): number[][] {
  const oids = out
    .trim()
    .split('\n')
    .map((l) => l.split(' ')[0].replace(/^\./, '').split('.').map(Number));
  for (let i = 1; i < oids.length; i++) assert.ok(compareIndex(oids[i - 1], oids[i]) < 0, `OID not increasing at ${i}: ${oids[i].join('.')}`);
  return oids;
}

function expectedOids(): number[][] {
  const rows = [...lma.bindingCache.entries()].map((e) => e.index);
  const out: number[][] = [];
  for (let col = 1; col <= 8; col++) for (const idx of rows) out.push([...BC.split('.').map(Number), col, ...idx]);
  return out;
}

describe(`GETBULK over ${ROWS} bindings (RFC 3416 §4.2.3)`, () => {
  for (const [label, args] of [
    ['v2c, max-repetitions 37', ['-v2c', '-c', 'public', '-Cr37']],
    ['v3 authPriv SHA-256/AES, max-repetitions 50', ['-v3', '-l', 'authPriv', '-u', 'bulk', '-a', 'SHA-256', '-A', 'bulk-auth-1', '-x', 'AES', '-X', 'bulk-priv-1', '-Cr50']],
  ] as const) {
    test(`RFC 3416 §4.2.3: snmpbulkwalk ${label} returns every row of every column once, in strictly increasing order`, async () => {
      const r = await run('snmpbulkwalk', ['-On', '-Oq', '-m', '', '-r', '1', '-t', '5', ...args, `127.0.0.1:${port}`, BC], env);
      assert.equal(r.code, 0, r.stderr);
      const got = oidsInOrder(r.stdout);
      const want = expectedOids();
      assert.equal(got.length, want.length);
      for (let i = 0; i < want.length; i++) assert.deepEqual(got[i], want[i]);
    });
  }

  test('RFC 3416 §4.2.3: with a 1500-octet message limit, max-repetitions 1000 gets as many varbinds as fit, and the walk is complete', async () => {
    const r = await run('snmpbulkwalk', ['-On', '-Oq', '-m', '', '-v2c', '-c', 'public', '-Cr1000', `127.0.0.1:${smallPort}`, `${BC}.2`], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(oidsInOrder(r.stdout).length, ROWS);

    // One request by hand: the response must fit 1500 octets and carry a full prefix of the rows.
    const sock = dgram.createSocket('udp4');
    const req = communityMessage(
      Buffer.from('public'),
      encode(ber.constructed(Tag.GetBulkRequest, ber.int(42), ber.int(0), ber.int(1000), ber.seq(ber.seq(ber.oid(`${BC}.2`.split('.').map(Number)), { tag: Tag.Null, content: Buffer.alloc(0) })))),
    );
    const resp = await new Promise<Buffer>((resolve) => {
      sock.once('message', (m) => resolve(m));
      sock.send(req, smallPort, '127.0.0.1');
    });
    sock.close();
    assert.ok(resp.length <= 1500, `response of ${resp.length} octets`);
    const msg = new BerReader(resp).sequence();
    msg.integer();
    msg.octets();
    const pdu = msg.sequence(Tag.Response);
    assert.equal(pdu.integer(), 42);
    assert.equal(pdu.integer(), 0, 'no error (GETBULK never answers tooBig)');
    pdu.integer();
    const vbs = pdu.sequence();
    let n = 0;
    while (!vbs.done) {
      vbs.read(Tag.Sequence);
      n++;
    }
    assert.ok(n > 20 && n < 1000, `${n} varbinds`);
  });

  test('RFC 3416 §3/§4.2.3: non-repeaters are answered once, then the repeaters', async () => {
    const r = await run('snmpbulkget', ['-On', '-Oq', '-m', '', '-v2c', '-c', 'public', '-Cn1', '-Cr3', `127.0.0.1:${port}`, '1.3.6.1.2.1.1.3', `${BC}.2`, `${BC}.3`], env);
    const lines = r.stdout.trim().split('\n').map((l) => l.split(' ')[0]);
    assert.equal(lines.length, 7);
    assert.equal(lines[0], '.1.3.6.1.2.1.1.3.0');
    assert.deepEqual(
      lines.slice(1).map((l) => l.split('.')[13]),
      ['2', '3', '2', '3', '2', '3'],
    );
  });

  test('RFC 3416 §4.2.1: a GET whose response would exceed the limit is answered tooBig', async () => {
    const oids = Array.from({ length: 40 }, (_, i) => `${BC}.8.2.16.32.1.13.184.0.0.0.${i + 1}.0.0.0.0.0.0.0.0`);
    const before = small.stats.tooBig;
    const r = await run('snmpget', ['-m', '', '-v2c', '-c', 'public', `127.0.0.1:${smallPort}`, ...oids], env);
    assert.match(r.stderr + r.stdout, /tooBig/);
    assert.equal(small.stats.tooBig, before + 1);
  });
});
