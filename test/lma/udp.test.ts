// The LMA over real IPv4/UDP sockets (RFC 5844 §4): PBU -> PBA carriage, IPv4 tunnels,
// the F flag, handoff between MAGs on two loopback addresses, heartbeat over UDP.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { BaStatus, BuFlag, HandoffIndicator as HI, HeartbeatFlag, decodeMessage, getOption } from '../../src/mh/index.ts';
import { openUdpTransport } from '../../src/transport/udp.ts';
import type { UdpTransport } from '../../src/transport/udp.ts';
import { RecordingDataPlane } from '../../src/dataplane/recording.ts';
import { Lma } from '../../src/lma/index.ts';
import type { LmaConfig } from '../../src/lma/index.ts';
import { MapPolicy, TestMag, makeProfile } from './driver.ts';

const MN = 'mn1@example.net';
const P1 = '2001:db8:1:1::/64';

interface UdpSetup {
  lma: Lma;
  lmaT: UdpTransport;
  dp: RecordingDataPlane;
  policy: MapPolicy;
  mags: UdpTransport[];
  mag(address: string): Promise<TestMag>;
  close(): Promise<void>;
}

async function setup(config: Partial<LmaConfig> = {}): Promise<UdpSetup> {
  const lmaT = await openUdpTransport({ addresses: ['127.0.0.1'], port: 0 });
  const dp = new RecordingDataPlane();
  const policy = new MapPolicy();
  policy.add(makeProfile(MN, { hnps: [P1], ipv4HoA: '10.1.0.5', ipv4PrefixLength: 24 }));
  const lma = new Lma({ transport: lmaT, dataPlane: dp, policy, config: { address: '127.0.0.1', heartbeatIntervalMs: 0, ...config } });
  await lma.start();
  const mags: UdpTransport[] = [];
  const clock = { now: () => Date.now() }; // one clock: the MAGs' timestamps are synchronised
  return {
    lma,
    lmaT,
    dp,
    policy,
    mags,
    mag: async (address: string) => {
      const t = await openUdpTransport({ addresses: [address], port: 0 });
      mags.push(t);
      return new TestMag(t, { address: '127.0.0.1', port: lmaT.localAddress().port }, clock);
    },
    close: async () => {
      await lma.stop();
      for (const t of [lmaT, ...mags]) await t.close();
    },
  };
}

describe('RFC 5844 §4 LMA over IPv4/UDP', () => {
  let s: UdpSetup;
  afterEach(() => s.close());

  it('§4.1.3.2: PBA from the LMA port to the PBU source port, MH checksum 0; IPv4 tunnel between IPv4-LMAA and IPv4-Proxy-CoA', async () => {
    s = await setup();
    const mag = await s.mag('127.0.0.2');
    const raw = new Promise<Buffer>((r) => mag.t.onReceive((m) => r(m.data)));
    mag.pbu({ mnId: MN });
    const data = await raw;
    assert.equal(data.readUInt16BE(4), 0, 'MH checksum 0 over UDP');
    const d = decodeMessage(data);
    assert.ok(d.ok && d.msg.type === 'ba');
    assert.equal(d.msg.status, 0);
    const [spec] = [...s.dp.tunnels.values()];
    assert.deepEqual({ local: spec.local, remote: spec.remote, encap: spec.encap }, { local: '127.0.0.1', remote: '127.0.0.2', encap: 'ipip' });
    const b = s.lma.bindings.list().items[0];
    assert.equal(b.carriage, 'udp4');
    assert.equal(b.proxyCoa, '127.0.0.2');
    assert.equal(b.magPort, mag.t.localAddress().port);
  });

  it('§4.1.3.1: F flag with AcceptForcedIPv4UDPEncapsulationRequest = 0 -> 129; = 1 -> IPv4-UDP tunnel', async () => {
    s = await setup();
    const mag = await s.mag('127.0.0.2');
    mag.pbu({ mnId: MN, flags: BuFlag.A | BuFlag.P | BuFlag.F });
    assert.equal(((await mag.next()) as { status: number }).status, BaStatus.ADMINISTRATIVELY_PROHIBITED);
    await s.close();
    s = await setup({ acceptForcedIpv4UdpEncapsulation: true });
    const m2 = await s.mag('127.0.0.2');
    m2.pbu({ mnId: MN, flags: BuFlag.A | BuFlag.P | BuFlag.F });
    const pba = await m2.next();
    assert.equal((pba as { status: number }).status, 0);
    assert.deepEqual(getOption(pba, 'natDetection'), { type: 'natDetection', f: true, refreshTime: 0xffffffff }, '§4.2.2: tells the MAG to use IPv4-UDP');
    assert.equal([...s.dp.tunnels.values()][0].encap, 'ip4-udp');
  });

  it('RFC 5213 §5.3.4 over UDP: handoff 127.0.0.2 -> 127.0.0.3, then the old MAG de-registration is ignored', async () => {
    s = await setup();
    const m1 = await s.mag('127.0.0.2');
    const m2 = await s.mag('127.0.0.3');
    m1.pbu({ mnId: MN, v4: { addr: '0.0.0.0' } });
    assert.equal(((await m1.next()) as { status: number }).status, 0);
    m2.pbu({ mnId: MN, hnps: [P1], v4: { addr: '10.1.0.5', prefixLen: 24 }, hi: HI.HANDOFF_BETWEEN_MAGS });
    assert.equal(((await m2.next()) as { status: number }).status, 0);
    m1.pbu({ mnId: MN, hnps: [P1], v4: { addr: '10.1.0.5', prefixLen: 24 }, hi: HI.UNKNOWN, lifetime: 0 });
    await new Promise((r) => setTimeout(r, 100));
    await s.lma.settle();
    assert.equal(m1.take(), undefined);
    const b = s.lma.bindings.list().items[0];
    assert.equal(b.proxyCoa, '127.0.0.3');
    assert.equal(b.state, 'active');
    assert.equal(s.dp.tunnels.get(s.dp.routes.get('10.1.0.5/32')!)!.remote, '127.0.0.3');
  });

  it('RFC 5213 §5.3.5: a MAG is its address: a de-registration through another UDP port is a de-registration, answered to that port', async () => {
    s = await setup();
    const m1 = await s.mag('127.0.0.2');
    const m2 = await s.mag('127.0.0.2'); // the same MAG, another source port (a restarted daemon, NAT)
    m1.pbu({ mnId: MN });
    assert.equal(((await m1.next()) as { status: number }).status, 0);
    m2.pbu({ mnId: MN, hnps: [P1], lifetime: 0 });
    assert.equal(((await m2.next()) as { status: number }).status, 0, 'the PBA goes to the port the PBU came from');
    assert.equal(m1.take(), undefined);
    assert.equal(s.lma.bindings.list().items[0].state, 'deregistering');
    assert.equal(s.lma.peers().length, 1);
  });

  it('RFC 5847 §4: heartbeat over IPv4/UDP', async () => {
    s = await setup();
    const mag = await s.mag('127.0.0.2');
    mag.send({ type: 'heartbeat', flags: 0, seq: 9, options: [] });
    const r = await mag.next();
    assert.equal(r.type, 'heartbeat');
    assert.equal(r.type === 'heartbeat' && r.flags, HeartbeatFlag.R);
  });
});
