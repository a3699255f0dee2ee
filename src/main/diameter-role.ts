// Wires the Diameter server (RFC 6733 + NASREQ with RFC 5779 AVPs) to the policy store
// (diameter-policy.ts), and its profile-change pushes (RAR / ASR) to the API's hook.
import type { Config } from '../config/index.ts';
import type { Store } from '../store/index.ts';
import { DiameterServer, loadTls } from '../diameter/index.ts';
import type { ProfileDirectory } from '../store/profile-directory.ts';
import { StoreDiameterPolicy } from './diameter-policy.ts';
import { StartupError, listening, setting } from './errors.ts';
import { logger } from '../util/log.ts';

export interface DiameterRole {
  server: DiameterServer;
  policy: StoreDiameterPolicy;
  /** For the API's profile-change hook: RAR (changed) or ASR (gone, disabled) to the serving MAGs. */
  profileChanged(mnId: string, gone: boolean): void;
  stop(): Promise<void>;
}

/** The TLS material from diameter.tlsCert / tlsKey / tlsCa, or null when none is configured. */
export function diameterTls(config: Config): ReturnType<typeof loadTls> | null {
  const c = config.diameter;
  if (!c.tlsCert && !c.tlsKey) return null;
  for (const [key, v] of [['diameter.tlsCert', c.tlsCert], ['diameter.tlsKey', c.tlsKey], ['diameter.tlsCa', c.tlsCa]] as const) {
    if (!v) throw new StartupError(`Diameter TLS: diameter.tlsCert, diameter.tlsKey and diameter.tlsCa go together (the CA checks peers' certificates); set ${setting(key)}`);
  }
  try {
    return loadTls({ cert: c.tlsCert, key: c.tlsKey, ca: c.tlsCa });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { path?: string };
    const key = err.path === c.tlsKey ? 'diameter.tlsKey' : err.path === c.tlsCa ? 'diameter.tlsCa' : 'diameter.tlsCert';
    throw new StartupError(`Diameter TLS: cannot read ${err.path ?? 'a certificate file'} (${err.code ?? err.message}); set ${setting(key)}`, { cause: e });
  }
}

export async function startDiameterRole(config: Config, store: Store, o: { directory?: ProfileDirectory } = {}): Promise<DiameterRole> {
  const c = config.diameter;
  const log = logger('diameter');
  const policy = new StoreDiameterPolicy(store, { directory: o.directory });
  const tls = diameterTls(config);
  const server = new DiameterServer({
    policy,
    identity: c.identity,
    realm: c.realm,
    hosts: c.bind,
    port: c.port,
    tls: tls ? { port: c.tlsPort, material: tls } : null,
    watchdogMs: c.watchdogMs,
    maxSessions: c.maxSessions,
    requestTimeoutMs: c.requestTimeoutMs,
    logger: log,
  });
  const ports = [{ key: 'diameter.port', port: c.port }, ...(tls ? [{ key: 'diameter.tlsPort', port: c.tlsPort }] : [])];
  await listening({ what: 'Diameter server', proto: 'TCP', ports, addressKey: 'diameter.bind' }, () => server.start());
  log.info({ identity: c.identity, realm: c.realm, tcp: server.ports.tcp, tls: tls ? server.ports.tls : 'off' }, 'Diameter server listening (RFC 6733, NASREQ + RFC 5779)');
  return {
    server,
    policy,
    profileChanged(mnId, gone) {
      policy.invalidate(mnId);
      server.profileChanged(mnId, gone).then(
        (outcomes) => {
          for (const x of outcomes) log.info({ mnId, peer: x.session.peer, kind: x.kind, outcome: x.outcome, resultCode: x.resultCode }, 'profile change pushed (RFC 6733 §8.3 RAR / §8.5 ASR)');
        },
        (e: unknown) => log.warn({ mnId, err: (e as Error).message }, 'profile change push failed'),
      );
    },
    stop: () => server.stop(),
  };
}
