// RFC 3416 for names net-snmp decodes but the SMI does not allow (src/snmp/names.ts): an empty
// OID value, a first sub-identifier of 120 or more, a sub-identifier at 2^32-1. They are
// parseable input, so never genErr: GET answers noSuchObject (§4.2.1), GETNEXT and GETBULK
// the lexicographic successor (§4.2.2, §4.2.3: the first object after the empty name,
// endOfMibView after a name beyond the 1.3.6.1 tree), with the request's name echoed; each
// cause is logged once per interval, with a count, however many requests carry it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { pino } from 'pino';
import { Pmip6SnmpAgent } from '../../src/snmp/agent.ts';
import { BerReader, Tag, ber, encode } from '../../src/snmp/ber.ts';
import { communityMessage } from '../../src/snmp/encode.ts';
import { MemoryPersistence, Pmip6Settings } from '../../src/snmp/settings.ts';
import { FakeMag, populatedLma } from './fake-view.ts';
import { freeUdpPort } from './helpers.ts';

const NO_SUCH_OBJECT = 0x80;
const END_OF_MIB_VIEW = 0x82;

interface Reply {
  errorStatus: number;
  varbinds: { name: Buffer; tag: number }[];
}

function parseResponse(buf: Buffer): Reply {
  const msg = new BerReader(buf).sequence();
  msg.integer();
  msg.octets();
  const pdu = msg.sequence(Tag.Response);
  pdu.integer();
  const errorStatus = pdu.integer();
  pdu.integer();
  const list = pdu.sequence();
  const varbinds: Reply['varbinds'] = [];
  while (!list.done) {
    const vb = list.sequence();
    const name = vb.read(Tag.Oid);
    const value = vb.read();
    varbinds.push({ name: buf.subarray(name.start, name.end), tag: value.tag });
  }
  return { errorStatus, varbinds };
}

describe('SNMP names outside the SMI rules (RFC 3416)', () => {
  let agent: Pmip6SnmpAgent;
  let port: number;
  let sock: dgram.Socket;
  const lines: string[] = [];

  before(async () => {
    port = await freeUdpPort();
    const settings = await Pmip6Settings.open(new MemoryPersistence(), { lmaStatus: 'enabled', magStatus: 'enabled' });
    const log = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
    agent = new Pmip6SnmpAgent({ port, bind: ['127.0.0.1'], communities: [{ name: 'public' }], users: [] }, { lma: populatedLma(3), mag: new FakeMag(), settings, logger: log });
    await agent.start();
    sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  });
  after(async () => {
    sock.close();
    await agent.stop();
  });

  const ask = (tag: number, name: Buffer, nonRepeaters = 0, maxRep = 0): Promise<Reply> => {
    const pdu = ber.constructed(tag, ber.int(7), ber.int(nonRepeaters), ber.int(maxRep), ber.seq(ber.seq(ber.raw(Tag.Oid, name), { tag: Tag.Null, content: Buffer.alloc(0) })));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no response')), 2000);
      sock.once('message', (m) => {
        clearTimeout(t);
        resolve(parseResponse(m));
      });
      sock.send(communityMessage(Buffer.from('public'), encode(pdu)), port, '127.0.0.1');
    });
  };

  const beyond: [string, Buffer][] = [
    ['first sub-identifier 200 ("5.0")', Buffer.from([0x81, 0x48])],
    ['first sub-identifier 2^32-1', Buffer.from([0x8f, 0xff, 0xff, 0xff, 0x7f])],
    ['first sub-identifier 120, then more', Buffer.from([0x78, 0x01, 0x02])],
  ];

  it('§4.2.1 GET: noSuchObject with the name echoed; §4.2.2/§4.2.3 GETNEXT and GETBULK: endOfMibView', async () => {
    for (const [what, name] of beyond) {
      const g = await ask(Tag.GetRequest, name);
      assert.equal(g.errorStatus, 0, what);
      assert.deepEqual(g.varbinds.map((v) => [v.name.toString('hex'), v.tag]), [[name.toString('hex'), NO_SUCH_OBJECT]], what);
      const n = await ask(Tag.GetNextRequest, name);
      assert.equal(n.errorStatus, 0, what);
      assert.deepEqual(n.varbinds.map((v) => [v.name.toString('hex'), v.tag]), [[name.toString('hex'), END_OF_MIB_VIEW]], what);
      const b = await ask(Tag.GetBulkRequest, name, 0, 3);
      assert.equal(b.errorStatus, 0, what);
      assert.equal(b.varbinds[0].tag, END_OF_MIB_VIEW, what);
    }
  });

  it('the empty name: GET noSuchObject, GETNEXT its successor (the first object, sysDescr)', async () => {
    const g = await ask(Tag.GetRequest, Buffer.alloc(0));
    assert.equal(g.errorStatus, 0);
    assert.equal(g.varbinds[0].tag, NO_SUCH_OBJECT);
    assert.equal(g.varbinds[0].name.length, 0);
    const n = await ask(Tag.GetNextRequest, Buffer.alloc(0));
    assert.equal(n.errorStatus, 0);
    assert.equal(n.varbinds[0].name.toString('hex'), '2b06010201010100', '1.3.6.1.2.1.1.1.0');
    // A continuation octet with no end reads as the empty name too.
    assert.equal((await ask(Tag.GetRequest, Buffer.from([0xc8]))).errorStatus, 0);
  });

  it('never genErr, and one log line per cause however many requests carry it', async () => {
    for (let i = 0; i < 40; i++) await ask(Tag.GetRequest, beyond[i % beyond.length][1]);
    assert.equal(agent.stats.internalErrors, 0);
    assert.ok(agent.stats.unusualNames >= 40);
    const warn = lines.map((l) => JSON.parse(l) as { msg: string; cause?: string }).filter((l) => /outside the SMI/.test(l.msg));
    assert.deepEqual(warn.map((l) => l.cause).sort(), ['empty', 'first-arc']);
  });
});
