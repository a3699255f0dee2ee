// Fuzz a live server (RFC 2865 §3 "silently discard", never crash): 120,000 mutated datagrams
// to the auth and accounting ports, a third of them correctly signed so they get past the
// authenticators into the RFC 6572 / RFC 2866 handlers. Valid requests keep being answered.
// Also 20,000 to the RFC 5176 listener. Deterministic PRNG: failures reproduce.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { AttrWriter } from '../../src/radius/attrs.ts';
import { RadiusAaaClient } from '../../src/radius/client.ts';
import { encodeRequest } from '../../src/radius/codec.ts';
import { Attr, Code } from '../../src/radius/constants.ts';
import { DaeServer } from '../../src/radius/dae.ts';
import { SECRET, startServer } from './helpers.ts';

const S = Buffer.from(SECRET);

function prng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const INTERESTING_TYPES = [1, 4, 6, 24, 25, 26, 31, 32, 33, 40, 41, 42, 43, 44, 52, 53, 55, 79, 80, 89, 95, 101, 124, ...Array.from({ length: 18 }, (_, i) => 145 + i), 0, 255];
const CODES = [Code.AccessRequest, Code.AccountingRequest, Code.StatusServer, Code.CoaRequest, Code.DisconnectRequest, 0, 2, 5, 255];

function randomBytes(r: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (r() * 256) | 0;
  return b;
}

/** A random but well-framed attribute list, values sometimes well-typed, sometimes junk. */
function randomAttrs(r: () => number): Buffer {
  const w = new AttrWriter();
  const n = (r() * 12) | 0;
  for (let i = 0; i < n; i++) {
    const type = INTERESTING_TYPES[(r() * INTERESTING_TYPES.length) | 0];
    if (type === 80) continue; // the encoder places Message-Authenticator itself
    const pick = r();
    if (type === 6 && pick < 0.5) w.integer(6, r() < 0.5 ? 17 : 1);
    else if (type === 40 && pick < 0.5) w.integer(40, (r() * 9) | 0);
    else if ((type === 151 || type === 152) && pick < 0.3) w.ipv6Prefix(type, r() < 0.5 ? '::/128' : '2001:db8:1:1::/64');
    else if ((type === 155 || type === 156) && pick < 0.3) w.ipv4Prefix(type, r() < 0.5 ? '0.0.0.0' : '10.0.0.9', (r() * 33) | 0, true);
    else if ((type === 1 || type === 145) && pick < 0.6) w.text(type, r() < 0.5 ? 'mn1@example.net' : r() < 0.5 ? 'mn-pool@example.net' : 'x');
    else w.octets(type, randomBytes(r, (r() * 40) | 0));
  }
  return w.bytes();
}

function mutate(r: () => number, base: Buffer): Buffer {
  const b = Buffer.from(base);
  const m = (r() * 8) | 0;
  switch (m) {
    case 0: { // flip bytes
      const k = 1 + ((r() * 4) | 0);
      for (let i = 0; i < k; i++) b[(r() * b.length) | 0] ^= 1 << ((r() * 8) | 0);
      return b;
    }
    case 1: return b.subarray(0, (r() * b.length) | 0); // truncate
    case 2: return Buffer.concat([b, randomBytes(r, (r() * 64) | 0)]); // trailing junk (padding)
    case 3: b.writeUInt16BE((r() * 65536) | 0, 2); return b; // Length field
    case 4: if (b.length > 21) b[21 + (((r() * (b.length - 21)) / 2) | 0) * 0] = (r() * 256) | 0; return b; // an attribute length
    case 5: b[0] = CODES[(r() * CODES.length) | 0]; return b; // code
    case 6: return randomBytes(r, (r() * 120) | 0); // noise
    default: { // oversize
      const big = Buffer.concat([b, randomBytes(r, 4100)]);
      return big;
    }
  }
}

describe('fuzzing a live RADIUS server (RFC 2865 §3: silently discard)', () => {
  let ctx: Awaited<ReturnType<typeof startServer>>;
  let probe: RadiusAaaClient;
  before(async () => {
    ctx = await startServer(undefined, { rateLimit: { perSecond: 1e9, burst: 1e9 } });
    probe = new RadiusAaaClient({ servers: [{ host: '127.0.0.1', port: ctx.auth, acctPort: ctx.acct, secret: SECRET }], nasIdentifier: 'mag1', timeoutMs: 1000, retries: 3, cacheTtlMs: 0 });
  });
  after(async () => {
    probe.close();
    await ctx.server.stop();
  });

  it('120,000 mutated packets: no crash, valid requests still answered throughout', async () => {
    const r = prng(0x5eed1234);
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
    let replies = 0;
    sock.on('message', () => replies++);
    const seeds = [
      encodeRequest(Code.AccessRequest, 1, new AttrWriter().text(Attr.UserName, 'mn1@example.net').text(Attr.NasIdentifier, 'mag1').integer64(Attr.Mip6FeatureVector, 0x0000030000000000n).bytes(), S).packet,
      encodeRequest(Code.AccessRequest, 2, new AttrWriter().text(Attr.UserName, 'mn-pool@example.net').integer(Attr.ServiceType, 17).text(Attr.NasIdentifier, 'lma').ipv6Prefix(151, '::/128').bytes(), S).packet,
      encodeRequest(Code.AccountingRequest, 3, new AttrWriter().integer(Attr.AcctStatusType, 1).text(Attr.AcctSessionId, 's').text(Attr.UserName, 'mn1@example.net').bytes(), S).packet,
      encodeRequest(Code.StatusServer, 4, Buffer.alloc(0), S).packet,
    ];
    const TOTAL = 120_000;
    let sent = 0;
    const before = ctx.server.stat('received');
    while (sent < TOTAL) {
      for (let i = 0; i < 50 && sent < TOTAL; i++, sent++) {
        let pkt: Buffer;
        const kind = r();
        if (kind < 0.33) {
          // Correctly signed, random content: reaches the handlers.
          const code = [Code.AccessRequest, Code.AccountingRequest, Code.StatusServer][(r() * 3) | 0];
          try {
            pkt = encodeRequest(code, (r() * 256) | 0, randomAttrs(r), S, r() < 0.9).packet;
          } catch {
            continue;
          }
        } else {
          pkt = mutate(r, seeds[(r() * seeds.length) | 0]);
        }
        const port = r() < 0.7 ? ctx.auth : ctx.acct;
        sock.send(pkt, port, '127.0.0.1');
      }
      // Let the server drain (same process: a burst larger than the socket buffer is lost);
      // every 20,000 packets check a valid request is still answered.
      await new Promise((res) => setTimeout(res, 0));
      if (sent % 20_000 === 0) {
        const a = await probe.authorize({ userName: 'mn1@example.net' });
        assert.equal(a.status, 'accept', `probe after ${sent} packets`);
      }
    }
    await new Promise((res) => setTimeout(res, 300));
    sock.close();
    const a = await probe.authorize({ userName: 'mn1@example.net' });
    assert.equal(a.status, 'accept');
    const acct = await probe.accounting({ statusType: 'interim-update', sessionId: 'after-fuzz', userName: 'mn1@example.net' });
    assert.equal(acct.ok, true);
    const received = ctx.server.stat('received') - before;
    assert.ok(received > TOTAL * 0.9, `server saw ${received} datagrams`);
    // Junk must be handled as data (reject/drop), never as an exception in a handler.
    assert.equal(ctx.server.stat('policy_error'), 0, JSON.stringify(ctx.server.stats));
    assert.equal(ctx.server.stat('response_encode_error'), 0);
    assert.ok(replies > 1000, `some fuzz packets were valid enough to answer (${replies})`);
  });

  it('RFC 5176 listener: 20,000 mutated CoA/Disconnect packets, still ACKs a valid one', async () => {
    let handled = 0;
    const dae = new DaeServer({ host: '127.0.0.1', port: 0, clients: [{ address: '127.0.0.1', secret: SECRET, name: 'aaa' }], handler: async () => { handled++; return { ok: true }; } });
    await dae.start();
    const r = prng(77);
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
    try {
      const seed = encodeRequest(Code.CoaRequest, 1, new AttrWriter().text(Attr.UserName, 'mn1@example.net').ipv6Prefix(151, '2001:db8::/64').bytes(), S).packet;
      for (let sent = 0; sent < 20_000; ) {
        for (let i = 0; i < 50; i++, sent++) {
          const pkt = r() < 0.3
            ? encodeRequest(r() < 0.5 ? Code.CoaRequest : Code.DisconnectRequest, (r() * 256) | 0, randomAttrs(r), S, true).packet
            : mutate(r, seed);
          sock.send(pkt, dae.port, '127.0.0.1');
        }
        await new Promise((res) => setTimeout(res, 0));
      }
      await new Promise((res) => setTimeout(res, 200));
      const before = handled;
      const ok = await new Promise<Buffer | null>((resolve) => {
        const t = setTimeout(() => resolve(null), 1000);
        sock.removeAllListeners('message');
        sock.on('message', (m) => {
          if (m[0] === Code.CoaAck && m[1] === 200) {
            clearTimeout(t);
            resolve(m);
          }
        });
        sock.send(encodeRequest(Code.CoaRequest, 200, new AttrWriter().text(Attr.UserName, 'mn1@example.net').integer(Attr.EventTimestamp, Math.floor(Date.now() / 1000)).bytes(), S).packet, dae.port, '127.0.0.1');
      });
      assert.ok(ok, 'valid CoA answered after the fuzz');
      assert.ok(handled > before);
    } finally {
      sock.close();
      await dae.stop();
    }
  });
});
