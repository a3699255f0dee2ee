// Variable names of a request, as sub-identifiers (for the MIB engine) and as BER content
// octets (echoed in the response). net-snmp decodes any OID value, including ones the SMI
// does not allow (RFC 2578 §3.5: first arc 0..2, sub-identifiers up to 2^32-1): an empty
// value (it reads "0.NaN"), a first sub-identifier of 120 or more (it reads "3.0", "5.0",
// "107374182.15" ...). Such a name is parseable input, so it is answered like any unknown
// name (RFC 3416 §4.2.1 noSuchObject; §4.2.2/§4.2.3 its lexicographic successor, i.e. the
// first object for the empty name and endOfMibView after the 1.3.6.1 tree), with the name
// echoed as the sub-identifiers net-snmp decoded, never genErr.
import { oidContent, subIdsContent } from './encode.ts';

export type UnusualName = 'empty' | 'first-arc' | 'unparseable';

export interface RequestName {
  ids: number[];
  content: Buffer;
  /** Why the name is outside the SMI rules (null: an ordinary OID). */
  unusual: UnusualName | null;
}

function ids(text: string): number[] {
  const parts = text.split('.');
  const out = new Array<number>(parts.length);
  for (let i = 0; i < parts.length; i++) out[i] = +parts[i];
  return out;
}

export function requestName(text: string): RequestName {
  try {
    return { ids: ids(text), content: oidContent(text), unusual: null };
  } catch {
    /* outside the SMI: below */
  }
  if (text === '0.NaN') return { ids: [], content: Buffer.alloc(0), unusual: 'empty' };
  const sub = ids(text);
  if (sub.length >= 2 && sub.every((v) => Number.isSafeInteger(v) && v >= 0)) {
    // net-snmp split the first encoded value v into (v / 40, v % 40): re-encoding v gives the octets back.
    return { ids: sub, content: subIdsContent(sub), unusual: 'first-arc' };
  }
  // Nothing net-snmp produces today; answered as the empty name rather than failing.
  return { ids: [], content: Buffer.alloc(0), unusual: 'unparseable' };
}
