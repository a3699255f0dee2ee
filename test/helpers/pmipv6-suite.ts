// The suite's own processes in a PMIPv6 domain's namespaces (pmipv6-domain.ts), for the
// handover end-to-end tests: `pmip6 start` (the LMA, on PostgreSQL through a Unix-socket
// bridge, operator API on 127.0.0.1:8080 inside its namespace) and `pmip6 mag` (API on
// 8081), both with the user-space data plane; a UDP prober on the MN whose answers time the
// interruption of a move; the forwarders' packet counters from /metrics.
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab, Netns } from './netns.ts';
import { Agent } from './ns-agent-client.ts';
import { pmip6, stopProcess, type Child } from './cli.ts';
import { createPgDatabase } from './db.ts';
import { pgUnixBridge, type PgBridge } from './pg-bridge.ts';
import { until } from './until.ts';

const PROBE = new URL('../e2e/dp_udp_probe.py', import.meta.url).pathname;

export interface SuiteLma {
  child: Child;
  /** An agent in the LMA's namespace (the API listens on its loopback). */
  agent: Agent;
  api<T>(path: string, method?: string, body?: unknown): Promise<{ status: number; json: T }>;
  /** Stops the LMA, drops its database. */
  close(): Promise<void>;
}

/** `pmip6 start` in `ns` as the LMA at `lmaa`; resolves once /readyz answers 200. */
export async function startSuiteLma(lab: Lab, ns: Netns, o: { dir: string; lmaa: string; token: string; dbPrefix: string; env?: Record<string, string> }): Promise<SuiteLma> {
  const agent = await Agent.start(lab, ns);
  const db = await createPgDatabase(o.dbPrefix);
  let bridge: PgBridge | undefined;
  let child: Child | undefined;
  const close = async () => {
    if (child) await stopProcess(child).catch(() => undefined);
    await bridge?.close();
    await db.drop();
  };
  try {
    bridge = await pgUnixBridge();
    const c = pmip6(['start'], {
      PMIP6_DATA_DIR: join(o.dir, 'lma-data'), DATABASE_URL: bridge.url(db.name),
      PMIP6_RADIUS_ENABLED: 'false', PMIP6_SNMP_ENABLED: 'false',
      PMIP6_API_HOST: '127.0.0.1', PMIP6_API_PORT: '8080', PMIP6_API_TOKEN: o.token,
      PMIP6_LMA_ADDRESS: o.lmaa, PMIP6_LMA_HEARTBEAT_INTERVAL: '0',
      PMIP6_LMA_MIN_DELAY_BEFORE_BCE_DELETE: '2000', PMIP6_LMA_TIMESTAMP_VALIDITY_WINDOW: '10000',
      PMIP6_DATAPLANE_KIND: 'userspace', PMIP6_LOG_LEVEL: 'info',
      ...o.env,
    }, { prefix: ['ip', 'netns', 'exec', ns.name] });
    child = c;
    lab.track(c.child);
    await until('LMA ready', async () => c.child.exitCode !== null || (await agent.call<{ status: number }>('fetch', { url: 'http://127.0.0.1:8080/readyz' }).catch(() => ({ status: 0 }))).status === 200, 90_000);
    assert.equal(c.child.exitCode, null, c.out());
    assert.match(c.out(), /data plane: user-space forwarder on TUN pmip6-lma/);
  } catch (e) {
    await close();
    throw e;
  }
  const api = async <T>(path: string, method = 'GET', body?: unknown): Promise<{ status: number; json: T }> => {
    const r = await agent.call<{ status: number; body: string }>('fetch', { url: `http://127.0.0.1:8080${path}`, method, body, headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' } });
    return { status: r.status, json: (r.body ? JSON.parse(r.body) : null) as T };
  };
  return { child: child!, agent, api, close };
}

/** `pmip6 mag` in `ns` with the user-space data plane; resolves once it runs (and, with `detector`, its access-link detector). */
export async function startSuiteMag(lab: Lab, ns: Netns, o: { dir: string; id: string; coa: string; lmaa: string; token: string; env: Record<string, string>; detector?: boolean }): Promise<Child> {
  const c = pmip6(
    ['mag', '--id', o.id, '--proxy-coa', o.coa, '--lma', o.lmaa, '--allow-unprotected-signalling'],
    {
      PMIP6_DATA_DIR: mkdtempSync(join(o.dir, `${o.id}-`)), PMIP6_API_HOST: '127.0.0.1', PMIP6_API_PORT: '8081', PMIP6_API_TOKEN: o.token,
      PMIP6_SNMP_ENABLED: 'false', PMIP6_MAG_HEARTBEAT_INTERVAL: '0', PMIP6_LOG_LEVEL: 'info', PMIP6_DATAPLANE_KIND: 'userspace',
      ...o.env,
    },
    { prefix: ['ip', 'netns', 'exec', ns.name] },
  );
  lab.track(c.child);
  const up = () => c.out().includes(`MAG ${o.id} running`) && (!o.detector || c.out().includes('access-link detector running'));
  await until(`${o.id} up`, () => up() || c.child.exitCode !== null, 60_000).catch((e: unknown) => {
    throw new Error(`${(e as Error).message}: ${c.out().slice(-3000)}`);
  });
  assert.equal(c.child.exitCode, null, c.out());
  assert.match(c.out(), /data plane: user-space forwarder on TUN pmip6-mag/);
  return c;
}

/**
 * Runs a command in `ns` without blocking this process: the LMA's database connection goes
 * through it (pg-bridge.ts), and a spawnSync of a second stalls the LMA's commits (and its PBAs).
 */
export function runIn(ns: Netns, cmd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns.name, cmd, ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** UDP probes from `mn` to the echo at `dst` port 7 every 5 ms (dp_udp_probe.py): answer times (ms since the epoch). */
export function udpPinger(lab: Lab, mn: Netns, dst: string): { child: ChildProcess; replies: number[] } {
  const child = lab.track(mn.spawn('/usr/bin/python3', [PROBE, 'probe', dst, '7', '5'], { stdio: ['ignore', 'pipe', 'ignore'] }));
  const replies: number[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^(\d+\.\d+) \d+$/.exec(line);
      if (m) replies.push(Number(m[1]));
    }
  });
  return { child, replies };
}

/** The UDP echo (port 7) the prober talks to, in `ns`. */
export function udpEcho(lab: Lab, ns: Netns): ChildProcess {
  return lab.track(ns.spawn('/usr/bin/python3', [PROBE, 'echo', '7'], { stdio: 'ignore' }));
}

/** A forwarder's packet counter in one direction, from its process's /metrics (inside its namespace). */
export async function forwarded(a: Agent, port: number, role: 'lma' | 'mag', direction: 'to-tunnel' | 'from-tunnel'): Promise<number> {
  const body = (await a.call<{ body: string }>('fetch', { url: `http://127.0.0.1:${port}/metrics` })).body;
  return Number(new RegExp(`pmip6_dataplane_packets_total\\{role="${role}",direction="${direction}"\\} (\\d+)`).exec(body)?.[1] ?? 0);
}

export interface MoveTimes {
  /** When the test started moving the MN's link (ms since the epoch). */
  moveStart: number;
  /** When the link was up at MAG2: from here on an answer can only have come through MAG2. */
  moveDone: number;
  /** When the LMA's binding was first seen at MAG2 (test polling included). */
  registered: number;
  /** The last answer before the move and the first one through MAG2. */
  last: number;
  first: number;
}

/**
 * The handover the e2e tests measure: with `pinger` answering steadily through MAG1, the MAG
 * end of the MN's access link (`acc0`) moves to MAG2's namespace and comes up there; waits for
 * the LMA's binding at `mag2` and for the first answer through MAG2. `fail(what)` builds the
 * test's diagnostic handler for a wait that times out.
 */
export async function moveAccessLink(
  o: { pinger: { replies: number[] }; from: Netns; to: Netns; mag2: string; bindings: () => Promise<{ proxyCoa: string; state: string }[]>; fail: (what: string) => (e: unknown) => Promise<never> },
): Promise<MoveTimes> {
  const p = o.pinger;
  await until('steady answers through MAG1', () => p.replies.length >= 20, 20_000).catch(o.fail('no steady UDP answers'));
  const moveStart = Date.now();
  o.from.ip('link', 'set', 'acc0', 'netns', o.to.name);
  o.to.ip('link', 'set', 'acc0', 'up');
  const moveDone = Date.now();
  await until('the LMA binding points at MAG2', async () => (await o.bindings()).some((b) => b.proxyCoa === o.mag2 && b.state !== 'deregistering'), 30_000).catch(o.fail('no binding at MAG2'));
  const registered = Date.now();
  await until('answers resume through MAG2', () => p.replies.some((x) => x > moveDone), 30_000).catch(o.fail('no answer through MAG2'));
  const last = p.replies.filter((x) => x <= moveStart).at(-1) ?? moveStart;
  const first = p.replies.find((x) => x > moveDone)!;
  return { moveStart, moveDone, registered, last, first };
}

/** The suite's own steps after a move, from its processes' JSON logs: "MAG2 +1095 binding registered (HI 4); ...". */
export function moveTimeline(moveStart: number, procs: [string, Child][]): string {
  const steps = (who: string, c: Child) =>
    c.out().split('\n').filter((x) => x.startsWith('{')).map((x) => JSON.parse(x) as { time: number; msg: string; hi?: number })
      .filter((j) => j.time >= moveStart && /attached|detached|binding|advertising/.test(j.msg)).map((j) => ({ at: j.time - moveStart, text: `${who} +${j.time - moveStart} ${j.msg}${j.hi !== undefined ? ` (HI ${j.hi})` : ''}` }));
  return procs.flatMap(([who, c]) => steps(who, c)).sort((x, y) => x.at - y.at).map((x) => x.text).join('; ');
}
