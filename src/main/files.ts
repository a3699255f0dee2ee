// Small persistent values kept as files in dataDir (restart counters): survive restarts
// of the process, also when the policy store is a shared PostgreSQL.
//
// RFC 5847 §3.2: "This counter MUST be treated as state that is preserved across reboots."
// The file holds "<counter> running" while a run is going and "<counter> stopped" after a
// clean stop; it is replaced atomically (write, fsync, rename, fsync the directory), so a
// crash leaves the old or the new content, never a torn one.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RestartCounterState, RestartCounterStore } from '../lma/types.ts';

function writeDurably(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

export function fileCounterStore(file: string): RestartCounterStore {
  return {
    async load() {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
      const [n, state] = text.trim().split(/\s+/);
      const counter = Number(n);
      if (!Number.isSafeInteger(counter) || counter < 0) return null;
      // A bare number: written before the stop marker existed; nothing says the stop was unclean.
      return { counter, cleanStop: state === undefined || state === 'stopped' } satisfies RestartCounterState;
    },
    async save(s) {
      writeDurably(file, `${s.counter} ${s.cleanStop ? 'stopped' : 'running'}\n`);
    },
  };
}
