// The client side (RFC 6733 §2.1 reconnection, §5.5.4 failover with the T flag, request
// timeouts) against real servers on loopback, and a scripted peer that drops a request.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { DiameterAaaClient, DiameterServer, MemoryDiameterPolicy } from '../../src/diameter/index.ts';
import { buildCea } from '../../src/diameter/build.ts';
import { decodeMessage, type DiameterMessage } from '../../src/diameter/codec.ts';
import { Cmd, CmdFlag, Result } from '../../src/diameter/constants.ts';
import { Framer } from '../../src/diameter/framer.ts';
import { backoffMs } from '../../src/diameter/link.ts';
import { makeProfile } from '../../src/radius/memory-policy.ts';
import { REALM, localNode, until } from './helpers.ts';
import { freePort } from '../helpers/cli.ts';

function memoryPolicy(): MemoryDiameterPolicy {
  const p = new MemoryDiameterPolicy().addPeer({ identity: 'mag1.example.net', realm: REALM });
  p.addProfile(makeProfile({ mnId: 'mn1@example.net', hnps: ['2001:db8:1::/64'], lma: '2001:db8::1' }));
  return p;
}

async function server(identity: string, port = 0): Promise<DiameterServer> {
  const s = new DiameterServer({ policy: memoryPolicy(), identity, realm: REALM, hosts: ['127.0.0.1'], port });
  await s.start();
  return s;
}

describe('RFC 6733 §2.1, §5.5.4: the client\'s peers', () => {
  it('requests go to the first open peer; when it goes away they go to the next; it comes back after reconnection', async () => {
    const a = await server('aaa1.example.net');
    const b = await server('aaa2.example.net');
    const aPort = a.ports.tcp;
    const c = new DiameterAaaClient({ identity: 'mag1.example.net', realm: REALM, peers: [`aaa://127.0.0.1:${aPort}`, `aaa://127.0.0.1:${b.ports.tcp}`], cacheTtlMs: 0, reconnectMinMs: 50, reconnectMaxMs: 200 });
    let a2: DiameterServer | null = null;
    try {
      c.start();
      await until('both peers open', () => c.links.every((l) => l.open));
      const r1 = await c.authorize({ userName: 'mn1@example.net' });
      assert.ok(r1.status === 'accept' && r1.server === `aaa://127.0.0.1:${aPort}`);
      await a.stop(); // DPR REBOOTING to the client, then closed
      await until('peer A down', () => !c.links[0].open);
      const r2 = await c.authorize({ userName: 'mn1@example.net' });
      assert.ok(r2.status === 'accept' && r2.server === `aaa://127.0.0.1:${b.ports.tcp}`, 'failed over to B');
      a2 = await server('aaa1.example.net', aPort);
      await until('reconnected to A (back-off)', () => c.links[0].open, 5000);
      assert.ok(c.links[0].attempts === 0, 'attempts reset once open');
    } finally {
      await c.close();
      await a2?.stop();
      await b.stop();
    }
  });

  it('a request whose connection breaks before the answer is sent again with the T flag and the same End-to-End Identifier', async () => {
    // A scripted server: CER → CEA; the first AAR kills the connection; the next one is answered.
    const seen: DiameterMessage[] = [];
    let aarCount = 0;
    const srv = net.createServer((sock) => {
      const f = new Framer();
      sock.on('error', () => undefined);
      sock.on('data', (d: Buffer) => {
        for (const raw of f.push(d).messages) {
          const m = decodeMessage(Buffer.from(raw));
          if (!m.ok) continue;
          if (m.value.commandCode === Cmd.CapabilitiesExchange) sock.write(buildCea(localNode('aaa.example.net'), m.value, Result.Success, '127.0.0.1'));
          if (m.value.commandCode === Cmd.AA) {
            seen.push(m.value);
            if (++aarCount === 1) {
              sock.destroy();
              return;
            }
            const w = Buffer.from(raw);
            w[4] &= ~CmdFlag.R & ~CmdFlag.T; // echo as an answer: no profile AVPs, but Result-Code is missing → not success
            sock.write(w);
          }
        }
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    const c = new DiameterAaaClient({ identity: 'mag1.example.net', realm: REALM, peers: [`aaa://127.0.0.1:${port}`], reconnectMinMs: 20, reconnectMaxMs: 50, requestTimeoutMs: 5000 });
    try {
      c.start();
      await c.ready();
      const r = await c.authorize({ userName: 'mn1@example.net' });
      assert.equal(r.status, 'error', 'the echoed request is no usable answer');
      assert.equal(seen.length, 2);
      assert.equal(seen[0].flags & CmdFlag.T, 0, 'first sent without T');
      assert.ok(seen[1].flags & CmdFlag.T, 'resent with T (§3)');
      assert.equal(seen[1].endToEnd, seen[0].endToEnd, 'same End-to-End Identifier');
    } finally {
      await c.close();
      srv.close();
    }
  });

  it('with no peer reachable a request ends with a timeout; connection attempts back off (min · 2^n up to Tc, ±20 %)', async () => {
    const port = await freePort();
    const c = new DiameterAaaClient({ identity: 'mag1.example.net', realm: REALM, peers: [`aaa://127.0.0.1:${port}`], requestTimeoutMs: 300, reconnectMinMs: 1000 });
    try {
      c.start();
      const r = await c.authorize({ userName: 'mn1@example.net' });
      assert.deepEqual(r, { status: 'error', error: 'timeout' });
    } finally {
      await c.close();
    }
    assert.equal(backoffMs(0, 1000, 30_000, () => 0.5), 1000);
    assert.equal(backoffMs(3, 1000, 30_000, () => 0.5), 8000);
    assert.equal(backoffMs(10, 1000, 30_000, () => 0.5), 30_000);
    assert.equal(backoffMs(10, 1000, 30_000, () => 0), 24_000);
    assert.equal(backoffMs(10, 1000, 30_000, () => 1), 36_000);
  });

  it('an FQDN peer must answer with that Origin-Host (RFC 6733 §5.3: the identity is checked)', async () => {
    const s = await server('aaa.example.net');
    const c = new DiameterAaaClient({ identity: 'mag1.example.net', realm: REALM, peers: [`aaa://localhost:${s.ports.tcp}`], reconnectMinMs: 5000 });
    try {
      c.start();
      await until('refused', () => /expected localhost/.test(c.links[0].lastError ?? ''));
      assert.equal(c.links[0].open, false);
    } finally {
      await c.close();
      await s.stop();
    }
  });
});
