-- Group commit (src/lma/commit.ts) writes every new or changed binding before its PBA goes
-- out, so writing a row is on the registration path. `state` is a document only the LMA reads
-- back (src/lma/persist.ts): json (kept as text) costs less to write than jsonb (parsed into
-- its binary form on every insert), and nothing queries inside it.
ALTER TABLE bindings ALTER COLUMN state DROP DEFAULT;
ALTER TABLE bindings ALTER COLUMN state TYPE json USING state::json;
ALTER TABLE bindings ALTER COLUMN state SET DEFAULT '{}'::json;
