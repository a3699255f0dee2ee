// The peer state machine (RFC 6733 §5.6) and the watchdog (RFC 3539 §3.4, RFC 6733 §5.5) on a
// manual clock, with the two ends wired back to back in memory: every transition the machine
// has, timers included, without sockets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PeerConnection, type Admission, type PeerConnectionOptions } from '../../src/diameter/sm.ts';
import { AvpWriter, decodeMessage, findAvp, type DiameterMessage } from '../../src/diameter/codec.ts';
import { buildCer, type LocalNode } from '../../src/diameter/build.ts';
import { App, Avp, Cmd, CmdFlag, DisconnectCause, Result } from '../../src/diameter/constants.ts';
import { EndToEnd } from '../../src/diameter/ids.ts';
import { Watchdog } from '../../src/diameter/watchdog.ts';
import { decU32 } from '../../src/diameter/values.ts';
import { ManualClock } from '../../src/util/clock.ts';

const node = (host: string, apps: number[] = [App.Nasreq]): LocalNode => ({
  originHost: host, originRealm: 'example.net', hostIpAddresses: ['192.0.2.1'], vendorId: 0, productName: 't',
  firmwareRevision: 1, originStateId: 1, authApplicationIds: apps,
});

interface End {
  conn: PeerConnection;
  out: Buffer[];
  closed: boolean;
  events: string[];
  requests: DiameterMessage[];
}

function end(o: Partial<PeerConnectionOptions> & Pick<PeerConnectionOptions, 'role' | 'local' | 'clock'>): End {
  const e: End = { conn: undefined as unknown as PeerConnection, out: [], closed: false, events: [], requests: [] };
  e.conn = new PeerConnection({
    io: { write: (b) => void e.out.push(Buffer.from(b)), close: () => void (e.closed = true) },
    endToEnd: new EndToEnd(0, 0),
    localAddress: '192.0.2.1',
    watchdogMs: 30_000,
    handshakeTimeoutMs: 5000,
    random: () => 0.5,
    events: {
      open: (p) => e.events.push(`open:${p.originHost}`),
      request: (m) => {
        e.requests.push(m);
        e.events.push(`request:${m.commandCode}`);
      },
      closed: (reason) => e.events.push(`closed:${reason}`),
      problem: (cause) => e.events.push(`problem:${cause}`),
      watchdog: (s) => e.events.push(`wd:${s}`),
    },
    ...o,
  });
  return e;
}

/** Delivers what each side wrote to the other until both are quiet. */
function pump(a: End, b: End): void {
  for (let i = 0; i < 100 && (a.out.length || b.out.length); i++) {
    for (const m of a.out.splice(0)) b.conn.receive(m);
    for (const m of b.out.splice(0)) a.conn.receive(m);
  }
}

const decoded = (b: Buffer): DiameterMessage => {
  const d = decodeMessage(b);
  assert.ok(d.ok);
  return d.value;
};
const resultOf = (b: Buffer): number | null => {
  const a = findAvp(decoded(b).avps, Avp.ResultCode);
  return a ? decU32(a.data) : null;
};

function pair(admit?: (p: { originHost: string }) => Admission | Promise<Admission>, apps?: number[]) {
  const clock = new ManualClock();
  const i = end({ role: 'initiator', local: node('mag1.example.net'), clock });
  const r = end({ role: 'responder', local: node('aaa.example.net', apps), clock, admit });
  return { clock, i, r };
}

describe('RFC 6733 §5.3, §5.6: capabilities exchange', () => {
  it('Closed → (CER) → R-Open on the responder; Wait-I-CEA → (CEA 2001) → I-Open on the initiator', () => {
    const { i, r } = pair();
    i.conn.start();
    r.conn.start();
    assert.equal(i.conn.state, 'Wait-I-CEA');
    assert.equal(decoded(i.out[0]).commandCode, Cmd.CapabilitiesExchange);
    pump(i, r);
    assert.equal(i.conn.state, 'I-Open');
    assert.equal(r.conn.state, 'R-Open');
    assert.deepEqual(r.events, ['open:mag1.example.net']);
    assert.deepEqual(i.events, ['open:aaa.example.net']);
    assert.deepEqual(i.conn.peer?.authApplicationIds, [App.Nasreq]);
  });

  it('§5.3: an unknown peer gets DIAMETER_UNKNOWN_PEER (3010, E bit) and the connection closes', () => {
    const { i, r } = pair(() => ({ ok: false, resultCode: Result.UnknownPeer, errorMessage: 'who?', cause: 'unknown_peer' }));
    i.conn.start();
    r.conn.start();
    const cer = i.out.splice(0);
    r.conn.receive(cer[0]);
    assert.equal(resultOf(r.out[0]), Result.UnknownPeer);
    assert.ok(decoded(r.out[0]).flags & CmdFlag.E);
    assert.equal(r.conn.state, 'Closed');
    assert.ok(r.closed);
    assert.ok(r.events.includes('problem:unknown_peer'));
    i.conn.receive(r.out[0]);
    assert.equal(i.conn.state, 'Closed', 'the initiator gives up on a refusing CEA');
  });

  it('§5.3: no application in common → 5010; a relay (0xffffffff) shares every application', () => {
    const none = pair(undefined, [App.Nasreq]);
    const other = end({ role: 'initiator', local: node('x.example.net', [16777272]), clock: none.clock });
    other.conn.start();
    none.r.conn.start();
    pump(other, none.r);
    assert.ok(none.r.events.includes('problem:no_common_application'));
    assert.equal(none.r.conn.state, 'Closed');
    const relay = pair(undefined, [App.Nasreq]);
    const rel = end({ role: 'initiator', local: node('relay.example.net', [App.Relay]), clock: relay.clock });
    rel.conn.start();
    relay.r.conn.start();
    pump(rel, relay.r);
    assert.equal(relay.r.conn.state, 'R-Open');
  });

  it('§5.3/§6.11: an application advertised only in Vendor-Specific-Application-Id counts (its Vendor-Id does not)', () => {
    const { r } = pair();
    r.conn.start();
    const w = new AvpWriter({ flags: CmdFlag.R, commandCode: Cmd.CapabilitiesExchange, applicationId: 0, hopByHop: 1, endToEnd: 1 });
    w.utf8(Avp.OriginHost, 'v.example.net').utf8(Avp.OriginRealm, 'example.net').octets(Avp.HostIpAddress, Buffer.from([0, 1, 192, 0, 2, 9]));
    w.group(Avp.VendorSpecificApplicationId, (g) => g.u32(Avp.VendorId, 10415).u32(Avp.AuthApplicationId, App.Nasreq));
    r.conn.receive(Buffer.from(w.bytes()));
    assert.equal(resultOf(r.out[0]), Result.Success);
    assert.equal(r.conn.state, 'R-Open');
    assert.deepEqual(r.conn.peer?.vendorSpecific, [{ vendorId: 10415, authApplicationId: 1, acctApplicationId: null }]);
    assert.deepEqual(r.conn.peer?.hostIpAddresses, ['192.0.2.9']);
  });

  it('§5.3/§6.10: a CER offering only in-band TLS has no security in common (5017)', () => {
    const { r, clock } = pair();
    r.conn.start();
    const w = new AvpWriter({ flags: CmdFlag.R, commandCode: Cmd.CapabilitiesExchange, applicationId: 0, hopByHop: 1, endToEnd: 1 });
    w.utf8(Avp.OriginHost, 'x.example.net').utf8(Avp.OriginRealm, 'example.net').u32(Avp.AuthApplicationId, 1).u32(Avp.InbandSecurityId, 1);
    r.conn.receive(Buffer.from(w.bytes()));
    assert.equal(resultOf(r.out[0]), Result.NoCommonSecurity);
    assert.equal(r.conn.state, 'Closed');
    void clock;
  });

  it('§5.3.1: a CER without Origin-Host → 5005 with a Failed-AVP naming it', () => {
    const { r } = pair();
    r.conn.start();
    const w = new AvpWriter({ flags: CmdFlag.R, commandCode: Cmd.CapabilitiesExchange, applicationId: 0, hopByHop: 1, endToEnd: 1 });
    w.utf8(Avp.OriginRealm, 'example.net');
    r.conn.receive(Buffer.from(w.bytes()));
    const a = decoded(r.out[0]);
    assert.equal(resultOf(r.out[0]), Result.MissingAvp);
    const f = findAvp(a.avps, Avp.FailedAvp)!;
    assert.equal(f.data.readUInt32BE(0), Avp.OriginHost);
  });

  it('§5.6.1: any message other than a CER first, or no CER in time, closes an incoming connection', () => {
    const { r, clock } = pair();
    r.conn.start();
    const w = new AvpWriter({ flags: CmdFlag.R, commandCode: Cmd.DeviceWatchdog, applicationId: 0, hopByHop: 1, endToEnd: 1 });
    w.utf8(Avp.OriginHost, 'x').utf8(Avp.OriginRealm, 'y');
    r.conn.receive(Buffer.from(w.bytes()));
    assert.equal(r.conn.state, 'Closed');
    const late = pair();
    late.r.conn.start();
    late.clock.advance(4999);
    assert.equal(late.r.conn.state, 'Wait-CER');
    late.clock.advance(1);
    assert.equal(late.r.conn.state, 'Closed');
    void clock;
  });

  it('Wait-I-CEA: I-Rcv-Non-CEA → Closed; Timeout → Closed', () => {
    const { i, r, clock } = pair();
    i.conn.start();
    r.conn.start();
    r.conn.receive(i.out.splice(0)[0]);
    const wrong = new AvpWriter({ flags: CmdFlag.R, commandCode: Cmd.DeviceWatchdog, applicationId: 0, hopByHop: 9, endToEnd: 9 }).utf8(Avp.OriginHost, 'a').utf8(Avp.OriginRealm, 'b').bytes();
    i.conn.receive(Buffer.from(wrong));
    assert.equal(i.conn.state, 'Closed');
    const t = pair();
    t.i.conn.start();
    t.clock.advance(5000);
    assert.equal(t.i.conn.state, 'Closed');
    void clock;
  });

  it('an admission that takes time queues the messages that follow the CER and then processes them', async () => {
    let release!: (a: Admission) => void;
    const { i, r } = pair(() => new Promise<Admission>((res) => (release = res)));
    i.conn.start();
    r.conn.start();
    const cer = i.out.splice(0)[0];
    r.conn.receive(cer);
    const dwr = new AvpWriter({ flags: CmdFlag.R, commandCode: Cmd.DeviceWatchdog, applicationId: 0, hopByHop: 5, endToEnd: 5 }).utf8(Avp.OriginHost, 'mag1.example.net').utf8(Avp.OriginRealm, 'example.net').bytes();
    r.conn.receive(Buffer.from(dwr));
    assert.equal(r.out.length, 0);
    release({ ok: true });
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(r.out.map((b) => [decoded(b).commandCode, resultOf(b)]), [[Cmd.CapabilitiesExchange, 2001], [Cmd.DeviceWatchdog, 2001]]);
  });
});

describe('RFC 6733 §5.4, §5.5, §7: open connections', () => {
  function open() {
    const p = pair();
    p.i.conn.start();
    p.r.conn.start();
    pump(p.i, p.r);
    assert.equal(p.i.conn.state, 'I-Open');
    return p;
  }

  it('§5.5: DWR is answered with DWA 2001', () => {
    const { i, r } = open();
    i.conn.probe();
    const dwr = i.out.splice(0)[0];
    r.conn.receive(dwr);
    assert.equal(decoded(r.out[0]).commandCode, Cmd.DeviceWatchdog);
    assert.equal(resultOf(r.out[0]), 2001);
    assert.equal(decoded(r.out[0]).hopByHop, decoded(dwr).hopByHop);
  });

  it('§5.4: Stop → DPR → Closing; the peer answers DPA (Closing) and the DPR sender disconnects → Closed', () => {
    const { i, r } = open();
    i.conn.stop(DisconnectCause.Rebooting);
    assert.equal(i.conn.state, 'Closing');
    pump(i, r);
    assert.equal(r.conn.state, 'Closing');
    assert.equal(r.conn.disconnectCause, DisconnectCause.Rebooting);
    assert.equal(i.conn.state, 'Closed');
    assert.ok(i.closed);
    r.conn.transportClosed();
    assert.equal(r.conn.state, 'Closed');
  });

  it('§5.4: Closing → Closed when no DPA comes in time', () => {
    const { i, clock } = open();
    i.conn.stop(DisconnectCause.Busy);
    clock.advance(5000);
    assert.equal(i.conn.state, 'Closed');
  });

  it('§3: requests are matched to answers by Hop-by-Hop Identifier; unknown ones are discarded; a request times out', async () => {
    const { i, r, clock } = open();
    const p = i.conn.request(({ hopByHop }) => Buffer.from(new AvpWriter({ flags: CmdFlag.R, commandCode: Cmd.AA, applicationId: 1, hopByHop, endToEnd: 77 }).utf8(Avp.SessionId, 's').bytes()), 77, 1000);
    const req = decoded(i.out.splice(0)[0]);
    const answer = (hbh: number) => Buffer.from(new AvpWriter({ flags: 0, commandCode: Cmd.AA, applicationId: 1, hopByHop: hbh, endToEnd: 77 }).u32(Avp.ResultCode, 2001).bytes());
    i.conn.receive(answer(req.hopByHop + 1000));
    assert.ok(i.events.includes('problem:unknown_hop_by_hop'));
    i.conn.receive(answer(req.hopByHop));
    const got = await p;
    assert.ok(got.ok && got.answer.hopByHop === req.hopByHop);
    const late = i.conn.request(({ hopByHop }) => Buffer.from(new AvpWriter({ flags: CmdFlag.R, commandCode: Cmd.AA, applicationId: 1, hopByHop, endToEnd: 78 }).bytes()), 78, 1000);
    clock.advance(1000);
    assert.deepEqual(await late, { ok: false, error: 'timeout' });
    void r;
  });

  it('§7: a request with an unknown M-bit AVP gets 5001 with Failed-AVP and the connection stays open', () => {
    const { r } = open();
    const w = new AvpWriter({ flags: CmdFlag.R, commandCode: Cmd.AA, applicationId: 1, hopByHop: 3, endToEnd: 3 });
    w.utf8(Avp.SessionId, 'mag1.example.net;1;2').octets(0xabcd, Buffer.from('zz'));
    r.conn.receive(Buffer.from(w.bytes()));
    const a = decoded(r.out.at(-1)!);
    assert.equal(resultOf(r.out.at(-1)!), Result.AvpUnsupported);
    assert.equal(findAvp(a.avps, Avp.SessionId)!.data.toString(), 'mag1.example.net;1;2');
    assert.equal(findAvp(a.avps, Avp.FailedAvp)!.data.readUInt32BE(0), 0xabcd);
    assert.equal(r.conn.state, 'R-Open');
    assert.equal(r.requests.length, 0, 'not handed to the application');
  });

  it('§7.2: a request with the E bit → 3008 (E bit); a malformed request → its error answer; still open', () => {
    const { r } = open();
    r.conn.receive(Buffer.from(new AvpWriter({ flags: CmdFlag.R | CmdFlag.E, commandCode: Cmd.AA, applicationId: 1, hopByHop: 3, endToEnd: 3 }).bytes()));
    assert.equal(resultOf(r.out.at(-1)!), Result.InvalidHdrBits);
    assert.ok(decoded(r.out.at(-1)!).flags & CmdFlag.E);
    const bad = Buffer.from(new AvpWriter({ flags: CmdFlag.R, commandCode: Cmd.AA, applicationId: 1, hopByHop: 4, endToEnd: 4 }).octets(1, Buffer.from('abcd')).bytes());
    bad.writeUIntBE(200, 25, 3); // the AVP claims more than the message holds
    r.conn.receive(bad);
    assert.equal(resultOf(r.out.at(-1)!), Result.InvalidAvpLength);
    assert.equal(r.conn.state, 'R-Open');
  });

  it('application requests reach the owner; the connection ending fails requests still pending', async () => {
    const { i, r } = open();
    const p = i.conn.request(({ hopByHop }) => Buffer.from(new AvpWriter({ flags: CmdFlag.R, commandCode: Cmd.AA, applicationId: 1, hopByHop, endToEnd: 5 }).utf8(Avp.SessionId, 'x').bytes()), 5, 1000);
    pump(i, r);
    assert.equal(r.requests.length, 1);
    i.conn.transportClosed();
    assert.deepEqual(await p, { ok: false, error: 'closed' });
  });
});

describe('RFC 3539 §3.4 watchdog (RFC 6733 §5.5.3)', () => {
  it('OKAY: DWR after Tw without traffic; SUSPECT (failover) after a second Tw without answer; DOWN and close after a third', () => {
    const clock = new ManualClock();
    const log: string[] = [];
    const wd = new Watchdog({ twinitMs: 30_000, clock, random: () => 0.5, actions: { sendDwr: () => log.push('dwr'), failover: () => log.push('failover'), failback: () => log.push('failback'), closeConnection: () => log.push('close') } });
    wd.connectionUp();
    assert.equal(wd.status, 'OKAY');
    clock.advance(29_999);
    assert.deepEqual(log, []);
    clock.advance(1);
    assert.deepEqual(log, ['dwr']);
    clock.advance(30_000);
    assert.equal(wd.status, 'SUSPECT');
    assert.deepEqual(log, ['dwr', 'failover']);
    wd.received(true);
    assert.equal(wd.status, 'OKAY', 'an answer in SUSPECT fails back');
    clock.advance(60_000);
    clock.advance(30_000);
    assert.equal(wd.status, 'DOWN');
    assert.deepEqual(log.slice(-3), ['dwr', 'failover', 'close']);
  });

  it('any traffic restarts Tw: no DWR while messages flow', () => {
    const clock = new ManualClock();
    let dwrs = 0;
    const wd = new Watchdog({ twinitMs: 6000, clock, random: () => 0.5, actions: { sendDwr: () => dwrs++, failover() {}, failback() {}, closeConnection() {} } });
    wd.connectionUp();
    for (let t = 0; t < 20; t++) {
      clock.advance(5000);
      wd.received(false);
    }
    assert.equal(dwrs, 0);
  });

  it('Tw = Twinit ± 2 s (RFC 3539: jitter), never below 6 s at the default limits', () => {
    const clock = new ManualClock();
    const mk = (r: number) => new Watchdog({ twinitMs: 6000, clock, random: () => r, actions: { sendDwr() {}, failover() {}, failback() {}, closeConnection() {} } });
    assert.equal(mk(0).nextTw(), 4000);
    assert.equal(mk(0.9999999).nextTw(), 8000);
    assert.equal(new Watchdog({ twinitMs: 30_000, clock, random: () => 0, actions: { sendDwr() {}, failover() {}, failback() {}, closeConnection() {} } }).nextTw(), 28_000);
  });

  it('REOPEN after DOWN: a DWR at once; OKAY (failback) after three DWAs; silence for two Tw → DOWN', () => {
    const clock = new ManualClock();
    const log: string[] = [];
    const wd = new Watchdog({ twinitMs: 10_000, clock, random: () => 0.5, actions: { sendDwr: () => log.push('dwr'), failover: () => log.push('failover'), failback: () => log.push('failback'), closeConnection: () => log.push('close') } });
    wd.connectionUp();
    wd.connectionDown();
    assert.equal(wd.status, 'DOWN');
    wd.connectionUp();
    assert.equal(wd.status, 'REOPEN');
    assert.deepEqual(log, ['failover', 'dwr']);
    wd.received(true);
    clock.advance(10_000);
    wd.received(true);
    clock.advance(10_000);
    wd.received(true);
    assert.equal(wd.status, 'OKAY');
    assert.equal(log.at(-1), 'failback');
    wd.connectionDown();
    wd.connectionUp();
    clock.advance(10_000);
    clock.advance(10_000);
    assert.equal(wd.status, 'DOWN');
    assert.equal(log.at(-1), 'close');
  });

  it('in the state machine: an idle open connection sends DWR after Tw and closes after 3 Tw without answers', () => {
    const clock = new ManualClock();
    const i = end({ role: 'initiator', local: node('mag1.example.net'), clock, watchdogMs: 6000 });
    const r = end({ role: 'responder', local: node('aaa.example.net'), clock });
    i.conn.start();
    r.conn.start();
    pump(i, r);
    clock.advance(6000);
    assert.equal(decoded(i.out[0]).commandCode, Cmd.DeviceWatchdog);
    assert.ok(decoded(i.out[0]).flags & CmdFlag.R);
    clock.advance(6000);
    assert.ok(i.events.includes('wd:SUSPECT'));
    clock.advance(6000);
    assert.equal(i.conn.state, 'Closed');
    assert.ok(i.events.some((e) => e.startsWith('closed:watchdog')));
  });

  it('the DWA answers the DWR: no SUSPECT', () => {
    const clock = new ManualClock();
    const i = end({ role: 'initiator', local: node('mag1.example.net'), clock, watchdogMs: 6000 });
    const r = end({ role: 'responder', local: node('aaa.example.net'), clock, watchdogMs: 60_000 });
    i.conn.start();
    r.conn.start();
    pump(i, r);
    for (let k = 0; k < 5; k++) {
      clock.advance(6000);
      pump(i, r);
    }
    assert.equal(i.conn.state, 'I-Open');
    assert.ok(!i.events.includes('wd:SUSPECT'));
  });
});

describe('CER bytes', () => {
  it('§5.3.1: CER carries Origin-Host, Origin-Realm, Host-IP-Address, Vendor-Id, Product-Name (no M), Auth-Application-Id 1', () => {
    const m = decoded(buildCer(node('mag1.example.net'), { hopByHop: 1, endToEnd: 2 }, null));
    assert.deepEqual(m.avps.map((a) => a.code), [264, 296, 257, 266, 269, 278, 258, 299, 267]);
    assert.equal(findAvp(m.avps, Avp.ProductName)!.flags & 0x40, 0);
    assert.equal(decU32(findAvp(m.avps, Avp.AuthApplicationId)!.data), 1);
  });
});
