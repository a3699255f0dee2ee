// Prometheus view of the user-space forwarders of this process (src/dataplane/userspace.ts):
// read from the native counters at scrape time. A closed forwarder's last counts are kept so
// the totals never go backwards.
import { Counter, Gauge } from 'prom-client';
import { registry } from '../metrics/registry.ts';
import type { TunForwarderStats } from '../transport/native.ts';

export interface StatsSource {
  readonly role: 'lma' | 'mag';
  stats(): TunForwarderStats | null;
}

const open = new Set<StatsSource>();
const retired: { role: string; s: TunForwarderStats }[] = [];

export function trackForwarder(s: StatsSource): void {
  open.add(s);
}

export function retireForwarder(s: StatsSource): void {
  const last = s.stats();
  if (last) retired.push({ role: s.role, s: last });
  open.delete(s);
}

function each(fn: (role: string, s: TunForwarderStats, live: boolean) => void): void {
  for (const r of retired) fn(r.role, r.s, false);
  for (const o of open) {
    const s = o.stats();
    if (s) fn(o.role, s, true);
  }
}

type Dir = 'to-tunnel' | 'from-tunnel';
function counter(name: string, help: string, labelNames: string[], fill: (inc: (labels: Record<string, string>, v: number) => void) => void): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect(this: Counter) {
      this.reset();
      fill((labels, v) => {
        if (v > 0) this.inc(labels, v);
      });
    },
  });
}

counter('pmip6_dataplane_packets_total', 'Packets the user-space forwarder encapsulated (to-tunnel) and decapsulated (from-tunnel)', ['role', 'direction'], (inc) =>
  each((role, s) => {
    inc({ role, direction: 'to-tunnel' satisfies Dir }, s.tx.packets);
    inc({ role, direction: 'from-tunnel' satisfies Dir }, s.rx.packets);
  }),
);
counter('pmip6_dataplane_bytes_total', 'Inner octets the user-space forwarder carried, by direction', ['role', 'direction'], (inc) =>
  each((role, s) => {
    inc({ role, direction: 'to-tunnel' }, s.tx.bytes);
    inc({ role, direction: 'from-tunnel' }, s.rx.bytes);
  }),
);
counter(
  'pmip6_dataplane_context_packets_total',
  'Packets the user-space forwarder carried per routing context (src/dataplane/contexts.ts; the label is the context\'s TUN device)',
  ['role', 'tun', 'direction'],
  (inc) =>
    each((role, s) => {
      for (const c of s.contexts ?? []) {
        inc({ role, tun: c.tun, direction: 'to-tunnel' }, c.txPackets);
        inc({ role, tun: c.tun, direction: 'from-tunnel' }, c.rxPackets);
      }
    }),
);
counter(
  'pmip6_dataplane_dropped_total',
  'Packets the user-space forwarder dropped: noBinding (no route, or an inner address not routed over the tunnel it came by), badKey (RFC 5845 key no tunnel expects), unknownPeer, malformed, tunWrite, send, multicast',
  ['role', 'direction', 'cause'],
  (inc) =>
    each((role, s) => {
      for (const [cause, c] of Object.entries(s.drops)) {
        inc({ role, direction: 'to-tunnel', cause }, c.tx);
        inc({ role, direction: 'from-tunnel', cause }, c.rx);
      }
    }),
);
new Gauge({
  name: 'pmip6_dataplane_tunnels',
  help: 'Tunnels the user-space forwarder holds',
  labelNames: ['role'],
  registers: [registry],
  collect(this: Gauge) {
    this.reset();
    each((role, s, live) => {
      if (live) this.inc({ role }, s.tunnels);
    });
  },
});
new Gauge({
  name: 'pmip6_dataplane_routes',
  help: 'Prefixes (HNPs, IPv4 HoAs) the user-space forwarder routes over its tunnels',
  labelNames: ['role'],
  registers: [registry],
  collect(this: Gauge) {
    this.reset();
    each((role, s, live) => {
      if (live) this.inc({ role }, s.routes);
    });
  },
});
