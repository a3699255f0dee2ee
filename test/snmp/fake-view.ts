// In-memory LMA and MAG state behind the very interfaces the real roles implement
// (src/snmp/view.ts), built the way a real adapter would be: OrderedTable per MIB table,
// MN / MN-LL indexes allocated monotonically and reference-counted.
import { OrderedTable, bindingCacheIndex, bulIndex, hnpIndex, inetAddr, inetIndex } from '../../src/snmp/table.ts';
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
  WriteResult,
} from '../../src/snmp/view.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function zeroCounters(): Mutable<BindingRegCounters> {
  return {
    missingMnIdentifierOption: 0,
    magNotAuthorizedForProxyReg: 0,
    notLmaForThisMobileNode: 0,
    proxyRegNotEnabled: 0,
    missingHomeNetworkPrefixOption: 0,
    missingHandOffIndicatorOption: 0,
    missingAccessTechTypeOption: 0,
    notAuthorizedForHomeNetworkPrefix: 0,
    timestampMismatch: 0,
    timestampLowerThanPrevAccepted: 0,
    bcePbuPrefixSetDoNotMatch: 0,
    initialBindingRegistrations: 0,
    bindingLifeTimeExtensionNoHandOff: 0,
    bindingLifeTimeExtensionAfterHandOff: 0,
    bindingDeRegistrations: 0,
    bindingBindingAcks: 0,
    discontinuityTime: 0,
  };
}

/** What a role knows about one binding (the fields the MIB exposes). */
export interface FakeBinding {
  mnId: string;
  llId: string;
  /** Home network prefix (address part), e.g. 2001:db8:1:1:: */
  hnp: string;
  prefixLength?: number;
  /** Access Technology Type (RFC 5213 §8.5), default 3 (Ethernet). */
  att?: number;
  magLinkLocal?: string;
  tunnelIfId?: Uint8Array;
  timestamp?: bigint;
  lifetime?: number;
}

/** Allocates Pmip6MnIndex / Pmip6MnLLIndex values: monotonic from 1, freed with the last user. */
class MnIndexes {
  private next = 1;
  private nextLL = new Map<number, number>();
  readonly mn = new Map<string, { index: number; refs: number }>();
  readonly ll = new Map<string, { index: number; refs: number }>();

  acquire(mnId: string, llId: string): { mnIndex: number; mnLLIndex: number; newMn: boolean; newLL: boolean } {
    let m = this.mn.get(mnId);
    const newMn = !m;
    if (!m) {
      m = { index: this.next++, refs: 0 };
      this.mn.set(mnId, m);
    }
    m.refs++;
    const key = `${m.index}\u0000${llId}`;
    let l = this.ll.get(key);
    const newLL = !l;
    if (!l) {
      const n = this.nextLL.get(m.index) ?? 1;
      this.nextLL.set(m.index, n + 1);
      l = { index: n, refs: 0 };
      this.ll.set(key, l);
    }
    l.refs++;
    return { mnIndex: m.index, mnLLIndex: l.index, newMn, newLL };
  }

  release(mnId: string, llId: string): { goneMn: boolean; goneLL: boolean } {
    const m = this.mn.get(mnId)!;
    const key = `${m.index}\u0000${llId}`;
    const l = this.ll.get(key)!;
    const goneLL = --l.refs === 0;
    if (goneLL) this.ll.delete(key);
    const goneMn = --m.refs === 0;
    if (goneMn) {
      this.mn.delete(mnId);
      this.nextLL.delete(m.index);
    }
    return { goneMn, goneLL };
  }
}

interface LmaBce extends BindingCacheRow {
  mnId: string;
  llId: string;
  hnpIndex: number[];
}

export class FakeLma implements LmaView {
  readonly bindingCache = new OrderedTable<BindingCacheRow>();
  readonly mobileNodes = new OrderedTable<MnIdentifierRow>();
  readonly mobileNodeInterfaces = new OrderedTable<MnLLIdentifierRow>();
  readonly homeNetworkPrefixes = new OrderedTable<Mutable<LmaHomeNetworkPrefixRow>>();
  readonly lmaAddresses = new OrderedTable<Mutable<LmaAddressRow>>();
  readonly counterValues = zeroCounters();
  private readonly indexes = new MnIndexes();
  readonly lmaa: InetAddr;

  constructor(lmaa = '2001:db8:ffff::1') {
    this.lmaa = inetAddr(lmaa);
    this.lmaAddresses.set(inetIndex(this.lmaa), { state: 2 });
  }

  counters(): BindingRegCounters {
    return this.counterValues;
  }

  setHomeNetworkPrefixLifetime(index: readonly number[], seconds: number): WriteResult {
    const row = this.homeNetworkPrefixes.get(index);
    if (!row) return { ok: false, error: 'noCreation' };
    if (seconds > 262140) return { ok: false, error: 'wrongValue' }; // RFC 6275 §6.1.7: 16 bits of 4 s
    row.lifetime = seconds;
    return { ok: true };
  }

  /** Creates a BCE as an accepted initial PBU would (RFC 5213 §5.3.2). Returns its home address. */
  add(b: FakeBinding): InetAddr {
    const hoa = inetAddr(b.hnp);
    const { mnIndex, mnLLIndex, newMn, newLL } = this.indexes.acquire(b.mnId, b.llId);
    if (newMn) this.mobileNodes.set([mnIndex], { mnIdentifier: b.mnId });
    if (newLL) this.mobileNodeInterfaces.set([mnIndex, mnLLIndex], { mnLLIdentifier: b.llId });
    const hIndex = hnpIndex(mnIndex, mnLLIndex, hoa);
    this.homeNetworkPrefixes.set(hIndex, { prefixLength: b.prefixLength ?? 64, lifetime: b.lifetime ?? 3600 });
    const bce: LmaBce = {
      proxyRegistration: true,
      mnIndex,
      mnLLIndex,
      magLinkLocalAddress: inetAddr(b.magLinkLocal ?? 'fe80::1'),
      tunnelIfIdentifier: b.tunnelIfId ?? Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1),
      accessTechnologyType: b.att ?? 3,
      timeRecentlyAccepted: b.timestamp ?? 0n,
      mnId: b.mnId,
      llId: b.llId,
      hnpIndex: hIndex,
    };
    this.bindingCache.set(bindingCacheIndex(hoa), bce);
    this.counterValues.initialBindingRegistrations++;
    this.counterValues.bindingBindingAcks++;
    this.lmaAddresses.get(inetIndex(this.lmaa))!.state = 3;
    return hoa;
  }

  remove(hoa: InetAddr): boolean {
    const idx = bindingCacheIndex(hoa);
    const bce = this.bindingCache.get(idx) as LmaBce | undefined;
    if (!bce) return false;
    this.bindingCache.delete(idx);
    this.homeNetworkPrefixes.delete(bce.hnpIndex);
    const { goneMn, goneLL } = this.indexes.release(bce.mnId, bce.llId);
    if (goneLL) this.mobileNodeInterfaces.delete([bce.mnIndex, bce.mnLLIndex]);
    if (goneMn) this.mobileNodes.delete([bce.mnIndex]);
    this.counterValues.bindingDeRegistrations++;
    this.counterValues.bindingBindingAcks++;
    if (this.bindingCache.size === 0) this.lmaAddresses.get(inetIndex(this.lmaa))!.state = 2;
    return true;
  }
}

interface MagBul extends BindingUpdateListRow {
  mnId: string;
  llId: string;
  hnpIndex: number[];
}

export class FakeMag implements MagView {
  readonly bindingUpdateList = new OrderedTable<BindingUpdateListRow>();
  readonly mobileNodes = new OrderedTable<MnIdentifierRow>();
  readonly mobileNodeInterfaces = new OrderedTable<MnLLIdentifierRow>();
  readonly homeNetworkPrefixes = new OrderedTable<MagHomeNetworkPrefixRow>();
  readonly profiles = new OrderedTable<MagProfileRow>();
  readonly proxyCoas = new OrderedTable<Mutable<ProxyCoaRow>>();
  readonly counterValues = zeroCounters();
  private readonly indexes = new MnIndexes();
  readonly proxyCoa: InetAddr;
  readonly lmaa: InetAddr;

  constructor(proxyCoa = '2001:db8:eeee::1', lmaa = '2001:db8:ffff::1') {
    this.proxyCoa = inetAddr(proxyCoa);
    this.lmaa = inetAddr(lmaa);
    this.proxyCoas.set(inetIndex(this.proxyCoa), { state: 2 });
  }

  counters(): BindingRegCounters {
    return this.counterValues;
  }

  add(b: FakeBinding): InetAddr {
    const hoa = inetAddr(b.hnp);
    const { mnIndex, mnLLIndex, newMn, newLL } = this.indexes.acquire(b.mnId, b.llId);
    if (newMn) {
      this.mobileNodes.set([mnIndex], { mnIdentifier: b.mnId });
      this.profiles.set([mnIndex], { mnIdentifier: b.mnId, lmaAddress: this.lmaa });
    }
    if (newLL) this.mobileNodeInterfaces.set([mnIndex, mnLLIndex], { mnLLIdentifier: b.llId });
    const hIndex = hnpIndex(mnIndex, mnLLIndex, hoa);
    this.homeNetworkPrefixes.set(hIndex, { prefixLength: b.prefixLength ?? 64, lifetime: b.lifetime ?? 3600 });
    const row: MagBul = {
      proxyRegistration: true,
      mnIndex,
      mnLLIndex,
      magLinkLocalAddress: inetAddr(b.magLinkLocal ?? 'fe80::1'),
      magIfIdentifierToMn: Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 2),
      tunnelIfIdentifier: b.tunnelIfId ?? Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1),
      accessTechnologyType: b.att ?? 3,
      timeRecentlyAccepted: b.timestamp ?? 0n,
      mnId: b.mnId,
      llId: b.llId,
      hnpIndex: hIndex,
    };
    this.bindingUpdateList.set(bulIndex(hoa, this.lmaa), row);
    this.counterValues.bindingBindingAcks++;
    this.proxyCoas.get(inetIndex(this.proxyCoa))!.state = 3;
    return hoa;
  }

  remove(hoa: InetAddr): boolean {
    const idx = bulIndex(hoa, this.lmaa);
    const row = this.bindingUpdateList.get(idx) as MagBul | undefined;
    if (!row) return false;
    this.bindingUpdateList.delete(idx);
    this.homeNetworkPrefixes.delete(row.hnpIndex);
    const { goneMn, goneLL } = this.indexes.release(row.mnId, row.llId);
    if (goneLL) this.mobileNodeInterfaces.delete([row.mnIndex, row.mnLLIndex]);
    if (goneMn) {
      this.mobileNodes.delete([row.mnIndex]);
      this.profiles.delete([row.mnIndex]);
    }
    if (this.bindingUpdateList.size === 0) this.proxyCoas.get(inetIndex(this.proxyCoa))!.state = 2;
    return true;
  }
}

/** Synthetic binding number i: one MN per binding, HNP 2001:db8:<hi>:<lo>::/64. */
export function syntheticBinding(i: number): FakeBinding {
  const hi = (i >>> 16) & 0xffff;
  const lo = i & 0xffff;
  return {
    mnId: `mn${i}@example.net`,
    llId: `00:16:3e:${((i >> 16) & 0xff).toString(16).padStart(2, '0')}:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`,
    hnp: `2001:db8:${hi.toString(16)}:${lo.toString(16)}::`,
    att: 3 + (i % 6),
    tunnelIfId: Uint8Array.of(0, 0, 0, 0, 0, 0, (i >> 8) & 0xff, i & 0xff),
    timestamp: (BigInt(1_700_000_000 + i) << 16n) | BigInt(i & 0xffff),
  };
}

export function populatedLma(n: number): FakeLma {
  const lma = new FakeLma();
  for (let i = 1; i <= n; i++) lma.add(syntheticBinding(i));
  return lma;
}
