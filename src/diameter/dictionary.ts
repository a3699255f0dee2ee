// The AVP and command dictionary: what this node understands (RFC 6733 §4.1: an AVP with the
// M bit that is not understood gets DIAMETER_AVP_UNSUPPORTED). Every row names the RFC whose
// text defines its code and data type; tests/diameter/dictionary.test.ts re-reads those
// definitions. RFC 4005 is cited for the NAS AVPs RFC 7155 keeps by reference (NAS-IP-Address,
// NAS-IPv6-Address, NAS-Identifier, State, Login-*-Host, Origin-AAA-Protocol); RFC 7155 wins
// where both define an AVP. Vendor-specific AVPs: none are understood.
import { App, Cmd } from './constants.ts';

export type AvpType =
  | 'OctetString' | 'Integer32' | 'Integer64' | 'Unsigned32' | 'Unsigned64' | 'Float32' | 'Float64' | 'Grouped'
  | 'Address' | 'Time' | 'UTF8String' | 'DiameterIdentity' | 'DiameterURI' | 'Enumerated' | 'IPFilterRule' | 'QoSFilterRule';

export interface AvpDef {
  code: number;
  vendorId: number;
  name: string;
  type: AvpType;
  /** M-bit rule of the defining RFC's flag table: must set, must not set, or may. */
  mBit: 'must' | 'mustnot' | 'may';
  rfc: number;
}

type Row = [code: number, name: string, type: AvpType, m: 'M' | '-' | '?', rfc: number];

/**
 * Vendor 0. M: the flag table says MUST; '-': MUST NOT (RFC 6733 §4.5: Error-Message,
 * Error-Reporting-Host, Firmware-Revision, Product-Name); '?': no rule (RFC 7155 QoS-Filter-Rule).
 * RFC 5779 gives 504-507 no flag table: they are sent with M like every other PMIPv6 AVP
 * (RFC 5778 §7 and RFC 4004 mark theirs M).
 */
const ROWS: Row[] = [
  [1, 'User-Name', 'UTF8String', 'M', 6733],
  [2, 'User-Password', 'OctetString', 'M', 7155],
  [4, 'NAS-IP-Address', 'OctetString', 'M', 4005],
  [5, 'NAS-Port', 'Unsigned32', 'M', 7155],
  [6, 'Service-Type', 'Enumerated', 'M', 7155],
  [7, 'Framed-Protocol', 'Enumerated', 'M', 7155],
  [8, 'Framed-IP-Address', 'OctetString', 'M', 7155],
  [9, 'Framed-IP-Netmask', 'OctetString', 'M', 7155],
  [10, 'Framed-Routing', 'Enumerated', 'M', 7155],
  [11, 'Filter-Id', 'UTF8String', 'M', 7155],
  [12, 'Framed-MTU', 'Unsigned32', 'M', 7155],
  [13, 'Framed-Compression', 'Enumerated', 'M', 7155],
  [14, 'Login-IP-Host', 'OctetString', 'M', 7155],
  [15, 'Login-Service', 'Enumerated', 'M', 7155],
  [16, 'Login-TCP-Port', 'Unsigned32', 'M', 7155],
  [18, 'Reply-Message', 'UTF8String', 'M', 7155],
  [19, 'Callback-Number', 'UTF8String', 'M', 7155],
  [20, 'Callback-Id', 'UTF8String', 'M', 7155],
  [22, 'Framed-Route', 'UTF8String', 'M', 7155],
  [23, 'Framed-IPX-Network', 'Unsigned32', 'M', 7155],
  [24, 'State', 'OctetString', 'M', 4005],
  [25, 'Class', 'OctetString', 'M', 6733],
  [27, 'Session-Timeout', 'Unsigned32', 'M', 6733],
  [28, 'Idle-Timeout', 'Unsigned32', 'M', 7155],
  [30, 'Called-Station-Id', 'UTF8String', 'M', 7155],
  [31, 'Calling-Station-Id', 'UTF8String', 'M', 7155],
  [32, 'NAS-Identifier', 'UTF8String', 'M', 4005],
  [33, 'Proxy-State', 'OctetString', 'M', 6733],
  [34, 'Login-LAT-Service', 'OctetString', 'M', 7155],
  [35, 'Login-LAT-Node', 'OctetString', 'M', 7155],
  [36, 'Login-LAT-Group', 'OctetString', 'M', 7155],
  [37, 'Framed-Appletalk-Link', 'Unsigned32', 'M', 7155],
  [38, 'Framed-Appletalk-Network', 'Unsigned32', 'M', 7155],
  [39, 'Framed-Appletalk-Zone', 'OctetString', 'M', 7155],
  [41, 'Acct-Delay-Time', 'Unsigned32', 'M', 7155],
  [44, 'Acct-Session-Id', 'OctetString', 'M', 6733],
  [45, 'Acct-Authentic', 'Enumerated', 'M', 7155],
  [46, 'Acct-Session-Time', 'Unsigned32', 'M', 7155],
  [50, 'Acct-Multi-Session-Id', 'UTF8String', 'M', 6733],
  [51, 'Acct-Link-Count', 'Unsigned32', 'M', 7155],
  [55, 'Event-Timestamp', 'Time', 'M', 6733],
  [60, 'CHAP-Challenge', 'OctetString', 'M', 7155],
  [61, 'NAS-Port-Type', 'Enumerated', 'M', 7155],
  [62, 'Port-Limit', 'Unsigned32', 'M', 7155],
  [63, 'Login-LAT-Port', 'OctetString', 'M', 7155],
  [64, 'Tunnel-Type', 'Enumerated', 'M', 7155],
  [65, 'Tunnel-Medium-Type', 'Enumerated', 'M', 7155],
  [66, 'Tunnel-Client-Endpoint', 'UTF8String', 'M', 7155],
  [67, 'Tunnel-Server-Endpoint', 'UTF8String', 'M', 7155],
  [68, 'Acct-Tunnel-Connection', 'OctetString', 'M', 7155],
  [69, 'Tunnel-Password', 'OctetString', 'M', 7155],
  [70, 'ARAP-Password', 'OctetString', 'M', 7155],
  [71, 'ARAP-Features', 'OctetString', 'M', 7155],
  [72, 'ARAP-Zone-Access', 'Enumerated', 'M', 7155],
  [73, 'ARAP-Security', 'Unsigned32', 'M', 7155],
  [74, 'ARAP-Security-Data', 'OctetString', 'M', 7155],
  [75, 'Password-Retry', 'Unsigned32', 'M', 7155],
  [76, 'Prompt', 'Enumerated', 'M', 7155],
  [77, 'Connect-Info', 'UTF8String', 'M', 7155],
  [78, 'Configuration-Token', 'OctetString', 'M', 7155],
  [81, 'Tunnel-Private-Group-Id', 'OctetString', 'M', 7155],
  [82, 'Tunnel-Assignment-Id', 'OctetString', 'M', 7155],
  [83, 'Tunnel-Preference', 'Unsigned32', 'M', 7155],
  [84, 'ARAP-Challenge-Response', 'OctetString', 'M', 7155],
  [85, 'Acct-Interim-Interval', 'Unsigned32', 'M', 6733],
  [86, 'Acct-Tunnel-Packets-Lost', 'Unsigned32', 'M', 7155],
  [87, 'NAS-Port-Id', 'UTF8String', 'M', 7155],
  [88, 'Framed-Pool', 'OctetString', 'M', 7155],
  [89, 'Chargeable-User-Identity', 'OctetString', 'M', 5778],
  [90, 'Tunnel-Client-Auth-Id', 'UTF8String', 'M', 7155],
  [91, 'Tunnel-Server-Auth-Id', 'UTF8String', 'M', 7155],
  [94, 'Originating-Line-Info', 'OctetString', 'M', 7155],
  [95, 'NAS-IPv6-Address', 'OctetString', 'M', 4005],
  [96, 'Framed-Interface-Id', 'Unsigned64', 'M', 7155],
  [97, 'Framed-IPv6-Prefix', 'OctetString', 'M', 7155],
  [98, 'Login-IPv6-Host', 'OctetString', 'M', 7155],
  [99, 'Framed-IPv6-Route', 'UTF8String', 'M', 7155],
  [100, 'Framed-IPv6-Pool', 'OctetString', 'M', 7155],
  [124, 'MIP6-Feature-Vector', 'Unsigned64', 'M', 5447],
  [125, 'MIP6-Home-Link-Prefix', 'OctetString', 'M', 5447],
  [257, 'Host-IP-Address', 'Address', 'M', 6733],
  [258, 'Auth-Application-Id', 'Unsigned32', 'M', 6733],
  [259, 'Acct-Application-Id', 'Unsigned32', 'M', 6733],
  [260, 'Vendor-Specific-Application-Id', 'Grouped', 'M', 6733],
  [261, 'Redirect-Host-Usage', 'Enumerated', 'M', 6733],
  [262, 'Redirect-Max-Cache-Time', 'Unsigned32', 'M', 6733],
  [263, 'Session-Id', 'UTF8String', 'M', 6733],
  [264, 'Origin-Host', 'DiameterIdentity', 'M', 6733],
  [265, 'Supported-Vendor-Id', 'Unsigned32', 'M', 6733],
  [266, 'Vendor-Id', 'Unsigned32', 'M', 6733],
  [267, 'Firmware-Revision', 'Unsigned32', '-', 6733],
  [268, 'Result-Code', 'Unsigned32', 'M', 6733],
  [269, 'Product-Name', 'UTF8String', '-', 6733],
  [270, 'Session-Binding', 'Unsigned32', 'M', 6733],
  [271, 'Session-Server-Failover', 'Enumerated', 'M', 6733],
  [272, 'Multi-Round-Time-Out', 'Unsigned32', 'M', 6733],
  [273, 'Disconnect-Cause', 'Enumerated', 'M', 6733],
  [274, 'Auth-Request-Type', 'Enumerated', 'M', 6733],
  [276, 'Auth-Grace-Period', 'Unsigned32', 'M', 6733],
  [277, 'Auth-Session-State', 'Enumerated', 'M', 6733],
  [278, 'Origin-State-Id', 'Unsigned32', 'M', 6733],
  [279, 'Failed-AVP', 'Grouped', 'M', 6733],
  [280, 'Proxy-Host', 'DiameterIdentity', 'M', 6733],
  [281, 'Error-Message', 'UTF8String', '-', 6733],
  [282, 'Route-Record', 'DiameterIdentity', 'M', 6733],
  [283, 'Destination-Realm', 'DiameterIdentity', 'M', 6733],
  [284, 'Proxy-Info', 'Grouped', 'M', 6733],
  [285, 'Re-Auth-Request-Type', 'Enumerated', 'M', 6733],
  [287, 'Accounting-Sub-Session-Id', 'Unsigned64', 'M', 6733],
  [291, 'Authorization-Lifetime', 'Unsigned32', 'M', 6733],
  [292, 'Redirect-Host', 'DiameterURI', 'M', 6733],
  [293, 'Destination-Host', 'DiameterIdentity', 'M', 6733],
  [294, 'Error-Reporting-Host', 'DiameterIdentity', '-', 6733],
  [295, 'Termination-Cause', 'Enumerated', 'M', 6733],
  [296, 'Origin-Realm', 'DiameterIdentity', 'M', 6733],
  [297, 'Experimental-Result', 'Grouped', 'M', 6733],
  [298, 'Experimental-Result-Code', 'Unsigned32', 'M', 6733],
  [299, 'Inband-Security-Id', 'Unsigned32', 'M', 6733],
  [318, 'MIP-FA-to-HA-SPI', 'Unsigned32', 'M', 4004],
  [319, 'MIP-FA-to-MN-SPI', 'Unsigned32', 'M', 4004],
  [320, 'MIP-Reg-Request', 'OctetString', 'M', 4004],
  [321, 'MIP-Reg-Reply', 'OctetString', 'M', 4004],
  [322, 'MN-AAA-Auth', 'Grouped', 'M', 4004],
  [323, 'MIP-HA-to-FA-SPI', 'Unsigned32', 'M', 4004],
  [325, 'MIP-MN-to-FA-MSA', 'Grouped', 'M', 4004],
  [326, 'MIP-FA-to-MN-MSA', 'Grouped', 'M', 4004],
  [328, 'MIP-FA-to-HA-MSA', 'Grouped', 'M', 4004],
  [329, 'MIP-HA-to-FA-MSA', 'Grouped', 'M', 4004],
  [331, 'MIP-MN-to-HA-MSA', 'Grouped', 'M', 4004],
  [332, 'MIP-HA-to-MN-MSA', 'Grouped', 'M', 4004],
  [333, 'MIP-Mobile-Node-Address', 'Address', 'M', 5778],
  [334, 'MIP-Home-Agent-Address', 'Address', 'M', 5447],
  [335, 'MIP-Nonce', 'OctetString', 'M', 4004],
  [336, 'MIP-Candidate-Home-Agent-Host', 'DiameterIdentity', 'M', 4004],
  [337, 'MIP-Feature-Vector', 'Unsigned32', 'M', 4004],
  [338, 'MIP-Auth-Input-Data-Length', 'Unsigned32', 'M', 4004],
  [339, 'MIP-Authenticator-Length', 'Unsigned32', 'M', 4004],
  [340, 'MIP-Authenticator-Offset', 'Unsigned32', 'M', 4004],
  [341, 'MIP-MN-AAA-SPI', 'Unsigned32', 'M', 5778],
  [342, 'MIP-Filter-Rule', 'IPFilterRule', 'M', 4004],
  [343, 'MIP-Session-Key', 'OctetString', 'M', 5778],
  [344, 'MIP-FA-Challenge', 'OctetString', 'M', 4004],
  [345, 'MIP-Algorithm-Type', 'Enumerated', 'M', 5778],
  [346, 'MIP-Replay-Mode', 'Enumerated', 'M', 5778],
  [347, 'MIP-Originating-Foreign-AAA', 'Grouped', 'M', 4004],
  [348, 'MIP-Home-Agent-Host', 'Grouped', 'M', 5447],
  [363, 'Accounting-Input-Octets', 'Unsigned64', 'M', 7155],
  [364, 'Accounting-Output-Octets', 'Unsigned64', 'M', 7155],
  [365, 'Accounting-Input-Packets', 'Unsigned64', 'M', 7155],
  [366, 'Accounting-Output-Packets', 'Unsigned64', 'M', 7155],
  [367, 'MIP-MSA-Lifetime', 'Unsigned32', 'M', 5778],
  [400, 'NAS-Filter-Rule', 'IPFilterRule', 'M', 7155],
  [401, 'Tunneling', 'Grouped', 'M', 7155],
  [402, 'CHAP-Auth', 'Grouped', 'M', 7155],
  [403, 'CHAP-Algorithm', 'Enumerated', 'M', 7155],
  [404, 'CHAP-Ident', 'OctetString', 'M', 7155],
  [405, 'CHAP-Response', 'OctetString', 'M', 7155],
  [406, 'Accounting-Auth-Method', 'Enumerated', 'M', 7155],
  [407, 'QoS-Filter-Rule', 'QoSFilterRule', '?', 7155],
  [408, 'Origin-AAA-Protocol', 'Enumerated', 'M', 4005],
  [480, 'Accounting-Record-Type', 'Enumerated', 'M', 6733],
  [483, 'Accounting-Realtime-Required', 'Enumerated', 'M', 6733],
  [485, 'Accounting-Record-Number', 'Unsigned32', 'M', 6733],
  [486, 'MIP6-Agent-Info', 'Grouped', 'M', 5447],
  [487, 'MIP-Careof-Address', 'Address', 'M', 5778],
  [488, 'MIP-Authenticator', 'OctetString', 'M', 5778],
  [489, 'MIP-MAC-Mobility-Data', 'OctetString', 'M', 5778],
  [490, 'MIP-Timestamp', 'OctetString', 'M', 5778],
  [491, 'MIP-MN-HA-SPI', 'Unsigned32', 'M', 5778],
  [492, 'MIP-MN-HA-MSA', 'Grouped', 'M', 5778],
  [493, 'Service-Selection', 'UTF8String', 'M', 5779],
  [494, 'MIP6-Auth-Mode', 'Enumerated', 'M', 5778],
  [504, 'PMIP6-DHCP-Server-Address', 'Address', 'M', 5779],
  [505, 'PMIP6-IPv4-Home-Address', 'Address', 'M', 5779],
  [506, 'Mobile-Node-Identifier', 'UTF8String', 'M', 5779],
  [507, 'Service-Configuration', 'Grouped', 'M', 5779],
];

const byKey = new Map<number, AvpDef>();
for (const [code, name, type, m, rfc] of ROWS) {
  byKey.set(code, { code, vendorId: 0, name, type, mBit: m === 'M' ? 'must' : m === '-' ? 'mustnot' : 'may', rfc });
}

/** The definition of an AVP, or undefined when this node does not understand it. */
export function avpDef(code: number, vendorId = 0): AvpDef | undefined {
  return vendorId === 0 ? byKey.get(code) : undefined;
}

/** Every AVP this node understands (for tests and documentation). */
export function allAvpDefs(): AvpDef[] {
  return [...byKey.values()];
}

/** Flags to send an AVP with: M when its rule is must (or may), never for must-not. */
export function sendFlags(code: number): number {
  const d = byKey.get(code);
  return d && d.mBit === 'mustnot' ? 0 : 0x40;
}

export interface CommandDef {
  code: number;
  name: string;
  /** Application the command belongs to (0 = base protocol, any application). */
  applicationId: number;
  rfc: number;
}

/** Commands this node processes: the base protocol (RFC 6733 §3.1) and NASREQ's (RFC 7155 §3). */
export const COMMANDS: readonly CommandDef[] = [
  { code: Cmd.CapabilitiesExchange, name: 'Capabilities-Exchange', applicationId: App.Common, rfc: 6733 },
  { code: Cmd.DeviceWatchdog, name: 'Device-Watchdog', applicationId: App.Common, rfc: 6733 },
  { code: Cmd.DisconnectPeer, name: 'Disconnect-Peer', applicationId: App.Common, rfc: 6733 },
  { code: Cmd.ReAuth, name: 'Re-Auth', applicationId: App.Nasreq, rfc: 7155 },
  { code: Cmd.AbortSession, name: 'Abort-Session', applicationId: App.Nasreq, rfc: 7155 },
  { code: Cmd.SessionTermination, name: 'Session-Termination', applicationId: App.Nasreq, rfc: 7155 },
  { code: Cmd.AA, name: 'AA', applicationId: App.Nasreq, rfc: 7155 },
];

const commandNames = new Map(COMMANDS.map((c) => [c.code, c.name]));
commandNames.set(Cmd.Accounting, 'Accounting');

/** "AA-Request" / "Disconnect-Peer-Answer" / "command 999". */
export function commandName(code: number, request: boolean): string {
  const n = commandNames.get(code);
  return n ? `${n}-${request ? 'Request' : 'Answer'}` : `command ${code}`;
}
