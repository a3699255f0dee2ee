// Structured logging (pino). One root logger per process; modules take children
// with a `component` field. Level from PMIP6_LOG_LEVEL (default "info"; tests use "silent").
import { pino, type Logger } from 'pino';

export type { Logger };

let root: Logger | undefined;

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export function rootLogger(): Logger {
  // A level that is not one (PMIP6_LOG_LEVEL=verbose) is reported by the configuration check
  // (logLevel); until then, log at info rather than fail here.
  const env = process.env.PMIP6_LOG_LEVEL;
  root ??= pino({
    level: env && LEVELS.has(env) ? env : process.env.NODE_TEST_CONTEXT ? 'silent' : 'info',
    base: { pid: process.pid },
    redact: { paths: ['token', 'secret', '*.token', '*.secret', 'req.headers.authorization'], censor: '[redacted]' },
  });
  return root;
}

export function logger(component: string): Logger {
  return rootLogger().child({ component });
}

/** Replace the root logger (tests that capture log lines). */
export function setRootLogger(l: Logger): void {
  root = l;
}
