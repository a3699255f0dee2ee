// MhTransport.sendInto on the UDP transport (RFC 5844 §4): a Mobility Header written in place
// into the batched socket's outgoing buffer (src/transport/udp-native.ts), or into a scratch
// buffer and copied on node:dgram, over real loopback sockets: the receiver gets exactly the
// octets encodeMessage gives, in order with datagrams queued by send(); a writer that throws
// sends nothing and leaves the queue as it was.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { BaFlag, encodeMessage, encodeMessageInto, timestampFromMs } from '../../src/mh/index.ts';
import type { BindingAck } from '../../src/mh/index.ts';
import type { UdpTransport } from '../../src/transport/udp.ts';
import { collect, LoopbackUdp } from '../helpers/udp-loopback.ts';

const lo = new LoopbackUdp();
const udp = (address: string, batched: boolean): Promise<UdpTransport> => lo.udp([address], batched);

/** A PBA as the LMA sends one (RFC 5213 §5.3.6), sequence number i. */
function pba(i: number): BindingAck {
  return {
    type: 'ba', status: 0, flags: BaFlag.P, seq: i & 0xffff, lifetime: 900,
    options: [
      { type: 'mnId', subtype: 1, id: Buffer.from(`mn${i}@example.net`) },
      { type: 'hnp', prefixLen: 64, prefix: Buffer.from(`20010db8${(i & 0xffff).toString(16).padStart(4, '0')}0000${'0'.repeat(16)}`, 'hex') },
      { type: 'handoffIndicator', hi: 1 },
      { type: 'accessTechType', att: 4 },
      { type: 'timestamp', value: timestampFromMs(1_700_000_000_000 + i) },
    ],
  };
}

describe('RFC 5844 §4 UDP transport: sendInto writes the MH in place', () => {
  after(() => lo.closeAll());

  for (const batched of [true, false]) {
    it(`${batched ? 'batched socket' : 'node:dgram'}: 600 PBAs written in place, between datagrams sent with send(), arrive as encodeMessage's octets, in order`, async () => {
      const a = await udp('127.0.0.1', batched);
      const b = await udp('127.0.0.2', true);
      const N = 600; // more than one outgoing batch (256 datagrams)
      const got = collect(b, N);
      const to = { address: '127.0.0.2', port: b.localAddress().port };
      for (let i = 0; i < N; i++) {
        if (i % 7 === 3) a.send(encodeMessage(pba(i)), to);
        else a.sendInto(encodeMessageInto, pba(i), to);
      }
      const ms = await got;
      for (let i = 0; i < N; i++) {
        assert.equal(ms[i].data.toString('hex'), encodeMessage(pba(i)).toString('hex'), `datagram ${i}`);
        assert.deepEqual(ms[i].from, { address: '127.0.0.1', port: a.localAddress().port });
      }
    });
  }

  it('a writer that throws sends nothing: the error comes out of sendInto, and what was queued before and after goes out whole', async () => {
    const a = await udp('127.0.0.1', true);
    const b = await udp('127.0.0.2', true);
    const got = collect(b, 2);
    const to = { address: '127.0.0.2', port: b.localAddress().port };
    a.sendInto(encodeMessageInto, pba(1), to);
    const bad = { ...pba(2), status: 256 }; // not an 8-bit Status: the encoder refuses it
    assert.throws(() => a.sendInto(encodeMessageInto, bad, to), RangeError);
    a.sendInto(encodeMessageInto, pba(3), to);
    const ms = await got;
    assert.deepEqual(ms.map((m) => m.data.toString('hex')), [encodeMessage(pba(1)).toString('hex'), encodeMessage(pba(3)).toString('hex')]);
    // Nothing else arrives: a datagram from the failed write would come before this one.
    const more = collect(b, 1);
    a.send(Buffer.from('3b01050000000000', 'hex'), to);
    assert.equal((await more)[0].data.toString('hex'), '3b01050000000000');
  });

  it('a writer that claims more octets than it was given room for is reported through onError, and nothing is queued', async () => {
    const a = await udp('127.0.0.1', true);
    const b = await udp('127.0.0.2', true);
    const err = new Promise<Error>((r) => a.onError((e) => r(e)));
    const to = { address: '127.0.0.2', port: b.localAddress().port };
    a.sendInto(() => 1_000_000, null, to);
    assert.match((await err).message, /writer returned 1000000 octets/);
    const got = collect(b, 1);
    a.send(Buffer.from('3b01050000000000', 'hex'), to);
    assert.equal((await got)[0].data.toString('hex'), '3b01050000000000');
  });
});
