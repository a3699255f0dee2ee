// Runs `pmip6` as a real child process (the way an operator does) and waits for it.
import { spawn, type ChildProcess } from 'node:child_process';
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
  exited: Promise<number | null>;
}

/** Runs `pmip6 <args>`; `prefix` wraps the command (e.g. ['ip', 'netns', 'exec', NS] runs it in a namespace). */
export function pmip6(args: string[], env: Record<string, string>, prefix: string[] = []): Child {
  let out = '';
  let stdout = '';
  const argv = [process.execPath, '--import', 'tsx', 'src/cli.ts', ...args];
  const cmd = [...prefix, ...argv];
  const child = spawn(cmd[0], cmd.slice(1), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => {
    out += d;
    stdout += d;
  });
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => out, stdout: () => stdout, exited };
}

/** Starts `pmip6 start` and resolves once /readyz answers 200. */
export async function startSuiteProcess(env: Record<string, string>, prefix: string[] = []): Promise<Child & { base: string }> {
  const port = await freePort();
  const c = pmip6(['start'], { PMIP6_API_PORT: String(port), PMIP6_API_HOST: '127.0.0.1', PMIP6_LOG_LEVEL: 'info', ...env }, prefix);
  const base = `http://127.0.0.1:${port}`;
  // A bound, not a timing check: PGlite alone can take half a minute on a loaded 2-core machine.
  for (let i = 0; i < 900; i++) {
    if (c.child.exitCode !== null) throw new Error(`pmip6 start exited: ${c.out()}`);
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return { ...c, base };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  c.child.kill('SIGKILL');
  throw new Error(`pmip6 start did not come up: ${c.out()}`);
}

export async function stopProcess(c: Child): Promise<number | null> {
  if (c.child.exitCode === null) c.child.kill('SIGTERM');
  return c.exited;
}
