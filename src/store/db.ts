// The `Db` interface over PostgreSQL (`pg`) and embedded PGlite (docs/ARCHITECTURE.md
// "Dependencies"): one small surface so repositories and migrations run unchanged on both.
// int8 is parsed to bigint on both; callers convert counts with Number().

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

/** Something that runs parameterised SQL: the database itself or one open transaction. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
  /** Several statements without parameters (migration files). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs fn in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;
  /**
   * One `COPY table (...) FROM STDIN` statement with `data` as its whole input (text format
   * unless the statement says otherwise); resolves to the rows copied. PostgreSQL only.
   */
  copyFrom?(sql: string, data: Buffer): Promise<number>;
  close(): Promise<void>;
  /**
   * LISTEN on a channel of this very session, when the driver can (PGlite: one session, so
   * NOTIFY from this process arrives before the committing statement resolves). PostgreSQL
   * has none here: a pool hands out many sessions; listen on a dedicated connection
   * (src/store/notifications.ts). Resolves to a function that stops listening.
   */
  listen?(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
}

/** The database could not be reached (connection refused, terminated, shutting down). */
export class DbUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`database unavailable: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'DbUnavailableError';
  }
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);

/** True when an error means "the database is not there" rather than "the query is wrong". */
export function isUnavailable(e: unknown): boolean {
  if (e instanceof DbUnavailableError) return true;
  const err = e as { code?: string; message?: string };
  if (err?.code && UNAVAILABLE_CODES.has(err.code)) return true;
  const m = err?.message ?? '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|Cannot use a pool after calling end|PGlite is closed/i.test(m);
}

/** A promise-chain mutex: PGlite is one session, so queries and transactions take turns. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
