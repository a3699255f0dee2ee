// The optional native addon (native/, built by node-gyp during `npm ci`): loading it, and
// saying in one sentence why raw IPv6 Mobility Header sockets are unavailable when they
// are (the addon did not build or does not load, or the process lacks CAP_NET_RAW).
// Everything else in the suite runs without it.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The abiVersion native/src/addon.c exports; bumped with its JavaScript-facing interface. */
export const NATIVE_ABI_VERSION = 1;

/** What MhSocket hands to its onPackets callback for one received batch (native/src/mh_socket.c). */
export type MhBatchCallback = (
  count: number,
  data: Buffer,
  /** [offset, length, ifindex, hopLimit] per delivered datagram. */
  info: Uint32Array,
  sources: string[],
  destinations: string[],
  /** Datagrams dropped in C: [cause, source, mhType] triples (1 oversized, 2 wrong destination, 3 MH Type filtered). */
  drops: (number | string)[] | undefined,
  /** Kernel receive stamps (SO_TIMESTAMPNS, ms since 1970, 0 = none); absent from older builds. */
  times?: Float64Array,
) => void;

export interface MhSocketOptions {
  /** Local IPv6 address to bind ("::" = every address: then every MH on the host arrives). */
  address: string;
  onPackets: MhBatchCallback;
  /** On a socket bound to "::": the destinations to deliver (others are counted as wrong-destination). */
  accept?: string[];
  /** 32-octet bit set of the MH Types to deliver (bit t of octet t >> 3); default all. */
  types?: Uint8Array;
  /** Kernel MH checksum (IPV6_CHECKSUM offset 4) on send and receive; default true. */
  checksum?: boolean;
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** Datagrams per recvmmsg call (default 64). */
  batch?: number;
  /** recvmmsg calls per wake-up of the event loop (default 8). */
  drainBatches?: number;
}

export interface MhSocketStats {
  rxBatches: number;
  rxPackets: number;
  rxBytes: number;
  delivered: number;
  oversized: number;
  wrongDestination: number;
  typeFiltered: number;
  rxErrors: number;
  lastRxError: number;
  txPackets: number;
  txBytes: number;
  txErrors: number;
  icmpSent: number;
  icmpErrors: number;
  /** The kernel's count for this socket: bad checksums and receive-buffer overflows (-1 when closed). */
  kernelDrops: number;
  recvBufferSize: number;
}

export interface MhSocket {
  /** 0, or the errno of a failed sendmsg (e.g. 11 EAGAIN: send buffer full, 101 ENETUNREACH). */
  send(data: Uint8Array, destination: string, source?: string): number;
  /**
   * sendmmsg of `count` datagrams (src/transport/ip6-batch.ts): datagram i is data[info[4i], +info[4i+1])
   * to addrs[32i, +16) (scope id info[4i+2]), from addrs[32i+16, +16) when bit 0 of info[4i+3] is set.
   * Returns how many were sent; errs[i] is 0 or the errno of datagram i. Absent in older builds.
   */
  sendBatch?(data: Uint8Array, info: Uint32Array, addrs: Uint8Array, count: number, errs: Int32Array): number;
  /** RFC 6275 §9.2 ICMPv6 Parameter Problem to `peer`; `pointer` is the offset in the MH. 0 or errno. */
  parameterProblem(pointer: number, mh: Uint8Array, peer: string, local: string, hopLimit: number): number;
  stats(): MhSocketStats;
  address(): string;
  close(): void;
}

/** native/src/link_socket.c: AF_PACKET or NETLINK_ROUTE datagrams for the attach detector (src/attach/link-io.ts). */
export interface LinkSocketOptions {
  family: 'packet' | 'netlink';
  /** packet: the interface and EtherType to bind. */
  ifindex?: number;
  protocol?: number;
  /** packet: classic BPF program (struct sock_filter[] bytes), attached before the bind. */
  filter?: Uint8Array;
  /** netlink: multicast groups (e.g. RTMGRP_LINK). */
  groups?: number;
  /** frames: each datagram; meta: [ifindex, pkttype] per datagram. */
  onPackets(frames: Buffer[], meta: Int32Array): void;
  /** A receive error (errno), e.g. ENOBUFS: netlink events were lost. */
  onError?(errno: number): void;
  drain?: number;
  recvBufferSize?: number;
}

export interface LinkSocket {
  /** 0 or errno. packet: a whole Ethernet frame; netlink: a request to the kernel. */
  send(data: Uint8Array): number;
  stats(): { rxPackets: number; rxBytes: number; rxErrors: number; txPackets: number; txErrors: number };
  close(): void;
}

/** native/src/rtnl.c: routes and policy rules through rtnetlink (src/dataplane/rtnl.ts). Throws the kernel's errno. */
export interface RouteNetlink {
  /** A unicast route out of a device (dev name or oif index); del needs only family, dst, dstLen, table. */
  route(cmd: 'add' | 'replace' | 'del', r: { family: 4 | 6; dst?: string; dstLen?: number; table: number; dev?: string; oif?: number }): void;
  /** A rule looking up `table` (FR_ACT_TO_TBL); add refuses a duplicate with EEXIST. */
  rule(cmd: 'add' | 'del', r: { family: 4 | 6; priority?: number; table?: number; src?: string; srcLen?: number; dst?: string; dstLen?: number }): void;
  /** The routes of one table (0 = all). */
  dumpRoutes(family: 4 | 6, table?: number): { dst?: string; dstLen: number; table: number; oif: number; metric: number; type: number; protocol: number }[];
  /** The rules looking up one table (0 = all). */
  dumpRules(family: 4 | 6, table?: number): { priority: number; table: number; action: number; src?: string; srcLen: number; dst?: string; dstLen: number }[];
  close(): void;
}

export interface NativeAddon {
  abiVersion: number;
  /** Absent in an addon built before rtnl.c existed. */
  RouteNetlink?: new () => RouteNetlink;
  /** Absent in an addon built before link_socket.c existed. */
  LinkSocket?: new (o: LinkSocketOptions) => LinkSocket;
  MhSocket: new (o: MhSocketOptions) => MhSocket;
  probeMh(): { ok: true } | { ok: false; code: string; message: string };
  /** The user-space data plane's packet path (native/src/tun_fwd.c; src/dataplane/userspace.ts). Absent in older builds. */
  TunForwarder?: new (o: TunForwarderOptions) => TunForwarder;
  probeTun?(): { ok: true } | { ok: false; code: string; message: string; what: string };
}

export interface TunForwarderOptions {
  /** TUN device name (at most 15 characters). */
  name: string;
  /** 'lma' picks the tunnel by the inner destination, 'mag' by the inner source. */
  role: 'lma' | 'mag';
  /** TUN devices of routing contexts 1.. (context 0 is `name`): each its own route space (at most 15). */
  contexts?: string[];
  mtu?: number;
  batch?: number;
  maxTunnels?: number;
  maxRoutes?: number;
  recvBufferSize?: number;
}

export interface TunForwarderCounters {
  packets: number;
  bytes: number;
  batches: number;
}

export interface TunForwarderStats {
  name: string;
  ifindex: number;
  /** TUN -> tunnel (encapsulated, sent). */
  tx: TunForwarderCounters;
  /** Tunnel -> TUN (received, decapsulated). */
  rx: TunForwarderCounters;
  drops: Record<'noBinding' | 'badKey' | 'unknownPeer' | 'malformed' | 'tunWrite' | 'send' | 'multicast', { tx: number; rx: number }>;
  tunnels: number;
  routes: number;
  /** Per routing context (index = context): its TUN device and packets to / from tunnels. */
  contexts: { tun: string; ifindex: number; txPackets: number; rxPackets: number }[];
}

export interface TunForwarder {
  /** A slot number; throws EEXIST when another tunnel already receives from that peer with that key. */
  addTunnel(t: { local: string; remote: string; encap: 'ip6' | 'gre' | 'udp'; keyIn?: number; keyOut?: number; ctx?: number }): number;
  /** 0, or 2 (ENOENT). Routes over it go too. */
  removeTunnel(slot: number): number;
  /** 0 or an errno (2 ENOENT: no such tunnel, 28 ENOSPC: table full, 22 EINVAL). Replaces the prefix's route in the tunnel's context. */
  addRoute(address: string, prefixLength: number, slot: number): number;
  /** 0 removed, 2 (ENOENT) absent, 3 (ESRCH) routed over another tunnel (left alone). */
  removeRoute(address: string, prefixLength: number, slot: number): number;
  stats(): TunForwarderStats;
  tunnelStats(slot: number): { txPackets: number; txBytes: number; rxPackets: number; rxBytes: number } | null;
  close(): void;
}

export type NativeStatus = { ok: true; addon: NativeAddon; path: string } | { ok: false; reason: string };

const ADDON_FILE = join('native', 'build', 'Release', 'pmip6_native.node');

/** The addon next to this file's package: the first folder upwards holding native/binding.gyp. */
export function defaultAddonPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'native', 'binding.gyp'))) return join(dir, ADDON_FILE);
    const up = dirname(dir);
    if (up === dir) return join(dirname(fileURLToPath(import.meta.url)), '..', '..', ADDON_FILE);
    dir = up;
  }
}

const cache = new Map<string, NativeStatus>();

/** Loads the addon once per path; never throws. */
export function loadNative(path = defaultAddonPath()): NativeStatus {
  let s = cache.get(path);
  if (s === undefined) {
    s = load(path);
    cache.set(path, s);
  }
  return s;
}

function load(path: string): NativeStatus {
  if (!existsSync(path)) {
    return { ok: false, reason: `the native addon is not built (${ADDON_FILE} is missing: npm ci could not compile it, which needs g++, make and python3; see native/README.md)` };
  }
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (e) {
    return { ok: false, reason: `the native addon ${path} does not load (${(e as Error).message.split('\n')[0]}); rebuild it with npm run install` };
  }
  if (addon.abiVersion !== NATIVE_ABI_VERSION) {
    return { ok: false, reason: `the native addon ${path} is version ${addon.abiVersion}, this code needs ${NATIVE_ABI_VERSION}; rebuild it with npm run install` };
  }
  return { ok: true, addon, path };
}

/** Raised when raw IPv6 Mobility Header sockets were asked for and cannot be had. */
export class Ip6TransportUnavailableError extends Error {
  constructor(readonly reason: string, what: string) {
    super(`${what}: IPv6 transport (Mobility Header on raw IPv6 sockets, protocol 135) is unavailable: ${reason}`);
    this.name = 'Ip6TransportUnavailableError';
  }
}

/**
 * The addon, if this process can open raw protocol-135 sockets; otherwise why not, in one
 * sentence an operator can act on.
 */
export function rawMhSupport(path?: string): NativeStatus {
  const s = loadNative(path);
  if (!s.ok) return s;
  const p = s.addon.probeMh();
  if (p.ok) return s;
  if (p.code === 'EPERM' || p.code === 'EACCES') {
    return {
      ok: false,
      reason: 'the process lacks CAP_NET_RAW, which raw IPv6 sockets need: run it as root, or grant the capability (setcap cap_net_raw+ep on the node binary, AmbientCapabilities=CAP_NET_RAW in a systemd unit, --cap-add NET_RAW for a container); IPv4/UDP transport (RFC 5844 §4) works without it',
    };
  }
  return { ok: false, reason: `socket(AF_INET6, SOCK_RAW, 135) fails: ${p.message} (${p.code})` };
}
