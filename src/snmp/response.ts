// The message around an encoded Response-PDU (RFC 3416 §4.2.4), in the request's
// version and security level, and the size it may have.
import snmp from 'net-snmp';
import type { Message } from 'net-snmp';
import { ber } from './ber.ts';
import { communityMessage, responsePduSize } from './encode.ts';
import { Level, type Usm } from './usm.ts';
import type { SecurityLevel } from './vacm.ts';

/** An SNMPv3 message's security level from its msgFlags (RFC 3412 §6.4: authFlag bit 0, privFlag bit 1). */
export function securityLevel(message: Message): SecurityLevel {
  const flags = message.msgGlobalData?.msgFlags ?? 0;
  return flags & 2 ? 'authPriv' : flags & 1 ? 'authNoPriv' : 'noAuthNoPriv';
}

/** The largest Response: ours, and for SNMPv3 also the requester's msgMaxSize. */
export function sizeLimit(message: Message, maxMessageSize: number): number {
  const theirs = message.version === snmp.Version3 ? (message.msgGlobalData?.msgMaxSize ?? 65507) : 65507;
  return Math.min(maxMessageSize, theirs);
}

/** Octets of a response message around its varbind list (exact for v2c, an upper bound for v3). */
export function responseOverhead(message: Message, engineIdLength: number): number {
  const pdu = responsePduSize(message.pdu.id, 0xffff) - 0xffff + 4;
  if (message.version !== snmp.Version3) return pdu + 12 + Buffer.byteLength(message.community ?? '');
  // header, security parameters (engine ID, user, digest up to 48, salt) and scoped PDU header
  return pdu + 64 + 2 * engineIdLength + 32 + 48 + 8 + 16;
}

/** The message around a Response PDU, in the request's version and security level. */
export function wrapResponse(message: Message, pdu: Buffer, usm: Usm): Buffer {
  if (message.version !== snmp.Version3) return communityMessage(Buffer.from(message.community ?? '', 'utf8'), pdu);
  const user = usm.user(message.user?.name ?? '');
  return usm.encodeMessage(message.msgGlobalData?.msgID ?? 0, Level[securityLevel(message)], user, ber.encoded(pdu));
}
