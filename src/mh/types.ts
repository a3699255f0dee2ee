/**
 * Mobility Header (MH) types and protocol constants.
 *
 * Pure data: no I/O. Everything the LMA/MAG state machines code against:
 * decoded message and option shapes, IANA numbers, flag masks, status codes
 * and the RFC timer defaults.
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

/* ------------------------------------------------------------------------ */
/* Carriage                                                                  */
/* ------------------------------------------------------------------------ */

/** IPv6 Next Header / IP protocol number of the Mobility Header (RFC 6275 6.1.1). */
export const IPPROTO_MH = 135;
/** IPPROTO_NONE: the Payload Proto value senders SHOULD use (RFC 6275 6.1.1). */
export const IPPROTO_NONE = 59;
/** UDP port for MH over IPv4 (RFC 5844 4, IANA "pmip6-cntl"). */
export const PMIP6_CNTL_UDP_PORT = 5436;
/** UDP port for IPv4-UDP data encapsulation (IANA "pmip6-data"). */
export const PMIP6_DATA_UDP_PORT = 5437;
/** Largest possible MH: Header Len is 8 bits, total = (255 + 1) * 8 octets. */
export const MH_MAX_LENGTH = 2048;

/* ------------------------------------------------------------------------ */
/* MH Types (IANA "Mobility Header Types", RFC 6275 6.1.2 onward)            */
/* ------------------------------------------------------------------------ */

export const MhType = {
  BINDING_REFRESH_REQUEST: 0,
  HOME_TEST_INIT: 1,
  CARE_OF_TEST_INIT: 2,
  HOME_TEST: 3,
  CARE_OF_TEST: 4,
  BINDING_UPDATE: 5,
  BINDING_ACK: 6,
  BINDING_ERROR: 7,
  FAST_BINDING_UPDATE: 8,
  FAST_BINDING_ACK: 9,
  FAST_NEIGHBOR_ADVERTISEMENT: 10, // deprecated
  EXPERIMENTAL: 11,
  HOME_AGENT_SWITCH: 12,
  HEARTBEAT: 13, // RFC 5847
  HANDOVER_INITIATE: 14, // RFC 5568
  HANDOVER_ACK: 15, // RFC 5568
  BINDING_REVOCATION: 16, // RFC 5846
  LOCALIZED_ROUTING_INITIATION: 17, // RFC 6705
  LOCALIZED_ROUTING_ACK: 18, // RFC 6705
  UPDATE_NOTIFICATION: 19, // RFC 7077
  UPDATE_NOTIFICATION_ACK: 20, // RFC 7077
  FLOW_BINDING: 21, // RFC 7109
  SUBSCRIPTION_QUERY: 22, // RFC 7161
  SUBSCRIPTION_RESPONSE: 23, // RFC 7161
} as const;
/** Short aliases for the types this codec decodes. */
export const MH_BU = 5;
export const MH_BA = 6;
export const MH_BE = 7;
export const MH_HEARTBEAT = 13;
export const MH_BINDING_REVOCATION = 16;

/** Fixed part of each decoded message type, in octets from the MH start. */
export const MH_FIXED_LENGTH = {
  [MH_BU]: 12, // RFC 6275 6.1.7
  [MH_BA]: 12, // RFC 6275 6.1.8
  [MH_BE]: 24, // RFC 6275 6.1.9
  [MH_HEARTBEAT]: 12, // RFC 5847 3.3
  [MH_BINDING_REVOCATION]: 12, // RFC 5846 5.1 / 5.2
} as const;

/* ------------------------------------------------------------------------ */
/* Mobility option types (IANA "Mobility Options", RFC 6275 6.2)             */
/* ------------------------------------------------------------------------ */

export const OptType = {
  PAD1: 0,
  PADN: 1,
  BINDING_REFRESH_ADVICE: 2,
  ALTERNATE_COA: 3,
  NONCE_INDICES: 4,
  BINDING_AUTHORIZATION_DATA: 5,
  MOBILE_NETWORK_PREFIX: 6, // RFC 3963
  MH_LINK_LAYER_ADDRESS: 7, // RFC 5568
  MN_ID: 8, // RFC 4283
  AUTH: 9, // RFC 4285
  MESG_ID: 10, // RFC 4285
  CGA_PARAMETERS_REQUEST: 11, // RFC 4866
  CGA_PARAMETERS: 12,
  SIGNATURE: 13,
  PERMANENT_HOME_KEYGEN_TOKEN: 14,
  CARE_OF_TEST_INIT: 15,
  CARE_OF_TEST: 16,
  DNS_UPDATE_TYPE: 17, // RFC 5026
  EXPERIMENTAL: 18, // RFC 5096
  VENDOR_SPECIFIC: 19, // RFC 5094
  SERVICE_SELECTION: 20, // RFC 5149
  BADF: 21, // RFC 5568
  HOME_NETWORK_PREFIX: 22, // RFC 5213 8.3
  HANDOFF_INDICATOR: 23, // RFC 5213 8.4
  ACCESS_TECHNOLOGY_TYPE: 24, // RFC 5213 8.5
  MN_LINK_LAYER_ID: 25, // RFC 5213 8.6
  LINK_LOCAL_ADDRESS: 26, // RFC 5213 8.7
  TIMESTAMP: 27, // RFC 5213 8.8
  RESTART_COUNTER: 28, // RFC 5847 3.4
  IPV4_HOME_ADDRESS: 29, // RFC 5555 3.1.1
  IPV4_ADDRESS_ACK: 30, // RFC 5555 3.2.1
  NAT_DETECTION: 31, // RFC 5555 3.2.2
  IPV4_COA: 32, // RFC 5555 3.1.2
  GRE_KEY: 33, // RFC 5845 6.1
  MH_IPV6_ADDRESS_PREFIX: 34, // RFC 5568
  BINDING_IDENTIFIER: 35, // RFC 5648
  IPV4_HOA_REQUEST: 36, // RFC 5844 3.3.1
  IPV4_HOA_REPLY: 37, // RFC 5844 3.3.2
  IPV4_DEFAULT_ROUTER: 38, // RFC 5844 3.3.3
  IPV4_DHCP_SUPPORT_MODE: 39, // RFC 5844 3.3.4
  CONTEXT_REQUEST: 40, // RFC 5949
  LOCAL_MOBILITY_ANCHOR_ADDRESS: 41, // RFC 5949
  MN_LINK_LOCAL_ADDRESS_IID: 42, // RFC 5949
  TRANSIENT_BINDING: 43, // RFC 6058
  FLOW_SUMMARY: 44, // RFC 6089
  FLOW_IDENTIFICATION: 45, // RFC 6089
  REDIRECT_CAPABILITY: 46, // RFC 6463
  REDIRECT: 47, // RFC 6463
  LOAD_INFORMATION: 48, // RFC 6463
  ALTERNATE_IPV4_COA: 49, // RFC 6463
  MN_GROUP_ID: 50, // RFC 6602 4.3
  MAG_IPV6_ADDRESS: 51, // RFC 6705
  ACCESS_NETWORK_IDENTIFIER: 52, // RFC 6757
} as const;

/* ------------------------------------------------------------------------ */
/* Flags                                                                     */
/* ------------------------------------------------------------------------ */

/** BU/PBU flags: masks in the 16-bit word at MH offset 8 (RFC 6275 6.1.7, 5213 8.1, ...). */
export const BuFlag = {
  A: 0x8000, // Acknowledge (PBU: MUST be 1)
  H: 0x4000, // Home registration
  L: 0x2000, // Link-local address compatibility
  K: 0x1000, // Key management mobility capability
  M: 0x0800, // MAP registration (RFC 4140)
  R: 0x0400, // Mobile router (RFC 3963)
  P: 0x0200, // Proxy registration (RFC 5213 8.1; PBU: MUST be 1)
  F: 0x0100, // Force UDP encapsulation (RFC 5555 3.1.3)
  T: 0x0080, // TLV-header format (RFC 5845 6.2)
  B: 0x0040, // Bulk binding update (RFC 6602 4.1)
  S: 0x0020, // RFC 7161 (IANA)
  D: 0x0010, // RFC 8885 (IANA)
} as const;

/** BA/PBA flags: masks in the octet at MH offset 7 (RFC 6275 6.1.8, 5213 8.2, ...). */
export const BaFlag = {
  K: 0x80,
  R: 0x40, // RFC 3963
  P: 0x20, // RFC 5213 8.2: only if the PBU had P=1
  T: 0x10, // RFC 5845 6.3
  B: 0x08, // RFC 6602 4.2
  S: 0x04, // RFC 7161 (IANA)
  D: 0x02, // RFC 8885 (IANA)
} as const;

/** Heartbeat flags: masks in the 16-bit word at MH offset 6 (RFC 5847 3.3). */
export const HeartbeatFlag = {
  U: 0x0002, // unsolicited response
  R: 0x0001, // 0 = request, 1 = response
} as const;

/** BRI/BRA flags: masks in the octet at MH offset 10 (RFC 5846 5.1, 5.2). Octet 11 is reserved. */
export const BrFlag = {
  P: 0x80, // proxy (PMIPv6) binding
  V: 0x40, // IPv4 HoA binding only
  G: 0x20, // global
} as const;

/* ------------------------------------------------------------------------ */
/* Status codes and enumerations                                             */
/* ------------------------------------------------------------------------ */

/** BA status (IANA "Status Codes"; RFC 6275 6.1.8, 5213 8.9, 5844 3.3.5, 5845 6.4, ...). <128 accepted. */
export const BaStatus = {
  ACCEPTED: 0, // "Binding Update accepted" / "Proxy Binding Update accepted"
  ACCEPTED_PREFIX_DISCOVERY_NECESSARY: 1,
  GRE_KEY_OPTION_NOT_REQUIRED: 2, // RFC 5845
  GRE_TUNNELING_BUT_TLV_HEADER_NOT_SUPPORTED: 3, // RFC 5845
  MCOA_NOTCOMPLETE: 4, // RFC 5648
  MCOA_RETURNHOME_WO_NDP: 5, // RFC 5648
  PBU_ACCEPTED_TB_IGNORED_SETTINGSMISMATCH: 6, // RFC 6058
  REASON_UNSPECIFIED: 128,
  ADMINISTRATIVELY_PROHIBITED: 129,
  INSUFFICIENT_RESOURCES: 130,
  HOME_REGISTRATION_NOT_SUPPORTED: 131,
  NOT_HOME_SUBNET: 132,
  NOT_HOME_AGENT_FOR_THIS_MOBILE_NODE: 133,
  DUPLICATE_ADDRESS_DETECTION_FAILED: 134,
  SEQUENCE_NUMBER_OUT_OF_WINDOW: 135,
  EXPIRED_HOME_NONCE_INDEX: 136,
  EXPIRED_CARE_OF_NONCE_INDEX: 137,
  EXPIRED_NONCES: 138,
  REGISTRATION_TYPE_CHANGE_DISALLOWED: 139,
  MOBILE_ROUTER_OPERATION_NOT_PERMITTED: 140, // RFC 3963
  INVALID_PREFIX: 141, // RFC 3963
  NOT_AUTHORIZED_FOR_PREFIX: 142, // RFC 3963
  FORWARDING_SETUP_FAILED: 143, // RFC 3963
  MIPV6_ID_MISMATCH: 144, // RFC 4285
  MIPV6_MESG_ID_REQD: 145, // RFC 4285
  MIPV6_AUTH_FAIL: 146, // RFC 4285
  PERMANENT_HOME_KEYGEN_TOKEN_UNAVAILABLE: 147, // RFC 4866
  CGA_AND_SIGNATURE_VERIFICATION_FAILED: 148, // RFC 4866
  PERMANENT_HOME_KEYGEN_TOKEN_EXISTS: 149, // RFC 4866
  NON_NULL_HOME_NONCE_INDEX_EXPECTED: 150, // RFC 4866
  SERVICE_AUTHORIZATION_FAILED: 151, // RFC 5149
  PROXY_REG_NOT_ENABLED: 152, // RFC 5213
  NOT_LMA_FOR_THIS_MOBILE_NODE: 153,
  MAG_NOT_AUTHORIZED_FOR_PROXY_REG: 154,
  NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX: 155,
  TIMESTAMP_MISMATCH: 156,
  TIMESTAMP_LOWER_THAN_PREV_ACCEPTED: 157,
  MISSING_HOME_NETWORK_PREFIX_OPTION: 158,
  BCE_PBU_PREFIX_SET_DO_NOT_MATCH: 159,
  MISSING_MN_IDENTIFIER_OPTION: 160,
  MISSING_HANDOFF_INDICATOR_OPTION: 161,
  MISSING_ACCESS_TECH_TYPE_OPTION: 162,
  GRE_KEY_OPTION_REQUIRED: 163, // RFC 5845
  MCOA_MALFORMED: 164, // RFC 5648
  MCOA_NON_MCOA_BINDING_EXISTS: 165,
  MCOA_PROHIBITED: 166,
  MCOA_UNKNOWN_COA: 167,
  MCOA_BULK_REGISTRATION_PROHIBITED: 168,
  MCOA_SIMULTANEOUS_HOME_AND_FOREIGN_PROHIBITED: 169,
  NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE: 170, // RFC 5844
  NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS: 171,
  NOT_AUTHORIZED_FOR_IPV6_MOBILITY_SERVICE: 172,
  MULTIPLE_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_SUPPORTED: 173,
  INVALID_CARE_OF_ADDRESS: 174, // RFC 6275
  INVALID_MOBILE_NODE_GROUP_IDENTIFIER: 175, // RFC 6602
  REINIT_SA_WITH_HAC: 176, // RFC 6618
  NOT_AUTHORIZED_FOR_DELEGATED_MNP: 177, // RFC 7148
  REQUESTED_DMNP_IN_USE: 178, // RFC 7148
  CANNOT_MEET_QOS_SERVICE_REQUEST: 179, // RFC 7222
  CANNOT_SUPPORT_MULTIPATH_BINDING: 180, // RFC 8278
} as const;

/** Status < 128 means accepted (RFC 6275 6.1.8; 128 itself is a rejection). */
export function isAccepted(status: number): boolean {
  return status < 128;
}

/** Binding Error status (RFC 6275 6.1.9). */
export const BeStatus = {
  UNKNOWN_BINDING_FOR_HOME_ADDRESS_DEST_OPTION: 1,
  UNRECOGNIZED_MH_TYPE: 2,
} as const;

/** Handoff Indicator values (RFC 5213 8.4; 6 from RFC 7864). */
export const HandoffIndicator = {
  RESERVED: 0,
  NEW_INTERFACE: 1, // Attachment over a new interface
  HANDOFF_BETWEEN_INTERFACES: 2, // Handoff between two different interfaces of the MN
  HANDOFF_BETWEEN_MAGS: 3, // Handoff between MAGs for the same interface
  UNKNOWN: 4, // Handoff state unknown (also used in de-registrations)
  NOT_CHANGED: 5, // Handoff state not changed (re-registration)
  NEW_INTERFACE_SHARING_PREFIXES: 6, // RFC 7864
} as const;

/** Access Technology Type values (RFC 5213 8.5 and IANA). */
export const AccessTechType = {
  RESERVED: 0,
  VIRTUAL: 1,
  PPP: 2,
  IEEE_802_3: 3,
  IEEE_802_11: 4, // IEEE 802.11a/b/g
  IEEE_802_16E: 5,
  GERAN_3GPP: 6,
  UTRAN_3GPP: 7,
  E_UTRAN_3GPP: 8,
  EHRPD_3GPP2: 9,
  HRPD_3GPP2: 10,
  ONE_X_RTT_3GPP2: 11,
  UMB_3GPP2: 12,
  NB_IOT_3GPP: 13,
} as const;

/** Mobile Node Identifier subtypes (RFC 4283 3.1, IANA). */
export const MnIdSubtype = {
  NAI: 1,
  IPV6_ADDRESS: 2,
  IMSI: 3,
  P_TMSI: 4,
  EUI_48: 5,
  EUI_64: 6,
  GUTI: 7,
  DUID: 8, // RFC 8371
} as const;

/** IPv4 Home Address Reply status (RFC 5844 3.3.2). <128 success. */
export const Ipv4HoaReplyStatus = {
  SUCCESS: 0,
  FAILURE_REASON_UNSPECIFIED: 128,
  ADMINISTRATIVELY_PROHIBITED: 129,
  INCORRECT_IPV4_HOME_ADDRESS: 130,
  INVALID_IPV4_ADDRESS: 131,
  DYNAMIC_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_AVAILABLE: 132,
} as const;

/** IPv4 Address Acknowledgement status (RFC 5555 3.2.1). */
export const Ipv4AddrAckStatus = {
  SUCCESS: 0,
  FAILURE_REASON_UNSPECIFIED: 128,
  ADMINISTRATIVELY_PROHIBITED: 129,
  INCORRECT_IPV4_HOME_ADDRESS: 130,
  INVALID_IPV4_ADDRESS: 131,
  DYNAMIC_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_AVAILABLE: 132,
  PREFIX_ALLOCATION_UNAUTHORIZED: 133,
} as const;

/** Binding Revocation Type (RFC 5846 5), octet 6 of MH type 16. */
export const BrType = { BRI: 1, BRA: 2 } as const;

/** Revocation Trigger values for a BRI (RFC 5846 5.1). Per-MN < 128; global 128/129 (with G). */
export const RevocationTrigger = {
  UNSPECIFIED: 0,
  ADMINISTRATIVE_REASON: 1,
  INTER_MAG_HANDOVER_SAME_ACCESS_TYPE: 2,
  INTER_MAG_HANDOVER_DIFFERENT_ACCESS_TYPE: 3,
  INTER_MAG_HANDOVER_UNKNOWN: 4,
  USER_INITIATED_SESSION_TERMINATION: 5,
  ACCESS_NETWORK_SESSION_TERMINATION: 6,
  POSSIBLE_OUT_OF_SYNC_BCE_STATE: 7,
  PER_PEER_POLICY: 128,
  REVOKING_MOBILITY_NODE_LOCAL_POLICY: 129,
} as const;

/** BRA status (RFC 5846 5.2). <128 success. */
export const BraStatus = {
  SUCCESS: 0,
  PARTIAL_SUCCESS: 1,
  BINDING_DOES_NOT_EXIST: 128,
  IPV4_HOME_ADDRESS_OPTION_REQUIRED: 129,
  GLOBAL_REVOCATION_NOT_AUTHORIZED: 130,
  REVOKED_MOBILE_NODES_IDENTITY_REQUIRED: 131,
  REVOCATION_FAILED_MN_IS_ATTACHED: 132,
  REVOCATION_TRIGGER_NOT_SUPPORTED: 133,
  REVOCATION_FUNCTION_NOT_SUPPORTED: 134,
  PROXY_BINDING_REVOCATION_NOT_SUPPORTED: 135,
} as const;

/** Mobile Node Group Identifier sub-types and well-known ids (RFC 6602 4.3). */
export const MnGroupSubtype = { BULK_BINDING_UPDATE_GROUP: 1 } as const;
export const MN_GROUP_ALL_SESSIONS = 1;

/** IPv4 DHCP Support Mode S flag (RFC 5844 3.3.4): 1 = MAG is DHCP server, 0 = relay. */
export const DHCP_SUPPORT_MODE_S = 0x0001;
/** NAT Detection F flag (RFC 5555 3.2.2), mask in the 16-bit word after Length. */
export const NAT_DETECTION_F = 0x8000;
/** IPv4 Home Address (RFC 5555 3.1.1) P flag, mask in the octet holding Prefix-len. */
export const IPV4_HOA_P = 0x02;

/* ------------------------------------------------------------------------ */
/* Timer and configuration defaults                                          */
/* ------------------------------------------------------------------------ */

/** RFC 6275 12 (constants) and 13 (variables). */
export const Rfc6275 = {
  INITIAL_BINDACK_TIMEOUT_MS: 1000,
  MAX_BINDACK_TIMEOUT_MS: 32000,
  MAX_DELETE_BCE_TIMEOUT_MS: 10000,
  MAX_UPDATE_RATE_PER_S: 3,
  INITIAL_BINDACK_TIMEOUT_FIRST_REG_MS: 1500, // optional for a MAG (RFC 5213 6.9.4)
  /** One Lifetime unit in the BU/BA (6.1.7, 6.1.8). */
  LIFETIME_UNIT_S: 4,
} as const;

/** RFC 5213 9.1-9.3 defaults. */
export const Rfc5213Defaults = {
  MIN_DELAY_BEFORE_BCE_DELETE_MS: 10000,
  MAX_DELAY_BEFORE_NEW_BCE_ASSIGN_MS: 1500,
  TIMESTAMP_VALIDITY_WINDOW_MS: 300,
  ENABLE_MAG_LOCAL_ROUTING: false,
  TIMESTAMP_BASED_APPROACH_IN_USE: true,
  MOBILE_NODE_GENERATED_TIMESTAMP_IN_USE: false,
} as const;

/** RFC 5847 5 defaults. */
export const Rfc5847Defaults = {
  HEARTBEAT_INTERVAL_S: 60,
  HEARTBEAT_INTERVAL_MIN_S: 30, // SHOULD NOT be lower
  HEARTBEAT_INTERVAL_MAX_S: 3600, // SHOULD NOT be higher
  MISSING_HEARTBEATS_ALLOWED: 3,
} as const;

/** RFC 5846 11 defaults. */
export const Rfc5846Defaults = {
  BRI_MAX_RETRIES_NUMBER: 1,
  INIT_MIN_DELAY_BRIS_MS: 1000,
  INIT_MIN_DELAY_BRIS_MIN_MS: 500, // not to be configured lower
  MAX_BRACK_TIMEOUT_MS: 2000,
} as const;

/** RFC 6543: reserved MAG link-layer address 00-00-5E-00-52-13 and link-local fe80::200:5eff:fe00:5213. */
export const RFC6543_MAG_LINK_LAYER_ADDRESS: Uint8Array = Uint8Array.of(0x00, 0x00, 0x5e, 0x00, 0x52, 0x13);
export const RFC6543_MAG_LINK_LOCAL_ADDRESS: Uint8Array = Uint8Array.of(
  0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x52, 0x13,
);

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
 * - option-overrun: an option TLV runs past the end of the MH
 * - bad-br-type: MH 16 with a Binding Revocation Type other than 1 (BRI) or 2 (BRA)
 */
export type DecodeErrorCode =
  | 'truncated'
  | 'bad-payload-proto'
  | 'bad-header-len'
  | 'bad-checksum'
  | 'bad-option-length'
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
   * kernel already verified it (raw socket with IPV6_CHECKSUM).
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
