// One MhTransport over two: raw IPv6 for IPv6 peers and IPv4/UDP for IPv4 peers, chosen
// by the destination's address family (RFC 5844 §4: a MAG signals over IPv6 when it has an
// IPv6 Proxy-CoA and the LMA an IPv6 address, over IPv4/UDP otherwise; MH over UDP over
// IPv6 is not used). Used by the MAG, which sends to whatever LMA each MN's profile names.
import { isIPv4, isIPv6 } from 'node:net';
import type { MhTransport, Peer, ReceivedMh } from './types.ts';

export class FamilyTransport implements MhTransport {
  private errorHandler: ((e: Error) => void) | undefined;

  /** `ip6`: raw IPv6 (or null: no IPv6 Proxy-CoA); `udp4`: IPv4/UDP (or null: no IPv4 Proxy-CoA). */
  constructor(
    readonly ip6: MhTransport | null,
    readonly udp4: MhTransport | null,
  ) {
    if (!ip6 && !udp4) throw new TypeError('FamilyTransport needs at least one transport');
  }

  /** The transport for a peer address: IPv6 (not IPv4-mapped) -> raw IPv6, anything else -> UDP. */
  forAddress(address: string): MhTransport | null {
    return isIpv6Peer(address) ? this.ip6 : this.udp4;
  }

  send(data: Buffer, to: Peer, from?: string): void {
    const t = this.forAddress(to.address);
    if (t) {
      t.send(data, to, from);
      return;
    }
    const family = isIpv6Peer(to.address) ? 'IPv6' : 'IPv4';
    const e = Object.assign(new Error(`no ${family} Proxy-CoA to signal to ${to.address} from (RFC 5844 §4: IPv6 peers over raw IPv6, IPv4 peers over IPv4/UDP)`), { code: 'ENOTRANSPORT', address: to.address });
    this.errorHandler?.(e);
  }

  onReceive(handler: (m: ReceivedMh) => void): void {
    this.ip6?.onReceive(handler);
    this.udp4?.onReceive(handler);
  }

  onError(handler: (e: Error) => void): void {
    this.errorHandler = handler;
    this.ip6?.onError?.(handler);
    this.udp4?.onError?.(handler);
  }

  parameterProblem(m: ReceivedMh, pointer: number): void {
    if (m.carriage === 'ip6') this.ip6?.parameterProblem?.(m, pointer);
  }

  localAddress(): Peer {
    return (this.ip6 ?? this.udp4)!.localAddress();
  }

  async close(): Promise<void> {
    await Promise.all([this.ip6?.close(), this.udp4?.close()]);
  }
}

/** True for an IPv6 address that is not IPv4-mapped. */
export function isIpv6Peer(address: string): boolean {
  return isIPv6(address) && !(address.toLowerCase().startsWith('::ffff:') && isIPv4(address.slice(7)));
}
