// MAG counters on the process registry (prom-client), next to the plain MagCounters object
// the SNMP agent and tests read. Module singletons: several MAGs in one process (the
// simulator drives two) tell themselves apart by the `mag` label. Label values are bounded:
// message kinds, drop causes and binding events are fixed lists; status is an 8-bit code.
import { Counter, Gauge } from 'prom-client';
import { registry } from '../metrics/registry.ts';
import type { BuleState, MagCounters, MagDropCause, MagMessageKind } from './types.ts';

const pbuSent = new Counter({
  name: 'pmip6_mag_pbu_sent_total',
  help: 'Proxy Binding Updates sent by the MAG (retransmissions included)',
  labelNames: ['mag'] as const,
  registers: [registry],
});
const pbuRetransmissions = new Counter({
  name: 'pmip6_mag_pbu_retransmissions_total',
  help: 'PBU retransmissions after INITIAL_BINDACK_TIMEOUT back-off (RFC 5213 §6.9.4)',
  labelNames: ['mag'] as const,
  registers: [registry],
});
const pbaReceived = new Counter({
  name: 'pmip6_mag_pba_received_total',
  help: 'Proxy Binding Acknowledgements matched to an outstanding PBU, by status',
  labelNames: ['mag', 'status'] as const,
  registers: [registry],
});
const messagesSent = new Counter({
  name: 'pmip6_mag_messages_sent_total',
  help: 'Mobility Header messages sent by the MAG, by type',
  labelNames: ['mag', 'type'] as const,
  registers: [registry],
});
const messagesReceived = new Counter({
  name: 'pmip6_mag_messages_received_total',
  help: 'Mobility Header messages received by the MAG, by type',
  labelNames: ['mag', 'type'] as const,
  registers: [registry],
});
const dropped = new Counter({
  name: 'pmip6_mag_dropped_total',
  help: 'Messages and events the MAG dropped or ignored, by cause',
  labelNames: ['mag', 'cause'] as const,
  registers: [registry],
});
const bindingEvents = new Counter({
  name: 'pmip6_mag_binding_events_total',
  help: 'Binding Update List changes: registered, refreshed, deregistered, failed, revoked',
  labelNames: ['mag', 'event'] as const,
  registers: [registry],
});
const lmaEvents = new Counter({
  name: 'pmip6_mag_lma_events_total',
  help: 'Heartbeat outcomes per MAG (RFC 5847): restart detected, unreachable',
  labelNames: ['mag', 'event'] as const,
  registers: [registry],
});

/** Live MAGs whose BUL sizes the gauge reports at scrape time. */
const live = new Map<string, () => Record<BuleState, number>>();
new Gauge({
  name: 'pmip6_mag_bul_entries',
  help: 'Binding Update List entries by state',
  labelNames: ['mag', 'state'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const [mag, counts] of live) {
      const c = counts();
      for (const state of Object.keys(c) as BuleState[]) this.set({ mag, state }, c[state]);
    }
  },
});

type BindingEvent = keyof MagCounters['bindings'];

/** Counts into both the plain object and prom-client, with the label children cached. */
export class MagMetrics {
  private readonly pbu;
  private readonly retx;
  private readonly sentBy = new Map<MagMessageKind, Counter.Internal>();
  private readonly recvBy = new Map<MagMessageKind, Counter.Internal>();
  private readonly statusBy = new Map<number, Counter.Internal>();

  constructor(
    private readonly mag: string,
    readonly c: MagCounters,
  ) {
    this.pbu = pbuSent.labels(mag);
    this.retx = pbuRetransmissions.labels(mag);
  }

  register(counts: () => Record<BuleState, number>): void {
    live.set(this.mag, counts);
  }

  unregister(): void {
    live.delete(this.mag);
  }

  sent(kind: MagMessageKind): void {
    this.c.sent[kind]++;
    if (kind === 'pbu') this.pbu.inc();
    let ch = this.sentBy.get(kind);
    if (!ch) this.sentBy.set(kind, (ch = messagesSent.labels(this.mag, kind)));
    ch.inc();
  }

  received(kind: MagMessageKind): void {
    this.c.received[kind]++;
    let ch = this.recvBy.get(kind);
    if (!ch) this.recvBy.set(kind, (ch = messagesReceived.labels(this.mag, kind)));
    ch.inc();
  }

  pbaStatus(status: number): void {
    this.c.pbaStatus[status] = (this.c.pbaStatus[status] ?? 0) + 1;
    let ch = this.statusBy.get(status);
    if (!ch) this.statusBy.set(status, (ch = pbaReceived.labels(this.mag, String(status))));
    ch.inc();
  }

  retransmission(): void {
    this.c.retransmissions++;
    this.retx.inc();
  }

  drop(cause: MagDropCause): void {
    this.c.dropped[cause]++;
    dropped.labels(this.mag, cause).inc();
  }

  binding(event: BindingEvent): void {
    this.c.bindings[event]++;
    bindingEvents.labels(this.mag, event).inc();
  }

  lma(event: 'restart' | 'unreachable'): void {
    if (event === 'restart') this.c.lmaRestarts++;
    else this.c.lmaUnreachable++;
    lmaEvents.labels(this.mag, event).inc();
  }
}
