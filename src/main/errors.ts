// Start-up problems a person can fix, as one line that names the problem and the setting to
// change (the CLI prints it without a stack trace and exits 2): a port in use or not
// permitted, an address not on this host, a data directory that cannot be written.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { envName } from '../config/index.ts';

export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

/** A configuration key and its environment variable: "api.port (PMIP6_API_PORT)". */
export const setting = (key: string): string => `${key} (${envName(key.split('.'))})`;

export interface Listener {
  /** What listens, for the message: "operator API", "LMA", "RADIUS server", "SNMP agent". */
  what: string;
  proto: 'TCP' | 'UDP';
  /** Port keys of this listener and their configured values. */
  ports: { key: string; port: number }[];
  /** The key of the address(es) it binds. */
  addressKey: string;
}

/**
 * The bind error of `l` as a StartupError naming the setting, or `e` itself when it is not
 * one (Node's bind errors carry code, address and port).
 */
export function bindFailure(e: unknown, l: Listener): unknown {
  const err = e as NodeJS.ErrnoException & { address?: string; port?: number };
  if (!err || typeof err !== 'object' || !['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL'].includes(err.code ?? '')) return e;
  const which = l.ports.find((p) => p.port === err.port) ?? l.ports[0];
  const port = err.port ?? which.port;
  const where = err.address ? ` on ${err.address}` : '';
  if (err.code === 'EADDRINUSE') {
    return new StartupError(`${l.what}: ${l.proto} port ${port}${where} is in use by another process; set ${setting(which.key)} to a free port, or stop the other process`, { cause: e });
  }
  if (err.code === 'EACCES') {
    return new StartupError(`${l.what}: no permission to bind ${l.proto} port ${port}${where} (ports below 1024 need root or CAP_NET_BIND_SERVICE); set ${setting(which.key)} to 1024 or above`, { cause: e });
  }
  return new StartupError(`${l.what}: address ${err.address ?? '?'} is not an address of this host; set ${setting(l.addressKey)}`, { cause: e });
}

/** Runs `start`, turning its bind errors into StartupErrors for `l`. */
export async function listening<T>(l: Listener, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (e) {
    throw bindFailure(e, l);
  }
}

/**
 * The data directory exists (created if needed) and this process can write to it: tried
 * with a real file, since permission bits do not tell for root or read-only mounts.
 */
export function checkDataDir(dir: string): void {
  const probe = join(dir, `.write-test-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const uid = process.getuid?.();
    throw new StartupError(`data directory ${resolve(dir)} is not writable (${err.code ?? err.message}${uid !== undefined ? ` for uid ${uid}` : ''}); set ${setting('dataDir')} to a directory this user can write`, { cause: e });
  }
}
