// The data directory holds the embedded database, the secret key, the API token and saved
// SNMP settings: private to the user running the suite. PGlite creates its files 0666 (minus
// the umask), so the process narrows its umask at start and every file already in the folder
// loses its group and other bits.
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Files created from now on by this process are private (umask 077). */
export function privateUmask(): void {
  process.umask(0o077);
}

/** Creates `dir` 0700 when missing and takes group/other access from it and everything inside. */
export function makePrivate(dir: string): number {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return narrow(dir);
}

function narrow(path: string): number {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return 0;
  let n = 0;
  if ((st.mode & 0o077) !== 0) {
    chmodSync(path, st.mode & 0o700);
    n++;
  }
  if (st.isDirectory()) for (const e of readdirSync(path)) n += narrow(join(path, e));
  return n;
}
