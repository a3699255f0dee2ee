// PMIPV6-MIB (RFC 6475) as objects in code, read from the role views at request time,
// plus the few SNMPv2-MIB / SNMP-FRAMEWORK / SNMP-MPD / SNMP-USM scalars that expose the
// agent's own counters. Names, OIDs, SMI types and access mirror mibs/PMIPV6-MIB; a test
// compares this list with smidump's view of the module.
import type { Pmip6Settings, Pmip6SettingsValues } from './settings.ts';
import type {
  BindingCacheRow,
  BindingRegCounters,
  BindingUpdateListRow,
  InetAddr,
  LmaView,
  MagView,
  TableView,
  WriteResult,
} from './view.ts';

/** ASN.1 / SMI value tags as used by net-snmp's ObjectType. */
export const T = {
  Integer: 2,
  OctetString: 4,
  Null: 5,
  Oid: 6,
  Counter32: 65,
  Gauge32: 66,
  TimeTicks: 67,
  NoSuchObject: 128,
  NoSuchInstance: 129,
  EndOfMibView: 130,
} as const;

export interface Value {
  readonly type: number;
  readonly value: number | Buffer | string | null;
}

/** Per-request state: counters are fetched once per request. */
export interface ReadContext {
  counters(): BindingRegCounters;
  /** sysUpTime now, centiseconds. */
  upTime(): number;
}

export type SetVerdict = 'wrongLength' | 'wrongValue' | undefined;

interface WriteSpec {
  /** Tag a SET must carry, else wrongType (RFC 3416 §4.2.5). */
  readonly asnType: number;
  /** Syntax checks on the decoded value: wrongLength / wrongValue. */
  check(value: unknown): SetVerdict;
}

export interface ScalarWrite extends WriteSpec {
  /** The settings change this value makes, given the values as already changed by earlier varbinds. */
  patch(value: unknown, pending: Pmip6SettingsValues): Partial<Pmip6SettingsValues>;
}

export interface ColumnWrite<R> extends WriteSpec {
  apply(index: readonly number[], value: unknown): WriteResult | Promise<WriteResult>;
  /** The value before the change, to undo it when a later varbind fails. */
  current(row: R): unknown;
}

interface Common {
  readonly name: string;
  readonly oid: readonly number[];
  /** The type as smidump's tree format prints it (TruthValue, Counter32, Enumeration ...). */
  readonly smiType: string;
  readonly access: 'read-only' | 'read-write';
}

export interface ScalarObject extends Common {
  readonly kind: 'scalar';
  read(ctx: ReadContext): Value;
  readonly write?: ScalarWrite;
}

export interface ColumnObject<R = unknown> extends Common {
  readonly kind: 'column';
  readonly table: TableView<R>;
  /** undefined: no instance in this row (e.g. a non-proxy BCE). */
  read(row: R, ctx: ReadContext): Value | undefined;
  readonly write?: ColumnWrite<R>;
}

export type MibObject = ScalarObject | ColumnObject;

// ---------------------------------------------------------------- value helpers

const int = (v: number): Value => ({ type: T.Integer, value: v });
const gauge = (v: number): Value => ({ type: T.Gauge32, value: Math.max(0, Math.min(0xffffffff, Math.trunc(v) || 0)) });
const counter = (v: number): Value => ({ type: T.Counter32, value: (((Math.trunc(v) || 0) % 4294967296) + 4294967296) % 4294967296 });
const octets = (v: Uint8Array | string): Value => ({ type: T.OctetString, value: typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v.buffer, v.byteOffset, v.byteLength) });
const truth = (b: boolean): Value => int(b ? 1 : 2);
const status = (s: 'enabled' | 'disabled'): Value => int(s === 'enabled' ? 1 : 2);

/** Pmip6TimeStamp64: 8 octets, big endian (RFC 5213 §8.8). */
function timestamp64(t: bigint): Value {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt.asUintN(64, t));
  return { type: T.OctetString, value: b };
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isBuf = (v: unknown): v is Buffer => Buffer.isBuffer(v);

const truthWrite = (patch: (b: boolean) => Partial<Pmip6SettingsValues>): ScalarWrite => ({
  asnType: T.Integer,
  check: (v) => (v === 1 || v === 2 ? undefined : 'wrongValue'),
  patch: (v) => patch(v === 1),
});
const statusWrite = (patch: (s: 'enabled' | 'disabled') => Partial<Pmip6SettingsValues>): ScalarWrite => ({
  asnType: T.Integer,
  check: (v) => (v === 1 || v === 2 ? undefined : 'wrongValue'),
  patch: (v) => patch(v === 1 ? 'enabled' : 'disabled'),
});
const msWrite = (key: 'lmaMinDelayBeforeBCEDelete' | 'lmaMaxDelayBeforeNewBCEAssign' | 'lmaTimestampValidityWindow'): ScalarWrite => ({
  asnType: T.Integer,
  check: (v) => (isInt(v) && v >= 1 && v <= 65535 ? undefined : 'wrongValue'),
  patch: (v) => ({ [key]: v as number }),
});

// ---------------------------------------------------------------- OIDs

export const PMIP6_MIB = [1, 3, 6, 1, 2, 1, 206];
const p = (...rest: number[]) => [...PMIP6_MIB, ...rest];

export const NOTIFICATIONS = {
  pmip6MagHomeTunnelEstablished: p(0, 1),
  pmip6MagHomeTunnelReleased: p(0, 2),
  pmip6LmaHomeTunnelEstablished: p(0, 3),
  pmip6LmaHomeTunnelReleased: p(0, 4),
};

/** Column OIDs used by the notifications (RFC 6475 OBJECTS clauses). */
export const COLUMNS = {
  pmip6BindingTunnelIfIdentifier: p(1, 1, 2, 1, 1, 6),
  pmip6LmaLMAAState: p(1, 3, 1, 2, 1, 3),
  pmip6MagBLTunnelIfIdentifier: p(1, 2, 3, 1, 1, 7),
  pmip6MagProxyCOAState: p(1, 2, 1, 2, 1, 3),
};

// ---------------------------------------------------------------- builders

function scalar(name: string, oid: number[], smiType: string, read: (ctx: ReadContext) => Value, write?: ScalarWrite): ScalarObject {
  return { kind: 'scalar', name, oid, smiType, access: write ? 'read-write' : 'read-only', read, write };
}

function column<R>(
  name: string,
  oid: number[],
  smiType: string,
  table: TableView<R>,
  read: (row: R, ctx: ReadContext) => Value | undefined,
  write?: ColumnWrite<R>,
): ColumnObject {
  return { kind: 'column', name, oid, smiType, access: write ? 'read-write' : 'read-only', table, read, write } as ColumnObject;
}

const COUNTER_FIELDS: [string, keyof BindingRegCounters][] = [
  ['pmip6MissingMnIdentifierOption', 'missingMnIdentifierOption'],
  ['pmip6MagNotAuthorizedForProxyReg', 'magNotAuthorizedForProxyReg'],
  ['pmip6NotLMAForThisMobileNode', 'notLmaForThisMobileNode'],
  ['pmip6ProxyRegNotEnabled', 'proxyRegNotEnabled'],
  ['pmip6MissingHomeNetworkPrefixOption', 'missingHomeNetworkPrefixOption'],
  ['pmip6MissingHandOffIndicatorOption', 'missingHandOffIndicatorOption'],
  ['pmip6MissingAccessTechTypeOption', 'missingAccessTechTypeOption'],
  ['pmip6NotAuthorizedForHomeNetworkPrefix', 'notAuthorizedForHomeNetworkPrefix'],
  ['pmip6TimestampMismatch', 'timestampMismatch'],
  ['pmip6TimestampLowerThanPrevAccepted', 'timestampLowerThanPrevAccepted'],
  ['pmip6BcePbuPrefixSetDoNotMatch', 'bcePbuPrefixSetDoNotMatch'],
  ['pmip6InitialBindingRegistrations', 'initialBindingRegistrations'],
  ['pmip6BindingLifeTimeExtensionNoHandOff', 'bindingLifeTimeExtensionNoHandOff'],
  ['pmip6BindingLifeTimeExtensionAfterHandOff', 'bindingLifeTimeExtensionAfterHandOff'],
  ['pmip6BindingDeRegistrations', 'bindingDeRegistrations'],
  ['pmip6BindingBindingAcks', 'bindingBindingAcks'],
];

export const ZERO_COUNTERS: BindingRegCounters = Object.freeze({
  missingMnIdentifierOption: 0,
  magNotAuthorizedForProxyReg: 0,
  notLmaForThisMobileNode: 0,
  proxyRegNotEnabled: 0,
  missingHomeNetworkPrefixOption: 0,
  missingHandOffIndicatorOption: 0,
  missingAccessTechTypeOption: 0,
  notAuthorizedForHomeNetworkPrefix: 0,
  timestampMismatch: 0,
  timestampLowerThanPrevAccepted: 0,
  bcePbuPrefixSetDoNotMatch: 0,
  initialBindingRegistrations: 0,
  bindingLifeTimeExtensionNoHandOff: 0,
  bindingLifeTimeExtensionAfterHandOff: 0,
  bindingDeRegistrations: 0,
  bindingBindingAcks: 0,
  discontinuityTime: 0,
});

export interface Pmip6MibSources {
  lma?: LmaView;
  mag?: MagView;
  settings: Pmip6Settings;
  /** Wall-clock ms (Date.now()) when the agent started: sysUpTime 0. */
  startedAt: number;
}

/** Every PMIPV6-MIB object served for the roles present. */
export function pmip6Objects(src: Pmip6MibSources): MibObject[] {
  const { lma, mag, settings } = src;
  const s = () => settings.values;
  const objs: MibObject[] = [];

  // --- pmip6System / pmip6Conf (pmip6SystemGroup: every entity)
  objs.push(
    scalar('pmip6Capabilities', p(1, 1, 1, 1), 'Bits', () => octets(Uint8Array.of((mag ? 0x80 : 0) | (lma ? 0x40 : 0)))),
    scalar('pmip6MobileNodeGeneratedTimestampInUse', p(1, 1, 3, 1), 'TruthValue', () => truth(s().mobileNodeGeneratedTimestampInUse),
      truthWrite((b) => ({ mobileNodeGeneratedTimestampInUse: b }))),
    scalar('pmip6FixedMagLinkLocalAddressOnAllAccessLinksType', p(1, 1, 3, 2), 'InetAddressType', () => int(s().fixedMagLinkLocalAddress.type), {
      asnType: T.Integer,
      check: (v) => (isInt(v) && [0, 1, 2, 3, 4, 16].includes(v) ? undefined : 'wrongValue'),
      patch: (v, cur) => ({ fixedMagLinkLocalAddress: { type: v as InetAddr['type'], octets: cur.fixedMagLinkLocalAddress.octets } }),
    }),
    scalar('pmip6FixedMagLinkLocalAddressOnAllAccessLinks', p(1, 1, 3, 3), 'InetAddress', () => octets(s().fixedMagLinkLocalAddress.octets), {
      asnType: T.OctetString,
      check: (v) => (!isBuf(v) ? 'wrongValue' : v.length > 255 ? 'wrongLength' : undefined),
      patch: (v, cur) => ({ fixedMagLinkLocalAddress: { type: cur.fixedMagLinkLocalAddress.type, octets: new Uint8Array(v as Buffer) } }),
    }),
    scalar('pmip6FixedMagLinkLayerAddressOnAllAccessLinks', p(1, 1, 3, 4), 'PhysAddress', () => octets(s().fixedMagLinkLayerAddress), {
      asnType: T.OctetString,
      check: (v) => (!isBuf(v) ? 'wrongValue' : v.length > 32 ? 'wrongValue' : undefined),
      patch: (v) => ({ fixedMagLinkLayerAddress: new Uint8Array(v as Buffer) }),
    }),
  );

  // --- pmip6BindingRegCounters (pmip6StatsGroup). LMA counters; a MAG-only entity reports the MAG's.
  const counterSource = lma ?? mag;
  COUNTER_FIELDS.forEach(([name, field], i) => {
    objs.push(scalar(name, p(1, 1, 4, 1, i + 1), 'Counter32', (ctx) => counter(counterSource ? ctx.counters()[field] as number : 0)));
  });
  objs.push(
    scalar('pmip6CounterDiscontinuityTime', p(1, 1, 4, 1, 17), 'TimeStamp', (ctx) => {
      const t = counterSource ? ctx.counters().discontinuityTime : 0;
      return { type: T.TimeTicks, value: t > src.startedAt ? Math.min(0xffffffff, Math.floor((t - src.startedAt) / 10)) : 0 };
    }),
  );

  if (lma) objs.push(...lmaObjects(lma, s));
  if (mag) objs.push(...magObjects(mag, s));
  return objs;
}

function bcCol(name: string, n: number, smiType: string, table: TableView<BindingCacheRow>, read: (r: BindingCacheRow) => Value): ColumnObject {
  // RFC 6475: for a binding from a mobile node (PBU flag false) the other columns are absent.
  return column(name, p(1, 1, 2, 1, 1, n), smiType, table, (r: BindingCacheRow) => (n === 1 || r.proxyRegistration ? read(r) : undefined));
}

function lmaObjects(lma: LmaView, s: () => Pmip6SettingsValues): MibObject[] {
  const bc = lma.bindingCache;
  const objs: MibObject[] = [
    bcCol('pmip6BindingPBUFlag', 1, 'TruthValue', bc, (r) => truth(r.proxyRegistration)),
    bcCol('pmip6BindingMnIndex', 2, 'Pmip6MnIndex', bc, (r) => gauge(r.mnIndex)),
    bcCol('pmip6BindingMnLLIndex', 3, 'Pmip6MnLLIndex', bc, (r) => gauge(r.mnLLIndex)),
    bcCol('pmip6BindingMagLinkLocalAddressType', 4, 'InetAddressType', bc, (r) => int(r.magLinkLocalAddress.type)),
    bcCol('pmip6BindingMagLinkLocalAddress', 5, 'InetAddress', bc, (r) => octets(r.magLinkLocalAddress.octets)),
    bcCol('pmip6BindingTunnelIfIdentifier', 6, 'Ipv6AddressIfIdentifierTC', bc, (r) => octets(r.tunnelIfIdentifier)),
    bcCol('pmip6BindingMnInterfaceATT', 7, 'Pmip6MnInterfaceATT', bc, (r) => int(r.accessTechnologyType)),
    bcCol('pmip6BindingTimeRecentlyAccepted', 8, 'Pmip6TimeStamp64', bc, (r) => timestamp64(r.timeRecentlyAccepted)),

    scalar('pmip6LmaStatus', p(1, 3, 1, 1), 'Enumeration', () => status(s().lmaStatus), statusWrite((v) => ({ lmaStatus: v }))),
    column('pmip6LmaLMAAState', p(1, 3, 1, 2, 1, 3), 'Enumeration', lma.lmaAddresses, (r) => int(r.state)),
    scalar('pmip6LmaMinDelayBeforeBCEDelete', p(1, 3, 2, 1), 'Integer32', () => int(s().lmaMinDelayBeforeBCEDelete), msWrite('lmaMinDelayBeforeBCEDelete')),
    scalar('pmip6LmaMaxDelayBeforeNewBCEAssign', p(1, 3, 2, 2), 'Integer32', () => int(s().lmaMaxDelayBeforeNewBCEAssign), msWrite('lmaMaxDelayBeforeNewBCEAssign')),
    scalar('pmip6LmaTimestampValidityWindow', p(1, 3, 2, 3), 'Integer32', () => int(s().lmaTimestampValidityWindow), msWrite('lmaTimestampValidityWindow')),
    column('pmip6LmaMnIdentifier', p(1, 3, 2, 4, 1, 1), 'Pmip6MnIdentifier', lma.mobileNodes, (r) => octets(r.mnIdentifier)),
    column('pmip6LmaMnLLIdentifier', p(1, 3, 2, 5, 1, 1), 'Pmip6MnLLIdentifier', lma.mobileNodeInterfaces, (r) => octets(r.mnLLIdentifier)),
    column('pmip6LmaHomeNetworkPrefixLength', p(1, 3, 2, 6, 1, 3), 'InetAddressPrefixLength', lma.homeNetworkPrefixes, (r) => gauge(r.prefixLength)),
  ];
  const setLifetime = lma.setHomeNetworkPrefixLifetime?.bind(lma);
  objs.push(
    column('pmip6LmaHomeNetworkPrefixLifeTime', p(1, 3, 2, 6, 1, 4), 'Gauge32', lma.homeNetworkPrefixes, (r) => gauge(r.lifetime),
      setLifetime
        ? {
            asnType: T.Gauge32,
            check: (v) => (isInt(v) && v >= 0 && v <= 0xffffffff ? undefined : 'wrongValue'),
            apply: (index, v) => setLifetime(index, v as number),
            current: (r) => r.lifetime,
          }
        : undefined),
  );
  return objs;
}

function blCol(name: string, n: number, smiType: string, table: TableView<BindingUpdateListRow>, read: (r: BindingUpdateListRow) => Value): ColumnObject {
  return column(name, p(1, 2, 3, 1, 1, n), smiType, table, read);
}

function magObjects(mag: MagView, s: () => Pmip6SettingsValues): MibObject[] {
  const bl = mag.bindingUpdateList;
  return [
    scalar('pmip6MagStatus', p(1, 2, 1, 1), 'Enumeration', () => status(s().magStatus), statusWrite((v) => ({ magStatus: v }))),
    column('pmip6MagProxyCOAState', p(1, 2, 1, 2, 1, 3), 'Enumeration', mag.proxyCoas, (r) => int(r.state)),
    scalar('pmip6MagEnableMagLocalRouting', p(1, 2, 2, 1), 'TruthValue', () => truth(s().magEnableLocalRouting),
      truthWrite((b) => ({ magEnableLocalRouting: b }))),
    column('pmip6MagMnIdentifier', p(1, 2, 2, 2, 1, 1), 'Pmip6MnIdentifier', mag.mobileNodes, (r) => octets(r.mnIdentifier)),
    column('pmip6MagMnLLIdentifier', p(1, 2, 2, 3, 1, 1), 'Pmip6MnLLIdentifier', mag.mobileNodeInterfaces, (r) => octets(r.mnLLIdentifier)),
    column('pmip6MagHomeNetworkPrefixLength', p(1, 2, 2, 4, 1, 3), 'InetAddressPrefixLength', mag.homeNetworkPrefixes, (r) => gauge(r.prefixLength)),
    column('pmip6MagHomeNetworkPrefixLifeTime', p(1, 2, 2, 4, 1, 4), 'Unsigned32', mag.homeNetworkPrefixes, (r) => gauge(r.lifetime)),
    blCol('pmip6MagBLFlag', 1, 'TruthValue', bl, (r) => truth(r.proxyRegistration)),
    blCol('pmip6MagBLMnIndex', 2, 'Pmip6MnIndex', bl, (r) => gauge(r.mnIndex)),
    blCol('pmip6MagBLMnLLIndex', 3, 'Pmip6MnLLIndex', bl, (r) => gauge(r.mnLLIndex)),
    blCol('pmip6MagBLMagLinkLocalAddressType', 4, 'InetAddressType', bl, (r) => int(r.magLinkLocalAddress.type)),
    blCol('pmip6MagBLMagLinkLocalAddress', 5, 'InetAddress', bl, (r) => octets(r.magLinkLocalAddress.octets)),
    blCol('pmip6MagBLMagIfIdentifierToMn', 6, 'Ipv6AddressIfIdentifierTC', bl, (r) => octets(r.magIfIdentifierToMn)),
    blCol('pmip6MagBLTunnelIfIdentifier', 7, 'Ipv6AddressIfIdentifierTC', bl, (r) => octets(r.tunnelIfIdentifier)),
    blCol('pmip6MagBLMnInterfaceATT', 8, 'Pmip6MnInterfaceATT', bl, (r) => int(r.accessTechnologyType)),
    blCol('pmip6MagBLTimeRecentlyAccepted', 9, 'Pmip6TimeStamp64', bl, (r) => timestamp64(r.timeRecentlyAccepted)),
    column('pmip6MagProfMnIdentifier', p(1, 2, 3, 2, 1, 2), 'Pmip6MnIdentifier', mag.profiles, (r) => octets(r.mnIdentifier)),
    column('pmip6MagProfMnLocalMobilityAnchorAddressType', p(1, 2, 3, 2, 1, 3), 'InetAddressType', mag.profiles, (r) => int(r.lmaAddress.type)),
    column('pmip6MagProfMnLocalMobilityAnchorAddress', p(1, 2, 3, 2, 1, 4), 'InetAddress', mag.profiles, (r) => octets(r.lmaAddress.octets)),
  ];
}

// ---------------------------------------------------------------- the agent's own objects

/** Counters of the SNMP engine itself (RFC 3418 snmp group, RFC 3412 MPD, RFC 3413, RFC 3414 USM). */
export interface SnmpEngineCounters {
  snmpInPkts: number;
  snmpOutPkts: number;
  snmpInBadVersions: number;
  snmpInBadCommunityNames: number;
  snmpInBadCommunityUses: number;
  snmpInASNParseErrs: number;
  snmpSilentDrops: number;
  snmpProxyDrops: number;
  snmpUnknownSecurityModels: number;
  snmpInvalidMsgs: number;
  snmpUnknownPDUHandlers: number;
  snmpUnknownContexts: number;
  usmStatsUnsupportedSecLevels: number;
  usmStatsNotInTimeWindows: number;
  usmStatsUnknownUserNames: number;
  usmStatsUnknownEngineIDs: number;
  usmStatsWrongDigests: number;
  usmStatsDecryptionErrors: number;
}

export const COUNTER_OIDS: Record<keyof SnmpEngineCounters, number[]> = {
  snmpInPkts: [1, 3, 6, 1, 2, 1, 11, 1],
  snmpOutPkts: [1, 3, 6, 1, 2, 1, 11, 2],
  snmpInBadVersions: [1, 3, 6, 1, 2, 1, 11, 3],
  snmpInBadCommunityNames: [1, 3, 6, 1, 2, 1, 11, 4],
  snmpInBadCommunityUses: [1, 3, 6, 1, 2, 1, 11, 5],
  snmpInASNParseErrs: [1, 3, 6, 1, 2, 1, 11, 6],
  snmpSilentDrops: [1, 3, 6, 1, 2, 1, 11, 31],
  snmpProxyDrops: [1, 3, 6, 1, 2, 1, 11, 32],
  snmpUnknownSecurityModels: [1, 3, 6, 1, 6, 3, 11, 2, 1, 1],
  snmpInvalidMsgs: [1, 3, 6, 1, 6, 3, 11, 2, 1, 2],
  snmpUnknownPDUHandlers: [1, 3, 6, 1, 6, 3, 11, 2, 1, 3],
  snmpUnknownContexts: [1, 3, 6, 1, 6, 3, 12, 1, 5],
  usmStatsUnsupportedSecLevels: [1, 3, 6, 1, 6, 3, 15, 1, 1, 1],
  usmStatsNotInTimeWindows: [1, 3, 6, 1, 6, 3, 15, 1, 1, 2],
  usmStatsUnknownUserNames: [1, 3, 6, 1, 6, 3, 15, 1, 1, 3],
  usmStatsUnknownEngineIDs: [1, 3, 6, 1, 6, 3, 15, 1, 1, 4],
  usmStatsWrongDigests: [1, 3, 6, 1, 6, 3, 15, 1, 1, 5],
  usmStatsDecryptionErrors: [1, 3, 6, 1, 6, 3, 15, 1, 1, 6],
};

export interface SystemSources {
  counters: SnmpEngineCounters;
  sysDescr: string;
  sysName: string;
  engineId: () => Buffer;
  engineBoots: () => number;
  /** snmpEngineTime, seconds. */
  engineTime: () => number;
  maxMessageSize: number;
}

/** SNMPv2-MIB system/snmp scalars, SNMP-FRAMEWORK-MIB snmpEngine, MPD/target/USM counters. */
export function systemObjects(src: SystemSources): MibObject[] {
  const objs: MibObject[] = [
    scalar('sysDescr', [1, 3, 6, 1, 2, 1, 1, 1], 'DisplayString', () => octets(src.sysDescr)),
    scalar('sysObjectID', [1, 3, 6, 1, 2, 1, 1, 2], 'ObjectIdentifier', () => ({ type: T.Oid, value: PMIP6_MIB.join('.') })),
    scalar('sysUpTime', [1, 3, 6, 1, 2, 1, 1, 3], 'TimeTicks', (ctx) => ({ type: T.TimeTicks, value: ctx.upTime() })),
    scalar('sysName', [1, 3, 6, 1, 2, 1, 1, 5], 'DisplayString', () => octets(src.sysName)),
    scalar('snmpEnableAuthenTraps', [1, 3, 6, 1, 2, 1, 11, 30], 'Enumeration', () => int(2)),
    scalar('snmpEngineID', [1, 3, 6, 1, 6, 3, 10, 2, 1, 1], 'SnmpEngineID', () => octets(src.engineId())),
    scalar('snmpEngineBoots', [1, 3, 6, 1, 6, 3, 10, 2, 1, 2], 'Integer32', () => int(src.engineBoots())),
    scalar('snmpEngineTime', [1, 3, 6, 1, 6, 3, 10, 2, 1, 3], 'Integer32', () => int(src.engineTime())),
    scalar('snmpEngineMaxMessageSize', [1, 3, 6, 1, 6, 3, 10, 2, 1, 4], 'Integer32', () => int(src.maxMessageSize)),
  ];
  for (const [name, oid] of Object.entries(COUNTER_OIDS) as [keyof SnmpEngineCounters, number[]][]) {
    objs.push(scalar(name, oid, 'Counter32', () => counter(src.counters[name])));
  }
  return objs;
}
