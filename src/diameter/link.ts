// A configured peer as the client side sees it (RFC 6733 §2.1, §5.6 initiator): connect, run
// the connection's state machine, and after a failure reconnect with exponential back-off up
// to Tc (§2.1: 30 s recommended; a peer that said DPR BUSY / DO_NOT_WANT_TO_TALK_TO_YOU is left
// alone for Tc, §5.4.3). The watchdog status outlives connections (RFC 3539 REOPEN after DOWN).
// Dialing and the clock are injected.
import type net from 'node:net';
import type { LocalNode } from './build.ts';
import type { Capabilities } from './capabilities.ts';
import { Cmd, CmdFlag, DisconnectCause } from './constants.ts';
import { commandLabel, trafficFor } from './metrics.ts';
import type { EndToEnd } from './ids.ts';
import { SocketChannel, transportInfo } from './path.ts';
import { PeerConnection, type ConnectionEvents } from './sm.ts';
import type { WatchdogStatus } from './watchdog.ts';
import type { Clock, TimerHandle } from '../util/clock.ts';

export interface LinkOptions {
  name: string;
  /** The Origin-Host the peer's CEA must carry (null: any). */
  expectHost: string | null;
  dial(): Promise<net.Socket>;
  local: LocalNode;
  clock: Clock;
  endToEnd: EndToEnd;
  watchdogMs: number;
  handshakeTimeoutMs: number;
  maxMessageSize: number;
  reconnectMinMs: number;
  /** Tc (§2.1). */
  reconnectMaxMs: number;
  random?: () => number;
  events: {
    open(link: PeerLink): void;
    closed(link: PeerLink, reason: string): void;
    request: ConnectionEvents['request'];
    problem(link: PeerLink, cause: string, detail: string): void;
  };
}

/** Back-off before reconnection attempt n (0-based): min · 2^n, capped at Tc, ±20 % jitter. */
export function backoffMs(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.8 + 0.4 * random()));
}

export class PeerLink {
  conn: PeerConnection | null = null;
  /** Watchdog status carried across connections. */
  status: WatchdogStatus = 'INITIAL';
  peer: Capabilities | null = null;
  attempts = 0;
  lastError: string | null = null;
  /** Base protocol messages received (CER/CEA, DWR/DWA, DPR/DPA) by name: what the peer did. */
  readonly received = new Map<string, number>();
  private timer: TimerHandle | null = null;
  private stopped = false;
  private everOpen = false;

  constructor(readonly o: LinkOptions) {}

  get name(): string {
    return this.o.name;
  }

  get open(): boolean {
    return this.conn?.open === true;
  }

  start(): void {
    this.stopped = false;
    void this.dial();
  }

  private async dial(): Promise<void> {
    this.timer = null;
    if (this.stopped) return;
    let sock: net.Socket;
    try {
      sock = await this.o.dial();
    } catch (e) {
      this.lastError = (e as Error).message;
      this.o.events.problem(this, 'connect_failed', this.lastError);
      return this.retry(false);
    }
    if (this.stopped) {
      sock.destroy();
      return;
    }
    const info = transportInfo(sock);
    const channel = new SocketChannel(sock, { maxMessageSize: this.o.maxMessageSize });
    const conn: PeerConnection = new PeerConnection({
      role: 'initiator',
      local: this.o.local,
      clock: this.o.clock,
      io: channel,
      endToEnd: this.o.endToEnd,
      localAddress: info.localAddress,
      watchdogMs: this.o.watchdogMs,
      handshakeTimeoutMs: this.o.handshakeTimeoutMs,
      expectHost: this.o.expectHost,
      reopen: this.everOpen,
      random: this.o.random,
      events: {
        open: (caps) => {
          this.peer = caps;
          this.attempts = 0;
          this.everOpen = true;
          this.status = conn.watchdog.status;
          this.o.events.open(this);
        },
        request: (m) => this.o.events.request(m),
        closed: (reason) => {
          this.status = 'DOWN';
          this.lastError = reason;
          if (this.conn === conn) this.conn = null;
          this.o.events.closed(this, reason);
          const dc = conn.disconnectCause;
          this.retry(dc === DisconnectCause.Busy || dc === DisconnectCause.DoNotWantToTalkToYou);
        },
        problem: (cause, detail) => this.o.events.problem(this, cause, detail),
        watchdog: (s) => {
          this.status = s;
        },
      },
    });
    this.conn = conn;
    const traffic = trafficFor('client', this.o.name);
    channel.attach({
      receive: (b) => {
        const code = b.length >= 8 ? b.readUIntBE(5, 3) : 0;
        if (code === Cmd.CapabilitiesExchange || code === Cmd.DeviceWatchdog || code === Cmd.DisconnectPeer) {
          const label = commandLabel(code, (b[4] & CmdFlag.R) !== 0);
          this.received.set(label, (this.received.get(label) ?? 0) + 1);
          traffic.requests[label] = (traffic.requests[label] ?? 0) + 1;
        }
        conn.receive(b);
      },
      transportClosed: () => conn.transportClosed(),
      framingError: (e) => {
        this.o.events.problem(this, e.kind, `framing: ${e.kind}`);
        channel.close();
      },
    });
    conn.start();
  }

  private retry(longPause: boolean): void {
    if (this.stopped || this.timer) return;
    const ms = longPause ? this.o.reconnectMaxMs : backoffMs(this.attempts, this.o.reconnectMinMs, this.o.reconnectMaxMs, this.o.random);
    this.attempts++;
    this.timer = this.o.clock.setTimer(ms, () => void this.dial());
  }

  /** Stop: DPR (REBOOTING) on an open connection, no reconnection. */
  stop(cause: number = DisconnectCause.Rebooting): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    this.conn?.stop(cause);
  }

  /** Whether the link may carry requests: open and, by preference, OKAY (RFC 3539). */
  rank(): number {
    if (!this.open) return 0;
    const s = this.conn!.watchdog.status;
    return s === 'OKAY' ? 3 : s === 'REOPEN' ? 2 : 1;
  }
}
