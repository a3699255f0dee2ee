// Bulk import of profiles from CSV or JSON: all or nothing. Every row is validated and
// inserted inside one transaction (a savepoint per row), every bad row is reported with
// its line number and reason, and if any row is bad nothing is kept.
import type { Db, Queryable } from '../store/db.ts';
import { translatePgError, ConflictError, InvalidError } from '../store/errors.ts';
import { insertProfile } from '../store/repos/profiles.ts';
import { audit, type Actor } from '../store/repos/audit.ts';
import { profileInputSchema, formatIssues, type ProfileInput } from './validate.ts';

export interface ImportRow {
  /** 1-based line (CSV) or 1-based array index (JSON). */
  line: number;
  raw: unknown;
}

export interface RowProblem {
  line: number;
  mnId?: string;
  field: string;
  message: string;
}

export interface ImportReport {
  ok: boolean;
  total: number;
  imported: number;
  errors: RowProblem[];
}

export class ImportFormatError extends Error {}

/** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF; returns records with their line numbers. */
export function parseCsv(text: string): { line: number; fields: string[] }[] {
  const out: { line: number; fields: string[] }[] = [];
  let field = '';
  let fields: string[] = [];
  let inQuotes = false;
  let line = 1;
  let recordLine = 1;
  let sawAny = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === '') {
      inQuotes = true;
      sawAny = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      sawAny = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      fields.push(field);
      if (sawAny || fields.some((f) => f !== '')) out.push({ line: recordLine, fields });
      fields = [];
      field = '';
      sawAny = false;
      line++;
      recordLine = line;
    } else {
      field += c;
      sawAny = true;
    }
  }
  if (inQuotes) throw new ImportFormatError(`line ${recordLine}: unterminated quoted field`);
  fields.push(field);
  if (sawAny || fields.some((f) => f !== '')) out.push({ line: recordLine, fields });
  return out;
}

const LIST_COLUMNS = new Set(['hnps', 'mnLinkLayerIds']);
const INT_COLUMNS = new Set(['hnpCount', 'ipv4PrefixLength']);
const BOOL_COLUMNS = new Set(['enabled']);

/** CSV with a header row naming profile fields; lists are separated by ";" or spaces. */
export function rowsFromCsv(text: string): ImportRow[] {
  const recs = parseCsv(text.replace(/^\uFEFF/, ''));
  if (recs.length === 0) return [];
  const header = recs[0].fields.map((h) => h.trim());
  if (!header.includes('mnId')) throw new ImportFormatError('line 1: the header must name the columns and include mnId');
  return recs.slice(1).map(({ line, fields }) => {
    const raw: Record<string, unknown> = {};
    header.forEach((col, i) => {
      const v = (fields[i] ?? '').trim();
      if (v === '') return;
      if (LIST_COLUMNS.has(col)) raw[col] = v.split(/[;\s]+/).filter(Boolean);
      else if (INT_COLUMNS.has(col)) raw[col] = /^\d+$/.test(v) ? Number(v) : v;
      else if (BOOL_COLUMNS.has(col)) raw[col] = /^(true|1|yes)$/i.test(v) ? true : /^(false|0|no)$/i.test(v) ? false : v;
      else raw[col] = v;
    });
    if (fields.length > header.length) raw['(extra columns)'] = fields.slice(header.length);
    return { line, raw };
  });
}

/** A JSON array of profiles, or {"profiles": [...]}. */
export function rowsFromJson(value: unknown): ImportRow[] {
  const arr = Array.isArray(value) ? value : (value as { profiles?: unknown })?.profiles;
  if (!Array.isArray(arr)) throw new ImportFormatError('JSON import must be an array of profiles or {"profiles": [...]}');
  return arr.map((raw, i) => ({ line: i + 1, raw }));
}

export interface ImportOptions {
  actor: Actor;
  /** Validate and try every row, then roll back even when all succeed. */
  dryRun?: boolean;
  onProgress?: (done: number, total: number) => void;
}

class RollbackImport extends Error {}

export async function importProfiles(db: Db, rows: ImportRow[], opts: ImportOptions): Promise<ImportReport> {
  const errors: RowProblem[] = [];
  const valid: { line: number; input: ProfileInput }[] = [];
  const seen = new Map<string, number>();
  for (const r of rows) {
    const raw = r.raw as Record<string, unknown>;
    if (raw && typeof raw === 'object' && '(extra columns)' in raw) {
      errors.push({ line: r.line, field: '(row)', message: 'more fields than header columns' });
      continue;
    }
    const p = profileInputSchema.safeParse(raw);
    if (!p.success) {
      for (const f of formatIssues(p.error)) errors.push({ line: r.line, mnId: typeof raw?.mnId === 'string' ? raw.mnId : undefined, ...f });
      continue;
    }
    const prev = seen.get(p.data.mnId);
    if (prev !== undefined) {
      errors.push({ line: r.line, mnId: p.data.mnId, field: 'mnId', message: `duplicates line ${prev}` });
      continue;
    }
    seen.set(p.data.mnId, r.line);
    valid.push({ line: r.line, input: p.data });
  }
  let imported = 0;
  const total = rows.length;
  opts.onProgress?.(errors.length, total);
  try {
    await db.transaction(async (tx: Queryable) => {
      let done = errors.length;
      for (const v of valid) {
        await tx.exec('SAVEPOINT import_row');
        try {
          await insertProfile(tx, v.input);
          await tx.exec('RELEASE SAVEPOINT import_row');
          imported++;
        } catch (e) {
          await tx.exec('ROLLBACK TO SAVEPOINT import_row');
          const t = translatePgError(e);
          if (t instanceof ConflictError || t instanceof InvalidError) errors.push({ line: v.line, mnId: v.input.mnId, field: t.field, message: t.message });
          else throw e;
        }
        done++;
        if (done % 500 === 0) opts.onProgress?.(done, total);
      }
      opts.onProgress?.(total, total);
      if (errors.length > 0 || opts.dryRun) throw new RollbackImport();
      await audit(tx, opts.actor, 'import', 'profile', null, null, { imported });
    });
  } catch (e) {
    if (!(e instanceof RollbackImport)) throw e;
  }
  errors.sort((a, b) => a.line - b.line);
  const ok = errors.length === 0;
  // On a dry run, `imported` is what would have been imported.
  return { ok, total, imported: ok ? imported : 0, errors };
}
