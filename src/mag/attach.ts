// MN sessions on the MAG's access links (RFC 5213 §6.9.1.1, §6.9.1.4, §6.13): an attach
// creates a Binding Update List entry from the MN's policy profile and sends the first PBU,
// a repeated attach changes nothing (or registers again during a de-registration), a detach
// de-registers the session on that link. Runs inside Mag.serial(mnId); state changes go
// through the narrow AttachContext, which the Mag class implements (sm.ts).
import type { AttachEvent, DetachEvent } from '../attach/types.ts';
import type { Profile } from '../policy/profile.ts';
import type { Logger } from '../util/log.ts';
import { Bule, PbuKind } from './bul.ts';
import type { Bul } from './bul.ts';
import type { Heartbeats } from './heartbeat.ts';
import type { MagMetrics } from './metrics.ts';
import { BLOCK_PROXY } from './pba.ts';
import type { PbuSender } from './pbu.ts';
import { planSession } from './plan.ts';
import type { MagConfig, MagFailReason } from './types.ts';

/** What attach and detach handling needs of the MAG. */
export interface AttachContext {
  readonly config: MagConfig;
  readonly bul: Bul;
  /** MN-ID -> BLOCK_* bits (pba.ts). */
  readonly blocks: Map<string, number>;
  readonly metrics: MagMetrics;
  readonly log: Logger;
  readonly sender: PbuSender;
  readonly heartbeats: Heartbeats;
  /** The MN's profile from the policy source. */
  profileOf(mnId: string): Promise<Profile | null>;
  /** Deletes the BULE and its forwarding state, then reports. */
  removeSession(b: Bule, report: () => void): Promise<void>;
  deregisteredEvent(b: Bule, acked: boolean): void;
  failedEvent(mnId: string, link: string, lma: string | null, status: number | null, reason: MagFailReason): void;
}

/** An MN attached: resolves once its PBU is sent (or the attach was refused), not at the PBA. */
export function onAttach(m: AttachContext, ev: AttachEvent): void | Promise<void> {
  const existing = m.bul.get(ev.mnId, ev.link);
  if (existing) return reattach(m, existing, ev);
  if ((m.blocks.get(ev.mnId) ?? 0) & BLOCK_PROXY) {
    m.metrics.drop('blocked');
    m.failedEvent(ev.mnId, ev.link, null, 152, 'blocked');
    return;
  }
  return m.profileOf(ev.mnId).then(
    (p) => createSession(m, ev, p),
    (e: unknown) => {
      m.log.error({ mnId: ev.mnId, err: (e as Error)?.message }, 'policy lookup failed');
      m.failedEvent(ev.mnId, ev.link, null, null, 'policy-error');
    },
  );
}

function reattach(m: AttachContext, b: Bule, ev: AttachEvent): void {
  b.attached = true;
  if (ev.mnLinkLayerId) b.mnLinkLayerId = ev.mnLinkLayerId;
  if (b.state === 'deregistering') {
    // Back before the de-registration finished: register again (the LMA cancels a pending
    // BCE deletion on an accepted PBU with lifetime > 0, RFC 5213 §5.3.5).
    b.state = 'registering';
    b.handoffIndicator = ev.handoffIndicator ?? m.config.defaultHandoffIndicator;
    m.sender.startPbu(b, PbuKind.INITIAL, b.handoffIndicator);
  } else if (b.state === 'held') {
    m.metrics.drop('blocked');
  }
  // registering / registered / refreshing: a repeated attach indication changes nothing.
}

function createSession(m: AttachContext, ev: AttachEvent, p: Profile | null): void {
  const { mnId, link } = ev;
  const plan = planSession(m.config, m.blocks.get(mnId) ?? 0, p);
  if (!plan.ok) {
    m.metrics.drop(plan.drop);
    if (plan.error) m.log.error({ mnId, err: plan.error }, 'profile has an unusable HNP or IPv4 HoA');
    m.failedEvent(mnId, link, plan.lma, null, plan.reason);
    return;
  }
  const { lma } = plan;
  const hi = ev.handoffIndicator ?? m.config.defaultHandoffIndicator;
  const b = new Bule({
    mnId,
    link,
    mnLinkLayerId: ev.mnLinkLayerId ?? null,
    att: ev.accessTechType,
    lma,
    lmaPort: m.config.lmaPort,
    wantIpv6: plan.wantIpv6,
    hnps: plan.hnps,
    wantIpv4: plan.wantIpv4,
    ipv4HoA: plan.ipv4HoA,
    ipv4PrefixLen: plan.ipv4PrefixLen,
    handoffIndicator: hi,
    seq: (Math.random() * 0x10000) & 0xffff,
    statusRetries: m.config.maxStatusRetries,
  });
  const peer = m.heartbeats.peer(lma, m.config.lmaPort);
  if (plan.wantGre && peer.greSupported) m.sender.requestGre(b);
  m.bul.add(b);
  m.sender.startPbu(b, PbuKind.INITIAL, hi); // §6.9.1.1 item 11: the BULE exists from the first PBU
}

/** reregister.ts: a new session on the link of a replaced one, from the new profile. */
export function replaceSession(m: AttachContext, old: Bule, p: Profile): Promise<void> {
  const ev: AttachEvent = {
    kind: 'attach',
    mnId: old.mnId,
    link: old.link,
    mnLinkLayerId: old.mnLinkLayerId ?? undefined,
    accessTechType: old.att,
    handoffIndicator: old.handoffIndicator,
  };
  const attached = old.attached;
  // Our de-registration of the old binding goes first; its PBA then finds no entry (dropped as unmatched).
  m.sender.deregister(old);
  return m.removeSession(old, () => m.deregisteredEvent(old, false)).then(() => {
    createSession(m, ev, p);
    const b = m.bul.get(ev.mnId, ev.link);
    if (b) b.attached = attached;
  });
}

/** An MN left its access link: de-registers its session on that link (found by link, else by link-layer id). */
export function onDetach(m: AttachContext, ev: DetachEvent): void | Promise<void> {
  let b = m.bul.get(ev.mnId, ev.link);
  if (!b && ev.mnLinkLayerId) {
    for (let s = m.bul.head(ev.mnId); s; s = s.nextSession ?? undefined) {
      if (s.mnLinkLayerId === ev.mnLinkLayerId) b = s;
    }
  }
  if (!b) {
    m.metrics.drop('unknownMn');
    return;
  }
  return detachSession(m, b);
}

/** §6.9.1.4: de-register (a held entry, never registered, is just removed). */
export function detachSession(m: AttachContext, b: Bule): void | Promise<void> {
  b.attached = false;
  if (b.state === 'deregistering') return;
  if (b.state === 'held') return m.removeSession(b, () => m.deregisteredEvent(b, false));
  m.sender.deregister(b);
}
