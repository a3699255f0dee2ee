// The IPv4 side of an access link (RFC 5844 §3.4 and RFC 826), for the detector (detector.ts):
// an IPv4-only MN shows up by ARP or DHCPv4, and the access link's DHCPv4 server answers it
// from the binding (dhcp-server.ts decides, dhcp4.ts encodes). These functions act through a
// narrow context the detector gives them.
import type { Logger } from '../util/log.ts';
import type { AccessHost, AccessLink } from './advertise.ts';
import { parseArpFrame } from './arp.ts';
import type { AccessCounters, AccessDropCause, AccessLinkConfig } from './config.ts';
import { decideDhcp, dhcpReplyFrame, serverIdOf, type DhcpServerConfig } from './dhcp-server.ts';
import { parseDhcpFrame, type DhcpRequest } from './dhcp4.ts';

export interface Ipv4Context {
  config: AccessLinkConfig;
  counters: AccessCounters;
  dhcp: DhcpServerConfig;
  log: Logger;
  drop(cause: AccessDropCause, l: AccessLink, source: string): void;
  attachFrom(l: AccessLink, mac: string, trigger: 'dhcp' | 'arp'): AccessHost | undefined;
  /** The MN sent a frame: it is there. */
  seen(h: AccessHost): void;
  send(l: AccessLink, f: Buffer, kind: keyof AccessCounters['sent']): void;
}

/** ARP from an IPv4 host (RFC 826): its first frame attaches it; any frame shows it is there (our probes' answers). */
export function onArpFrame(c: Ipv4Context, l: AccessLink, f: Buffer): void {
  const r = parseArpFrame(f);
  if (!r.ok) return c.drop('malformed', l, f.length >= 12 ? `arp ${r.error} ${f.subarray(6, 12).toString('hex')}` : r.error);
  const a = r.arp;
  if (a.srcMac === c.config.magLinkLayerAddress) return;
  if (parseInt(a.srcMac.slice(0, 2), 16) & 1) return c.drop('badSourceMac', l, a.srcMac);
  if (a.senderMac !== a.srcMac) return c.drop('badSourceMac', l, `${a.srcMac} sender ${a.senderMac}`);
  let h = l.host;
  if (h && h.mac !== a.srcMac) return c.drop('secondHost', l, a.srcMac);
  h ??= c.attachFrom(l, a.srcMac, 'arp') ?? null;
  if (!h) return;
  c.seen(h);
}

/** RFC 5844 §3.4.3: a DHCPDISCOVER (or REQUEST) is an attach trigger too; then the server answers. */
export function onDhcpFrame(c: Ipv4Context, l: AccessLink, f: Buffer): void {
  if (!c.config.dhcpServer) return;
  const r = parseDhcpFrame(f);
  if (!r.ok) return c.drop('malformed', l, f.length >= 12 ? `dhcp ${r.error} ${f.subarray(6, 12).toString('hex')}` : r.error);
  const m = r.msg;
  if (parseInt(m.srcMac.slice(0, 2), 16) & 1) return c.drop('badSourceMac', l, m.srcMac);
  // A client asking for another hardware address than its own: refused (no lease for a spoofed chaddr).
  if (m.chaddr !== m.srcMac) return c.drop('dhcpSpoofed', l, `${m.srcMac} chaddr ${m.chaddr}`);
  let h = l.host;
  if (h && h.mac !== m.srcMac) return c.drop('secondHost', l, m.srcMac);
  h ??= c.attachFrom(l, m.srcMac, 'dhcp') ?? null;
  if (!h) return;
  c.seen(h);
  answerDhcp(c, h, m);
}

export function answerDhcp(c: Ipv4Context, h: AccessHost, m: DhcpRequest): void {
  const d = decideDhcp(m, h.ipv4, serverIdOf(c.dhcp, h.ipv4));
  if (d.kind === 'hold') {
    h.dhcpHeld = m;
    c.counters.dhcp.held++;
    return;
  }
  if (d.kind === 'ignore') {
    if (d.why === 'release' || d.why === 'decline') {
      c.counters.dhcp[d.why]++;
      c.log.info({ mnId: h.mnId, link: h.link.ifname }, `DHCP${d.why.toUpperCase()} from the MN`);
    } else c.drop(d.why === 'otherServer' ? 'dhcpOtherServer' : 'dhcpUnexpected', h.link, h.mac);
    return;
  }
  const frame = dhcpReplyFrame(c.dhcp, m, d, h.ipv4);
  if (!frame) return c.drop('dhcpNoServerId', h.link, h.mac);
  c.send(h.link, frame, 'dhcp');
}

