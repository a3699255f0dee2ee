// Interoperability with Debian's freeDiameter 1.2.1 (freeDiameterd), both ways:
// - freeDiameter as a client of our server (it runs in the root namespace with Port = 0):
//   CER/CEA, its DWR answered by us, our DWR answered by it, our DPR answered with DPA (it then
//   reconnects), and its DPR (on SIGTERM) answered by us;
// - our client against a freeDiameter server, which refuses loopback-only set-ups: it runs in a
//   network namespace this test creates (veth, ULA addresses unique to this process) and removes.
//   CER/CEA, DWR both ways, an AAR it parses and answers DIAMETER_UNABLE_TO_DELIVER (it has no
//   NASREQ application to route to), our DPR → its DPA, its DPR → our DPA.
// freeDiameter's watchdog fires 6 s ± 2 s after the last message (TwTimer = 6, its minimum): the
// test waits for it as long as that takes, no longer.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DiameterAaaClient, DiameterServer, DisconnectCause, MemoryDiameterPolicy } from '../../src/diameter/index.ts';
import { REALM, until } from './helpers.ts';

const FD = '/usr/bin/freeDiameterd';
const EXT = '/usr/lib/freeDiameter';

function certificate(dir: string, cn: string): { cert: string; key: string } {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${cn}.key`, '-out', `${cn}.pem`, '-days', '2', '-subj', `/CN=${cn}`], { cwd: dir, stdio: 'ignore' });
  return { cert: join(dir, `${cn}.pem`), key: join(dir, `${cn}.key`) };
}

interface Fd {
  child: ChildProcess;
  log: () => string;
  exited: Promise<number | null>;
}

function startFd(conf: string, netns?: string): Fd {
  const cmd = netns ? 'ip' : FD;
  const args = netns ? ['netns', 'exec', netns, FD, '-c', conf, '-dd'] : ['-c', conf, '-dd'];
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, log: () => out, exited };
}

async function stopFd(fd: Fd | undefined): Promise<void> {
  if (!fd || fd.child.exitCode !== null) return;
  fd.child.kill('SIGTERM');
  const t = setTimeout(() => fd.child.kill('SIGKILL'), 5000);
  await fd.exited;
  clearTimeout(t);
}

describe('freeDiameter as a client of our server (RFC 6733 §5.3, §5.4, §5.5)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pmip6-fdc-'));
  let server: DiameterServer;
  let fd: Fd | undefined;

  before(async () => {
    const policy = new MemoryDiameterPolicy().addPeer({ identity: 'fdclient.example.net', realm: REALM, addresses: ['127.0.0.1'] });
    server = new DiameterServer({ policy, identity: 'aaa.example.net', realm: REALM, hosts: ['127.0.0.1'], port: 0, watchdogMs: 60_000 });
    await server.start();
    const c = certificate(dir, 'fdclient.example.net');
    writeFileSync(join(dir, 'client.conf'), `Identity = "fdclient.example.net";
Realm = "${REALM}";
Port = 0;
SecPort = 0;
No_SCTP;
TLS_Cred = "${c.cert}", "${c.key}";
TLS_CA = "${c.cert}";
TwTimer = 6;
TcTimer = 1;
LoadExtension = "${EXT}/dict_nasreq.fdx";
ConnectPeer = "aaa.example.net" { ConnectTo = "127.0.0.1"; Port = ${server.ports.tcp}; No_TLS; };
`);
    fd = startFd(join(dir, 'client.conf'));
  });

  after(async () => {
    await stopFd(fd);
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('CER/CEA: freeDiameter (advertising Relay) opens a connection to our server', async () => {
    await until('freeDiameter connected', () => server.connectedPeers().includes('fdclient.example.net'), 15_000);
    await until('freeDiameter says open', () => /STATE_WAITCEA'\s+->\s+'STATE_OPEN'\s+'aaa\.example\.net'/.test(fd!.log()), 5000);
  });

  it('DWR/DWA: its watchdog (6 ± 2 s) is answered by us; our DWR is answered by it', async () => {
    await until('its DWR', () => server.stat('recv:Device-Watchdog-Request') >= 1, 12_000);
    await until('our DWA reached it', () => /RCV from 'aaa\.example\.net'.*0\/280 f:----/.test(fd!.log()), 5000);
    assert.ok(server.probe('fdclient.example.net'));
    await until('its DWA', () => server.stat('recv:Device-Watchdog-Answer') >= 1, 5000);
  });

  it('DPR/DPA: our DPR (REBOOTING) is answered with DPA; it reconnects; its DPR on shutdown is answered with our DPA', async () => {
    const opens = server.stat('open');
    assert.ok(server.disconnectPeer('fdclient.example.net', DisconnectCause.Rebooting));
    await until('its DPA', () => server.stat('recv:Disconnect-Peer-Answer') >= 1, 5000);
    assert.match(fd!.log(), /Peer 'aaa\.example\.net' sent a DPR with cause: REBOOTING/);
    await until('it reconnected', () => server.stat('open') > opens && server.connectedPeers().includes('fdclient.example.net'), 15_000);
    fd!.child.kill('SIGTERM');
    assert.equal(await fd!.exited, 0);
    assert.equal(server.stat('recv:Disconnect-Peer-Request'), 1, 'its DPR');
    assert.doesNotMatch(fd!.log(), /ERROR/);
  });
});

describe('our client against a freeDiameter server in a network namespace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pmip6-fds-'));
  const ns = `p6t-dia-${process.pid}`;
  const host = `p6dh${process.pid}`.slice(0, 15);
  const peerIf = `p6dn${process.pid}`.slice(0, 15);
  const tag = (process.pid & 0xffff).toString(16);
  const local = `fd6d:d1a:${tag}::1`;
  const remote = `fd6d:d1a:${tag}::2`;
  let fd: Fd | undefined;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

  before(async () => {
    ip('netns', 'add', ns);
    ip('link', 'add', host, 'type', 'veth', 'peer', 'name', peerIf);
    ip('link', 'set', peerIf, 'netns', ns);
    ip('addr', 'add', `${local}/64`, 'dev', host, 'nodad');
    ip('link', 'set', host, 'up');
    ip('-n', ns, 'addr', 'add', `${remote}/64`, 'dev', peerIf, 'nodad');
    ip('-n', ns, 'link', 'set', peerIf, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    const c = certificate(dir, 'fdserver.example.net');
    writeFileSync(join(dir, 'acl.conf'), 'ALLOW_IPSEC *.example.net\n');
    writeFileSync(join(dir, 'server.conf'), `Identity = "fdserver.example.net";
Realm = "${REALM}";
Port = 3868;
SecPort = 0;
No_SCTP;
TLS_Cred = "${c.cert}", "${c.key}";
TLS_CA = "${c.cert}";
TwTimer = 6;
LoadExtension = "${EXT}/dict_nasreq.fdx";
LoadExtension = "${EXT}/acl_wl.fdx" : "${join(dir, 'acl.conf')}";
`);
    fd = startFd(join(dir, 'server.conf'), ns);
    await until('freeDiameter listening', () => /freeDiameterd daemon initialized/.test(fd!.log()), 15_000);
  });

  after(async () => {
    await stopFd(fd);
    try {
      ip('netns', 'del', ns);
    } catch {
      // already gone
    }
    try {
      ip('link', 'del', host);
    } catch {
      // removed with the namespace
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const client = () => new DiameterAaaClient({ identity: 'pmip6.example.net', realm: REALM, peers: [`aaa://[${remote}]:3868`], watchdogMs: 60_000, requestTimeoutMs: 3000, reconnectMaxMs: 60_000 });

  it('CER/CEA, DWR/DWA both ways, an AAR it parses, DPR/DPA both ways', async () => {
    const c = client();
    try {
      c.start();
      await c.ready(10_000);
      const link = c.links[0];
      assert.equal(link.peer?.originHost, 'fdserver.example.net');
      assert.equal(link.peer?.productName, 'freeDiameter');
      // Its watchdog first (ours is 60 s), then ours on demand.
      await until('its DWR', () => (link.received.get('Device-Watchdog-Request') ?? 0) >= 1, 12_000);
      await until('it got our DWA', () => /RCV from 'pmip6\.example\.net'.*0\/280 f:----/.test(fd!.log()), 5000);
      link.conn!.probe();
      await until('its DWA', () => (link.received.get('Device-Watchdog-Answer') ?? 0) >= 1, 5000);
      // It decodes our AA-Request (its log prints every AVP) and, having no NASREQ application, answers 3002 with the E bit.
      const r = await c.authorize({ userName: 'mn1@example.net', serviceSelection: 'internet' });
      assert.equal(r.status, 'error');
      assert.match(fd!.log(), /RCV from 'pmip6\.example\.net'.*1\/265 f:RP--/);
      assert.match(fd!.log(), /'User-Name'\(1\) l=23 f=-M val="mn1@example\.net"/);
      assert.match(fd!.log(), /SENT to 'pmip6\.example\.net'.*1\/265 f:--E-/);
      await c.close();
      assert.equal(link.lastError, 'DPA received');
      assert.match(fd!.log(), /Peer 'pmip6\.example\.net' sent a DPR with cause: REBOOTING/);
    } finally {
      await c.close();
    }
    // Its DPR: a new connection, then freeDiameter shuts down.
    const c2 = client();
    try {
      c2.start();
      await c2.ready(10_000);
      fd!.child.kill('SIGTERM');
      await until('its DPR', () => (c2.links[0].received.get('Disconnect-Peer-Request') ?? 0) >= 1, 10_000);
      assert.equal(await fd!.exited, 0);
      assert.doesNotMatch(fd!.log(), /Received invalid|malformed/i);
    } finally {
      await c2.close();
    }
  });
});
