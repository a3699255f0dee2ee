// The answers to GET, GETNEXT and GETBULK (RFC 3416 §4.2.1-§4.2.3) from the object tree
// (engine.ts), as response varbinds. No I/O: the agent sends them (respond.ts).
import type { Pdu } from 'net-snmp';
import { encodeVarbindParts } from './encode.ts';
import type { Cursor, MibEngine, OutVarbind } from './engine.ts';
import type { ReadContext } from './mib.ts';
import type { RequestName } from './names.ts';

/** A request's variable name as sub-identifiers and octets (the agent counts unusual ones). */
export type NameOf = (oid: string) => RequestName;

export const NO_SUFFIX: readonly number[] = [];

/** GET (RFC 3416 §4.2.1): each name's value, or noSuchObject / noSuchInstance. */
export function answerGet(engine: MibEngine, pdu: Pdu, ctx: ReadContext, name: NameOf): OutVarbind[] {
  return pdu.varbinds.map((vb) => {
    const n = name(vb.oid);
    const v = engine.get(n.ids, ctx);
    return { prefix: n.content, suffix: NO_SUFFIX, type: v.type, value: v.value };
  });
}

/** GETNEXT (RFC 3416 §4.2.2): each name's lexicographic successor, or endOfMibView. */
export function answerGetNext(engine: MibEngine, pdu: Pdu, ctx: ReadContext, name: NameOf): OutVarbind[] {
  return pdu.varbinds.map((vb) => {
    const n = name(vb.oid);
    return engine.next(n.ids, n.content, ctx);
  });
}

/**
 * GETBULK (RFC 3416 §4.2.3), stopping when the next varbind would not fit `budget` octets
 * of varbind list; `encoded` holds each varbind's encoding for the response.
 */
export function answerGetBulk(engine: MibEngine, pdu: Pdu, ctx: ReadContext, name: NameOf, budget: number): { varbinds: OutVarbind[]; encoded: Buffer[] } {
  const req = pdu.varbinds;
  const n = Math.min(Math.max(pdu.nonRepeaters ?? 0, 0), req.length);
  const m = Math.max(pdu.maxRepetitions ?? 0, 0);
  const out: OutVarbind[] = [];
  const encoded: Buffer[] = [];
  let size = 0;
  const add = (v: OutVarbind): boolean => {
    const e = encodeVarbindParts(v.prefix, v.suffix, v.type, v.value);
    if (size + e.length > budget) return false;
    size += e.length;
    out.push(v);
    encoded.push(e);
    return true;
  };
  for (let i = 0; i < n; i++) {
    const nm = name(req[i].oid);
    if (!add(engine.next(nm.ids, nm.content, ctx))) return { varbinds: out, encoded };
  }
  const r = req.length - n;
  if (r > 0 && m > 0) {
    const cursors: (Cursor | null)[] = req.slice(n).map((vb) => {
      const nm = name(vb.oid);
      return engine.cursor(nm.ids, nm.content);
    });
    for (let rep = 0; rep < m; rep++) {
      let live = false;
      for (let j = 0; j < r; j++) {
        const c = cursors[j];
        let v: OutVarbind;
        if (c === null) {
          v = out[out.length - r];
        } else {
          const step = engine.nextFrom(c, ctx);
          v = step.vb;
          cursors[j] = step.cursor;
          if (step.cursor) live = true;
        }
        if (!add(v)) return { varbinds: out, encoded };
      }
      if (!live) break;
    }
  }
  return { varbinds: out, encoded };
}
