// The transport failure detection of RFC 3539 §3.4 (RFC 6733 §5.5: Diameter MUST use it, with
// DWR/DWA as the watchdog messages). Pure: clock and actions injected.
//
// RFC 3539 §3.4.1, the algorithm as this class runs it:
//   SetWatchdog        Tw = Twinit ± jitter (Twinit default 30 s, at least 6 s; jitter ±2 s)
//   connection up      INITIAL → OKAY; DOWN → REOPEN (NumDWA = 0, send DWR)
//   any message in     OKAY: pending cleared, timer restarted (traffic proves the link)
//                      SUSPECT: → OKAY, failback
//                      REOPEN: a DWA counts (NumDWA + 1); the third makes it OKAY, failback
//   Tw expires         OKAY: no DWR pending → send DWR; else → SUSPECT, failover
//                      SUSPECT → DOWN, close the connection
//                      REOPEN: DWR pending → after a second silent Tw DOWN, close; else send DWR
//   connection down    → DOWN, failover (reconnection is the owner's, with its own back-off)
import type { Clock, TimerHandle } from '../util/clock.ts';

export type WatchdogStatus = 'INITIAL' | 'OKAY' | 'SUSPECT' | 'DOWN' | 'REOPEN';

export interface WatchdogActions {
  sendDwr(): void;
  /** Requests pending on this peer should go elsewhere (RFC 6733 §5.5.4). */
  failover(): void;
  /** The peer may carry traffic again. */
  failback(): void;
  closeConnection(): void;
}

export interface WatchdogOptions {
  /** Twinit, ms. RFC 3539: default 30 s, MUST NOT be below 6 s (config enforces that; tests go lower). */
  twinitMs: number;
  clock: Clock;
  /** [0, 1) source for the jitter (default Math.random). */
  random?: () => number;
  actions: WatchdogActions;
}

/** REOPEN → OKAY after this many DWAs (RFC 3539 §3.4.1). */
export const REOPEN_DWAS = 3;

export class Watchdog {
  status: WatchdogStatus = 'INITIAL';
  private pending = false;
  private numDwa = 0;
  private timer: TimerHandle | null = null;
  /** When the current Tw started: traffic moves it instead of re-arming a timer per message. */
  private since = 0;
  private tw = 0;
  private readonly random: () => number;

  constructor(private readonly o: WatchdogOptions) {
    this.random = o.random ?? Math.random;
  }

  /** Tw: Twinit ± 2 s (RFC 3539 §3.4.1); below 6 s (tests) the jitter shrinks to a third of Twinit. */
  nextTw(): number {
    const j = Math.min(2000, this.o.twinitMs / 3);
    return Math.max(1, Math.round(this.o.twinitMs + (this.random() * 2 - 1) * j));
  }

  private set(): void {
    this.timer?.cancel();
    this.tw = this.nextTw();
    this.since = this.o.clock.now();
    this.timer = this.o.clock.setTimer(this.tw, () => this.expired());
  }

  /** Restart Tw from now without touching the timer (it re-arms for the rest when it fires). */
  private restart(): void {
    this.since = this.o.clock.now();
  }

  connectionUp(): void {
    if (this.status === 'INITIAL' || this.status === 'OKAY') {
      this.status = 'OKAY';
      this.pending = false;
      this.set();
      return;
    }
    this.status = 'REOPEN';
    this.numDwa = 0;
    this.pending = true;
    this.o.actions.sendDwr();
    this.set();
  }

  /** Any message received on the connection; `dwa` when it is a Device-Watchdog-Answer. */
  received(dwa: boolean): void {
    switch (this.status) {
      case 'OKAY':
        this.pending = false;
        this.restart();
        return;
      case 'SUSPECT':
        this.status = 'OKAY';
        this.pending = false;
        this.o.actions.failback();
        this.set();
        return;
      case 'REOPEN':
        if (!dwa) return;
        this.pending = false;
        this.numDwa = Math.max(0, this.numDwa) + 1;
        if (this.numDwa >= REOPEN_DWAS) {
          this.status = 'OKAY';
          this.o.actions.failback();
        }
        return;
      default:
    }
  }

  private expired(): void {
    this.timer = null;
    // Traffic since the timer was armed: Tw runs from the last message (RFC 3539 §3.4.1 reset).
    const left = this.since + this.tw - this.o.clock.now();
    if (this.status === 'OKAY' && left > 0) {
      this.timer = this.o.clock.setTimer(left, () => this.expired());
      return;
    }
    switch (this.status) {
      case 'OKAY':
        if (!this.pending) {
          this.pending = true;
          this.o.actions.sendDwr();
        } else {
          this.status = 'SUSPECT';
          this.o.actions.failover();
        }
        this.set();
        return;
      case 'SUSPECT':
        this.status = 'DOWN';
        this.o.actions.closeConnection();
        return;
      case 'REOPEN':
        if (this.pending) {
          if (this.numDwa < 0) {
            this.status = 'DOWN';
            this.o.actions.closeConnection();
            return;
          }
          this.numDwa = -1;
        } else {
          this.pending = true;
          this.o.actions.sendDwr();
        }
        this.set();
        return;
      default:
    }
  }

  /** The transport closed (by either side). */
  connectionDown(): void {
    this.timer?.cancel();
    this.timer = null;
    const wasUp = this.status === 'OKAY' || this.status === 'SUSPECT' || this.status === 'REOPEN';
    if (this.status !== 'INITIAL') this.status = 'DOWN';
    if (wasUp) this.o.actions.failover();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}
