// RADIUS counters on the process registry (prom-client). Hot-path counts are plain numbers in
// per-(listener, client) objects, copied into prom-client at scrape time (`collect`): a
// labels().inc() per packet cost more than the rest of the bookkeeping. Rare events (drops,
// client-side events) use prom-client directly.
// Label values are bounded: `client` is the configured client name or "unknown", `cause` one of
// the fixed drop causes, `listener` one of auth | acct | dae | client.
import { Counter } from 'prom-client';
import { registry } from '../metrics/registry.ts';

/** Per (listener, client) traffic counts; fields are request kinds and response code names. */
export interface Traffic {
  requests: Record<string, number>;
  responses: Record<string, number>;
  duplicates: number;
}

const traffic = new Map<string, { listener: string; client: string; t: Traffic }>();

/** The counters object of a (listener, client) pair; keep it and increment its fields. */
export function trafficFor(listener: string, client: string): Traffic {
  const k = `${listener}\0${client}`;
  let e = traffic.get(k);
  if (!e) {
    e = { listener, client, t: { requests: {}, responses: {}, duplicates: 0 } };
    traffic.set(k, e);
  }
  return e.t;
}

export const radiusRequests = new Counter({
  name: 'pmip6_radius_requests_total',
  help: 'RADIUS requests accepted for processing, by listener, client and kind (access, lma_authorize, accounting, status, coa, disconnect)',
  labelNames: ['listener', 'client', 'kind'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const { listener, client, t } of traffic.values()) {
      for (const [kind, v] of Object.entries(t.requests)) this.labels(listener, client, kind).inc(v);
    }
  },
});

export const radiusResponses = new Counter({
  name: 'pmip6_radius_responses_total',
  help: 'RADIUS responses sent, by listener, client and packet code name (duplicates answered from cache excluded)',
  labelNames: ['listener', 'client', 'code'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const { listener, client, t } of traffic.values()) {
      for (const [code, v] of Object.entries(t.responses)) this.labels(listener, client, code).inc(v);
    }
  },
});

export const radiusDuplicates = new Counter({
  name: 'pmip6_radius_duplicates_total',
  help: 'Retransmitted requests answered with the cached response (RFC 5080 §2.2.2)',
  labelNames: ['listener', 'client'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const { listener, client, t } of traffic.values()) if (t.duplicates) this.labels(listener, client).inc(t.duplicates);
  },
});

export const radiusDropped = new Counter({
  name: 'pmip6_radius_dropped_total',
  help: 'RADIUS packets silently discarded, by listener, client and cause',
  labelNames: ['listener', 'client', 'cause'] as const,
  registers: [registry],
});

export const radiusClientEvents = new Counter({
  name: 'pmip6_radius_client_events_total',
  help: 'RADIUS client (MAG/LMA side and CoA sender) events by server: request, retransmit, timeout, failover, cache_hit, response, bad_response',
  labelNames: ['server', 'event'] as const,
  registers: [registry],
});
