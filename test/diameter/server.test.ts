// The Diameter server on loopback with an in-memory policy: peer admission at CER (RFC 6733
// §5.3), the MAG's and the LMA's AA exchanges (RFC 5779 §4.1, §4.2, §7), STR/STA (§8.4),
// protocol and application errors (§7), duplicate detection (§3) and the RAR/ASR pushes
// (§8.3, §8.5), over TCP and TLS.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DiameterAaaClient, DiameterServer, MemoryDiameterPolicy, loadTls } from '../../src/diameter/index.ts';
import { AvpWriter, decodeGrouped, findAll, findAvp, type DiameterMessage } from '../../src/diameter/codec.ts';
import { App, Avp, AuthRequestType, Cmd, CmdFlag, Result, TerminationCause } from '../../src/diameter/constants.ts';
import { decAddress, decHomeLinkPrefix, decU64, decUtf8, encAddress, encHomeLinkPrefix } from '../../src/diameter/values.ts';
import { makeProfile } from '../../src/radius/memory-policy.ts';
import { FeatureVector } from '../../src/policy/profile.ts';
import { RawPeer, SERVER_ID, REALM, aar, makeCerts, resultCode, until, type Certs } from './helpers.ts';

const FV = FeatureVector.PMIP6_SUPPORTED | FeatureVector.IP4_HOA_SUPPORTED;

function policy(): MemoryDiameterPolicy {
  const p = new MemoryDiameterPolicy()
    .addPeer({ identity: 'mag1.example.net', realm: REALM, addresses: ['127.0.0.0/8'] })
    .addPeer({ identity: 'lma1.example.net', realm: REALM, addresses: ['127.0.0.1/32'], role: 'lma', lmaAddresses: ['2001:db8::11'] })
    .addPeer({ identity: 'far.example.net', realm: REALM, addresses: ['192.0.2.200/32'] })
    .addPeer({ identity: 'other.example.net', realm: 'example.org', addresses: ['127.0.0.1'] });
  p.addProfile(makeProfile({ mnId: 'mn1@example.net', hnps: ['2001:db8:1:1::/64', '2001:db8:1:2::/64'], lma: '2001:db8::1', ipv4HoA: '10.0.0.5', dhcpv4Server: '10.0.0.53', dhcpv6Server: '2001:db8::53', serviceSelection: 'internet', mip6FeatureVector: FV }));
  p.addProfile(makeProfile({ mnId: 'off@example.net', hnps: ['2001:db8:9::/64'], enabled: false }));
  p.addProfile(makeProfile({ mnId: 'fqdn@example.net', hnps: ['2001:db8:3::/64'], lma: 'lma7.example.net' }));
  p.addProfile(makeProfile({ mnId: 'pool@example.net', hnpPool: 'p6', ipv4Pool: 'p4', mip6FeatureVector: FV }));
  p.store.hnpPools.set('p6', ['2001:db8:77::/64']);
  p.store.ipv4Pools.set('p4', [{ address: '10.9.0.1', prefixLength: 24 }]);
  return p;
}

const text = (m: DiameterMessage, code: number) => {
  const a = findAvp(m.avps, code);
  return a ? decUtf8(a.data) : null;
};

describe('Diameter server over TCP (RFC 6733, RFC 7155, RFC 5779)', () => {
  let pol: MemoryDiameterPolicy;
  let server: DiameterServer;
  let mag: RawPeer;

  before(async () => {
    pol = policy();
    server = new DiameterServer({ policy: pol, identity: SERVER_ID, realm: REALM, hosts: ['127.0.0.1'], port: 0, requestTimeoutMs: 2000 });
    await server.start();
    mag = await RawPeer.connect(server.ports.tcp);
    assert.equal(await mag.exchangeCapabilities('mag1.example.net'), Result.Success);
  });

  after(async () => {
    mag?.close();
    await server?.stop();
  });

  it('RFC 5779 §4.1, §7.1: the MAG\'s AAR gets 2001 with the profile: MN-ID, MIP6-Agent-Info per HNP, DHCP servers, service, feature vector', async () => {
    const a = await mag.request(aar({ hopByHop: mag.nextHbh(), sessionId: 'mag1.example.net;1;1', originHost: 'mag1.example.net', userName: 'mn1@example.net', fill: (w) => w.u64(Avp.Mip6FeatureVector, FV) }));
    assert.equal(resultCode(a), Result.Success);
    assert.equal(a.commandCode, Cmd.AA);
    assert.equal(a.avps[0].code, Avp.SessionId, 'Session-Id first (§8.8)');
    assert.equal(text(a, Avp.SessionId), 'mag1.example.net;1;1');
    assert.equal(text(a, Avp.OriginHost), SERVER_ID);
    assert.equal(text(a, Avp.MobileNodeIdentifier), 'mn1@example.net');
    const infos = findAll(a.avps, Avp.Mip6AgentInfo).map((g) => {
      const inner = decodeGrouped(g.data);
      assert.ok(inner.ok);
      const addr = findAvp(inner.value, Avp.MipHomeAgentAddress);
      const hlp = findAvp(inner.value, Avp.Mip6HomeLinkPrefix);
      const v4 = findAvp(inner.value, Avp.Pmip6Ipv4HomeAddress);
      return [addr && decAddress(addr.data), hlp && decHomeLinkPrefix(hlp.data)?.prefix, v4 && decAddress(v4.data)];
    });
    assert.deepEqual(infos, [
      [{ family: 6, address: '2001:db8::1' }, '2001:db8:1:1::/64', { family: 4, address: '10.0.0.5' }],
      [{ family: 6, address: '2001:db8::1' }, '2001:db8:1:2::/64', undefined],
    ]);
    assert.deepEqual(findAll(a.avps, Avp.Pmip6DhcpServerAddress).map((x) => decAddress(x.data)), [{ family: 4, address: '10.0.0.53' }, { family: 6, address: '2001:db8::53' }]);
    assert.equal(text(a, Avp.ServiceSelection), 'internet');
    assert.ok(findAvp(a.avps, Avp.ServiceConfiguration));
    assert.equal(decU64(findAvp(a.avps, Avp.Mip6FeatureVector)!.data), FV);
    assert.ok(server.sessions.has('mag1.example.net;1;1'), 'STATE_MAINTAINED by default: the session is kept for pushes');
  });

  it('RFC 5447 §4.2.3: an LMA named by FQDN goes in MIP-Home-Agent-Host {Destination-Realm, Destination-Host}', async () => {
    const a = await mag.request(aar({ hopByHop: mag.nextHbh(), sessionId: 'mag1.example.net;1;2', originHost: 'mag1.example.net', userName: 'fqdn@example.net' }));
    assert.equal(resultCode(a), Result.Success);
    const inner = decodeGrouped(findAvp(a.avps, Avp.Mip6AgentInfo)!.data);
    assert.ok(inner.ok);
    const host = decodeGrouped(findAvp(inner.value, Avp.MipHomeAgentHost)!.data);
    assert.ok(host.ok);
    assert.equal(text({ avps: host.value } as DiameterMessage, Avp.DestinationHost), 'lma7.example.net');
    assert.equal(text({ avps: host.value } as DiameterMessage, Avp.DestinationRealm), 'example.net');
  });

  it('RFC 6733 §7.1.5: unknown, disabled or service-refused MNs get DIAMETER_AUTHORIZATION_REJECTED (5003) with Error-Message', async () => {
    for (const [user, service] of [['nobody@example.net', null], ['off@example.net', null], ['mn1@example.net', 'other']] as const) {
      const a = await mag.request(aar({ hopByHop: mag.nextHbh(), sessionId: `mag1.example.net;2;${user}`, originHost: 'mag1.example.net', userName: user, fill: (w) => (service ? w.utf8(Avp.ServiceSelection, service) : w) }));
      assert.equal(resultCode(a), Result.AuthorizationRejected, user);
      assert.ok(text(a, Avp.ErrorMessage));
      assert.ok(!(a.flags & CmdFlag.E), 'an application error, not a protocol error');
    }
  });

  it('RFC 5779 §4.2: the LMA\'s AAR (AUTHORIZE_ONLY, MIP6-Agent-Info) delegates HNP and IPv4 HoA; the answer carries the assigned ones and a zero MIP-Home-Agent-Address', async () => {
    const lma = await RawPeer.connect(server.ports.tcp);
    try {
      assert.equal(await lma.exchangeCapabilities('lma1.example.net'), Result.Success);
      const a = await lma.request(aar({
        hopByHop: lma.nextHbh(), sessionId: 'lma1.example.net;1;1', originHost: 'lma1.example.net', userName: 'pool@example.net',
        fill: (w) => w.group(Avp.Mip6AgentInfo, (g) => g.octets(Avp.MipHomeAgentAddress, encAddress('2001:db8::11')!).octets(Avp.Mip6HomeLinkPrefix, encHomeLinkPrefix('::/0')!).octets(Avp.Pmip6Ipv4HomeAddress, encAddress('0.0.0.0')!)),
      }));
      assert.equal(resultCode(a), Result.Success);
      const inner = decodeGrouped(findAvp(a.avps, Avp.Mip6AgentInfo)!.data);
      assert.ok(inner.ok);
      assert.deepEqual(decAddress(findAvp(inner.value, Avp.MipHomeAgentAddress)!.data), { family: 6, address: '::' });
      assert.equal(findAvp(inner.value, Avp.MipHomeAgentHost), undefined);
      assert.equal(decHomeLinkPrefix(findAvp(inner.value, Avp.Mip6HomeLinkPrefix)!.data)!.prefix, '2001:db8:77::/64');
      assert.deepEqual(decAddress(findAvp(inner.value, Avp.Pmip6Ipv4HomeAddress)!.data), { family: 4, address: '10.9.0.1' });
      assert.equal(pol.store.lmaOf.get('pool@example.net'), '2001:db8::11', '§4.2.2: the LMA address is recorded');
      // §4.2.1: refusal is 5003.
      const no = await lma.request(aar({ hopByHop: lma.nextHbh(), sessionId: 'lma1.example.net;1;2', originHost: 'lma1.example.net', userName: 'off@example.net', fill: (w) => w.group(Avp.Mip6AgentInfo, (g) => g.octets(Avp.MipHomeAgentAddress, encAddress('2001:db8::11')!)) }));
      assert.equal(resultCode(no), Result.AuthorizationRejected);
    } finally {
      lma.close();
    }
  });

  it('RFC 5779 §4.2 from a peer that is not an LMA, or naming another LMA\'s address: 5003, counted', async () => {
    const agent = (addr: string) => (w: AvpWriter) => w.group(Avp.Mip6AgentInfo, (g) => g.octets(Avp.MipHomeAgentAddress, encAddress(addr)!));
    const before = server.stat('problem:not_an_lma');
    const a = await mag.request(aar({ hopByHop: mag.nextHbh(), sessionId: 'mag1.example.net;7;1', originHost: 'mag1.example.net', userName: 'pool@example.net', fill: agent('2001:db8::11') }));
    assert.equal(resultCode(a), Result.AuthorizationRejected);
    assert.equal(server.stat('problem:not_an_lma'), before + 1);
    const lma = await RawPeer.connect(server.ports.tcp);
    try {
      assert.equal(await lma.exchangeCapabilities('lma1.example.net', 9), Result.Success);
      // (End-to-End Identifiers of their own: lma1's earlier connection used this RawPeer's first ones, §3 duplicates.)
      const other = await lma.request(aar({ hopByHop: lma.nextHbh(), endToEnd: 0x7001, sessionId: 'lma1.example.net;7;2', originHost: 'lma1.example.net', userName: 'pool@example.net', fill: agent('2001:db8::99') }));
      assert.equal(resultCode(other), Result.AuthorizationRejected);
      assert.equal(server.stat('problem:lma_address_not_own'), 1);
      // Its connection address counts as its own.
      const self = await lma.request(aar({ hopByHop: lma.nextHbh(), endToEnd: 0x7002, sessionId: 'lma1.example.net;7;3', originHost: 'lma1.example.net', userName: 'mn1@example.net', fill: agent('127.0.0.1') }));
      assert.equal(resultCode(self), Result.AuthorizationRejected, 'mn1 is anchored at 2001:db8::1: refused by the profile, not by the peer check');
      assert.equal(server.stat('problem:lma_address_not_own'), 1);
    } finally {
      lma.close();
    }
  });

  it('RFC 6733 §8.4: STR → STA 2001 and the session is released; an unknown session → 5002', async () => {
    const str = (sid: string) => {
      const w = new AvpWriter({ flags: CmdFlag.R | CmdFlag.P, commandCode: Cmd.SessionTermination, applicationId: App.Nasreq, hopByHop: mag.nextHbh(), endToEnd: mag.nextHbh() + 5000 });
      w.utf8(Avp.SessionId, sid).utf8(Avp.OriginHost, 'mag1.example.net').utf8(Avp.OriginRealm, REALM).utf8(Avp.DestinationRealm, REALM).u32(Avp.AuthApplicationId, 1).u32(Avp.TerminationCause, TerminationCause.Logout);
      return Buffer.from(w.bytes());
    };
    assert.ok(server.sessions.has('mag1.example.net;1;2'));
    assert.equal(resultCode(await mag.request(str('mag1.example.net;1;2'))), Result.Success);
    assert.ok(!server.sessions.has('mag1.example.net;1;2'));
    assert.equal(resultCode(await mag.request(str('mag1.example.net;9;9'))), Result.UnknownSessionId);
  });

  it('RFC 6733 §7.1.3 / §7.2: protocol errors carry the E bit: realm not served (3003), another Destination-Host (3002), application (3007), command (3001)', async () => {
    const base = { sessionId: 'mag1.example.net;3;1', originHost: 'mag1.example.net', userName: 'mn1@example.net' };
    const w = new AvpWriter({ flags: CmdFlag.R | CmdFlag.P, commandCode: Cmd.AA, applicationId: App.Nasreq, hopByHop: mag.nextHbh(), endToEnd: 4242 });
    w.utf8(Avp.SessionId, 's').u32(Avp.AuthApplicationId, 1).utf8(Avp.OriginHost, 'mag1.example.net').utf8(Avp.OriginRealm, REALM).utf8(Avp.DestinationRealm, 'elsewhere.org').u32(Avp.AuthRequestType, 2);
    const a = await mag.request(Buffer.from(w.bytes()));
    assert.equal(resultCode(a), Result.RealmNotServed);
    assert.ok(a.flags & CmdFlag.E);
    const dh = await mag.request(aar({ ...base, hopByHop: mag.nextHbh(), fill: (x) => x.utf8(Avp.DestinationHost, 'aaa2.example.net') }));
    assert.equal(resultCode(dh), Result.UnableToDeliver);
    const app = aar({ ...base, hopByHop: mag.nextHbh() });
    app.writeUInt32BE(3, 8);
    assert.equal(resultCode(await mag.request(app)), Result.ApplicationUnsupported);
    const cmd = aar({ ...base, hopByHop: mag.nextHbh() });
    cmd.writeUIntBE(271, 5, 3);
    const c = await mag.request(cmd);
    assert.equal(resultCode(c), Result.CommandUnsupported);
    assert.ok(c.flags & CmdFlag.E);
  });

  it('RFC 6733 §7.1.5: a missing required AVP → 5005 with Failed-AVP; two Session-Ids → 5009; AUTHENTICATE_ONLY → 5012', async () => {
    const w = new AvpWriter({ flags: CmdFlag.R | CmdFlag.P, commandCode: Cmd.AA, applicationId: App.Nasreq, hopByHop: mag.nextHbh(), endToEnd: 777 });
    w.utf8(Avp.SessionId, 's').u32(Avp.AuthApplicationId, 1).utf8(Avp.OriginHost, 'mag1.example.net').utf8(Avp.OriginRealm, REALM).utf8(Avp.DestinationRealm, REALM);
    const a = await mag.request(Buffer.from(w.bytes()));
    assert.equal(resultCode(a), Result.MissingAvp);
    assert.equal(findAvp(a.avps, Avp.FailedAvp)!.data.readUInt32BE(0), Avp.AuthRequestType);
    const two = await mag.request(aar({ hopByHop: mag.nextHbh(), sessionId: 'x', originHost: 'mag1.example.net', fill: (x) => x.utf8(Avp.SessionId, 'y') }));
    assert.equal(resultCode(two), Result.AvpOccursTooManyTimes);
    const auth = await mag.request(aar({ hopByHop: mag.nextHbh(), sessionId: 'z', originHost: 'mag1.example.net', userName: 'mn1@example.net', authRequestType: AuthRequestType.AuthenticateOnly }));
    assert.equal(resultCode(auth), Result.UnableToComply);
  });

  it('RFC 6733 §3: a duplicate (same End-to-End Identifier, T flag) gets the same answer and changes nothing again', async () => {
    const lma = await RawPeer.connect(server.ports.tcp);
    try {
      assert.equal(await lma.exchangeCapabilities('lma1.example.net', 7), Result.Success);
      pol.store.hnpPools.set('p6', ['2001:db8:78::/64', '2001:db8:79::/64']);
      pol.addProfile(makeProfile({ mnId: 'dup@example.net', hnpPool: 'p6' }));
      const mk = (hbh: number, flags: number) => aar({ hopByHop: hbh, endToEnd: 0xdeadbeef, flags, sessionId: 'lma1.example.net;5;5', originHost: 'lma1.example.net', userName: 'dup@example.net', fill: (w) => w.group(Avp.Mip6AgentInfo, (g) => g.octets(Avp.MipHomeAgentAddress, encAddress('2001:db8::11')!).octets(Avp.Mip6HomeLinkPrefix, encHomeLinkPrefix('::/0')!)) });
      const first = await lma.request(mk(lma.nextHbh(), CmdFlag.R | CmdFlag.P));
      const dups = server.stat('duplicate');
      const again = await lma.request(mk(lma.nextHbh(), CmdFlag.R | CmdFlag.P | CmdFlag.T));
      assert.equal(server.stat('duplicate'), dups + 1);
      assert.deepEqual(again.bytes.subarray(16), first.bytes.subarray(16), 'the same answer but for the Hop-by-Hop Identifier');
      assert.deepEqual(pol.store.hnpPools.get('p6'), ['2001:db8:79::/64'], 'one prefix assigned, not two');
    } finally {
      lma.close();
    }
  });

  it('RFC 6733 §5.3: an unknown identity, a known one from a disallowed address, or from another realm → CEA 3010, closed, counted', async () => {
    for (const [id, cause] of [['stranger.example.net', 'unknown_peer'], ['far.example.net', 'peer_not_allowed'], ['other.example.net', 'realm_mismatch']] as const) {
      const before = server.stat(`problem:${cause}`);
      const p = await RawPeer.connect(server.ports.tcp);
      assert.equal(await p.exchangeCapabilities(id), Result.UnknownPeer, id);
      assert.ok(p.received[0].flags & CmdFlag.E, '3010 is a protocol error (E bit)');
      await p.waitClosed();
      assert.equal(server.stat(`problem:${cause}`), before + 1, cause);
    }
  });

  it('RFC 6733 §5.6: a second connection from an open peer is rejected; one with a new Origin-State-Id (a restart) replaces it', async () => {
    const dup = await RawPeer.connect(server.ports.tcp);
    assert.equal(await dup.exchangeCapabilities('mag1.example.net', 1), Result.UnableToComply);
    await dup.waitClosed();
    const restarted = await RawPeer.connect(server.ports.tcp);
    assert.equal(await restarted.exchangeCapabilities('mag1.example.net', 2), Result.Success);
    await mag.waitClosed();
    mag = restarted;
    const a = await mag.request(aar({ hopByHop: mag.nextHbh(), sessionId: 'mag1.example.net;6;1', originHost: 'mag1.example.net', userName: 'mn1@example.net' }));
    assert.equal(resultCode(a), Result.Success);
  });

  it('RFC 6733 §3 / §2.1: a message of version 2 → 5011, then the connection is closed', async () => {
    const b = aar({ hopByHop: mag.nextHbh(), sessionId: 'v2', originHost: 'mag1.example.net', userName: 'mn1@example.net' });
    b[0] = 2;
    mag.send(b);
    await mag.until((r) => r.some((m) => resultCode(m) === Result.UnsupportedVersion));
    await mag.waitClosed();
    mag = await RawPeer.connect(server.ports.tcp);
    assert.equal(await mag.exchangeCapabilities('mag1.example.net', 3), Result.Success);
  });
});

describe('RFC 6733 §8.3 / §8.5, RFC 5779 §6: profile changes pushed to the serving MAG (RAR / ASR)', () => {
  it('RAR: the MAG answers RAA 2001 and asks again with an AAR in the same session; ASR: ASA 2001 and the session ends', async () => {
    const pol = policy();
    const server = new DiameterServer({ policy: pol, identity: SERVER_ID, realm: REALM, hosts: ['127.0.0.1'], port: 0 });
    await server.start();
    const client = new DiameterAaaClient({ identity: 'mag1.example.net', realm: REALM, peers: [`aaa://127.0.0.1:${server.ports.tcp}`], cacheTtlMs: 60_000 });
    const seen: string[] = [];
    client.onServerRequest(async (r) => {
      seen.push(`${r.kind}:${r.userName}`);
      return { resultCode: Result.Success, after: () => void client.authorize({ userName: r.userName }) };
    });
    try {
      client.start();
      await client.ready();
      const first = await client.authorize({ userName: 'mn1@example.net' });
      assert.equal(first.status, 'accept');
      const sid = client.sessionId('mn1@example.net')!;
      assert.ok(server.sessions.has(sid));
      const aars = server.stat('answer:mag_aar:2001');
      pol.addProfile(makeProfile({ mnId: 'mn1@example.net', hnps: ['2001:db8:1:5::/64'], lma: '2001:db8::1' }));
      const out = await server.profileChanged('mn1@example.net', false);
      assert.deepEqual(out.map((o) => [o.kind, o.outcome, o.resultCode]), [['rar', 'ack', 2001]]);
      assert.deepEqual(seen, ['rar:mn1@example.net']);
      await until('the AAR after the RAA', () => server.stat('answer:mag_aar:2001') === aars + 1);
      const again = await client.authorize({ userName: 'mn1@example.net' });
      assert.ok(again.status === 'accept' && again.profile.hnps[0] === '2001:db8:1:5::/64', 'the cached answer was dropped on RAR');
      assert.equal(client.sessionId('mn1@example.net'), sid, 'same session');
      const gone = await server.profileChanged('mn1@example.net', true);
      assert.deepEqual(gone.map((o) => [o.kind, o.outcome]), [['asr', 'ack']]);
      assert.ok(!server.sessions.has(sid));
      assert.ok(await client.terminate('mn1@example.net'), 'the client ends the session with STR (§8.5)');
      assert.equal(client.sessionId('mn1@example.net'), undefined);
      // Nobody serves it now: nothing to push.
      assert.deepEqual(await server.profileChanged('mn1@example.net', true), []);
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it('a session whose MAG is not connected is reported no_connection; the MAG answering 5002 drops it', async () => {
    const pol = policy();
    const server = new DiameterServer({ policy: pol, identity: SERVER_ID, realm: REALM, hosts: ['127.0.0.1'], port: 0 });
    await server.start();
    const client = new DiameterAaaClient({ identity: 'mag1.example.net', realm: REALM, peers: [`aaa://127.0.0.1:${server.ports.tcp}`] });
    client.onServerRequest(async () => ({ resultCode: Result.UnknownSessionId }));
    try {
      client.start();
      await client.ready();
      await client.authorize({ userName: 'mn1@example.net' });
      const out = await server.profileChanged('mn1@example.net', false);
      assert.deepEqual(out.map((o) => [o.outcome, o.resultCode]), [['nak', Result.UnknownSessionId]]);
      assert.equal(server.sessions.size, 0);
      await client.authorize({ userName: 'fqdn@example.net' });
      await client.close();
      await until('the server noticed', () => server.connectedPeers().length === 0);
      assert.deepEqual((await server.profileChanged('fqdn@example.net', false)).map((o) => o.outcome), ['no_connection']);
    } finally {
      await client.close();
      await server.stop();
    }
  });
});

describe('RFC 6733 §2.1, §13: TLS on its own port, peers admitted by certificate', () => {
  let certs: Certs;
  let server: DiameterServer;
  let pol: MemoryDiameterPolicy;

  before(async () => {
    certs = makeCerts(SERVER_ID, ['mag1.example.net', 'intruder.example.net', 'pinned.example.net']);
    pol = policy();
    // No address may claim these identities: only certificates can.
    pol.addPeer({ identity: 'mag1.example.net', realm: REALM, addresses: [] });
    server = new DiameterServer({ policy: pol, identity: SERVER_ID, realm: REALM, hosts: ['127.0.0.1'], port: 0, tls: { port: 0, material: loadTls({ cert: certs.serverCert, key: certs.serverKey, ca: certs.ca }) } });
    await server.start();
  });

  after(async () => {
    await server?.stop();
    certs?.cleanup();
  });

  const clientWith = (identity: string, certName: string) => new DiameterAaaClient({
    identity, realm: REALM, peers: [`aaas://127.0.0.1:${server.ports.tls}`], reconnectMaxMs: 60_000,
    tls: loadTls({ cert: certs.clients[certName].cert, key: certs.clients[certName].key, ca: certs.ca }),
  });

  it('a client certificate naming the identity opens the connection; the AAR is answered over TLS', async () => {
    const c = clientWith('mag1.example.net', 'mag1.example.net');
    try {
      c.start();
      await c.ready();
      const r = await c.authorize({ userName: 'mn1@example.net' });
      assert.equal(r.status, 'accept');
    } finally {
      await c.close();
    }
  });

  it('a certificate for another name cannot claim the identity (3010); over plain TCP without an allowed address neither', async () => {
    const before = server.stat('problem:peer_not_allowed');
    const c = clientWith('mag1.example.net', 'intruder.example.net');
    try {
      c.start();
      await until('refused', () => server.stat('problem:peer_not_allowed') > before);
      assert.equal(c.links[0].open, false);
      await until('the client saw the refusal', () => /3010/.test(c.links[0].lastError ?? ''));
    } finally {
      await c.close();
    }
    const raw = await RawPeer.connect(server.ports.tcp);
    assert.equal(await raw.exchangeCapabilities('mag1.example.net'), Result.UnknownPeer);
    raw.close();
  });

  it('a pinned fingerprint admits exactly that certificate', async () => {
    const { X509Certificate } = await import('node:crypto');
    const { readFileSync } = await import('node:fs');
    const fp = new X509Certificate(readFileSync(certs.clients['intruder.example.net'].cert)).fingerprint256.replace(/:/g, '').toLowerCase();
    pol.addPeer({ identity: 'pinned.example.net', realm: REALM, addresses: [], certificateFingerprint: fp });
    const ok = clientWith('pinned.example.net', 'intruder.example.net');
    const wrong = clientWith('pinned.example.net', 'pinned.example.net');
    try {
      ok.start();
      await ok.ready();
      await ok.close();
      const before = server.stat('problem:peer_not_allowed');
      wrong.start();
      await until('refused', () => server.stat('problem:peer_not_allowed') > before);
    } finally {
      await ok.close();
      await wrong.close();
    }
  });
});
