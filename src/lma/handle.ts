// Proxy Binding Update processing (RFC 5213 §5.3.1): every check in the normative order,
// each with its PBA status, then the BCE lookup (§5.4.1) and the state change (apply.ts).
//
//   4 MN-ID missing -> 160 | 5-6 MAG not authorised -> 154 | 7 unknown MN (or an unusable
//   MN-ID) -> 153 |
//   8 not enabled -> 152 | 9 ordering (§5.5): 156 / 157, or 135 | 10 no HNP and no IPv4
//   HoA Request -> 158 | 11 no HI -> 161 | 12 no ATT -> 162 | RFC 5844 §3.1.2.1: 172, 170,
//   173 | 13 lookup: 155 / 159, new / update / de-register / wait | 14 PBA per §5.3.6.
//
// The policy source is asked once per PBU unless a BCE of this MN at the same MAG holds a
// fresh policy snapshot (re-registrations never touch the database; see snapshotServes).
import { BaStatus, timestampToMs } from '../mh/index.ts';
import { F } from './bce.ts';
import type { Bce } from './bce.ts';
import { applyNew, applyUpdate, NEED_PROFILE, park, reject } from './apply.ts';
import type { ApplyContext, Outcome } from './apply.ts';
import { lookupBce } from './lookup.ts';
import { inScope, judgeSender } from './sender.ts';
import type { Lookup, LookupKey } from './lookup.ts';
import { POLICY_BITS, policyFromProfile, policyFromSnapshot } from './pbu.ts';
import type { PbuJob, Policy } from './pbu.ts';
import type { Profile } from '../policy/profile.ts';
import type { PolicyAnswer } from './types.ts';

/** Entry point for a decoded PBU. */
export function handlePbu(ctx: ApplyContext, j: PbuJob): void {
  // Step 4: no MN-ID -> 160, with a zero-length identifier in the PBA (build.ts).
  if (!j.v.mnIdOpt) {
    reject(ctx, j, BaStatus.MISSING_MN_IDENTIFIER_OPTION);
    return;
  }
  // Steps 5-6 from memory, before any per-MN queue or policy query (sender.ts).
  const who = judgeSender(ctx.mags, { address: j.replyTo.address, carriage: j.carriage }, j.altCoa, j.mnId);
  if (!who.ok) {
    ctx.counters.refused[who.cause]++;
    if (ctx.refusals.take(ctx.clock.now())) reject(ctx, j, BaStatus.MAG_NOT_AUTHORIZED_FOR_PROXY_REG);
    else ctx.counters.dropped['refusal-rate-limited']++;
    return;
  }
  j.mag = who.mag;
  // Step 7 at the edge: an MN-ID no profile can carry (NUL, control or bidirectional control
  // characters, broken UTF-8; src/policy/identifier.ts) names no MN this LMA anchors: 153,
  // answered here, never looked up (one such key must not fail a batched profile query).
  if (j.mnIdBad) {
    ctx.counters.badMnIds++;
    reject(ctx, j, BaStatus.NOT_LMA_FOR_THIS_MOBILE_NODE);
    return;
  }
  const q = ctx.serial.tryRun(j.mnId, () => processPbu(ctx, j));
  if (q === 'key-full') ctx.counters.dropped['mn-queue-full']++;
  else if (q === 'keys-full') ctx.counters.dropped['mn-queues-full']++;
}

function processPbu(ctx: ApplyContext, j: PbuJob): void | Promise<void> {
  // The MN's entry, looked up once: everything below up to the state change runs in this turn.
  const mine = ctx.cache.mnEntry(j.mnId);
  const snap = mine !== undefined ? freshSnapshot(ctx, j, mine) : undefined;
  if (snap) {
    const r = decide(ctx, j, snap, mine);
    if (r !== NEED_PROFILE) return r;
  }
  return askThenDecide(ctx, j, mine);
}

/** The policy source's answer, then steps 5-14 (a function of its own: no closure on the snapshot path). */
function askThenDecide(ctx: ApplyContext, j: PbuJob, mine: Bce | Bce[] | undefined): void | Promise<void> {
  // A policy answered from memory continues in this turn; an answer that waited looks again.
  let sameTurn = true;
  const r = fetchAndDecide(ctx, j, (pol) => decide(ctx, j, pol, sameTurn ? mine : ctx.cache.mnEntry(j.mnId)));
  sameTurn = false;
  return r;
}

/** Policy bits cached in a BCE of this MN at this MAG, if still fresh. */
function freshSnapshot(ctx: ApplyContext, j: PbuJob, e: Bce | Bce[]): Policy | undefined {
  const now = ctx.clock.now();
  if (!Array.isArray(e)) return snapshotServes(ctx, j, e, now) ? policyFromSnapshot(e.flags & POLICY_BITS) : undefined;
  for (const b of e) if (snapshotServes(ctx, j, b, now)) return policyFromSnapshot(b.flags & POLICY_BITS);
  return undefined;
}

/** Longest a policy snapshot serves while the policy source reports no change (MemoryLmaPolicy.policyGeneration). */
export const POLICY_FOLLOWED_MAX_MS = 600_000;

/**
 * A BCE's policy snapshot serves a PBU from its MAG while younger than lma.policyCacheTtl, or,
 * when the policy source follows changes (the profile directory), while nothing changed since
 * it was taken (a profile change takes effect at its next re-registration), up to
 * POLICY_FOLLOWED_MAX_MS. A TTL of 0 keeps asking the source for every PBU.
 */
function snapshotServes(ctx: ApplyContext, j: PbuJob, b: Bce, now: number): boolean {
  if (b.peer.key !== j.coaKey || (b.flags & F.POL_MAG_OK) === 0) return false;
  const age = now - b.policyAt;
  const ttl = ctx.cfg.policyCacheTtlMs;
  return age < ttl || (ttl > 0 && age < POLICY_FOLLOWED_MAX_MS && b.policyAt > unchangedSince(ctx));
}

/** Per LMA: the policy source's generation last seen, and when this LMA first saw it. */
const followed = new WeakMap<ApplyContext, { gen: number | undefined; since: number }>();

/**
 * Since when (clock time) the policy source's answers have not changed, as far as this LMA has
 * seen: no earlier than the change itself (a snapshot asked in that very millisecond is not
 * trusted either). Infinity while the source does not follow changes. Called on every ask of
 * the source too, so the generation is known from the first registration on.
 */
function unchangedSince(ctx: ApplyContext): number {
  const policy = ctx.policy;
  if (policy.policyGeneration === undefined) return Infinity;
  const g = policy.policyGeneration();
  let s = followed.get(ctx);
  if (s === undefined) {
    s = { gen: g, since: ctx.clock.now() };
    followed.set(ctx, s);
  } else if (s.gen !== g) {
    s.gen = g;
    s.since = ctx.clock.now();
  }
  return g === undefined ? Infinity : s.since;
}

const NO_PROFILE: Promise<null> = Promise.resolve(null);
const nothing = (): void => undefined;

/**
 * Asks the policy source (MAG authorisation and profile together), then continues: at
 * once when the source can answer from memory (MemoryLmaPolicy), else after its promises.
 */
export function fetchAndDecide(ctx: ApplyContext, j: PbuJob, then: (pol: Policy) => Outcome): void | Promise<void> {
  unchangedSince(ctx); // the generation the answer belongs to (or a later one)
  let now: PolicyAnswer | undefined;
  try {
    now = ctx.policy.policyNow?.(j.mnId, j.coa);
  } catch {
    now = undefined; // ask the asynchronous way, which handles a failing source
  }
  if (now === undefined) return fetchAsync(ctx, j, then);
  const r = then(policyFromProfile(j.mnId === '' ? null : now.profile, now.magAuthorized, ctx.cfg.servedLmaNames));
  if (r === NEED_PROFILE) {
    ctx.counters.dropped['policy-unavailable']++;
    return;
  }
  return r;
}

async function fetchAsync(ctx: ApplyContext, j: PbuJob, then: (pol: Policy) => Outcome): Promise<void> {
  let pol: Policy;
  let profileP: Promise<Profile | null> | undefined;
  const askedAt = ctx.clock.now();
  try {
    // Both questions go out at once; awaited one after the other (no Promise.all per PBU).
    const magP = ctx.policy.magAuthorized(j.coa, j.mnId);
    profileP = j.mnId === '' ? NO_PROFILE : ctx.policy.profile(j.mnId);
    const magOk = await magP;
    pol = policyFromProfile(await profileP, magOk, ctx.cfg.servedLmaNames, askedAt);
  } catch (e) {
    profileP?.catch(nothing); // not awaited when the MAG question failed first
    // Policy source down: an existing session at this MAG keeps its (stale) snapshot; anything else waits
    // for the MAG's retransmission.
    const stale = ctx.cache.ofMn(j.mnId).find((b) => b.peer.key === j.coaKey && (b.flags & F.POL_MAG_OK) !== 0);
    if (!stale) {
      ctx.counters.dropped['policy-unavailable']++;
      ctx.logEvery.warn('policy-unavailable', 'policy source failed; PBU dropped (the MAG retransmits)', { error: (e as Error)?.name ?? 'Error' });
      return;
    }
    pol = policyFromSnapshot(stale.flags & POLICY_BITS);
  }
  const r = then(pol);
  if (r === NEED_PROFILE) {
    ctx.counters.dropped['policy-unavailable']++;
    return;
  }
  if (r !== undefined) await r;
}

function lookupKey(j: PbuJob, mine: Bce | Bce[] | undefined): LookupKey {
  const req4 = j.v.v4Reqs[0];
  return {
    mnId: j.mnId,
    hnps: j.hnpKeys,
    v4: req4 !== undefined ? req4.addr | 0 : 0,
    llId: j.llId,
    att: j.v.att ?? 0,
    hi: j.v.hi ?? 0,
    dereg: j.v.lifetime === 0,
    coaKey: j.coaKey,
    mine,
  };
}

/** RFC 6275 §9.5.1: `a` is greater than `b` in 16-bit serial number space. */
export function seqGreater(a: number, b: number): boolean {
  const d = (a - b) & 0xffff;
  return d !== 0 && d < 0x8000;
}

/** Steps 5-14 once the policy is known; `mine`: the MN's entry in the cache (mnEntry) now. */
function decide(ctx: ApplyContext, j: PbuJob, pol: Policy, mine: Bce | Bce[] | undefined): Outcome {
  const v = j.v;
  // Steps 5-6: the MAG must be authorised to send PBUs for this MN.
  if (!pol.magOk) return reject(ctx, j, BaStatus.MAG_NOT_AUTHORIZED_FOR_PROXY_REG);
  // RFC 5213 §4: a MAG limited by prefix serves only MNs whose prefixes lie inside its scope.
  if (j.mag?.scope && pol.profile && !inScope(j.mag.scope, j.mnId, pol.profile.hnps, pol.profile.ipv4HoA)) {
    ctx.counters.refused['out-of-scope']++;
    return reject(ctx, j, BaStatus.MAG_NOT_AUTHORIZED_FOR_PROXY_REG);
  }
  // Step 7: we must know the MN (and be its LMA).
  if ((!pol.snapshot && !pol.profile) || pol.otherLma) return reject(ctx, j, BaStatus.NOT_LMA_FOR_THIS_MOBILE_NODE);
  // Step 8: network-based mobility enabled for it.
  if (!pol.enabled) return reject(ctx, j, BaStatus.PROXY_REG_NOT_ENABLED);

  // Step 9 (§5.5): ordering.
  let lk: Lookup | undefined;
  if (v.timestamp !== undefined && ctx.cfg.timestampBasedApproachInUse) {
    // Timestamp mode: the sequence number is ignored (but copied into the PBA).
    let prev = 0;
    if (mine !== undefined) {
      if (!Array.isArray(mine)) prev = mine.ts;
      else for (const b of mine) if (b.ts > prev) prev = b.ts;
    }
    // The clock is read only for a rejection (its PBA carries the LMA's time, RFC 5213 §5.5).
    if (j.tsNum < prev) {
      ctx.counters.timestampRejects.lower++;
      return reject(ctx, j, BaStatus.TIMESTAMP_LOWER_THAN_PREV_ACCEPTED, { nowMs: ctx.clock.now() });
    }
    // Clock skew is judged against the PBU's arrival time (path.ts arrivedAt: the kernel's
    // receive stamp when the transport has one): time the PBU spent in the socket buffer
    // while the loop was busy, or queued for a policy lookup, is not skew between the clocks.
    const skew = ctx.cfg.mobileNodeGeneratedTimestampInUse ? 0 : timestampToMs(v.timestamp) - j.at;
    const w = ctx.cfg.timestampValidityWindowMs;
    const why = j.tsNum === prev ? 'equal' : skew < -w ? 'behind' : skew > w ? 'ahead' : undefined;
    if (why !== undefined) {
      ctx.counters.timestampRejects[why]++; // which check, for operators (counters.ts)
      return reject(ctx, j, BaStatus.TIMESTAMP_MISMATCH, { nowMs: ctx.clock.now() });
    }
  } else if (mine !== undefined) {
    // Sequence-number mode (RFC 6275 §9.5.1), per mobility session: the session this PBU would update.
    let cand: Bce | undefined;
    if (v.hi !== undefined && v.att !== undefined && (v.hnpOpts.length > 0 || v.v4Reqs.length > 0)) {
      lk = lookupBce(ctx.cache, lookupKey(j, mine));
      if (lk.kind === 'update' || lk.kind === 'wait') cand = lk.bce;
    } else if (!Array.isArray(mine)) {
      cand = mine;
    }
    if (cand && !seqGreater(v.seq, cand.seq)) {
      return reject(ctx, j, BaStatus.SEQUENCE_NUMBER_OUT_OF_WINDOW, undefined, cand.seq);
    }
  }

  // Step 10 (with RFC 5844 §3.1.2.1: an IPv4 HoA Request alone is enough).
  if (v.hnpOpts.length === 0 && v.v4Reqs.length === 0) return reject(ctx, j, BaStatus.MISSING_HOME_NETWORK_PREFIX_OPTION);
  // Steps 11-12.
  if (v.hi === undefined) return reject(ctx, j, BaStatus.MISSING_HANDOFF_INDICATOR_OPTION);
  if (v.att === undefined) return reject(ctx, j, BaStatus.MISSING_ACCESS_TECH_TYPE_OPTION);
  // RFC 5844 §3.1.2.1.
  if (v.hnpOpts.length > 0 && (pol.bits & F.POL_V6) === 0) return reject(ctx, j, BaStatus.NOT_AUTHORIZED_FOR_IPV6_MOBILITY_SERVICE);
  if (v.v4Reqs.length > 0 && (pol.bits & F.POL_V4) === 0) return reject(ctx, j, BaStatus.NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE);
  if (v.v4Reqs.length > 1) return reject(ctx, j, BaStatus.MULTIPLE_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_SUPPORTED);

  // Step 13: §5.4.1.
  lk ??= lookupBce(ctx.cache, lookupKey(j, mine));
  switch (lk.kind) {
    case 'reject':
      return reject(ctx, j, lk.status);
    case 'ignore':
      ctx.counters.pbuIgnored['dereg-no-session']++;
      return;
    case 'wait':
      if (ctx.cfg.createNewBceWithoutWaiting) return applyNew(ctx, j, pol);
      park(ctx, j, pol, lk.bce);
      return;
    case 'new':
      return applyNew(ctx, j, pol);
    case 'update':
      return applyUpdate(ctx, j, pol, lk.bce);
  }
}
