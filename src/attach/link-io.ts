// The detector's I/O on Linux, through the native addon's LinkSocket (native/src/link_socket.c):
// one rtnetlink socket for link events (RTMGRP_LINK) and requests, and one AF_PACKET socket
// per access interface, filtered in the kernel (bpf.ts) to the ICMPv6 the detector reads.
// Needs CAP_NET_RAW (packet sockets) and CAP_NET_ADMIN (configuring the interface).
import { loadNative, type LinkSocket, type LinkSocketOptions } from '../transport/native.ts';
import { accessLinkFilter } from './bpf.ts';
import type { AccessIo, AccessPort, LinkEvent } from './config.ts';
import { RTMGRP_LINK, buildAddIpv4, buildAddLinkLocal, buildGetLinks, buildSetLinkAddress, parseNetlink } from './netlink.ts';

const ENOBUFS = 105;
/** linux/if_ether.h: every protocol. */
const ETH_P_ALL = 0x0003;
const EEXIST = 17;
const REQUEST_TIMEOUT_MS = 3000;

export class AccessIoUnavailableError extends Error {
  constructor(reason: string) {
    super(`access-link detector: ${reason}`);
    this.name = 'AccessIoUnavailableError';
  }
}

type LinkSocketCtor = new (o: LinkSocketOptions) => LinkSocket;

function linkSocketClass(): LinkSocketCtor {
  const n = loadNative();
  if (!n.ok) throw new AccessIoUnavailableError(n.reason);
  if (!n.addon.LinkSocket) throw new AccessIoUnavailableError(`the native addon ${n.path} predates LinkSocket; rebuild it with npm run install`);
  return n.addon.LinkSocket;
}

export class NativeAccessIo implements AccessIo {
  private nl: LinkSocket | null = null;
  private seq = 1;
  private readonly waiting = new Map<number, { resolve: (err: number) => void; timer: NodeJS.Timeout }>();
  private onLink: ((l: LinkEvent) => void) | null = null;
  private readonly LinkSocket: LinkSocketCtor;
  private readonly filter = accessLinkFilter();

  constructor() {
    this.LinkSocket = linkSocketClass();
  }

  async start(onLink: (l: LinkEvent) => void): Promise<void> {
    // Say at start, in one sentence, when packet sockets cannot be had (not per interface later).
    try {
      new this.LinkSocket({ family: 'packet', ifindex: 1, protocol: ETH_P_ALL, filter: this.filter, onPackets: () => undefined }).close();
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new AccessIoUnavailableError(
        code === 'EPERM' || code === 'EACCES'
          ? 'the process lacks CAP_NET_RAW, which AF_PACKET sockets on the access links need: run it as root or grant the capability (and CAP_NET_ADMIN for mag.access.configureLink)'
          : `socket(AF_PACKET) fails: ${(e as Error).message}`,
      );
    }
    this.onLink = onLink;
    this.nl = new this.LinkSocket({
      family: 'netlink',
      groups: RTMGRP_LINK,
      recvBufferSize: 4 << 20,
      onPackets: (frames) => {
        for (const d of frames) this.onNetlink(d);
      },
      // Events were lost (the receive buffer overflowed): learn the whole state again.
      onError: (errno) => {
        if (errno === ENOBUFS) void this.request(buildGetLinks(this.seq++));
      },
    });
    const err = await this.request(buildGetLinks(this.seq++));
    if (err !== 0) throw new AccessIoUnavailableError(`RTM_GETLINK failed (errno ${err})`);
  }

  open(ifindex: number, onFrame: (frame: Buffer, pkttype: number) => void): AccessPort {
    const s = new this.LinkSocket({
      family: 'packet',
      ifindex,
      protocol: ETH_P_ALL, // IPv6 (ND, MLD) and IPv4 (DHCP); the filter keeps only those
      filter: this.filter,
      recvBufferSize: 256 << 10,
      onPackets: (frames, meta) => {
        for (let i = 0; i < frames.length; i++) onFrame(frames[i], meta[i * 2 + 1]);
      },
    });
    return { send: (f) => s.send(f), close: () => s.close() };
  }

  async configure(ifindex: number, mac: Uint8Array, linkLocal: Uint8Array): Promise<void> {
    const a = await this.request(buildSetLinkAddress(this.seq, ifindex, mac), this.seq++);
    if (a !== 0) throw new Error(`RTM_SETLINK (link-layer address) on ifindex ${ifindex} failed: errno ${a}`);
    const b = await this.request(buildAddLinkLocal(this.seq, ifindex, linkLocal), this.seq++);
    if (b !== 0 && b !== EEXIST) throw new Error(`RTM_NEWADDR (link-local) on ifindex ${ifindex} failed: errno ${b}`);
  }

  async addIpv4(ifindex: number, address: number): Promise<void> {
    const a = Buffer.alloc(4);
    a.writeUInt32BE(address >>> 0);
    const e = await this.request(buildAddIpv4(this.seq, ifindex, a), this.seq++);
    if (e !== 0 && e !== EEXIST) throw new Error(`RTM_NEWADDR (IPv4 default router) on ifindex ${ifindex} failed: errno ${e}`);
  }

  async stop(): Promise<void> {
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.resolve(-1);
    }
    this.waiting.clear();
    this.nl?.close();
    this.nl = null;
    this.onLink = null;
  }

  /** Sends a request; resolves with the kernel's errno (0 = ok, -1 = no answer). */
  private request(msg: Buffer, seq = this.seq - 1): Promise<number> {
    return new Promise((resolve) => {
      const rc = this.nl?.send(msg) ?? 9;
      if (rc !== 0) return resolve(rc);
      const timer = setTimeout(() => {
        this.waiting.delete(seq);
        resolve(-1);
      }, REQUEST_TIMEOUT_MS);
      this.waiting.set(seq, { resolve, timer });
    });
  }

  private settle(seq: number, err: number): void {
    const w = this.waiting.get(seq);
    if (!w) return;
    this.waiting.delete(seq);
    clearTimeout(w.timer);
    w.resolve(err);
  }

  private onNetlink(d: Buffer): void {
    for (const m of parseNetlink(d)) {
      if (m.kind === 'link') this.onLink?.({ ifindex: m.ifindex, ifname: m.ifname, mac: m.mac, up: m.up, deleted: m.deleted });
      else if (m.kind === 'done') this.settle(m.seq, 0);
      else if (m.kind === 'ack') this.settle(m.seq, m.error);
    }
  }
}
