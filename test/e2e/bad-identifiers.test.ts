// Bad identifiers stop at the edge (src/policy/identifier.ts), on PGlite and PostgreSQL, with
// the profile cache off so every lookup is a batched database read (`mn_id = ANY($1)`):
// - RADIUS: a burst of valid Access-Requests with User-Names holding NUL, broken UTF-8, a
//   control character or a bidi override in the middle: every valid one gets an Access-Accept,
//   every bad one an Access-Reject (RFC 2865 §4.2; nothing reaches the database);
// - Mobility Header: the same with PBUs: every valid one PBA 0, every bad one PBA 153 (RFC 5213
//   §5.3.1 step 7: no MN this LMA anchors has such an identifier);
// - API: 400 naming the field, for path, query and body, never a database error.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.ts';
import { startSuite, type RunningSuite } from '../../src/main/suite.ts';
import { profileInputSchema } from '../../src/policy/validate.ts';
import { AttrWriter } from '../../src/radius/attrs.ts';
import { decodePacket, encodeRequest } from '../../src/radius/codec.ts';
import { Attr, Code } from '../../src/radius/constants.ts';
import { BuFlag, decodeMessage, encodeMessage, timestampFromMs } from '../../src/mh/index.ts';
import { createPgDatabase } from '../helpers/db.ts';

const SECRET = 'bad-id-secret';
const VALID = 40;
const BAD: [string, Buffer][] = [
  ['NUL', Buffer.from('mn\u00005@bad.example', 'latin1')],
  ['invalid UTF-8', Buffer.concat([Buffer.from('mn'), Buffer.from([0xc3, 0x28]), Buffer.from('@bad.example')])],
  ['control character', Buffer.from('mn\u00075@bad.example')],
  ['C1 control', Buffer.from('mn\u00855@bad.example', 'utf8')],
  ['bidi override', Buffer.from('mn\u202e5@bad.example', 'utf8')],
];
const mn = (i: number) => `mn${i}@bad.example`;

/** Sends every datagram from one socket at once and collects one reply per request key. */
async function burst(port: number, packets: Buffer[], keyOf: (reply: Buffer) => number | null, waitMs = 3000): Promise<Map<number, Buffer>> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const got = new Map<number, Buffer>();
  try {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, waitMs);
      sock.on('message', (m) => {
        const k = keyOf(m);
        if (k !== null) got.set(k, m);
        if (got.size === packets.length) {
          clearTimeout(t);
          resolve();
        }
      });
      for (const p of packets) sock.send(p, port, '127.0.0.1');
    });
  } finally {
    sock.close();
  }
  return got;
}

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`bad identifiers in a batch of good ones (${kind})`, () => {
    let suite: RunningSuite;
    let dataDir: string;
    let drop: (() => Promise<void>) | undefined;
    let token: string;

    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), `pmip6-badid-${kind}-`));
      let databaseUrl = '';
      if (kind === 'postgres') {
        const db = await createPgDatabase();
        databaseUrl = db.url;
        drop = db.drop;
      }
      token = 'bad-identifiers-token';
      suite = await startSuite(loadConfig({
        env: {
          PMIP6_DATA_DIR: dataDir, PMIP6_DATABASE_URL: databaseUrl, PMIP6_STORE_PROFILE_CACHE: 'off', PMIP6_SNMP_ENABLED: 'false',
          PMIP6_RADIUS_BIND: '127.0.0.1', PMIP6_RADIUS_AUTH_PORT: '0', PMIP6_RADIUS_ACCT_PORT: '0',
          PMIP6_LMA_ADDRESS: '127.0.0.1', PMIP6_LMA_UDP_PORT: '0', PMIP6_LMA_AUTHORIZE_ANY_MAG: 'true',
          PMIP6_API_HOST: '127.0.0.1', PMIP6_API_PORT: '0', PMIP6_API_TOKEN: token,
          PMIP6_SECURITY_ALLOW_UNPROTECTED_SIGNALLING: 'true',
        },
      }));
      // Provisioned through the suite's own store (one embedded-store open per run).
      const store = suite.store;
      for (let i = 0; i < VALID; i++) await store.profiles.create(profileInputSchema.parse({ mnId: mn(i), hnps: [`2001:db8:b${i.toString(16).padStart(3, '0')}::/64`] }), 'test');
      // The RADIUS client through the API, as an operator would: its 201 means it is in force in
      // this process at once (on PostgreSQL the change notification would come a little later).
      const created = await fetch(`${suite.apiUrl}/api/v1/aaa-clients`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'radius', address: '127.0.0.1', secret: SECRET }) });
      assert.equal(created.status, 201, await created.text());
    });
    after(async () => {
      await suite?.stop();
      await drop?.();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('RADIUS: every valid Access-Request in the burst is accepted, every bad User-Name rejected', async () => {
      const packets: Buffer[] = [];
      const expect: number[] = [];
      let id = 0;
      for (let i = 0; i < VALID; i++) {
        if (i === VALID / 2) {
          for (const [, name] of BAD) {
            packets.push(encodeRequest(Code.AccessRequest, id++, new AttrWriter().octets(Attr.UserName, name).text(Attr.NasIdentifier, 'mag1').bytes(), Buffer.from(SECRET), true).packet);
            expect.push(Code.AccessReject);
          }
        }
        packets.push(encodeRequest(Code.AccessRequest, id++, new AttrWriter().text(Attr.UserName, mn(i)).text(Attr.NasIdentifier, 'mag1').bytes(), Buffer.from(SECRET), true).packet);
        expect.push(Code.AccessAccept);
      }
      const replies = await burst(suite.radius!.server.ports.auth, packets, (m) => m[1]);
      for (let k = 0; k < packets.length; k++) {
        const r = replies.get(k);
        assert.ok(r, `request ${k} answered`);
        const d = decodePacket(r);
        assert.ok(d.ok);
        assert.equal(d.packet.code, expect[k], `request ${k}`);
      }
    });

    it('RFC 5213 §5.3.1: every valid PBU in the burst gets PBA 0, every bad MN-ID PBA 153', async () => {
      const packets: Buffer[] = [];
      const expect: number[] = [];
      const now = Date.now();
      const pbu = (seq: number, id: Buffer) =>
        encodeMessage({
          type: 'bu', seq, flags: BuFlag.A | BuFlag.P, lifetime: 100,
          options: [
            { type: 'mnId', subtype: 1, id },
            { type: 'hnp', prefixLen: 0, prefix: Buffer.alloc(16) },
            { type: 'handoffIndicator', hi: 1 },
            { type: 'accessTechType', att: 4 },
            { type: 'timestamp', value: timestampFromMs(now + seq) },
          ],
        });
      let seq = 0;
      for (let i = 0; i < VALID; i++) {
        if (i === VALID / 2) {
          for (const [, name] of BAD) {
            packets.push(pbu(seq++, name));
            expect.push(153);
          }
        }
        packets.push(pbu(seq++, Buffer.from(mn(i))));
        expect.push(0);
      }
      const replies = await burst(suite.lma!.port, packets, (m) => {
        const d = decodeMessage(m);
        return d.ok && d.msg.type === 'ba' ? d.msg.seq : null;
      });
      for (let k = 0; k < packets.length; k++) {
        const r = replies.get(k);
        assert.ok(r, `PBU ${k} answered`);
        const d = decodeMessage(r);
        assert.ok(d.ok && d.msg.type === 'ba');
        assert.equal(d.msg.status, expect[k], `PBU ${k}`);
      }
      assert.equal(suite.lma!.lma.counters.badMnIds, BAD.length);
    });

    it('API: 400 naming the field for a bad identifier in the path, the query and the body', async () => {
      const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const bad = async (r: Response, field: string) => {
        assert.equal(r.status, 400);
        const body = (await r.json()) as { error: { fields: { field: string }[] } };
        assert.equal(body.error.fields[0].field, field);
      };
      await bad(await fetch(`${suite.apiUrl}/api/v1/profiles/mn%005%40bad.example`, { headers: auth }), 'mnId');
      await bad(await fetch(`${suite.apiUrl}/api/v1/bindings/mn%E2%80%AE5`, { headers: auth }), 'mnId');
      await bad(await fetch(`${suite.apiUrl}/api/v1/profiles?q=a%00b`, { headers: auth }), 'q');
      await bad(await fetch(`${suite.apiUrl}/api/v1/profiles`, { method: 'POST', headers: auth, body: JSON.stringify({ mnId: 'x\u202ey@bad.example' }) }), 'mnId');
      await bad(await fetch(`${suite.apiUrl}/api/v1/profiles`, { method: 'POST', headers: auth, body: JSON.stringify({ mnId: 'ok@bad.example', serviceSelection: 'a\u0000b' }) }), 'serviceSelection');
      await bad(await fetch(`${suite.apiUrl}/api/v1/profiles/import`, { method: 'POST', headers: auth, body: JSON.stringify([{ mnId: 'ok2@bad.example' }, { mnId: 'x\u0000' }]) }), '[1].mnId');
      // and the store is still fine
      assert.equal((await fetch(`${suite.apiUrl}/api/v1/profiles/${encodeURIComponent(mn(1))}`, { headers: auth })).status, 200);
    });
  });
}
