// The MAG's part of the SNMP agent's view (src/snmp/view.ts MagView, PMIPV6-MIB RFC 6475):
// keeps a MagTables in step with the Binding Update List from the MAG's own events, with
// rows whose getters read the live BULE at request time, maps the MAG's counters onto
// pmip6BindingRegCounters, and reports tunnel up/down (pmip6MagHomeTunnelEstablished /
// -Released) to the agent's event sink.
//
// Wiring (main/): const snmp = new MagSnmpAdapter(mag, { events: agent });
//                 MagDeps.events = fanOut(snmp, otherSinks...) (./events.ts); SnmpAgentDeps.mag = snmp.view
import { parsePrefix, timestampFromMs } from '../mh/index.ts';
import { MagTables } from '../snmp/role-tables.ts';
import type { MagBindingSource } from '../snmp/role-tables.ts';
import { inetAddr } from '../snmp/table.ts';
import { InetAddressType, TunnelEndpointState } from '../snmp/view.ts';
import type { BindingRegCounters, InetAddr, MagView, Pmip6EventSink } from '../snmp/view.ts';
import type { Bule } from './bul.ts';
import { tunnelIfIdentifier } from '../dataplane/types.ts';
import { linkLayerIdBytes } from './build.ts';
import type { Mag } from './sm.ts';
import type { MagEvent, MagEventSink } from './types.ts';

export interface MagSnmpOptions {
  /** Receives pmip6MagHomeTunnelEstablished / -Released (the agent). */
  events?: Pmip6EventSink;
  /** Prefix lifetime advertised in RAs (pmip6MagHomeNetworkPrefixLifeTime); default: the granted binding lifetime. */
  raPrefixLifetime?: (b: { lifetimeS: number; mnId: string }) => number;
}

const NO_ADDR: InetAddr = { type: InetAddressType.unknown, octets: new Uint8Array(0) };
const EMPTY = new Uint8Array(0);
/** RFC 5213 §2.2 / §6.1: an unknown MN link-layer identifier is two octets ALL_ZERO. */
const LL_UNKNOWN = new Uint8Array(2);

function addr(text: string | null): InetAddr {
  if (!text) return NO_ADDR;
  try {
    return inetAddr(text);
  } catch {
    return { type: InetAddressType.dns, octets: Buffer.from(text, 'utf8') };
  }
}

/** Sessions are keyed by MN-ID and access link. */
const keyOf = (mnId: string, link: string): string => `${mnId}\n${link}`;

export class MagSnmpAdapter implements MagEventSink {
  readonly tables: MagTables;
  private readonly proxyCoa: InetAddr;
  /** HNP / IPv4 signature of each placed row, to re-file it when its home address changes. */
  private readonly placed = new Map<string, string>();
  private afterHandoff = 0;

  constructor(
    private readonly mag: Mag,
    private readonly opts: MagSnmpOptions = {},
  ) {
    this.tables = new MagTables(() => this.counters());
    this.proxyCoa = addr(mag.config.proxyCoa);
    this.tables.setProxyCoa(this.proxyCoa, TunnelEndpointState.activated);
    // Entries already registered when the adapter is created.
    for (const b of mag.bul.entries()) if (b.hasBinding()) this.place(b);
    this.updateProxyCoa();
  }

  /** The MagView the agent serves. */
  get view(): MagView {
    return this.tables;
  }

  emit(e: MagEvent): void {
    switch (e.type) {
      case 'registered':
        if (e.handoffIndicator === 2 || e.handoffIndicator === 3) this.afterHandoff++;
        return this.upsert(e.mnId, e.link, true);
      case 'refreshed':
        return this.upsert(e.mnId, e.link, false);
      case 'revoked':
        if (e.ipv4Only) return this.upsert(e.mnId, e.link, false);
        return this.drop(e.mnId, e.link);
      case 'deregistered':
      case 'failed':
        return this.drop(e.mnId, e.link);
      default:
        return;
    }
  }

  private upsert(mnId: string, link: string, fresh: boolean): void {
    const b = this.mag.bul.get(mnId, link);
    if (!b || !b.hasBinding()) return this.drop(mnId, link);
    const k = keyOf(mnId, link);
    const sig = signature(b);
    if (this.placed.get(k) === sig && !fresh) return;
    const wasPlaced = this.placed.has(k);
    if (wasPlaced) this.tunnelEvent('released', k);
    this.place(b);
    this.updateProxyCoa();
    this.tunnelEvent('established', k);
  }

  private drop(mnId: string, link: string): void {
    const k = keyOf(mnId, link);
    if (!this.placed.has(k)) return;
    const src = this.sources.get(k);
    this.tables.remove(k);
    this.placed.delete(k);
    this.sources.delete(k);
    this.updateProxyCoa();
    if (src) this.sendTunnel('released', src);
  }

  private readonly sources = new Map<string, MagBindingSource>();

  private place(b: Bule): void {
    const k = keyOf(b.mnId, b.link);
    const mag = this.mag;
    const fixedLl = mag.config.fixedMagLinkLocal;
    const ts = mag.config.timestampMode;
    const ra = this.opts.raPrefixLifetime;
    const hnps = b.wantIpv6 && b.hnpsAssigned ? b.hnps.map((h) => parsePrefix(h)) : [];
    // pmip6MagBLTable index: the lowest HNP as an address, else the IPv4 HoA (view.ts).
    const home =
      hnps.length > 0
        ? { type: InetAddressType.ipv6, octets: Uint8Array.from(hnps.map((h) => h.prefix).sort(Buffer.compare)[0]) }
        : addr(b.ipv4HoA);
    const src: MagBindingSource = {
      proxyRegistration: true,
      mnIdentifier: b.mnId,
      mnLLIdentifier: (b.mnLinkLayerId && linkLayerIdBytes(b.mnLinkLayerId)) || LL_UNKNOWN,
      homeAddress: home as InetAddr,
      lmaAddress: addr(b.lma),
      homeNetworkPrefixes: hnps.map((h) => ({ prefix: { type: InetAddressType.ipv6, octets: Uint8Array.from(h.prefix) }, length: h.prefixLen })),
      get magLinkLocalAddress() {
        const ll = b.magLinkLocal ?? (fixedLl !== '::' ? fixedLl : null);
        return addr(ll);
      },
      get magIfIdentifierToMn() {
        const a = this.magLinkLocalAddress;
        return a.octets.length === 16 ? a.octets.subarray(8) : EMPTY;
      },
      get tunnelIfIdentifier() {
        return tunnelIfIdentifier(b.tunnelId ? mag.deps.dataPlane.tunnelIfIndex?.(b.tunnelId) : null);
      },
      get accessTechnologyType() {
        return b.att;
      },
      get timeRecentlyAccepted() {
        return ts && b.acceptedAt > 0 ? timestampFromMs(b.acceptedAt) : 0n;
      },
      get routerAdvertisementLifetime() {
        return ra ? ra({ lifetimeS: b.grantedS, mnId: b.mnId }) : b.grantedS;
      },
    };
    this.tables.add(k, src);
    this.placed.set(k, signature(b));
    this.sources.set(k, src);
  }

  private tunnelEvent(kind: 'established' | 'released', k: string): void {
    const src = this.sources.get(k);
    if (src) this.sendTunnel(kind, src);
  }

  private sendTunnel(kind: 'established' | 'released', src: MagBindingSource): void {
    if (!this.opts.events) return;
    try {
      this.opts.events.magTunnel({
        kind,
        homeAddress: src.homeAddress,
        lmaAddress: src.lmaAddress,
        tunnelIfIdentifier: src.tunnelIfIdentifier,
        proxyCoa: this.proxyCoa,
        proxyCoaState: this.tables.size > 0 ? TunnelEndpointState.tunneled : TunnelEndpointState.activated,
      });
    } catch {
      // The agent rate-limits and logs its own failures; never disturb the MAG.
    }
  }

  /** pmip6MagProxyCOAState: tunneled while any binding uses it, else activated. */
  private updateProxyCoa(): void {
    this.tables.setProxyCoa(this.proxyCoa, this.tables.size > 0 ? TunnelEndpointState.tunneled : TunnelEndpointState.activated);
  }

  /** pmip6BindingRegCounters as a MAG sees them (statuses received in PBAs). */
  counters(): BindingRegCounters {
    const c = this.mag.counters;
    const s = (n: number) => c.pbaStatus[n] ?? 0;
    return {
      missingMnIdentifierOption: s(160),
      magNotAuthorizedForProxyReg: s(154),
      notLmaForThisMobileNode: s(153),
      proxyRegNotEnabled: s(152),
      missingHomeNetworkPrefixOption: s(158),
      missingHandOffIndicatorOption: s(161),
      missingAccessTechTypeOption: s(162),
      notAuthorizedForHomeNetworkPrefix: s(155),
      timestampMismatch: s(156),
      timestampLowerThanPrevAccepted: s(157),
      bcePbuPrefixSetDoNotMatch: s(159),
      initialBindingRegistrations: Math.max(0, c.bindings.registered - this.afterHandoff),
      bindingLifeTimeExtensionNoHandOff: c.bindings.refreshed,
      bindingLifeTimeExtensionAfterHandOff: this.afterHandoff,
      bindingDeRegistrations: c.bindings.deregistered,
      bindingBindingAcks: c.received.pba,
      // The counters start with the MAG (the adapter is created with it) and are never reset.
      discontinuityTime: 0,
    };
  }
}

/** What decides a row's index: its prefixes and IPv4 HoA. */
function signature(b: Bule): string {
  return `${b.wantIpv6 && b.hnpsAssigned ? b.hnps.join(',') : ''}|${b.wantIpv4 && b.ipv4Assigned ? b.ipv4HoA : ''}`;
}
