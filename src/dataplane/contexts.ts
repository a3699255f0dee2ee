// Routing contexts of the LMA's user-space data plane (dataplane.contexts), like VRFs built
// from policy routing: this kernel has no vrf device, and a context needs nothing more than
// its own TUN device, its own routing table and rules that send its traffic to that table.
//
// RFC 5845 §1 and §3: GRE keys identify each MN's traffic in the MAG-LMA tunnels, so an LMA
// can serve MNs with overlapping private IPv4 home addresses when they belong to different
// routing contexts. A context is chosen by the MN's service (RFC 5149 Service Selection, the
// profile's serviceSelection); MNs of any other service stay in the default context (the
// dataplane.table / dataplane.tunName of before).
//
// Config item (dataplane.contexts, comma separated in PMIP6_DATAPLANE_CONTEXTS):
//   "<service> table=<n> upstream=<if>[+<if>...] [tun=<name>] [via=<address>]..."
// e.g. "corp-a.example table=5301 upstream=eth2 via=198.51.100.1". The context's table holds
// its MNs' routes (into its TUN device) and its default route(s) (via the given next hops, or
// on-link out of the first upstream interface); rules at dataplane.rulePriority - 1 send what
// arrives on its TUN device (decapsulated uplink) or on its upstream interfaces (downlink
// towards its MNs) to that table, so no packet of the context is looked up anywhere else.
import { isIP } from 'node:net';
import { ip, ruleAdd } from './iproute.ts';

export interface RoutingContext {
  /** The RFC 5149 service selection of the MNs in this context. */
  service: string;
  /** Its TUN device (at most 15 characters). */
  tunName: string;
  /** Its routing table (routes flushed at start and at close: the table is ours alone). */
  table: number;
  /** Interfaces whose incoming traffic belongs to this context (towards its CNs or PDN). */
  upstream: string[];
  /** Next hops of its default routes, at most one per address family. */
  via: string[];
}

const IFNAME = /^[\w.-]{1,15}$/;
/** Tables the kernel reserves (unspec, default, main, local). */
const RESERVED_TABLES = new Set([0, 253, 254, 255]);

/** Parses dataplane.contexts; throws an Error that names the bad item. */
export function parseContexts(items: readonly string[], defaultTable: number): RoutingContext[] {
  const out: RoutingContext[] = [];
  for (const item of items) {
    const [service, ...kvs] = item.trim().split(/\s+/);
    const bad = (why: string): never => {
      throw new Error(`dataplane.contexts "${item}": ${why}`);
    };
    if (!service || service.includes('=')) bad('starts with the service name');
    const c: RoutingContext = { service, tunName: '', table: 0, upstream: [], via: [] };
    for (const kv of kvs) {
      const i = kv.indexOf('=');
      const k = kv.slice(0, i);
      const v = kv.slice(i + 1);
      if (i <= 0 || v === '') bad(`"${kv}" is not key=value`);
      if (k === 'table') {
        c.table = Number(v);
        if (!Number.isInteger(c.table) || c.table < 1 || c.table > 0xfffffffe || RESERVED_TABLES.has(c.table)) bad(`table ${v} is not a free routing table number`);
      } else if (k === 'tun') {
        if (!IFNAME.test(v)) bad(`tun ${v} is not an interface name of at most 15 characters`);
        c.tunName = v;
      } else if (k === 'upstream') {
        c.upstream = v.split('+');
        if (c.upstream.some((u) => !IFNAME.test(u))) bad(`upstream ${v} is not a list of interface names joined by +`);
      } else if (k === 'via') {
        if (isIP(v) === 0) bad(`via ${v} is not an address`);
        if (c.via.some((x) => isIP(x) === isIP(v))) bad('one via per address family');
        c.via.push(v);
      } else bad(`unknown key ${k} (table, tun, upstream, via)`);
    }
    if (c.table === 0) bad('needs table=<n>');
    if (c.upstream.length === 0) bad('needs upstream=<interface>');
    if (c.tunName === '') c.tunName = `pmip6-c${c.table}`.slice(0, 15);
    if (c.table === defaultTable) bad(`table ${c.table} is the default context's (dataplane.table)`);
    for (const o of out) {
      if (o.service === service) bad('service named twice');
      if (o.table === c.table) bad(`table ${c.table} used twice`);
      if (o.tunName === c.tunName) bad(`tun ${c.tunName} used twice`);
    }
    out.push(c);
  }
  if (out.length > 15) throw new Error('dataplane.contexts: at most 15 contexts besides the default one');
  return out;
}

/** The context's rules and default routes (its MN routes come with the bindings). */
export async function setUpContext(c: RoutingContext, pref: number): Promise<void> {
  for (const fam of ['-4', '-6'] as const) {
    await ruleAdd(fam, ['iif', c.tunName], pref, c.table);
    for (const u of c.upstream) await ruleAdd(fam, ['iif', u], pref, c.table);
    const via = c.via.find((v) => isIP(v) === (fam === '-4' ? 4 : 6));
    await ip([fam, 'route', 'replace', 'default', ...(via ? ['via', via] : []), 'dev', c.upstream[0], 'table', String(c.table)]);
  }
}
