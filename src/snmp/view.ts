// Read-only views of the LMA and MAG state that the SNMP agent serves as PMIPV6-MIB
// (RFC 6475). The roles implement these over their binding cache / binding update
// list; the agent reads them at request time and never copies a table.
//
// Every table is a TableView ordered by its SNMP INDEX: the index of a row is the
// list of OID sub-identifiers that follows the column OID (RFC 2578 §7.7), and rows
// are ordered by comparing those lists lexicographically. `OrderedTable` (table.ts)
// implements TableView with O(log n) lookups and successor queries; index encoders
// for the INDEX clauses used here are in table.ts too (inetIndex, bindingCacheIndex ...).
//
// Row objects may be live objects of the role (getters are fine): the agent reads the
// fields while it builds a response and keeps no reference afterwards.

/** InetAddressType (RFC 4001). */
export const InetAddressType = { unknown: 0, ipv4: 1, ipv6: 2, ipv4z: 3, ipv6z: 4, dns: 16 } as const;
export type InetAddressTypeValue = (typeof InetAddressType)[keyof typeof InetAddressType];

/** An InetAddressType / InetAddress pair: `octets` is 4 octets for ipv4(1), 16 for ipv6(2). */
export interface InetAddr {
  readonly type: InetAddressTypeValue;
  readonly octets: Uint8Array;
}

/** pmip6MagProxyCOAState / pmip6LmaLMAAState (RFC 6475). */
export const TunnelEndpointState = { unknown: 1, activated: 2, tunneled: 3 } as const;
export type TunnelEndpointStateValue = (typeof TunnelEndpointState)[keyof typeof TunnelEndpointState];

/** One entry of a TableView: the row and its INDEX as OID sub-identifiers. */
export interface TableEntry<R> {
  readonly index: readonly number[];
  readonly row: R;
}

/** A conceptual table ordered by its INDEX (RFC 2578 §7.7). */
export interface TableView<R> {
  /** The row whose index equals `index`, if any. */
  get(index: readonly number[]): R | undefined;
  /**
   * The first entry whose index is lexicographically greater than `after` (any list of
   * sub-identifiers: it may be shorter or longer than a real index, or not a valid one).
   * With an empty `after`, the first entry. Must cost O(log n), not a scan.
   */
  next(after: readonly number[]): TableEntry<R> | undefined;
  /** Number of rows. */
  readonly size: number;
}

/**
 * The registration counters (pmip6BindingRegCounters, RFC 6475; RFC 5213 §8.9 status
 * codes). Plain running totals: the agent reports them modulo 2^32 as Counter32.
 */
export interface BindingRegCounters {
  /** PBA status 160. */ readonly missingMnIdentifierOption: number;
  /** PBA status 154. */ readonly magNotAuthorizedForProxyReg: number;
  /** PBA status 153. */ readonly notLmaForThisMobileNode: number;
  /** PBA status 152. */ readonly proxyRegNotEnabled: number;
  /** PBA status 158. */ readonly missingHomeNetworkPrefixOption: number;
  /** PBA status 161. */ readonly missingHandOffIndicatorOption: number;
  /** PBA status 162. */ readonly missingAccessTechTypeOption: number;
  /** PBA status 155. */ readonly notAuthorizedForHomeNetworkPrefix: number;
  /** PBA status 156. */ readonly timestampMismatch: number;
  /** PBA status 157. */ readonly timestampLowerThanPrevAccepted: number;
  /** PBA status 159. */ readonly bcePbuPrefixSetDoNotMatch: number;
  /** PBUs that created a BCE (RFC 5213 §5.3.2). */ readonly initialBindingRegistrations: number;
  /** Lifetime extensions from the same MAG (§5.3.3). */ readonly bindingLifeTimeExtensionNoHandOff: number;
  /** Lifetime extensions after a handoff (§5.3.4). */ readonly bindingLifeTimeExtensionAfterHandOff: number;
  /** PBUs with lifetime 0 (§5.3.5). */ readonly bindingDeRegistrations: number;
  /** PBAs (sent by an LMA, received by a MAG). */ readonly bindingBindingAcks: number;
  /**
   * Wall-clock time (ms since 1970, Date.now()) of the last discontinuity of these
   * counters (e.g. they were reset), or 0 if none. Reported as pmip6CounterDiscontinuityTime
   * (sysUpTime at that moment; 0 when it precedes the agent's start).
   */
  readonly discontinuityTime: number;
}

// ---------------------------------------------------------------- LMA

/**
 * pmip6BindingCacheEntry: one BCE. Index: bindingCacheIndex(homeAddress), i.e. the
 * mip6BindingCacheEntry index {mip6BindingHomeAddressType, mip6BindingHomeAddress}.
 * For a PMIPv6 BCE use a home network prefix as the home address (the lowest one, as a
 * 16-octet ipv6 address with the host bits zero) or, for an IPv4-only session, the IPv4
 * home address (RFC 5844): it must be unique among the BCEs and stable while they live.
 */
export interface BindingCacheRow {
  /** pmip6BindingPBUFlag: true for a proxy registration; when false the other columns are absent. */
  readonly proxyRegistration: boolean;
  /** pmip6BindingMnIndex: the row of pmip6LmaMnIdentifierTable (1..2^32-1). */
  readonly mnIndex: number;
  /** pmip6BindingMnLLIndex: the row of pmip6LmaMnLLIdentifierTable (1..2^32-1). */
  readonly mnLLIndex: number;
  /** pmip6BindingMagLinkLocalAddressType/-Address (RFC 5213 §6.9.1.2). */
  readonly magLinkLocalAddress: InetAddr;
  /** pmip6BindingTunnelIfIdentifier: 0..8 octets (Ipv6AddressIfIdentifierTC). */
  readonly tunnelIfIdentifier: Uint8Array;
  /** pmip6BindingMnInterfaceATT: Access Technology Type (RFC 5213 §8.5), 0..255. */
  readonly accessTechnologyType: number;
  /** pmip6BindingTimeRecentlyAccepted: RFC 5213 §8.8 64-bit timestamp, 0n when sequence numbers are used. */
  readonly timeRecentlyAccepted: bigint;
}

/** pmip6LmaMnIdentifierEntry. Index: [mnIndex]. */
export interface MnIdentifierRow {
  /** MN-Identifier (RFC 4283), at most 255 octets; strings are sent as UTF-8. */
  readonly mnIdentifier: string | Uint8Array;
}

/** pmip6LmaMnLLIdentifierEntry / pmip6MagMnLLIdentifierEntry. Index: [mnIndex, mnLLIndex]. */
export interface MnLLIdentifierRow {
  /** MN-LL-Identifier (RFC 5213 §8.6), at most 255 octets. */
  readonly mnLLIdentifier: string | Uint8Array;
}

/** pmip6LmaHomeNetworkPrefixEntry. Index: hnpIndex(mnIndex, mnLLIndex, prefix). */
export interface LmaHomeNetworkPrefixRow {
  /** pmip6LmaHomeNetworkPrefixLength (0..128 for IPv6). */
  readonly prefixLength: number;
  /** pmip6LmaHomeNetworkPrefixLifeTime: lifetime granted for the registration, seconds (Gauge32). */
  readonly lifetime: number;
}

/** pmip6LmaLMAAEntry. Index: inetIndex(lmaa). */
export interface LmaAddressRow {
  readonly state: TunnelEndpointStateValue;
}

/** Outcome of a write into live state (SNMP SET). `inconsistentValue` etc. per RFC 3416 §4.2.5. */
export type WriteResult =
  | { ok: true }
  | { ok: false; error: 'wrongValue' | 'inconsistentValue' | 'resourceUnavailable' | 'commitFailed' | 'noCreation' };

/** What the SNMP agent needs from a running LMA (RFC 5213 §5). */
export interface LmaView {
  readonly bindingCache: TableView<BindingCacheRow>;
  /** Rows for every mnIndex used by bindingCache. */
  readonly mobileNodes: TableView<MnIdentifierRow>;
  /** Rows for every (mnIndex, mnLLIndex) used by bindingCache. */
  readonly mobileNodeInterfaces: TableView<MnLLIdentifierRow>;
  readonly homeNetworkPrefixes: TableView<LmaHomeNetworkPrefixRow>;
  readonly lmaAddresses: TableView<LmaAddressRow>;
  /** Current counter values; called once per request that reads them. */
  counters(): BindingRegCounters;
  /**
   * SET of pmip6LmaHomeNetworkPrefixLifeTime (read-write in RFC 6475): the lifetime granted
   * to the registration that owns this prefix. Optional: without it the column is read-only
   * (SET answers notWritable). Called only with an existing row and 0..2^32-1.
   */
  setHomeNetworkPrefixLifetime?(index: readonly number[], seconds: number): WriteResult | Promise<WriteResult>;
}

// ---------------------------------------------------------------- MAG

/**
 * pmip6MagBLEntry: one Binding Update List entry. Index: bulIndex(homeAddress, lmaAddress),
 * the mip6MnBLEntry index {mip6MnHomeAddressType, mip6MnHomeAddress, mip6MnBLNodeAddressType,
 * mip6MnBLNodeAddress}: home address chosen as for BindingCacheRow, node = the LMA address.
 */
export interface BindingUpdateListRow {
  /** pmip6MagBLFlag: true when sent as a Proxy Binding Update. */
  readonly proxyRegistration: boolean;
  /** pmip6MagBLMnIndex: the row of pmip6MagMnIdentifierTable. */
  readonly mnIndex: number;
  /** pmip6MagBLMnLLIndex: the row of pmip6MagMnLLIdentifierTable. */
  readonly mnLLIndex: number;
  /** pmip6MagBLMagLinkLocalAddressType/-Address. */
  readonly magLinkLocalAddress: InetAddr;
  /** pmip6MagBLMagIfIdentifierToMn: 0..8 octets. */
  readonly magIfIdentifierToMn: Uint8Array;
  /** pmip6MagBLTunnelIfIdentifier: 0..8 octets. */
  readonly tunnelIfIdentifier: Uint8Array;
  /** pmip6MagBLMnInterfaceATT. */
  readonly accessTechnologyType: number;
  /** pmip6MagBLTimeRecentlyAccepted, 0n without timestamps. */
  readonly timeRecentlyAccepted: bigint;
}

/** pmip6MagHomeNetworkPrefixEntry. Index: hnpIndex(mnIndex, mnLLIndex, prefix). */
export interface MagHomeNetworkPrefixRow {
  readonly prefixLength: number;
  /** Prefix lifetime advertised in Router Advertisements, seconds (Unsigned32). */
  readonly lifetime: number;
}

/** pmip6MagMnProfileEntry. Index: [mnIndex]. */
export interface MagProfileRow {
  readonly mnIdentifier: string | Uint8Array;
  /** The MN's LMA address (LMAA) from its policy profile. */
  readonly lmaAddress: InetAddr;
}

/** pmip6MagProxyCOAEntry. Index: inetIndex(proxyCoa). */
export interface ProxyCoaRow {
  readonly state: TunnelEndpointStateValue;
}

/** What the SNMP agent needs from a running MAG (RFC 5213 §6). */
export interface MagView {
  readonly bindingUpdateList: TableView<BindingUpdateListRow>;
  readonly mobileNodes: TableView<MnIdentifierRow>;
  readonly mobileNodeInterfaces: TableView<MnLLIdentifierRow>;
  readonly homeNetworkPrefixes: TableView<MagHomeNetworkPrefixRow>;
  readonly profiles: TableView<MagProfileRow>;
  readonly proxyCoas: TableView<ProxyCoaRow>;
  /** Used for pmip6BindingRegCounters only when no LMA runs in the process (PBAs as received). */
  counters(): BindingRegCounters;
}

// ---------------------------------------------------------------- events

/**
 * LMA side of a tunnel coming up or going down (pmip6LmaHomeTunnelEstablished/-Released,
 * RFC 6475; RFC 5213 §5.6.1). Carries the values the notification reports, because on
 * release the BCE may already be gone.
 */
export interface LmaTunnelEvent {
  readonly kind: 'established' | 'released';
  /** The BCE's home address (the bindingCache index of the binding). */
  readonly homeAddress: InetAddr;
  readonly tunnelIfIdentifier: Uint8Array;
  /** The LMAA the tunnel uses and its state after the change. */
  readonly lmaAddress: InetAddr;
  readonly lmaAddressState: TunnelEndpointStateValue;
}

/** MAG side of a tunnel coming up or going down (pmip6MagHomeTunnelEstablished/-Released). */
export interface MagTunnelEvent {
  readonly kind: 'established' | 'released';
  /** The BUL entry's home address and LMA address (its bindingUpdateList index). */
  readonly homeAddress: InetAddr;
  readonly lmaAddress: InetAddr;
  readonly tunnelIfIdentifier: Uint8Array;
  /** The Proxy-CoA the tunnel uses and its state after the change. */
  readonly proxyCoa: InetAddr;
  readonly proxyCoaState: TunnelEndpointStateValue;
}

/** What the roles call on binding events; the agent implements it (rate-limited notifications). */
export interface Pmip6EventSink {
  lmaTunnel(event: LmaTunnelEvent): void;
  magTunnel(event: MagTunnelEvent): void;
}
