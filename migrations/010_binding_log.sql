-- Binding log (issue 12): the LMA's group commit (src/lma/commit.ts) appends each batch of
-- new or changed bindings as ONE row here instead of one `bindings` row per binding. Measured
-- (bench/lma-store-rows.ts, PostgreSQL 15, 64-binding batches): the backend spent ~17-21 µs
-- of CPU per binding on INSERT .. unnest into `bindings` (heap + two text b-trees + parsing
-- inet / cidr[] / json per row), ~12 µs with COPY binary, ~4-5 µs per binding as one bytea row
-- per batch; the durable acknowledgement waits for that statement, so its cost is latency of
-- every PBA. The log is folded into `bindings` in the background, many batches per statement
-- (pmip6_fold_bindings below, called by src/store/repos/bindings.ts), and before every read
-- of `bindings` (restart recovery, operator API), so nothing acknowledged is ever missing.
--
-- `batch`: UTF-8 JSON array of the batch's rows (src/store/repos/bindings.ts logBatch): kept
-- as bytea so the append parses nothing; the fold parses it once. Session keys are unique
-- within a batch; across batches the highest id wins (a batch that changes a binding starts
-- only once the previous one holding it committed, so ids follow commit order per binding).
-- Stored inline, uncompressed (toast_tuple_target near the page size, STORAGE EXTERNAL): a
-- 64-binding batch fits one page without a TOAST table round.
CREATE TABLE binding_log (
  id     bigint GENERATED ALWAYS AS IDENTITY,
  lma_id text NOT NULL,
  batch  bytea NOT NULL
) WITH (toast_tuple_target = 8160);
ALTER TABLE binding_log ALTER COLUMN batch SET STORAGE EXTERNAL;

-- Moves up to max_batches of the oldest log rows into `bindings` (returns how many) in one transaction: each
-- binding's newest entry is applied (x = true: its row is deleted). Folds are serialised by an
-- advisory lock taken before the statement's snapshot, so a later fold never lands first.
CREATE FUNCTION pmip6_fold_bindings(max_batches integer) RETURNS integer LANGUAGE plpgsql AS $$
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
$$;
