// Structured logging (pino). One root logger per process; modules take children
// with a `component` field. Level from PMIP6_LOG_LEVEL (default "info"; tests use "silent").
import { pino, type Logger } from 'pino';

export type { Logger };

let root: Logger | undefined;
let toStderr = false;
/** Log lines go to standard output, or to standard error for commands whose output is data (simulate). */
const out = { write: (line: string): boolean => (toStderr ? process.stderr : process.stdout).write(line) };

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export function rootLogger(): Logger {
  // A level that is not one (PMIP6_LOG_LEVEL=verbose) is reported by the configuration check
  // (logLevel); until then, log at info rather than fail here.
  const env = process.env.PMIP6_LOG_LEVEL;
  root ??= pino(
    {
      level: env && LEVELS.has(env) ? env : process.env.NODE_TEST_CONTEXT ? 'silent' : 'info',
      base: { pid: process.pid },
      redact: { paths: ['token', 'secret', '*.token', '*.secret', '*.secrets', 'req.headers.authorization'], censor: '[redacted]' },
    },
    out,
  );
  return root;
}

/** From now on, log lines go to standard error (standard output carries a command's result). */
export function logToStderr(): void {
  toStderr = true;
}

/** Component loggers handed out so far: a level set later (setLogLevel) reaches them too. */
const children: Logger[] = [];

export function logger(component: string): Logger {
  const l = rootLogger().child({ component });
  if (children.length < 10_000) children.push(l);
  return l;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * The configured level (logLevel from the config file, or PMIP6_LOG_LEVEL) for the root and
 * every component logger already made. Pino children copy their level when created.
 */
export function setLogLevel(level: LogLevel): void {
  const root = rootLogger();
  if (root.level === level) return;
  root.level = level;
  for (const c of children) c.level = level;
}

/** Replace the root logger (tests that capture log lines). */
export function setRootLogger(l: Logger): void {
  root = l;
}
