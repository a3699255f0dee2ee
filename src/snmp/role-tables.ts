// Ready-made LmaView / MagView tables for the role adapters: give each binding once (add),
// take it away when it ends (remove), and these keep the PMIPV6-MIB tables ordered and
// consistent, allocating Pmip6MnIndex / Pmip6MnLLIndex (RFC 6475: monotonic from 1, stable
// while the MN is attached). Rows delegate to the source objects, so a source with getters
// over the live BCE / BUL entry is read at request time; call reindex() when a source's
// home address, prefixes, MN-ID or MN-LL-ID change.
import { OrderedTable, bindingCacheIndex, bulIndex, hnpIndex, inetIndex } from './table.ts';
import type {
  BindingCacheRow,
  BindingRegCounters,
  BindingUpdateListRow,
  InetAddr,
  LmaAddressRow,
  LmaHomeNetworkPrefixRow,
  LmaView,
  MagHomeNetworkPrefixRow,
  MagProfileRow,
  MagView,
  MnIdentifierRow,
  MnLLIdentifierRow,
  ProxyCoaRow,
  TunnelEndpointStateValue,
  WriteResult,
} from './view.ts';

export interface HomeNetworkPrefix {
  readonly prefix: InetAddr;
  readonly length: number;
}

/** What the tables need to know about one LMA binding (BCE, RFC 5213 §5.1). */
export interface LmaBindingSource extends Omit<BindingCacheRow, 'mnIndex' | 'mnLLIndex'> {
  readonly mnIdentifier: string | Uint8Array;
  readonly mnLLIdentifier: string | Uint8Array;
  /** The pmip6BindingCacheTable index (see BindingCacheRow). */
  readonly homeAddress: InetAddr;
  readonly homeNetworkPrefixes: readonly HomeNetworkPrefix[];
  /** Lifetime granted, seconds (pmip6LmaHomeNetworkPrefixLifeTime). */
  readonly lifetime: number;
}

/** What the tables need to know about one MAG Binding Update List entry (RFC 5213 §6.1). */
export interface MagBindingSource extends Omit<BindingUpdateListRow, 'mnIndex' | 'mnLLIndex'> {
  readonly mnIdentifier: string | Uint8Array;
  readonly mnLLIdentifier: string | Uint8Array;
  readonly homeAddress: InetAddr;
  /** The LMA (LMAA) the PBU went to: the mip6MnBLNodeAddress index and the profile's LMA. */
  readonly lmaAddress: InetAddr;
  readonly homeNetworkPrefixes: readonly HomeNetworkPrefix[];
  /** Prefix lifetime advertised in Router Advertisements, seconds. */
  readonly routerAdvertisementLifetime: number;
}

const idKey = (v: string | Uint8Array): string => (typeof v === 'string' ? `s${v}` : `b${Buffer.from(v).toString('hex')}`);

/** Pmip6MnIndex / Pmip6MnLLIndex allocation with reference counts. */
class MnIndexes {
  private nextMn = 1;
  private readonly nextLL = new Map<number, number>();
  private readonly mn = new Map<string, { index: number; refs: number }>();
  private readonly ll = new Map<string, { index: number; refs: number }>();

  acquire(mnId: string | Uint8Array, llId: string | Uint8Array): { mnIndex: number; mnLLIndex: number; newMn: boolean; newLL: boolean } {
    const mk = idKey(mnId);
    let m = this.mn.get(mk);
    const newMn = !m;
    if (!m) {
      m = { index: this.allocMn(), refs: 0 };
      this.mn.set(mk, m);
    }
    m.refs++;
    const lk = `${m.index}/${idKey(llId)}`;
    let l = this.ll.get(lk);
    const newLL = !l;
    if (!l) {
      const n = this.nextLL.get(m.index) ?? 1;
      this.nextLL.set(m.index, n >= 0xffffffff ? 1 : n + 1);
      l = { index: n, refs: 0 };
      this.ll.set(lk, l);
    }
    l.refs++;
    return { mnIndex: m.index, mnLLIndex: l.index, newMn, newLL };
  }

  release(mnId: string | Uint8Array, llId: string | Uint8Array): { goneMn: boolean; goneLL: boolean } {
    const mk = idKey(mnId);
    const m = this.mn.get(mk);
    if (!m) return { goneMn: false, goneLL: false };
    const lk = `${m.index}/${idKey(llId)}`;
    const l = this.ll.get(lk);
    const goneLL = l !== undefined && --l.refs === 0;
    if (goneLL) this.ll.delete(lk);
    const goneMn = --m.refs === 0;
    if (goneMn) {
      this.mn.delete(mk);
      this.nextLL.delete(m.index);
    }
    return { goneMn, goneLL };
  }

  private allocMn(): number {
    const n = this.nextMn;
    this.nextMn = n >= 0xffffffff ? 1 : n + 1; // Pmip6MnIndex may wrap (RFC 6475)
    return n;
  }
}

class LmaBceRow implements BindingCacheRow {
  constructor(
    readonly src: LmaBindingSource,
    readonly mnIndex: number,
    readonly mnLLIndex: number,
  ) {}
  get proxyRegistration() {
    return this.src.proxyRegistration;
  }
  get magLinkLocalAddress() {
    return this.src.magLinkLocalAddress;
  }
  get tunnelIfIdentifier() {
    return this.src.tunnelIfIdentifier;
  }
  get accessTechnologyType() {
    return this.src.accessTechnologyType;
  }
  get timeRecentlyAccepted() {
    return this.src.timeRecentlyAccepted;
  }
}

interface Placed<S> {
  src: S;
  mnId: string | Uint8Array;
  llId: string | Uint8Array;
  mnIndex: number;
  mnLLIndex: number;
  rowIndex: number[];
  hnpIndexes: number[][];
}

/** What both roles' sources have: identifiers and home network prefixes. */
interface BindingSourceBase {
  readonly mnIdentifier: string | Uint8Array;
  readonly mnLLIdentifier: string | Uint8Array;
  readonly homeNetworkPrefixes: readonly HomeNetworkPrefix[];
}

/**
 * The bookkeeping both roles share: MN / MN-LL index allocation, the mobile-node and
 * interface tables, and the prefix rows of each binding. A role adds its own main table
 * (binding cache or BUL) and prefix row shape.
 */
abstract class RoleTables<S extends BindingSourceBase, H> {
  readonly mobileNodes = new OrderedTable<MnIdentifierRow>();
  readonly mobileNodeInterfaces = new OrderedTable<MnLLIdentifierRow>();
  readonly homeNetworkPrefixes = new OrderedTable<H>();
  private readonly placed = new Map<string | number, Placed<S>>();
  private readonly indexes = new MnIndexes();

  get size(): number {
    return this.placed.size;
  }

  /** Files the binding's main row; returns its index. */
  protected abstract placeRow(key: string | number, src: S, mnIndex: number, mnLLIndex: number): number[];
  protected abstract removeRow(rowIndex: number[]): void;
  protected abstract prefixRow(key: string | number, src: S, prefix: HomeNetworkPrefix): H;
  /** An MN got its first binding (index allocated) / lost its last one. */
  protected mnAdded(_mnIndex: number, _src: S): void {}
  protected mnRemoved(_mnIndex: number): void {}

  /** A new binding under `key` (the role's own id for it). Replaces an existing one. */
  add(key: string | number, src: S): void {
    if (this.placed.has(key)) this.remove(key);
    const { mnIndex, mnLLIndex, newMn, newLL } = this.indexes.acquire(src.mnIdentifier, src.mnLLIdentifier);
    if (newMn) {
      this.mobileNodes.set([mnIndex], { mnIdentifier: src.mnIdentifier });
      this.mnAdded(mnIndex, src);
    }
    if (newLL) this.mobileNodeInterfaces.set([mnIndex, mnLLIndex], { mnLLIdentifier: src.mnLLIdentifier });
    const rowIndex = this.placeRow(key, src, mnIndex, mnLLIndex);
    const hnpIndexes = src.homeNetworkPrefixes.map((h) => {
      const idx = hnpIndex(mnIndex, mnLLIndex, h.prefix);
      this.homeNetworkPrefixes.set(idx, this.prefixRow(key, src, h));
      return idx;
    });
    this.placed.set(key, { src, mnId: src.mnIdentifier, llId: src.mnLLIdentifier, mnIndex, mnLLIndex, rowIndex, hnpIndexes });
  }

  /** The binding ended. */
  remove(key: string | number): boolean {
    const p = this.placed.get(key);
    if (!p) return false;
    this.placed.delete(key);
    this.removeRow(p.rowIndex);
    for (const i of p.hnpIndexes) this.homeNetworkPrefixes.delete(i);
    const { goneMn, goneLL } = this.indexes.release(p.mnId, p.llId);
    if (goneLL) this.mobileNodeInterfaces.delete([p.mnIndex, p.mnLLIndex]);
    if (goneMn) {
      this.mobileNodes.delete([p.mnIndex]);
      this.mnRemoved(p.mnIndex);
    }
    return true;
  }

  /** Re-files a binding whose home address, prefixes or identifiers changed. */
  reindex(key: string | number): void {
    const p = this.placed.get(key);
    if (p) this.add(key, p.src);
  }
}

export interface LmaTablesOptions {
  counters(): BindingRegCounters;
  /** SET of pmip6LmaHomeNetworkPrefixLifeTime for the binding `key`; omit to keep it read-only. */
  setLifetime?(key: string | number, seconds: number): WriteResult | Promise<WriteResult>;
}

/** The LMA's PMIPV6-MIB tables over its bindings; implements LmaView. */
export class LmaTables extends RoleTables<LmaBindingSource, LmaHomeNetworkPrefixRow & { key: string | number }> implements LmaView {
  readonly bindingCache = new OrderedTable<BindingCacheRow>();
  readonly lmaAddresses = new OrderedTable<LmaAddressRow>();
  readonly setHomeNetworkPrefixLifetime?: LmaView['setHomeNetworkPrefixLifetime'];

  constructor(private readonly opts: LmaTablesOptions) {
    super();
    const setLifetime = opts.setLifetime;
    if (setLifetime) {
      this.setHomeNetworkPrefixLifetime = (index, seconds) => {
        const row = this.homeNetworkPrefixes.get(index);
        return row ? setLifetime(row.key, seconds) : { ok: false, error: 'noCreation' };
      };
    }
  }

  counters(): BindingRegCounters {
    return this.opts.counters();
  }

  /** An LMA address (LMAA) and its state (pmip6LmaLMAATable). */
  setLmaAddress(addr: InetAddr, state: TunnelEndpointStateValue): void {
    this.lmaAddresses.set(inetIndex(addr), { state });
  }

  removeLmaAddress(addr: InetAddr): void {
    this.lmaAddresses.delete(inetIndex(addr));
  }

  protected placeRow(_key: string | number, src: LmaBindingSource, mnIndex: number, mnLLIndex: number): number[] {
    const rowIndex = bindingCacheIndex(src.homeAddress);
    this.bindingCache.set(rowIndex, new LmaBceRow(src, mnIndex, mnLLIndex));
    return rowIndex;
  }

  protected removeRow(rowIndex: number[]): void {
    this.bindingCache.delete(rowIndex);
  }

  protected prefixRow(key: string | number, src: LmaBindingSource, h: HomeNetworkPrefix): LmaHomeNetworkPrefixRow & { key: string | number } {
    return {
      key,
      prefixLength: h.length,
      get lifetime() {
        return src.lifetime;
      },
    };
  }
}

/** The MAG's PMIPV6-MIB tables over its Binding Update List; implements MagView. */
export class MagTables extends RoleTables<MagBindingSource, MagHomeNetworkPrefixRow> implements MagView {
  readonly bindingUpdateList = new OrderedTable<BindingUpdateListRow>();
  readonly profiles = new OrderedTable<MagProfileRow>();
  readonly proxyCoas = new OrderedTable<ProxyCoaRow>();

  constructor(private readonly countersFn: () => BindingRegCounters) {
    super();
  }

  counters(): BindingRegCounters {
    return this.countersFn();
  }

  /** A Proxy-CoA and its state (pmip6MagProxyCOATable). */
  setProxyCoa(addr: InetAddr, state: TunnelEndpointStateValue): void {
    this.proxyCoas.set(inetIndex(addr), { state });
  }

  removeProxyCoa(addr: InetAddr): void {
    this.proxyCoas.delete(inetIndex(addr));
  }

  protected override mnAdded(mnIndex: number, src: MagBindingSource): void {
    this.profiles.set([mnIndex], {
      mnIdentifier: src.mnIdentifier,
      get lmaAddress() {
        return src.lmaAddress;
      },
    });
  }

  protected override mnRemoved(mnIndex: number): void {
    this.profiles.delete([mnIndex]);
  }

  protected placeRow(_key: string | number, src: MagBindingSource, mnIndex: number, mnLLIndex: number): number[] {
    const rowIndex = bulIndex(src.homeAddress, src.lmaAddress);
    this.bindingUpdateList.set(rowIndex, {
      mnIndex,
      mnLLIndex,
      get proxyRegistration() {
        return src.proxyRegistration;
      },
      get magLinkLocalAddress() {
        return src.magLinkLocalAddress;
      },
      get magIfIdentifierToMn() {
        return src.magIfIdentifierToMn;
      },
      get tunnelIfIdentifier() {
        return src.tunnelIfIdentifier;
      },
      get accessTechnologyType() {
        return src.accessTechnologyType;
      },
      get timeRecentlyAccepted() {
        return src.timeRecentlyAccepted;
      },
    });
    return rowIndex;
  }

  protected removeRow(rowIndex: number[]): void {
    this.bindingUpdateList.delete(rowIndex);
  }

  protected prefixRow(_key: string | number, src: MagBindingSource, h: HomeNetworkPrefix): MagHomeNetworkPrefixRow {
    return {
      prefixLength: h.length,
      get lifetime() {
        return src.routerAdvertisementLifetime;
      },
    };
  }
}
