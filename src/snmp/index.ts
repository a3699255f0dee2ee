/**
 * SNMP agent serving PMIPV6-MIB (RFC 6475) from the live LMA / MAG state.
 * Import from here: `import { Pmip6SnmpAgent, Pmip6Settings } from '../snmp/index.ts'`.
 *
 *   const settings = await Pmip6Settings.open(new JsonFilePersistence(`${dataDir}/snmp.json`), initial)
 *   const agent = new Pmip6SnmpAgent(options, { lma?, mag?, settings, logger? })
 *   await agent.start() / await agent.stop() / agent.addresses() / agent.stats
 *   agent.lmaTunnel(event) / agent.magTunnel(event)          (Pmip6EventSink: notifications)
 *
 * The roles expose LmaView / MagView (view.ts); LmaTables / MagTables (role-tables.ts)
 * implement them over binding sources. See README.md in this folder.
 */
export { Pmip6SnmpAgent } from './agent.ts';
export type { CommunityConfig, SnmpAgentDeps, SnmpAgentOptions, SnmpAgentStats } from './options.ts';
export type { NotificationRate, NotificationTarget } from './notify.ts';
export type { Access, AuthProtocol, PrivProtocol, UsmUserConfig } from './usm.ts';
export { DEFAULT_SETTINGS, JsonFilePersistence, MemoryPersistence, Pmip6Settings, SettingsError } from './settings.ts';
export type { Pmip6SettingsValues, RoleStatus, SettingKey, SettingsPersistence } from './settings.ts';
export { LmaTables, MagTables } from './role-tables.ts';
export type { HomeNetworkPrefix, LmaBindingSource, LmaTablesOptions, MagBindingSource } from './role-tables.ts';
export { OrderedTable, bindingCacheIndex, bulIndex, compareIndex, hnpIndex, inetAddr, inetIndex, parseInetIndex } from './table.ts';
export * from './view.ts';
