// Bindings an LMA commits to the store, for restart recovery (docs/ARCHITECTURE.md
// "Scale-out": each LMA owns its binding cache in memory and persists it here by group
// commit, src/lma/commit.ts: one transaction per batch, one multi-row statement per chunk).
import type { Db, Queryable } from '../db.ts';

export interface PersistedBinding {
  lmaId: string;
  sessionKey: string;
  mnId: string;
  mnLlId: string | null;
  att: number | null;
  proxyCoa: string;
  hnps: string[];
  ipv4HoA: string | null;
  lifetimeS: number;
  registeredAt: Date;
  expiresAt: Date;
  /** Other BCE fields (timestamps, GRE keys, sequence numbers). */
  state: Record<string, unknown>;
}

interface Row {
  lma_id: string;
  session_key: string;
  mn_id: string;
  mn_ll_id: string | null;
  att: number | null;
  proxy_coa: string;
  hnps: string[];
  ipv4_hoa: string | null;
  lifetime_s: number;
  registered_at: Date;
  expires_at: Date;
  state: Record<string, unknown>;
}

const toBinding = (r: Row): PersistedBinding => ({
  lmaId: r.lma_id,
  sessionKey: r.session_key,
  mnId: r.mn_id,
  mnLlId: r.mn_ll_id,
  att: r.att,
  proxyCoa: r.proxy_coa,
  hnps: r.hnps ?? [],
  ipv4HoA: r.ipv4_hoa,
  lifetimeS: r.lifetime_s,
  registeredAt: r.registered_at,
  expiresAt: r.expires_at,
  state: r.state ?? {},
});

const SELECT = `SELECT lma_id, session_key, mn_id, mn_ll_id, att, host(proxy_coa) AS proxy_coa, hnps::text[] AS hnps,
  host(ipv4_hoa) AS ipv4_hoa, lifetime_s, registered_at, expires_at, state FROM bindings`;

/** Rows per statement: bounds one statement's size (and, on PGlite, one synchronous stretch). */
const CHUNK = 500;

// One array per column (unnest): PostgreSQL parses typed arrays several times faster than a
// JSON document of rows (json_to_recordset), and writing rows is on the registration path.
// The state column is the exception: one JSON array of every row's state ($12, zipped in by
// ROWS FROM), made by one JSON.stringify; as json[] the driver escaped every quote of every
// state in JavaScript (node-postgres escapeElement: 9% of the LMA's time in re-registrations).
const UPSERT_MANY = `INSERT INTO bindings (lma_id, session_key, mn_id, mn_ll_id, att, proxy_coa, hnps, ipv4_hoa, lifetime_s, registered_at, expires_at, state, updated_at)
  SELECT $1, r.k, r.m, r.ll, r.att, r.coa, r.h::cidr[], r.v4, r.lt, to_timestamp(r.reg / 1000.0), to_timestamp(r.exp / 1000.0), r.st, now()
  FROM ROWS FROM (unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::int2[]), unnest($6::inet[]), unnest($7::text[]),
    unnest($8::inet[]), unnest($9::int4[]), unnest($10::float8[]), unnest($11::float8[]), json_array_elements($12::json))
    AS r(k, m, ll, att, coa, h, v4, lt, reg, exp, st)
  ON CONFLICT (lma_id, session_key) DO UPDATE SET mn_id = EXCLUDED.mn_id, mn_ll_id = EXCLUDED.mn_ll_id, att = EXCLUDED.att,
    proxy_coa = EXCLUDED.proxy_coa, hnps = EXCLUDED.hnps, ipv4_hoa = EXCLUDED.ipv4_hoa, lifetime_s = EXCLUDED.lifetime_s,
    registered_at = EXCLUDED.registered_at, expires_at = EXCLUDED.expires_at, state = EXCLUDED.state, updated_at = now()`;

/** A batch that fits one statement: deletions and upserts together (one statement is one transaction). */
const DELETE_AND_UPSERT = `WITH gone AS (DELETE FROM bindings WHERE lma_id = $1 AND session_key = ANY($13::text[]))
${UPSERT_MANY}`;

// Rows the store has never held (new mobility sessions: their session keys are never reused)
// go in by a plain INSERT: ON CONFLICT's speculative insertion costs PostgreSQL about as much
// again per row, and initial registrations are all new rows. Should one exist after all (a
// batch that committed after its caller gave up on it), the batch is redone as an upsert.
const INSERT_MANY = UPSERT_MANY.slice(0, UPSERT_MANY.indexOf('\n  ON CONFLICT'));
const DELETE_AND_INSERT = `WITH gone AS (DELETE FROM bindings WHERE lma_id = $1 AND session_key = ANY($13::text[]))
${INSERT_MANY}`;

const isUniqueViolation = (e: unknown): boolean => (e as { code?: unknown })?.code === '23505';

// PostgreSQL array literals built here, one string per column: the driver otherwise walks
// every element of every array (node-postgres prepareValue / arrayString / escapeElement,
// two regular-expression replaces per string) on the registration path.
const NEEDS_ESCAPE = /["\\]/;
const ESCAPE = /["\\]/g;

/** A text[] literal: every element quoted (NULL for null). */
function textArray(values: readonly (string | null)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ',';
    if (v === null) out += 'NULL';
    else out += NEEDS_ESCAPE.test(v) ? `"${v.replace(ESCAPE, '\\$&')}"` : `"${v}"`;
  }
  return `${out}}`;
}

/** A numeric array literal (NULL for null; finite numbers only reach here). */
function numberArray(values: readonly (number | null)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ',';
    out += v === null ? 'NULL' : String(v);
  }
  return `${out}}`;
}

/** The column arrays of UPSERT_MANY ($2..$12), as array literals. */
function columns(rows: readonly PersistedBinding[]): unknown[] {
  const n = rows.length;
  const k = new Array<string>(n);
  const m = new Array<string>(n);
  const ll = new Array<string | null>(n);
  const att = new Array<number | null>(n);
  const coa = new Array<string>(n);
  const h = new Array<string>(n);
  const v4 = new Array<string | null>(n);
  const lt = new Array<number>(n);
  const reg = new Array<number>(n);
  const exp = new Array<number>(n);
  const st = new Array<Record<string, unknown>>(n);
  for (let i = 0; i < n; i++) {
    const b = rows[i];
    k[i] = b.sessionKey;
    m[i] = b.mnId;
    ll[i] = b.mnLlId;
    att[i] = b.att;
    coa[i] = b.proxyCoa;
    h[i] = `{${b.hnps.join(',')}}`; // cidr text never holds ',', '{' or '"'
    v4[i] = b.ipv4HoA;
    lt[i] = b.lifetimeS;
    reg[i] = b.registeredAt.getTime();
    exp[i] = b.expiresAt.getTime();
    st[i] = b.state;
  }
  return [
    textArray(k), textArray(m), textArray(ll), numberArray(att), textArray(coa), textArray(h), textArray(v4),
    numberArray(lt), numberArray(reg), numberArray(exp), JSON.stringify(st),
  ];
}

// New rows on PostgreSQL go in by COPY FROM STDIN (text format) instead: the backend spends
// about a third less CPU per row than on INSERT .. SELECT FROM unnest (measured with
// bench/lma-store-rows.ts, 64-row batches: ~12-14 µs against ~17-21 µs), and the PBAs of the
// batch wait for that statement. One COPY is one statement, atomic like the INSERT it replaces.
const COPY_NEW = `COPY bindings (lma_id, session_key, mn_id, mn_ll_id, att, proxy_coa, hnps, ipv4_hoa, lifetime_s, registered_at, expires_at, state) FROM STDIN`;

// COPY text format: backslash, tab, newline and carriage return escaped; \N is NULL.
const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIALS = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
/** A text value as a field of COPY_NEW's input. */
export const copyText = (v: string): string => (COPY_SPECIAL.test(v) ? v.replace(COPY_SPECIALS, (c) => COPY_ESCAPES[c]) : v);

// Timestamps as ISO 8601 text (what Date#toISOString gives), the date part computed once per
// day: toISOString costs about as much as the rest of a row.
let dayStart = NaN;
let dayText = '';
const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);
/** `ms` (epoch milliseconds) as a timestamptz field of COPY_NEW's input. */
export function copyTimestamp(time: number): string {
  const ms = Math.floor(time);
  let t = ms - dayStart;
  if (!(t >= 0 && t < 86_400_000)) {
    const iso = new Date(ms).toISOString();
    if (iso.length !== 24) return iso; // years outside 0000..9999: as Date writes them
    dayStart = ms - (ms % 86_400_000 + 86_400_000) % 86_400_000;
    dayText = iso.slice(0, 11);
    t = ms - dayStart;
  }
  const h = Math.floor(t / 3_600_000);
  const m = Math.floor(t / 60_000) % 60;
  const sec = Math.floor(t / 1000) % 60;
  return `${dayText}${pad2(h)}:${pad2(m)}:${pad2(sec)}.${pad3(t % 1000)}Z`;
}

/**
 * New rows of one batch, encoded by their owner (src/lma/persist.ts makes them from the BCEs):
 * COPY_NEW's input in one pass, without a PersistedBinding per row; the rows themselves only
 * when a store needs them (no COPY, or the upsert fallback).
 */
export interface NewRows {
  readonly count: number;
  /**
   * COPY_NEW's input as bytes (UTF-8): per row, tab-separated, lma_id (given, already escaped by copyText),
   * session_key, mn_id, mn_ll_id, att, proxy_coa, hnps ({a,b}), ipv4_hoa, lifetime_s,
   * registered_at and expires_at (copyTimestamp), state (JSON), each escaped by copyText,
   * \N for NULL, the row ended by a newline. The same content as the rows().
   */
  copyData(lmaText: string): Buffer;
  rows(): PersistedBinding[];
}

/** The rows as COPY_NEW's input. */
function copyRows(lmaId: string, rows: readonly PersistedBinding[]): Buffer {
  const lma = copyText(lmaId);
  let out = '';
  for (let i = 0; i < rows.length; i++) {
    const b = rows[i];
    // JSON.stringify escapes control characters itself: only its backslashes need doubling.
    out +=
      `${lma}\t${copyText(b.sessionKey)}\t${copyText(b.mnId)}\t${b.mnLlId === null ? '\\N' : copyText(b.mnLlId)}\t${b.att === null ? '\\N' : b.att}\t` +
      `${copyText(b.proxyCoa)}\t${copyText(`{${b.hnps.join(',')}}`)}\t${b.ipv4HoA === null ? '\\N' : copyText(b.ipv4HoA)}\t${b.lifetimeS}\t` +
      `${copyTimestamp(b.registeredAt.getTime())}\t${copyTimestamp(b.expiresAt.getTime())}\t${copyText(JSON.stringify(b.state))}\n`;
  }
  return Buffer.from(out);
}

/** What `commit` reads of its caller's signal (an AbortSignal fits): a plain object costs less per batch. */
export interface CommitSignal {
  readonly aborted: boolean;
}

class Abandoned extends Error {
  constructor() {
    super('binding commit abandoned by its caller');
    this.name = 'Abandoned';
  }
}

export class BindingRepo {
  /** COPY for new rows when the driver has it; PMIP6BENCH_BINDING_COPY=off (not a configuration key: A/B benches only) turns it off. */
  private readonly copy: boolean;

  constructor(private readonly db: Db) {
    this.copy = db.copyFrom !== undefined && process.env.PMIP6BENCH_BINDING_COPY !== 'off';
  }

  /**
   * One transaction: every upsert and deletion (src/lma BindingStore port). Session keys are
   * unique within a call. A batch of up to CHUNK rows of each kind is one statement; a larger
   * one is a transaction of several, which rolls back instead of committing when `signal` was
   * aborted meanwhile (a batch its caller gave up on must not land after a newer one).
   * `fresh`: how many of the upserts are rows the store never held (all of them: inserted).
   */
  commit(lmaId: string, upserts: readonly PersistedBinding[], removals: readonly string[], signal?: CommitSignal, fresh = 0): Promise<void> {
    if (upserts.length === 0 && removals.length === 0) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(new Abandoned());
    if (upserts.length <= CHUNK && removals.length <= CHUNK) {
      // The common case: one statement, atomic by itself, no BEGIN / COMMIT round trips.
      if (upserts.length === 0) return this.deleteMany(this.db, lmaId, removals);
      if (fresh >= upserts.length && removals.length === 0 && this.copy) return this.copyNew(lmaId, upserts, signal);
      // The rows are read here, before any await: only their column texts wait for the
      // database, so the rows (and what they hold) die young instead of surviving scavenges.
      return this.commitOne(lmaId, columns(upserts), removals, fresh >= upserts.length, signal);
    }
    return this.commitChunked(lmaId, upserts, removals, signal);
  }

  /**
   * New rows only (sessions the store never held), as their owner encoded them: one COPY on
   * PostgreSQL, else the INSERT of commit(). Same guarantees as commit().
   */
  insertNew(lmaId: string, batch: NewRows, signal?: CommitSignal): Promise<void> {
    if (batch.count === 0) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(new Abandoned());
    if (!this.copy || batch.count > CHUNK) return this.commit(lmaId, batch.rows(), [], signal, batch.count);
    return this.copyEncoded(lmaId, batch.copyData(copyText(lmaId)), batch, signal);
  }

  private async copyEncoded(lmaId: string, data: Buffer, batch: NewRows, signal: CommitSignal | undefined): Promise<void> {
    try {
      await this.db.copyFrom!(COPY_NEW, data);
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      if (signal?.aborted) throw new Abandoned();
      await this.db.query(UPSERT_MANY, [lmaId, ...columns(batch.rows())]);
    }
  }

  /** New rows only: COPY; should one exist after all, the batch is redone as an upsert (see INSERT_MANY). */
  private async copyNew(lmaId: string, rows: readonly PersistedBinding[], signal: CommitSignal | undefined): Promise<void> {
    try {
      await this.db.copyFrom!(COPY_NEW, copyRows(lmaId, rows));
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      if (signal?.aborted) throw new Abandoned();
      await this.db.query(UPSERT_MANY, [lmaId, ...columns(rows)]);
    }
  }

  private async deleteMany(q: Queryable, lmaId: string, removals: readonly string[]): Promise<void> {
    await q.query(`DELETE FROM bindings WHERE lma_id = $1 AND session_key = ANY($2::text[])`, [lmaId, removals]);
  }

  private async commitOne(lmaId: string, cols: unknown[], removals: readonly string[], allFresh: boolean, signal: CommitSignal | undefined): Promise<void> {
    if (allFresh) {
      try {
        if (removals.length === 0) await this.db.query(INSERT_MANY, [lmaId, ...cols]);
        else await this.db.query(DELETE_AND_INSERT, [lmaId, ...cols, removals]);
        return;
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        if (signal?.aborted) throw new Abandoned();
      }
    }
    if (removals.length === 0) await this.db.query(UPSERT_MANY, [lmaId, ...cols]);
    else await this.db.query(DELETE_AND_UPSERT, [lmaId, ...cols, removals]);
  }

  /** A batch larger than one statement: a transaction of several, rolled back when the caller gave up. */
  private async commitChunked(lmaId: string, upserts: readonly PersistedBinding[], removals: readonly string[], signal: CommitSignal | undefined): Promise<void> {
    const check = () => {
      if (signal?.aborted) throw new Abandoned();
    };
    await this.db.transaction(async (tx: Queryable) => {
      for (let i = 0; i < upserts.length; i += CHUNK) {
        check();
        await tx.query(UPSERT_MANY, [lmaId, ...columns(upserts.slice(i, i + CHUNK))]);
      }
      for (let i = 0; i < removals.length; i += CHUNK) {
        check();
        await this.deleteMany(tx, lmaId, removals.slice(i, i + CHUNK));
      }
      check();
    });
  }

  async upsert(b: PersistedBinding): Promise<void> {
    await this.db.query(
      `INSERT INTO bindings (lma_id, session_key, mn_id, mn_ll_id, att, proxy_coa, hnps, ipv4_hoa, lifetime_s, registered_at, expires_at, state, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::cidr[], $8, $9, $10, $11, $12::json, now())
       ON CONFLICT (lma_id, session_key) DO UPDATE SET mn_id = EXCLUDED.mn_id, mn_ll_id = EXCLUDED.mn_ll_id, att = EXCLUDED.att,
         proxy_coa = EXCLUDED.proxy_coa, hnps = EXCLUDED.hnps, ipv4_hoa = EXCLUDED.ipv4_hoa, lifetime_s = EXCLUDED.lifetime_s,
         registered_at = EXCLUDED.registered_at, expires_at = EXCLUDED.expires_at, state = EXCLUDED.state, updated_at = now()`,
      [b.lmaId, b.sessionKey, b.mnId, b.mnLlId, b.att, b.proxyCoa, b.hnps, b.ipv4HoA, b.lifetimeS, b.registeredAt, b.expiresAt, JSON.stringify(b.state)],
    );
  }

  async remove(lmaId: string, sessionKey: string): Promise<void> {
    await this.db.query(`DELETE FROM bindings WHERE lma_id = $1 AND session_key = $2`, [lmaId, sessionKey]);
  }

  /** Bindings of one LMA that have not expired, for recovery at start. */
  async loadLive(lmaId: string, now = new Date()): Promise<PersistedBinding[]> {
    const r = await this.db.query<Row>(`${SELECT} WHERE lma_id = $1 AND expires_at > $2 ORDER BY registered_at`, [lmaId, now]);
    return r.rows.map(toBinding);
  }

  async list(f: { lmaId?: string; mnId?: string; limit?: number; offset?: number } = {}): Promise<{ items: PersistedBinding[]; total: number }> {
    const vals = [f.lmaId ?? null, f.mnId ?? null];
    const w = `WHERE ($1::text IS NULL OR lma_id = $1) AND ($2::text IS NULL OR mn_id = $2)`;
    const total = await this.db.query<{ n: bigint }>(`SELECT count(*) AS n FROM bindings ${w}`, vals);
    const r = await this.db.query<Row>(`${SELECT} ${w} ORDER BY mn_id, session_key LIMIT $3 OFFSET $4`, [...vals, f.limit ?? 50, f.offset ?? 0]);
    return { items: r.rows.map(toBinding), total: Number(total.rows[0].n) };
  }
}
