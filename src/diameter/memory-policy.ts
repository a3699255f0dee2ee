// In-memory DiameterPolicy for tests and the bench: peers in a map, profiles and LMA
// authorisation from MemoryRadiusPolicy (the same semantics as the store's).
import { MemoryRadiusPolicy } from '../radius/memory-policy.ts';
import type { LmaAuthorizationResult } from '../radius/policy.ts';
import type { RadiusProfile } from '../radius/rfc6572.ts';
import type { DiameterLmaRequest, DiameterPeer, DiameterPolicy } from './policy.ts';

export class MemoryDiameterPolicy implements DiameterPolicy {
  readonly peers = new Map<string, DiameterPeer>();
  /** Profiles, pools and the recorded LMA per MN. */
  readonly store = new MemoryRadiusPolicy();

  addPeer(p: Partial<DiameterPeer> & { identity: string }): this {
    this.peers.set(p.identity.toLowerCase(), {
      realm: p.identity.split('.').slice(1).join('.') || p.identity,
      name: p.identity,
      addresses: ['127.0.0.0/8', '::1/128'],
      certificateFingerprint: null,
      role: 'mag',
      lmaAddresses: [],
      ...p,
    });
    return this;
  }

  addProfile(p: RadiusProfile): this {
    this.store.addProfile(p);
    return this;
  }

  findPeer(identity: string): DiameterPeer | null {
    return this.peers.get(identity.toLowerCase()) ?? null;
  }

  findProfile(mnId: string): Promise<RadiusProfile | null> {
    return this.store.findProfile(mnId);
  }

  peekProfile(mnId: string): RadiusProfile | null | undefined {
    if (this.store.failNext > 0) return undefined;
    return this.store.profiles.get(mnId) ?? null;
  }

  authorizeLma(req: DiameterLmaRequest): Promise<LmaAuthorizationResult> {
    return this.store.authorizeLma({
      ...req,
      nasIdentifier: null,
      client: { address: '', secret: 'memory', requireMessageAuthenticator: true, name: req.peer },
    });
  }
}
