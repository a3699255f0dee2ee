-- PMIP6 Suite policy store, first schema. Forward-only; runs unchanged on PostgreSQL and PGlite.
-- Uniqueness of handed-out prefixes and addresses is enforced here, not only in code:
--   * hnp_assignments: one row per home network prefix, primary key on the prefix and an
--     exclusion constraint so no two assigned prefixes overlap (a /48 and a /64 inside it);
--   * pools: no two pools overlap;
--   * profiles.ipv4_hoa is unique; (pool, index) pairs are unique.

CREATE TABLE lmas (
  id            bigserial PRIMARY KEY,
  name          text NOT NULL UNIQUE,
  ipv6_address  inet UNIQUE CHECK (ipv6_address IS NULL OR (family(ipv6_address) = 6 AND masklen(ipv6_address) = 128)),
  ipv4_address  inet UNIQUE CHECK (ipv4_address IS NULL OR (family(ipv4_address) = 4 AND masklen(ipv4_address) = 32)),
  fqdn          text,
  lma_group     text,
  weight        integer NOT NULL DEFAULT 100 CHECK (weight BETWEEN 0 AND 65535),
  admin_state   text NOT NULL DEFAULT 'up' CHECK (admin_state IN ('up', 'down', 'drain')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (ipv6_address IS NOT NULL OR ipv4_address IS NOT NULL OR fqdn IS NOT NULL)
);
CREATE INDEX lmas_group_idx ON lmas (lma_group);

CREATE TABLE mags (
  id            text PRIMARY KEY,
  authorized    boolean NOT NULL DEFAULT true,
  description   text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- A Proxy-CoA belongs to exactly one MAG (the LMA authorises PBUs by their Proxy-CoA).
CREATE TABLE mag_proxy_coas (
  address       inet PRIMARY KEY CHECK (masklen(address) = CASE family(address) WHEN 4 THEN 32 ELSE 128 END),
  mag_id        text NOT NULL REFERENCES mags (id) ON DELETE CASCADE,
  position      smallint NOT NULL
);
CREATE INDEX mag_proxy_coas_mag_idx ON mag_proxy_coas (mag_id);

CREATE TABLE aaa_clients (
  id            bigserial PRIMARY KEY,
  kind          text NOT NULL CHECK (kind IN ('radius', 'diameter')),
  name          text,
  address       inet,
  secret        text,
  require_message_authenticator boolean NOT NULL DEFAULT true,
  identity      text,
  realm         text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'radius' AND address IS NOT NULL AND secret IS NOT NULL AND identity IS NULL)
      OR (kind = 'diameter' AND identity IS NOT NULL AND realm IS NOT NULL AND address IS NULL AND secret IS NULL))
);
CREATE UNIQUE INDEX aaa_clients_radius_address_uq ON aaa_clients (address) WHERE kind = 'radius';
CREATE UNIQUE INDEX aaa_clients_diameter_identity_uq ON aaa_clients (identity) WHERE kind = 'diameter';

-- Prefix pools (IPv6, assign_length e.g. 64) and address pools (IPv4, assign_length 32).
CREATE TABLE pools (
  id            bigserial PRIMARY KEY,
  name          text NOT NULL UNIQUE,
  family        smallint NOT NULL CHECK (family IN (4, 6)),
  prefix        cidr NOT NULL,
  assign_length smallint NOT NULL,
  ipv4_gateway  inet,
  next_index    bigint NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (family(prefix) = family),
  CHECK (assign_length >= masklen(prefix) AND assign_length <= CASE family WHEN 4 THEN 32 ELSE 128 END),
  CHECK (family = 6 OR assign_length = 32),
  EXCLUDE USING gist (prefix inet_ops WITH &&)
);

CREATE TABLE profiles (
  id                  bigserial PRIMARY KEY,
  mn_id               text NOT NULL UNIQUE CHECK (length(mn_id) BETWEEN 1 AND 253),
  mn_ll_ids           text[] NOT NULL DEFAULT '{}',
  hnp_pool_id         bigint REFERENCES pools (id),
  ipv4_hoa            inet UNIQUE CHECK (ipv4_hoa IS NULL OR (family(ipv4_hoa) = 4 AND masklen(ipv4_hoa) = 32)),
  ipv4_prefix_length  smallint CHECK (ipv4_prefix_length IS NULL OR ipv4_prefix_length BETWEEN 0 AND 32),
  ipv4_pool_id        bigint REFERENCES pools (id),
  ipv4_pool_index     bigint,
  ipv4_default_router inet,
  lma                 text,
  lma_group           text,
  service_selection   text,
  gre_key_policy      text NOT NULL DEFAULT 'none' CHECK (gre_key_policy IN ('none', 'optional', 'required')),
  dhcpv4_server       inet,
  dhcpv6_server       inet,
  mip6_feature_vector bigint NOT NULL DEFAULT 0,
  enabled             boolean NOT NULL DEFAULT true,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  UNIQUE (ipv4_pool_id, ipv4_pool_index)
);
CREATE INDEX profiles_lma_idx ON profiles (lma);
CREATE INDEX profiles_created_idx ON profiles (created_at, id);

-- Home network prefixes: fixed ones (pool_id NULL) and those drawn from a pool.
CREATE TABLE hnp_assignments (
  prefix        cidr PRIMARY KEY CHECK (family(prefix) = 6),
  profile_id    bigint NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
  pool_id       bigint REFERENCES pools (id),
  pool_index    bigint,
  position      smallint NOT NULL DEFAULT 0,
  UNIQUE (pool_id, pool_index),
  EXCLUDE USING gist (prefix inet_ops WITH &&)
);
CREATE INDEX hnp_assignments_profile_idx ON hnp_assignments (profile_id);

CREATE TABLE accounting (
  id              bigserial PRIMARY KEY,
  received_at     timestamptz NOT NULL DEFAULT now(),
  status_type     text NOT NULL,
  session_id      text,
  mn_id           text,
  nas_address     inet,
  nas_identifier  text,
  client_address  inet,
  session_time    bigint,
  input_octets    bigint,
  output_octets   bigint,
  input_packets   bigint,
  output_packets  bigint,
  terminate_cause integer,
  attributes      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX accounting_mn_idx ON accounting (mn_id, received_at);
CREATE INDEX accounting_session_idx ON accounting (session_id);

-- Bindings an LMA writes behind for restart recovery; one row per mobility session.
CREATE TABLE bindings (
  lma_id        text NOT NULL,
  session_key   text NOT NULL,
  mn_id         text NOT NULL,
  mn_ll_id      text,
  att           smallint,
  proxy_coa     inet NOT NULL,
  hnps          cidr[] NOT NULL DEFAULT '{}',
  ipv4_hoa      inet,
  lifetime_s    integer NOT NULL,
  registered_at timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL,
  state         jsonb NOT NULL DEFAULT '{}',
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (lma_id, session_key)
);
CREATE INDEX bindings_mn_idx ON bindings (mn_id);

-- Every operator change: who, what, before and after (secrets redacted by the writer).
CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,
  action      text NOT NULL,
  resource    text NOT NULL,
  resource_id text,
  before      jsonb,
  after       jsonb
);
CREATE INDEX audit_log_resource_idx ON audit_log (resource, resource_id);

-- Read-write SNMP objects (RFC 6475) that must survive restarts.
CREATE TABLE snmp_objects (
  oid         text PRIMARY KEY,
  value       jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
