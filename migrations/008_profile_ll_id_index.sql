-- RADIUS requests that name the MN only by its link-layer address (Calling-Station-Id, RFC 6572
-- §4.2 / RFC 3580 §3.20) are matched against profiles.mn_ll_ids with `@>`; without an index that
-- is a sequential scan of every profile per request. A GIN index answers it in O(log n).
CREATE INDEX IF NOT EXISTS profiles_mn_ll_ids_gin ON profiles USING gin (mn_ll_ids);
