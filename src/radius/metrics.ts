// RADIUS counters on the process registry (prom-client). Module singletons: several servers
// or clients in one process share them and tell themselves apart by labels.
// Label values are bounded: `client` is the configured client name or "unknown", `cause` one of
// the fixed drop causes, `listener` one of auth | acct | dae | client.
import { Counter } from 'prom-client';
import { registry } from '../metrics/registry.ts';

export const radiusRequests = new Counter({
  name: 'pmip6_radius_requests_total',
  help: 'RADIUS requests accepted for processing, by client and kind (access, lma_authorize, accounting, status, coa, disconnect)',
  labelNames: ['listener', 'client', 'kind'] as const,
  registers: [registry],
});

export const radiusResponses = new Counter({
  name: 'pmip6_radius_responses_total',
  help: 'RADIUS responses sent, by client and packet code name (duplicates answered from cache included)',
  labelNames: ['listener', 'client', 'code'] as const,
  registers: [registry],
});

export const radiusDropped = new Counter({
  name: 'pmip6_radius_dropped_total',
  help: 'RADIUS packets silently discarded, by listener, client and cause',
  labelNames: ['listener', 'client', 'cause'] as const,
  registers: [registry],
});

export const radiusDuplicates = new Counter({
  name: 'pmip6_radius_duplicates_total',
  help: 'Retransmitted requests answered with the cached response (RFC 5080 §2.2.2)',
  labelNames: ['listener', 'client'] as const,
  registers: [registry],
});

export const radiusClientEvents = new Counter({
  name: 'pmip6_radius_client_events_total',
  help: 'RADIUS client (MAG/LMA side and CoA sender) events by server: request, retransmit, timeout, failover, cache_hit, response, bad_response',
  labelNames: ['server', 'event'] as const,
  registers: [registry],
});
