// Wireshark's Diameter dissector as an independent decoder of what our client and server put on
// the wire: a live capture on loopback (tshark -i lo) of a MAG's AAR/AAA (RFC 5779 §4.1), STR/STA,
// an LMA's delegating AAR/AAA (§4.2) and DPR/DPA. No frame may be malformed or carry an expert
// warning, and the PMIPv6 AVPs (including RFC 5779's 504-507, which Wireshark 4.0's
// mobileipv6.xml defines) must decode to the values of the profile.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DiameterAaaClient, DiameterServer, MemoryDiameterPolicy } from '../../src/diameter/index.ts';
import { makeProfile } from '../../src/radius/memory-policy.ts';
import { FeatureVector } from '../../src/policy/profile.ts';
import { REALM } from './helpers.ts';

const FV = FeatureVector.PMIP6_SUPPORTED | FeatureVector.IP4_HOA_SUPPORTED;

function tshark(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('tshark', args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

describe('tshark decodes our Diameter traffic (RFC 6733, RFC 7155, RFC 5779)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pmip6-dia-tshark-'));
  const file = join(dir, 'diameter.pcapng');
  let port = 0;
  /** Every Diameter frame as tshark decodes it: field → value (several values joined by ","). */
  let frames: Record<string, string>[] = [];
  let problems = '';
  const FIELDS = [
    'diameter.cmd.code', 'diameter.flags.request', 'diameter.Result-Code', 'diameter.User-Name', 'diameter.Auth-Application-Id',
    'diameter.Auth-Request-Type', 'diameter.NAS-Identifier', 'diameter.Calling-Station-Id', 'diameter.Service-Selection',
    'diameter.MIP6-Feature-Vector', 'diameter.Auth-Session-State', 'diameter.Destination-Realm', 'diameter.Mobile-Node-Identifier',
    'diameter.MIP-Home-Agent-Address.IPv6', 'diameter.MIP6-Home-Link-Prefix', 'diameter.PMIP6-IPv4-Home-Address.IPv4',
    'diameter.PMIP6-DHCP-Server-Address.IPv4', 'diameter.PMIP6-DHCP-Server-Address.IPv6', 'diameter.Origin-Host', 'diameter.Termination-Cause',
  ];
  const pick = (pred: (f: Record<string, string>) => boolean, fields: string[]): string[][] => frames.filter(pred).map((f) => fields.map((k) => f[k]));

  before(async () => {
    const policy = new MemoryDiameterPolicy().addPeer({ identity: 'mag1.example.net', realm: REALM }).addPeer({ identity: 'lma1.example.net', realm: REALM, role: 'lma', lmaAddresses: ['2001:db8::1'] });
    policy.addProfile(makeProfile({ mnId: 'mn1@example.net', hnps: ['2001:db8:1:1::/64'], lma: '2001:db8::1', ipv4HoA: '10.0.0.5', serviceSelection: 'internet', dhcpv4Server: '10.0.0.53', dhcpv6Server: '2001:db8::53', mip6FeatureVector: FV }));
    policy.addProfile(makeProfile({ mnId: 'pool@example.net', hnpPool: 'p6', mip6FeatureVector: FeatureVector.PMIP6_SUPPORTED }));
    policy.store.hnpPools.set('p6', ['2001:db8:77::/64']);
    const server = new DiameterServer({ policy, identity: 'aaa.example.net', realm: REALM, hosts: ['127.0.0.1'], port: 0 });
    await server.start();
    port = server.ports.tcp;
    const cap = spawn('tshark', ['-i', 'lo', '-f', `tcp port ${port}`, '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    cap.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const count = async (filter: string) => (await tshark(['-r', file, '-d', `tcp.port==${port},diameter`, '-Y', filter]).catch(() => '')).split('\n').filter(Boolean).length;
    try {
      // The capture is running once a probe connection shows up in the file.
      for (let i = 0; ; i++) {
        if (cap.exitCode !== null) throw new Error(`tshark exited: ${err}`);
        if (/Capturing on/.test(err)) {
          await new Promise<void>((r) => net.connect(port, '127.0.0.1', function (this: net.Socket) {
            this.destroy();
            r();
          }).on('error', () => r()));
          if ((await count('tcp.flags.syn == 1')) > 0) break;
        }
        if (i > 200) throw new Error(`capture did not start: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const mag = new DiameterAaaClient({ identity: 'mag1.example.net', realm: REALM, peers: [`aaa://127.0.0.1:${port}`], nasIdentifier: 'mag1', nasIpAddress: '192.0.2.7' });
      mag.start();
      await mag.ready();
      const r = await mag.authorize({ userName: 'mn1@example.net', featureVector: FV, serviceSelection: 'internet', callingStationId: '02-00-00-00-00-01' });
      assert.equal(r.status, 'accept');
      assert.ok(await mag.terminate('mn1@example.net'));
      const lma = new DiameterAaaClient({ identity: 'lma1.example.net', realm: REALM, peers: [`aaa://127.0.0.1:${port}`] });
      lma.start();
      await lma.ready();
      assert.equal((await lma.authorizeLma({ mnId: 'pool@example.net', lmaAddress: '2001:db8::1', hnps: 'delegate' })).status, 'accept');
      await mag.close();
      await lma.close();
      for (let i = 0; (await count('diameter.cmd.code == 282 && diameter.flags.request == 0')) < 2; i++) {
        if (i > 200) throw new Error('DPAs not captured');
        await new Promise((res) => setTimeout(res, 50));
      }
    } finally {
      cap.kill('SIGINT');
      await new Promise((res) => (cap.exitCode !== null ? res(null) : cap.once('exit', res)));
      await server.stop();
    }
    const out = await tshark(['-r', file, '-d', `tcp.port==${port},diameter`, '-Y', 'diameter', '-T', 'fields', '-E', 'separator=|', '-E', 'aggregator=,', ...FIELDS.flatMap((f) => ['-e', f])]);
    frames = out.split('\n').filter(Boolean).map((l) => Object.fromEntries(l.split('|').map((v, i) => [FIELDS[i], v])));
    problems = await tshark(['-r', file, '-d', `tcp.port==${port},diameter`, '-Y', '_ws.malformed || (_ws.expert.severity >= warning && diameter)', '-T', 'fields', '-e', 'frame.number', '-e', '_ws.expert.message']);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('no malformed frames and no expert warnings; every command is there', async () => {
    assert.equal(problems, '');
    const cmds = pick(() => true, ['diameter.cmd.code', 'diameter.flags.request']).map((r) => `${r[0]}${r[1] === '1' ? 'R' : 'A'}`);
    for (const c of ['257R', '257A', '265R', '265A', '275R', '275A', '282R', '282A']) assert.ok(cmds.includes(c), `${c} in ${cmds.join(' ')}`);
  });

  it('the MAG\'s AA-Request: AUTHORIZE_ONLY, User-Name, NAS-Identifier, Calling-Station-Id, Service-Selection, MIP6-Feature-Vector', () => {
    const rows = pick((f) => f['diameter.cmd.code'] === '265' && f['diameter.flags.request'] === '1' && f['diameter.User-Name'] === 'mn1@example.net', [
      'diameter.Auth-Application-Id', 'diameter.Auth-Request-Type', 'diameter.NAS-Identifier', 'diameter.Calling-Station-Id', 'diameter.Service-Selection', 'diameter.MIP6-Feature-Vector', 'diameter.Auth-Session-State', 'diameter.Destination-Realm',
    ]);
    assert.deepEqual(rows, [['1', '2', 'mag1', '02-00-00-00-00-01', 'internet', String(FV), '0', REALM]]);
  });

  it('RFC 5779 §7.1: the AA-Answer to the MAG carries the profile as Wireshark decodes it', () => {
    const rows = pick((f) => f['diameter.cmd.code'] === '265' && f['diameter.flags.request'] === '0' && f['diameter.Mobile-Node-Identifier'] !== '', [
      'diameter.Result-Code', 'diameter.Mobile-Node-Identifier', 'diameter.MIP-Home-Agent-Address.IPv6', 'diameter.MIP6-Home-Link-Prefix',
      'diameter.PMIP6-IPv4-Home-Address.IPv4', 'diameter.PMIP6-DHCP-Server-Address.IPv4', 'diameter.PMIP6-DHCP-Server-Address.IPv6',
      'diameter.Service-Selection', 'diameter.MIP6-Feature-Vector', 'diameter.Origin-Host',
    ]);
    assert.equal(rows.length, 1);
    const [rc, mnId, lma, hlp, hoa, dhcp4, dhcp6, service, fv, origin] = rows[0];
    assert.equal(rc, '2001');
    assert.equal(mnId, 'mn1@example.net');
    // Once at the top, once inside Service-Configuration (RFC 5779 §5.9).
    assert.equal(lma, '2001:db8::1,2001:db8::1');
    assert.equal(hlp.split(',')[0], '4020010db8000100010000000000000000', 'prefix length 64 + 2001:db8:1:1::');
    assert.equal(hoa.split(',')[0], '10.0.0.5');
    assert.equal(dhcp4, '10.0.0.53');
    assert.equal(dhcp6, '2001:db8::53');
    assert.equal(service, 'internet,internet');
    assert.equal(fv, String(FV));
    assert.equal(origin, 'aaa.example.net');
  });

  it('RFC 5779 §4.2: the LMA\'s request delegates (all-zero prefix) and the answer names the assigned HNP with a zero home agent address', async () => {
    const req = pick((f) => f['diameter.cmd.code'] === '265' && f['diameter.flags.request'] === '1' && f['diameter.User-Name'] === 'pool@example.net', ['diameter.Auth-Request-Type', 'diameter.MIP-Home-Agent-Address.IPv6', 'diameter.MIP6-Home-Link-Prefix', 'diameter.Auth-Session-State']);
    assert.deepEqual(req, [['2', '2001:db8::1', '0000000000000000000000000000000000', '1']]);
    const ans = pick((f) => f['diameter.cmd.code'] === '265' && f['diameter.flags.request'] === '0' && f['diameter.User-Name'] === 'pool@example.net', ['diameter.Result-Code', 'diameter.MIP-Home-Agent-Address.IPv6', 'diameter.MIP6-Home-Link-Prefix']);
    assert.deepEqual(ans, [['2001', '::', '4020010db8007700000000000000000000']]);
  });

  it('RFC 6733 §8.4: STR with Termination-Cause LOGOUT, STA 2001', async () => {
    assert.deepEqual(pick((f) => f['diameter.cmd.code'] === '275' && f['diameter.flags.request'] === '1', ['diameter.Termination-Cause', 'diameter.User-Name']), [['1', 'mn1@example.net']]);
    assert.deepEqual(pick((f) => f['diameter.cmd.code'] === '275' && f['diameter.flags.request'] === '0', ['diameter.Result-Code']), [['2001']]);
  });
});
