// Interop with Debian's radclient (freeradius-utils 3.2): our server answers what a real NAS
// implementation sends, and radclient validates our Response Authenticators.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MemoryRadiusPolicy } from '../../src/radius/memory-policy.ts';
import type { RadiusServer } from '../../src/radius/server.ts';
import { LEGACY_SECRET, SECRET, parseReply, radclient, startServer } from './helpers.ts';

describe('radclient interop (RFC 2865, 2866, 5997, 6572)', () => {
  let server: RadiusServer;
  let policy: MemoryRadiusPolicy;
  let auth = 0;
  let acct = 0;

  before(async () => {
    ({ server, policy, auth, acct } = await startServer(undefined, { hosts: ['127.0.0.1', '::1'] }));
  });
  after(async () => server.stop());

  const MA = 'Message-Authenticator = 0x00\n';

  it('RFC 6572 §5.1: Access-Accept carries the profile with exact attribute values', async () => {
    const r = await radclient(['-x', '-r', '1', '-t', '3', `127.0.0.1:${auth}`, 'auth', SECRET],
      `User-Name = "mn1@example.net"\nNAS-Identifier = "mag1"\nService-Type = Login-User\n${MA}Service-Selection = "internet"\nMIP6-Feature-Vector = ${0x0000030000000000n}\n`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const { code, attrs } = parseReply(r.stdout);
    assert.equal(code, 'Access-Accept');
    const one = (n: string): string | undefined => attrs.get(n)?.[0];
    assert.equal(one('Mobile-Node-Identifier'), `0x${Buffer.from('mn1@example.net').toString('hex')}`);
    assert.equal(one('Service-Selection'), 'internet');
    assert.equal(one('PMIP6-Home-LMA-IPv6-Address'), '2001:db8::1');
    assert.deepEqual(attrs.get('PMIP6-Home-HN-Prefix'), ['2001:db8:1:1::/64', '2001:db8:2::/48']);
    assert.equal(one('PMIP6-Home-Interface-ID'), '211:22ff:fe33:4455');
    assert.equal(one('PMIP6-Home-IPv4-HoA'), '10.0.0.5/24');
    assert.equal(one('PMIP6-Home-IPv4-Gateway'), '10.0.0.1');
    assert.equal(one('PMIP6-Home-DHCP4-Server-Address'), '10.0.0.2');
    assert.equal(one('PMIP6-Home-DHCP6-Server-Address'), '2001:db8::53');
    assert.equal(one('MIP6-Feature-Vector'), String(0x0000030000000000n));
    // Message-Authenticator is the first attribute of the reply (BlastRADIUS).
    assert.equal([...attrs.keys()][0], 'Message-Authenticator');
  });

  it('RFC 6572 §5.1 over IPv6: the same Accept on [::1]', async () => {
    const r = await radclient(['-x', '-6', '-r', '1', '-t', '3', `[::1]:${auth}`, 'auth', SECRET], `User-Name = "mn1@example.net"\nNAS-Identifier = "mag1"\n${MA}`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(parseReply(r.stdout).attrs.get('PMIP6-Home-HN-Prefix'), ['2001:db8:1:1::/64', '2001:db8:2::/48']);
  });

  it('RFC 6572 §5.1: IPv4-only vector → IPv4 LMA and HoA, no HNP', async () => {
    const r = await radclient(['-x', '-r', '1', '-t', '3', `127.0.0.1:${auth}`, 'auth', SECRET],
      `User-Name = "mn-v4@example.net"\nNAS-IP-Address = 127.0.0.1\n${MA}MIP6-Feature-Vector = ${0x0001010000000000n}\n`);
    assert.equal(r.code, 0, r.stdout);
    const { attrs } = parseReply(r.stdout);
    assert.equal(attrs.get('PMIP6-Home-LMA-IPv4-Address')?.[0], '192.0.2.1');
    assert.equal(attrs.get('PMIP6-Home-IPv4-HoA')?.[0], '10.1.0.7/16');
    assert.equal(attrs.has('PMIP6-Home-HN-Prefix'), false);
  });

  for (const [what, input] of [
    ['unknown MN', `User-Name = "nobody@example.net"\nNAS-Identifier = "mag1"\n${MA}`],
    ['disabled MN', `User-Name = "mn-off@example.net"\nNAS-Identifier = "mag1"\n${MA}`],
    ['service not allowed', `User-Name = "mn1@example.net"\nNAS-Identifier = "mag1"\n${MA}Service-Selection = "ims"\n`],
    ['contradictory feature vector', `User-Name = "mn1@example.net"\nNAS-Identifier = "mag1"\n${MA}MIP6-Feature-Vector = ${0x0001030000000000n}\n`],
  ] as const) {
    it(`RFC 6572 §5.1/§4.1: Access-Reject for ${what}, Message-Authenticator first`, async () => {
      const r = await radclient(['-x', '-r', '1', '-t', '3', `127.0.0.1:${auth}`, 'auth', SECRET], input);
      assert.equal(r.code, 1);
      const { code, attrs } = parseReply(r.stdout);
      assert.equal(code, 'Access-Reject', r.stdout);
      assert.equal([...attrs.keys()][0], 'Message-Authenticator');
    });
  }

  it('RFC 2866: Accounting Start and Stop are recorded and answered', async () => {
    const before = policy.accounting.length;
    for (const st of ['Start', 'Stop']) {
      const r = await radclient(['-x', '-r', '1', '-t', '3', `127.0.0.1:${acct}`, 'acct', SECRET],
        `User-Name = "mn1@example.net"\nAcct-Status-Type = ${st}\nAcct-Session-Id = "rc-1"\nNAS-Identifier = "mag1"\nAcct-Input-Octets = 1000\nAcct-Input-Gigawords = 1\nPMIP6-Home-HN-Prefix = 2001:db8:1:1::/64\n`);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(parseReply(r.stdout).code, 'Accounting-Response');
    }
    const recs = policy.accounting.slice(before);
    assert.deepEqual(recs.map((x) => x.statusType), ['start', 'stop']);
    assert.equal(recs[0].inputOctets, (1n << 32n) + 1000n);
    assert.deepEqual(recs[0].hnps, ['2001:db8:1:1::/64']);
    assert.equal(recs[0].sessionId, 'rc-1');
  });

  it('RFC 2866 + RFC 3579: Accounting-Request with Message-Authenticator gets a response radclient verifies', async () => {
    const r = await radclient(['-x', '-r', '1', '-t', '3', `127.0.0.1:${acct}`, 'acct', SECRET],
      `User-Name = "mn1@example.net"\nAcct-Status-Type = Interim-Update\nAcct-Session-Id = "rc-ma"\nNAS-Identifier = "mag1"\n${MA}`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const { code, attrs } = parseReply(r.stdout);
    assert.equal(code, 'Accounting-Response');
    assert.equal([...attrs.keys()][0], 'Message-Authenticator');
  });

  it('RFC 5997 §3: Status-Server on the auth and accounting ports', async () => {
    const a = await radclient(['-x', '-r', '1', '-t', '3', `127.0.0.1:${auth}`, 'status', SECRET], MA);
    assert.equal(a.code, 0, a.stdout);
    assert.equal(parseReply(a.stdout).code, 'Access-Accept');
    const b = await radclient(['-x', '-r', '1', '-t', '3', `127.0.0.1:${acct}`, 'status', SECRET], MA);
    assert.equal(b.code, 0, b.stdout);
    assert.equal(parseReply(b.stdout).code, 'Accounting-Response');
  });

  it('BlastRADIUS: Access-Request without Message-Authenticator is dropped by default', async () => {
    const before = server.stat('missing_message_authenticator');
    const r = await radclient(['-x', '-r', '1', '-t', '1', `127.0.0.1:${auth}`, 'auth', SECRET], 'User-Name = "mn1@example.net"\nNAS-Identifier = "mag1"\n');
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /No reply/);
    assert.ok(server.stat('missing_message_authenticator') > before);
  });

  it('BlastRADIUS: …and accepted from a client relaxed for legacy equipment', async () => {
    const r = await radclient(['-x', '-r', '1', '-t', '3', `127.0.0.1:${auth}`, 'auth', LEGACY_SECRET],
      'User-Name = "mn1@example.net"\nNAS-Identifier = "legacy"\nPacket-Src-IP-Address = 127.0.0.2\n');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const { code, attrs } = parseReply(r.stdout);
    assert.equal(code, 'Access-Accept');
    assert.equal([...attrs.keys()][0], 'Message-Authenticator', 'MA first even when the request had none');
  });

  it('BlastRADIUS: Authorize-Only without Message-Authenticator is dropped even for a relaxed client', async () => {
    const r = await radclient(['-x', '-r', '1', '-t', '1', `127.0.0.1:${auth}`, 'auth', LEGACY_SECRET],
      'User-Name = "mn1@example.net"\nService-Type = Authorize-Only\nNAS-Identifier = "lma"\nPacket-Src-IP-Address = 127.0.0.2\n');
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /No reply/);
  });

  it('RFC 3579 §3.2 / RFC 2866 §3: a wrong secret gets no answer', async () => {
    const badMa = server.stat('bad_message_authenticator');
    const badAuth = server.stat('bad_authenticator');
    const a = await radclient(['-x', '-r', '1', '-t', '1', `127.0.0.1:${auth}`, 'auth', 'not-the-secret'], `User-Name = "mn1@example.net"\nNAS-Identifier = "mag1"\n${MA}`);
    assert.equal(a.code, 1);
    assert.match(a.stdout + a.stderr, /No reply/);
    const b = await radclient(['-x', '-r', '1', '-t', '1', `127.0.0.1:${acct}`, 'acct', 'not-the-secret'], 'User-Name = "x"\nAcct-Status-Type = Start\nAcct-Session-Id = "w"\n');
    assert.equal(b.code, 1);
    assert.ok(server.stat('bad_message_authenticator') > badMa);
    assert.ok(server.stat('bad_authenticator') > badAuth);
  });

  it('RFC 6572 §6.1: LMA authorisation (Service-Type 17) with HNP/HoA delegation', async () => {
    const r = await radclient(['-x', '-r', '1', '-t', '3', `127.0.0.1:${auth}`, 'auth', SECRET],
      `User-Name = "mn-pool@example.net"\nService-Type = Authorize-Only\nNAS-Identifier = "lma1"\nNAS-Port-Type = Virtual\n${MA}` +
      `Mobile-Node-Identifier = "mn-pool@example.net"\nPMIP6-Home-LMA-IPv6-Address = 2001:db8::1\nPMIP6-Home-HN-Prefix = ::/128\nPMIP6-Home-IPv4-HoA = 0.0.0.0/32\n`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const { attrs } = parseReply(r.stdout);
    assert.deepEqual(attrs.get('PMIP6-Home-HN-Prefix'), ['2001:db8:100::/64']);
    assert.deepEqual(attrs.get('PMIP6-Home-IPv4-HoA'), ['10.9.0.10/24']);
    assert.equal(policy.lmaOf.get('mn-pool@example.net'), '2001:db8::1');
  });
});
