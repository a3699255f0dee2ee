// The README as a newcomer runs it (issue 8 "Done when"): a fresh copy of the repository
// (its tracked files; no data), then every ```sh block of the README in order, as written,
// with only the port numbers moved to free ones (8080, 1161) and the listeners the block
// does not mention put on free ports through the environment, since this machine runs other
// suites. The install half of `npm ci && npm start` is taken from the run under test, to
// keep this test lean: node_modules is linked and dist/ copied from the build `npm test`
// made (test/run.sh), which is what `npm ci` makes through "prepare" (bin.test.ts checks
// that script). A line that starts the suite (`npm start`) runs in the background until
// /readyz answers; the block's other lines then run in one bash with `set -euo pipefail`.
// Not run: `npm test` (this is that run) and `docker compose` (no Docker engine here;
// compose.test.ts checks the file). A new block that this test does not know fails it, so
// the README cannot gain an untested command.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createPgDatabase } from '../helpers/db.ts';
import { ROOT, assertBuilt, freePort } from '../helpers/cli.ts';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);

/** Lines of a block with their continuations joined and comments dropped. */
function commands(block: string): string[] {
  return block
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.replace(/\s+#\s.*$/, '').trim())
    .filter((l) => l !== '');
}

let copy: string;
let ports: { api: number; snmp: number; lma: number; auth: number; acct: number };
const running: ChildProcess[] = [];

/** The environment of a shell on a machine whose standard ports are free: only ports differ. */
function env(): Record<string, string> {
  const e: Record<string, string> = { ...process.env } as Record<string, string>;
  for (const k of Object.keys(e)) if (k.startsWith('PMIP6_') || k === 'DATABASE_URL' || k.startsWith('npm_')) delete e[k];
  return {
    ...e,
    PMIP6_API_PORT: String(ports.api),
    PMIP6_LMA_UDP_PORT: String(ports.lma),
    PMIP6_MAG_LMA_PORT: String(ports.lma),
    PMIP6_RADIUS_AUTH_PORT: String(ports.auth),
    PMIP6_RADIUS_ACCT_PORT: String(ports.acct),
    PMIP6_LOG_LEVEL: 'warn',
    SNMP_PERSISTENT_DIR: join(copy, '.snmp'),
  };
}

const withPorts = (line: string) => line.replace(/\b8080\b/g, String(ports.api)).replace(/\b1161\b/g, String(ports.snmp));

function bash(script: string, extraEnv: Record<string, string> = {}): { code: number | null; out: string; err: string } {
  const r = spawnSync('bash', ['-c', `set -euo pipefail\n${script}`], { cwd: copy, env: { ...env(), ...extraEnv }, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Starts a suite line in the background (its own process group) and waits for /readyz. */
async function startLine(line: string, extraEnv: Record<string, string> = {}): Promise<{ output(): string; stop(): Promise<void> }> {
  const child = spawn('bash', ['-c', withPorts(line.replace(/\s*&$/, ''))], { cwd: copy, env: { ...env(), ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  running.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    process.kill(-child.pid!, 'SIGTERM');
    await gone;
  };
  for (let i = 0; i < 1800; i++) {
    if (child.exitCode !== null) throw new Error(`${line}: exited ${child.exitCode}:\n${out}`);
    const ok = await fetch(`http://127.0.0.1:${ports.api}/readyz`).then((r) => r.status === 200, () => false);
    if (ok) return { output: () => out, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`${line}: not ready after 180 s:\n${out}`);
}

describe('README from a fresh copy', () => {
  before(async () => {
    assertBuilt();
    copy = join(mkdtempSync(join(tmpdir(), 'pmip6-readme-')), 'pmip6');
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const f of files) {
      mkdirSync(dirname(join(copy, f)), { recursive: true });
      try {
        copyFileSync(join(ROOT, f), join(copy, f));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // deleted in the working tree
      }
    }
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    cpSync(join(ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
    mkdirSync(join(copy, '.snmp'));
    ports = { api: await freePort(), snmp: await freePort('udp'), lma: await freePort('udp'), auth: await freePort('udp'), acct: await freePort('udp') };
  });
  after(async () => {
    for (const c of running) if (c.exitCode === null && c.signalCode === null) process.kill(-c.pid!, 'SIGKILL');
    rmSync(dirname(copy), { recursive: true, force: true });
  });

  it('has the blocks this test runs, and no other', () => {
    assert.equal(blocks.length, 7, `README sh blocks:\n${blocks.join('\n---\n')}`);
    assert.deepEqual(commands(blocks[0]), ['npm ci && npm start', 'npm test']);
    // Deployment: needs a Docker engine; its file is checked by compose.test.ts.
    assert.deepEqual(commands(blocks[6]).map((l) => l.replace(/^(\w+=(\$\([^)]*\)|\S+) )+/, '')), ['docker compose up -d']);
  });

  it('Quick start: npm start, then the curl lines; npx pmip6 and the CLI beside the running suite', async () => {
    const [install] = commands(blocks[0]);
    const [ciLine, run] = install.split(' && ');
    assert.equal(ciLine, 'npm ci');
    const suite = await startLine(run);
    try {
      const curl = bash(commands(blocks[1]).map(withPorts).join('\n'));
      assert.equal(curl.code, 0, curl.err);
      assert.match(curl.out, /"mnId":\s*"mn1@example\.net"/);
      assert.match(curl.out, /"items":\s*\[/);
      const version = bash('npx pmip6 --version');
      assert.equal(version.out.trim(), JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8')).version);
      const cli = bash(commands(blocks[2]).join('\n'));
      assert.equal(cli.code, 0, cli.err);
      assert.match(cli.out, /^mn2@example\.net\t2001:db8:1:2::\/64/m);
      assert.match(cli.out, /imported 3 profiles through the API/);
    } finally {
      await suite.stop();
    }
  });

  it('the tour: simulate provisions through the API and every PBA is accepted; curl lists bindings', async () => {
    const [start, ...rest] = commands(blocks[3]);
    assert.match(start, /npm start &$/);
    const suite = await startLine(start);
    try {
      const r = bash(rest.map(withPorts).join('\n'));
      assert.equal(r.code, 0, `${r.err}\n${r.out}`);
      assert.match(r.out, /"pbaStatus":\s*\{\s*"0":\s*\d+/);
      assert.match(r.out, /"items":\s*\[/);
    } finally {
      await suite.stop();
    }
  });

  it('SNMP: the walk with the shipped MIBs and only Debian\'s snmp, no MIB complaints', async () => {
    const [start, walk, ...more] = commands(blocks[4]);
    assert.equal(more.length, 0);
    assert.match(start, /PMIP6_SNMP_PORT=1161 .*npm start &$/);
    const suite = await startLine(start);
    try {
      const r = bash(withPorts(walk));
      assert.equal(r.code, 0, r.err);
      assert.equal(r.err.split('\n').filter((l) => l.trim() && !/^Created directory/.test(l)).join('\n'), '', 'the tools found every module');
      assert.match(r.out, /^PMIPV6-MIB::pmip6LmaMinDelayBeforeBCEDelete\.0 = INTEGER: 10000/m);
      assert.match(r.out, /^PMIPV6-MIB::pmip6LmaStatus\.0 = INTEGER: enabled\(1\)/m);
    } finally {
      await suite.stop();
    }
  });

  it('Running against PostgreSQL: DATABASE_URL migrates an empty database', async () => {
    const [line, ...more] = commands(blocks[5]);
    assert.equal(more.length, 0);
    assert.match(line, /^DATABASE_URL=postgres:\/\/user@host\/pmip6 npm start$/);
    const pg = await createPgDatabase('pmip6_readme');
    try {
      const suite = await startLine(line.replace('postgres://user@host/pmip6', pg.url));
      await suite.stop();
      const ready = bash(`psql "${pg.url}" -Atc "select count(*) from schema_migrations"`);
      assert.equal(ready.code, 0, ready.err);
      assert.ok(Number(ready.out) > 0);
    } finally {
      await pg.drop();
    }
  });
});
