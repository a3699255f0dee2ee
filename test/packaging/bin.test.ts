// The installed command: bin/pmip6.js (package.json "bin", `npx pmip6`, the image's
// ENTRYPOINT) runs plain Node.js on the compiled dist/, with no TypeScript loader, for
// --version, --help and start; `npx pmip6` resolves to it from the repository.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { ROOT, assertBuilt, freePort, pmip6, startSuiteProcess, stopProcess } from '../helpers/cli.ts';
import { createPgDatabase } from '../helpers/db.ts';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string>; scripts: Record<string, string> };

async function run(args: string[], env: Record<string, string> = {}) {
  const c = pmip6(args, env, { bin: true });
  const code = await c.exited;
  return { code, out: c.stdout(), all: c.out() };
}

/** The environment of a `pmip6 start` with the LMA only, on its own PostgreSQL database and data folder. */
async function lmaOnly(databaseUrl: string, dataDir: string): Promise<Record<string, string>> {
  return {
    DATABASE_URL: databaseUrl,
    PMIP6_DATA_DIR: dataDir,
    PMIP6_RADIUS_ENABLED: 'false',
    PMIP6_LMA_UDP_PORT: String(await freePort('udp')),
    PMIP6_LMA_AUTHORIZE_ANY_MAG: 'true',
  };
}

describe('bin/pmip6.js on dist/', () => {
  before(() => assertBuilt());

  it('package.json: the pmip6 command is bin/pmip6.js; tsx is for development only; npm ci builds (prepare)', () => {
    assert.equal(pkg.bin.pmip6, 'bin/pmip6.js');
    assert.equal(pkg.dependencies.tsx, undefined);
    assert.ok(pkg.devDependencies.tsx);
    assert.match(pkg.scripts.prepare, /npm run build/);
    assert.match(pkg.scripts.start, /^node bin\/pmip6\.js start --allow-unprotected-signalling$/); // the lab quick start accepts unprotected signalling explicitly (README "Security")
    const bin = readFileSync(join(ROOT, 'bin/pmip6.js'), 'utf8');
    assert.doesNotMatch(bin, /tsx|register\(/, 'no TypeScript loader at run time');
  });

  it('--version prints the package version', async () => {
    const r = await run(['--version']);
    assert.equal(r.code, 0, r.all);
    assert.equal(r.out.trim(), pkg.version);
  });

  it('PMIP6_NODE_FLAGS: the command runs again with those node flags (one NODE_OPTIONS refuses), exits as that run did', async () => {
    const ok = await run(['--version'], { PMIP6_NODE_FLAGS: '--single-threaded-gc --max-semi-space-size=32' });
    assert.equal(ok.code, 0, ok.all);
    assert.equal(ok.out.trim(), pkg.version);
    const unknown = await run(['--version'], { PMIP6_NODE_FLAGS: '--no-such-node-flag' });
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.all, /bad option: --no-such-node-flag/, 'the flag reached node');
    const notFlag = await run(['--version'], { PMIP6_NODE_FLAGS: 'single-threaded-gc' });
    assert.equal(notFlag.code, 2);
    assert.match(notFlag.all, /only --flags are taken/);
  });

  /** `pmip6 start` (LMA only) with PMIP6_NODE_FLAGS=--single-threaded-gc: the command and the child it runs. */
  async function withFlaggedStart(name: string, fn: (s: Awaited<ReturnType<typeof startSuiteProcess>>, child: string) => Promise<void>): Promise<void> {
    const dataDir = mkdtempSync(join(tmpdir(), `pmip6-${name}-`));
    const pg = await createPgDatabase(`pmip6_${name.replace(/-/g, '_')}`);
    try {
      const s = await startSuiteProcess({ ...(await lmaOnly(pg.url, dataDir)), PMIP6_NODE_FLAGS: '--single-threaded-gc' }, { bin: true });
      const pid = s.child.pid!;
      const [child] = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      assert.ok(child, 'the command runs again as a child');
      await fn(s, child);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await pg.drop();
    }
  }

  it('PMIP6_NODE_FLAGS with start: the configuration never sees the variable, the child runs with the flag in a process group of its own, SIGINT to the command stops it cleanly', async () => {
    await withFlaggedStart('bin-flags', async (s, child) => {
      assert.match(readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').join(' '), /--single-threaded-gc .*bin\/pmip6\.js start/);
      const pgid = (p: string): string => readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[2];
      assert.equal(pgid(child), child, 'its own process group: a terminal Ctrl-C reaches it once, through the parent');
      s.child.kill('SIGINT');
      assert.equal(await s.exited, 0, 'the child stopped cleanly (exit 0) and the command exited as it did');
      assert.match(s.stderr(), /SIGINT: stopping/);
    });
  });

  it('PMIP6_NODE_FLAGS with start: when the command is killed with SIGKILL (no signal to pass on), its child stops itself cleanly', async () => {
    await withFlaggedStart('bin-orphan', async (s, child) => {
      const pid = s.child.pid!;
      s.child.kill('SIGKILL');
      await s.exited;
      // The child shares the test's stderr pipe: it says why it stops, then stops as on SIGTERM.
      while (existsSync(`/proc/${child}`) && !/State:\s+Z/.test(readFileSync(`/proc/${child}/status`, 'utf8'))) await sleep(200);
      assert.match(s.stderr(), new RegExp(`launching process ${pid} is gone: stopping`));
      assert.match(s.stderr(), /SIGTERM: stopping/);
    });
  });

  it('--help lists the commands', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0, r.all);
    for (const c of ['start', 'mag', 'simulate', 'migrate', 'profile', 'import', 'health']) assert.match(r.out, new RegExp(`^  ${c}\\b`, 'm'), c);
  });

  it('start serves the API, loads no TypeScript loader, and stops on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pmip6-bin-'));
    const pg = await createPgDatabase('pmip6_bin');
    try {
      const s = await startSuiteProcess(await lmaOnly(pg.url, dataDir), { bin: true });
      try {
        // tsx would show in the command line and run an esbuild child process.
        const pid = s.child.pid!;
        assert.doesNotMatch(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /tsx/);
        const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
        for (const c of children) assert.doesNotMatch(readFileSync(`/proc/${c}/cmdline`, 'utf8'), /esbuild/);
        const ready = (await (await fetch(`${s.base}/readyz`)).json()) as { status: string };
        assert.equal(ready.status, 'ready');
        assert.equal((await run(['health'], { PMIP6_API_PORT: new URL(s.base).port })).code, 0);
      } finally {
        assert.equal(await stopProcess(s), 0);
      }
      assert.equal((await run(['health'], { PMIP6_API_PORT: String(await freePort()) })).code, 2, 'health fails when nothing answers');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await pg.drop();
    }
  });

  it('npx pmip6 from the repository runs the same command, and leaves dist/ and the addon as they are', () => {
    // A first npx in a clone (an empty npm cache) installs the clone into the _npx cache, which
    // runs its "install" and "prepare" scripts: they must not rebuild what is already built.
    const built = () => [join(ROOT, 'dist', 'cli.js'), join(ROOT, 'native', 'build', 'Release', 'pmip6_native.node')].map((f) => (existsSync(f) ? statSync(f).mtimeMs : 0));
    const before = built();
    const cache = mkdtempSync(join(tmpdir(), 'pmip6-npx-cache-'));
    try {
      const r = spawnSync('npx', ['--no-install', 'pmip6', '--version'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, npm_config_cache: cache } });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), pkg.version);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
    assert.deepEqual(built(), before, 'npx rebuilt dist/ or the native addon');
  });
});
