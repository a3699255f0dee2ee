// Re-registration after a policy change (RFC 5176 CoA carrying an RFC 6572 profile, relayed
// by main/; the MAG's profile comes from its policy source, RFC 5213 §6.2). Per session of
// the MN on this MAG:
// - the profile is gone, disabled or unusable: de-register (RFC 5213 §6.9.1.4);
// - the LMA, the requested HNPs and IPv4 HoA are unchanged: a re-registration PBU (HI 5, as a
//   refresh, §6.9.1.3) on the live binding, which keeps it and its forwarding state;
// - otherwise: a PBU cannot move a binding to another LMA or change its prefixes in place
//   (§5.4.1.1: a different prefix set is status 158 or a new session), so the old binding is
//   de-registered and a new session registers with the new profile on the same link.
// Runs inside Mag.serial(mnId).
import { HandoffIndicator } from '../mh/index.ts';
import type { Bule } from './bul.ts';
import { PbuKind } from './bul.ts';
import { planSession, type SessionPlan } from './plan.ts';
import type { Mag } from './sm.ts';

/** Sessions of the MN acted on (0: none here); policyError: the profile could not be read, nothing changed. */
export interface ReRegisterResult {
  sessions: number;
  policyError: boolean;
}

export async function reRegisterSessions(mag: Mag, mnId: string): Promise<ReRegisterResult> {
  const sessions: Bule[] = [];
  for (let b = mag.bul.head(mnId); b; b = b.nextSession ?? undefined) if (b.state !== 'deregistering') sessions.push(b);
  if (sessions.length === 0) return { sessions: 0, policyError: false };
  let p;
  try {
    p = await mag.profileOf(mnId);
  } catch (e) {
    mag.log.error({ mnId, err: (e as Error)?.message }, 'policy lookup for re-registration failed; bindings unchanged');
    return { sessions: sessions.length, policyError: true };
  }
  const plan = planSession(mag.config, mag.blocks.get(mnId) ?? 0, p);
  for (const b of sessions) {
    if (!mag.alive(b)) continue;
    if (!plan.ok || !p) {
      mag.log.info({ mnId, link: b.link, reason: plan.ok ? 'not-eligible' : plan.reason }, 'profile withdrawn; de-registering');
      if (b.state === 'held') await mag.removeSession(b, () => mag.deregisteredEvent(b, false));
      else mag.sender.deregister(b);
      continue;
    }
    if (sameRequest(b, plan)) {
      // Held sessions wait for adminReset; an initial registration in flight already asks for this.
      if (b.state !== 'registered' && b.state !== 'refreshing') continue;
      mag.log.info({ mnId, link: b.link, lma: b.lma }, 'profile changed; re-registering');
      b.state = 'refreshing';
      mag.sender.startPbu(b, PbuKind.REFRESH, HandoffIndicator.NOT_CHANGED);
    } else {
      mag.log.info({ mnId, link: b.link, lma: b.lma, newLma: plan.lma, hnps: plan.hnps, ipv4HoA: plan.ipv4HoA }, 'profile changed the anchor or addresses; replacing the binding');
      await mag.replaceSession(b, p);
    }
  }
  return { sessions: sessions.length, policyError: false };
}

/** Would a new session ask the LMA for what this one holds? ALL_ZERO requests match whatever the LMA assigned. */
function sameRequest(b: Bule, plan: SessionPlan & { ok: true }): boolean {
  if (b.lma !== plan.lma || b.wantIpv6 !== plan.wantIpv6 || b.wantIpv4 !== plan.wantIpv4) return false;
  if (plan.wantIpv6 && plan.hnps.length > 0) {
    if (plan.hnps.length !== b.hnps.length || !plan.hnps.every((h) => b.hnps.includes(h))) return false;
  }
  if (plan.wantIpv4 && plan.ipv4HoA !== null && plan.ipv4HoA !== b.ipv4HoA) return false;
  return true;
}
