// A MAG peer of the LMA binding cache (bce.ts): where its signalling comes from, its RFC 5847
// heartbeat state, and its bindings as an intrusive list through the BCEs.
import { isIPv4 } from 'node:net';
import type { MhTransport } from '../transport/types.ts';
import type { Bce } from './bce.ts';

/** A MAG peer: where its signalling comes from, its heartbeat state and its bindings. */
export class MagPeer {
  /** Bindings at this MAG: intrusive list through Bce.pPrev/pNext. */
  head: Bce | null = null;
  count = 0;
  /** RFC 5847 heartbeat state. */
  hbSeq = 0;
  hbOutstanding = false;
  missing = 0;
  unreachable = false;
  hbUnsupported = false;
  /** Peer's Restart Counter, -1 until learnt. */
  restartCounter = -1;
  /** Outstanding BRIs to this peer (RFC 5846), to attribute a Binding Error status 2. */
  brisOutstanding = 0;
  /** The Proxy-CoA is IPv4 (RFC 5844 encapsulations), decided once. */
  readonly ipv4: boolean;
  /** Last tunnel key handed out (forwarding.ts), with what it was built from. */
  private tk = '';
  private tkEncap = '';
  private tkLocal = '';
  constructor(
    /** Index key: Proxy-CoA, plus "#port" for UDP carriage. */
    readonly key: string,
    /** Proxy-CoA (IPv4-Proxy-CoA over UDP/IPv4, RFC 5844 §4.1.1). */
    readonly address: string,
    /** UDP port of the MAG, -1 when not UDP. */
    public port: number,
    /** The local address our signalling to it uses (PBA source = PBU destination). */
    public local: string,
    public carriage: string,
    public transport: MhTransport,
  ) {
    this.ipv4 = isIPv4(address);
  }

  /** "encap|LMAA|Proxy-CoA": the key of the shared tunnel to this MAG without GRE keys (RFC 5213 §5.6.1). */
  tunnelKey(encap: string): string {
    if (encap !== this.tkEncap || this.local !== this.tkLocal) {
      this.tkEncap = encap;
      this.tkLocal = this.local;
      this.tk = `${encap}|${this.local}|${this.address}`;
    }
    return this.tk;
  }
}

/** The peer under `key`, made and indexed when new; a known one takes the latest port, local address and carriage (a MAG's NAT binding or interface can change). */
export function peerAt(peers: Map<string, MagPeer>, key: string, address: string, port: number, local: string, carriage: string, t: MhTransport): MagPeer {
  let p = peers.get(key);
  if (p === undefined) {
    p = new MagPeer(key, address, port, local, carriage, t);
    peers.set(key, p);
  } else {
    p.port = port;
    p.local = local;
    p.carriage = carriage;
    p.transport = t;
  }
  return p;
}
