// Runs `pmip6` as a real child process (the way an operator does) and waits for it: from the
// sources through tsx (the default), or as installed, bin/pmip6.js on the compiled dist/
// (`{ bin: true }`, after assertBuilt()).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

export const ROOT = new URL('../../', import.meta.url).pathname;

export async function freePort(kind: 'tcp' | 'udp' = 'tcp'): Promise<number> {
  if (kind === 'udp') {
    return new Promise((resolve) => {
      const s = createSocket('udp4');
      s.bind(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
  }
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

export interface Child {
  child: ChildProcess;
  out(): string;
  /** Standard output alone. */
  stdout(): string;
  /** Standard error alone. */
  stderr(): string;
  exited: Promise<number | null>;
}

/**
 * Fails unless dist/ is the compiled form of src/: every source has its .js, none newer than
 * it. `npm test` builds first (test/run.sh); after editing, `npm run build` before test:one.
 */
export function assertBuilt(): void {
  const stale: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
        const out = join(ROOT, 'dist', relative(join(ROOT, 'src'), p)).replace(/\.ts$/, '.js');
        if (!existsSync(out) || statSync(out).mtimeMs < statSync(p).mtimeMs) stale.push(relative(ROOT, p));
      }
    }
  };
  walk(join(ROOT, 'src'));
  if (stale.length) throw new Error(`dist/ is older than ${stale.slice(0, 5).join(', ')}${stale.length > 5 ? ` and ${stale.length - 5} more` : ''}: run "npm run build" (npm test does)`);
}

export interface SpawnOptions {
  /** Run bin/pmip6.js (compiled dist/) instead of src/cli.ts through tsx. */
  bin?: boolean;
  cwd?: string;
  /** Run as this user (when root). */
  uid?: number;
  /** Wraps the command: ['ip', 'netns', 'exec', NS] runs it in a namespace. */
  prefix?: string[];
}

export function cliArgs(o: SpawnOptions = {}): string[] {
  return o.bin ? [join(ROOT, 'bin/pmip6.js')] : ['--import', 'tsx', join(ROOT, 'src/cli.ts')];
}

/**
 * The kernels here have no ESP (RFC 5213 §4 IPsec cannot be had): processes started by tests
 * accept unprotected signalling on loopback explicitly, as the README's quick start does.
 */
export const LAB_ENV = { PMIP6_SECURITY_ALLOW_UNPROTECTED_SIGNALLING: 'true' };
/** A process in the test machine's own namespace never gets a forwarding data plane (no TUN device, rules or sysctls on the host). */
const ROOT_NS_ENV = { PMIP6_DATAPLANE_KIND: 'recording' };

export function pmip6(args: string[], env: Record<string, string>, o: SpawnOptions = {}): Child {
  let out = '';
  let stdout = '';
  let stderr = '';
  const cmd = [...(o.prefix ?? []), process.execPath, ...cliArgs(o), ...args];
  const child = spawn(cmd[0], cmd.slice(1), { cwd: o.cwd ?? ROOT, env: { ...process.env, ...LAB_ENV, ...(o.prefix ? {} : ROOT_NS_ENV), ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...(o.uid !== undefined ? { uid: o.uid, gid: o.uid } : {}) });
  child.stdout!.on('data', (d) => {
    out += d;
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
    stderr += d;
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => out, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Starts `pmip6 start` and resolves once /readyz answers 200. */
export async function startSuiteProcess(env: Record<string, string>, o: SpawnOptions = {}): Promise<Child & { base: string }> {
  const port = await freePort();
  const c = pmip6(['start'], { PMIP6_API_PORT: String(port), PMIP6_API_HOST: '127.0.0.1', PMIP6_LOG_LEVEL: 'info', ...env }, o);
  const base = `http://127.0.0.1:${port}`;
  // A bound, not a timing: PGlite's first open under a loaded 2-core machine has taken over 30 s.
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (c.child.exitCode !== null) throw new Error(`pmip6 start exited: ${c.out()}`);
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return { ...c, base };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  c.child.kill('SIGKILL');
  throw new Error(`pmip6 start did not come up within 180 s: ${c.out()}`);
}

export async function stopProcess(c: Child): Promise<number | null> {
  if (c.child.exitCode === null) c.child.kill('SIGTERM');
  return c.exited;
}
