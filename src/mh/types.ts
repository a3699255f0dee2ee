/**
 * Mobility Header (MH) message and option types.
 *
 * Pure data: no I/O. The decoded message and option shapes the LMA/MAG state
 * machines code against; the IANA numbers, flag masks, status codes and RFC
 * timer defaults live in `constants.ts` and are re-exported from here.
 *
 * Representation choices (fast and unambiguous):
 * - IPv6 addresses and prefixes: 16-byte `Uint8Array` (the decoder returns
 *   `Buffer`s, which are `Uint8Array`s). Text helpers live in `addr.ts`.
 * - IPv4 addresses: unsigned 32-bit `number` in host order (10.0.0.1 = 0x0a000001).
 * - Flag fields: the raw field value (`number`), tested with the masks below,
 *   so reserved/unknown bits survive a decode/encode round trip.
 * - Lifetimes: the raw 16-bit field in 4-second units (RFC 6275 6.1.7).
 * - Options: an ordered array, as on the wire (HNP and Vendor-Specific may
 *   repeat). Pad1/PadN are never exposed: the encoder inserts them, the
 *   decoder drops them.
 */

export * from './constants.ts';

/* ------------------------------------------------------------------------ */
/* Mobility options (decoded form; the encoder takes the same shapes)        */
/* ------------------------------------------------------------------------ */

/** 16-octet IPv6 address or prefix. */
export type Ipv6Bytes = Uint8Array;
/** IPv4 address as an unsigned 32-bit integer (0x0a000001 = 10.0.0.1). */
export type Ipv4Num = number;

/** Binding Refresh Advice (2), RFC 6275 6.2.4. `interval` in 4-second units. */
export interface BindingRefreshAdviceOption { type: 'bindingRefreshAdvice'; interval: number }
/** Alternate Care-of Address (3), RFC 6275 6.2.5. */
export interface AltCoaOption { type: 'altCoa'; addr: Ipv6Bytes }
/** Mobile Node Identifier (8), RFC 4283 3. `id` may be empty (RFC 5213 5.3.5: zero-length identifier). */
export interface MnIdOption { type: 'mnId'; subtype: number; id: Uint8Array }
/** Vendor-Specific Mobility Option (19), RFC 5094: Vendor ID (32 bits), Sub-Type, opaque data. */
export interface VendorSpecificOption { type: 'vendorSpecific'; vendorId: number; subType: number; data: Uint8Array }
/** Service Selection (20), RFC 5149: identifier octets (UTF-8), 1..255 octets. */
export interface ServiceSelectionOption { type: 'serviceSelection'; id: Uint8Array }
/** Home Network Prefix (22), RFC 5213 8.3. All-zero prefix = "please assign". */
export interface HnpOption { type: 'hnp'; prefixLen: number; prefix: Ipv6Bytes }
/** Handoff Indicator (23), RFC 5213 8.4. */
export interface HandoffIndicatorOption { type: 'handoffIndicator'; hi: number }
/** Access Technology Type (24), RFC 5213 8.5. */
export interface AccessTechTypeOption { type: 'accessTechType'; att: number }
/** Mobile Node Link-layer Identifier (25), RFC 5213 8.6. */
export interface MnLinkLayerIdOption { type: 'mnLinkLayerId'; id: Uint8Array }
/** Link-local Address (26), RFC 5213 8.7. All-zero = "LMA, please generate". */
export interface LinkLocalAddressOption { type: 'linkLocalAddress'; addr: Ipv6Bytes }
/**
 * Timestamp (27), RFC 5213 8.8: 64-bit fixed point, high 48 bits = seconds since
 * 1970-01-01 UTC, low 16 bits = 1/65536 s. See `timestampFromMs` / `timestampToMs`.
 */
export interface TimestampOption { type: 'timestamp'; value: bigint }
/** Restart Counter (28), RFC 5847 3.4. */
export interface RestartCounterOption { type: 'restartCounter'; counter: number }
/** IPv4 Home Address (29), RFC 5555 3.1.1 (DSMIPv6; used in BRI with V=1, P=0). */
export interface Ipv4HomeAddressOption { type: 'ipv4HomeAddress'; prefixLen: number; p: boolean; addr: Ipv4Num }
/** IPv4 Address Acknowledgement (30), RFC 5555 3.2.1. */
export interface Ipv4AddressAckOption { type: 'ipv4AddressAck'; status: number; prefixLen: number; addr: Ipv4Num }
/** NAT Detection (31), RFC 5555 3.2.2. `refreshTime` in seconds (0xffffffff = no keepalives). */
export interface NatDetectionOption { type: 'natDetection'; f: boolean; refreshTime: number }
/** IPv4 Care-of Address (32), RFC 5555 3.1.2. */
export interface Ipv4CoaOption { type: 'ipv4Coa'; addr: Ipv4Num }
/** GRE Key (33), RFC 5845 6.1. `key` null = Length 2 (GRE mode only, no key field). */
export interface GreKeyOption { type: 'greKey'; key: number | null }
/** IPv4 Home Address Request (36), RFC 5844 3.3.1. addr 0 = LMA allocates. */
export interface Ipv4HoaRequestOption { type: 'ipv4HoaRequest'; prefixLen: number; addr: Ipv4Num }
/** IPv4 Home Address Reply (37), RFC 5844 3.3.2. */
export interface Ipv4HoaReplyOption { type: 'ipv4HoaReply'; status: number; prefixLen: number; addr: Ipv4Num }
/** IPv4 Default-Router Address (38), RFC 5844 3.3.3. */
export interface Ipv4DefaultRouterOption { type: 'ipv4DefaultRouter'; addr: Ipv4Num }
/** IPv4 DHCP Support Mode (39), RFC 5844 3.3.4. `server` = S flag (true: MAG is DHCP server). */
export interface Ipv4DhcpSupportModeOption { type: 'ipv4DhcpSupportMode'; server: boolean }
/** Mobile Node Group Identifier (50), RFC 6602 4.3. */
export interface MnGroupIdOption { type: 'mnGroupId'; subtype: number; groupId: number }
/** Any option this codec does not interpret (kept so it can be counted or relayed). `code` = Option Type. */
export interface UnknownOption { type: 'unknown'; code: number; data: Uint8Array }

export type MobilityOption =
  | BindingRefreshAdviceOption
  | AltCoaOption
  | MnIdOption
  | VendorSpecificOption
  | ServiceSelectionOption
  | HnpOption
  | HandoffIndicatorOption
  | AccessTechTypeOption
  | MnLinkLayerIdOption
  | LinkLocalAddressOption
  | TimestampOption
  | RestartCounterOption
  | Ipv4HomeAddressOption
  | Ipv4AddressAckOption
  | NatDetectionOption
  | Ipv4CoaOption
  | GreKeyOption
  | Ipv4HoaRequestOption
  | Ipv4HoaReplyOption
  | Ipv4DefaultRouterOption
  | Ipv4DhcpSupportModeOption
  | MnGroupIdOption
  | UnknownOption;

export type MobilityOptionType = MobilityOption['type'];
/** The option shape for a given `type` tag, e.g. `OptionOf<'hnp'>` = `HnpOption`. */
export type OptionOf<T extends MobilityOptionType> = Extract<MobilityOption, { type: T }>;

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * Binding Update (MH 5), RFC 6275 6.1.7. A Proxy Binding Update is a BU with
 * `flags & BuFlag.P` (RFC 5213 8.1). `lifetime` is the raw field, 4-second units.
 */
export interface BindingUpdate {
  type: 'bu';
  seq: number;
  flags: number;
  lifetime: number;
  options: MobilityOption[];
}

/** Binding Acknowledgement (MH 6), RFC 6275 6.1.8 / PBA RFC 5213 8.2. `flags` is the octet at offset 7. */
export interface BindingAck {
  type: 'ba';
  status: number;
  flags: number;
  seq: number;
  lifetime: number;
  options: MobilityOption[];
}

/** Binding Error (MH 7), RFC 6275 6.1.9. */
export interface BindingError {
  type: 'be';
  status: number;
  homeAddress: Ipv6Bytes;
  options: MobilityOption[];
}

/** Heartbeat (MH 13), RFC 5847 3.3. `flags` is the 16-bit word at offset 6 (U, R). */
export interface Heartbeat {
  type: 'heartbeat';
  flags: number;
  seq: number; // 32-bit
  options: MobilityOption[];
}

/** Binding Revocation Indication (MH 16, B.R. Type 1), RFC 5846 5.1. `flags` = octet 10 (P, V, G). */
export interface BindingRevocationIndication {
  type: 'bri';
  trigger: number;
  seq: number;
  flags: number;
  options: MobilityOption[];
}

/** Binding Revocation Acknowledgement (MH 16, B.R. Type 2), RFC 5846 5.2. `flags` = octet 10 (P, V, G). */
export interface BindingRevocationAck {
  type: 'bra';
  status: number;
  seq: number;
  flags: number;
  options: MobilityOption[];
}

/**
 * A syntactically valid MH whose MH Type this codec does not handle. Not an
 * error: RFC 6275 9.2 says to answer it with a Binding Error, status 2.
 * `data` is everything after the Checksum field (MH offset 6 to the end).
 */
export interface UnknownMh {
  type: 'unknown';
  mhType: number;
  data: Uint8Array;
}

export type MhMessage =
  | BindingUpdate
  | BindingAck
  | BindingError
  | Heartbeat
  | BindingRevocationIndication
  | BindingRevocationAck
  | UnknownMh;

export type MhMessageType = MhMessage['type'];
export type MessageOf<T extends MhMessageType> = Extract<MhMessage, { type: T }>;
/** Messages that carry mobility options. */
export type MhMessageWithOptions = Exclude<MhMessage, UnknownMh>;

/* ------------------------------------------------------------------------ */
/* Codec results                                                             */
/* ------------------------------------------------------------------------ */

/**
 * Why a received MH was dropped, one code per cause so receivers can count them.
 * - truncated: fewer octets than the common header or than Header Len announces
 * - bad-payload-proto: Payload Proto != 59 (RFC 6275 9.2: ICMP Param Problem, pointer 0)
 * - bad-header-len: Header Len disagrees with the datagram length, or is smaller than
 *   the type's fixed part (RFC 6275 9.2: ICMP Param Problem, pointer 1)
 * - bad-checksum: checksum verification requested and failed (drop silently)
 * - bad-option-length: a known option with a Length its RFC does not allow
 * - bad-option-value: a known option, Length right, with a field value that cannot
 *   mean anything: a Prefix Length over 128 in a Home Network Prefix option (RFC 5213
 *   8.3), over 32 in an IPv4 Home Address, Address Acknowledgement (RFC 5555 3.1) or
 *   HoA Request / Reply option (RFC 5844 3.3). The encoder refuses the same values, so
 *   whatever decodes can be echoed. The offset points at the field. (Values that are
 *   merely unassigned, e.g. a Handoff Indicator of 200, decode: the receiver decides.)
 * - option-overrun: an option TLV runs past the end of the MH
 * - bad-br-type: MH 16 with a Binding Revocation Type other than 1 (BRI) or 2 (BRA)
 */
export type DecodeErrorCode =
  | 'truncated'
  | 'bad-payload-proto'
  | 'bad-header-len'
  | 'bad-checksum'
  | 'bad-option-length'
  | 'bad-option-value'
  | 'option-overrun'
  | 'bad-br-type';

export interface DecodeError {
  code: DecodeErrorCode;
  reason: string;
  /** Octet offset from the MH start of the offending field (for an ICMP pointer or a log). */
  offset?: number;
}

export type DecodeResult = { ok: true; msg: MhMessage } | { ok: false; error: DecodeError };

export interface DecodeOptions {
  /**
   * IPv6 source and destination of the packet carrying the MH. When both are
   * given, the checksum is verified (RFC 6275 6.1.1). Omit them for MH over
   * IPv4/UDP (RFC 5844 4: the MH checksum is 0 and MUST be ignored) or when the
   * kernel already verified it (raw socket with IPV6_CHECKSUM). Addresses
   * that are not 16 bytes are a programming error (TypeError), not a packet error.
   */
  src?: Ipv6Bytes;
  dst?: Ipv6Bytes;
  /**
   * Default false: byte fields (addresses, identifiers, data) are fresh copies.
   * true: they are views into the input buffer (faster; only if the caller never
   * reuses or mutates that buffer while the message is alive).
   */
  zeroCopy?: boolean;
}

export interface EncodeOptions {
  /**
   * IPv6 source and destination for the checksum pseudo-header. When both are
   * given the checksum is filled in; otherwise it is left 0 (MH over IPv4/UDP,
   * RFC 5844 4; or a raw socket with IPV6_CHECKSUM = 4 where the kernel fills it).
   */
  src?: Ipv6Bytes;
  dst?: Ipv6Bytes;
}
