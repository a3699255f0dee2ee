// Prometheus counters of the raw IPv6 MH transport (ip6.ts), summed over every open
// transport of the process at scrape time; a closed transport's last values are kept so
// the counters never go backwards.
import { Counter } from 'prom-client';
import { registry } from '../metrics/registry.ts';

interface Source {
  stats(): Record<string, number>;
}

const open = new Set<Source>();
const retired: Record<string, number> = {};

export function track(s: Source): void {
  open.add(s);
}

export function untrack(s: Source): void {
  open.delete(s);
}

/** Adds a closing transport's final counters to the retired totals. */
export function retire(s: Source): void {
  if (!open.has(s)) return;
  for (const [k, v] of Object.entries(s.stats())) retired[k] = (retired[k] ?? 0) + v;
}

function total(key: string): number {
  let n = retired[key] ?? 0;
  for (const s of open) n += s.stats()[key] ?? 0;
  return n;
}

function pulled<L extends string>(name: string, help: string, labelNames: readonly L[], fill: (set: (labels: Record<L, string>, key: string) => void) => void): void {
  new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect(this: Counter<L>) {
      this.reset();
      fill((labels, key) => {
        const v = total(key);
        if (v > 0) this.inc(labels as never, v);
      });
    },
  });
}

pulled('pmip6_mh_ip6_received_total', 'Mobility Headers received on raw IPv6 sockets and handed to the LMA/MAG', [], (set) => set({}, 'delivered'));
pulled('pmip6_mh_ip6_sent_total', 'Mobility Headers sent on raw IPv6 sockets', [], (set) => set({}, 'txPackets'));
pulled('pmip6_mh_ip6_send_errors_total', 'Failed sends on raw IPv6 MH sockets', [], (set) => set({}, 'txErrors'));
pulled('pmip6_mh_ip6_dropped_total', 'Datagrams dropped before the LMA/MAG saw them: oversized, wrong-destination, type-filtered (native filter), kernel (bad checksum or full receive buffer, RFC 6275 §9.2)', ['cause'] as const, (set) => {
  set({ cause: 'oversized' }, 'oversized');
  set({ cause: 'wrong-destination' }, 'wrongDestination');
  set({ cause: 'type-filtered' }, 'typeFiltered');
  set({ cause: 'kernel' }, 'kernelDrops');
});
pulled('pmip6_mh_ip6_icmp_parameter_problems_total', 'ICMPv6 Parameter Problems for malformed MHs (RFC 6275 §9.2), by result', ['result'] as const, (set) => {
  set({ result: 'sent' }, 'icmpSent');
  set({ result: 'rate-limited' }, 'icmpRateLimited');
  set({ result: 'error' }, 'icmpErrors');
});
