// One prom-client registry per process, served on the API's /metrics.
// Modules register their counters here; the SNMP agent reads the same counters
// through the role state views, not through prom-client.
import { Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
let defaultsOn = false;

/** Process metrics (CPU, heap, event-loop lag); enabled once by main/. */
export function enableDefaultMetrics(): void {
  if (defaultsOn) return;
  defaultsOn = true;
  collectDefaultMetrics({ register: registry, prefix: 'pmip6_' });
}
