/**
 * Mobility Header protocol constants: IANA numbers, flag masks, status codes,
 * enumerations and RFC timer defaults. Re-exported by `types.ts` and `index.ts`.
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
