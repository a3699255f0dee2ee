// AVP checks a receiver makes before acting on a message (RFC 6733 §4.1, §4.4, §7.1.5):
// AVPs with the M bit that are not understood (5001), values whose length does not fit their
// type (5014), values that are not valid for their type (5004), Grouped AVPs whose members are
// malformed or nested deeper than this node follows. Returns the first problem (§7: "report
// only the first error") with its Failed-AVP content, or null. Pure.
import { AvpFlag, Cmd, Result } from './constants.ts';
import { decodeGrouped, type RawAvp } from './codec.ts';
import { avpDef, type AvpType } from './dictionary.ts';
import { decIdentity, decUtf8 } from './values.ts';

/** Grouped AVPs nest at most this deep (the deepest PMIPv6 AVP, Service-Configuration → MIP6-Agent-Info → MIP-Home-Agent-Host, is 3). */
export const MAX_GROUP_DEPTH = 8;

export interface AvpProblem {
  resultCode: number;
  /** Failed-AVP member (§7.5). */
  failedAvp: Buffer;
  detail: string;
}

const FIXED: Partial<Record<AvpType, number>> = {
  Integer32: 4, Unsigned32: 4, Float32: 4, Enumerated: 4, Time: 4,
  Integer64: 8, Unsigned64: 8, Float64: 8,
};

/** The AVP header alone with an empty payload (§7.1.5: enough to point at a Grouped AVP). */
function headerOnly(a: RawAvp): Buffer {
  const hlen = a.raw.length - a.data.length;
  const b = Buffer.from(a.raw.subarray(0, hlen));
  b.writeUIntBE(hlen, 5, 3);
  return b;
}

function checkValue(a: RawAvp, type: AvpType, depth: number): AvpProblem | null {
  const fixed = FIXED[type];
  if (fixed !== undefined) {
    return a.dataLength === fixed ? null : { resultCode: Result.InvalidAvpLength, failedAvp: Buffer.from(a.raw), detail: `AVP ${a.code} (${type}) has ${a.dataLength} value octets, not ${fixed}` };
  }
  switch (type) {
    case 'Address': {
      const d = a.data;
      const ok = d.length >= 2 && (d.readUInt16BE(0) === 1 ? d.length === 6 : d.readUInt16BE(0) === 2 ? d.length === 18 : true);
      return ok ? null : { resultCode: Result.InvalidAvpLength, failedAvp: Buffer.from(a.raw), detail: `AVP ${a.code} (Address) has ${d.length} value octets` };
    }
    case 'UTF8String':
    case 'DiameterURI':
      return decUtf8(a.data) !== null ? null : { resultCode: Result.InvalidAvpValue, failedAvp: Buffer.from(a.raw), detail: `AVP ${a.code} is not valid UTF-8` };
    case 'DiameterIdentity':
      return decIdentity(a.data) !== null ? null : { resultCode: Result.InvalidAvpValue, failedAvp: Buffer.from(a.raw), detail: `AVP ${a.code} is not a DiameterIdentity` };
    case 'Grouped': {
      if (depth + 1 > MAX_GROUP_DEPTH) return { resultCode: Result.InvalidAvpValue, failedAvp: headerOnly(a), detail: `Grouped AVPs nested deeper than ${MAX_GROUP_DEPTH}` };
      const inner = decodeGrouped(a.data);
      if (!inner.ok) return { resultCode: inner.error.resultCode, failedAvp: inner.error.failedAvp ?? headerOnly(a), detail: `in AVP ${a.code}: ${inner.error.detail}` };
      // Failed-AVP carries another node's offending AVPs: their framing is checked, not their meaning.
      if (a.code === FAILED_AVP) return null;
      return checkAvps(inner.value, depth + 1);
    }
    default:
      return null;
  }
}

const FAILED_AVP = 279;

/** The first problem among these AVPs (and the members of the Grouped ones), or null. */
export function checkAvps(avps: readonly RawAvp[], depth = 0): AvpProblem | null {
  for (let i = 0; i < avps.length; i++) {
    const a = avps[i];
    const def = avpDef(a.code, a.vendorId);
    if (!def) {
      // §4.1: an AVP with the M bit that is not understood MUST be answered with an error;
      // without it the AVP is informational and kept as it came.
      if (a.flags & AvpFlag.M) return { resultCode: Result.AvpUnsupported, failedAvp: Buffer.from(a.raw), detail: `AVP ${a.vendorId ? `${a.vendorId}:` : ''}${a.code} with the M bit is not supported` };
      continue;
    }
    const p = checkValue(a, def.type, depth);
    if (p) return p;
  }
  return null;
}

/**
 * Failed-AVP member for an AVP a command requires but the message lacks (§7.5: the missing
 * AVP's code and a zero-filled payload of the minimum length of its type).
 */
export function missingAvp(code: number): Buffer {
  const def = avpDef(code);
  const min = def ? (FIXED[def.type] ?? (def.type === 'Address' ? 6 : 0)) : 0;
  const b = Buffer.alloc(8 + ((min + 3) & ~3));
  b.writeUInt32BE(code, 0);
  b.writeUInt32BE(((AvpFlag.M << 24) | (8 + min)) >>> 0, 4);
  if (def?.type === 'Address') b.writeUInt16BE(1, 8);
  return b;
}

/** Base protocol commands (RFC 6733 §3.1): their header's Application-ID is 0. */
export const BASE_COMMANDS: ReadonlySet<number> = new Set([Cmd.CapabilitiesExchange, Cmd.DeviceWatchdog, Cmd.DisconnectPeer]);
