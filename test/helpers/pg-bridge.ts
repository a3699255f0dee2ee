// PostgreSQL for a process inside a network namespace: 127.0.0.1:5432 there is the
// namespace's own loopback, so this bridges a Unix socket (file system paths are shared
// across network namespaces) to the test machine's PostgreSQL on 127.0.0.1:5432.
// The server still sees a TCP connection from 127.0.0.1 (trust, as for every test database).
import { createServer, connect, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PgBridge {
  /** A postgres:// URL for `database` through the bridge (libpq style: host = socket folder). */
  url(database: string): string;
  close(): Promise<void>;
}

export async function pgUnixBridge(target = { host: '127.0.0.1', port: 5432 }): Promise<PgBridge> {
  const dir = mkdtempSync(join(tmpdir(), 'pmip6-pgsock-'));
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(join(dir, `.s.PGSQL.${target.port}`), r));
  return {
    url: (database) => `postgres://postgres@/${database}?host=${encodeURIComponent(dir)}&port=${target.port}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
