// Wires the RADIUS server (RFC 6572 AAA for MAGs and LMAs) to the policy store, and the
// RFC 5176 dynamic-authorisation client the API calls when an operator changes a profile.
import type { Config } from '../config/index.ts';
import type { Store } from '../store/index.ts';
import { RadiusServer, DynamicAuthorizer } from '../radius/index.ts';
import { StoreRadiusPolicy } from './radius-policy.ts';
import type { ProfileDirectory } from '../store/profile-directory.ts';
import { logger } from '../util/log.ts';
import { listening } from './errors.ts';
import { openPeerDirectory, type PeerDirectory } from '../store/peer-directory.ts';

export interface RadiusRole {
  server: RadiusServer;
  /** For the API's profile-change hook: CoA-Request or Disconnect-Request to the serving MAGs. */
  profileChanged(mnId: string, gone: boolean): void;
  stop(): Promise<void>;
}

/** `directory`: where profiles come from (pmip6 start shares one with the LMA); default batched database reads. */
export async function startRadiusRole(config: Config, store: Store, o: { directory?: ProfileDirectory; peers?: PeerDirectory } = {}): Promise<RadiusRole> {
  const c = config.radius;
  const log = logger('radius');
  const peers = o.peers ?? (await openPeerDirectory(store, { listenUrl: config.databaseUrl || undefined, tables: ['aaa_clients'] }));
  const closePeers = () => (o.peers ? Promise.resolve() : peers.close());
  const policy = new StoreRadiusPolicy(store, { directory: o.directory, peers });
  const server = new RadiusServer({ policy, hosts: c.bind, authPort: c.authPort, acctPort: c.acctPort, requireMessageAuthenticator: c.requireMessageAuthenticator, logger: log, outageServeMs: config.store.outageServeMs });
  const unfollow = peers.onChange((t) => {
    if (t === 'aaa_clients') server.invalidateClients();
  });
  const ports = [
    { key: 'radius.authPort', port: c.authPort },
    { key: 'radius.acctPort', port: c.acctPort },
  ];
  try {
    await listening({ what: 'RADIUS server', proto: 'UDP', ports, addressKey: 'radius.bind' }, () => server.start());
  } catch (e) {
    unfollow();
    await closePeers();
    throw e;
  }
  const dac = new DynamicAuthorizer({ policy, defaultPort: c.coaPort, logger: logger('radius-dac') });
  return {
    server,
    profileChanged(mnId, gone) {
      policy.invalidate(mnId); // at once here; other processes follow the database's notification
      const run = gone ? dac.disconnect(mnId) : dac.profileChanged(mnId);
      run.then(
        (outcomes) => {
          for (const o of outcomes) log.info({ mnId, mag: o.session.clientAddress, kind: o.kind, result: o.result, errorCause: o.errorCause }, 'dynamic authorisation (RFC 5176)');
        },
        (e: unknown) => log.warn({ mnId, err: (e as Error).message }, 'dynamic authorisation failed'),
      );
    },
    async stop() {
      unfollow();
      await server.stop();
      await closePeers();
    },
  };
}
