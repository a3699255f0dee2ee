// A minimal MAG-side test driver for the LMA tests: builds PBUs (RFC 5213 §6.9.1.5 / §8.1),
// a map-backed policy source, and a harness on ManualClock + MemoryHub + RecordingDataPlane.
// Independent of src/mag on purpose.
import {
  BuFlag,
  decodeMessage,
  encodeMessage,
  getOption,
  getOptions,
  ipv4ToString,
  ipv6ToString,
  mnIdFromNai,
  parseIpv4,
  parseIpv6,
  parsePrefix,
  secondsToLifetime,
  timestampFromMs,
} from '../../src/mh/index.ts';
import type { BindingAck, MhMessage, MobilityOption } from '../../src/mh/index.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { MemoryHub } from '../../src/transport/memory.ts';
import type { MemoryTransport } from '../../src/transport/memory.ts';
import type { MhTransport, Peer, ReceivedMh } from '../../src/transport/types.ts';
import { RecordingDataPlane } from '../../src/dataplane/recording.ts';
import type { LmaPolicySource } from '../../src/policy/source.ts';
import type { Profile } from '../../src/policy/profile.ts';
import { Lma } from '../../src/lma/index.ts';
import type { BindingEvent, BindingJournal, LmaConfig, LmaEventSink, PeerEvent, BindingStore, RestartCounterStore, MemoryLmaPolicy, PolicyAnswer } from '../../src/lma/index.ts';

export const LMAA = '2001:db8:ffff::1';
export const MAG1 = '2001:db8:aaaa::1';
export const MAG2 = '2001:db8:bbbb::1';

export function makeProfile(mnId: string, over: Partial<Profile> = {}): Profile {
  return {
    id: 1,
    mnId,
    mnLinkLayerIds: [],
    hnps: [],
    hnpPool: null,
    ipv4HoA: null,
    ipv4PrefixLength: null,
    ipv4Pool: null,
    ipv4DefaultRouter: null,
    lma: null,
    lmaGroup: null,
    serviceSelection: null,
    greKeyPolicy: 'none',
    dhcpv4Server: null,
    dhcpv6Server: null,
    mip6FeatureVector: 0n,
    enabled: true,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    ...over,
  };
}

/** A map-backed policy source that counts its calls (the "database"). */
export class MapPolicy implements LmaPolicySource, MemoryLmaPolicy {
  readonly profiles = new Map<string, Profile>();
  /** Authorised Proxy-CoAs; '*' authorises every MAG. */
  readonly mags = new Set<string>(['*']);
  profileCalls = 0;
  magCalls = 0;
  nowCalls = 0;
  fail = false;
  /**
   * Answer at once too (MemoryLmaPolicy.policyNow), as an in-memory source may. Off by
   * default; LMA_MEMORY_POLICY=1 runs every harness-based test that way.
   */
  memory = process.env.LMA_MEMORY_POLICY === '1';
  add(p: Profile): Profile {
    this.profiles.set(p.mnId, p);
    return p;
  }
  policyNow(mnId: string, proxyCoa: string): PolicyAnswer | undefined {
    if (!this.memory || this.fail) return undefined; // a failing source: the promise path reports it
    this.nowCalls++;
    this.profileCalls++;
    this.magCalls++;
    return { profile: this.profiles.get(mnId) ?? null, magAuthorized: this.mags.has('*') || this.mags.has(proxyCoa) };
  }
  async profile(mnId: string): Promise<Profile | null> {
    this.profileCalls++;
    if (this.fail) throw new Error('policy store down');
    return this.profiles.get(mnId) ?? null;
  }
  async magAuthorized(proxyCoa: string): Promise<boolean> {
    this.magCalls++;
    if (this.fail) throw new Error('policy store down');
    return this.mags.has('*') || this.mags.has(proxyCoa);
  }
}

export interface PbuSpec {
  mnId?: string | null;
  /** Prefix texts; '::/0' gives an ALL_ZERO HNP option (the default). */
  hnps?: string[];
  hi?: number | null;
  att?: number | null;
  /** Seconds (default 300); 0 = de-registration. */
  lifetime?: number;
  seq?: number;
  /** Timestamp in ms since 1970; null = none (sequence-number mode); default: the driver's clock. */
  ts?: number | null;
  llId?: string;
  lla?: string;
  v4?: { addr: string; prefixLen?: number } | { addr: string; prefixLen?: number }[];
  /** GRE key: a number, null (Length 2) or undefined (no option). */
  gre?: number | null;
  flags?: number;
  extra?: MobilityOption[];
}

export function buildPbu(spec: PbuSpec, defaultTs: () => number, seq: number): MhMessage {
  const options: MobilityOption[] = [];
  if (spec.mnId !== null) options.push(mnIdFromNai(spec.mnId ?? 'mn1@example.net'));
  for (const h of spec.hnps ?? ['::/0']) {
    const p = parsePrefix(h);
    options.push({ type: 'hnp', prefixLen: p.prefixLen, prefix: p.prefix });
  }
  if (spec.hi !== null) options.push({ type: 'handoffIndicator', hi: spec.hi ?? 1 });
  if (spec.att !== null) options.push({ type: 'accessTechType', att: spec.att ?? 4 });
  const ts = spec.ts === undefined ? defaultTs() : spec.ts;
  if (ts !== null) options.push({ type: 'timestamp', value: timestampFromMs(ts) });
  if (spec.llId) options.push({ type: 'mnLinkLayerId', id: Buffer.from(spec.llId.replace(/:/g, ''), 'hex') });
  if (spec.lla) options.push({ type: 'linkLocalAddress', addr: parseIpv6(spec.lla) });
  if (spec.v4) {
    for (const r of Array.isArray(spec.v4) ? spec.v4 : [spec.v4]) {
      options.push({ type: 'ipv4HoaRequest', prefixLen: r.prefixLen ?? 0, addr: parseIpv4(r.addr) });
    }
  }
  if (spec.gre !== undefined) options.push({ type: 'greKey', key: spec.gre });
  if (spec.extra) options.push(...spec.extra);
  return {
    type: 'bu',
    seq: spec.seq ?? seq,
    flags: spec.flags ?? (BuFlag.A | BuFlag.P),
    lifetime: secondsToLifetime(spec.lifetime ?? 300),
    options,
  };
}

const lastTs = new WeakMap<object, number>();

/** A MAG endpoint on the memory hub (or any transport) that sends PBUs and collects what comes back. */
export class TestMag {
  readonly received: MhMessage[] = [];
  private waiters: ((m: MhMessage) => void)[] = [];
  private seq = 1;
  constructor(
    readonly t: MhTransport,
    private readonly lma: Peer,
    private readonly clock: { now(): number },
  ) {
    t.onReceive((m: ReceivedMh) => {
      const d = decodeMessage(m.data);
      if (!d.ok) throw new Error(`MAG got an undecodable message: ${d.error.reason}`);
      const w = this.waiters.shift();
      if (w) w(d.msg);
      else this.received.push(d.msg);
    });
  }
  get address(): string {
    return this.t.localAddress().address;
  }
  /** A fresh timestamp near the clock, strictly increasing across every MAG on that clock (synchronised MAGs). */
  ts(): number {
    const t = Math.max(this.clock.now(), (lastTs.get(this.clock) ?? 0) + 1);
    lastTs.set(this.clock, t);
    return t;
  }
  send(msg: MhMessage): void {
    this.t.send(encodeMessage(msg), this.lma);
  }
  sendRaw(data: Buffer): void {
    this.t.send(data, this.lma);
  }
  pbu(spec: PbuSpec = {}): MhMessage {
    const m = buildPbu(spec, () => this.ts(), this.seq++ & 0xffff);
    this.send(m);
    return m;
  }
  /** Takes the oldest received message, if any. */
  take(): MhMessage | undefined {
    return this.received.shift();
  }
  /** The oldest received message, which must be a PBA. */
  pba(): BindingAck {
    const m = this.take();
    if (!m || m.type !== 'ba') throw new Error(`expected a PBA, got ${m ? m.type : 'nothing'}`);
    return m;
  }
  next(): Promise<MhMessage> {
    const m = this.received.shift();
    if (m) return Promise.resolve(m);
    return new Promise((r) => this.waiters.push(r));
  }
}

export class RecordingSink implements LmaEventSink {
  readonly bindings: BindingEvent[] = [];
  readonly peers: PeerEvent[] = [];
  binding(e: BindingEvent): void {
    this.bindings.push(e);
  }
  peer(e: PeerEvent): void {
    this.peers.push(e);
  }
  kinds(): string[] {
    return this.bindings.map((e) => e.kind);
  }
}

export interface Harness {
  clock: ManualClock;
  hub: MemoryHub;
  dp: RecordingDataPlane;
  policy: MapPolicy;
  sink: RecordingSink;
  lma: Lma;
  lmaT: MemoryTransport;
  mag(address?: string, port?: number): TestMag;
  /** Lets queued deliveries and async processing finish. */
  settle(): Promise<void>;
  /** Moves the clock and settles. */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function harness(opts: {
  config?: Partial<LmaConfig>;
  store?: BindingStore;
  journal?: BindingJournal;
  restartCounterStore?: RestartCounterStore;
  profiles?: Profile[];
  clock?: ManualClock;
  hub?: MemoryHub;
  dp?: RecordingDataPlane;
} = {}): Promise<Harness> {
  const clock = opts.clock ?? new ManualClock();
  const hub = opts.hub ?? new MemoryHub();
  const dp = opts.dp ?? new RecordingDataPlane();
  const policy = new MapPolicy();
  for (const p of opts.profiles ?? []) policy.add(p);
  const sink = new RecordingSink();
  const lmaT = hub.endpoint(LMAA);
  const lma = new Lma({
    transport: lmaT,
    dataPlane: dp,
    policy,
    clock,
    events: sink,
    store: opts.store,
    journal: opts.journal,
    restartCounterStore: opts.restartCounterStore,
    config: { lmaId: 'lma-test', address: LMAA, heartbeatIntervalMs: 0, ...opts.config },
  });
  await lma.start();
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setImmediate(r));
      await lma.settle();
    }
  };
  return {
    clock,
    hub,
    dp,
    policy,
    sink,
    lma,
    lmaT,
    mag: (address = MAG1, port = 5436) => new TestMag(hub.endpoint(address, port), { address: LMAA, port: 5436 }, clock),
    settle,
    advance: async (ms: number) => {
      clock.advance(ms);
      await settle();
    },
    close: async () => {
      await lma.stop();
    },
  };
}

/* ---------------------------------------------------------------- PBA helpers */

export function hnpsOf(m: MhMessage): string[] {
  return getOptions(m, 'hnp').map((o) => `${ipv6ToString(o.prefix)}/${o.prefixLen}`);
}

export function v4ReplyOf(m: MhMessage): { status: number; addr: string; prefixLen: number } | undefined {
  const o = getOption(m, 'ipv4HoaReply');
  return o ? { status: o.status, addr: ipv4ToString(o.addr), prefixLen: o.prefixLen } : undefined;
}

export { getOption, getOptions };
