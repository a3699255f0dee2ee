// Network namespaces for tests that need raw IPv6 sockets between hosts: created with
// unique names (p6t-<tag>-<pid>-<n>), joined by veth pairs, addressed only from
// 2001:db8::/32 (documentation) or ULA other than fd00::/64, and removed in `cleanup()`
// even when a test fails (and at the next run if a process was killed). Processes run
// inside with `ip netns exec`.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';

const PREFIX = 'p6t-';

/** Why namespaces cannot be used here, or null when they can (root with iproute2 and veth). */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root (CI runs as root)';
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `ip netns does not work here: ${r.error?.message ?? r.stderr}`;
  return null;
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Removes namespaces left behind by killed test processes (their pid is gone). */
function reapStale(): void {
  let names: string[];
  try {
    names = ip(['netns', 'list']).split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(PREFIX));
  } catch {
    return;
  }
  const alive = new Set(readdirSync('/proc').filter((d) => /^\d+$/.test(d)));
  for (const n of names) {
    const pid = /-(\d+)-\d+$/.exec(n)?.[1];
    if (pid && !alive.has(pid)) spawnSync('ip', ['netns', 'del', n]);
  }
}

let counter = 0;

export class Netns {
  constructor(readonly name: string) {}

  /** Runs `ip` inside the namespace. */
  ip(...args: string[]): string {
    return ip(['-n', this.name, ...args]);
  }

  /** Adds an IPv6 address without duplicate address detection (usable at once). */
  addAddress(dev: string, cidr: string): void {
    this.ip('-6', 'addr', 'add', cidr, 'dev', dev, 'nodad');
  }

  /** Spawns a command inside the namespace. */
  spawn(cmd: string, args: string[], opts: Parameters<typeof spawn>[2] = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.name, cmd, ...args], opts);
  }
}

export class Lab {
  readonly namespaces: Netns[] = [];
  private readonly children = new Set<ChildProcess>();
  private ifCount = 0;
  constructor(readonly tag: string) {
    reapStale();
  }

  /** A new namespace with its loopback up. */
  ns(role: string): Netns {
    const name = `${PREFIX}${this.tag}-${role}-${process.pid}-${counter++}`.slice(0, 60);
    ip(['netns', 'add', name]);
    const n = new Netns(name);
    this.namespaces.push(n);
    n.ip('link', 'set', 'lo', 'up');
    return n;
  }

  /** A veth pair between two namespaces, both ends up; returns the interface names. */
  link(a: Netns, b: Netns): [string, string] {
    const k = this.ifCount++;
    const ia = `p6a${k}`;
    const ib = `p6b${k}`;
    // Created inside `a` (no interface ever appears in the test's own namespace), one end moved to `b`.
    a.ip('link', 'add', ia, 'type', 'veth', 'peer', 'name', ib);
    a.ip('link', 'set', ib, 'netns', b.name);
    a.ip('link', 'set', ia, 'up');
    b.ip('link', 'set', ib, 'up');
    return [ia, ib];
  }

  /** Tracks a child so cleanup() kills it. */
  track<T extends ChildProcess>(c: T): T {
    this.children.add(c);
    c.once('exit', () => this.children.delete(c));
    return c;
  }

  async cleanup(): Promise<void> {
    for (const c of this.children) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
    await Promise.all([...this.children].map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)))));
    for (const n of this.namespaces) spawnSync('ip', ['netns', 'del', n.name]);
    this.namespaces.length = 0;
  }
}
