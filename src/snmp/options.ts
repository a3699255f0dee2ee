// The agent's options, dependencies and statistics (the contract with main/ and config/),
// and the engine counters it starts from.
import type { Logger } from '../util/log.ts';
import type { SnmpEngineCounters } from './mib.ts';
import type { NotificationRate, NotificationStats, NotificationTarget } from './notify.ts';
import type { Pmip6Settings } from './settings.ts';
import type { Access, UsmUserConfig } from './usm.ts';
import type { ViewName } from './vacm.ts';
import type { LmaView, MagView } from './view.ts';

export interface CommunityConfig {
  name: string;
  /** Only read-only: RFC 3415 VACM here grants write to authPriv v3 users alone (a community travels in clear). */
  access?: Access;
  /** RFC 3415 read view (vacm.ts); default restricted. */
  view?: ViewName;
}

/** Plain options; config/ maps the snmp.* keys onto them. */
export interface SnmpAgentOptions {
  /** UDP port, default 161. 0 picks a free port (see addresses()). */
  port?: number;
  /** Addresses to bind, IPv4 and/or IPv6; default ['0.0.0.0', '::']. */
  bind?: string[];
  /** SNMPv2c communities. An empty list disables SNMPv2c. */
  communities?: CommunityConfig[];
  /** SNMPv3 USM users. */
  users?: UsmUserConfig[];
  /** snmpEngineID as hex (5..32 octets); default: generated once and persisted. */
  engineId?: string;
  /** Largest message the agent sends (RFC 3417: at least 484), default 65507. */
  maxMessageSize?: number;
  /** Where notifications go. */
  notificationTargets?: NotificationTarget[];
  /** Notification rate limit, default 10/s with a burst of 20. */
  notificationRate?: Partial<NotificationRate>;
  sysDescr?: string;
  sysName?: string;
}

export interface SnmpAgentDeps {
  /** Present when the process runs an LMA. */
  lma?: LmaView;
  /** Present when the process runs a MAG. */
  mag?: MagView;
  settings: Pmip6Settings;
  logger?: Logger;
}

/** Everything the agent counts: the SNMP engine counters plus requests and notifications. */
export interface SnmpAgentStats extends SnmpEngineCounters, NotificationStats {
  getRequests: number;
  getNextRequests: number;
  getBulkRequests: number;
  setRequests: number;
  /** SETs answered with an error-status other than noError. */
  setErrors: number;
  /** Responses replaced by tooBig (GET/GETNEXT/SET) or trimmed (GETBULK). */
  tooBig: number;
  /** Requests whose processing threw (answered genErr). */
  internalErrors: number;
  /** Variable names outside the SMI rules (empty, first arc above 2), answered as unknown names. */
  unusualNames: number;
}

/** The request half of SnmpAgentStats. */
export type RequestStats = Omit<SnmpAgentStats, keyof SnmpEngineCounters | keyof NotificationStats>;

export function newRequestStats(): RequestStats {
  return { getRequests: 0, getNextRequests: 0, getBulkRequests: 0, setRequests: 0, setErrors: 0, tooBig: 0, internalErrors: 0, unusualNames: 0 };
}

/** The SNMP engine's counters (their OIDs: COUNTER_OIDS in mib.ts), all zero at start. */
export function newEngineCounters(): SnmpEngineCounters {
  return {
    snmpInPkts: 0,
    snmpOutPkts: 0,
    snmpInBadVersions: 0,
    snmpInBadCommunityNames: 0,
    snmpInBadCommunityUses: 0,
    snmpInASNParseErrs: 0,
    snmpSilentDrops: 0,
    snmpProxyDrops: 0,
    snmpUnknownSecurityModels: 0,
    snmpInvalidMsgs: 0,
    snmpUnknownPDUHandlers: 0,
    snmpUnknownContexts: 0,
    usmStatsUnsupportedSecLevels: 0,
    usmStatsNotInTimeWindows: 0,
    usmStatsUnknownUserNames: 0,
    usmStatsUnknownEngineIDs: 0,
    usmStatsWrongDigests: 0,
    usmStatsDecryptionErrors: 0,
  };
}
