// Typed errors the repositories raise; the API maps them to HTTP statuses
// (NotFound 404, Conflict 409, Invalid 400/422, DbUnavailable 503).
export { DbUnavailableError } from './db.ts';

export class NotFoundError extends Error {
  constructor(
    readonly resource: string,
    readonly key: string,
  ) {
    super(`${resource} ${JSON.stringify(key)} not found`);
    this.name = 'NotFoundError';
  }
}

/** A uniqueness or overlap rule would be broken; `field` names the offending input field. */
export class ConflictError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** The input is well-formed but not acceptable (unknown pool, exhausted pool, bad reference). */
export class InvalidError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidError';
  }
}

interface PgError {
  code?: string;
  constraint?: string;
  detail?: string;
  message?: string;
}

/** Constraint name -> API field, for the messages of unique / exclusion violations. */
const CONSTRAINT_FIELDS: Record<string, string> = {
  profiles_mn_id_key: 'mnId',
  profiles_ipv4_hoa_key: 'ipv4HoA',
  profiles_ipv4_hoa_service_uq: 'ipv4HoA',
  profiles_ipv4_pool_id_ipv4_pool_index_key: 'ipv4HoA',
  hnp_assignments_pkey: 'hnps',
  hnp_assignments_prefix_excl: 'hnps',
  hnp_assignments_pool_id_pool_index_key: 'hnps',
  pools_name_key: 'name',
  pools_prefix_excl: 'prefix',
  lmas_name_key: 'name',
  lmas_ipv6_address_key: 'ipv6Address',
  lmas_ipv4_address_key: 'ipv4Address',
  mags_pkey: 'id',
  mag_proxy_coas_pkey: 'proxyCoa',
  aaa_clients_radius_address_uq: 'address',
  aaa_clients_diameter_identity_uq: 'identity',
};

/** Turns PostgreSQL constraint errors into ConflictError / InvalidError; others pass through. */
export function translatePgError(e: unknown): unknown {
  const err = e as PgError;
  const field = (err.constraint && CONSTRAINT_FIELDS[err.constraint]) ?? err.constraint ?? 'unknown';
  switch (err.code) {
    case '23505':
      return new ConflictError(field, `${field} already in use${err.detail ? ` (${err.detail})` : ''}`);
    case '23P01':
      return new ConflictError(field, `${field} overlaps an existing one${err.detail ? ` (${err.detail})` : ''}`);
    case '23503':
      return new InvalidError(field, `${field} refers to something that does not exist or is still referenced`);
    case '23514':
      return new InvalidError(field, `${field} violates rule ${err.constraint}`);
    case '22P02':
    case '22023':
      return new InvalidError(field, err.message ?? 'invalid value');
    default:
      return e;
  }
}
