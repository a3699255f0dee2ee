// One process at a time may open an embedded (PGlite) data folder: a second opener would
// corrupt it. The lock file names its owner: PID, the process's start time (field 22 of
// /proc/<pid>/stat, clock ticks since boot) and the boot ID. A lock is stale, and taken over
// at once, when its owner is gone: no such process, a zombie (killed, not yet reaped by its
// parent), a process with that PID that started at another time (the PID was reused), or a
// lock from before the last reboot. Where /proc is missing, a signal-0 probe decides.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export class DataDirBusyError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`the embedded store in ${dir} is in use by process ${pid} (a running "pmip6 start"?); stop it, or point this command at the API or at PostgreSQL (DATABASE_URL)`);
    this.name = 'DataDirBusyError';
  }
}

export interface LockOwner {
  pid: number;
  /** Start time from /proc/<pid>/stat (clock ticks since boot), when known. */
  start?: string;
  /** /proc/sys/kernel/random/boot_id, when known. */
  boot?: string;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** State and start time of a process from /proc, or null when /proc has no such process. */
export function procStat(pid: number): { state: string; start: string } | null {
  const s = read(`/proc/${pid}/stat`);
  if (s === null) return null;
  // "pid (comm) state ..." where comm may contain spaces and parentheses: split after the last ')'.
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
  return { state: rest[0], start: rest[19] };
}

const bootId = (): string | undefined => read('/proc/sys/kernel/random/boot_id')?.trim() || undefined;

export function currentOwner(): LockOwner {
  return { pid: process.pid, start: procStat(process.pid)?.start, boot: bootId() };
}

/** Parses a lock file: JSON, or a bare PID (older versions). */
export function parseOwner(text: string): LockOwner | null {
  const t = text.trim();
  if (/^\d+$/.test(t)) return { pid: Number(t) };
  try {
    const o = JSON.parse(t) as Partial<LockOwner>;
    return typeof o.pid === 'number' && o.pid > 0 ? { pid: o.pid, start: o.start, boot: o.boot } : null;
  } catch {
    return null;
  }
}

function signalProbe(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the process that wrote `o` is still running (not a zombie, not a reused PID). */
export function ownerAlive(o: LockOwner): boolean {
  if (o.pid === process.pid) return false; // our own stale lock (or a second open in this process, refused elsewhere)
  const here = bootId();
  if (o.boot && here && o.boot !== here) return false; // written before the last reboot
  if (read('/proc/self/stat') === null) return signalProbe(o.pid); // no /proc: best effort
  const st = procStat(o.pid);
  if (st === null) return false;
  if (st.state === 'Z' || st.state === 'X') return false; // killed, waiting to be reaped
  if (o.start !== undefined && o.start !== st.start) return false; // the PID now belongs to another process
  return true;
}

/** The PID of the live process holding the lock on `dir`, if any (nothing is changed). */
export function lockHolder(dir: string): number | undefined {
  const text = read(join(dir, 'pmip6.lock'));
  const owner = text === null ? null : parseOwner(text);
  return owner && ownerAlive(owner) ? owner.pid : undefined;
}

/** Takes the lock; returns its release function. */
export function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'pmip6.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, JSON.stringify(currentOwner()));
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        rmSync(file, { force: true });
      };
      process.once('exit', release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const text = read(file);
      if (text === null) continue; // removed meanwhile: try again
      const owner = parseOwner(text);
      if (owner && ownerAlive(owner)) throw new DataDirBusyError(dir, owner.pid);
      rmSync(file, { force: true }); // stale: its owner is gone (or the file is unreadable garbage)
    }
  }
  throw new Error(`could not lock ${dir}`);
}
