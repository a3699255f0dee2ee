// MN-Identifier by link-layer address (RFC 5213 §6.9.1.1: the MAG identifies the MN; here by
// the profile's mnLinkLayerIds): an in-memory index filled from the profiles at start and
// on change, so the packet path never queries a database. Bounded: past `max` addresses new
// ones are refused (and counted), never an unbounded map.
export class LinkLayerDirectory {
  private readonly byMac = new Map<string, string>();
  private readonly byMn = new Map<string, string[]>();
  refused = 0;

  constructor(readonly max = 1_000_000) {}

  /** Colon hex, lower case: "02:00:5e:00:53:01". */
  static normalize(id: string): string {
    const hex = id.trim().toLowerCase().replace(/[:\-.]/g, '');
    return hex.match(/../g)?.join(':') ?? '';
  }

  /** Replaces the MN's addresses. False when some were refused (bound reached, or another MN owns one). */
  set(mnId: string, linkLayerIds: string[]): boolean {
    this.remove(mnId);
    const kept: string[] = [];
    let ok = true;
    for (const raw of linkLayerIds) {
      const mac = LinkLayerDirectory.normalize(raw);
      const owner = this.byMac.get(mac);
      if (!mac || (owner !== undefined && owner !== mnId) || this.byMac.size >= this.max) {
        ok = false;
        this.refused++;
        continue;
      }
      this.byMac.set(mac, mnId);
      kept.push(mac);
    }
    if (kept.length > 0) this.byMn.set(mnId, kept);
    return ok;
  }

  remove(mnId: string): void {
    for (const mac of this.byMn.get(mnId) ?? []) this.byMac.delete(mac);
    this.byMn.delete(mnId);
  }

  lookup(mac: string): string | null {
    return this.byMac.get(mac) ?? null;
  }

  get size(): number {
    return this.byMac.size;
  }
}
