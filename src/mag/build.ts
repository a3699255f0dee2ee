// Building the MAG's messages from its state (pure: no clock, no I/O).
// PBU: RFC 5213 §6.9.1.1 (initial), §6.9.1.3 (re-registration), §6.9.1.4 (de-registration),
// §6.9.1.5 (format); RFC 5844 §3.2.3 (IPv4 HoA Request); RFC 5845 §5.1 (GRE Key).
// Heartbeat: RFC 5847 §3.3. BRA: RFC 5846 §6.1.2. Binding Error: RFC 6275 §6.1.9.
import {
  BeStatus,
  BuFlag,
  HeartbeatFlag,
  mnIdFromNai,
  parseIpv4,
  parseIpv6,
  parsePrefix,
} from '../mh/index.ts';
import type {
  BindingError,
  BindingRevocationAck,
  BindingRevocationIndication,
  BindingUpdate,
  Heartbeat,
  MobilityOption,
} from '../mh/index.ts';

const ALL_ZERO_16 = new Uint8Array(16);

export interface PbuInput {
  seq: number;
  /** Flags word (see pbuFlags). */
  flags: number;
  /** Raw Lifetime field, 4-second units; 0 = de-registration. */
  lifetime: number;
  mnId: string;
  /**
   * HNPs to carry (RFC 5213 §6.9.1.1 item 3): null = no HNP option (IPv4-only session,
   * RFC 5844 §3.2.3.1); [] = one ALL_ZERO option ("LMA, please assign"); else one option each.
   */
  hnps: string[] | null;
  hi: number;
  att: number;
  /** Timestamp option value (RFC 5213 §8.8), or null in sequence-number mode (RFC 5213 §5.5). */
  timestamp: bigint | null;
  /** MN-LL-ID (colon hex); absent when unknown or ALL_ZERO (§6.9.1.1 item 7). */
  mnLinkLayerId: string | null;
  /** Link-local Address option (§6.9.1.1 item 9): null = absent; "::" asks the LMA for one. */
  linkLocal: string | null;
  /** IPv4 HoA Request (RFC 5844 §3.3.1): null = absent; addr null = 0.0.0.0 (dynamic). */
  ipv4: { addr: string | null; prefixLen: number } | null;
  /** GRE Key option (RFC 5845 §6.1): undefined = absent; a number = the downlink key. */
  greKey?: number;
}

/** Flags of every PBU: A and P (RFC 5213 §6.9.1.5), H and F only when configured. */
export function pbuFlags(opts: { homeRegistration: boolean; forceUdp: boolean }): number {
  let f = BuFlag.A | BuFlag.P;
  if (opts.homeRegistration) f |= BuFlag.H;
  if (opts.forceUdp) f |= BuFlag.F;
  return f;
}

export function buildPbu(i: PbuInput): BindingUpdate {
  // Order: MN-ID first (no alignment), then HNPs (8n+4) which then need no padding, as in
  // the RFC 5213 §6.9.1.5 figure; the codec inserts Pad1/PadN for the others.
  const options: MobilityOption[] = [mnIdFromNai(i.mnId)];
  if (i.hnps) {
    if (i.hnps.length === 0) options.push({ type: 'hnp', prefixLen: 0, prefix: ALL_ZERO_16 });
    for (const h of i.hnps) {
      const p = parsePrefix(h);
      options.push({ type: 'hnp', prefixLen: p.prefixLen, prefix: p.prefix });
    }
  }
  options.push({ type: 'handoffIndicator', hi: i.hi });
  options.push({ type: 'accessTechType', att: i.att });
  if (i.timestamp !== null) options.push({ type: 'timestamp', value: i.timestamp });
  const ll = i.mnLinkLayerId ? linkLayerIdBytes(i.mnLinkLayerId) : null;
  if (ll) options.push({ type: 'mnLinkLayerId', id: ll });
  if (i.linkLocal !== null) options.push({ type: 'linkLocalAddress', addr: parseIpv6(i.linkLocal) });
  if (i.ipv4) {
    const addr = i.ipv4.addr ? parseIpv4(i.ipv4.addr) : 0;
    options.push({ type: 'ipv4HoaRequest', prefixLen: addr === 0 ? 0 : i.ipv4.prefixLen, addr });
  }
  if (i.greKey !== undefined) options.push({ type: 'greKey', key: i.greKey >>> 0 });
  return { type: 'bu', seq: i.seq & 0xffff, flags: i.flags, lifetime: i.lifetime, options };
}

/**
 * Link-layer identifier octets from "02:00:5e:00:00:01" (or "0200.5e00.0001", "02005e000001").
 * Null when empty, malformed or ALL_ZERO (RFC 5213 §6.9.1.1 item 7: then the option MUST NOT be sent).
 */
export function linkLayerIdBytes(text: string): Uint8Array | null {
  // Hand-rolled (no regex, no intermediate string): this runs for every PBU and PBA.
  const out = new Uint8Array(text.length >> 1);
  let n = 0;
  let hi = -1;
  let nonZero = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 58 || c === 46 || c === 45) continue; // ':' '.' '-'
    const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (v < 0) return null;
    if (hi < 0) hi = v;
    else {
      const byte = (hi << 4) | v;
      if (byte !== 0) nonZero = true;
      out[n++] = byte;
      hi = -1;
    }
  }
  if (hi >= 0 || n === 0 || n > 250 || !nonZero) return null;
  return out.subarray(0, n);
}

/** Colon-hex text of link-layer identifier octets (the form the BUL and events use). */
export function linkLayerIdText(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (i ? ':' : '') + b[i].toString(16).padStart(2, '0');
  return s;
}

/** Heartbeat request (R=0) or response (R=1) with our Restart Counter (RFC 5847 §3.3, §3.4). */
export function buildHeartbeat(seq: number, response: boolean, restartCounter?: number): Heartbeat {
  const options: MobilityOption[] = [];
  // RFC 5847 §3.4: the Restart Counter is only valid in responses.
  if (response && restartCounter !== undefined) options.push({ type: 'restartCounter', counter: restartCounter >>> 0 });
  return { type: 'heartbeat', flags: response ? HeartbeatFlag.R : 0, seq: seq >>> 0, options };
}

/**
 * BRA answering a BRI (RFC 5846 §6.1.2): sequence copied, P/V/G copied, status; options
 * (MN-ID, HNPs) identify the bindings when useful (§5.2, §9.1 "partial success").
 */
export function buildBra(bri: BindingRevocationIndication, status: number, options: MobilityOption[] = []): BindingRevocationAck {
  return { type: 'bra', status, seq: bri.seq, flags: bri.flags & 0xe0, options };
}

/** Binding Error status 2 for an unrecognized MH type (RFC 6275 §9.2). */
export function buildUnknownTypeError(): BindingError {
  return { type: 'be', status: BeStatus.UNRECOGNIZED_MH_TYPE, homeAddress: new Uint8Array(16), options: [] };
}
