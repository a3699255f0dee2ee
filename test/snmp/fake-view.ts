// In-memory LMA and MAG state behind the very interfaces the real roles implement
// (src/snmp/view.ts), through the same LmaTables / MagTables a real adapter uses: only
// the binding sources are synthetic (plain objects instead of getters over live BCEs).
import { LmaTables, MagTables, type LmaBindingSource, type MagBindingSource } from '../../src/snmp/role-tables.ts';
import { inetAddr } from '../../src/snmp/table.ts';
import type { BindingRegCounters, InetAddr, Pmip6EventSink, WriteResult } from '../../src/snmp/view.ts';
import { ZERO_COUNTERS } from '../../src/snmp/mib.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function zeroCounters(): Mutable<BindingRegCounters> {
  return { ...ZERO_COUNTERS };
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

const key = (hoa: InetAddr) => Buffer.from(hoa.octets).toString('hex');

export class FakeLma extends LmaTables {
  readonly counterValues = zeroCounters();
  readonly lmaa: InetAddr;
  readonly sources = new Map<string, Mutable<LmaBindingSource>>();
  /** Where tunnel events go, as the real LMA's event sink would send them. */
  events: Pmip6EventSink | undefined;

  constructor(lmaa = '2001:db8:ffff::1') {
    super({
      counters: () => this.counterValues,
      setLifetime: (k, seconds): WriteResult => {
        const src = this.sources.get(String(k));
        if (!src) return { ok: false, error: 'noCreation' };
        if (seconds > 262140) return { ok: false, error: 'wrongValue' }; // RFC 6275 §6.1.7: 16 bits of 4 s units
        src.lifetime = seconds;
        return { ok: true };
      },
    });
    this.lmaa = inetAddr(lmaa);
    this.setLmaAddress(this.lmaa, 2);
  }

  /** Creates a BCE as an accepted initial PBU would (RFC 5213 §5.3.2). Returns its home address. */
  addBinding(b: FakeBinding): InetAddr {
    const hoa = inetAddr(b.hnp);
    const src: Mutable<LmaBindingSource> = {
      mnIdentifier: b.mnId,
      mnLLIdentifier: b.llId,
      homeAddress: hoa,
      homeNetworkPrefixes: [{ prefix: hoa, length: b.prefixLength ?? 64 }],
      lifetime: b.lifetime ?? 3600,
      proxyRegistration: true,
      magLinkLocalAddress: inetAddr(b.magLinkLocal ?? 'fe80::1'),
      tunnelIfIdentifier: b.tunnelIfId ?? Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1),
      accessTechnologyType: b.att ?? 3,
      timeRecentlyAccepted: b.timestamp ?? 0n,
    };
    this.sources.set(key(hoa), src);
    this.add(key(hoa), src);
    this.counterValues.initialBindingRegistrations++;
    this.counterValues.bindingBindingAcks++;
    this.setLmaAddress(this.lmaa, 3);
    this.events?.lmaTunnel({ kind: 'established', homeAddress: hoa, tunnelIfIdentifier: src.tunnelIfIdentifier, lmaAddress: this.lmaa, lmaAddressState: 3 });
    return hoa;
  }

  removeBinding(hoa: InetAddr): boolean {
    const src = this.sources.get(key(hoa));
    if (!src || !this.remove(key(hoa))) return false;
    this.sources.delete(key(hoa));
    this.counterValues.bindingDeRegistrations++;
    this.counterValues.bindingBindingAcks++;
    const state = this.size === 0 ? 2 : 3;
    this.setLmaAddress(this.lmaa, state);
    this.events?.lmaTunnel({ kind: 'released', homeAddress: hoa, tunnelIfIdentifier: src.tunnelIfIdentifier, lmaAddress: this.lmaa, lmaAddressState: state });
    return true;
  }
}

export class FakeMag extends MagTables {
  readonly counterValues = zeroCounters();
  readonly proxyCoa: InetAddr;
  readonly lmaa: InetAddr;
  readonly sources = new Map<string, MagBindingSource>();
  events: Pmip6EventSink | undefined;

  constructor(proxyCoa = '2001:db8:eeee::1', lmaa = '2001:db8:ffff::1') {
    super(() => this.counterValues);
    this.proxyCoa = inetAddr(proxyCoa);
    this.lmaa = inetAddr(lmaa);
    this.setProxyCoa(this.proxyCoa, 2);
  }

  addBinding(b: FakeBinding): InetAddr {
    const hoa = inetAddr(b.hnp);
    const src: MagBindingSource = {
      mnIdentifier: b.mnId,
      mnLLIdentifier: b.llId,
      homeAddress: hoa,
      lmaAddress: this.lmaa,
      homeNetworkPrefixes: [{ prefix: hoa, length: b.prefixLength ?? 64 }],
      routerAdvertisementLifetime: b.lifetime ?? 3600,
      proxyRegistration: true,
      magLinkLocalAddress: inetAddr(b.magLinkLocal ?? 'fe80::1'),
      magIfIdentifierToMn: Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 2),
      tunnelIfIdentifier: b.tunnelIfId ?? Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1),
      accessTechnologyType: b.att ?? 3,
      timeRecentlyAccepted: b.timestamp ?? 0n,
    };
    this.add(key(hoa), src);
    this.sources.set(key(hoa), src);
    this.counterValues.bindingBindingAcks++;
    this.setProxyCoa(this.proxyCoa, 3);
    this.events?.magTunnel({
      kind: 'established', homeAddress: hoa, lmaAddress: this.lmaa, tunnelIfIdentifier: src.tunnelIfIdentifier, proxyCoa: this.proxyCoa, proxyCoaState: 3,
    });
    return hoa;
  }

  removeBinding(hoa: InetAddr): boolean {
    const src = this.sources.get(key(hoa));
    if (!src || !this.remove(key(hoa))) return false;
    this.sources.delete(key(hoa));
    const state = this.size === 0 ? 2 : 3;
    this.setProxyCoa(this.proxyCoa, state);
    this.events?.magTunnel({
      kind: 'released', homeAddress: hoa, lmaAddress: this.lmaa, tunnelIfIdentifier: src.tunnelIfIdentifier, proxyCoa: this.proxyCoa, proxyCoaState: state,
    });
    return true;
  }
}

/** Synthetic binding number i: one MN per binding, HNP 2001:db8:<hi>:<lo>::/64. */
export function syntheticBinding(i: number): FakeBinding {
  const hi = (i >>> 16) & 0xffff;
  const lo = i & 0xffff;
  const h = (n: number) => (n & 0xff).toString(16).padStart(2, '0');
  return {
    mnId: `mn${i}@example.net`,
    llId: `00:16:3e:${h(i >> 16)}:${h(i >> 8)}:${h(i)}`,
    hnp: `2001:db8:${hi.toString(16)}:${lo.toString(16)}::`,
    att: 3 + (i % 6),
    tunnelIfId: Uint8Array.of(0, 0, 0, 0, 0, 0, (i >> 8) & 0xff, i & 0xff),
    timestamp: (BigInt(1_700_000_000 + i) << 16n) | BigInt(i & 0xffff),
  };
}

export function populatedLma(n: number): FakeLma {
  const lma = new FakeLma();
  for (let i = 1; i <= n; i++) lma.addBinding(syntheticBinding(i));
  return lma;
}
