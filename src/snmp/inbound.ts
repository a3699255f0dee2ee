// What every datagram passes before net-snmp processes it: the message version, then the
// SNMPv2c community (RFC 3584 §4.1) or the SNMPv3 USM checks (usm.ts). Bad input gets the
// answer the RFCs prescribe (none, or a Report) and is counted.
import { BerReader, Tag } from './ber.ts';
import type { SnmpEngineCounters } from './mib.ts';
import type { Usm } from './usm.ts';

/** pass: hand to net-snmp; drop: counted, no answer; reply: send this message (a Report) back. */
export type Inbound = { action: 'pass' } | { action: 'drop' } | { action: 'reply'; message: Buffer };

const PASS: Inbound = { action: 'pass' };
const DROP: Inbound = { action: 'drop' };

export function checkInbound(buf: Buffer, communities: ReadonlyMap<string, unknown>, usm: Usm, counters: SnmpEngineCounters): Inbound {
  let version: number;
  let r: BerReader;
  try {
    r = new BerReader(buf).sequence();
    version = r.integer();
  } catch {
    counters.snmpInASNParseErrs++;
    return DROP;
  }
  if (version === 1) {
    let community: string;
    try {
      community = r.octets().value.toString('utf8');
      const pduTag = r.peekTag();
      if (pduTag < Tag.GetRequest || pduTag > Tag.Report) throw new Error('no PDU');
    } catch {
      counters.snmpInASNParseErrs++;
      return DROP;
    }
    if (!communities.has(community)) {
      // RFC 3584 §4.1 / RFC 1157: unknown community, silently dropped and counted.
      counters.snmpInBadCommunityNames++;
      return DROP;
    }
    return PASS;
  }
  if (version === 3) {
    const d = usm.check(buf);
    if (d.action === 'drop') return DROP;
    if (d.action === 'reply') return { action: 'reply', message: d.message };
    return PASS;
  }
  // SNMPv1 and unknown versions are not served (RFC 3412 §4.2.1: snmpInBadVersions).
  counters.snmpInBadVersions++;
  return DROP;
}
