// The LMA's local binding journal (src/lma BindingJournal port): batches the binding store
// could not take during a database outage, appended to a file in dataDir and flushed to disk
// (fdatasync) before the PBAs that depend on them go out. One JSON line per batch; a line
// torn by a crash belongs to a batch that was never acknowledged and is ignored. The file is
// rewritten from its coalesced content when it grows large (a long outage with refreshes),
// and emptied once the store has taken it.
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open, readFile, rename, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PersistedBinding } from './repos/bindings.ts';

interface RowJson extends Omit<PersistedBinding, 'registeredAt' | 'expiresAt'> {
  registeredAt: number;
  expiresAt: number;
}

interface Line {
  u: RowJson[];
  r: string[];
}

const toJson = (b: PersistedBinding): RowJson => ({ ...b, registeredAt: b.registeredAt.getTime(), expiresAt: b.expiresAt.getTime() });
const fromJson = (r: RowJson): PersistedBinding => ({ ...r, registeredAt: new Date(r.registeredAt), expiresAt: new Date(r.expiresAt) });

function syncDir(path: string): void {
  const fd = openSync(dirname(path), 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class FileBindingJournal {
  private fh: FileHandle | null = null;
  private bytes = 0;
  /** Size at which the next compaction is considered. */
  private nextCompactAt: number;
  /** Coalesced content (for compaction). */
  private readonly rows = new Map<string, PersistedBinding | null>();

  /** `compactAt`: rewrite the file when it exceeds this size and 4x its coalesced content. */
  constructor(
    readonly path: string,
    private readonly compactAt = 32 << 20,
  ) {
    this.nextCompactAt = compactAt;
  }

  async load(): Promise<Map<string, PersistedBinding | null>> {
    let text = '';
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    this.rows.clear();
    for (const line of text.split('\n')) {
      if (line === '') continue;
      let l: Line;
      try {
        l = JSON.parse(line) as Line;
      } catch {
        continue; // torn by a crash mid-append: never acknowledged
      }
      for (const u of l.u ?? []) this.rows.set(u.sessionKey, fromJson(u));
      for (const k of l.r ?? []) this.rows.set(k, null);
    }
    this.bytes = Buffer.byteLength(text);
    return new Map(this.rows);
  }

  async append(upserts: readonly PersistedBinding[], removals: readonly string[]): Promise<void> {
    if (upserts.length === 0 && removals.length === 0) return;
    const line = `${JSON.stringify({ u: upserts.map(toJson), r: [...removals] } satisfies Line)}\n`;
    const fh = await this.handle();
    await fh.appendFile(line, 'utf8');
    await fh.datasync();
    this.bytes += Buffer.byteLength(line);
    for (const u of upserts) this.rows.set(u.sessionKey, u);
    for (const k of removals) this.rows.set(k, null);
    if (this.bytes > this.nextCompactAt) await this.compact();
  }

  async clear(): Promise<void> {
    const fh = await this.handle();
    await fh.truncate(0);
    await fh.datasync();
    this.bytes = 0;
    this.nextCompactAt = this.compactAt;
    this.rows.clear();
  }

  async close(): Promise<void> {
    await this.fh?.close();
    this.fh = null;
  }

  private async handle(): Promise<FileHandle> {
    if (this.fh) return this.fh;
    const fresh = await stat(this.path).then(() => false, () => true);
    this.fh = await open(this.path, 'a', 0o600);
    if (fresh) syncDir(this.path); // the new file's directory entry survives a crash too
    return this.fh;
  }

  /** Rewrites the file as one line of its coalesced content (write, fsync, rename, fsync the directory). */
  private async compact(): Promise<void> {
    const u: RowJson[] = [];
    const r: string[] = [];
    for (const [k, v] of this.rows) {
      if (v === null) r.push(k);
      else u.push(toJson(v));
    }
    const text = `${JSON.stringify({ u, r } satisfies Line)}\n`;
    // Considered again only after the file doubled: no O(rows) work on every append.
    this.nextCompactAt = Math.max(this.compactAt, 2 * Math.max(this.bytes, Buffer.byteLength(text)));
    if (Buffer.byteLength(text) * 4 > this.bytes) return; // mostly distinct rows: nothing to gain
    const tmp = `${this.path}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await this.fh?.close();
    this.fh = null;
    await rename(tmp, this.path);
    syncDir(this.path);
    this.bytes = Buffer.byteLength(text);
    this.nextCompactAt = Math.max(this.compactAt, 2 * this.bytes);
  }
}
