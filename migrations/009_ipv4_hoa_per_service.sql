-- An IPv4 home address is unique within a service (RFC 5149 Service Selection), not across
-- services: an LMA with a routing context per service (dataplane.contexts) serves the same
-- private IPv4 address to one MN of each, their traffic told apart by GRE keys (RFC 5845 §1).
-- Profiles without a service share one address space, as before.
ALTER TABLE profiles DROP CONSTRAINT profiles_ipv4_hoa_key;
CREATE UNIQUE INDEX profiles_ipv4_hoa_service_uq ON profiles (ipv4_hoa, coalesce(service_selection, '')) WHERE ipv4_hoa IS NOT NULL;
