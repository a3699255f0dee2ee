// An AccessIo for unit tests: link events and frames are injected, sent frames recorded and
// decoded. Plus builders for what an MN sends (RFC 4861 RS/NA/DAD NS, RFC 3810 MLDv2 report).
import type { AccessIo, AccessPort, LinkEvent } from '../../src/attach/config.ts';
import { Icmp6Type, frame, macFromString, parseAccessFrame, type AccessPacket } from '../../src/attach/icmp6.ts';
import { parseIpv6 } from '../../src/mh/addr.ts';

export class FakeIo implements AccessIo {
  onLink: ((l: LinkEvent) => void) | null = null;
  readonly ports = new Map<number, { onFrame: (f: Buffer, t: number) => void; sent: Buffer[]; closed: boolean }>();
  readonly configured: number[] = [];
  failOpen = false;

  async start(onLink: (l: LinkEvent) => void): Promise<void> {
    this.onLink = onLink;
  }

  open(ifindex: number, onFrame: (f: Buffer, t: number) => void): AccessPort {
    if (this.failOpen) throw new Error('socket(AF_PACKET): EPERM');
    const p = { onFrame, sent: [] as Buffer[], closed: false };
    this.ports.set(ifindex, p);
    return { send: (f) => (p.sent.push(Buffer.from(f)), 0), close: () => void (p.closed = true) };
  }

  async configure(ifindex: number): Promise<void> {
    this.configured.push(ifindex);
  }

  async stop(): Promise<void> {
    this.onLink = null;
  }

  link(ifindex: number, ifname: string, up: boolean, deleted = false): void {
    this.onLink!({ ifindex, ifname, mac: null, up, deleted });
  }

  rx(ifindex: number, f: Buffer, pkttype = 0): void {
    this.ports.get(ifindex)!.onFrame(f, pkttype);
  }

  /** Decoded frames sent on ifindex, and forgets them. */
  take(ifindex: number): AccessPacket[] {
    const p = this.ports.get(ifindex);
    if (!p) return [];
    return p.sent.splice(0).map((f) => {
      const r = parseAccessFrame(f);
      if (!r.ok) throw new Error(`the detector sent an undecodable frame: ${r.error}`);
      return r.packet;
    });
  }
}

const ALL_ROUTERS = parseIpv6('ff02::2');
const MLDV2_ROUTERS = parseIpv6('ff02::16');

export function linkLocalOf(mac: string): Buffer {
  const m = macFromString(mac);
  const a = Buffer.alloc(16);
  a[0] = 0xfe;
  a[1] = 0x80;
  a.set([m[0] ^ 2, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]], 8);
  return a;
}

export function mldReport(mac: string, src: Buffer = Buffer.alloc(16)): Buffer {
  const icmp = Buffer.alloc(8);
  icmp[0] = Icmp6Type.MLDV2_REPORT;
  return frame({ dstMac: Buffer.from('333300000016', 'hex'), srcMac: macFromString(mac), src, dst: MLDV2_ROUTERS, hopLimit: 1, icmp, hopByHop: Uint8Array.from([58, 0, 5, 2, 0, 0, 1, 0]) });
}

export function routerSolicitation(mac: string, src: Buffer = linkLocalOf(mac)): Buffer {
  const icmp = Buffer.alloc(8);
  icmp[0] = Icmp6Type.ROUTER_SOLICITATION;
  return frame({ dstMac: Buffer.from('333300000002', 'hex'), srcMac: macFromString(mac), src, dst: ALL_ROUTERS, hopLimit: 255, icmp });
}

export function neighborAdvertisement(mac: string): Buffer {
  const icmp = Buffer.alloc(24);
  icmp[0] = Icmp6Type.NEIGHBOR_ADVERTISEMENT;
  icmp[4] = 0x60; // S, O
  linkLocalOf(mac).copy(icmp, 8);
  return frame({ dstMac: Buffer.from('00005e005213', 'hex'), srcMac: macFromString(mac), src: linkLocalOf(mac), dst: parseIpv6('fe80::200:5eff:fe00:5213'), hopLimit: 255, icmp });
}

export function dadNs(mac: string): Buffer {
  const icmp = Buffer.alloc(24);
  icmp[0] = Icmp6Type.NEIGHBOR_SOLICITATION;
  const t = linkLocalOf(mac);
  t.copy(icmp, 8);
  const dst = Buffer.from('ff0200000000000000000001ff000000', 'hex');
  dst[13] = t[13];
  dst[14] = t[14];
  dst[15] = t[15];
  return frame({ dstMac: Buffer.from([0x33, 0x33, 0xff, t[13], t[14], t[15]]), srcMac: macFromString(mac), src: Buffer.alloc(16), dst, hopLimit: 255, icmp });
}
