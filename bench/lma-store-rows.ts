// PostgreSQL backend CPU per binding row and latency per 64-row batch for several ways of
// writing new bindings (issue 12): `node --import tsx bench/lma-store-rows.ts [batches=400]`
// (ONLY=<part of a variant's name> for some). CPU is the backend's user + system time from
// /proc/<pid>/stat (10 ms ticks: use 1000+ batches), latency includes the commit's flush.
// Variants: the product's INSERT .. unnest (BindingRepo without COPY), COPY text / binary into
// `bindings`, a slimmer row (bigint key, bytea, with and without indexes), and the binding log
// of commit 6394c2f (one bytea row per batch) with the cost of folding it into `bindings`.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { createPgDatabase } from '../test/helpers/db.ts';
import { openPostgres } from '../src/store/pg.ts';
import { migrate } from '../src/store/migrate.ts';
import { BindingRepo, type PersistedBinding } from '../src/store/repos/bindings.ts';

import { EventEmitter } from 'node:events';

/** COPY ... FROM STDIN with the whole input at once (node-postgres Submittable). */
class CopyIn extends EventEmitter {
  callback?: (err: Error | null, res?: unknown) => void;
  private err: Error | null = null;
  constructor(readonly text: string, private readonly data: Buffer) { super(); }
  submit(connection: { query(t: string): void }): void { connection.query(this.text); }
  handleCopyInResponse(connection: { sendCopyFromChunk(b: Buffer): void; endCopyFrom(): void }): void {
    connection.sendCopyFromChunk(this.data);
    connection.endCopyFrom();
  }
  handleCommandComplete(): void {}
  handleError(e: Error): void { this.err = e; }
  handleReadyForQuery(): void { this.callback?.(this.err, undefined); }
  handleEmptyQuery(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCopyData(): void {}
}
function copy(c: pg.Client, text: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => { c.query(new CopyIn(text, data) as never, (e: Error | null) => (e ? reject(e) : resolve())); });
}
const esc = (s: string) => (/[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, (m) => (m === '\\' ? '\\\\' : m === '\t' ? '\\t' : m === '\n' ? '\\n' : '\\r')) : s);
function copyText(rows: PersistedBinding[]): Buffer {
  let out = '';
  for (const b of rows) {
    out += `${esc(b.lmaId)}\t${esc(b.sessionKey)}\t${esc(b.mnId)}\t${b.mnLlId === null ? '\\N' : esc(b.mnLlId)}\t${b.att ?? '\\N'}\t${b.proxyCoa}\t{${b.hnps.join(',')}}\t${b.ipv4HoA ?? '\\N'}\t${b.lifetimeS}\t${b.registeredAt.toISOString()}\t${b.expiresAt.toISOString()}\t${esc(JSON.stringify(b.state))}\n`;
  }
  return Buffer.from(out);
}
// Binary COPY: header, per row int16 field count, per field int32 length + bytes.
const PG_EPOCH_MS = 946684800000;
function copyBinary(rows: PersistedBinding[]): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)];
  for (const b of rows) {
    const fields: (Buffer | null)[] = [];
    fields.push(Buffer.from(b.lmaId), Buffer.from(b.sessionKey), Buffer.from(b.mnId), b.mnLlId === null ? null : Buffer.from(b.mnLlId));
    const att = Buffer.alloc(2); att.writeInt16BE(b.att ?? 0); fields.push(b.att === null ? null : att);
    const coa = b.proxyCoa.split('.').map(Number); fields.push(Buffer.from([2, 32, 0, 4, ...coa]));
    // cidr[]: ndim 1, hasnull 0, elemtype 650, dim n, lbound 1, per element len + inet bytes (IPv6 /64)
    const h = Buffer.alloc(20 + b.hnps.length * (4 + 20)); h.writeInt32BE(1, 0); h.writeInt32BE(0, 4); h.writeInt32BE(650, 8); h.writeInt32BE(b.hnps.length, 12); h.writeInt32BE(1, 16);
    let o = 20;
    for (const p of b.hnps) { h.writeInt32BE(20, o); o += 4; h[o] = 3; h[o + 1] = 64; h[o + 2] = 1; h[o + 3] = 16; o += 4; o += 16; void p; }
    fields.push(h);
    fields.push(null);
    const lt = Buffer.alloc(4); lt.writeInt32BE(b.lifetimeS); fields.push(lt);
    const r = Buffer.alloc(8); r.writeBigInt64BE(BigInt(b.registeredAt.getTime() - PG_EPOCH_MS) * 1000n); fields.push(r);
    const e = Buffer.alloc(8); e.writeBigInt64BE(BigInt(b.expiresAt.getTime() - PG_EPOCH_MS) * 1000n); fields.push(e);
    fields.push(Buffer.from(JSON.stringify(b.state)));
    const hdr = Buffer.alloc(2); hdr.writeInt16BE(fields.length); parts.push(hdr);
    for (const f of fields) { const l = Buffer.alloc(4); l.writeInt32BE(f === null ? -1 : f.length); parts.push(l); if (f) parts.push(f); }
  }
  const t = Buffer.alloc(2); t.writeInt16BE(-1); parts.push(t);
  return Buffer.concat(parts);
}

const FOLD_FN = `CREATE FUNCTION pmip6_fold_bindings(max_batches integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  n integer;
BEGIN
  PERFORM pg_advisory_xact_lock(5213, 12);
  WITH l AS (
    DELETE FROM binding_log WHERE id IN (SELECT id FROM binding_log ORDER BY id LIMIT max_batches) RETURNING id, lma_id, batch
  ), e AS (
    SELECT DISTINCT ON (l.lma_id, j.k) l.lma_id, j.*
    FROM l, json_to_recordset(convert_from(l.batch, 'UTF8')::json)
      AS j(k text, m text, ll text, att int2, coa inet, h cidr[], v4 inet, lt int4, reg float8, exp float8, st json, x boolean)
    ORDER BY l.lma_id, j.k, l.id DESC
  ), d AS (
    DELETE FROM bindings b USING e WHERE e.x AND b.lma_id = e.lma_id AND b.session_key = e.k
  ), ins AS (
    INSERT INTO bindings (lma_id, session_key, mn_id, mn_ll_id, att, proxy_coa, hnps, ipv4_hoa, lifetime_s, registered_at, expires_at, state, updated_at)
    SELECT e.lma_id, e.k, e.m, e.ll, e.att, e.coa, coalesce(e.h, '{}'), e.v4, e.lt, to_timestamp(e.reg / 1000.0), to_timestamp(e.exp / 1000.0), coalesce(e.st, '{}'), now()
    FROM e WHERE e.x IS NOT TRUE
    ON CONFLICT (lma_id, session_key) DO UPDATE SET mn_id = EXCLUDED.mn_id, mn_ll_id = EXCLUDED.mn_ll_id, att = EXCLUDED.att,
      proxy_coa = EXCLUDED.proxy_coa, hnps = EXCLUDED.hnps, ipv4_hoa = EXCLUDED.ipv4_hoa, lifetime_s = EXCLUDED.lifetime_s,
      registered_at = EXCLUDED.registered_at, expires_at = EXCLUDED.expires_at, state = EXCLUDED.state, updated_at = now()
  )
  SELECT count(*) INTO n FROM l;
  RETURN n;
END
$$`;

const TICK_US = 10_000; // USER_HZ 100
function cpuUs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * TICK_US;
}

function row(i: number): PersistedBinding {
  const now = Date.now();
  return {
    lmaId: 'lma-1', sessionKey: String(i), mnId: `st${i}@bench.example`, mnLlId: null, att: 4, proxyCoa: '127.0.0.2',
    hnps: [`2001:db8:${((i >>> 16) & 0xffff).toString(16)}:${(i & 0xffff).toString(16)}::/64`], ipv4HoA: null, lifetimeS: 900,
    registeredAt: new Date(now), expiresAt: new Date(now + 900_000),
    state: { v: 1, port: 5436, local: '127.0.0.1', carriage: 'udp4', hi: 1, ts: 123456789012, seq: 7, flags: 0, policyAt: now, refreshedAt: now },
  };
}

const BATCHES = Number(process.argv[2] ?? 400);
const B = 64;

async function main(): Promise<void> {
  const created = await createPgDatabase('pmip6_rows');
  const db = await openPostgres(created.url, { max: 1 });
  await migrate(db);
  const c = new pg.Client({ connectionString: created.url });
  await c.connect();
  const bpid = (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p as number;
  const qdb = { kind: 'postgres', query: (s: string, p?: unknown[]) => c.query({ text: s, values: p, name: undefined } as pg.QueryConfig).then((r) => ({ rows: r.rows, rowCount: r.rowCount ?? 0 })) };
  const repo = new BindingRepo(qdb as never);
  // The binding log of commit 6394c2f (migrations/010_binding_log.sql there), and its fold.
  await c.query(`CREATE TABLE binding_log (id bigint GENERATED ALWAYS AS IDENTITY, lma_id text NOT NULL, batch bytea NOT NULL) WITH (toast_tuple_target = 8160)`);
  await c.query(`ALTER TABLE binding_log ALTER COLUMN batch SET STORAGE EXTERNAL`);
  await c.query(FOLD_FN);
  await c.query(`CREATE TABLE slim (lma_id text NOT NULL, session_key bigint NOT NULL, mn_id text NOT NULL, data bytea NOT NULL, PRIMARY KEY (lma_id, session_key))`);
  await c.query(`CREATE TABLE slim_noidx (lma_id text NOT NULL, session_key bigint NOT NULL, data bytea NOT NULL)`);
  await c.query(`CREATE TABLE blog (id bigserial PRIMARY KEY, lma_id text NOT NULL, payload bytea NOT NULL) WITH (toast_tuple_target = 8160)`);
  await c.query(`ALTER TABLE blog ALTER COLUMN payload SET STORAGE EXTERNAL`);
  await c.query(`CREATE TABLE blog_toast (id bigserial PRIMARY KEY, lma_id text NOT NULL, payload bytea NOT NULL)`);
  let key = 1;
  const variants: [string, (rows: PersistedBinding[]) => Promise<unknown>][] = [
    ['INSERT..unnest into bindings (current)', (rows) => repo.commit('lma-1', rows, [], undefined, rows.length)],
    ['binding_log append, fold after (FOLD_ROWS 1e9)', (rows) => c.query({ name: 'app', text: `INSERT INTO binding_log (lma_id, batch) VALUES ($1, $2)`, values: ['lma-2', Buffer.from(JSON.stringify(rows.map((b) => ({ k: b.sessionKey, m: b.mnId, ll: b.mnLlId, att: b.att, coa: b.proxyCoa, h: b.hnps, v4: b.ipv4HoA, lt: b.lifetimeS, reg: b.registeredAt.getTime(), exp: b.expiresAt.getTime(), st: b.state }))))] })],
    ['COPY text into bindings', (rows) => copy(c, `COPY bindings (lma_id, session_key, mn_id, mn_ll_id, att, proxy_coa, hnps, ipv4_hoa, lifetime_s, registered_at, expires_at, state) FROM STDIN`, copyText(rows))],
    ['COPY binary into bindings', (rows) => copy(c, `COPY bindings (lma_id, session_key, mn_id, mn_ll_id, att, proxy_coa, hnps, ipv4_hoa, lifetime_s, registered_at, expires_at, state) FROM STDIN (FORMAT binary)`, copyBinary(rows))],
    ['INSERT..unnest slim (bigint key, bytea, PK+mn idx)', async (rows) => {
      await c.query({ name: 'slim', text: `INSERT INTO slim SELECT $1, k, m, d FROM ROWS FROM (unnest($2::int8[]), unnest($3::text[]), unnest($4::bytea[])) AS r(k, m, d)`, values: ['lma-1', rows.map((r) => r.sessionKey), rows.map((r) => r.mnId), rows.map((r) => Buffer.from(JSON.stringify(r)))] });
    }],
    ['INSERT..unnest slim, no index', async (rows) => {
      await c.query({ name: 'slimn', text: `INSERT INTO slim_noidx SELECT $1, k, d FROM ROWS FROM (unnest($2::int8[]), unnest($3::bytea[])) AS r(k, d)`, values: ['lma-1', rows.map((r) => r.sessionKey), rows.map((r) => Buffer.from(JSON.stringify(r)))] });
    }],
    ['log: one bytea row per batch (inline)', async (rows) => {
      await c.query({ name: 'blog', text: `INSERT INTO blog (lma_id, payload) VALUES ($1, $2)`, values: ['lma-1', Buffer.from(JSON.stringify(rows))] });
    }],
    ['log: one bytea row per batch (toast)', async (rows) => {
      await c.query({ name: 'blogt', text: `INSERT INTO blog_toast (lma_id, payload) VALUES ($1, $2)`, values: ['lma-1', Buffer.from(JSON.stringify(rows))] });
    }],
    ['empty statement (round trip + commit)', async () => {
      await c.query({ name: 'sel', text: `SELECT $1::int`, values: [1] });
    }],
    ['empty write tx (commit+flush)', async () => {
      await c.query({ name: 'ins1', text: `INSERT INTO blog (lma_id, payload) VALUES ($1, $2)`, values: ['lma-1', Buffer.alloc(1)] });
    }],
  ];
  const only = process.env.ONLY;
  for (const [name, fn] of variants) {
    if (only && !name.includes(only)) continue;
    for (let w = 0; w < 30; w++) await fn(Array.from({ length: B }, () => row(key++)));
    const sizes: number[] = [];
    const pg0 = cpuUs(bpid);
    const n0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < BATCHES; i++) {
      const rows = Array.from({ length: B }, () => row(key++));
      if (i === 0) sizes.push(Buffer.byteLength(JSON.stringify(rows)));
      await fn(rows);
    }
    const ms = performance.now() - t0;
    const pgUs = cpuUs(bpid) - pg0;
    const nu = process.cpuUsage(n0);
    if (name.includes('fold after')) {
      const f0 = cpuUs(bpid);
      const ft = performance.now();
      await c.query(`SELECT pmip6_fold_bindings(1000000)`);
      const fus = cpuUs(bpid) - f0;
      console.log(`${'  its fold, one statement'.padEnd(52)} PG CPU ${(fus / (BATCHES + 30) / B).toFixed(2).padStart(6)} µs/row  (${(performance.now() - ft).toFixed(0)} ms for ${(BATCHES + 30) * B} rows)`);
    }
    console.log(`${name.padEnd(52)} PG CPU ${(pgUs / BATCHES / B).toFixed(2).padStart(6)} µs/row  ${(pgUs / BATCHES).toFixed(0).padStart(5)} µs/batch   latency ${((ms * 1000) / BATCHES).toFixed(0).padStart(5)} µs/batch   node ${((nu.user + nu.system) / BATCHES).toFixed(0)} µs/batch (incl. row building)`);
  }
  await c.end();
  await db.close();
  await created.drop();
}
await main();
