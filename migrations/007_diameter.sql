-- Diameter peers (aaa_clients of kind 'diameter', RFC 6733 §5.3): who may claim a provisioned
-- identity. A CER's Origin-Host is admitted when the connection comes from one of
-- allowed_addresses (addresses or prefixes), or over TLS with a certificate that chains to the
-- server's CA and is the one whose SHA-256 fingerprint is tls_fingerprint (lowercase hex) or,
-- with no fingerprint set, names the identity (subjectAltName DNS or CN).
ALTER TABLE aaa_clients ADD COLUMN allowed_addresses cidr[] NOT NULL DEFAULT '{}';
ALTER TABLE aaa_clients ADD COLUMN tls_fingerprint text CHECK (tls_fingerprint IS NULL OR tls_fingerprint ~ '^[0-9a-f]{64}$');
ALTER TABLE aaa_clients ADD CONSTRAINT aaa_clients_diameter_only_ck
  CHECK (kind = 'diameter' OR (allowed_addresses = '{}' AND tls_fingerprint IS NULL));
