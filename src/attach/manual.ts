// Attach/detach events injected by code or by the REST API (RFC 5213 §6.9.1.1 "after
// detecting a new mobile node"; how it is detected is out of the RFC's scope). Events go to
// the MAG in the order they are injected.
import type { AttachDetachEvent, AttachDetector, AttachEvent, DetachEvent } from './types.ts';

export class ManualDetector implements AttachDetector {
  private handler: ((e: AttachDetachEvent) => void) | undefined;
  private running = false;
  /** (mnId, link) pairs reported gone without a detach (e.g. NUD failure reported by the API). */
  private readonly lost = new Set<string>();

  onEvent(handler: (e: AttachDetachEvent) => void): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    this.running = true;
  }

  async stop(): Promise<void> {
    this.running = false;
  }

  /** Emits an attach. False when not started or nobody listens (the event is not queued). */
  attach(e: Omit<AttachEvent, 'kind'>): boolean {
    return this.inject({ kind: 'attach', ...e });
  }

  detach(e: Omit<DetachEvent, 'kind'>): boolean {
    return this.inject({ kind: 'detach', ...e });
  }

  inject(e: AttachDetachEvent): boolean {
    if (!this.running || !this.handler) return false;
    this.lost.delete(key(e.mnId, e.link));
    this.handler(e);
    return true;
  }

  /**
   * Marks an MN as no longer present without a detach event: the MAG's next presence check
   * (before a refresh or retransmission, RFC 5213 §6.13) then de-registers it.
   */
  markLost(mnId: string, link: string): void {
    this.lost.add(key(mnId, link));
  }

  /** RFC 5213 §6.13 presence check: present unless marked lost. */
  isAttached(mnId: string, link: string): boolean {
    return !this.lost.has(key(mnId, link));
  }
}

function key(mnId: string, link: string): string {
  return `${mnId}\n${link}`;
}
