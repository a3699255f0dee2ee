// RFC 5844 §4 IPv4/UDP carriage of the Mobility Header over real sockets on loopback.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import dgram from 'node:dgram';
import { openUdpTransport } from '../../src/transport/udp.ts';
import type { UdpTransport } from '../../src/transport/udp.ts';
import type { ReceivedMh } from '../../src/transport/types.ts';
import { PMIP6_CNTL_UDP_PORT } from '../../src/mh/index.ts';

function nextMessage(t: UdpTransport): Promise<ReceivedMh> {
  return new Promise((r) => t.onReceive(r));
}

const open: UdpTransport[] = [];
async function udp(addresses: string[], port = 0): Promise<UdpTransport> {
  const t = await openUdpTransport({ addresses, port });
  open.push(t);
  return t;
}

async function ipv6Loopback(): Promise<boolean> {
  const s = dgram.createSocket('udp6');
  try {
    await new Promise<void>((res, rej) => {
      s.once('error', rej);
      s.bind(0, '::1', () => res());
    });
    return true;
  } catch {
    return false;
  } finally {
    s.close();
  }
}

describe('RFC 5844 §4 UDP transport', () => {
  after(async () => {
    for (const t of open) await t.close();
  });

  it('§4: port 0 binds a free port; datagrams carry source address/port and the local address; carriage udp4', async () => {
    const a = await udp(['127.0.0.1']);
    const b = await udp(['127.0.0.1']);
    assert.ok(a.localAddress().port! > 0);
    assert.notEqual(a.localAddress().port, PMIP6_CNTL_UDP_PORT);
    const got = nextMessage(b);
    a.send(Buffer.from('3b01050000000000', 'hex'), { address: '127.0.0.1', port: b.localAddress().port });
    const m = await got;
    assert.equal(m.data.toString('hex'), '3b01050000000000');
    assert.deepEqual(m.from, { address: '127.0.0.1', port: a.localAddress().port });
    assert.equal(m.local, '127.0.0.1');
    assert.equal(m.carriage, 'udp4');
  });

  it('§4.1.3.2: a reply leaves from the address the request was sent to (one socket per local address)', async () => {
    const lma = await udp(['127.0.0.1', '127.0.0.2']);
    const mag = await udp(['127.0.0.3']);
    const port = lma.localAddress().port!;
    assert.deepEqual(lma.localAddresses().map((p) => p.port), [port, port], 'the same port on every address');
    const req = nextMessage(lma);
    mag.send(Buffer.alloc(8), { address: '127.0.0.2', port });
    const r = await req;
    assert.equal(r.local, '127.0.0.2');
    const rep = nextMessage(mag);
    lma.send(Buffer.alloc(16), r.from, r.local);
    const m = await rep;
    assert.deepEqual(m.from, { address: '127.0.0.2', port });
  });

  it('a wildcard socket reports no local address', async () => {
    const any = await udp(['0.0.0.0']);
    const mag = await udp(['127.0.0.1']);
    const req = nextMessage(any);
    mag.send(Buffer.alloc(8), { address: '127.0.0.1', port: any.localAddress().port });
    const r = await req;
    assert.equal(r.local, undefined);
    assert.equal(r.carriage, 'udp4');
  });

  it('IPv6 sockets next to IPv4 ones (carriage udp6), chosen by the destination family', async (t) => {
    if (!(await ipv6Loopback())) return t.skip('no IPv6 loopback here');
    const lma = await udp(['127.0.0.1', '::1']);
    const mag6 = await udp(['::1']);
    const req = nextMessage(lma);
    mag6.send(Buffer.alloc(8), { address: '::1', port: lma.localAddress().port });
    const r = await req;
    assert.equal(r.carriage, 'udp6');
    assert.equal(r.local, '::1');
    const rep = nextMessage(mag6);
    lma.send(Buffer.alloc(8), r.from);
    assert.equal((await rep).from.address, '::1');
  });

  it('send errors are reported through onError, never thrown', async () => {
    const a = await udp(['127.0.0.1']);
    const errs: Error[] = [];
    a.onError((e) => errs.push(e));
    a.send(Buffer.alloc(8), { address: '::1', port: 9 }); // no IPv6 socket
    assert.equal(errs.length, 1);
    a.send(Buffer.alloc(70_000), { address: '127.0.0.1', port: 9 }); // larger than a UDP datagram
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(errs.length, 2);
  });

  it('binding a port in use fails cleanly and closes what it opened', async () => {
    const a = await udp(['127.0.0.1']);
    await assert.rejects(openUdpTransport({ addresses: ['127.0.0.1'], port: a.localAddress().port }));
  });

  it('close() stops delivery and is idempotent', async () => {
    const a = await udp(['127.0.0.1']);
    const b = await openUdpTransport({ addresses: ['127.0.0.1'], port: 0 });
    let n = 0;
    b.onReceive(() => n++);
    await b.close();
    await b.close();
    a.send(Buffer.alloc(8), { address: '127.0.0.1', port: b.localAddress().port });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(n, 0);
  });
});
