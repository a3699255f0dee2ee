// GET / GETNEXT / SET processing over the in-code object tree (RFC 3416 §4.2). Objects
// are leaves (scalars and columns) sorted by OID; a GETNEXT finds the object by binary
// search and asks the table for the successor row, so a walk over n rows costs O(log n)
// per varbind and never copies a table.
import { compareIndex } from './table.ts';
import { T, type ColumnObject, type MibObject, type ReadContext, type ScalarObject, type Value } from './mib.ts';
import type { Pmip6Settings, Pmip6SettingsValues } from './settings.ts';
import { checkSettings } from './settings.ts';
import { subIdsContent, type VarbindParts } from './encode.ts';
import type { WriteResult } from './view.ts';

/** RFC 3416 error-status values. */
export const ErrorStatus = {
  noError: 0,
  tooBig: 1,
  genErr: 5,
  noAccess: 6,
  wrongType: 7,
  wrongLength: 8,
  wrongEncoding: 9,
  wrongValue: 10,
  noCreation: 11,
  inconsistentValue: 12,
  resourceUnavailable: 13,
  commitFailed: 14,
  undoFailed: 15,
  authorizationError: 16,
  notWritable: 17,
  inconsistentName: 18,
} as const;

/** A response varbind: name = `prefix` (BER content octets of an OID) + `suffix` sub-identifiers. */
export type OutVarbind = VarbindParts;

export interface SetVarbind {
  oid: string;
  type: number;
  value: unknown;
}

export interface SetOutcome {
  errorStatus: number;
  /** 1-based index of the failing varbind, 0 on success. */
  errorIndex: number;
}

/** A GETNEXT position: object number and instance suffix (null: before the object's first instance). */
export interface Cursor {
  obj: number;
  suffix: readonly number[] | null;
  /** The name of this position (answered with endOfMibView past the end, RFC 3416 §4.2.2). */
  namePrefix: Buffer;
  nameSuffix: readonly number[];
}

const ZERO: readonly number[] = [0];
const NONE: readonly number[] = [];

function isPrefix(prefix: readonly number[], oid: readonly number[]): boolean {
  if (prefix.length > oid.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== oid[i]) return false;
  return true;
}

export class MibEngine {
  private readonly objs: MibObject[];
  private readonly oidBytes: Buffer[];

  constructor(
    objects: MibObject[],
    private readonly settings: Pmip6Settings,
  ) {
    this.objs = [...objects].sort((a, b) => compareIndex(a.oid, b.oid));
    for (let i = 1; i < this.objs.length; i++) {
      if (isPrefix(this.objs[i - 1].oid, this.objs[i].oid)) {
        throw new Error(`object ${this.objs[i].name} lies under ${this.objs[i - 1].name}`);
      }
    }
    this.oidBytes = this.objs.map((o) => subIdsContent(o.oid));
  }

  get objects(): readonly MibObject[] {
    return this.objs;
  }

  /** Index of the last object whose OID is <= oid, or -1. */
  private lastLE(oid: readonly number[]): number {
    let lo = 0;
    let hi = this.objs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareIndex(this.objs[mid].oid, oid) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** The object whose instances include `oid`, and the instance suffix. */
  find(oid: readonly number[]): { obj: MibObject; suffix: number[] } | undefined {
    const i = this.lastLE(oid);
    if (i < 0) return undefined;
    const obj = this.objs[i];
    return isPrefix(obj.oid, oid) ? { obj, suffix: oid.slice(obj.oid.length) } : undefined;
  }

  /** GET of one variable (RFC 3416 §4.2.1). */
  get(oid: readonly number[], ctx: ReadContext): Value {
    const hit = this.find(oid);
    if (!hit) return { type: T.NoSuchObject, value: null };
    const { obj, suffix } = hit;
    if (obj.kind === 'scalar') {
      return suffix.length === 1 && suffix[0] === 0 ? obj.read(ctx) : { type: T.NoSuchInstance, value: null };
    }
    const row = obj.table.get(suffix);
    const v = row === undefined ? undefined : obj.read(row, ctx);
    return v ?? { type: T.NoSuchInstance, value: null };
  }

  /** GETNEXT of one variable (RFC 3416 §4.2.2); `name` is the request OID's content octets. */
  next(oid: readonly number[], name: Buffer, ctx: ReadContext): OutVarbind {
    return this.nextFrom(this.cursor(oid, name), ctx).vb;
  }

  /** Where a GETNEXT from `oid` starts: the object, and the instance suffix inside it. */
  cursor(oid: readonly number[], name: Buffer): Cursor {
    const i = this.lastLE(oid);
    if (i >= 0 && isPrefix(this.objs[i].oid, oid)) return { obj: i, suffix: oid.slice(this.objs[i].oid.length), namePrefix: name, nameSuffix: NONE };
    return { obj: i + 1, suffix: null, namePrefix: name, nameSuffix: NONE };
  }

  /**
   * The first instance after the cursor, and the cursor that follows it (GETBULK keeps
   * cursors between repetitions so it never re-parses or re-searches an OID).
   */
  nextFrom(c: Cursor, ctx: ReadContext): { vb: OutVarbind; cursor: Cursor | null } {
    const objs = this.objs;
    let suffix = c.suffix;
    for (let i = c.obj; i < objs.length; i++, suffix = null) {
      const o = objs[i];
      if (o.kind === 'scalar') {
        if (suffix === null || suffix.length === 0) {
          const v = o.read(ctx);
          const prefix = this.oidBytes[i];
          return { vb: { prefix, suffix: ZERO, type: v.type, value: v.value }, cursor: { obj: i, suffix: ZERO, namePrefix: prefix, nameSuffix: ZERO } };
        }
        continue;
      }
      let e = o.table.next(suffix ?? NONE);
      while (e) {
        const v = o.read(e.row, ctx);
        if (v) {
          const prefix = this.oidBytes[i];
          return { vb: { prefix, suffix: e.index, type: v.type, value: v.value }, cursor: { obj: i, suffix: e.index, namePrefix: prefix, nameSuffix: e.index } };
        }
        e = o.table.next(e.index);
      }
    }
    return { vb: { prefix: c.namePrefix, suffix: c.nameSuffix, type: T.EndOfMibView, value: null }, cursor: null };
  }

  /**
   * SET (RFC 3416 §4.2.5): every varbind is checked first (in the order of the rules), then
   * all are applied; a failure while applying undoes what was applied (commitFailed), and
   * undoFailed if that fails too. Settings are persisted before the response.
   */
  async set(varbinds: readonly SetVarbind[], mayWrite: boolean): Promise<SetOutcome> {
    const fail = (status: number, i: number): SetOutcome => ({ errorStatus: status, errorIndex: i + 1 });
    const current = this.settings.values;
    let patch: Partial<Pmip6SettingsValues> = {};
    const touched = new Map<string, number>();
    const rowWrites: { obj: ColumnObject; index: number[]; value: unknown; old: unknown; vb: number }[] = [];

    for (let i = 0; i < varbinds.length; i++) {
      const vb = varbinds[i];
      if (!mayWrite) return fail(ErrorStatus.noAccess, i);
      const oid = vb.oid.split('.').map(Number);
      const hit = this.find(oid);
      if (!hit || !hit.obj.write) return fail(ErrorStatus.notWritable, i);
      const { obj, suffix } = hit;
      const w = obj.write!;
      if (vb.type !== w.asnType) return fail(ErrorStatus.wrongType, i);
      const verdict = w.check(vb.value);
      if (verdict) return fail(ErrorStatus[verdict], i);
      if (obj.kind === 'scalar') {
        if (suffix.length !== 1 || suffix[0] !== 0) return fail(ErrorStatus.noCreation, i);
        const change = (obj as ScalarObject).write!.patch(vb.value, { ...current, ...patch });
        patch = { ...patch, ...change };
        for (const k of Object.keys(change)) touched.set(k, i);
      } else {
        const row = obj.table.get(suffix);
        if (row === undefined) return fail(ErrorStatus.noCreation, i);
        rowWrites.push({ obj, index: suffix, value: vb.value, old: obj.write!.current(row), vb: i });
      }
    }

    if (touched.size > 0) {
      const bad = checkSettings({ ...current, ...patch });
      if (bad) return fail(ErrorStatus[bad.error], touched.get(bad.key) ?? 0);
      // A change this process cannot put into effect is refused, never only saved.
      const refused = this.settings.refusal(patch);
      if (refused) return fail(ErrorStatus.inconsistentValue, touched.get(refused) ?? 0);
    }

    const done: typeof rowWrites = [];
    const undo = async (): Promise<boolean> => {
      let ok = true;
      for (const w of done.reverse()) {
        try {
          const r = await w.obj.write!.apply(w.index, w.old);
          if (!r.ok) ok = false;
        } catch {
          ok = false;
        }
      }
      return ok;
    };
    for (const w of rowWrites) {
      let r: WriteResult;
      try {
        r = await w.obj.write!.apply(w.index, w.value);
      } catch {
        r = { ok: false, error: 'commitFailed' };
      }
      if (!r.ok) {
        const undone = await undo();
        if (!undone) return fail(ErrorStatus.undoFailed, w.vb);
        return fail(ErrorStatus[r.error], w.vb);
      }
      done.push(w);
    }
    if (touched.size > 0) {
      try {
        await this.settings.update(patch);
      } catch {
        const undone = await undo();
        return fail(undone ? ErrorStatus.commitFailed : ErrorStatus.undoFailed, Math.min(...touched.values()));
      }
    }
    return { errorStatus: ErrorStatus.noError, errorIndex: 0 };
  }
}
