-- Accounting as the RADIUS server records it (RFC 2866, RFC 6572 §7): an idempotency key
-- so a NAS retransmission after the duplicate cache expired is stored once, and what
-- RFC 5176 needs to find an MN's open sessions (the NAS address and session identifiers).
ALTER TABLE accounting ADD COLUMN record_key text;
ALTER TABLE accounting ADD COLUMN user_name text;
ALTER TABLE accounting ADD COLUMN multi_session_id text;
ALTER TABLE accounting ADD COLUMN client_name text;
CREATE UNIQUE INDEX accounting_record_key_uq ON accounting (record_key);
CREATE INDEX accounting_client_idx ON accounting (client_address, id);
