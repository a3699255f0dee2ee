// The LMA's one expiry timer over the binding cache's deadline heap (deadline-heap.ts): armed
// for the earliest deadline, it ends each BCE whose deadline passed, in that MN's turn
// (context.ts Serializer): a de-registered one once MinDelayBeforeBCEDelete is over (RFC 5213
// §5.3.5), any other when its lifetime ran out (RFC 6275 §9.5). A deadline moved later while
// the job waited is put back in the heap instead. Split from lma.ts.
import type { Clock, TimerHandle } from '../util/clock.ts';
import { F } from './bce.ts';
import type { Bce, BindingCache } from './bce.ts';
import type { Serializer } from './context.ts';
import type { BindingEventKind } from './types.ts';

export interface ExpiryContext {
  readonly clock: Clock;
  readonly cache: BindingCache;
  readonly serial: Serializer;
  removeBce(b: Bce, kind: BindingEventKind, reason: string): Promise<void>;
}

export class ExpiryTimer {
  private timer: TimerHandle | null = null;
  private armedAt = Infinity;

  constructor(private readonly ctx: ExpiryContext) {}

  /** Sets b's deadline; re-arms the timer when it is now the earliest. */
  schedule(b: Bce, at: number): void {
    this.ctx.cache.schedule(b, at);
    if (at < this.armedAt) this.arm(at);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
    this.armedAt = Infinity;
  }

  private arm(at: number): void {
    this.timer?.cancel();
    this.armedAt = at;
    this.timer = this.ctx.clock.setTimer(Math.max(0, at - this.ctx.clock.now()), () => this.fire());
  }

  private fire(): void {
    const { clock, cache, serial } = this.ctx;
    this.timer = null;
    this.armedAt = Infinity;
    const now = clock.now();
    for (let b = cache.popDue(now); b !== undefined; b = cache.popDue(now)) {
      const bce = b;
      serial.run(bce.mnId, () => {
        if (!cache.has(bce)) return;
        if (bce.deadline > clock.now()) {
          if (bce.heapIdx < 0) this.schedule(bce, bce.deadline);
          return;
        }
        // RFC 5213 §5.3.5: MinDelayBeforeBCEDelete is over; or the lifetime ran out (RFC 6275 §9.5).
        return bce.flags & F.DEREG ? this.ctx.removeBce(bce, 'deregistered', 'min-delay-elapsed') : this.ctx.removeBce(bce, 'expired', 'lifetime');
      });
    }
    const next = cache.nextDeadline();
    if (next !== Infinity && next < this.armedAt) this.arm(next);
  }
}
