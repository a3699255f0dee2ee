// A small LMA responder for MAG unit tests (not src/lma): it keeps one binding per MN-ID,
// checks timestamps (RFC 5213 §5.5), ignores a de-registration from a Proxy-CoA other than
// the binding's (§5.3.5), assigns HNPs / IPv4 HoAs / GRE uplink keys, and echoes the options
// a PBA must echo (§5.3.6). Tests override any answer with `respond`.
import {
  BaFlag,
  HeartbeatFlag,
  decodeMessage,
  encodeMessage,
  getOption,
  getOptions,
  isAllZero,
  naiFromMnId,
  parseIpv4,
  parsePrefix,
  prefixToString,
  timestampFromMs,
} from '../../src/mh/index.ts';
import type {
  BindingAck,
  BindingRevocationIndication,
  BindingUpdate,
  MhMessage,
  MobilityOption,
} from '../../src/mh/index.ts';
import type { MemoryHub, MemoryTransport } from '../../src/transport/memory.ts';
import type { Peer } from '../../src/transport/types.ts';
import type { Clock } from '../../src/util/clock.ts';

export interface Bce {
  proxyCoa: string;
  hnps: string[];
  ipv4: string | null;
  lastTs: bigint;
  greUp: number | null;
}

export interface Received {
  msg: MhMessage;
  from: Peer;
  at: number;
}

/** What `respond` may return: 'drop' (no answer), or fields overriding the default PBA. */
export type Override =
  | 'drop'
  | 'default'
  | {
      status?: number;
      seq?: number;
      lifetime?: number;
      flags?: number;
      /** Replace the options entirely. */
      options?: MobilityOption[];
      /** Transform the default options. */
      mapOptions?: (o: MobilityOption[]) => MobilityOption[];
    };

export class FakeLma {
  readonly transport: MemoryTransport;
  readonly received: Received[] = [];
  readonly sentPbas: BindingAck[] = [];
  readonly bces = new Map<string, Bce>();
  /** Per-PBU hook; return undefined / 'default' for the default behaviour. */
  respond: ((pbu: BindingUpdate, from: Peer) => Override | undefined) | null = null;
  heartbeat: 'answer' | 'ignore' | 'unsupported' = 'answer';
  restartCounter = 1;
  maxLifetimeS = 65535 * 4;
  private hnpCounter = 0;
  private v4Counter = 0;

  constructor(
    private readonly hub: MemoryHub,
    readonly address: string,
    private readonly clock: Clock,
    port = 5436,
  ) {
    this.transport = hub.endpoint(address, port);
    this.transport.onReceive((m) => {
      const r = decodeMessage(m.data);
      if (!r.ok) throw new Error(`fake LMA got an undecodable MH: ${r.error.reason}`);
      this.received.push({ msg: r.msg, from: m.from, at: this.clock.now() });
      this.onMessage(r.msg, m.from);
    });
  }

  pbus(): (Received & { msg: BindingUpdate })[] {
    return this.received.filter((r): r is Received & { msg: BindingUpdate } => r.msg.type === 'bu');
  }

  lastPbu(): BindingUpdate {
    const p = this.pbus();
    if (p.length === 0) throw new Error('no PBU received');
    return p[p.length - 1].msg;
  }

  of<T extends MhMessage['type']>(type: T): (Received & { msg: Extract<MhMessage, { type: T }> })[] {
    return this.received.filter((r) => r.msg.type === type) as (Received & { msg: Extract<MhMessage, { type: T }> })[];
  }

  send(msg: MhMessage, to: Peer): void {
    this.transport.send(encodeMessage(msg), to);
  }

  sendBri(to: Peer, bri: Omit<BindingRevocationIndication, 'type'>): void {
    this.send({ type: 'bri', ...bri }, to);
  }

  sendHeartbeatRequest(to: Peer, seq: number): void {
    this.send({ type: 'heartbeat', flags: 0, seq, options: [] }, to);
  }

  private onMessage(msg: MhMessage, from: Peer): void {
    if (msg.type === 'bu') return this.onPbu(msg, from);
    if (msg.type === 'heartbeat' && (msg.flags & HeartbeatFlag.R) === 0) {
      if (this.heartbeat === 'answer') {
        this.send(
          { type: 'heartbeat', flags: HeartbeatFlag.R, seq: msg.seq, options: [{ type: 'restartCounter', counter: this.restartCounter }] },
          from,
        );
      } else if (this.heartbeat === 'unsupported') {
        this.send({ type: 'be', status: 2, homeAddress: new Uint8Array(16), options: [] }, from);
      }
    }
  }

  private onPbu(pbu: BindingUpdate, from: Peer): void {
    const o = this.respond?.(pbu, from);
    if (o === 'drop') return;
    const { status, options, bce } = this.process(pbu, from);
    if (status === null) return; // ignored (de-registration from another Proxy-CoA, §5.3.5)
    let ba: BindingAck = {
      type: 'ba',
      status,
      flags: BaFlag.P,
      seq: pbu.seq,
      lifetime: status < 128 && pbu.lifetime > 0 ? Math.min(pbu.lifetime, Math.floor(this.maxLifetimeS / 4)) : 0,
      options,
    };
    if (o && o !== 'default') {
      ba = {
        ...ba,
        status: o.status ?? ba.status,
        seq: o.seq ?? ba.seq,
        lifetime: o.lifetime ?? ba.lifetime,
        flags: o.flags ?? ba.flags,
        options: o.options ?? (o.mapOptions ? o.mapOptions(options) : options),
      };
    }
    if (ba.status >= 128 && bce === 'new') this.bces.delete(naiFromMnId(getOption(pbu, 'mnId')) ?? '');
    this.sentPbas.push(ba);
    this.send(ba, from);
  }

  /** Default processing; `bce` says whether a binding was created by this PBU. */
  private process(pbu: BindingUpdate, from: Peer): { status: number | null; options: MobilityOption[]; bce: 'new' | 'old' | null } {
    const mnIdOpt = getOption(pbu, 'mnId');
    const mnId = naiFromMnId(mnIdOpt) ?? '';
    const echo: MobilityOption[] = [];
    if (mnIdOpt) echo.push(mnIdOpt);
    const hi = getOption(pbu, 'handoffIndicator');
    const att = getOption(pbu, 'accessTechType');
    const ll = getOption(pbu, 'mnLinkLayerId');
    const ts = getOption(pbu, 'timestamp');
    const v4req = getOption(pbu, 'ipv4HoaRequest');
    const gre = getOption(pbu, 'greKey');
    const reqHnps = getOptions(pbu, 'hnp');
    const tail = (tsValue: bigint | null): MobilityOption[] => {
      const out: MobilityOption[] = [];
      out.push({ type: 'handoffIndicator', hi: hi?.hi ?? 0 });
      out.push({ type: 'accessTechType', att: att?.att ?? 0 });
      if (ll) out.push(ll);
      if (ts && tsValue !== null) out.push({ type: 'timestamp', value: tsValue });
      return out;
    };
    const hnpOpts = (list: string[]): MobilityOption[] =>
      list.map((h) => {
        const p = parsePrefix(h);
        return { type: 'hnp', prefixLen: p.prefixLen, prefix: p.prefix };
      });
    let bce = this.bces.get(mnId);
    // §5.5: a timestamp not newer than the last accepted one -> 157 with our own time.
    if (ts && bce && ts.value <= bce.lastTs) {
      return { status: 157, options: [...echo, ...reqHnps, ...tail(timestampFromMs(this.clock.now()))], bce: null };
    }
    if (pbu.lifetime === 0) {
      if (!bce || bce.proxyCoa !== from.address) return { status: null, options: [], bce: null }; // §5.3.5
      this.bces.delete(mnId);
      return { status: 0, options: [...echo, ...hnpOpts(bce.hnps), ...tail(ts?.value ?? null)], bce: 'old' };
    }
    let created: 'new' | 'old' = 'old';
    if (!bce) {
      bce = { proxyCoa: from.address, hnps: [], ipv4: null, lastTs: 0n, greUp: null };
      this.bces.set(mnId, bce);
      created = 'new';
    }
    bce.proxyCoa = from.address;
    if (ts) bce.lastTs = ts.value;
    const out: MobilityOption[] = [...echo];
    if (reqHnps.length > 0) {
      const nonZero = reqHnps.filter((h) => !isAllZero(h.prefix)).map((h) => prefixToString(h.prefix, h.prefixLen));
      if (nonZero.length > 0) bce.hnps = nonZero;
      else if (bce.hnps.length === 0) {
        const n = ++this.hnpCounter;
        bce.hnps = [n < 0x10000 ? `2001:db8:${n.toString(16)}::/64` : `2001:db8:${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}::/64`];
      }
      out.push(...hnpOpts(bce.hnps));
    }
    out.push(...tail(ts?.value ?? null));
    if (v4req) {
      if (v4req.addr !== 0) bce.ipv4 = `${v4req.addr >>> 24}.${(v4req.addr >>> 16) & 255}.${(v4req.addr >>> 8) & 255}.${v4req.addr & 255}`;
      else bce.ipv4 ??= `10.0.${(++this.v4Counter) >> 8}.${this.v4Counter & 255}`;
      out.push({ type: 'ipv4HoaReply', status: 0, prefixLen: 24, addr: parseIpv4(bce.ipv4) });
      out.push({ type: 'ipv4DefaultRouter', addr: parseIpv4('10.0.0.1') });
    }
    if (gre) {
      bce.greUp ??= 0x1000 + this.hnpCounter;
      out.push({ type: 'greKey', key: bce.greUp });
    }
    return { status: 0, options: out, bce: created };
  }
}
