// Applying an accepted PBU to the binding cache (RFC 5213 §5.3.2 - §5.3.5 with RFC 5844
// §3.1.2.2 - §3.1.2.5 and RFC 5845 §3.3, §5.2), the MaxDelayBeforeNewBCEAssign wait
// (§5.4.1.2 (4), §5.4.1.3 (3)) and the PBA for each outcome (§5.3.6); de-registration is
// deregister.ts.
// Every function here runs inside the MN's serialised job (context.ts Serializer).
import { timestampToMs } from '../mh/index.ts';
import { BaStatus, BuFlag, secondsToLifetime } from '../mh/index.ts';
import type { TimerHandle } from '../util/clock.ts';
import { buildPba } from './build.ts';
import type { PbaDecision } from './build.ts';
import type { HnpOption } from '../mh/index.ts';
import { Bce, F } from './bce.ts';
import type { MagPeer } from './bce.ts';
import type { LmaContext } from './context.ts';
import { commitTrace } from './commit-trace.ts';
import { Forwarding } from './forwarding.ts';
import { POLICY_BITS } from './pbu.ts';
import { deregister } from './deregister.ts';
import {
  applyGre,
  assignHnps,
  assignV4,
  contextOf,
  decideGre,
  forcedUdpRefused,
  grantedSeconds,
  linkLocal,
  removeTakenOver,
} from './assign.ts';
import type { V4Assignment } from './assign.ts';
import type { PbuJob, Policy } from './pbu.ts';

/** Returned when the decision needs the full profile but only a BCE's policy snapshot was at hand. */
export const NEED_PROFILE = Symbol('need-profile');
export type Outcome = void | Promise<void> | typeof NEED_PROFILE;

/** A PBU waiting for the previous MAG's de-registration (RFC 5213 §5.4.1.2 (4)). */
export interface Parked {
  job: PbuJob;
  pol: Policy;
  bce: Bce;
  timer: TimerHandle;
}

/** What apply needs beyond the shared context. */
export interface ApplyContext extends LmaContext {
  readonly parked: Map<string, Parked>;
  /** RFC 5846 §8.1: BRI "Inter-MAG Handover - Unknown" to the MAG holding `b`. */
  revokeForHandoff(b: Bce): void;
  /** Write-behind of a BCE whose state changed without an event (de-registration accepted ...). */
  persist(b: Bce): void;
  /** RFC 5845: a fresh uplink GRE key. */
  newUplinkKey(b: Bce): number;
  /** RFC 5213 §5.3.6: a link-local address for the MAG on the MN's link. */
  newLinkLocal(b: Bce): Uint8Array;
  /** Re-run a PBU that needs the full profile (after a snapshot proved insufficient). */
  refetch(j: PbuJob, then: (pol: Policy) => Outcome): void | Promise<void>;
}

/* ---------------------------------------------------------------- replies */

/** Sends the PBA (RFC 5213 §5.3.6), unless it is an acceptance nobody asked for (A = 0, RFC 6275 §10.3.1). */
export function reply(ctx: LmaContext, j: PbuJob, d: PbaDecision, seq?: number): void {
  if (d.status < 128 && (j.v.flags & BuFlag.A) === 0) {
    ctx.counters.pbuIgnored['no-ack-requested']++;
    return;
  }
  ctx.counters.pbaByStatus[d.status]++;
  const view = seq === undefined ? j.v : { ...j.v, seq };
  ctx.send(j.t, buildPba(view, d, j.optKeys), j.replyTo, j.replyFrom, 'pba');
}

export function reject(ctx: LmaContext, j: PbuJob, status: number, more?: Partial<PbaDecision>, seq?: number): void {
  if (ctx.log.isLevelEnabled('debug')) {
    ctx.log.debug({ mnId: j.mnId, proxyCoa: j.coa, status, seq: j.v.seq, timestampMs: j.v.timestamp === undefined ? undefined : timestampToMs(j.v.timestamp), arrivedAt: j.at, hi: j.v.hi }, 'PBU rejected');
  }
  reply(ctx, j, { status, lifetime: 0, ...more }, seq);
}

function accepted(b: Bce, status: number, lifetime: number, lla: Uint8Array | undefined): PbaDecision {
  return {
    status,
    lifetime,
    hnps: b.hnpList(),
    v4: b.v4 !== 0 ? { addr: b.v4 >>> 0, prefixLen: b.v4Len, router: b.v4Router >>> 0 } : null,
    lla,
    greKey: b.flags & F.GRE ? (b.flags & F.GRE_KEYS ? b.greUp >>> 0 : null) : undefined,
    udpEncap: (b.flags & F.UDP_ENCAP) !== 0 && (b.flags & F.GRE) === 0,
  };
}

/* ---------------------------------------------------------------- new session */

/**
 * applyNew's sessions to take over, one set for every call (one allocation less per initial
 * registration, issue 12): filled and read within one synchronous call, emptied before use.
 */
const TAKEOVER = new Set<Bce>();

/** RFC 5213 §5.3.2 with RFC 5844 §3.1.2.2 and RFC 5845 §3.3.1. */
export function applyNew(ctx: ApplyContext, j: PbuJob, pol: Policy): Outcome {
  if (pol.snapshot || !pol.profile) return NEED_PROFILE;
  const p = pol.profile;
  if (forcedUdpRefused(ctx, j)) return reject(ctx, j, BaStatus.ADMINISTRATIVELY_PROHIBITED);
  const takeover = TAKEOVER;
  if (takeover.size > 0) takeover.clear(); // left by a refused PBU (clear() allocates: not when empty)
  let hnps: string[] = [];
  let hnpOpts: HnpOption[] | undefined;
  if (j.v.hnpOpts.length > 0) {
    const a = assignHnps(ctx, j, p, null, takeover);
    if (a.reject !== undefined) return reject(ctx, j, a.reject);
    hnps = a.hnps;
    hnpOpts = a.opts;
  }
  let v4: V4Assignment | undefined;
  if (j.v.v4Reqs.length > 0) {
    v4 = assignV4(ctx, j, p, null, takeover);
    if (v4.reject !== undefined) return reject(ctx, j, v4.reject);
  }
  const g = decideGre(pol.bits, j);
  if (g.reject !== undefined) return reject(ctx, j, g.reject);

  // Commit: the index changes now (synchronously), forwarding follows.
  let removals = NO_REMOVALS;
  if (takeover.size > 0) {
    removals = removeTakenOver(ctx, new Set(takeover));
    takeover.clear();
  }
  const now = ctx.clock.now();
  const peer = ctx.peerFor(j.coaKey, j.coa, j.port, j.local, j.carriage, j.t);
  // The profile's copy of the identifier (equal to the PBU's): one string per MN in memory.
  const b = new Bce(ctx.cache.allocId(), p.mnId === j.mnId ? p.mnId : j.mnId, j.llId, j.v.att ?? 0, peer);
  b.hi = j.v.hi ?? 0;
  b.ts = j.tsNum;
  b.seq = j.v.seq;
  const secs = grantedSeconds(ctx, j);
  b.lifetime = secs;
  b.registeredAt = b.refreshedAt = now;
  b.expiresAt = now + secs * 1000;
  b.policyAt = pol.askedAt ?? now;
  b.flags = pol.bits & POLICY_BITS;
  if (j.carriage === 'udp4' && j.v.flags & BuFlag.F) b.flags |= F.UDP_ENCAP;
  applyGre(ctx, b, g);
  if (hnps.length > 0) b.hnps = hnps.length === 1 ? hnps[0] : hnps;
  b.ctx = contextOf(ctx, p);
  if (v4) {
    b.v4 = v4.addr;
    b.v4Len = v4.len;
    b.v4Router = v4.router;
  }
  const lla = linkLocal(ctx, j, b);
  ctx.cache.add(b);
  ctx.schedule(b, b.expiresAt);
  ctx.counters.reg.initial++;
  const d = accepted(b, g.status, secondsToLifetime(secs), lla);
  if (hnpOpts) d.hnpOpts = hnpOpts;
  return finishNew(ctx, j, b, removals, d);
}

async function finishNew(ctx: ApplyContext, j: PbuJob, b: Bce, removals: Promise<void>[], d: PbaDecision): Promise<void> {
  if (removals.length > 0) await Promise.all(removals);
  try {
    await ctx.fwd.install(b);
  } catch (e) {
    ctx.log.error({ err: e, mnId: b.mnId, proxyCoa: b.peer.address }, 'forwarding set-up failed, session refused');
    ctx.cache.remove(b);
    ctx.cache.maybeForgetPeer(b.peer);
    await ctx.fwd.uninstall(b);
    reject(ctx, j, BaStatus.INSUFFICIENT_RESOURCES);
    return;
  }
  ctx.changed(b, 'created');
  // RFC 5213 §5.3.6: the PBA promises the binding; it goes out once the binding is durable.
  if (!(await ctx.durable(b))) return notDurable(ctx, j);
  reply(ctx, j, d);
  commitTrace?.pbuToPba.push(Date.now() - j.at);
}

/** The commit failed (store and journal): no PBA; the MAG retransmits and the retry waits again (F.UNSYNCED). */
function notDurable(ctx: ApplyContext, j: PbuJob): void {
  ctx.counters.persist.waitFailures++;
  if (ctx.log.isLevelEnabled('debug')) ctx.log.debug({ mnId: j.mnId, proxyCoa: j.coa }, 'binding not durable; PBA withheld');
}

/** A refresh of a binding whose earlier change is not durable yet: the PBA waits for it too. */
async function replyWhenDurable(ctx: ApplyContext, j: PbuJob, b: Bce, d: PbaDecision): Promise<void> {
  if (!(await ctx.durable(b))) return notDurable(ctx, j);
  reply(ctx, j, d);
}

/* ---------------------------------------------------------------- existing session */

/** RFC 5213 §5.3.1 step 13 for an existing session: §5.3.5, §5.3.3 or §5.3.4. */
export function applyUpdate(ctx: ApplyContext, j: PbuJob, pol: Policy, b: Bce): Outcome {
  if (j.v.lifetime === 0) return deregister(ctx, j, b);
  const req4 = j.v.v4Reqs[0];
  const handoff = b.peer.key !== j.coaKey;
  // RFC 5844 §3.1.2.1 last bullet: adding IPv4 (or IPv6) to a session is an initial registration for it.
  const needV4 = req4 !== undefined && (b.v4 === 0 || (req4.addr !== 0 && (req4.addr | 0) !== b.v4));
  const needV6 = j.v.hnpOpts.length > 0 && j.hnpKeys.length === 0 && b.hnpCount() === 0;
  if ((needV4 || needV6) && (pol.snapshot || !pol.profile)) return NEED_PROFILE;
  if (forcedUdpRefused(ctx, j)) return reject(ctx, j, BaStatus.ADMINISTRATIVELY_PROHIBITED);
  const g = decideGre(pol.bits, j);
  if (g.reject !== undefined) return reject(ctx, j, g.reject);

  // Only an assignment can take prefixes or addresses over: a plain refresh allocates no set.
  const takeover = needV4 || needV6 ? new Set<Bce>() : undefined;
  let hnps = b.hnpList();
  let v4 = b.v4;
  let v4Len = b.v4Len;
  let v4Router = b.v4Router;
  let v4Ctx = b.ctx;
  if (needV6) {
    const a = assignHnps(ctx, j, pol.profile!, b, takeover!);
    if (a.reject !== undefined) return reject(ctx, j, a.reject);
    hnps = a.hnps;
  }
  if (needV4) {
    const a = assignV4(ctx, j, pol.profile!, b, takeover!);
    if (a.reject !== undefined) return reject(ctx, j, a.reject);
    v4 = a.addr;
    v4Len = a.len;
    v4Router = a.router;
    v4Ctx = a.ctx;
  }
  if (handoff) {
    // RFC 5844 §3.1.2.4: a handoff PBU without HNPs (without an IPv4 request) keeps only the other family.
    if (j.v.hnpOpts.length === 0 && hnps.length > 0) hnps = [];
    if (req4 === undefined) v4 = 0;
  }

  // What changes in the forwarding state?
  const wasDereg = (b.flags & F.DEREG) !== 0;
  const tunnelFlags = b.flags & (F.GRE | F.GRE_KEYS | F.UDP_ENCAP);
  const greDown = b.greDown;
  const prevPeer = b.peer;
  const routesChange = needV4 || needV6 || hnps.length !== b.hnpCount() || v4 !== b.v4 || v4Ctx !== b.ctx;
  const oldRoutes = routesChange || handoff || wasDereg ? Forwarding.routesOf(b) : NO_ROUTES;

  // Commit.
  const removals = takeover ? removeTakenOver(ctx, takeover) : NO_REMOVALS;
  const now = ctx.clock.now();
  const peer = ctx.peerFor(j.coaKey, j.coa, j.port, j.local, j.carriage, j.t); // also refreshes the signalling address
  if (handoff) ctx.cache.setPeer(b, peer);
  ctx.cache.setLinkLayer(b, j.v.att ?? b.att, j.llId);
  if (routesChange) {
    ctx.cache.setHnps(b, hnps);
    ctx.cache.setIpv4(b, v4, v4Ctx);
    b.v4Len = v4 !== 0 ? v4Len : 0;
    b.v4Router = v4 !== 0 ? v4Router : 0;
  }
  b.hi = j.v.hi ?? 0;
  if (j.v.timestamp !== undefined) b.ts = j.afterWait && j.tsNum < b.ts ? b.ts : j.tsNum;
  else b.ts = 0;
  b.seq = j.v.seq;
  const secs = grantedSeconds(ctx, j);
  // What a restored binding would live until if this refresh were lost (known once nothing of it waits to be written).
  const until = ctx.written(b) ? b.expiresAt : -Infinity;
  b.lifetime = secs;
  b.refreshedAt = now;
  b.expiresAt = now + secs * 1000;
  b.flags &= ~(F.DEREG | F.REVOKING | F.PEER_RESTARTED | F.UDP_ENCAP);
  if (j.carriage === 'udp4' && j.v.flags & BuFlag.F) b.flags |= F.UDP_ENCAP;
  if (!pol.snapshot) {
    b.flags = (b.flags & ~POLICY_BITS) | (pol.bits & POLICY_BITS);
    b.policyAt = pol.askedAt ?? now;
  }
  applyGre(ctx, b, g);
  const lla = linkLocal(ctx, j, b);
  ctx.schedule(b, b.expiresAt);
  const d = accepted(b, g.status, secondsToLifetime(secs), lla);
  const tunnelChange = tunnelFlags !== (b.flags & (F.GRE | F.GRE_KEYS | F.UDP_ENCAP)) || greDown !== b.greDown;
  if (handoff) ctx.counters.reg.extensionAfterHandoff++;
  else ctx.counters.reg.extensionNoHandoff++;

  if (removals.length === 0 && !handoff && !wasDereg && !tunnelChange && !routesChange && (b.flags & F.FWD) !== 0) {
    // §5.3.3 fast path: nothing to do in the data plane; the new lifetime is written lazily,
    // unless the store does not hold the binding's state so far or that state ends within
    // lazyRefreshMarginMs: lost in a crash, the refresh must leave a restored binding alive
    // until its MAG, told of the restart (RFC 5847 §3.2), re-registers.
    ctx.changed(b, 'refreshed');
    if (b.flags & F.UNSYNCED || until - now < ctx.cfg.lazyRefreshMarginMs) return replyWhenDurable(ctx, j, b, d);
    reply(ctx, j, d);
    return;
  }
  return finishUpdate(ctx, j, b, d, removals, handoff ? prevPeer : null, handoff || wasDereg || tunnelChange || (b.flags & F.FWD) === 0, oldRoutes);
}

const NO_ROUTES: string[] = [];
/** Never added to: a refresh that took nothing over. */
const NO_REMOVALS: Promise<void>[] = [];

async function finishUpdate(
  ctx: ApplyContext,
  j: PbuJob,
  b: Bce,
  d: PbaDecision,
  removals: Promise<void>[],
  prevPeer: MagPeer | null,
  rebuild: boolean,
  oldRoutes: string[],
): Promise<void> {
  if (removals.length > 0) await Promise.all(removals);
  try {
    if (rebuild) {
      // §5.3.4 (2)-(4): the old routes and the old tunnel go, then the new ones come.
      await ctx.fwd.uninstall(b, oldRoutes);
      await ctx.fwd.install(b);
    } else {
      const newRoutes = Forwarding.routesOf(b);
      await ctx.fwd.removeRoutes(b, oldRoutes.filter((r) => !newRoutes.includes(r)));
      await ctx.fwd.addRoutes(b, newRoutes.filter((r) => !oldRoutes.includes(r)));
    }
  } catch (e) {
    ctx.log.error({ err: e, mnId: b.mnId, proxyCoa: b.peer.address }, 'forwarding update failed, session removed');
    await ctx.removeBce(b, 'deregistered', 'forwarding-failed');
    reject(ctx, j, BaStatus.INSUFFICIENT_RESOURCES);
    return;
  }
  if (prevPeer) {
    ctx.changed(b, 'handed-off', { previousProxyCoa: prevPeer.address });
    ctx.cache.maybeForgetPeer(prevPeer);
  } else {
    ctx.changed(b, 'refreshed');
  }
  // A changed binding (new MAG, prefixes, tunnel, or back from de-registration): durable before the PBA.
  if (!(await ctx.durable(b))) return notDurable(ctx, j);
  reply(ctx, j, d);
}

/* ---------------------------------------------------------------- waiting (HI = 4) */

/** RFC 5213 §5.4.1.2 (4) / §5.4.1.3 (3): hold the PBU until the old MAG lets go or MaxDelayBeforeNewBCEAssign passes. */
export function park(ctx: ApplyContext, j: PbuJob, pol: Policy, b: Bce): void {
  const ex = ctx.parked.get(j.mnId);
  if (ex) {
    // A retransmission (or a newer PBU) from the new MAG: answer the latest one; the timer keeps running.
    ctx.counters.pbuIgnored['replaced-while-waiting']++;
    ex.job = j;
    ex.pol = pol;
    ex.bce = b;
    return;
  }
  const mnId = j.mnId;
  const timer = ctx.clock.setTimer(ctx.cfg.maxDelayBeforeNewBceAssignMs, () => {
    ctx.serial.run(mnId, () => resumeParked(ctx, mnId, 'timeout'));
  });
  ctx.parked.set(mnId, { job: j, pol, bce: b, timer });
  if (ctx.log.isLevelEnabled('debug')) ctx.log.debug({ mnId, proxyCoa: j.coa, bceProxyCoa: b.peer.address }, 'handoff state unknown: waiting for the previous MAG');
  if (ctx.cfg.revokeOnUnknownHandoff && !(b.flags & (F.DEREG | F.REVOKING))) ctx.revokeForHandoff(b);
}

/** Called when `b` is released; resumes a PBU parked on it. Runs inside the MN's job. */
export function releaseWaiting(ctx: ApplyContext, b: Bce, how: 'deregistered' | 'removed' | 'still-attached'): void | Promise<void> {
  const p = ctx.parked.get(b.mnId);
  if (!p || p.bce !== b) return;
  return resumeParked(ctx, b.mnId, how);
}

export function resumeParked(ctx: ApplyContext, mnId: string, how: 'deregistered' | 'removed' | 'still-attached' | 'timeout'): void | Promise<void> {
  const p = ctx.parked.get(mnId);
  if (!p) return;
  ctx.parked.delete(mnId);
  p.timer.cancel();
  const j = p.job;
  j.afterWait = true;
  const live = ctx.cache.has(p.bce);
  const run = (pol: Policy): Outcome =>
    how === 'deregistered' && live ? applyUpdate(ctx, j, pol, p.bce) : applyNew(ctx, j, pol);
  const r = run(p.pol);
  if (r === NEED_PROFILE) return ctx.refetch(j, run);
  return r;
}
