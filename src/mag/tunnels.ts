// Dynamic MAG-LMA tunnels shared by every MN with the same endpoints (RFC 5213 §5.6.1,
// applied to the MAG by §6.10.4): created with the first binding, deleted with the last.
// Data-plane calls for one tunnel are chained so an "ensure" for a new MN can never race
// the "remove" of the MN that was its last user.
import type { DataPlane, TunnelId, TunnelSpec } from '../dataplane/types.ts';

interface Entry {
  refs: number;
  id: TunnelId | null;
  /** Tail of the chain of data-plane operations on this tunnel. */
  op: Promise<void>;
}

export function tunnelKey(s: TunnelSpec): string {
  return `${s.encap}|${s.local}|${s.remote}|${s.greKeyIn ?? ''}|${s.greKeyOut ?? ''}`;
}

export class TunnelTable {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly dp: DataPlane) {}

  /** Takes a reference on the tunnel for `spec`, creating it if needed; resolves to its id. */
  async acquire(key: string, spec: TunnelSpec): Promise<TunnelId> {
    let e = this.entries.get(key);
    if (!e) this.entries.set(key, (e = { refs: 0, id: null, op: Promise.resolve() }));
    e.refs++;
    const entry = e;
    const step = entry.op.then(async () => {
      if (entry.id === null) entry.id = await this.dp.ensureTunnel(spec);
    });
    entry.op = step.catch(() => undefined);
    try {
      await step;
    } catch (err) {
      entry.refs--;
      this.forgetIfUnused(key, entry);
      throw err;
    }
    return entry.id as TunnelId;
  }

  /** Drops a reference; the last one removes the tunnel. */
  async release(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.refs--;
    if (entry.refs > 0) return;
    const step = entry.op.then(async () => {
      if (entry.refs === 0 && entry.id !== null) {
        const id = entry.id;
        entry.id = null;
        await this.dp.removeTunnel(id);
      }
    });
    entry.op = step.catch(() => undefined);
    try {
      await step;
    } finally {
      this.forgetIfUnused(key, entry);
    }
  }

  private forgetIfUnused(key: string, entry: Entry): void {
    // Forget the entry only when nobody holds it and no operation is queued behind ours.
    if (entry.refs === 0 && this.entries.get(key) === entry) {
      const tail = entry.op;
      void tail.then(() => {
        if (entry.refs === 0 && entry.op === tail && entry.id === null && this.entries.get(key) === entry) {
          this.entries.delete(key);
        }
      });
    }
  }

  size(): number {
    return this.entries.size;
  }
}
