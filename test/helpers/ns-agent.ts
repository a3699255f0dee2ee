// A helper process that runs inside a test's network namespace (`ip netns exec NS node
// --import tsx ns-agent.ts`) and does there what the test process cannot: open raw IPv6
// Mobility Header sockets, run an LMA over them, send crafted datagrams, make HTTP calls
// to servers that listen only inside the namespace. Driven over the IPC channel:
// {id, op, ...} -> {id, ok, result | error}. See AgentClient in ns-agent-client.ts.
import { Ip6Transport, type Ip6TransportOptions } from '../../src/transport/ip6.ts';
import type { ReceivedMh } from '../../src/transport/types.ts';
import { Lma } from '../../src/lma/index.ts';
import { RecordingDataPlane } from '../../src/dataplane/recording.ts';
import { encodeMessage } from '../../src/mh/index.ts';
import { setRootLogger } from '../../src/util/log.ts';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import dgram from 'node:dgram';
import { MapPolicy, buildPbu, makeProfile, type PbuSpec } from '../lma/driver.ts';

/** An MhWriter that copies prepared octets (sendMany's `into`). */
function copyInto(data: Buffer, buf: Uint8Array, off: number): number {
  buf.set(data, off);
  return data.length;
}

interface Req {
  id: number;
  op: string;
  [k: string]: unknown;
}

// Warn-level log lines of everything in this process, for "logged once per cause and peer".
const logLines: Record<string, unknown>[] = [];
setRootLogger(
  pino(
    { level: 'warn' },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n')) if (l) logLines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    }),
  ),
);

const transports = new Map<string, { t: Ip6Transport; inbox: ReceivedMh[] }>();
let lma: { lma: Lma; t: Ip6Transport; policy: MapPolicy } | undefined;

function wire(m: ReceivedMh): Record<string, unknown> {
  return { hex: m.data.toString('hex'), from: m.from, local: m.local, carriage: m.carriage, ifindex: m.ifindex, hopLimit: m.hopLimit };
}

async function waitFor(f: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!f() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}

const ops: Record<string, (r: Req) => unknown> = {
  /** Opens an Ip6Transport named `name`; received datagrams queue up for `take`. */
  open(r) {
    const t = Ip6Transport.open(r.options as Ip6TransportOptions);
    const inbox: ReceivedMh[] = [];
    t.onReceive((m) => inbox.push({ ...m, data: Buffer.from(m.data) }));
    transports.set(r.name as string, { t, inbox });
    return t.localAddresses();
  },
  async send(r) {
    const e = transports.get(r.name as string)!;
    const errors: string[] = [];
    e.t.onError((err) => errors.push(err.message));
    e.t.send(Buffer.from(r.hex as string, 'hex'), { address: r.to as string }, r.from as string | undefined);
    await new Promise((res) => setImmediate(res)); // a batched send leaves at the end of the turn
    return errors;
  },
  /** Sends `packets` in one turn of the event loop (one batch where the transport batches); the errors reported. */
  async sendMany(r) {
    const e = transports.get(r.name as string)!;
    const errors: string[] = [];
    e.t.onError((err) => errors.push(err.message));
    for (const p of r.packets as { hex: string; to: string; from?: string; into?: boolean }[]) {
      const data = Buffer.from(p.hex, 'hex');
      // into: written in place through MhTransport.sendInto (a writer copying the octets).
      if (p.into && e.t.sendInto) e.t.sendInto(copyInto, data, { address: p.to }, p.from);
      else e.t.send(data, { address: p.to }, p.from);
    }
    await new Promise((res) => setImmediate(res));
    return errors;
  },
  /** Sends `packets` (each through transport `via`, default `name`) `repeat` times as fast as the event loop allows. */
  async flood(r) {
    let errors = 0;
    const pkts = (r.packets as { hex: string; to: string; from?: string; via?: string }[]).map((p) => {
      const t = transports.get(p.via ?? (r.name as string))!.t;
      t.onError(() => errors++);
      return { ...p, t, buf: Buffer.from(p.hex, 'hex') };
    });
    let sent = 0;
    for (let k = 0; k < (r.repeat as number); k++) {
      for (const p of pkts) {
        p.t.send(p.buf, { address: p.to }, p.from);
        sent++;
      }
      if ((k & 255) === 255) await new Promise((res) => setImmediate(res));
    }
    return { sent, errors };
  },
  async take(r) {
    const e = transports.get(r.name as string)!;
    await waitFor(() => e.inbox.length >= (r.n as number), (r.ms as number) ?? 3000);
    return e.inbox.splice(0).map(wire);
  },
  stats(r) {
    return (r.name === 'lma' ? lma!.t : transports.get(r.name as string)!.t).stats();
  },
  /**
   * An in-process LMA over raw IPv6 on `address`, with profiles and authorised MAGs in memory.
   * A wide TimestampValidityWindow (RFC 5213 §5.5): a loaded test machine must not turn a
   * late PBU into status 156.
   */
  async lma(r) {
    const t = Ip6Transport.open({ addresses: [r.address as string], types: (r.types as number[] | undefined) ?? undefined, what: 'test LMA' });
    const policy = new MapPolicy();
    policy.mags.clear();
    for (const m of r.mags as string[]) policy.mags.add(m);
    for (const p of r.profiles as ({ mnId: string; hnps: string[] } & Record<string, unknown>)[]) policy.add(makeProfile(p.mnId, { ...p }));
    const l = new Lma({ transport: t, dataPlane: new RecordingDataPlane(false), policy, config: { address: r.address as string, heartbeatIntervalMs: 0, timestampValidityWindowMs: 10_000 } });
    await l.start();
    lma = { lma: l, t, policy };
    return true;
  },
  async lmaCounters() {
    await lma!.lma.settle();
    const c = lma!.lma.counters;
    return { rx: c.rx, tx: c.tx, dropped: c.dropped, pbaByStatus: Object.fromEntries(c.pbaByStatus.flatMap((v, s) => (v ? [[s, v]] : []))), bindings: lma!.lma.bindingCount, transport: lma!.t.stats() };
  },
  /** The LMA's bindings of one MN (Proxy-CoA, HNPs, ...). */
  lmaBindings(r) {
    return lma!.lma.bindings.ofMobileNode(r.mnId as string);
  },
  /** Encodes a PBU (test/lma/driver.ts spec) to hex. */
  pbu(r) {
    return encodeMessage(buildPbu(r.spec as PbuSpec, Date.now, (r.seq as number) ?? 1)).toString('hex');
  },
  /** A UDP datagram carrying `marker` to [::1]:9 (discard): something a capture in this namespace sees. */
  async probe(r) {
    const s = dgram.createSocket('udp6');
    await new Promise<void>((res) => s.send(Buffer.from(r.marker as string), 9, '::1', () => res()));
    s.close();
    return true;
  },
  /** One UDP datagram to `to`:`port` from an ephemeral IPv4 socket; the first answer (hex) or null. */
  async udp(r) {
    const s = dgram.createSocket('udp4');
    try {
      const reply = new Promise<string | null>((res) => {
        s.once('message', (m) => res(m.toString('hex')));
        setTimeout(() => res(null), (r.ms as number) ?? 3000);
      });
      s.send(Buffer.from(r.hex as string, 'hex'), r.port as number, r.to as string);
      return await reply;
    } finally {
      s.close();
    }
  },
  logs() {
    return logLines.splice(0);
  },
  async fetch(r) {
    const res = await fetch(r.url as string, { method: (r.method as string) ?? 'GET', headers: r.headers as Record<string, string>, body: r.body === undefined ? undefined : JSON.stringify(r.body) });
    return { status: res.status, body: await res.text() };
  },
  async exit() {
    for (const e of transports.values()) await e.t.close();
    if (lma) {
      await lma.lma.stop();
      await lma.t.close();
    }
    setImmediate(() => process.exit(0));
    return true;
  },
};

process.on('message', (r: Req) => {
  void (async () => {
    try {
      const f = ops[r.op];
      if (!f) throw new Error(`unknown op ${r.op}`);
      process.send!({ id: r.id, ok: true, result: await f(r) });
    } catch (e) {
      const err = e as Error & { code?: string };
      process.send!({ id: r.id, ok: false, error: { message: err.message, name: err.name, code: err.code } });
    }
  })();
});
process.send!({ ready: true });
