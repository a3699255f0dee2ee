// Wiring: builds the roles a deployment asks for from one Config, starts them in order
// (store, then servers, then the API) and stops them in reverse. Only this folder knows
// which concrete pieces are plugged together (docs/ARCHITECTURE.md).
import { createServer, type Server } from 'node:http';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { createApp } from '../api/app.ts';
import { enableDefaultMetrics } from '../metrics/registry.ts';
import { logger } from '../util/log.ts';
import { startLmaRole, type LmaRole } from './lma-role.ts';
import { checkDataDir, listening } from './errors.ts';
import { startRadiusRole, type RadiusRole } from './radius-role.ts';
import { startDiameterRole, type DiameterRole } from './diameter-role.ts';
import { startSnmpRole, type SnmpRole } from './snmp-role.ts';
import { openProfileDirectory, type ProfileDirectory } from '../store/profile-directory.ts';
import { openPeerDirectory, type PeerDirectory } from '../store/peer-directory.ts';
import { loadSecretBox, type SecretBox } from '../store/secret-box.ts';
import { makePrivate, privateUmask } from './private-files.ts';

export interface Role {
  name: string;
  stop(): Promise<void>;
}

export interface RunningSuite {
  config: Config;
  store: Store;
  /** Base URL of the API when it runs (http://host:port). */
  apiUrl?: string;
  lma?: LmaRole;
  radius?: RadiusRole;
  diameter?: DiameterRole;
  snmp?: SnmpRole;
  /** Profiles in memory for the LMA and the AAA servers (one instance for all). */
  profiles?: ProfileDirectory;
  /** The MAG and RADIUS client tables in memory (issue 9); reload() after writing them directly. */
  peers?: PeerDirectory;
  roles: Role[];
  stop(): Promise<void>;
}

/** The API token: from config, or generated once into dataDir/api-token (mode 0600). */
export function ensureApiToken(config: Config): { token: string; file?: string } {
  if (config.api.token) return { token: config.api.token };
  mkdirSync(config.dataDir, { recursive: true });
  const file = join(config.dataDir, 'api-token');
  if (!existsSync(file)) writeFileSync(file, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token: readFileSync(file, 'utf8').trim(), file };
}

/** The key sealing AAA shared secrets (security.secretKey, else its file in dataDir). */
export function secretBox(config: Config): { box: SecretBox; source: string } {
  const s = config.security;
  return loadSecretBox({ key: s.secretKey, file: s.secretKeyFile || join(config.dataDir, 'secret.key'), previous: s.previousSecretKeys });
}

export function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

export async function startSuite(config: Config): Promise<RunningSuite> {
  const log = logger('main');
  enableDefaultMetrics();
  privateUmask();
  checkDataDir(config.dataDir);
  makePrivate(config.dataDir);
  const { box, source } = secretBox(config);
  const store = await openStore({
    databaseUrl: config.databaseUrl || undefined, dataDir: config.dataDir, connectTimeoutMs: config.store.connectTimeoutMs, secrets: box,
    embeddedSharedBuffers: config.store.embeddedSharedBuffers,
  });
  makePrivate(config.dataDir); // what PGlite created before the umask applied (an older version's files)
  log.info({ store: store.db.kind, where: config.databaseUrl ? 'postgres' : config.dataDir, secretKey: source, secretKeyId: box.keyId }, 'policy store open and migrated');
  try {
    const n = await store.aaaClients.reseal();
    if (n > 0) log.info({ clients: n }, 'AAA shared secrets sealed with the current key');
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'could not re-seal AAA shared secrets');
  }
  const roles: Role[] = [];
  let apiUrl: string | undefined;
  let lma: LmaRole | undefined;
  let radius: RadiusRole | undefined;
  let diameter: DiameterRole | undefined;
  let snmp: SnmpRole | undefined;
  let profiles: ProfileDirectory | undefined;
  let peers: PeerDirectory | undefined;
  try {
    // Its readers: the RADIUS and Diameter servers, and the LMA unless it asks an AAA server instead.
    const lmaUsesAaa = config.aaa.protocol === 'radius' ? config.radius.servers.length > 0 : config.diameter.peers.length > 0;
    if (config.radius.enabled || config.diameter.enabled || (config.lma.enabled && !lmaUsesAaa)) {
      const d = await openProfileDirectory(store, {
        mode: config.store.profileCache,
        listenUrl: config.databaseUrl || undefined,
        maxStaleMs: config.store.profileCacheMaxStaleMs,
        outageServeMs: config.store.outageServeMs,
      });
      profiles = d;
      roles.push({ name: 'profile-directory', stop: () => d.close() });
    }
    // The MAG and RADIUS client tables in memory (issue 9): one instance for the LMA and the RADIUS server.
    if (config.radius.enabled || config.lma.enabled) {
      const d = await openPeerDirectory(store, { listenUrl: config.databaseUrl || undefined });
      peers = d;
      roles.push({ name: 'peer-directory', stop: () => d.close() });
    }
    if (config.lma.enabled) {
      const role = await startLmaRole(config, store, undefined, { directory: profiles, peers });
      lma = role;
      roles.push({ name: 'lma', stop: () => role.stop() });
    }
    if (config.radius.enabled) {
      const role = await startRadiusRole(config, store, { directory: profiles, peers });
      radius = role;
      roles.push({ name: 'radius', stop: () => role.stop() });
    }
    if (config.diameter.enabled) {
      const role = await startDiameterRole(config, store, { directory: profiles });
      diameter = role;
      roles.push({ name: 'diameter', stop: () => role.stop() });
    }
    if (config.snmp.enabled) {
      const role = await startSnmpRole(config, { lma: lma?.lma, signalling: lma?.signalling });
      if (role) {
        snmp = role;
        roles.push({ name: 'snmp', stop: () => role.stop() });
      }
    }
    if (config.api.enabled) {
      const { token, file } = ensureApiToken(config);
      const app = createApp({
        store,
        token,
        bodyLimit: config.api.bodyLimit,
        bindings: () => lma?.bindings,
        onPeerChange: async (table) => peers?.reload(table),
        // RFC 5176 CoA / Disconnect, RFC 6733 RAR / ASR: a changed, disabled or deleted profile
        // reaches the MAGs serving the MN.
        onProfileChange: ({ before, after }) => {
          profiles?.invalidate(before.mnId); // at once in this process; others follow the database's notification
          radius?.profileChanged(before.mnId, after === null || !after.enabled);
          diameter?.profileChanged(before.mnId, after === null || !after.enabled);
        },
      });
      const server = createServer(app);
      const addr = await listening({ what: 'operator API', proto: 'TCP', ports: [{ key: 'api.port', port: config.api.port }], addressKey: 'api.host' }, () => listen(server, config.api.port, config.api.host));
      const host = addr.family === 'IPv6' ? `[${addr.address === '::' ? '::1' : addr.address}]` : addr.address === '0.0.0.0' ? '127.0.0.1' : addr.address;
      apiUrl = `http://${host}:${addr.port}`;
      log.info({ url: apiUrl, tokenFile: file }, file ? `operator API listening; bearer token in ${file}` : 'operator API listening');
      roles.push({
        name: 'api',
        stop: () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      });
    }
  } catch (e) {
    for (const r of roles.reverse()) await r.stop().catch(() => undefined);
    await store.close();
    throw e;
  }
  let stopped = false;
  return {
    config,
    store,
    apiUrl,
    lma,
    radius,
    diameter,
    snmp,
    profiles,
    peers,
    roles,
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const r of [...roles].reverse()) {
        try {
          await r.stop();
        } catch (e) {
          log.warn({ role: r.name, err: (e as Error).message }, 'error while stopping');
        }
      }
      await store.close();
      log.info('stopped');
    },
  };
}
