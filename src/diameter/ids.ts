// Identifier generation (RFC 6733): Hop-by-Hop (§3, per connection, monotonically increasing
// from a random start), End-to-End (§3, high 12 bits from the clock at start, low 20 bits
// random, then increasing: unique for well over 4 minutes across restarts), Session-Id
// (§8.8: "<DiameterIdentity>;<high 32 bits>;<low 32 bits>[;<optional>]", the 64-bit value
// starting at the NTP time of start-up).
import { randomInt } from 'node:crypto';

const NTP_UNIX_OFFSET = 2_208_988_800;

/** Hop-by-Hop Identifiers of one connection. */
export class HopByHop {
  private next: number;
  constructor(start = randomInt(0, 0xffffffff)) {
    this.next = start >>> 0;
  }
  take(): number {
    const v = this.next;
    this.next = (this.next + 1) >>> 0;
    return v;
  }
}

/** End-to-End Identifiers of one node (§3). */
export class EndToEnd {
  private next: number;
  constructor(nowMs = Date.now(), random20 = randomInt(0, 1 << 20)) {
    const seconds = Math.floor(nowMs / 1000) & 0xfff;
    this.next = ((seconds << 20) | (random20 & 0xfffff)) >>> 0;
  }
  take(): number {
    const v = this.next;
    this.next = (this.next + 1) >>> 0;
    return v;
  }
}

/** Session-Ids of one node (§8.8). */
export class SessionIds {
  private high: number;
  private low = 0;
  constructor(private readonly identity: string, nowMs = Date.now()) {
    this.high = (Math.floor(nowMs / 1000) + NTP_UNIX_OFFSET) >>> 0;
  }
  take(optional?: string): string {
    const id = `${this.identity};${this.high};${this.low}${optional ? `;${optional}` : ''}`;
    this.low = (this.low + 1) >>> 0;
    if (this.low === 0) this.high = (this.high + 1) >>> 0;
    return id;
  }
}
