// Child process for bench/diameter.ts: our Diameter server on the PostgreSQL store the bench
// populated (StoreDiameterPolicy: peers from aaa_clients, profiles from the profile directory),
// in its own process so its CPU and RSS are measured alone.
// argv: postgres URL, profile directory mode (off, lazy, preload; default preload), port (0 = any).
// Prints "READY <port> <pid>" once listening (after the preload); exits on SIGTERM.
import { openPostgres } from '../src/store/pg.ts';
import { storeOn } from '../src/store/index.ts';
import { ProfileDirectory, type ProfileCacheMode } from '../src/store/profile-directory.ts';
import { DiameterServer } from '../src/diameter/index.ts';
import { StoreDiameterPolicy } from '../src/main/diameter-policy.ts';

const url = process.argv[2];
const mode = (process.argv[3] || 'preload') as ProfileCacheMode;
const port = Number(process.argv[4] ?? 0);

const db = await openPostgres(url, { max: 16 });
const store = storeOn(db);
const directory = new ProfileDirectory(store, { mode, listenUrl: url });
await directory.start();
const policy = new StoreDiameterPolicy(store, { directory });
const server = new DiameterServer({ policy, identity: 'aaa.example.net', realm: 'example.net', hosts: ['127.0.0.1'], port, maxInFlight: 4096 });
await server.start();
process.on('SIGTERM', () => {
  void server.stop().then(() => directory.close()).then(() => db.close()).then(() => process.exit(0));
});
process.stdout.write(`READY ${server.ports.tcp} ${process.pid}\n`);
