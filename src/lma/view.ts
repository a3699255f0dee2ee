// Read-only view of the binding cache for the API's `bindings` resource: lookup by
// session key, listing with a filter (MN-ID, Proxy-CoA) and offset/limit pagination in
// session-key order, and counts. Records are snapshots (BindingInfo), built on demand.
import type { BindingCache } from './bce.ts';
import { bindingInfo } from './persist.ts';
import type { BindingInfo } from './types.ts';

export interface BindingListQuery {
  mnId?: string;
  proxyCoa?: string;
  /** Default 50, at most 1000. */
  limit?: number;
  offset?: number;
}

export class BindingsView {
  constructor(private readonly cache: BindingCache) {}

  get size(): number {
    return this.cache.size;
  }

  get(sessionKey: string): BindingInfo | undefined {
    const id = Number(sessionKey);
    if (!Number.isSafeInteger(id)) return undefined;
    const b = this.cache.get(id);
    return b ? bindingInfo(b) : undefined;
  }

  /** Every binding of one MN (one per attached interface, RFC 5213 §5.4). */
  ofMobileNode(mnId: string): BindingInfo[] {
    return this.cache.ofMn(mnId).map(bindingInfo);
  }

  /** Bindings in session-key order, filtered, paginated; `total` counts every match. */
  list(q: BindingListQuery = {}): { items: BindingInfo[]; total: number } {
    const limit = Math.max(0, Math.min(q.limit ?? 50, 1000));
    const offset = Math.max(0, q.offset ?? 0);
    if (q.mnId !== undefined) {
      let all = [...this.cache.ofMn(q.mnId)].sort((a, b) => a.id - b.id);
      if (q.proxyCoa !== undefined) all = all.filter((b) => b.peer.address === q.proxyCoa);
      return { items: all.slice(offset, offset + limit).map(bindingInfo), total: all.length };
    }
    const items: BindingInfo[] = [];
    let total = 0;
    // The cache's id index lists in id order, which is session-key order.
    for (const b of this.cache.byId.values()) {
      if (q.proxyCoa !== undefined && b.peer.address !== q.proxyCoa) continue;
      if (total >= offset && items.length < limit) items.push(bindingInfo(b));
      total++;
      if (q.proxyCoa === undefined && items.length >= limit) {
        total = this.cache.size;
        break;
      }
    }
    return { items, total };
  }

  /** Bindings with a session key greater than `after` (all when omitted), in order. */
  *from(after?: string): IterableIterator<BindingInfo> {
    const min = after === undefined ? 0 : Number(after);
    if (Number.isNaN(min)) return;
    // Starts at `after` in the id index (no walk over the bindings before it).
    for (const b of this.cache.byId.values(min)) yield bindingInfo(b);
  }
}
