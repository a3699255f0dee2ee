// Drives test/e2e/scapy_pmip6.py (an independent PMIPv6 MAG or LMA built on Debian's
// python3-scapy) inside a namespace: commands on its stdin, one JSON event per line back.
import { existsSync } from 'node:fs';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { ROOT } from './cli.ts';
import type { Lab, Netns } from './netns.ts';

/** Debian's interpreter: the one that sees python3-scapy (pyenv's python3 comes first on PATH). */
export const PYTHON = '/usr/bin/python3';

export type ScapyEvent = { event: string; [k: string]: unknown };

export class ScapyPeer {
  readonly events: ScapyEvent[] = [];
  private buf = '';
  private err = '';
  private constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (d) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        if (line.trim()) this.events.push(JSON.parse(line) as ScapyEvent);
      }
    });
    child.stderr!.on('data', (d) => (this.err += d));
  }

  static async start(lab: Lab, ns: Netns, args: string[]): Promise<ScapyPeer> {
    const child = lab.track(ns.spawn(PYTHON, ['test/e2e/scapy_pmip6.py', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] }));
    const p = new ScapyPeer(child);
    await p.next((e) => e.event === 'ready', 30_000);
    return p;
  }

  /** The first event (from `from` on) matching `f`, waiting for it. */
  async next(f: (e: ScapyEvent) => boolean, ms = 10_000, from = 0): Promise<ScapyEvent> {
    const end = Date.now() + ms;
    for (;;) {
      const e = this.events.slice(from).find(f);
      if (e) return e;
      if (this.child.exitCode !== null) throw new Error(`scapy peer exited ${this.child.exitCode}: ${this.err.slice(-3000)}`);
      if (Date.now() > end) throw new Error(`scapy peer: no matching event; got ${JSON.stringify(this.events.slice(from))}; stderr ${this.err.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Sends a command; resolves with the first event after it that matches `f`. */
  async command(line: string, f: (e: ScapyEvent) => boolean, ms = 10_000): Promise<ScapyEvent> {
    const from = this.events.length;
    this.child.stdin!.write(`${line}\n`);
    return this.next(f, ms, from);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const done = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end('quit\n');
    await done;
  }
}

/** Throws unless Debian's python3-scapy is installed (an interop oracle: required, not skipped). */
export function requireScapy(): void {
  const r = existsSync(PYTHON) ? spawnSync(PYTHON, ['-c', 'import scapy.layers.inet6'], { encoding: 'utf8' }) : null;
  if (!r || r.status !== 0) throw new Error(`${PYTHON} with scapy is required: install Debian's python3-scapy (bash .ci/run does)`);
}
