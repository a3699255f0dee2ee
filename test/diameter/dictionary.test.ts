// The dictionary against the RFCs' own statements (a table of the PMIPv6-relevant codes copied
// from RFC 6733 §4.5, RFC 4004 §9, RFC 5447 §4.2, RFC 5778 §6, RFC 5779 §5/§9.1) and against
// Wireshark's Diameter dictionaries (/usr/share/wireshark/diameter, Debian's tshark), an
// independent second source for every code and data type.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { allAvpDefs, avpDef, commandName, sendFlags } from '../../src/diameter/dictionary.ts';
import { Avp, Cmd } from '../../src/diameter/constants.ts';

describe('RFC 5779 / 5447 / 4004 / 6733 AVP codes and types', () => {
  it('the PMIPv6 AVPs have the codes and types their RFCs give', () => {
    const want: [number, string, string][] = [
      [124, 'MIP6-Feature-Vector', 'Unsigned64'], // RFC 5447 §4.2.5
      [125, 'MIP6-Home-Link-Prefix', 'OctetString'], // RFC 5447 §4.2.4
      [334, 'MIP-Home-Agent-Address', 'Address'], // RFC 4004
      [348, 'MIP-Home-Agent-Host', 'Grouped'], // RFC 4004
      [486, 'MIP6-Agent-Info', 'Grouped'], // RFC 5447 §4.2.1
      [493, 'Service-Selection', 'UTF8String'], // RFC 5778 §6.2
      [504, 'PMIP6-DHCP-Server-Address', 'Address'], // RFC 5779 §5.4
      [505, 'PMIP6-IPv4-Home-Address', 'Address'], // RFC 5779 §5.2
      [506, 'Mobile-Node-Identifier', 'UTF8String'], // RFC 5779 §5.6
      [507, 'Service-Configuration', 'Grouped'], // RFC 5779 §5.9
      [31, 'Calling-Station-Id', 'UTF8String'], // RFC 5779 §5.7
      [1, 'User-Name', 'UTF8String'], // RFC 6733 §8.14
      [263, 'Session-Id', 'UTF8String'], // RFC 6733 §8.8
      [264, 'Origin-Host', 'DiameterIdentity'],
      [268, 'Result-Code', 'Unsigned32'],
      [274, 'Auth-Request-Type', 'Enumerated'],
      [277, 'Auth-Session-State', 'Enumerated'],
      [279, 'Failed-AVP', 'Grouped'],
      [287, 'Accounting-Sub-Session-Id', 'Unsigned64'],
      [55, 'Event-Timestamp', 'Time'],
      [257, 'Host-IP-Address', 'Address'],
      [292, 'Redirect-Host', 'DiameterURI'],
      [4, 'NAS-IP-Address', 'OctetString'], // RFC 4005 §4.2
      [95, 'NAS-IPv6-Address', 'OctetString'],
      [32, 'NAS-Identifier', 'UTF8String'],
    ];
    for (const [code, name, type] of want) {
      const d = avpDef(code);
      assert.ok(d, `${code} ${name}`);
      assert.equal(d.name, name);
      assert.equal(d.type, type, name);
    }
    assert.equal(Avp.ServiceConfiguration, 507);
    assert.equal(Avp.Pmip6DhcpServerAddress, 504);
  });

  it('RFC 6733 §4.5: Error-Message, Error-Reporting-Host, Firmware-Revision, Product-Name are sent without M; the rest with it', () => {
    for (const c of [281, 294, 267, 269]) assert.equal(sendFlags(c), 0, String(c));
    for (const c of [263, 264, 486, 506]) assert.equal(sendFlags(c), 0x40, String(c));
  });

  it('command names (RFC 6733 §3.1, RFC 7155 §3)', () => {
    assert.equal(commandName(Cmd.AA, true), 'AA-Request');
    assert.equal(commandName(Cmd.DisconnectPeer, false), 'Disconnect-Peer-Answer');
    assert.equal(commandName(999, true), 'command 999');
  });
});

describe('every AVP against Wireshark\'s dictionaries (tshark)', () => {
  const dir = '/usr/share/wireshark/diameter';
  const ws = new Map<number, { name: string; type: string }>();
  for (const f of ['dictionary.xml', 'nasreq.xml', 'mobileipv4.xml', 'mobileipv6.xml']) {
    const s = readFileSync(`${dir}/${f}`, 'latin1');
    for (const m of s.matchAll(/<avp\s+([^>]*)>([\s\S]*?)<\/avp>/g)) {
      const attrs = Object.fromEntries([...m[1].matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]]));
      if (attrs['vendor-id']) continue;
      const type = m[2].includes('<grouped') ? 'Grouped' : /type-name="([^"]+)"/.exec(m[2])?.[1] ?? '?';
      if (!ws.has(Number(attrs.code))) ws.set(Number(attrs.code), { name: attrs.name, type });
    }
  }
  // How Wireshark names our data types.
  const same: Record<string, string[]> = {
    Address: ['IPAddress'],
    Unsigned32: ['Unsigned32', 'Enumerated', 'AppId', 'VendorId'],
    Enumerated: ['Enumerated'],
  };
  // Where Wireshark departs from the RFC text (the RFC wins).
  const wiresharkDiffers: Record<number, string> = {
    8: 'RFC 7155 §4.4.10.5.1 OctetString; Wireshark IPAddress', 9: 'RFC 7155 OctetString; Wireshark IPAddress',
    14: 'RFC 4005 OctetString; Wireshark IPAddress', 23: 'RFC 7155 §4.4.10.6.1 Unsigned32; Wireshark UTF8String',
    89: 'RFC 5778 §6.19 OctetString; Wireshark UTF8String', 291: 'RFC 6733 §8.9 Unsigned32; Wireshark Integer32',
  };

  it('Wireshark knows every code we understand, with the same data type', () => {
    assert.ok(ws.size > 300, 'Wireshark dictionaries read');
    const defs = allAvpDefs();
    assert.ok(defs.length >= 170);
    for (const d of defs) {
      const w = ws.get(d.code);
      assert.ok(w, `Wireshark lacks ${d.code} ${d.name}`);
      if (wiresharkDiffers[d.code]) continue;
      const ok = w.type === d.type || (same[d.type] ?? []).includes(w.type);
      assert.ok(ok, `${d.code} ${d.name}: ours ${d.type}, Wireshark ${w.name} ${w.type}`);
    }
  });
});
