// Small persistent values kept as files in dataDir (restart counters): survive restarts
// of the process, also when the policy store is a shared PostgreSQL.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function fileCounterStore(file: string): { load(): Promise<number | null>; save(v: number): Promise<void> } {
  return {
    async load() {
      try {
        const n = Number(readFileSync(file, 'utf8').trim());
        return Number.isSafeInteger(n) && n >= 0 ? n : null;
      } catch {
        return null;
      }
    },
    async save(v) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(`${file}.tmp`, `${v}\n`);
      renameSync(`${file}.tmp`, file);
    },
  };
}
