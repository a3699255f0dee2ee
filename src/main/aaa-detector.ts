// The attach detector as the MAG sees it when AAA names the MN. RFC 6572 §4.2: when the
// Accept carries a Mobile-Node-Identifier the MAG MUST use it in the PBU, so the attach is
// resolved over AAA first and reaches the MAG under that identity; detach events and presence
// checks are translated the same way. The resolved profile is handed to the MAG without a
// second request (RadiusMagPolicy.resolve, aaa-policy.ts).
import type { AttachDetachEvent, AttachDetector } from '../attach/types.ts';
import type { Logger } from '../util/log.ts';
import type { MagAaaClient, RadiusMagPolicy } from './aaa-policy.ts';

/** The attach detector as the MAG sees it: MNs under their AAA identity (RFC 6572 §4.2). */
export class AaaDetector implements AttachDetector {
  private handler: ((e: AttachDetachEvent) => void) | undefined;
  private readonly chains = new Map<string, Promise<void>>();
  isAttached?: (mnId: string, link: string) => boolean;

  constructor(
    private readonly inner: AttachDetector,
    private readonly policy: RadiusMagPolicy<MagAaaClient>,
    /** Whether the MAG already has a session of this key on this link (no AAA round trip then). */
    private readonly hasSession: (key: string, link: string) => boolean,
    private readonly log: Logger,
  ) {
    if (inner.isAttached) this.isAttached = (mnId, link) => inner.isAttached!(policy.naiOf(mnId), link);
  }

  onEvent(handler: (e: AttachDetachEvent) => void): void {
    this.handler = handler;
    this.inner.onEvent((e) => this.onInner(e));
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }

  /** Events of one NAI reach the MAG in their order, each attach after its AAA answer. */
  private onInner(e: AttachDetachEvent): void {
    const nai = e.mnId;
    const run = async (): Promise<void> => {
      let mnId = this.policy.keyOf(nai);
      if (e.kind === 'attach' && !this.hasSession(mnId, e.link)) mnId = await this.policy.resolve(nai, e.mnLinkLayerId);
      this.handler?.({ ...e, mnId });
    };
    const prev = this.chains.get(nai);
    const next = (prev ? prev.then(run) : run()).catch((err: unknown) => this.log.error({ mnId: nai, err: (err as Error)?.message }, 'attach event lost'));
    this.chains.set(nai, next);
    void next.then(() => {
      if (this.chains.get(nai) === next) this.chains.delete(nai);
    });
  }
}
