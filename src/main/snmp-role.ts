// Wires the SNMP agent (PMIPV6-MIB, RFC 6475) to the roles in this process: the LMA's and
// MAG's live tables, tunnel notifications, and the read-write objects, which persist in
// dataDir and are applied to the running roles when a manager SETs them.
import { join } from 'node:path';
import type { Config } from '../config/index.ts';
import { Pmip6SnmpAgent, Pmip6Settings, JsonFilePersistence, type CommunityConfig, type UsmUserConfig, type NotificationTarget, type Pmip6EventSink } from '../snmp/index.ts';
import type { Lma } from '../lma/index.ts';
import { lmaSnmpView } from '../lma/snmp-view.ts';
import type { Mag, MagEventSink } from '../mag/index.ts';
import { MagSnmpAdapter } from '../mag/snmp-view.ts';
import { logger } from '../util/log.ts';
import { listening } from './errors.ts';

export class SnmpConfigError extends Error {}

/** "public" (read-only) or "name:rw". */
export function parseCommunity(s: string): CommunityConfig {
  const [name, access] = s.split(':');
  if (!name) throw new SnmpConfigError(`snmp.communities: empty community in "${s}"`);
  if (access !== undefined && access !== 'ro' && access !== 'rw') throw new SnmpConfigError(`snmp.communities: "${s}": access must be ro or rw`);
  return { name, access: access === 'rw' ? 'read-write' : 'read-only' };
}

const AUTH = new Set(['sha', 'sha224', 'sha256', 'sha384', 'sha512']);

/** "name:authProto:authKey[:aes:privKey][:rw]", e.g. "noc:sha256:authpass12:aes:privpass12". */
export function parseUser(s: string): UsmUserConfig {
  const p = s.split(':');
  const name = p[0];
  if (!name) throw new SnmpConfigError(`snmp.users: empty user name in "${s.replace(/:.*/, ':…')}"`);
  const rw = p[p.length - 1] === 'rw' || p[p.length - 1] === 'ro' ? p.pop() : undefined;
  const u: UsmUserConfig = { name, access: rw === 'rw' ? 'read-write' : 'read-only' };
  if (p.length >= 3) {
    if (!AUTH.has(p[1])) throw new SnmpConfigError(`snmp.users: user ${name}: authentication protocol must be one of ${[...AUTH].join(', ')}`);
    if (p[2].length < 8) throw new SnmpConfigError(`snmp.users: user ${name}: authentication key must have at least 8 characters`);
    u.authProtocol = p[1] as UsmUserConfig['authProtocol'];
    u.authKey = p[2];
  }
  if (p.length >= 5) {
    if (p[3] !== 'aes') throw new SnmpConfigError(`snmp.users: user ${name}: privacy protocol must be aes`);
    if (p[4].length < 8) throw new SnmpConfigError(`snmp.users: user ${name}: privacy key must have at least 8 characters`);
    u.privProtocol = 'aes' as UsmUserConfig['privProtocol'];
    u.privKey = p[4];
  }
  if (p.length !== 1 && p.length !== 3 && p.length !== 5) throw new SnmpConfigError(`snmp.users: user ${name}: expected name:auth:key[:aes:key][:rw]`);
  return u;
}

/** "host[:port]" or "[v6]:port" (v2c trap with snmp.trapCommunity), or "v3:user@host[:port]" (inform as that user). */
export function parseTarget(s: string, users: UsmUserConfig[], community: string): NotificationTarget {
  let rest = s;
  let user: UsmUserConfig | undefined;
  if (rest.startsWith('v3:')) {
    const at = rest.indexOf('@');
    const name = rest.slice(3, at);
    user = users.find((u) => u.name === name);
    if (at < 0 || !user) throw new SnmpConfigError(`snmp.trapTargets: "${s}": v3 targets are v3:<user>@host[:port] with a user from snmp.users`);
    rest = rest.slice(at + 1);
  }
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest) ?? /^([^:]+)(?::(\d+))?$/.exec(rest) ?? /^([0-9a-fA-F:]+)$/.exec(rest);
  if (!m) throw new SnmpConfigError(`snmp.trapTargets: "${s}" is not host[:port]`);
  const port = m[2] ? Number(m[2]) : 162;
  return user ? { address: m[1], port, version: '3', user, inform: true } : { address: m[1], port, version: '2c', community };
}

export interface SnmpRole {
  agent: Pmip6SnmpAgent;
  settings: Pmip6Settings;
  /**
   * With a MAG: the sink that keeps the MAG tables and pmip6MagHomeTunnel* notifications in
   * step with the Binding Update List. The caller feeds it the MAG's events (MagDeps.events,
   * e.g. through a late-bound sink, since the MAG exists before the agent).
   */
  magEvents?: MagEventSink;
  stop(): Promise<void>;
}

export async function startSnmpRole(config: Config, roles: { lma?: Lma; mag?: Mag }): Promise<SnmpRole | undefined> {
  const c = config.snmp;
  const log = logger('snmp');
  const communities = c.communities.map(parseCommunity);
  const users = c.users.map(parseUser);
  if (communities.length === 0 && users.length === 0) {
    log.info('SNMP agent not started: no snmp.communities or snmp.users configured');
    return undefined;
  }
  const targets = c.trapTargets.map((t) => parseTarget(t, users, c.trapCommunity || communities[0]?.name || 'public'));
  const settings = await Pmip6Settings.open(new JsonFilePersistence(join(config.dataDir, 'snmp-settings.json')), {
    lmaStatus: roles.lma ? 'enabled' : 'disabled',
    magStatus: roles.mag ? 'enabled' : 'disabled',
    lmaMinDelayBeforeBCEDelete: config.lma.minDelayBeforeBCEDelete,
    lmaMaxDelayBeforeNewBCEAssign: config.lma.maxDelayBeforeNewBCEAssign,
    lmaTimestampValidityWindow: config.lma.timestampValidityWindow,
  });
  // The adapters notify through the agent, which needs the adapters' views: a late-bound sink.
  const late: { agent?: Pmip6SnmpAgent } = {};
  const sink: Pmip6EventSink = { lmaTunnel: (e) => late.agent?.lmaTunnel(e), magTunnel: (e) => late.agent?.magTunnel(e) };
  const lmaAdapter = roles.lma ? lmaSnmpView(roles.lma, { notify: sink }) : undefined;
  const magAdapter = roles.mag ? new MagSnmpAdapter(roles.mag, { events: sink }) : undefined;
  const agent = new Pmip6SnmpAgent(
    { port: c.port, bind: c.bind, communities, users, notificationTargets: targets, notificationRate: { perSecond: c.notificationRate, burst: Math.max(1, Math.ceil(c.notificationRate * 2)) }, sysName: config.lma.id || config.mag.id },
    { lma: lmaAdapter?.view, mag: magAdapter?.view, settings, logger: log },
  );
  late.agent = agent;
  // Saved values win over the configuration (RFC 6475 read-write objects persist).
  const applyLma = () => {
    const v = settings.values;
    roles.lma?.configure({
      minDelayBeforeBceDeleteMs: v.lmaMinDelayBeforeBCEDelete,
      maxDelayBeforeNewBceAssignMs: v.lmaMaxDelayBeforeNewBCEAssign,
      timestampValidityWindowMs: v.lmaTimestampValidityWindow,
      mobileNodeGeneratedTimestampInUse: v.mobileNodeGeneratedTimestampInUse,
    });
  };
  applyLma();
  const unsubscribe = settings.onChange((_v, changed) => {
    applyLma();
    log.info({ changed }, 'PMIPV6-MIB settings changed by SNMP SET; applied and saved');
    if (changed.includes('lmaStatus') || changed.includes('magStatus')) {
      log.warn({ lmaStatus: settings.values.lmaStatus, magStatus: settings.values.magStatus }, 'role status objects are saved; they take effect at the next start');
    }
  });
  try {
    await listening({ what: 'SNMP agent', proto: 'UDP', ports: [{ key: 'snmp.port', port: c.port }], addressKey: 'snmp.bind' }, () => agent.start());
  } catch (e) {
    unsubscribe();
    lmaAdapter?.close();
    throw e;
  }
  return {
    agent,
    settings,
    magEvents: magAdapter,
    async stop() {
      unsubscribe();
      lmaAdapter?.close();
      await agent.stop();
    },
  };
}
