// Dynamic authorisation (RFC 5176): the AAA side pushes CoA / Disconnect to the MAG that
// accounting says serves the MN; the MAG-side listener validates and calls its handler.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AttrWriter } from '../../src/radius/attrs.ts';
import { RadiusAaaClient } from '../../src/radius/client.ts';
import { decodePacket, encodeRequest } from '../../src/radius/codec.ts';
import { Attr, Code, ErrorCause } from '../../src/radius/constants.ts';
import { DaeServer, DynamicAuthorizer, type DaeRequest, type DaeResult } from '../../src/radius/dae.ts';
import { SECRET, exchange, parseReply, radclient, startServer } from './helpers.ts';

describe('RFC 5176 dynamic authorisation', () => {
  let aaa: Awaited<ReturnType<typeof startServer>>;
  let dae: DaeServer;
  let mag: RadiusAaaClient;
  let dac: DynamicAuthorizer;
  const seen: DaeRequest[] = [];
  let next: DaeResult = { ok: true };

  before(async () => {
    aaa = await startServer();
    dae = new DaeServer({
      host: '127.0.0.1', port: 0, nasIdentifier: 'mag1',
      clients: [{ address: '127.0.0.1', secret: SECRET, name: 'aaa' }],
      handler: async (req) => {
        seen.push(req);
        return next;
      },
    });
    await dae.start();
    aaa.policy.clients.get('127.0.0.1')!.daePort = dae.port;
    mag = new RadiusAaaClient({ servers: [{ host: '127.0.0.1', port: aaa.auth, acctPort: aaa.acct, secret: SECRET }], nasIdentifier: 'mag1', timeoutMs: 500 });
    dac = new DynamicAuthorizer({ policy: aaa.policy, timeoutMs: 300, retries: 1 });
    // The MAG starts accounting for mn1: that is how the AAA learns where mn1 is served.
    const r = await mag.accounting({ statusType: 'start', sessionId: 'sess-1', userName: 'mn1@example.net', mnId: 'mn1@example.net' });
    assert.equal(r.ok, true);
  });
  after(async () => {
    dac.close();
    mag.close();
    await dae.stop();
    await aaa.server.stop();
  });

  it('§2.1 CoA-Request carries the changed profile to the MAG serving the MN; CoA-ACK', async () => {
    seen.length = 0;
    const p = aaa.policy.profiles.get('mn1@example.net')!;
    aaa.policy.addProfile({ ...p, hnps: ['2001:db8:55::/64'], lma: '2001:db8::2' });
    const out = await dac.profileChanged('mn1@example.net');
    assert.equal(out.length, 1);
    assert.equal(out[0].kind, 'coa');
    assert.equal(out[0].result, 'ack');
    assert.equal(seen.length, 1);
    assert.equal(seen[0].kind, 'coa');
    assert.equal(seen[0].acctSessionId, 'sess-1');
    assert.equal(seen[0].userName, 'mn1@example.net');
    assert.deepEqual(seen[0].profile?.hnps, ['2001:db8:55::/64']);
    assert.equal(seen[0].profile?.homeLmaIpv6, '2001:db8::2');
  });

  it('§3.5: the handler NAKs with an Error-Cause', async () => {
    next = { ok: false, errorCause: ErrorCause.SessionContextNotFound };
    const out = await dac.profileChanged('mn1@example.net');
    next = { ok: true };
    assert.equal(out[0].result, 'nak');
    assert.equal(out[0].errorCause, 503);
  });

  it('§2.1 a disabled profile sends Disconnect-Request; Disconnect-ACK', async () => {
    seen.length = 0;
    const p = aaa.policy.profiles.get('mn1@example.net')!;
    aaa.policy.addProfile({ ...p, enabled: false });
    const out = await dac.profileChanged('mn1@example.net');
    aaa.policy.addProfile(p);
    assert.equal(out[0].kind, 'disconnect');
    assert.equal(out[0].result, 'ack');
    assert.equal(seen[0].kind, 'disconnect');
    assert.equal(seen[0].profile, null);
  });

  it('no active session (after Stop): nothing is sent', async () => {
    await mag.accounting({ statusType: 'start', sessionId: 'sess-2', userName: 'mn-v4@example.net' });
    await mag.accounting({ statusType: 'stop', sessionId: 'sess-2', userName: 'mn-v4@example.net' });
    assert.deepEqual(await dac.profileChanged('mn-v4@example.net'), []);
  });

  it('§3.4/§2.3: wrong secret and missing Message-Authenticator are dropped; NAS mismatch NAKs 403', async () => {
    const stamp = Math.floor(Date.now() / 1000);
    const attrs = new AttrWriter().text(Attr.UserName, 'mn1@example.net').text(Attr.NasIdentifier, 'mag1').integer(Attr.EventTimestamp, stamp).bytes();
    const wrong = encodeRequest(Code.CoaRequest, 1, attrs, Buffer.from('wrong'), true).packet;
    assert.equal(await exchange(dae.port, wrong, { waitMs: 150 }), null);
    assert.equal(dae.stat('bad_authenticator'), 1);
    const noMa = encodeRequest(Code.DisconnectRequest, 2, attrs, Buffer.from(SECRET), false).packet;
    assert.equal(await exchange(dae.port, noMa, { waitMs: 150 }), null);
    assert.equal(dae.stat('missing_message_authenticator'), 1);
    const other = new AttrWriter().text(Attr.UserName, 'mn1@example.net').text(Attr.NasIdentifier, 'mag7').integer(Attr.EventTimestamp, stamp).bytes();
    const resp = await exchange(dae.port, encodeRequest(Code.CoaRequest, 3, other, Buffer.from(SECRET), true).packet);
    assert.ok(resp);
    const d = decodePacket(resp);
    assert.ok(d.ok);
    assert.equal(d.packet.code, Code.CoaNak);
    assert.equal(d.packet.attributes[0].type, Attr.MessageAuthenticator);
    assert.equal(d.packet.attributes.find((a) => a.type === Attr.ErrorCause)?.value.readUInt32BE(0), 403);
  });

  it('interop: radclient as the Dynamic Authorization Client gets CoA-ACK and Disconnect-ACK', async () => {
    const now = Math.floor(Date.now() / 1000);
    const coa = await radclient(['-x', '-r', '1', '-t', '3', `127.0.0.1:${dae.port}`, 'coa', SECRET],
      `User-Name = "mn1@example.net"\nAcct-Session-Id = "sess-1"\nNAS-Identifier = "mag1"\nEvent-Timestamp = ${now}\nMessage-Authenticator = 0x00\nPMIP6-Home-HN-Prefix = 2001:db8:66::/64\n`);
    assert.equal(coa.code, 0, coa.stdout + coa.stderr);
    assert.equal(parseReply(coa.stdout).code, 'CoA-ACK');
    assert.deepEqual(seen.at(-1)?.profile?.hnps, ['2001:db8:66::/64']);
    const dis = await radclient(['-x', '-r', '1', '-t', '3', `127.0.0.1:${dae.port}`, 'disconnect', SECRET],
      `User-Name = "mn1@example.net"\nNAS-Identifier = "mag1"\nEvent-Timestamp = ${now}\nMessage-Authenticator = 0x00\n`);
    assert.equal(dis.code, 0, dis.stdout + dis.stderr);
    assert.equal(parseReply(dis.stdout).code, 'Disconnect-ACK');
  });

  it('§6.3: a stale Event-Timestamp is dropped', async () => {
    const attrs = new AttrWriter().text(Attr.UserName, 'mn1@example.net').integer(Attr.EventTimestamp, Math.floor(Date.now() / 1000) - 3600).bytes();
    assert.equal(await exchange(dae.port, encodeRequest(Code.CoaRequest, 9, attrs, Buffer.from(SECRET), true).packet, { waitMs: 150 }), null);
    assert.equal(dae.stat('stale_event_timestamp'), 1);
  });

  it('§6.3 (issue 9): Event-Timestamp is required; a replay within the window, from another port, is not acted on again', async () => {
    const bare = new AttrWriter().text(Attr.UserName, 'mn1@example.net').text(Attr.NasIdentifier, 'mag1').bytes();
    assert.equal(await exchange(dae.port, encodeRequest(Code.CoaRequest, 20, bare, Buffer.from(SECRET), true).packet, { waitMs: 150 }), null);
    assert.equal(dae.stat('missing_event_timestamp'), 1);
    const attrs = new AttrWriter().text(Attr.UserName, 'mn1@example.net').text(Attr.NasIdentifier, 'mag1')
      .integer(Attr.EventTimestamp, Math.floor(Date.now() / 1000) - 200).bytes(); // current: inside the 300 s window
    const packet = encodeRequest(Code.DisconnectRequest, 21, attrs, Buffer.from(SECRET), true).packet;
    const before = seen.length;
    const first = await exchange(dae.port, packet);
    assert.ok(first);
    assert.equal(seen.length, before + 1);
    // The same packet again, from a new socket (another source port), as a replayer would send it.
    const again = await exchange(dae.port, packet);
    assert.ok(again && again.equals(first), 'the cached answer, nothing more');
    assert.equal(seen.length, before + 1, 'the handler ran once');
    assert.equal(dae.stat('duplicate'), 1);
  });
});
