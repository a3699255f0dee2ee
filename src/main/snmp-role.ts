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
import { ipv6ToString, parseIpv6 } from '../mh/index.ts';
import type { Pmip6SettingsValues, SettingKey } from '../snmp/index.ts';
import type { SignallingProtection } from '../security/ipsec.ts';

export class SnmpConfigError extends Error {}

/**
 * "name", "name:ro", and a view: "name:full" / "name:restricted" (RFC 3415, src/snmp/vacm.ts;
 * default restricted). "name:rw" is refused: a v2c community travels in clear, so write access
 * is for authPriv v3 users only.
 */
export function parseCommunity(s: string): CommunityConfig {
  const [name, ...opts] = s.split(':');
  if (!name) throw new SnmpConfigError(`snmp.communities: empty community in "${s}"`);
  const c: CommunityConfig = { name, access: 'read-only' };
  for (const o of opts) {
    if (o === 'rw') {
      throw new SnmpConfigError(`snmp.communities: "${name}:rw" refused: an SNMPv2c community travels in clear and may only read; give write access to an SNMPv3 authPriv user instead (snmp.users "name:sha256:authKey:aes:privKey:rw")`);
    }
    if (o === 'full' || o === 'restricted') c.view = o;
    else if (o !== 'ro') throw new SnmpConfigError(`snmp.communities: "${name}": "${o}" is not ro, full or restricted`);
  }
  return c;
}

const AUTH = new Set(['sha', 'sha224', 'sha256', 'sha384', 'sha512']);

/**
 * "name:authProto:authKey[:aes:privKey][:rw][:full|:restricted]", e.g. "noc:sha256:authpass12:aes:privpass12".
 * Read view default: full at authPriv, restricted below (src/snmp/vacm.ts); ":rw" only with privacy.
 */
export function parseUser(s: string): UsmUserConfig {
  const p = s.split(':');
  const name = p[0];
  if (!name) throw new SnmpConfigError(`snmp.users: empty user name in "${s.replace(/:.*/, ':…')}"`);
  let rw: string | undefined;
  let view: 'full' | 'restricted' | undefined;
  for (;;) {
    const last = p[p.length - 1];
    if (p.length > 1 && (last === 'rw' || last === 'ro') && rw === undefined) rw = p.pop();
    else if (p.length > 1 && (last === 'full' || last === 'restricted') && view === undefined) view = p.pop() as 'full' | 'restricted';
    else break;
  }
  const u: UsmUserConfig = { name, access: rw === 'rw' ? 'read-write' : 'read-only', view };
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
  if (p.length !== 1 && p.length !== 3 && p.length !== 5) throw new SnmpConfigError(`snmp.users: user ${name}: expected name:auth:key[:aes:key][:rw][:full|:restricted]`);
  if (rw === 'rw' && !u.privProtocol) {
    throw new SnmpConfigError(`snmp.users: user ${name}: ":rw" needs authPriv (name:auth:key:aes:privKey:rw); write access is never given without authentication and privacy`);
  }
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

/**
 * The first setting of a SET this process cannot put into effect: the role status objects
 * (roles run by configuration: a SET does not start or stop them), the LMA timers without an
 * LMA, the MAG's link-local address without a MAG, and what this MAG does not implement
 * (a fixed link-layer address, local routing, RFC 5213 §9.2-9.3).
 */
export function refusedSetting(patch: Partial<Pmip6SettingsValues>, roles: { lma?: unknown; mag?: unknown }): SettingKey | undefined {
  for (const k of Object.keys(patch) as SettingKey[]) {
    switch (k) {
      case 'lmaStatus':
      case 'magStatus':
      case 'fixedMagLinkLayerAddress':
      case 'magEnableLocalRouting':
        return k;
      case 'lmaMinDelayBeforeBCEDelete':
      case 'lmaMaxDelayBeforeNewBCEAssign':
      case 'lmaTimestampValidityWindow':
      case 'mobileNodeGeneratedTimestampInUse':
        if (!roles.lma) return k;
        break;
      case 'fixedMagLinkLocalAddress':
        if (!roles.mag) return k;
        break;
    }
  }
  return undefined;
}

/**
 * sysDescr (SNMPv2-MIB) says how MAG-LMA signalling is protected: RFC 6475 has no object for
 * it, and an operator walking the agent should see "UNPROTECTED" where RFC 5213 §4 is not met.
 */
export function sysDescr(signalling: SignallingProtection | undefined): string {
  const base = 'PMIP6 Suite: Proxy Mobile IPv6 (RFC 5213) MAG/LMA, PMIPV6-MIB (RFC 6475)';
  if (signalling === undefined) return base;
  return `${base}; MAG-LMA signalling ${signalling === 'ipsec' ? 'protected by IPsec' : 'UNPROTECTED (no IPsec, RFC 5213 §4)'}`;
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

export async function startSnmpRole(config: Config, roles: { lma?: Lma; mag?: Mag; signalling?: SignallingProtection }): Promise<SnmpRole | undefined> {
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
    ...(roles.mag ? { fixedMagLinkLocalAddress: { type: 2 as const, octets: parseIpv6(roles.mag.config.fixedMagLinkLocal) } } : {}),
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
    { port: c.port, bind: c.bind, communities, users, notificationTargets: targets, notificationRate: { perSecond: c.notificationRate, burst: Math.max(1, Math.ceil(c.notificationRate * 2)) }, sysName: config.lma.id || config.mag.id, sysDescr: sysDescr(roles.signalling) },
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
  const applyMag = () => {
    const a = settings.values.fixedMagLinkLocalAddress;
    // RFC 5213 §9.3: all zeros = no fixed address (the PBU then asks the LMA for one).
    if (roles.mag && a.octets.length === 16) roles.mag.config.fixedMagLinkLocal = ipv6ToString(a.octets);
  };
  applyLma();
  applyMag();
  // A SET takes effect here or is refused (inconsistentValue); nothing is only saved for later.
  settings.guard((patch) => refusedSetting(patch, roles));
  const unsubscribe = settings.onChange((_v, changed) => {
    applyLma();
    applyMag();
    log.info({ changed }, 'PMIPV6-MIB settings changed by SNMP SET; applied and saved');
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
