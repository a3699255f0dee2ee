// The LMA's event fan-out: binding and peer events to the sink given at construction and to
// later subscribers (API streams, SNMP notifications, metrics), the BCE listeners of adapters
// inside src/lma (snmp-view.ts), and the log line of each binding change. A failing sink is
// logged and the others still get the event. Split from lma.ts; the state machine calls
// `binding` and `peer` and never waits for a sink.
import { ipv4ToString } from '../mh/index.ts';
import type { Clock } from '../util/clock.ts';
import type { Logger } from '../util/log.ts';
import type { Bce } from './bce.ts';
import { bindingInfo } from './persist.ts';
import type { BindingEvent, BindingEventKind, LmaEventSink, PeerEvent } from './types.ts';

export type BindingExtra = { reason?: string; previousProxyCoa?: string };

export class LmaEvents {
  private readonly sinks = new Set<LmaEventSink>();
  private readonly bceListeners = new Set<(b: Bce, kind: BindingEventKind) => void>();

  constructor(
    private readonly primary: LmaEventSink | undefined,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {}

  /** Adds a sink next to the primary one; returns the unsubscribe function. */
  subscribe(sink: LmaEventSink): () => void {
    this.sinks.add(sink);
    return () => void this.sinks.delete(sink);
  }

  /** Every binding change with the live BCE, without building a BindingInfo; returns the unsubscribe function. */
  onBindingChange(l: (b: Bce, kind: BindingEventKind) => void): () => void {
    this.bceListeners.add(l);
    return () => void this.bceListeners.delete(l);
  }

  /** A binding was created, updated, refreshed or removed: log line, listeners, sinks. */
  binding(b: Bce, kind: BindingEventKind, extra?: BindingExtra): void {
    if (kind === 'refreshed') {
      if (this.log.isLevelEnabled('debug')) this.log.debug(this.logFields(b, kind, extra), 'binding refreshed');
    } else if (this.log.isLevelEnabled('info')) {
      this.log.info(this.logFields(b, kind, extra), `binding ${kind}`);
    }
    for (const l of this.bceListeners) l(b, kind);
    let e: BindingEvent | undefined;
    for (const sink of this.all()) {
      if (!sink.binding || (kind === 'refreshed' && sink.refreshed === false)) continue;
      e ??= { kind, at: this.clock.now(), binding: bindingInfo(b), ...extra };
      try {
        sink.binding(e);
      } catch (err) {
        this.log.warn({ err }, 'event sink failed');
      }
    }
  }

  /** A MAG peer event (heartbeat reachability, restart: RFC 5847 §3). */
  peer(e: PeerEvent): void {
    for (const sink of this.all()) {
      try {
        sink.peer?.(e);
      } catch (err) {
        this.log.warn({ err }, 'event sink failed');
      }
    }
  }

  private all(): Iterable<LmaEventSink> {
    return this.primary ? (this.sinks.size === 0 ? [this.primary] : [this.primary, ...this.sinks]) : this.sinks;
  }

  private logFields(b: Bce, kind: BindingEventKind, extra?: BindingExtra): Record<string, unknown> {
    return {
      event: `binding-${kind}`,
      sessionKey: b.sessionKey,
      mnId: b.mnId,
      proxyCoa: b.peer.address,
      hnps: b.hnpList(),
      ipv4HoA: b.v4 !== 0 ? ipv4ToString(b.v4 >>> 0) : undefined, // not a whole BindingInfo for one field
      att: b.att,
      lifetimeS: b.lifetime,
      ...extra,
    };
  }
}
