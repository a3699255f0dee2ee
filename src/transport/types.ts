// How Mobility Header messages move between MAG and LMA, behind one interface:
// IPv4/UDP port 5436 (RFC 5844 §4), raw IPv6 protocol 135 (RFC 6275), or an in-memory
// pair for unit tests. A transport carries encoded MH octets; encoding and decoding
// happen in the role's `path` layer, never in the transport.

/** A signalling peer: the IP address (IPv6 or IPv4 text) and, for UDP, the port. */
export interface Peer {
  address: string;
  /** UDP port (RFC 5844 §4: 5436, or the PBU's source port for the PBA). Absent for raw IPv6. */
  port?: number;
}

export interface ReceivedMh {
  /** The Mobility Header octets (from Payload Proto to the end). */
  data: Buffer;
  /** Who sent it (source address and port). */
  from: Peer;
  /** The local address it arrived on (destination of the packet), when known. */
  local?: string;
  /** 'udp4' for RFC 5844 IPv4/UDP carriage (MH checksum is 0 and ignored), 'ip6' for raw IPv6. */
  carriage: 'udp4' | 'udp6' | 'ip6' | 'memory';
  /** Raw IPv6: the interface index the packet arrived on (IPV6_PKTINFO). */
  ifindex?: number;
  /** Raw IPv6: the packet's hop limit (IPV6_HOPLIMIT). */
  hopLimit?: number;
  /**
   * How long the datagram waited in the socket's receive buffer before this handler ran, ms:
   * the kernel's receive stamp (SO_TIMESTAMPNS) against the time of delivery. Absent when the
   * transport has no stamp (node:dgram, memory): the message is taken as received now.
   */
  queuedMs?: number;
}

/**
 * `queuedMs` from a kernel receive time and the wall clock at delivery (both ms since 1970):
 * undefined without a stamp, never negative (the wall clock may step back).
 */
export function queuedSince(rxTime: number | undefined, wallNow: number): number | undefined {
  if (rxTime === undefined || !(rxTime > 0)) return undefined;
  const q = wallNow - rxTime;
  return q > 0 ? q : 0;
}

/** Writes one datagram at `buf[off..]` and returns its length (MhTransport.sendInto). */
export type MhWriter<T> = (arg: T, buf: Uint8Array, off: number) => number;

export interface MhTransport {
  /** Sends one encoded MH to a peer. Errors are reported through onError, never thrown. */
  send(data: Buffer, to: Peer, from?: string): void;
  /**
   * Like send, with the datagram written in place into the transport's outgoing buffer: the
   * transport calls `write(arg, buf, off)`, which writes at `buf[off..]` (at least
   * MH_MAX_LENGTH octets of room) and returns the length; no Buffer per message. What `write`
   * throws comes out of here, and nothing is sent then; anything else goes to onError. Optional
   * (the caller falls back to send).
   */
  sendInto?<T>(write: MhWriter<T>, arg: T, to: Peer, from?: string): void;
  /** One handler; called for every datagram received. */
  onReceive(handler: (m: ReceivedMh) => void): void;
  onError?(handler: (e: Error) => void): void;
  /**
   * RFC 6275 §9.2: answer a received MH whose Payload Proto or Header Len is wrong with an
   * ICMPv6 Parameter Problem pointing `pointer` octets into the MH. Only raw IPv6 has it.
   */
  parameterProblem?(m: ReceivedMh, pointer: number): void;
  /** The bound local address/port (tests bind port 0). */
  localAddress(): Peer;
  close(): Promise<void>;
}
