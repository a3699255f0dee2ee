// RADIUS packet codes and attribute types we use.
// Codes: RFC 2865 §3, RFC 2866 §3, RFC 5997 §3, RFC 5176 §2.3.
// Attributes: RFC 2865 §5, RFC 2866 §5, RFC 2869 §5, RFC 3162, RFC 4372, RFC 5176 §3.5,
// RFC 5447 §4.2.5 (124), RFC 6572 §4 (145–162). Numbers checked against
// /usr/share/freeradius/dictionary.rfc6572 and the RFCs named above.

export const Code = {
  AccessRequest: 1,
  AccessAccept: 2,
  AccessReject: 3,
  AccountingRequest: 4,
  AccountingResponse: 5,
  AccessChallenge: 11,
  StatusServer: 12,
  StatusClient: 13,
  DisconnectRequest: 40,
  DisconnectAck: 41,
  DisconnectNak: 42,
  CoaRequest: 43,
  CoaAck: 44,
  CoaNak: 45,
} as const;
export type CodeValue = (typeof Code)[keyof typeof Code];

export const Attr = {
  UserName: 1,
  UserPassword: 2,
  ChapPassword: 3,
  NasIpAddress: 4,
  NasPort: 5,
  ServiceType: 6,
  ReplyMessage: 18,
  State: 24,
  Class: 25,
  SessionTimeout: 27,
  CallingStationId: 31,
  NasIdentifier: 32,
  ProxyState: 33,
  AcctStatusType: 40,
  AcctDelayTime: 41,
  AcctInputOctets: 42,
  AcctOutputOctets: 43,
  AcctSessionId: 44,
  AcctAuthentic: 45,
  AcctSessionTime: 46,
  AcctInputPackets: 47,
  AcctOutputPackets: 48,
  AcctTerminateCause: 49,
  AcctMultiSessionId: 50,
  AcctInputGigawords: 52,
  AcctOutputGigawords: 53,
  EventTimestamp: 55,
  NasPortType: 61,
  EapMessage: 79,
  MessageAuthenticator: 80,
  AcctInterimInterval: 85,
  ChargeableUserIdentity: 89,
  NasIpv6Address: 95,
  ErrorCause: 101,
  Mip6FeatureVector: 124,
  MobileNodeIdentifier: 145,
  ServiceSelection: 146,
  Pmip6HomeLmaIpv6Address: 147,
  Pmip6VisitedLmaIpv6Address: 148,
  Pmip6HomeLmaIpv4Address: 149,
  Pmip6VisitedLmaIpv4Address: 150,
  Pmip6HomeHnPrefix: 151,
  Pmip6VisitedHnPrefix: 152,
  Pmip6HomeInterfaceId: 153,
  Pmip6VisitedInterfaceId: 154,
  Pmip6HomeIpv4HoA: 155,
  Pmip6VisitedIpv4HoA: 156,
  Pmip6HomeDhcp4ServerAddress: 157,
  Pmip6VisitedDhcp4ServerAddress: 158,
  Pmip6HomeDhcp6ServerAddress: 159,
  Pmip6VisitedDhcp6ServerAddress: 160,
  Pmip6HomeIpv4Gateway: 161,
  Pmip6VisitedIpv4Gateway: 162,
} as const;

/** Service-Type values (RFC 2865 §5.6). 17 = Authorize Only (RFC 5080 §2.1.1, RFC 6572 §6.1). */
export const ServiceType = { Login: 1, Framed: 2, AuthorizeOnly: 17 } as const;

/** NAS-Port-Type (RFC 2865 §5.41): 5 = Virtual; RFC 6572 §6.2 requires it from the LMA (printed as 69 there, aaa-mib.md §7.1). */
export const NasPortType = { Virtual: 5 } as const;

/** Acct-Status-Type values (RFC 2866 §5.1). */
export const AcctStatus = { Start: 1, Stop: 2, InterimUpdate: 3, AccountingOn: 7, AccountingOff: 8 } as const;

/** Error-Cause values used in CoA/Disconnect NAKs (RFC 5176 §3.5). */
export const ErrorCause = {
  ResidualSessionContextRemoved: 201,
  UnsupportedAttribute: 401,
  MissingAttribute: 402,
  NasIdentificationMismatch: 403,
  InvalidRequest: 404,
  UnsupportedService: 405,
  InvalidAttributeValue: 407,
  AdministrativelyProhibited: 501,
  SessionContextNotFound: 503,
  SessionContextNotRemovable: 504,
  ResourcesUnavailable: 506,
} as const;

/** RFC 2865 §3: 20 ≤ Length ≤ 4096. */
export const HEADER_LENGTH = 20;
export const MAX_PACKET_LENGTH = 4096;
/** Message-Authenticator attribute: Type, Length=18, 16-octet HMAC-MD5 (RFC 3579 §3.2). */
export const MA_ATTR_LENGTH = 18;
