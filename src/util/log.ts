// Structured logging (pino). One root logger per process; modules take children
// with a `component` field. Level from PMIP6_LOG_LEVEL (default "info"; tests use "silent").
import { pino, type Logger } from 'pino';

export type { Logger };

let root: Logger | undefined;

export function rootLogger(): Logger {
  root ??= pino({
    level: process.env.PMIP6_LOG_LEVEL ?? (process.env.NODE_TEST_CONTEXT ? 'silent' : 'info'),
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
