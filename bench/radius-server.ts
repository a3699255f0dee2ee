// Child process for bench/radius.ts: our RADIUS server in its own process(es) like
// FreeRADIUS, so its CPU and event loop are measured alone.
// argv: secret, profile count, workers (default 1), port (required when workers > 1),
// policy: "memory" (N in-memory profiles) or a postgres:// URL (StoreRadiusPolicy over a
// database bench/radius.ts populated), the store policy's profile directory mode (off, lazy,
// preload; default off: every request reads PostgreSQL), most MNs per batched profile query
// (default: the directory's; 1 = one query per request). SIGUSR2 empties the directory (a cold
// lazy run); "READY" comes after a preload.
// With workers > 1, Node's cluster shares the UDP socket between worker processes (each
// with its own policy copy and duplicate cache). Prints "READY <authPort> <pid,pid,...>"
// (the pids that serve) on stdout when listening; exits on SIGTERM.
import cluster from 'node:cluster';
import { FeatureVector } from '../src/policy/profile.ts';
import { MemoryRadiusPolicy, makeProfile } from '../src/radius/memory-policy.ts';
import type { RadiusPolicy } from '../src/radius/index.ts';
import { RadiusServer } from '../src/radius/server.ts';
import { StoreRadiusPolicy } from '../src/main/radius-policy.ts';
import { openPostgres } from '../src/store/pg.ts';
import { storeOn } from '../src/store/index.ts';
import { ProfileDirectory, type ProfileCacheMode } from '../src/store/profile-directory.ts';
import { benchMns } from './radius-profiles.ts';

const secret = process.argv[2];
const count = Number(process.argv[3]);
const workers = Number(process.argv[4] ?? 1);
const port = Number(process.argv[5] ?? 0);
const policyArg = process.argv[6] ?? 'memory';
const numArg = (i: number): number | undefined => (process.argv[i] === undefined || process.argv[i] === '' ? undefined : Number(process.argv[i]));
const directoryMode = (process.argv[7] || 'off') as ProfileCacheMode;
const batchSize = numArg(8);

async function memoryPolicy(): Promise<RadiusPolicy> {
  const policy = new MemoryRadiusPolicy();
  policy.addClient({ address: '127.0.0.1', secret, requireMessageAuthenticator: true, name: 'bench' });
  for (const m of benchMns(count)) {
    policy.addProfile(makeProfile({
      mnId: m.mnId, hnps: [m.hnp], lma: '2001:db8::1', ipv4HoA: m.hoa, ipv4PrefixLength: 16, ipv4DefaultRouter: '10.0.0.1',
      serviceSelection: 'internet', mip6FeatureVector: FeatureVector.PMIP6_SUPPORTED | FeatureVector.IP4_HOA_SUPPORTED,
    }));
  }
  return policy;
}

async function serve(): Promise<RadiusServer> {
  let close = async (): Promise<void> => undefined;
  let policy: RadiusPolicy;
  if (policyArg === 'memory') {
    policy = await memoryPolicy();
  } else {
    const db = await openPostgres(policyArg, { max: 16 });
    const store = storeOn(db);
    const directory = new ProfileDirectory(store, { mode: directoryMode, listenUrl: policyArg, batchSize });
    await directory.start();
    process.on('SIGUSR2', () => directory.invalidate());
    close = async () => {
      await directory.close();
      await db.close();
    };
    policy = new StoreRadiusPolicy(store, { directory });
  }
  const server = new RadiusServer({ policy, hosts: ['127.0.0.1'], authPort: port, acctPort: 0, rateLimit: { perSecond: 1e9, burst: 1e9 } });
  await server.start();
  process.on('SIGTERM', () => {
    void server.stop().then(close).then(() => process.exit(0));
  });
  return server;
}

if (workers > 1 && cluster.isPrimary) {
  const pids: number[] = [];
  for (let i = 0; i < workers; i++) {
    const w = cluster.fork();
    w.on('message', (m: { ready?: number }) => {
      if (m.ready === undefined) return;
      pids.push(w.process.pid!);
      if (pids.length === workers) process.stdout.write(`READY ${m.ready} ${pids.join(',')}\n`);
    });
  }
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    setTimeout(() => process.exit(0), 200);
  });
} else {
  const server = await serve();
  if (cluster.isWorker) process.send!({ ready: server.ports.auth });
  else process.stdout.write(`READY ${server.ports.auth} ${process.pid}\n`);
}
