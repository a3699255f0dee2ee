// Which data plane a role runs, decided once at start and said in one log line with the
// reason (issue 13): 'userspace' (TUN + raw sockets, native packet path, IPv6 and IPv4 transport), 'kernel'
// (ip6tnl / ip6gre through rtnetlink: probed, not built yet), or 'recording' (signalling
// only: no packet is forwarded). 'auto' takes the kernel's tunnels when they exist and this
// build can drive them, else the user-space forwarder when this process may create a TUN
// device and raw sockets, else recording, and says why each was passed over.
import { existsSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import type { DataPlane } from './types.ts';
import { RecordingDataPlane } from './recording.ts';
import { UserspaceDataPlane } from './userspace.ts';
import { loadNative } from '../transport/native.ts';
import type { Logger } from '../util/log.ts';
import { parseContexts } from './contexts.ts';

export type DataPlaneKind = 'auto' | 'userspace' | 'kernel' | 'recording';

export interface DataPlaneConfig {
  kind: DataPlaneKind;
  /** TUN device name; empty = pmip6-<role>. */
  tunName: string;
  /** Routing table; 0 = 5213 (LMA) / 5214 (MAG). */
  table: number;
  rulePriority: number;
  /** How routes and rules are changed (absent = auto). */
  routing?: 'auto' | 'rtnetlink' | 'ip-command';
  mtu: number;
  maxTunnels: number;
  maxRoutes: number;
  enableForwarding: boolean;
  /** LMA routing contexts besides the default one (contexts.ts); empty = one context. */
  contexts?: string[];
}

export class DataPlaneUnavailableError extends Error {
  constructor(readonly kind: DataPlaneKind, readonly reason: string) {
    super(`data plane ${kind} is unavailable: ${reason}`);
    this.name = 'DataPlaneUnavailableError';
  }
}

/** Why kernel tunnels are not used (always a reason today: this build has no rtnetlink tunnel code). */
export function kernelTunnelsUnavailable(): string {
  const mods = ['ip6_tunnel', 'ip6_gre'].filter((m) => existsSync(`/sys/module/${m}`));
  const modules = mods.length === 2 ? 'the kernel has ip6_tunnel and ip6_gre loaded' : `the kernel lacks ${['ip6_tunnel', 'ip6_gre'].filter((m) => !mods.includes(m)).join(' and ')} (/sys/module)`;
  return `${modules}; kernel tunnels through rtnetlink are not implemented in this build`;
}

/** Why the user-space forwarder cannot run here, or null when it can. */
export function userspaceUnavailable(): string | null {
  const n = loadNative();
  if (!n.ok) return n.reason;
  if (!n.addon.TunForwarder || !n.addon.probeTun) return `the native addon ${n.path} has no TunForwarder (rebuild it: npm run install)`;
  const p = n.addon.probeTun();
  if (p.ok) return null;
  if (p.code === 'EPERM' || p.code === 'EACCES') return `the process may not create a ${p.what} (${p.code}): it needs CAP_NET_ADMIN and CAP_NET_RAW (run as root, or grant them)`;
  return `${p.what}: ${p.message} (${p.code})`;
}

/** A loopback address (127.0.0.0/8, ::1): no tunnel to it leaves the host. */
function isLoopback(a: string): boolean {
  return a === '::1' || /^127\./.test(a) || /^::ffff:127\./i.test(a);
}

/**
 * `endpoints`: the role's tunnel endpoint addresses (MAG: its Proxy-CoA; LMA: its LMAAs), IPv6
 * or IPv4 (RFC 5844 §4 transport): both are forwarded by the user-space forwarder (IPv4-UDP,
 * §4.1, included). Under 'auto', endpoints that are all loopback addresses (a suite run on
 * one host, the in-process tests) get recording: no tunnel between hosts can exist.
 */
export async function openDataPlane(role: 'lma' | 'mag', c: DataPlaneConfig, log: Logger, endpoints: readonly string[] = []): Promise<DataPlane> {
  const why: string[] = [];
  let kind = c.kind;
  const ipv6Transport = endpoints.length === 0 || endpoints.some((a) => isIPv6(a));
  if (kind === 'kernel') throw new DataPlaneUnavailableError('kernel', kernelTunnelsUnavailable());
  if (kind === 'auto' && endpoints.length > 0 && endpoints.every(isLoopback)) {
    why.push(`the tunnel endpoints (${endpoints.join(', ')}) are loopback addresses: no tunnel leaves this host`);
    kind = 'recording';
  } else if (kind === 'auto') {
    why.push(`kernel tunnels not used: ${kernelTunnelsUnavailable()}`);
    const u = userspaceUnavailable();
    if (u === null) kind = 'userspace';
    else {
      why.push(`user-space forwarder not used: ${u}`);
      kind = 'recording';
    }
  } else if (kind === 'userspace') {
    const u = userspaceUnavailable();
    if (u !== null) throw new DataPlaneUnavailableError('userspace', u);
  }
  if (kind === 'recording') {
    // RFC 5844 §4 IPv4 transport no longer forces this: only a missing forwarder does.
    const reason = c.kind === 'recording' ? 'dataplane.kind is recording' : why.join('; ');
    log[c.kind === 'recording' ? 'info' : 'warn']({ dataplane: 'recording', why: reason }, 'data plane: recording only, NO packet of a mobile node is forwarded');
    return new RecordingDataPlane(false);
  }
  const n = loadNative();
  if (!n.ok) throw new DataPlaneUnavailableError('userspace', n.reason);
  const tunName = c.tunName || `pmip6-${role}`;
  const table = c.table || (role === 'lma' ? 5213 : 5214);
  const contexts = role === 'lma' ? parseContexts(c.contexts ?? [], table) : [];
  const dp = await UserspaceDataPlane.open({
    role, addon: n.addon, tunName, table, rulePriority: c.rulePriority, mtu: c.mtu,
    maxTunnels: c.maxTunnels, maxRoutes: c.maxRoutes, enableForwarding: c.enableForwarding, log, routing: c.routing ?? 'auto', contexts,
  });
  for (const x of contexts) log.info({ context: x.service, tun: x.tunName, table: x.table, upstream: x.upstream, via: x.via }, `data plane: routing context for service ${x.service} on TUN ${x.tunName}, table ${x.table}`);
  log.info(
    { dataplane: 'userspace', tun: tunName, table, rulePriority: c.rulePriority, routing: dp.routing, mtu: c.mtu, transport: ipv6Transport ? 'ipv6+ipv4' : 'ipv4', why: c.kind === 'auto' ? why.join('; ') : 'dataplane.kind is userspace' },
    `data plane: user-space forwarder on TUN ${tunName} (IP-in-IP and GRE over IPv6 or IPv4 raw sockets, IPv4-UDP, packet path in native threads)`,
  );
  return dp;
}
