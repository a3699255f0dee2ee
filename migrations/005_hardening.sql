-- Hardening (issue 9): authorisation scope of MAGs and roles of RADIUS clients, and change
-- notifications for the MAG table and the RADIUS client table, which the LMA and the RADIUS
-- server hold in memory (src/store/peer-directory.ts) so that a packet from an unknown source
-- is refused without a database query. Runs on PostgreSQL and PGlite.

-- RFC 5213 §4: a MAG may be limited to MNs by realm, by list or by prefix.
-- NULL: every provisioned MN (the default for a new MAG, as the README says).
-- Otherwise {"realms": [...], "mnIds": [...], "prefixes": [...]}: an MN is in scope when one matches.
ALTER TABLE mags ADD COLUMN mn_scope jsonb;

-- RFC 6572 §6: Authorize-Only requests come from LMAs only. Existing clients are MAGs.
-- An LMA client names its own address in PMIP6-Home-LMA-IPv6/IPv4-Address: its RADIUS source
-- address, or one of lma_addresses (an LMA whose LMAA differs from the address it talks to AAA from).
ALTER TABLE aaa_clients ADD COLUMN role text NOT NULL DEFAULT 'mag' CHECK (role IN ('mag', 'lma'));
ALTER TABLE aaa_clients ADD COLUMN lma_addresses inet[] NOT NULL DEFAULT '{}';

-- pg_notify('pmip6_peer', 'mags' | 'aaa_clients') from the changing transaction (delivered at
-- commit; identical payloads of one transaction are delivered once). The readers reload the
-- whole (small) table.
CREATE FUNCTION pmip6_peer_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('pmip6_peer', TG_ARGV[0]);
  RETURN NULL;
END $$;

CREATE TRIGGER mags_peer_notify AFTER INSERT OR UPDATE OR DELETE ON mags
  FOR EACH STATEMENT EXECUTE FUNCTION pmip6_peer_notify('mags');
CREATE TRIGGER mags_peer_truncate_notify AFTER TRUNCATE ON mags
  FOR EACH STATEMENT EXECUTE FUNCTION pmip6_peer_notify('mags');
CREATE TRIGGER mag_proxy_coas_peer_notify AFTER INSERT OR UPDATE OR DELETE ON mag_proxy_coas
  FOR EACH STATEMENT EXECUTE FUNCTION pmip6_peer_notify('mags');
CREATE TRIGGER mag_proxy_coas_peer_truncate_notify AFTER TRUNCATE ON mag_proxy_coas
  FOR EACH STATEMENT EXECUTE FUNCTION pmip6_peer_notify('mags');
CREATE TRIGGER aaa_clients_peer_notify AFTER INSERT OR UPDATE OR DELETE ON aaa_clients
  FOR EACH STATEMENT EXECUTE FUNCTION pmip6_peer_notify('aaa_clients');
CREATE TRIGGER aaa_clients_peer_truncate_notify AFTER TRUNCATE ON aaa_clients
  FOR EACH STATEMENT EXECUTE FUNCTION pmip6_peer_notify('aaa_clients');
