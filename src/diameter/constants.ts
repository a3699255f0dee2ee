// Diameter protocol numbers, each from the RFC that assigns it: RFC 6733 (base), RFC 4005 /
// RFC 7155 (NASREQ), RFC 4004 (MIP-Home-Agent-*), RFC 5447 / RFC 5778 (MIPv6), RFC 5779 (PMIPv6).

/** RFC 6733 §3: the only version. */
export const DIAMETER_VERSION = 1;
/** RFC 6733 §3: the fixed header is 20 octets. */
export const HEADER_LENGTH = 20;
/** RFC 6733 §4.1: AVP header without / with the Vendor-ID field. */
export const AVP_HEADER_LENGTH = 8;
export const AVP_VENDOR_HEADER_LENGTH = 12;

/** RFC 6733 §3 Command Flags. The low four bits are reserved (sent 0, ignored on receipt). */
export const CmdFlag = { R: 0x80, P: 0x40, E: 0x20, T: 0x10 } as const;
/** RFC 6733 §4.1 AVP Flags. The low five bits are reserved. */
export const AvpFlag = { V: 0x80, M: 0x40, P: 0x20 } as const;

/** Command codes: RFC 6733 §3.1 (base), RFC 7155 §3 (NASREQ AA). */
export const Cmd = {
  CapabilitiesExchange: 257,
  ReAuth: 258,
  Accounting: 271,
  AbortSession: 274,
  SessionTermination: 275,
  DeviceWatchdog: 280,
  DisconnectPeer: 282,
  AA: 265,
} as const;

/** Application Ids: RFC 6733 §2.4 (common 0, base accounting 3, relay 0xffffffff), RFC 7155 (NASREQ 1). */
export const App = {
  Common: 0,
  Nasreq: 1,
  BaseAccounting: 3,
  Relay: 0xffffffff,
} as const;

/** IANA SMI Network Management Private Enterprise Code 0: the IETF (RFC 6733 §4.1.1). */
export const VENDOR_IETF = 0;

/** AVP codes (all IETF, vendor 0). The defining RFC is in dictionary.ts. */
export const Avp = {
  // RADIUS-derived, RFC 6733 §4.5 / RFC 4005 / RFC 7155
  UserName: 1,
  UserPassword: 2,
  NasIpAddress: 4,
  NasPort: 5,
  ServiceType: 6,
  FramedIpAddress: 8,
  ReplyMessage: 18,
  State: 24,
  Class: 25,
  SessionTimeout: 27,
  CalledStationId: 30,
  CallingStationId: 31,
  NasIdentifier: 32,
  ProxyState: 33,
  AcctSessionId: 44,
  AcctMultiSessionId: 50,
  EventTimestamp: 55,
  NasPortType: 61,
  AcctInterimInterval: 85,
  NasPortId: 87,
  ChargeableUserIdentity: 89,
  NasIpv6Address: 95,
  FramedInterfaceId: 96,
  FramedIpv6Prefix: 97,
  // RFC 5447 / RFC 5779
  Mip6FeatureVector: 124,
  Mip6HomeLinkPrefix: 125,
  // RFC 6733 base
  HostIpAddress: 257,
  AuthApplicationId: 258,
  AcctApplicationId: 259,
  VendorSpecificApplicationId: 260,
  RedirectHostUsage: 261,
  RedirectMaxCacheTime: 262,
  SessionId: 263,
  OriginHost: 264,
  SupportedVendorId: 265,
  VendorId: 266,
  FirmwareRevision: 267,
  ResultCode: 268,
  ProductName: 269,
  SessionBinding: 270,
  SessionServerFailover: 271,
  MultiRoundTimeOut: 272,
  DisconnectCause: 273,
  AuthRequestType: 274,
  AuthGracePeriod: 276,
  AuthSessionState: 277,
  OriginStateId: 278,
  FailedAvp: 279,
  ProxyHost: 280,
  ErrorMessage: 281,
  RouteRecord: 282,
  DestinationRealm: 283,
  ProxyInfo: 284,
  ReAuthRequestType: 285,
  AccountingSubSessionId: 287,
  AuthorizationLifetime: 291,
  RedirectHost: 292,
  DestinationHost: 293,
  ErrorReportingHost: 294,
  TerminationCause: 295,
  OriginRealm: 296,
  ExperimentalResult: 297,
  ExperimentalResultCode: 298,
  InbandSecurityId: 299,
  AccountingRecordType: 480,
  AccountingRealtimeRequired: 483,
  AccountingRecordNumber: 485,
  // RFC 4004 (reused by RFC 5447)
  MipHomeAgentAddress: 334,
  MipHomeAgentHost: 348,
  // RFC 4005 / RFC 7155
  AccountingInputOctets: 363,
  AccountingOutputOctets: 364,
  AccountingInputPackets: 365,
  AccountingOutputPackets: 366,
  OriginAaaProtocol: 408,
  // RFC 5447 / RFC 5778
  Mip6AgentInfo: 486,
  ServiceSelection: 493,
  // RFC 5779 §5
  Pmip6DhcpServerAddress: 504,
  Pmip6Ipv4HomeAddress: 505,
  MobileNodeIdentifier: 506,
  ServiceConfiguration: 507,
} as const;

/** RFC 6733 §7.1 Result-Code values. */
export const Result = {
  MultiRoundAuth: 1001,
  Success: 2001,
  LimitedSuccess: 2002,
  CommandUnsupported: 3001,
  UnableToDeliver: 3002,
  RealmNotServed: 3003,
  TooBusy: 3004,
  LoopDetected: 3005,
  RedirectIndication: 3006,
  ApplicationUnsupported: 3007,
  InvalidHdrBits: 3008,
  InvalidAvpBits: 3009,
  UnknownPeer: 3010,
  AuthenticationRejected: 4001,
  OutOfSpace: 4002,
  ElectionLost: 4003,
  AvpUnsupported: 5001,
  UnknownSessionId: 5002,
  AuthorizationRejected: 5003,
  InvalidAvpValue: 5004,
  MissingAvp: 5005,
  ResourcesExceeded: 5006,
  ContradictingAvps: 5007,
  AvpNotAllowed: 5008,
  AvpOccursTooManyTimes: 5009,
  NoCommonApplication: 5010,
  UnsupportedVersion: 5011,
  UnableToComply: 5012,
  InvalidBitInHeader: 5013,
  InvalidAvpLength: 5014,
  InvalidMessageLength: 5015,
  InvalidAvpBitCombo: 5016,
  NoCommonSecurity: 5017,
} as const;

/** RFC 6733 §7.1.3: 3xxx are protocol errors, answered with the E bit. */
export const isProtocolError = (code: number): boolean => code >= 3000 && code < 4000;

/** RFC 6733 §8.7 Auth-Request-Type. */
export const AuthRequestType = { AuthenticateOnly: 1, AuthorizeOnly: 2, AuthorizeAuthenticate: 3 } as const;
/** RFC 6733 §8.11 Auth-Session-State. */
export const AuthSessionState = { StateMaintained: 0, NoStateMaintained: 1 } as const;
/** RFC 6733 §8.12 Re-Auth-Request-Type. */
export const ReAuthRequestType = { AuthorizeOnly: 0, AuthorizeAuthenticate: 1 } as const;
/** RFC 6733 §5.4.3 Disconnect-Cause. */
export const DisconnectCause = { Rebooting: 0, Busy: 1, DoNotWantToTalkToYou: 2 } as const;
/** RFC 6733 §6.10 Inband-Security-Id. */
export const InbandSecurity = { NoInbandSecurity: 0, Tls: 1 } as const;
/** Termination-Cause (RFC 6733 §8.15: the IANA registry, values from RFC 3588 §8.15). */
export const TerminationCause = {
  Logout: 1,
  ServiceNotProvided: 2,
  BadAnswer: 3,
  Administrative: 4,
  LinkBroken: 5,
  AuthExpired: 6,
  UserMoved: 7,
  SessionTimeout: 8,
} as const;
/** Address family numbers of the Address type's AddressType (RFC 6733 §4.3.1, IANA). */
export const AddressFamily = { Ipv4: 1, Ipv6: 2 } as const;
/** RFC 7155 §4.2.4 NAS-Port-Type (RADIUS values): Virtual. */
export const NasPortTypeVirtual = 5;
