// Shared test plumbing: temporary folders, MIB search paths, free UDP ports, the Debian
// net-snmp tools (SNMP_PERSISTENT_DIR set, PITFALLS) and an snmptrapd child.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const OUR_MIBS = resolve(here, '../../mibs');
/** The standard modules ours import (and theirs), extracted from their RFCs: mibs/ietf/README.md. */
export const IETF_MIBS = resolve(here, '../../mibs/ietf');
/** RFC 6475's own PMIPV6-TC-MIB and PMIPV6-MIB, the reference our modules are compared with. */
export const RFC6475_MIBS = resolve(here, 'fixtures/rfc6475');

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `pmip6-snmp-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool; never rejects on a non-zero exit. */
export function run(cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, maxBuffer: 512 * 1024 * 1024, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Lines of tool output other than the search path and net-snmp's "Created directory" notice. */
export function meaningful(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => l.trim() !== '')
    .filter((l) => !/MIB search path|^Created directory/.test(l));
}

/** A UDP port free on both 127.0.0.1 and ::1. */
export async function freeUdpPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const s4 = dgram.createSocket('udp4');
    const port = await new Promise<number>((r) => s4.bind(0, '127.0.0.1', () => r(s4.address().port)));
    const s6 = dgram.createSocket({ type: 'udp6', ipv6Only: true });
    const ok = await new Promise<boolean>((r) => {
      s6.once('error', () => r(false));
      s6.bind(port, '::1', () => r(true));
    });
    await new Promise<void>((r) => s4.close(() => r()));
    if (ok) {
      await new Promise<void>((r) => s6.close(() => r()));
      return port;
    }
    s6.close();
  }
  throw new Error('no free UDP port');
}

export interface TrapReceiver {
  port: number;
  /** Everything snmptrapd printed so far. */
  output(): string;
  /** Resolves when `predicate(output)` holds, rejects after `ms`. */
  waitFor(predicate: (out: string) => boolean, ms?: number): Promise<string>;
  stop(): Promise<void>;
}

/** snmptrapd -f on a free port with a temporary config; `conf` lines are written to it. */
export async function startTrapReceiver(dir: string, mibPath: string, conf: string[]): Promise<TrapReceiver> {
  const port = await freeUdpPort();
  const confFile = join(dir, 'snmptrapd.conf');
  writeFileSync(confFile, conf.join('\n') + '\n');
  const persist = join(dir, 'trapd-persist');
  mkdirSync(persist, { recursive: true });
  let out = '';
  const child: ChildProcess = spawn('snmptrapd', ['-f', '-Lo', '-C', '-c', confFile, '-M', mibPath, '-m', 'PMIPV6-MIB', `udp:127.0.0.1:${port}`], {
    env: { ...process.env, SNMP_PERSISTENT_DIR: persist },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const waitFor = (predicate: (o: string) => boolean, ms = 10_000) =>
    new Promise<string>((resolveWait, reject) => {
      const t0 = Date.now();
      const tick = () => {
        if (predicate(out)) return resolveWait(out);
        if (child.exitCode !== null) return reject(new Error(`snmptrapd exited: ${out}`));
        if (Date.now() - t0 > ms) return reject(new Error(`timed out waiting; snmptrapd said:\n${out}`));
        setTimeout(tick, 25);
      };
      tick();
    });
  await waitFor((o) => o.includes('NET-SNMP version'));
  return {
    port,
    output: () => out,
    waitFor,
    stop: () =>
      new Promise<void>((r) => {
        if (child.exitCode !== null) return r();
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

/** Equality of two long texts, reporting the first differing line (node's diff of long strings is quadratic). */
export function assertSameText(actual: string, expected: string, what = 'text'): void {
  if (actual === expected) return;
  const a = actual.split('\n');
  const e = expected.split('\n');
  let i = 0;
  while (i < a.length && i < e.length && a[i] === e[i]) i++;
  throw new Error(`${what} differs at line ${i + 1} (${a.length} vs ${e.length} lines):\n  got:      ${a[i]}\n  expected: ${e[i]}`);
}
