// The Binding Update List (RFC 6275 §11.1, extended by RFC 5213 §6.1, RFC 5844 §3.2.1,
// RFC 5845 §5.1): one entry per mobility session (MN-ID + access link), plus the indexes the
// MAG needs: by MN (PBA matching, detach), and by (mnIndex, llIndex) in order for the
// PMIPV6-MIB tables (RFC 6475 Pmip6MnIndex / Pmip6MnLLIndex) and SNMP GETNEXT.
//
// Memory: a Bule is one plain object with scalar fields, a small HNP array and at most one
// timer handle. No per-entry closures other than that timer's callback.
import type { TimerHandle } from '../util/clock.ts';
import type { BuleInfo, BuleState } from './types.ts';

/** What the outstanding PBU is for. */
export const PbuKind = { NONE: 0, INITIAL: 1, REFRESH: 2, DEREG: 3 } as const;
export type PbuKindValue = (typeof PbuKind)[keyof typeof PbuKind];

/** What the entry's single timer is waiting for. */
export const TimerKind = { NONE: 0, RETX: 1, REFRESH: 2, SEND: 3, RESYNC: 4 } as const;
export type TimerKindValue = (typeof TimerKind)[keyof typeof TimerKind];

/** GRE state of the session (RFC 5845 §5.1). */
export const Gre = { OFF: 0, REQUESTED: 1, ACTIVE: 2 } as const;
export type GreValue = (typeof Gre)[keyof typeof Gre];

export class Bule {
  /* identity (RFC 5213 §6.1) */
  readonly mnId: string;
  readonly link: string;
  mnLinkLayerId: string | null;
  att: number;
  mnIndex = 0;
  llIndex = 0;
  /** Next session of the same MN (multihoming), in llIndex order. */
  nextSession: Bule | null = null;

  /* LMA */
  lma: string;
  lmaPort: number;

  /* what we ask for / were given */
  wantIpv6: boolean;
  /** Requested HNPs (empty = one ALL_ZERO option) until assigned; then the assigned ones. */
  hnps: string[];
  hnpsAssigned = false;
  wantIpv4: boolean;
  /** Requested (null = 0.0.0.0) or assigned IPv4 HoA. */
  ipv4HoA: string | null;
  ipv4PrefixLen: number;
  ipv4Assigned = false;
  ipv4DefaultRouter: string | null = null;
  dhcpServer = false;
  magLinkLocal: string | null = null;
  gre: GreValue = Gre.OFF;
  /** Downlink key (LMA -> MAG), chosen by us (RFC 5845 §3). */
  greKeyDown = 0;
  /** Uplink key (MAG -> LMA), chosen by the LMA. */
  greKeyUp: number | null = null;
  /** Status 2 seen: never send the GRE Key option again for this session. */
  greRefused = false;
  /** The last PBA 0 carried NAT Detection with F (RFC 5844 §4: IPv4-UDP mode). */
  udpEncap = false;

  /* registration */
  state: BuleState = 'registering';
  handoffIndicator: number;
  attached = true;
  grantedS = 0;
  acceptedAt = 0;
  expiresAt = 0;
  lastStatus = -1;
  /** Per-session sequence number (sequence-number mode) or the last one sent. */
  seq: number;
  statusRetries: number;
  retransmissionsTotal = 0;

  /* outstanding PBU */
  pendingKind: PbuKindValue = PbuKind.NONE;
  pendingSeq = -1;
  pendingHi = 0;
  /** Timestamp option value sent (0n in sequence-number mode). */
  pendingTs = 0n;
  /** After a 157: the next Timestamp must exceed the LMA's time of day from that PBA. */
  tsFloor: bigint | null = null;
  /** The transmission before the current one: its PBA is still a valid answer. */
  prevSeq = -1;
  prevTs = 0n;
  pendingGre = false;
  retries = 0;
  /** MAX_UPDATE_RATE window (RFC 6275 §11.8). */
  windowStart = -Infinity;
  windowCount = 0;

  /* timer */
  timer: TimerHandle | null = null;
  timerKind: TimerKindValue = TimerKind.NONE;

  /* data plane */
  tunnelKey: string | null = null;
  tunnelId: string | null = null;
  routes: string[] | null = null;

  constructor(init: {
    mnId: string;
    link: string;
    mnLinkLayerId: string | null;
    att: number;
    lma: string;
    lmaPort: number;
    wantIpv6: boolean;
    hnps: string[];
    wantIpv4: boolean;
    ipv4HoA: string | null;
    ipv4PrefixLen: number;
    handoffIndicator: number;
    seq: number;
    statusRetries: number;
  }) {
    this.mnId = init.mnId;
    this.link = init.link;
    this.mnLinkLayerId = init.mnLinkLayerId;
    this.att = init.att;
    this.lma = init.lma;
    this.lmaPort = init.lmaPort;
    this.wantIpv6 = init.wantIpv6;
    this.hnps = init.hnps;
    this.wantIpv4 = init.wantIpv4;
    this.ipv4HoA = init.ipv4HoA;
    this.ipv4PrefixLen = init.ipv4PrefixLen;
    this.handoffIndicator = init.handoffIndicator;
    this.seq = init.seq;
    this.statusRetries = init.statusRetries;
  }

  /** A new outstanding PBU of this kind and Handoff Indicator: no retransmission yet, no sequence number sent. */
  beginPbu(kind: PbuKindValue, hi: number): void {
    this.pendingKind = kind;
    this.pendingHi = hi;
    this.retries = 0;
    this.pendingSeq = -1;
    this.prevSeq = -1;
  }

  cancelTimer(): void {
    if (this.timer) this.timer.cancel();
    this.timer = null;
    this.timerKind = 0;
  }

  /** No IPv4 service for this session (RFC 5844 §3.2.3.2). */
  clearIpv4(): void {
    this.wantIpv4 = false;
    this.ipv4HoA = null;
    this.ipv4PrefixLen = 0;
    this.ipv4Assigned = false;
    this.ipv4DefaultRouter = null;
    this.dhcpServer = false;
  }

  /** Has the LMA accepted a binding that is still (believed) alive? */
  hasBinding(): boolean {
    return this.acceptedAt > 0;
  }

  info(): BuleInfo {
    return {
      mnId: this.mnId,
      mnIndex: this.mnIndex,
      llIndex: this.llIndex,
      link: this.link,
      mnLinkLayerId: this.mnLinkLayerId,
      accessTechType: this.att,
      state: this.state,
      lma: this.lma,
      lmaPort: this.lmaPort,
      hnps: this.wantIpv6 ? this.hnps.slice() : [],
      hnpsAssigned: this.hnpsAssigned,
      ipv4HoA: this.wantIpv4 ? this.ipv4HoA : null,
      ipv4PrefixLength: this.wantIpv4 && this.ipv4Assigned ? this.ipv4PrefixLen : null,
      ipv4DefaultRouter: this.ipv4DefaultRouter,
      dhcpServer: this.dhcpServer,
      magLinkLocal: this.magLinkLocal,
      handoffIndicator: this.handoffIndicator,
      lifetimeS: this.grantedS,
      acceptedAt: this.acceptedAt > 0 ? this.acceptedAt : null,
      expiresAt: this.acceptedAt > 0 ? this.expiresAt : null,
      seq: this.seq,
      lastStatus: this.lastStatus >= 0 ? this.lastStatus : null,
      greKeyDownlink: this.gre !== Gre.OFF ? this.greKeyDown : null,
      greKeyUplink: this.gre === Gre.ACTIVE ? this.greKeyUp : null,
      tunnelId: this.tunnelId,
      retransmissions: this.retransmissionsTotal,
    };
  }
}

/** The list itself with its indexes. */
export class Bul {
  /** Head of each MN's session chain. */
  private readonly byMn = new Map<string, Bule>();
  /** Head of each MN's session chain by mnIndex. */
  private readonly byIndex = new Map<number, Bule>();
  /** mnIndex values in increasing order (new MNs are appended); dead ones are skipped lazily. */
  private order: number[] = [];
  private dead = 0;
  private nextMnIndex = 1;
  private count = 0;

  size(): number {
    return this.count;
  }

  /** First session of an MN (follow `nextSession` for the others). */
  head(mnId: string): Bule | undefined {
    return this.byMn.get(mnId);
  }

  get(mnId: string, link?: string): Bule | undefined {
    let b = this.byMn.get(mnId);
    if (link === undefined) return b;
    while (b && b.link !== link) b = b.nextSession ?? undefined;
    return b;
  }

  getByIndex(mnIndex: number, llIndex: number): Bule | undefined {
    let b = this.byIndex.get(mnIndex);
    while (b && b.llIndex !== llIndex) b = b.nextSession ?? undefined;
    return b;
  }

  add(b: Bule): void {
    const head = this.byMn.get(b.mnId);
    if (!head) {
      b.mnIndex = this.nextMnIndex++;
      b.llIndex = 1;
      this.byMn.set(b.mnId, b);
      this.byIndex.set(b.mnIndex, b);
      this.order.push(b.mnIndex);
    } else {
      let last = head;
      while (last.nextSession) last = last.nextSession;
      b.mnIndex = head.mnIndex;
      b.llIndex = last.llIndex + 1;
      last.nextSession = b;
    }
    this.count++;
  }

  remove(b: Bule): boolean {
    const head = this.byMn.get(b.mnId);
    if (!head) return false;
    if (head === b) {
      if (b.nextSession) {
        this.byMn.set(b.mnId, b.nextSession);
        this.byIndex.set(b.mnIndex, b.nextSession);
      } else {
        this.byMn.delete(b.mnId);
        this.byIndex.delete(b.mnIndex);
        this.dead++;
        if (this.dead > 64 && this.dead * 2 > this.order.length) this.compact();
      }
    } else {
      let prev = head;
      while (prev.nextSession && prev.nextSession !== b) prev = prev.nextSession;
      if (prev.nextSession !== b) return false;
      prev.nextSession = b.nextSession;
    }
    b.nextSession = null;
    this.count--;
    return true;
  }

  private compact(): void {
    this.order = this.order.filter((i) => this.byIndex.has(i));
    this.dead = 0;
  }

  /** Every entry, in (mnIndex, llIndex) order. */
  *entries(): IterableIterator<Bule> {
    yield* this.entriesAfter(0, 0);
  }

  /** Entries strictly after (mnIndex, llIndex). */
  *entriesAfter(mnIndex: number, llIndex: number): IterableIterator<Bule> {
    // Binary search for the first position whose mnIndex >= the key.
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.order[mid] < mnIndex) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.order.length; i++) {
      const idx = this.order[i];
      for (let b = this.byIndex.get(idx); b; b = b.nextSession ?? undefined) {
        if (idx === mnIndex && b.llIndex <= llIndex) continue;
        yield b;
      }
    }
  }

  counts(): Record<BuleState, number> & { total: number } {
    const c = { registering: 0, registered: 0, refreshing: 0, deregistering: 0, held: 0, total: 0 };
    for (const head of this.byMn.values()) {
      for (let b: Bule | null = head; b; b = b.nextSession) {
        c[b.state]++;
        c.total++;
      }
    }
    return c;
  }
}
