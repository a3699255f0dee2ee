// One transport connection to a Diameter peer, as the peer state machine of RFC 6733 §5.6 runs
// it. Pure: the connection's bytes come in through receive(), go out through the injected io;
// clock injected; decisions that need the store (who may connect) are injected functions.
//
// RFC 6733 §5.6 transitions this class implements (I- initiator = our client, R- responder =
// our server; this node never connects to a peer that also connects to it, so there is no
// election, §5.6.4):
//   Wait-I-CEA   I-Rcv-CEA: Process-CEA → I-Open (success, common application) else Error → Closed
//                I-Rcv-Non-CEA, Timeout, I-Peer-Disc → Closed
//   Wait-CER     (§5.6.1 incoming connection logic) R-Conn-CER: Process-CER, R-Snd-CEA → R-Open,
//                or a refusing CEA and close; any other message or a timeout → close
//   Open         Rcv-DWR → Snd-DWA; Rcv-DWA → Process-DWA; Rcv-Message → Process;
//                Stop → Snd-DPR → Closing; Rcv-DPR → Snd-DPA → Closing; Peer-Disc → Closed
//   Closing      Rcv-DPA → Disc → Closed; Timeout → Closed; Peer-Disc → Closed
// Watchdog (RFC 3539) runs in the open states (watchdog.ts). Requests this side sends are
// matched to their answers by Hop-by-Hop Identifier; answers with an unknown one are discarded
// (§3). Requests that are malformed get the §7 error answer and the connection lives on.
import { App, Avp, Cmd, CmdFlag, Result } from './constants.ts';
import { decodeHeader, decodeMessage, findAvp, isRequest, type DiameterMessage } from './codec.ts';
import { buildCea, buildCer, buildDpa, buildDpr, buildDwa, buildDwr, buildErrorAnswer, type LocalNode } from './build.ts';
import { commonApplications, readCapabilities, securityInCommon, type Capabilities } from './capabilities.ts';
import { HopByHop, type EndToEnd } from './ids.ts';
import { checkAvps } from './validate.ts';
import { Watchdog, type WatchdogStatus } from './watchdog.ts';
import { decU32 } from './values.ts';
import type { Clock, TimerHandle } from '../util/clock.ts';

export type PeerState = 'Wait-CER' | 'Wait-I-CEA' | 'R-Open' | 'I-Open' | 'Closing' | 'Closed';

export interface ConnectionIo {
  write(b: Buffer): void;
  /** Disconnect the transport (after what was written is flushed). */
  close(): void;
}

export type Admission = { ok: true } | { ok: false; resultCode: number; errorMessage: string; cause: string };

export type RequestResult = { ok: true; answer: DiameterMessage } | { ok: false; error: 'timeout' | 'closed' };

interface Pending {
  timer: TimerHandle;
  resolve: (r: RequestResult) => void;
}

export interface ConnectionEvents {
  /** CER/CEA done: the peer's capabilities. */
  open(peer: Capabilities): void;
  /** An application request (not CER/DWR/DPR), AVPs checked; answer with conn.write(). */
  request(msg: DiameterMessage): void;
  /** Why the connection ended (requests still unanswered have resolved 'closed': the owner may fail them over, §5.5.4). */
  closed(reason: string): void;
  /** Something was counted: a cause from a fixed set, and detail for the log. */
  problem(cause: string, detail: string): void;
  /** Watchdog transitions (failover / failback of the owner's routing). */
  watchdog?(status: WatchdogStatus): void;
}

export interface PeerConnectionOptions {
  role: 'initiator' | 'responder';
  local: LocalNode;
  clock: Clock;
  io: ConnectionIo;
  events: ConnectionEvents;
  endToEnd: EndToEnd;
  /** Local address of the transport (Host-IP-Address when the node lists none). */
  localAddress: string | null;
  /** RFC 3539 Twinit, ms. */
  watchdogMs: number;
  /** CER / CEA / DPA wait, ms. */
  handshakeTimeoutMs: number;
  /** Responder: whether this CER may open the connection (peer identity, address, certificate). */
  admit?: (peer: Capabilities) => Admission | Promise<Admission>;
  /** Initiator: the Origin-Host the CEA must carry (null: any). */
  expectHost?: string | null;
  /** Watchdog after a reconnection starts in REOPEN (RFC 3539) rather than INITIAL. */
  reopen?: boolean;
  random?: () => number;
}

/** Messages queued while a CER is being admitted (more is a misbehaving peer). */
const MAX_QUEUED = 64;

export class PeerConnection {
  state: PeerState;
  peer: Capabilities | null = null;
  readonly watchdog: Watchdog;
  private readonly hbh = new HopByHop();
  private readonly pending = new Map<number, Pending>();
  private timer: TimerHandle | null = null;
  private cerHbh = -1;
  private admitting: DiameterMessage[] | null = null;
  private dwrHbh = -1;
  /** Disconnect-Cause of the peer's DPR (§5.4.3), once one came. */
  disconnectCause: number | null = null;

  constructor(private readonly o: PeerConnectionOptions) {
    this.state = o.role === 'initiator' ? 'Wait-I-CEA' : 'Wait-CER';
    this.watchdog = new Watchdog({
      twinitMs: o.watchdogMs,
      clock: o.clock,
      random: o.random,
      actions: {
        sendDwr: () => this.sendDwr(),
        failover: () => o.events.watchdog?.(this.watchdog.status),
        failback: () => o.events.watchdog?.(this.watchdog.status),
        closeConnection: () => this.fail('watchdog: no answer to DWR within 2 Tw'),
      },
    });
    if (o.reopen) this.watchdog.status = 'DOWN';
  }

  get open(): boolean {
    return this.state === 'I-Open' || this.state === 'R-Open';
  }

  /** Initiator: the transport is up (I-Rcv-Conn-Ack): send the CER. Responder: start the CER timer. */
  start(): void {
    this.armTimer(() => this.fail(this.o.role === 'initiator' ? 'no CEA in time' : 'no CER in time'));
    if (this.o.role === 'initiator') {
      this.cerHbh = this.hbh.take();
      this.o.io.write(buildCer(this.o.local, { hopByHop: this.cerHbh, endToEnd: this.o.endToEnd.take() }, this.o.localAddress));
    }
  }

  private armTimer(fn: () => void): void {
    this.timer?.cancel();
    this.timer = this.o.clock.setTimer(this.o.handshakeTimeoutMs, fn);
  }

  /** One whole message from the framer. */
  receive(bytes: Buffer): void {
    if (this.state === 'Closed') return;
    const d = decodeMessage(bytes);
    if (!d.ok) {
      this.o.events.problem(d.error.kind, d.error.detail);
      const h = decodeHeader(bytes);
      // A request we can frame gets its error answer (§7); anything else before the CER is an error.
      if (h.ok && h.value.flags & CmdFlag.R && bytes.length >= 20) {
        this.o.io.write(buildErrorAnswer(this.o.local, h.value, d.error.resultCode, null, { errorMessage: d.error.detail, failedAvp: d.error.failedAvp }));
      }
      if (!this.open) this.fail(`malformed message before the capabilities exchange: ${d.error.detail}`);
      return;
    }
    const m = d.value;
    if (this.admitting) {
      if (this.admitting.length >= MAX_QUEUED) return this.fail('too many messages while the CER was being admitted');
      this.admitting.push(m);
      return;
    }
    this.dispatch(m);
  }

  private dispatch(m: DiameterMessage): void {
    const req = isRequest(m);
    switch (this.state) {
      case 'Wait-CER':
        // §5.6.1: anything other than a CER on a new connection closes it.
        if (!req || m.commandCode !== Cmd.CapabilitiesExchange) return this.fail(`${req ? 'request' : 'answer'} ${m.commandCode} before CER`);
        return this.processCer(m);
      case 'Wait-I-CEA':
        if (req || m.commandCode !== Cmd.CapabilitiesExchange || m.hopByHop !== this.cerHbh) return this.fail(`message ${m.commandCode} instead of the CEA (I-Rcv-Non-CEA)`);
        return this.processCea(m);
      case 'Closed':
        return;
      default:
    }
    this.watchdog.received(!req && m.commandCode === Cmd.DeviceWatchdog);
    if (req) return this.onRequest(m);
    return this.onAnswer(m);
  }

  private onRequest(m: DiameterMessage): void {
    // §7.2: the E bit MUST NOT be set in requests.
    if (m.flags & CmdFlag.E) {
      this.o.events.problem('invalid_hdr_bits', `request ${m.commandCode} with the E bit`);
      return this.answerError(m, Result.InvalidHdrBits, 'E bit set in a request');
    }
    const problem = checkAvps(m.avps);
    if (problem) {
      this.o.events.problem(`result_${problem.resultCode}`, problem.detail);
      return this.answerError(m, problem.resultCode, problem.detail, problem.failedAvp);
    }
    switch (m.commandCode) {
      case Cmd.DeviceWatchdog:
        this.o.io.write(buildDwa(this.o.local, m, Result.Success));
        return;
      case Cmd.DisconnectPeer: {
        // R-Rcv-DPR: Snd-DPA, Closing; the DPR's sender disconnects (§5.4), we do after a timeout.
        const dc = findAvp(m.avps, Avp.DisconnectCause);
        this.disconnectCause = dc ? decU32(dc.data) : null;
        this.o.io.write(buildDpa(this.o.local, m, Result.Success));
        this.state = 'Closing';
        this.watchdog.stop();
        this.armTimer(() => this.fail('peer did not disconnect after DPA'));
        return;
      }
      case Cmd.CapabilitiesExchange:
        // A second CER on an open connection: not a state this machine has (§5.6).
        this.o.events.problem('cer_when_open', 'CER on an open connection');
        return this.answerError(m, Result.UnableToComply, 'capabilities already exchanged');
      default:
        if (this.state === 'Closing') return this.answerError(m, Result.TooBusy, 'disconnecting');
        this.o.events.request(m);
    }
  }

  private onAnswer(m: DiameterMessage): void {
    if (m.commandCode === Cmd.DeviceWatchdog && m.hopByHop === this.dwrHbh) {
      this.dwrHbh = -1;
      return;
    }
    if (m.commandCode === Cmd.DisconnectPeer && this.state === 'Closing') return this.fail('DPA received', true);
    const p = this.pending.get(m.hopByHop);
    if (!p) {
      this.o.events.problem('unknown_hop_by_hop', `answer ${m.commandCode} with unknown Hop-by-Hop ${m.hopByHop}`);
      return;
    }
    this.pending.delete(m.hopByHop);
    p.timer.cancel();
    p.resolve({ ok: true, answer: m });
  }

  private processCer(m: DiameterMessage): void {
    const caps = readCapabilities(m.avps);
    if (!caps.ok) {
      this.o.events.problem('bad_cer', caps.detail);
      this.o.io.write(buildCea(this.o.local, m, caps.resultCode, this.o.localAddress, { errorMessage: caps.detail, failedAvp: caps.failedAvp }));
      return this.fail(`bad CER: ${caps.detail}`, true);
    }
    const peer = caps.value;
    const refuse = (resultCode: number, cause: string, errorMessage: string): void => {
      this.o.events.problem(cause, `${peer.originHost}: ${errorMessage}`);
      this.o.io.write(buildCea(this.o.local, m, resultCode, this.o.localAddress, { errorMessage }));
      this.fail(`CER refused (${resultCode}): ${errorMessage}`, true);
    };
    if (commonApplications(this.o.local.authApplicationIds, peer).length === 0) return refuse(Result.NoCommonApplication, 'no_common_application', 'no application in common');
    if (!securityInCommon(peer)) return refuse(Result.NoCommonSecurity, 'no_common_security', 'in-band TLS is not offered here; use the TLS port');
    const finish = (a: Admission): void => {
      if (this.state !== 'Wait-CER') return;
      if (!a.ok) return refuse(a.resultCode, a.cause, a.errorMessage);
      this.o.io.write(buildCea(this.o.local, m, Result.Success, this.o.localAddress));
      this.becomeOpen('R-Open', peer);
    };
    const decision = this.o.admit ? this.o.admit(peer) : { ok: true as const };
    if (!(decision instanceof Promise)) return finish(decision);
    this.admitting = [];
    decision.then(finish, (e: unknown) => finish({ ok: false, resultCode: Result.UnableToComply, errorMessage: `peer lookup failed: ${(e as Error).message}`, cause: 'admission_error' })).finally(() => {
      const queued = this.admitting ?? [];
      this.admitting = null;
      for (const q of queued) this.dispatch(q);
    });
  }

  private processCea(m: DiameterMessage): void {
    const rc = findAvp(m.avps, Avp.ResultCode);
    const code = rc ? decU32(rc.data) : null;
    if (code !== Result.Success) return this.fail(`CEA Result-Code ${code ?? 'missing'}`);
    const caps = readCapabilities(m.avps);
    if (!caps.ok) return this.fail(`bad CEA: ${caps.detail}`);
    if (this.o.expectHost && caps.value.originHost.toLowerCase() !== this.o.expectHost.toLowerCase()) {
      return this.fail(`CEA from ${caps.value.originHost}, expected ${this.o.expectHost}`);
    }
    if (commonApplications(this.o.local.authApplicationIds, caps.value).length === 0) return this.fail('no application in common (CEA)');
    this.becomeOpen('I-Open', caps.value);
  }

  private becomeOpen(state: 'I-Open' | 'R-Open', peer: Capabilities): void {
    this.timer?.cancel();
    this.timer = null;
    this.state = state;
    this.peer = peer;
    this.watchdog.connectionUp();
    this.o.events.open(peer);
  }

  private answerError(m: DiameterMessage, resultCode: number, errorMessage: string, failedAvp?: Buffer): void {
    const sid = findAvp(m.avps, Avp.SessionId);
    this.o.io.write(buildErrorAnswer(this.o.local, m, resultCode, sid ? sid.data : null, { errorMessage, failedAvp }));
  }

  private sendDwr(): void {
    if (!this.open) return;
    this.dwrHbh = this.hbh.take();
    this.o.io.write(buildDwr(this.o.local, { hopByHop: this.dwrHbh, endToEnd: this.o.endToEnd.take() }));
  }

  /** Send a DWR now (as if Tw had expired with nothing pending); for operators and tests. */
  probe(): void {
    this.sendDwr();
  }

  /**
   * Send a request built with this connection's Hop-by-Hop Identifier; resolves with the answer,
   * or with an error at `timeoutMs` or when the connection ends first (the caller may fail over).
   */
  request(build: (ids: { hopByHop: number }) => Buffer, endToEnd: number, timeoutMs: number): Promise<RequestResult> {
    return new Promise((resolve) => {
      if (!this.open) return resolve({ ok: false, error: 'closed' });
      const hopByHop = this.hbh.take();
      const bytes = build({ hopByHop });
      const timer = this.o.clock.setTimer(timeoutMs, () => {
        if (this.pending.delete(hopByHop)) resolve({ ok: false, error: 'timeout' });
      });
      this.pending.set(hopByHop, { timer, resolve });
      this.o.io.write(bytes);
    });
  }

  /** Send an answer (to a request delivered by the `request` event). */
  send(b: Buffer): void {
    if (this.state !== 'Closed') this.o.io.write(b);
  }

  get outstanding(): number {
    return this.pending.size;
  }

  /** Stop (§5.6): DPR with this cause, then Closing until the DPA (or a timeout). */
  stop(cause: number): void {
    if (!this.open) return this.fail('stopped', true);
    this.state = 'Closing';
    this.watchdog.stop();
    this.o.io.write(buildDpr(this.o.local, { hopByHop: this.hbh.take(), endToEnd: this.o.endToEnd.take() }, cause));
    this.armTimer(() => this.fail('no DPA in time', true));
  }

  /** The transport closed under us (Peer-Disc). */
  transportClosed(): void {
    this.fail(this.state === 'Closing' ? 'disconnected' : 'peer disconnected', this.state === 'Closing');
  }

  /** Error / Disc: close the transport, fail what is pending, report once (`quiet`: orderly, or already counted). */
  private fail(reason: string, quiet = false): void {
    if (this.state === 'Closed') return;
    this.state = 'Closed';
    this.timer?.cancel();
    this.timer = null;
    this.watchdog.connectionDown();
    const unanswered = [...this.pending.values()];
    this.pending.clear();
    this.o.io.close();
    if (!quiet) this.o.events.problem('connection_error', reason);
    this.o.events.closed(reason);
    for (const p of unanswered) {
      p.timer.cancel();
      p.resolve({ ok: false, error: 'closed' });
    }
  }
}

/** The Application-ID a request of this command carries in its header (§3: base commands use 0). */
export const appFor = (commandCode: number): number =>
  commandCode === Cmd.CapabilitiesExchange || commandCode === Cmd.DeviceWatchdog || commandCode === Cmd.DisconnectPeer ? App.Common : App.Nasreq;
