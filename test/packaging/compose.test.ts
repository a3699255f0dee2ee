// The deployment files as written (issue 8 item 4). No Docker engine runs here, so the
// compose file is parsed and checked against the configuration schema (`docker compose
// config` runs too where the compose plugin exists): every PMIP6_* variable is a real key,
// the configuration the container gets is valid, each published port is one a listener of
// that configuration opens (SNMP and Diameter only when configured) and every listener is
// published. The Dockerfile: two stages, pinned bases, non-root, a HEALTHCHECK, and an
// ENTRYPOINT that exists after the build and starts the LMA on the container's address.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig, configKeys, envName, type Config } from '../../src/config/index.ts';
import { networkInterfaces } from 'node:os';
import { ROOT, assertBuilt, freePort } from '../helpers/cli.ts';
import { createPgDatabase } from '../helpers/db.ts';

interface Service {
  image?: string;
  build?: unknown;
  restart?: string;
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
}

const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText) as { services: Record<string, Service> };
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

/** Compose interpolation of ${VAR}, ${VAR:-default} and ${VAR:?message} from `vars`. */
function interpolate(v: string, vars: Record<string, string>): string {
  return v.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
    const have = vars[name];
    if (have) return have;
    if (op === '-') return arg ?? '';
    if (op === '?') throw new Error(`compose would stop: ${name}: ${arg}`);
    return '';
  });
}

/** ENV of the Dockerfile's last (runtime) stage. */
function imageEnv(): Record<string, string> {
  const last = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const out: Record<string, string> = {};
  for (const m of last.matchAll(/^ENV\s+((?:.*\\\n)*.*)$/gm)) {
    for (const kv of m[1].replace(/\\\n/g, ' ').trim().split(/\s+/)) {
      const [k, v] = kv.split('=');
      out[k] = v;
    }
  }
  return out;
}

interface Published {
  host: number;
  container: number;
  proto: 'tcp' | 'udp';
}
const publishedPort = (spec: string): Published => {
  const m = /^(?:[\d.]+:)?(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(spec.trim());
  assert.ok(m, `port spec ${spec}`);
  return { host: Number(m[1]), container: Number(m[2]), proto: (m[3] as 'tcp' | 'udp' | undefined) ?? 'tcp' };
};

/** The ports the configuration's listeners open, by protocol. */
function listeners(c: Config): { key: string; port: number; proto: 'tcp' | 'udp' }[] {
  const out: { key: string; port: number; proto: 'tcp' | 'udp' }[] = [];
  if (c.api.enabled) out.push({ key: 'api.port', port: c.api.port, proto: 'tcp' });
  if (c.lma.enabled) out.push({ key: 'lma.udpPort', port: c.lma.udpPort, proto: 'udp' });
  if (c.radius.enabled) out.push({ key: 'radius.authPort', port: c.radius.authPort, proto: 'udp' }, { key: 'radius.acctPort', port: c.radius.acctPort, proto: 'udp' });
  if (c.snmp.enabled && (c.snmp.users.length > 0 || c.snmp.communities.length > 0)) out.push({ key: 'snmp.port', port: c.snmp.port, proto: 'udp' });
  if (c.diameter.enabled) out.push({ key: 'diameter.port', port: c.diameter.port, proto: 'tcp' });
  return out;
}

describe('docker-compose.yml against the configuration schema', () => {
  const vars = { PMIP6_API_TOKEN: 'compose-test-token', POSTGRES_PASSWORD: 'pw' };
  const svc = compose.services.pmip6;
  const env = (extra: Record<string, string> = {}) => ({ ...imageEnv(), ...Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), vars)])), ...extra });

  it('every service restarts by itself; the suite is built from this repository', () => {
    for (const [name, s] of Object.entries(compose.services)) assert.match(s.restart ?? '', /^(unless-stopped|always)$/, `${name}: restart policy`);
    assert.equal(svc.build, '.');
    assert.match(compose.services.postgres.image ?? '', /^postgres:\d+\.\d+-\w+$/, 'PostgreSQL pinned to an exact version');
  });

  it('every PMIP6_* variable set for the suite is a configuration key, and the result is valid', () => {
    const known = new Set(configKeys().map(envName));
    for (const k of Object.keys(svc.environment ?? {})) {
      if (k.startsWith('PMIP6_')) assert.ok(known.has(k), `${k} is not a configuration key`);
      else assert.equal(k, 'DATABASE_URL', `${k}: not read by the suite`);
    }
    const c = loadConfig({ env: env() });
    assert.match(c.databaseUrl, /^postgres:\/\/pmip6:pw@postgres:5432\/pmip6$/);
    assert.equal(c.api.token, 'compose-test-token');
    assert.ok(c.store.connectTimeoutMs >= 30000, 'waits for PostgreSQL to come up');
    assert.throws(() => interpolate(String(svc.environment?.PMIP6_API_TOKEN), {}), /set PMIP6_API_TOKEN/, 'refuses to start without a token');
  });

  it('every listener listens on the container addresses, not loopback', () => {
    const c = loadConfig({ env: env({ PMIP6_LMA_ADDRESS: '172.20.0.5' }) });
    assert.ok(['0.0.0.0', '::'].includes(c.api.host), `api.host ${c.api.host}`);
    assert.ok(c.radius.bind.every((a) => ['0.0.0.0', '::'].includes(a)), `radius.bind ${c.radius.bind}`);
    assert.ok(c.snmp.bind.every((a) => ['0.0.0.0', '::'].includes(a)), `snmp.bind ${c.snmp.bind}`);
    assert.equal(svc.environment?.PMIP6_LMA_ADDRESS, undefined, 'the entry point sets lma.address to the container address');
  });

  it('published ports are exactly the listeners of this configuration', () => {
    const c = loadConfig({ env: env() });
    const open = listeners(c);
    const published = (svc.ports ?? []).map(publishedPort);
    for (const p of published) assert.ok(open.some((l) => l.port === p.container && l.proto === p.proto), `published ${p.container}/${p.proto} is not a port the suite listens on`);
    for (const l of open) assert.ok(published.some((p) => p.container === l.port && p.proto === l.proto), `${l.key} ${l.port}/${l.proto} is not published`);
    assert.ok(!open.some((l) => l.key === 'snmp.port'), 'SNMP is off as shipped');
    assert.ok(!published.some((p) => p.container === c.diameter.port), 'no Diameter port while diameter.enabled is false');
  });

  it('the commented SNMP lines work together once uncommented', () => {
    const user = /#\s*PMIP6_SNMP_USERS:\s*"([^"]+)"/.exec(composeText);
    const port = /#\s*-\s*"(\d+:\d+\/udp)"\s*#\s*SNMP/.exec(composeText);
    assert.ok(user && port);
    const c = loadConfig({ env: env({ PMIP6_SNMP_USERS: user[1] }) });
    const snmp = listeners(c).find((l) => l.key === 'snmp.port');
    assert.ok(snmp, 'the user turns the agent on');
    const p = publishedPort(port[1]);
    assert.deepEqual([p.host, p.container, p.proto], [161, snmp.port, 'udp']);
    assert.ok(snmp.port >= 1024, 'the non-root user can bind it');
  });

  it('docker compose config accepts the file where the compose plugin exists', (t) => {
    const v = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
    if (v.status !== 0) {
      t.diagnostic('docker compose is not installed here: the checks above stand in for it');
      return;
    }
    const r = spawnSync('docker', ['compose', '-f', join(ROOT, 'docker-compose.yml'), 'config', '-q'], { encoding: 'utf8', env: { ...process.env, ...vars } });
    assert.equal(r.status, 0, r.stderr);
  });
});

describe('Dockerfile and .dockerignore', () => {
  before(() => assertBuilt());

  it('two stages on a base pinned to an exact version; non-root; HEALTHCHECK; the data volume', () => {
    const image = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    assert.match(image ?? '', /^node:20\.\d+\.\d+-[\w-]+(@sha256:[0-9a-f]{64})?$/);
    assert.equal([...dockerfile.matchAll(/^FROM \$\{NODE_IMAGE\}/gm)].length, 2);
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /^HEALTHCHECK .*CMD \["node", "bin\/pmip6\.js", "health"\]$/m);
    assert.match(dockerfile, /^ENV [^]*PMIP6_DATA_DIR=\/var\/lib\/pmip6/m);
    assert.match(dockerfile, /^VOLUME \/var\/lib\/pmip6$/m);
    assert.doesNotMatch(dockerfile, /tsx/);
  });

  it('the ENTRYPOINT is a file the runtime stage copies, and it runs the compiled command', () => {
    const entry = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]) as string[];
    assert.equal(entry[0], 'node');
    const file = entry[1];
    assert.ok(existsSync(join(ROOT, file)), `${file} exists`);
    const dir = file.split('/')[0];
    assert.match(dockerfile, new RegExp(`^COPY --from=build /src/${dir} \\./${dir}$`, 'm'), `runtime stage copies ${dir}/`);
    for (const d of ['dist', 'node_modules', 'migrations', 'mibs']) assert.match(dockerfile, new RegExp(`^COPY --from=build /src/${d} \\./${d}$`, 'm'), d);
    assert.match(dockerfile, /npm ci .*&& npm prune --omit=dev/, 'build stage compiles (prepare), runtime keeps production dependencies');
    const r = spawnSync(process.execPath, [join(ROOT, file), '--version'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('the entry point puts the LMA on this host\'s own non-loopback address', async () => {
    const own = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    assert.ok(own, 'this machine has a non-loopback IPv4 address');
    const dataDir = mkdtempSync(join(tmpdir(), 'pmip6-entry-'));
    const apiPort = await freePort();
    const pg = await createPgDatabase('pmip6_entry');
    const child = spawn(process.execPath, [join(ROOT, 'bin/container-start.js'), 'start'], {
      env: { ...process.env, DATABASE_URL: pg.url, PMIP6_DATA_DIR: dataDir, PMIP6_LOG_LEVEL: 'info', PMIP6_API_HOST: '127.0.0.1', PMIP6_API_PORT: String(apiPort), PMIP6_RADIUS_ENABLED: 'false', PMIP6_LMA_UDP_PORT: String(await freePort('udp')), PMIP6_LMA_ADDRESS: '', PMIP6_SECURITY_ALLOW_UNPROTECTED_SIGNALLING: 'true' /* as the compose file sets it */ },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      const deadline = Date.now() + 180_000; // a bound for a loaded machine, not a timing
      while (Date.now() < deadline && !/LMA listening/.test(out) && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      const line = out.split('\n').find((l) => l.includes('LMA listening'));
      assert.ok(line, out);
      assert.deepEqual((JSON.parse(line) as { udp4: string[] }).udp4, [own.address]);
    } finally {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dataDir, { recursive: true, force: true });
      await pg.drop();
    }
  });

  it('.dockerignore keeps out node_modules, dist and data (with its API token)', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['node_modules', 'dist', 'data']) assert.ok(ignored.includes(p), p);
  });
});
