// At start, PostgreSQL may not answer yet (a container still starting, a database still
// being created): ask again with backoff until it does or the time is up. Errors that
// waiting cannot cure (wrong password, no such role) end the wait at once.
import type { Db } from './db.ts';
import { DbUnavailableError, isUnavailable } from './db.ts';
import { withoutPassword } from '../util/redact.ts';

/** Codes worth waiting through: 3D000 database does not exist (yet), 57P03 cannot connect now, DNS not resolving yet. */
const RETRY_CODES = new Set(['3D000', '57P03', 'EAI_AGAIN', 'ENOTFOUND']);

export class DatabaseUnreachableError extends Error {
  constructor(
    /** The URL without its password. */
    readonly url: string,
    readonly waitedMs: number,
    /** True when waiting longer would not help (authentication, no such role). */
    readonly final: boolean,
    cause: unknown,
  ) {
    const c = cause as Error & { cause?: Error };
    const why = c instanceof DbUnavailableError && c.cause ? c.cause.message : (c?.message ?? String(cause));
    super(`database ${url}: ${why}${final ? '' : ` (still so after retrying for ${(waitedMs / 1000).toFixed(1)} s)`}`, { cause });
    this.name = 'DatabaseUnreachableError';
  }

  /** The PostgreSQL or system error code of the last attempt (3D000, ECONNREFUSED, 28P01, ...). */
  get code(): string | undefined {
    const c = this.cause as { code?: string; cause?: { code?: string } } | undefined;
    return c?.code ?? c?.cause?.code;
  }
}

/** Resolves once `db` answers; rejects with DatabaseUnreachableError after `timeoutMs`. */
export async function waitForDatabase(db: Db, url: string, timeoutMs: number, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<void> {
  const t0 = Date.now();
  let delay = 100;
  for (;;) {
    try {
      await db.ping();
      return;
    } catch (e) {
      const c = (e as { cause?: { code?: string } }).cause;
      const code = (e as { code?: string }).code ?? c?.code;
      const retry = isUnavailable(e) || RETRY_CODES.has(code ?? '');
      const waited = Date.now() - t0;
      if (!retry || waited + delay > timeoutMs) throw new DatabaseUnreachableError(withoutPassword(url), Math.max(waited, timeoutMs), !retry, e);
      await sleep(delay);
      delay = Math.min(delay * 2, 2000);
    }
  }
}
