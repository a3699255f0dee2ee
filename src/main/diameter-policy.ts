// The Diameter server's policy (src/diameter/policy.ts) on the policy store: peers from
// aaa_clients of kind diameter, held in memory and re-read at most every `peerTtlMs` (a CER
// from an unknown host costs no query of its own; a change to the peers takes effect within that
// time); profiles from the profile directory (src/store/profile-directory.ts), the one the RADIUS
// server and the LMA use; LMA authorisation in the store (lma-authorization.ts).
import type { Store } from '../store/index.ts';
import { ProfileDirectory } from '../store/profile-directory.ts';
import type { DiameterLmaRequest, DiameterPeer, DiameterPolicy } from '../diameter/index.ts';
import type { LmaAuthorizationResult, RadiusProfile } from '../radius/index.ts';
import { authorizeLmaInStore } from './lma-authorization.ts';

export interface StoreDiameterPolicyOptions {
  directory?: ProfileDirectory;
  /** How long the peer list is used before it is read again (default 5 s). */
  peerTtlMs?: number;
  now?: () => number;
}

export class StoreDiameterPolicy implements DiameterPolicy {
  readonly directory: ProfileDirectory;
  private peers = new Map<string, DiameterPeer>();
  private loadedAt = -Infinity;
  private loading: Promise<void> | null = null;
  private readonly ttl: number;
  private readonly now: () => number;

  constructor(private readonly store: Store, o: StoreDiameterPolicyOptions = {}) {
    this.directory = o.directory ?? new ProfileDirectory(store, { mode: 'off' });
    this.ttl = o.peerTtlMs ?? 5000;
    this.now = o.now ?? Date.now;
  }

  private async load(): Promise<void> {
    const rows = await this.store.aaaClients.diameterPeers();
    const next = new Map<string, DiameterPeer>();
    for (const r of rows) {
      if (!r.identity || !r.realm) continue;
      next.set(r.identity.toLowerCase(), {
        identity: r.identity,
        realm: r.realm,
        name: r.name ?? r.identity,
        addresses: r.allowedAddresses,
        certificateFingerprint: r.tlsFingerprint,
        role: r.role,
        lmaAddresses: r.lmaAddresses,
      });
    }
    this.peers = next;
    this.loadedAt = this.now();
  }

  /** Drop the peer list now (the next CER reads it again). */
  invalidatePeers(): void {
    this.loadedAt = -Infinity;
  }

  findPeer(identity: string): DiameterPeer | null | Promise<DiameterPeer | null> {
    const key = identity.toLowerCase();
    if (this.now() - this.loadedAt < this.ttl) return this.peers.get(key) ?? null;
    // One read for every CER that arrives meanwhile.
    this.loading ??= this.load().finally(() => {
      this.loading = null;
    });
    return this.loading.then(() => this.peers.get(key) ?? null);
  }

  findProfile(mnId: string): Promise<RadiusProfile | null> {
    return this.directory.find(mnId);
  }

  peekProfile(mnId: string): RadiusProfile | null | undefined {
    return this.directory.peek(mnId);
  }

  invalidate(mnId: string): void {
    this.directory.invalidate(mnId);
  }

  async authorizeLma(req: DiameterLmaRequest): Promise<LmaAuthorizationResult> {
    const r = await authorizeLmaInStore(this.store, req, `diameter:${req.peer}`);
    if (r.changed) this.invalidate(req.mnId);
    return r.result;
  }
}
