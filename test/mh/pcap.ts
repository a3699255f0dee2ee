/**
 * Minimal pcap writer for tests that hand packets to tshark: classic pcap
 * (microsecond timestamps, little-endian), raw IP link type, and builders for
 * IPv6, IPv4 and UDP headers with correct checksums. Test helper, reusable by
 * any test that needs a capture file.
 */

/** LINKTYPE_RAW: each record is a bare IPv4 or IPv6 packet. */
export const LINKTYPE_RAW = 101;
export const IPPROTO_UDP = 17;

export interface PcapRecord {
  data: Uint8Array;
  /** Seconds since 1970 (fractions become microseconds). Defaults to the record index. */
  time?: number;
}

/** A complete pcap file (global header + records). */
export function pcapFile(records: (PcapRecord | Uint8Array)[], linktype = LINKTYPE_RAW, snaplen = 65535): Buffer {
  const parts: Buffer[] = [];
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0); // magic: microsecond resolution
  gh.writeUInt16LE(2, 4); // version 2.4
  gh.writeUInt16LE(4, 6);
  gh.writeInt32LE(0, 8); // thiszone
  gh.writeUInt32LE(0, 12); // sigfigs
  gh.writeUInt32LE(snaplen, 16);
  gh.writeUInt32LE(linktype, 20);
  parts.push(gh);
  records.forEach((r, i) => {
    const rec: PcapRecord = r instanceof Uint8Array ? { data: r } : r;
    const t = rec.time ?? 1_700_000_000 + i;
    const sec = Math.floor(t);
    const usec = Math.min(999_999, Math.round((t - sec) * 1e6));
    const rh = Buffer.alloc(16);
    rh.writeUInt32LE(sec, 0);
    rh.writeUInt32LE(usec, 4);
    rh.writeUInt32LE(Math.min(rec.data.length, snaplen), 8); // captured length
    rh.writeUInt32LE(rec.data.length, 12); // original length
    parts.push(rh, Buffer.from(rec.data.subarray(0, snaplen)));
  });
  return Buffer.concat(parts);
}

/** One's complement sum of 16-bit big-endian words (odd length padded with zero). */
function sum16(b: Uint8Array, acc = 0): number {
  for (let i = 0; i + 1 < b.length; i += 2) acc += (b[i] << 8) | b[i + 1];
  if (b.length & 1) acc += b[b.length - 1] << 8;
  return acc;
}

function finish(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}

/** IPv6 packet: 40-octet header (RFC 8200 3) + payload. */
export function ipv6Packet(src: Uint8Array, dst: Uint8Array, nextHeader: number, payload: Uint8Array, hopLimit = 64): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0); // version 6, traffic class 0, flow label 0
  h.writeUInt16BE(payload.length, 4);
  h[6] = nextHeader;
  h[7] = hopLimit;
  h.set(src, 8);
  h.set(dst, 24);
  return Buffer.concat([h, payload]);
}

/** IPv4 packet: 20-octet header without options (RFC 791), header checksum filled. */
export function ipv4Packet(src: number, dst: number, protocol: number, payload: Uint8Array, ttl = 64, id = 1): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h.writeUInt16BE(id & 0xffff, 4);
  h.writeUInt16BE(0x4000, 6); // DF
  h[8] = ttl;
  h[9] = protocol;
  h.writeUInt32BE(src >>> 0, 12);
  h.writeUInt32BE(dst >>> 0, 16);
  h.writeUInt16BE(finish(sum16(h)), 10);
  return Buffer.concat([h, payload]);
}

/** UDP datagram (RFC 768) with its checksum over the IPv4 pseudo-header. */
export function udpOverIpv4(src: number, dst: number, sport: number, dport: number, payload: Uint8Array): Buffer {
  const len = 8 + payload.length;
  const u = Buffer.alloc(len);
  u.writeUInt16BE(sport, 0);
  u.writeUInt16BE(dport, 2);
  u.writeUInt16BE(len, 4);
  u.set(payload, 8);
  const pseudo = Buffer.alloc(12);
  pseudo.writeUInt32BE(src >>> 0, 0);
  pseudo.writeUInt32BE(dst >>> 0, 4);
  pseudo[9] = IPPROTO_UDP;
  pseudo.writeUInt16BE(len, 10);
  let c = finish(sum16(u, sum16(pseudo)));
  if (c === 0) c = 0xffff; // RFC 768: a computed 0 is sent as all ones
  u.writeUInt16BE(c, 6);
  return ipv4Packet(src, dst, IPPROTO_UDP, u);
}

/** UDP datagram inside IPv6 with its checksum over the IPv6 pseudo-header (RFC 8200 8.1). */
export function udpOverIpv6(src: Uint8Array, dst: Uint8Array, sport: number, dport: number, payload: Uint8Array): Buffer {
  const len = 8 + payload.length;
  const u = Buffer.alloc(len);
  u.writeUInt16BE(sport, 0);
  u.writeUInt16BE(dport, 2);
  u.writeUInt16BE(len, 4);
  u.set(payload, 8);
  const pseudo = Buffer.alloc(40);
  pseudo.set(src, 0);
  pseudo.set(dst, 16);
  pseudo.writeUInt32BE(len, 32);
  pseudo[39] = IPPROTO_UDP;
  let c = finish(sum16(u, sum16(pseudo)));
  if (c === 0) c = 0xffff;
  u.writeUInt16BE(c, 6);
  return ipv6Packet(src, dst, IPPROTO_UDP, u);
}
