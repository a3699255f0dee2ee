// Problems a person can fix get one line that names the problem and the setting to change,
// exit status 2 and no stack trace (issue 8 item 6), from the real command (bin/pmip6.js).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPgDatabase } from '../helpers/db.ts';
import { assertBuilt, freePort, pmip6 } from '../helpers/cli.ts';

interface Outcome {
  code: number | null;
  stderr: string;
}

async function fails(args: string[], env: Record<string, string>, o: { uid?: number } = {}): Promise<Outcome> {
  const c = pmip6(args, { PMIP6_LOG_LEVEL: 'silent', ...env }, { bin: true, ...o });
  const code = await c.exited;
  return { code, stderr: c.stderr() };
}

/** Exit 2, exactly one line on stderr matching `re`, no stack trace. */
function oneLine(r: Outcome, re: RegExp): void {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(r.code, 2, r.stderr);
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
  assert.match(lines[0], /^pmip6: /);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assert.match(lines[0], re);
}

const udpTaken = (host: string): Promise<{ port: number; socket: Socket }> =>
  new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.bind(0, host, () => resolve({ port: socket.address().port, socket }));
  });

describe('errors a person can act on', () => {
  let dir: string;
  let pg: Awaited<ReturnType<typeof createPgDatabase>>;
  /** `pmip6 start` on PostgreSQL with every listener on a free port and only `only` enabled. */
  let startEnv: (only: 'api' | 'lma' | 'radius' | 'snmp', extra: Record<string, string>) => Promise<Record<string, string>>;

  before(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'pmip6-errors-'));
    pg = await createPgDatabase('pmip6_errors');
    startEnv = async (only, extra) => ({
      DATABASE_URL: pg.url,
      PMIP6_DATA_DIR: join(dir, 'data'),
      PMIP6_API_HOST: '127.0.0.1',
      PMIP6_API_PORT: String(await freePort()),
      PMIP6_API_ENABLED: String(only === 'api'),
      PMIP6_LMA_ENABLED: String(only === 'lma'),
      PMIP6_RADIUS_ENABLED: String(only === 'radius'),
      PMIP6_SNMP_ENABLED: String(only === 'snmp'),
      ...extra,
    });
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await pg.drop();
  });

  it('an unknown key in the environment names the nearest known key', async () => {
    oneLine(await fails(['profile', 'list'], { PMIP6_DATA_DIR: dir, PMIP6_API_PROT: '8080' }), /PMIP6_API_PROT: not a configuration key; the nearest is PMIP6_API_PORT$/);
  });

  it('an unknown key in the config file names the file and the nearest known key', async () => {
    const f = join(dir, 'typo.json');
    writeFileSync(f, JSON.stringify({ lma: { udpPrt: 5436 } }));
    oneLine(await fails(['-c', f, 'profile', 'list'], { PMIP6_DATA_DIR: dir }), new RegExp(`config file ${f}: unknown key "lma\\.udpPrt"; the nearest is "lma\\.udpPort"`));
  });

  it('logLevel that is not a level', async () => {
    oneLine(await fails(['profile', 'list'], { PMIP6_DATA_DIR: dir, PMIP6_LOG_LEVEL: 'verbose' }), /logLevel \(environment PMIP6_LOG_LEVEL\) = "verbose": .*"debug"/);
  });

  it('a malformed DATABASE_URL, without echoing its password', async () => {
    const r = await fails(['profile', 'list'], { DATABASE_URL: 'postgres//pmip6:hunter2@db/pmip6' });
    oneLine(r, /databaseUrl \(environment DATABASE_URL\) = .*must be empty \(embedded store\) or a URL postgres:\/\//);
    assert.doesNotMatch(r.stderr, /hunter2/);
  });

  it('a database that does not exist: retried for store.connectTimeoutMs, then named', async () => {
    const url = pg.url.replace(/\/[^/]+$/, '/pmip6_no_such_db');
    oneLine(await fails(['start'], await startEnv('api', { DATABASE_URL: url, PMIP6_STORE_CONNECT_TIMEOUT_MS: '1500' })), /database .*pmip6_no_such_db: database "pmip6_no_such_db" does not exist \(still so after retrying for 1\.5 s\); create the database.*PMIP6_STORE_CONNECT_TIMEOUT_MS/);
  });

  it('a database that does not answer: retried, then named', async () => {
    const port = await freePort();
    oneLine(await fails(['profile', 'list'], { DATABASE_URL: `postgres://pmip6@127.0.0.1:${port}/pmip6`, PMIP6_STORE_CONNECT_TIMEOUT_MS: '1000' }), new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${port} \\(still so after retrying .*databaseUrl \\(PMIP6_DATABASE_URL\\)`));
  });

  it('a data directory that cannot be written', async () => {
    const ro = join(dir, 'read-only');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    // Root writes anywhere: run as nobody then (permission bits are what is tested).
    const asNobody = process.getuid?.() === 0 ? { uid: 65534 } : {};
    oneLine(await fails(['start'], { PMIP6_DATA_DIR: join(ro, 'data'), PMIP6_LMA_ENABLED: 'false', PMIP6_RADIUS_ENABLED: 'false', PMIP6_SNMP_ENABLED: 'false', PMIP6_API_PORT: String(await freePort()) }, asNobody), /data directory .*read-only\/data is not writable \(EACCES.*\); set dataDir \(PMIP6_DATA_DIR\)/);
  });

  it('the API port in use', async () => {
    const server: Server = createServer();
    const port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as { port: number }).port)));
    try {
      oneLine(await fails(['start'], await startEnv('api', { PMIP6_API_PORT: String(port) })), new RegExp(`operator API: TCP port ${port} on 127\\.0\\.0\\.1 is in use by another process; set api\\.port \\(PMIP6_API_PORT\\)`));
    } finally {
      server.close();
    }
  });

  for (const [role, env, key] of [
    ['lma', (p: number) => ({ PMIP6_LMA_ADDRESS: '127.0.0.1', PMIP6_LMA_UDP_PORT: String(p) }), /LMA: UDP port \d+ on 127\.0\.0\.1 is in use by another process; set lma\.udpPort \(PMIP6_LMA_UDP_PORT\)/],
    ['radius', (p: number) => ({ PMIP6_RADIUS_BIND: '127.0.0.1', PMIP6_RADIUS_AUTH_PORT: String(p) }), /RADIUS server: UDP port \d+ on 127\.0\.0\.1 is in use by another process; set radius\.authPort \(PMIP6_RADIUS_AUTH_PORT\)/],
    ['snmp', (p: number) => ({ PMIP6_SNMP_BIND: '127.0.0.1', PMIP6_SNMP_PORT: String(p), PMIP6_SNMP_COMMUNITIES: 'public' }), /SNMP agent: UDP port \d+ on 127\.0\.0\.1 is in use by another process; set snmp\.port \(PMIP6_SNMP_PORT\)/],
  ] as const) {
    it(`the ${role.toUpperCase()} port in use`, async () => {
      const taken = await udpTaken('127.0.0.1');
      try {
        const extra: Record<string, string> = { ...env(taken.port) };
        if (role === 'radius') extra.PMIP6_RADIUS_ACCT_PORT = String(await freePort('udp'));
        oneLine(await fails(['start'], await startEnv(role, extra)), key);
      } finally {
        taken.socket.close();
      }
    });
  }

  it('a missing import file', async () => {
    oneLine(await fails(['import', join(dir, 'nope.csv')], { PMIP6_DATA_DIR: dir }), /import file .*nope\.csv: no such file$/);
  });

  it('a --limit that is not a number', async () => {
    oneLine(await fails(['profile', 'list', '--limit', 'ten'], { PMIP6_DATA_DIR: dir }), /--limit must be a whole number of at least 1 \(got "ten"\)/);
  });
});
