// The LMA as the SNMP agent sees it (src/snmp/view.ts LmaView, RFC 6475 PMIPV6-MIB):
// LmaTables (src/snmp/role-tables.ts) fed from the binding cache's change stream, with
// rows that read the live BCE at request time, the registration counters mapped from the
// LMA's counters (RFC 5213 §8.9 statuses), the lifetime SET, and the tunnel notifications
// (pmip6LmaHomeTunnelEstablished / -Released). Costs nothing until created.
import { LmaTables } from '../snmp/role-tables.ts';
import type { HomeNetworkPrefix, LmaBindingSource } from '../snmp/role-tables.ts';
import { inetAddr, inetIndex } from '../snmp/table.ts';
import { InetAddressType, TunnelEndpointState } from '../snmp/view.ts';
import type { BindingRegCounters, InetAddr, LmaView, Pmip6EventSink, WriteResult } from '../snmp/view.ts';
import { BaStatus, parseIpv6, parsePrefix } from '../mh/index.ts';
import { F } from './bce.ts';
import { tunnelIfIdentifier } from '../dataplane/types.ts';
import type { Bce } from './bce.ts';
import type { Lma } from './lma.ts';
import type { BindingEventKind } from './types.ts';

const NO_ADDR: InetAddr = Object.freeze({ type: InetAddressType.unknown, octets: new Uint8Array(0) });
/** RFC 5213 §5.1: an unknown MN-LL-ID is two octets ALL_ZERO. */
const LL_ALL_ZERO = new Uint8Array(2);

function v4Addr(v4: number): InetAddr {
  const o = new Uint8Array(4);
  o[0] = v4 >>> 24;
  o[1] = (v4 >>> 16) & 0xff;
  o[2] = (v4 >>> 8) & 0xff;
  o[3] = v4 & 0xff;
  return { type: InetAddressType.ipv4, octets: o };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** A BCE as LmaTables reads it; identity fields are fixed at construction (reindex on change). */
class BceSource implements LmaBindingSource {
  readonly proxyRegistration = true;
  readonly mnIdentifier: string;
  readonly mnLLIdentifier: string | Uint8Array;
  readonly homeAddress: InetAddr;
  readonly homeNetworkPrefixes: readonly HomeNetworkPrefix[];
  /** What the tables were filed under, to notice changes. */
  readonly hnpsRef: string | string[] | null;
  readonly v4: number;
  readonly llId: string | null;
  constructor(
    readonly b: Bce,
    private readonly ifIndexOf: (b: Bce) => number | null,
  ) {
    this.mnIdentifier = b.mnId;
    this.llId = b.llId;
    this.mnLLIdentifier = b.llId === null ? LL_ALL_ZERO : Buffer.from(b.llId.replace(/:/g, ''), 'hex');
    this.hnpsRef = b.hnps;
    this.v4 = b.v4;
    const prefixes = b.hnpList().map((p) => {
      const x = parsePrefix(p);
      return { prefix: { type: InetAddressType.ipv6, octets: new Uint8Array(x.prefix) } as InetAddr, length: x.prefixLen };
    });
    this.homeNetworkPrefixes = prefixes;
    // The home address of the row: the lowest HNP (host bits zero), else the IPv4 HoA (view.ts BindingCacheRow).
    let low: InetAddr | undefined;
    for (const p of prefixes) if (!low || compareBytes(p.prefix.octets, low.octets) < 0) low = p.prefix;
    this.homeAddress = low ?? (b.v4 !== 0 ? v4Addr(b.v4 >>> 0) : NO_ADDR);
  }
  get magLinkLocalAddress(): InetAddr {
    return this.b.lla !== null ? { type: InetAddressType.ipv6, octets: new Uint8Array(parseIpv6(this.b.lla)) } : NO_ADDR;
  }
  get tunnelIfIdentifier(): Uint8Array {
    return tunnelIfIdentifier(this.ifIndexOf(this.b));
  }
  get accessTechnologyType(): number {
    return this.b.att;
  }
  get timeRecentlyAccepted(): bigint {
    return BigInt(this.b.ts);
  }
  get lifetime(): number {
    return this.b.lifetime;
  }
  changed(): boolean {
    return this.b.hnps !== this.hnpsRef || this.b.v4 !== this.v4 || this.b.llId !== this.llId;
  }
}

export interface LmaSnmpAdapter {
  readonly view: LmaView;
  /** Stops following the LMA (the tables keep their last content). */
  close(): void;
}

/** RFC 6475 pmip6BindingRegCounters from the LMA's running totals. */
export function bindingRegCounters(lma: Lma): BindingRegCounters {
  const c = lma.counters;
  const s = c.pbaByStatus;
  return {
    missingMnIdentifierOption: s[BaStatus.MISSING_MN_IDENTIFIER_OPTION],
    magNotAuthorizedForProxyReg: s[BaStatus.MAG_NOT_AUTHORIZED_FOR_PROXY_REG],
    notLmaForThisMobileNode: s[BaStatus.NOT_LMA_FOR_THIS_MOBILE_NODE],
    proxyRegNotEnabled: s[BaStatus.PROXY_REG_NOT_ENABLED],
    missingHomeNetworkPrefixOption: s[BaStatus.MISSING_HOME_NETWORK_PREFIX_OPTION],
    missingHandOffIndicatorOption: s[BaStatus.MISSING_HANDOFF_INDICATOR_OPTION],
    missingAccessTechTypeOption: s[BaStatus.MISSING_ACCESS_TECH_TYPE_OPTION],
    notAuthorizedForHomeNetworkPrefix: s[BaStatus.NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX],
    timestampMismatch: s[BaStatus.TIMESTAMP_MISMATCH],
    timestampLowerThanPrevAccepted: s[BaStatus.TIMESTAMP_LOWER_THAN_PREV_ACCEPTED],
    bcePbuPrefixSetDoNotMatch: s[BaStatus.BCE_PBU_PREFIX_SET_DO_NOT_MATCH],
    initialBindingRegistrations: c.reg.initial,
    bindingLifeTimeExtensionNoHandOff: c.reg.extensionNoHandoff,
    bindingLifeTimeExtensionAfterHandOff: c.reg.extensionAfterHandoff,
    bindingDeRegistrations: c.reg.deregistrations,
    bindingBindingAcks: c.tx.pba,
    // The counters started with the LMA object (the agent maps a time before its own start to 0).
    discontinuityTime: c.discontinuityTime,
  };
}

/**
 * Builds the LmaView over a running LMA. `notify` receives pmip6LmaHomeTunnelEstablished /
 * -Released for every binding that gets (or loses) its tunnel.
 */
export function lmaSnmpView(lma: Lma, opts: { notify?: Pmip6EventSink } = {}): LmaSnmpAdapter {
  const tables = new LmaTables({
    counters: () => bindingRegCounters(lma),
    setLifetime: async (key, seconds): Promise<WriteResult> =>
      (await lma.setLifetime(String(key), seconds)) ? { ok: true } : { ok: false, error: 'inconsistentValue' },
  });
  const sources = new Map<number, BceSource>();
  const ifIndexOf = (b: Bce): number | null => lma.fwd.tunnelIfIndex(b);
  const lmaas = new Set<string>([lma.cfg.address, lma.cfg.ipv4Address].filter(Boolean));
  const lmaaState = (): (typeof TunnelEndpointState)[keyof typeof TunnelEndpointState] =>
    lma.fwd.tunnelCount > 0 ? TunnelEndpointState.tunneled : TunnelEndpointState.activated;
  const addLmaa = (a: string): void => {
    let addr: InetAddr;
    try {
      addr = inetAddr(a);
    } catch {
      return;
    }
    tables.lmaAddresses.set(inetIndex(addr), {
      get state() {
        return lmaaState();
      },
    });
  };
  for (const a of lmaas) addLmaa(a);

  const notify = (kind: 'established' | 'released', src: BceSource): void => {
    if (!opts.notify) return;
    let lmaAddress: InetAddr = NO_ADDR;
    try {
      lmaAddress = inetAddr(src.b.peer.local);
    } catch {
      // not an address
    }
    opts.notify.lmaTunnel({ kind, homeAddress: src.homeAddress, tunnelIfIdentifier: src.tunnelIfIdentifier, lmaAddress, lmaAddressState: lmaaState() });
  };

  const place = (b: Bce): BceSource => {
    const src = new BceSource(b, ifIndexOf);
    sources.set(b.id, src);
    tables.add(b.id, src);
    if (!lmaas.has(b.peer.local)) {
      lmaas.add(b.peer.local);
      addLmaa(b.peer.local);
    }
    return src;
  };

  for (const b of lma.liveBindings()) place(b);

  const off = lma.onBindingChange((b: Bce, kind: BindingEventKind) => {
    const live = (b.flags & F.LIVE) !== 0;
    const cur = sources.get(b.id);
    if (!live) {
      if (cur) {
        sources.delete(b.id);
        tables.remove(b.id);
        notify('released', cur);
      }
      return;
    }
    if (!cur) {
      notify('established', place(b));
      return;
    }
    if (cur.changed()) place(b);
    if (kind === 'handed-off') notify('established', sources.get(b.id)!);
  });

  return {
    view: tables,
    close: off,
  };
}
