// RFC 5844 §4 IPv4/UDP carriage through the native addon's batched socket (recvmmsg /
// sendmmsg, src/transport/udp-native.ts) and through node:dgram (batched: false), over real
// loopback sockets: the same datagrams, sources and ports either way, and bursts bigger than
// one batch arrive whole and in order.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { openUdpTransport, type UdpTransport } from '../../src/transport/udp.ts';
import { collect, LoopbackUdp } from '../helpers/udp-loopback.ts';
import { nativeUdp } from '../../src/transport/udp-native.ts';

const lo = new LoopbackUdp();
const udp = (addresses: string[], batched: boolean): Promise<UdpTransport> => lo.udp(addresses, batched);

describe('RFC 5844 §4 UDP transport, batched native socket and node:dgram', () => {
  after(() => lo.closeAll());

  it('the addon built here has the batched UDP socket', () => {
    assert.equal(typeof nativeUdp(), 'function');
  });

  for (const [name, sender, receiver] of [
    ['batched -> batched', true, true],
    ['batched -> dgram', true, false],
    ['dgram -> batched', false, true],
  ] as const) {
    it(`${name}: 600 datagrams in one burst arrive whole, in order, with source address and port`, async () => {
      const a = await udp(['127.0.0.1'], sender);
      const b = await udp(['127.0.0.2'], receiver);
      const N = 600; // more than one send batch (256) and many receive batches (64)
      const got = collect(b, N);
      for (let i = 0; i < N; i++) {
        const d = Buffer.alloc(8 + (i % 50));
        d.writeUInt32BE(i, 4);
        a.send(d, { address: '127.0.0.2', port: b.localAddress().port });
      }
      const ms = await got;
      for (let i = 0; i < N; i++) {
        assert.equal(ms[i].data.readUInt32BE(4), i);
        assert.equal(ms[i].data.length, 8 + (i % 50));
        assert.deepEqual(ms[i].from, { address: '127.0.0.1', port: a.localAddress().port });
        assert.equal(ms[i].local, '127.0.0.2');
        assert.equal(ms[i].carriage, 'udp4');
      }
      if (receiver) {
        const s = b.batchStats()['127.0.0.2'];
        assert.equal(s.rxPackets, N);
        assert.ok(s.rxBatches < N, 'received in batches');
      }
      if (sender) assert.ok(a.batchStats()['127.0.0.1'].txBatches < N, 'sent in batches');
    });
  }

  for (const gso of [true, false]) {
    it(`equal datagrams to one peer (UDP_SEGMENT ${gso ? 'runs' : 'off'}): 600 arrive as 600 datagrams, in order, with the sender's address and port`, async () => {
      const a = await openUdpTransport({ addresses: ['127.0.0.1'], port: 0, batched: true, gso });
      lo.open.push(a);
      const b = await udp(['127.0.0.2'], false); // node:dgram: one message event per datagram the kernel delivers
      const c = await udp(['127.0.0.3'], true);
      const N = 600;
      const got = collect(b, N);
      const gotC = collect(c, 10);
      for (let i = 0; i < N; i++) {
        const d = Buffer.alloc(72, i & 0xff);
        d.writeUInt32BE(i, 4);
        a.send(d, { address: '127.0.0.2', port: b.localAddress().port });
        // A second peer and another size in between: runs end there.
        if (i % 60 === 0) a.send(Buffer.alloc(40, 0xee), { address: '127.0.0.3', port: c.localAddress().port });
      }
      const ms = await got;
      for (let i = 0; i < N; i++) {
        assert.equal(ms[i].data.length, 72);
        assert.equal(ms[i].data.readUInt32BE(4), i);
        assert.equal(ms[i].data[71], i & 0xff);
        assert.deepEqual(ms[i].from, { address: '127.0.0.1', port: a.localAddress().port });
      }
      for (const m of await gotC) assert.deepEqual(m.data, Buffer.alloc(40, 0xee));
      const s = a.batchStats()['127.0.0.1'];
      assert.equal(s.txPackets, N + 10);
      assert.equal(s.txErrors, 0);
      if (gso) assert.ok((s.txGsoRuns ?? 0) > 0 && (s.txGsoRuns ?? 0) < N, `runs: ${s.txGsoRuns}`);
      else assert.equal(s.txGsoRuns, 0);
    });
  }

  it('empty datagrams in a row (no segment size to cut them by) arrive one by one, all of them', async () => {
    const a = await udp(['127.0.0.1'], true);
    const b = await udp(['127.0.0.2'], false);
    const got = collect(b, 20);
    for (let i = 0; i < 10; i++) a.send(Buffer.alloc(0), { address: '127.0.0.2', port: b.localAddress().port });
    for (let i = 0; i < 10; i++) a.send(Buffer.alloc(8, i), { address: '127.0.0.2', port: b.localAddress().port });
    const ms = await got;
    assert.deepEqual(ms.map((m) => m.data.length), [...Array(10).fill(0), ...Array(10).fill(8)]);
    assert.equal(a.batchStats()['127.0.0.1'].txPackets, 20);
  });

  it('a run larger than the path MTU (EMSGSIZE from UDP_SEGMENT) goes again datagram by datagram, fragmented as any, and segmentation stays on', async () => {
    // A local address of our own on loopback whose route has MTU 1280 (removed afterwards).
    const addr = `127.254.${(process.pid >> 8) & 255}.${process.pid & 255}`;
    execFileSync('ip', ['route', 'add', 'local', `${addr}/32`, 'dev', 'lo', 'table', 'local', 'mtu', 'lock', '1280']);
    try {
      const a = await udp(['127.0.0.1'], true);
      const b = await udp([addr], false);
      const got = collect(b, 20);
      for (let i = 0; i < 10; i++) a.send(Buffer.alloc(1400, i), { address: addr, port: b.localAddress().port });
      for (let i = 0; i < 10; i++) a.send(Buffer.alloc(100, i), { address: addr, port: b.localAddress().port });
      const ms = await got;
      assert.deepEqual(ms.map((m) => m.data.length), [...Array(10).fill(1400), ...Array(10).fill(100)]);
      assert.deepEqual(ms.map((m) => m.data[0]), [...Array(10).keys(), ...Array(10).keys()]);
      const st = a.batchStats()['127.0.0.1'];
      assert.equal(st.txPackets, 20);
      assert.equal(st.txErrors, 0);
      assert.equal(st.gsoFailures, 1);
      assert.equal(st.gso, 1, 'segmentation stays on: only that run was too large');
    } finally {
      execFileSync('ip', ['route', 'del', 'local', `${addr}/32`, 'dev', 'lo', 'table', 'local']);
    }
  });

  it('a batched socket answers a plain dgram peer at its port, and a bound port is refused cleanly', async () => {
    const t = await udp(['127.0.0.1'], true);
    t.onReceive((m) => t.send(m.data, m.from));
    const c = dgram.createSocket('udp4');
    await new Promise<void>((r) => c.bind(0, '127.0.0.1', () => r()));
    const echoed = new Promise<Buffer>((r) => c.once('message', (d) => r(d)));
    c.send(Buffer.from('3b01050000000000', 'hex'), t.localAddress().port!, '127.0.0.1');
    assert.equal((await echoed).toString('hex'), '3b01050000000000');
    c.close();
    await assert.rejects(openUdpTransport({ addresses: ['127.0.0.1'], port: t.localAddress().port, batched: true }), /EADDRINUSE|address already in use/i);
  });

  it('an address that is not IPv4 text is reported through onError, never thrown', async () => {
    const t = await udp(['127.0.0.1'], true);
    const err = new Promise<Error>((r) => t.onError((e) => r(e)));
    t.send(Buffer.alloc(8), { address: '1.2.3', port: 5436 });
    assert.match((await err).message, /not an IPv4 address/);
  });
});
