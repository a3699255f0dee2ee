// The test side of ns-agent.ts: starts an agent inside a namespace and calls its ops.
import type { ChildProcess } from 'node:child_process';
import { ROOT } from './cli.ts';
import type { Lab, Netns } from './netns.ts';

export class AgentError extends Error {
  constructor(message: string, readonly code?: string, name?: string) {
    super(message);
    if (name) this.name = name;
  }
}

export class Agent {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private stderr = '';
  private constructor(readonly child: ChildProcess) {
    child.stderr?.on('data', (d) => (this.stderr += d));
    child.on('message', (m: { id?: number; ok?: boolean; result?: unknown; error?: { message: string; code?: string; name?: string } }) => {
      const p = m.id !== undefined ? this.pending.get(m.id) : undefined;
      if (!p) return;
      this.pending.delete(m.id!);
      if (m.ok) p.resolve(m.result);
      else p.reject(new AgentError(m.error!.message, m.error!.code, m.error!.name));
    });
    child.once('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`agent exited with ${code}: ${this.stderr.slice(-2000)}`));
      this.pending.clear();
    });
  }

  /**
   * Starts an agent in `ns` (argv prefix e.g. ['setpriv', ...] runs it with fewer privileges);
   * `script` is another agent speaking the same IPC protocol (e.g. test/attach/mag-agent.ts).
   */
  static async start(lab: Lab, ns: Netns, wrap: string[] = [], script = 'test/helpers/ns-agent.ts'): Promise<Agent> {
    const cmd = wrap.length > 0 ? wrap[0] : process.execPath;
    const args = wrap.length > 0 ? [...wrap.slice(1), process.execPath, '--import', 'tsx', script] : ['--import', 'tsx', script];
    const child = lab.track(ns.spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, PMIP6_LOG_LEVEL: 'warn' } }));
    const a = new Agent(child);
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`agent did not start (exit ${code}): ${a.stderr}`)));
    });
    return a;
  }

  call<T = unknown>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, op, ...args });
    });
  }
}
