// Hostile input against a live server (RFC 6733 §7: the RFC's error answer or a clean close,
// counted, never a crash): 120,000 mutated requests over three open connections — flipped bits,
// AVP lengths that lie, truncated and unpadded AVPs, unknown mandatory AVPs, Grouped AVPs nested
// far too deep, wrong header bits, random commands and applications, repeated End-to-End
// Identifiers — each framed consistently so the stream goes on; and a few hundred connections
// that send unparseable streams (bad version, impossible lengths) and must be closed. After all
// that the server still admits a peer and answers an AAR, and its tables stayed bounded.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { DiameterServer, MemoryDiameterPolicy } from '../../src/diameter/index.ts';
import { AvpWriter } from '../../src/diameter/codec.ts';
import { buildCer, buildDwr } from '../../src/diameter/build.ts';
import { App, Avp, Cmd, CmdFlag, Result, TerminationCause } from '../../src/diameter/constants.ts';
import { Framer } from '../../src/diameter/framer.ts';
import { encAddress, encHomeLinkPrefix } from '../../src/diameter/values.ts';
import { makeProfile } from '../../src/radius/memory-policy.ts';
import { RawPeer, REALM, aar, localNode, resultCode, until } from './helpers.ts';

const MESSAGES = Number(process.env.FUZZ_N ?? 120_000);
const CONNECTIONS = 3;
const BAD_STREAMS = 200;

/** xorshift32: fast, seeded, reproducible. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function corpus(): Buffer[] {
  const out: Buffer[] = [];
  out.push(aar({ hopByHop: 1, sessionId: 'fuzz.example.net;1;1', originHost: 'fuzz.example.net', userName: 'mn1@example.net', fill: (w) => w.u64(Avp.Mip6FeatureVector, 0x10000000000n).utf8(Avp.ServiceSelection, 'internet').utf8(Avp.CallingStationId, '02-00-00-00-00-01') }));
  out.push(aar({ hopByHop: 2, sessionId: 'fuzz.example.net;1;2', originHost: 'fuzz.example.net', userName: 'pool@example.net', fill: (w) => w.group(Avp.Mip6AgentInfo, (g) => g.octets(Avp.MipHomeAgentAddress, encAddress('2001:db8::1')!).octets(Avp.Mip6HomeLinkPrefix, encHomeLinkPrefix('::/0')!).octets(Avp.Pmip6Ipv4HomeAddress, encAddress('0.0.0.0')!).group(Avp.MipHomeAgentHost, (h) => h.utf8(Avp.DestinationRealm, REALM).utf8(Avp.DestinationHost, 'lma.example.net'))) }));
  const str = new AvpWriter({ flags: CmdFlag.R | CmdFlag.P, commandCode: Cmd.SessionTermination, applicationId: App.Nasreq, hopByHop: 3, endToEnd: 3 });
  str.utf8(Avp.SessionId, 'fuzz.example.net;1;1').utf8(Avp.OriginHost, 'fuzz.example.net').utf8(Avp.OriginRealm, REALM).utf8(Avp.DestinationRealm, REALM).u32(Avp.AuthApplicationId, 1).u32(Avp.TerminationCause, TerminationCause.Logout);
  out.push(Buffer.from(str.bytes()));
  out.push(buildDwr(localNode('fuzz.example.net'), { hopByHop: 4, endToEnd: 4 }));
  const grouped = new AvpWriter({ flags: CmdFlag.R, commandCode: Cmd.AA, applicationId: App.Nasreq, hopByHop: 5, endToEnd: 5 });
  grouped.utf8(Avp.SessionId, 's').group(Avp.ServiceConfiguration, (g) => g.group(Avp.Mip6AgentInfo, (a) => a.octets(Avp.MipHomeAgentAddress, encAddress('192.0.2.1')!)).utf8(Avp.ServiceSelection, 'x')).group(Avp.ProxyInfo, (g) => g.utf8(Avp.ProxyHost, 'p.example.net').octets(Avp.ProxyState, Buffer.from('st')));
  out.push(Buffer.from(grouped.bytes()));
  return out;
}

/** One mutated request, framed: version 1 and a Message Length that matches the octets sent. */
function mutate(base: Buffer, r: () => number, e2eSeen: number[]): Buffer {
  let b = Buffer.from(base);
  const ops = 1 + (r() % 3);
  for (let k = 0; k < ops; k++) {
    switch (r() % 9) {
      case 0: // flip bits anywhere after the version/length word
        for (let i = r() % 4; i >= 0; i--) b[4 + (r() % (b.length - 4))] ^= 1 << (r() % 8);
        break;
      case 1: { // an AVP length that lies
        const off = 20 + ((r() % Math.max(1, (b.length - 20) >> 2)) << 2);
        if (off + 8 <= b.length) b.writeUIntBE(r() % 512, off + 5, 3);
        break;
      }
      case 2: // truncate (often leaving an AVP without its end or padding)
        b = b.subarray(0, 20 + (r() % Math.max(1, b.length - 19)));
        break;
      case 3: { // an unknown AVP, often mandatory, sometimes vendor-specific
        const w = new AvpWriter();
        w.octets(1000 + (r() % 60000), Buffer.alloc(r() % 13, r() & 0xff), r() % 2 ? 0x40 : 0, r() % 4 === 0 ? 10415 : 0);
        b = Buffer.concat([b, w.bytes()]);
        break;
      }
      case 4: { // Grouped AVPs nested far too deep
        let inner = Buffer.from(new AvpWriter().utf8(Avp.ServiceSelection, 'deep').bytes());
        for (let d = 0, n = 5 + (r() % 40); d < n; d++) inner = Buffer.from(new AvpWriter().octets(r() % 2 ? Avp.ServiceConfiguration : Avp.Mip6AgentInfo, inner).bytes());
        b = Buffer.concat([b, inner]);
        break;
      }
      case 5: // header bits: E in a request, T, reserved bits, or none
        b[4] = (r() & 0xff) | CmdFlag.R;
        break;
      case 6: // another command or application
        if (r() % 2) b.writeUIntBE(r() % 2 ? r() % 400 : r() & 0xffffff, 5, 3);
        else b.writeUInt32BE(r() % 3 === 0 ? r() >>> 0 : r() % 5, 8);
        break;
      case 7: // an End-to-End Identifier seen before (a duplicate, RFC 6733 §3)
        if (e2eSeen.length) b.writeUInt32BE(e2eSeen[r() % e2eSeen.length], 16);
        break;
      default: // unpadded tail (Message Length not a multiple of 4)
        b = Buffer.concat([b, Buffer.alloc(1 + (r() % 3), r() & 0xff)]);
    }
  }
  if (b.length < 20) b = Buffer.concat([b, Buffer.alloc(20 - b.length)]);
  b[0] = 1;
  b.writeUIntBE(b.length, 1, 3);
  b[4] |= CmdFlag.R;
  // A DPR would end the connection (correctly): keep the stream going.
  if (b.readUIntBE(5, 3) === Cmd.DisconnectPeer) b.writeUIntBE(Cmd.DisconnectPeer + 1, 5, 3);
  const e2e = r() >>> 0;
  if (r() % 8) b.writeUInt32BE(e2e, 16);
  if (e2eSeen.length < 4096) e2eSeen.push(b.readUInt32BE(16));
  return b;
}

interface Conn {
  sock: net.Socket;
  answers: () => number;
  done: Promise<void>;
  /** Resolves when a message with this Hop-by-Hop Identifier arrives. */
  waitFor(hbh: number): Promise<void>;
}

async function open(port: number, identity: string): Promise<Conn> {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((res, rej) => sock.once('connect', () => res()).once('error', rej));
  const f = new Framer(1 << 20);
  let n = 0;
  let cea = false;
  let closed = false;
  const waiting = new Map<number, () => void>();
  const done = new Promise<void>((res) => sock.once('close', () => {
    closed = true;
    res();
  }));
  sock.on('error', () => undefined);
  const ready = new Promise<void>((res) => {
    sock.on('data', (d: Buffer) => {
      for (const m of f.push(d).messages) {
        n++;
        waiting.get(m.readUInt32BE(12))?.();
        if (!cea && m.readUIntBE(5, 3) === Cmd.CapabilitiesExchange) {
          cea = true;
          res();
        }
      }
    });
  });
  sock.write(buildCer(localNode(identity), { hopByHop: 1, endToEnd: 1 }, '127.0.0.1'));
  await ready;
  if (closed) throw new Error('closed after CER');
  return { sock, answers: () => n, done, waitFor: (hbh) => new Promise<void>((res) => waiting.set(hbh, res)) };
}

describe('RFC 6733 §7 under hostile input: 120,000 mutated requests to a live server', () => {
  it('every message gets an answer or is dropped and counted; the connections and the server live on', async () => {
    const policy = new MemoryDiameterPolicy();
    for (let i = 0; i < CONNECTIONS; i++) policy.addPeer({ identity: `fuzz${i}.example.net`, realm: REALM });
    policy.addPeer({ identity: 'bad.example.net', realm: REALM }).addPeer({ identity: 'after.example.net', realm: REALM });
    policy.addProfile(makeProfile({ mnId: 'mn1@example.net', hnps: ['2001:db8:1::/64'], lma: '2001:db8::1', serviceSelection: 'internet' }));
    policy.addProfile(makeProfile({ mnId: 'pool@example.net', hnpPool: 'p6', ipv4Pool: 'p4' }));
    const server = new DiameterServer({ policy, identity: 'aaa.example.net', realm: REALM, hosts: ['127.0.0.1'], port: 0, maxSessions: 1000, maxMessageSize: 16_384 });
    await server.start();
    try {
      const base = corpus();
      const conns = await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => open(server.ports.tcp, `fuzz${i}.example.net`)));
      const per = MESSAGES / CONNECTIONS;
      await Promise.all(conns.map(async (c, ci) => {
        const r = rng(0x9e3779b9 ^ (ci * 7919));
        const seen: number[] = [];
        for (let sent = 0; sent < per;) {
          const batch: Buffer[] = [];
          for (let k = 0; k < 500 && sent < per; k++, sent++) batch.push(mutate(base[r() % base.length], r, seen));
          if (!c.sock.write(Buffer.concat(batch))) await new Promise((res) => c.sock.once('drain', res));
        }
        // A DWR after everything: its DWA comes once the server has read the whole stream.
        const dwrHbh = 0xfeedf00d;
        const got = c.waitFor(dwrHbh);
        c.sock.write(buildDwr(localNode(`fuzz${ci}.example.net`), { hopByHop: dwrHbh, endToEnd: 0xfeedf00d }));
        await got;
      }));
      for (const c of conns) assert.ok(!c.sock.destroyed, 'the connection survived its hostile stream');
      const answered = conns.reduce((a, c) => a + c.answers(), 0);
      assert.ok(answered > MESSAGES / 2, `most requests answered (${answered})`);
      for (const cause of ['result_5001', 'result_5014', 'result_5004', 'invalid_hdr_bits', 'bad_message_length']) {
        assert.ok(server.stat(`problem:${cause}`) > 0, `${cause} seen and counted`);
      }
      assert.ok(server.stat('duplicate') > 0, 'duplicates detected');
      assert.ok(server.sessions.size <= 1000, 'the session table stayed bounded');

      // Unparseable streams: the connection is closed (§2.1), nothing else happens.
      const before = server.stat('closed');
      const r = rng(42);
      for (let i = 0; i < BAD_STREAMS; i++) {
        const c = await open(server.ports.tcp, 'bad.example.net');
        const junk = Buffer.alloc(24 + (r() % 40));
        for (let j = 0; j < junk.length; j++) junk[j] = r() & 0xff;
        const kind = i % 3;
        if (kind === 0) junk[0] = 2 + (r() % 250); // version
        else {
          junk[0] = 1;
          junk.writeUIntBE(kind === 1 ? r() % 20 : 16_385 + (r() % 100_000), 1, 3); // below the header / above the limit
        }
        c.sock.write(junk);
        await c.done;
      }
      await until('the server closed them all', () => server.stat('closed') - before >= BAD_STREAMS);

      // Still serving.
      const p = await RawPeer.connect(server.ports.tcp);
      assert.equal(await p.exchangeCapabilities('after.example.net'), Result.Success);
      const a = await p.request(aar({ hopByHop: p.nextHbh(), sessionId: 'after.example.net;1;1', originHost: 'after.example.net', userName: 'mn1@example.net' }));
      assert.equal(resultCode(a), Result.Success);
      p.close();
      for (const c of conns) c.sock.destroy();
    } finally {
      await server.stop();
    }
  });
});
