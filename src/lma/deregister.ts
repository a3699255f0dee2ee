// De-registration (RFC 5213 §5.3.5, selective with RFC 5844 §3.1.2.5) and the de-registration
// a successful BRI stands for (RFC 5846 §8.1). Runs inside the MN's serialised job, as apply.ts.
import { parseIpv6 } from '../mh/index.ts';
import type { PbaDecision } from './build.ts';
import { F } from './bce.ts';
import type { Bce } from './bce.ts';
import { v4Route } from './forwarding.ts';
import { releaseWaiting, reply } from './apply.ts';
import type { ApplyContext, Outcome } from './apply.ts';
import type { PbuJob } from './pbu.ts';

/** RFC 5213 §5.3.5 with RFC 5844 §3.1.2.5 (selective de-registration). */
export function deregister(ctx: ApplyContext, j: PbuJob, b: Bce): Outcome {
  if (b.peer.key !== j.coaKey) {
    // (1): a MAG that no longer holds the binding (the old MAG after a handoff) must not tear it down.
    ctx.counters.pbuIgnored['dereg-coa-mismatch']++;
    if (ctx.log.isLevelEnabled('debug')) ctx.log.debug({ mnId: j.mnId, proxyCoa: j.coa, bceProxyCoa: b.peer.address }, 'de-registration from a MAG that does not hold the binding ignored');
    return;
  }
  if (j.v.timestamp !== undefined) b.ts = j.tsNum;
  else b.ts = 0;
  b.seq = j.v.seq;
  b.hi = j.v.hi ?? b.hi;
  const hasHnp = j.v.hnpOpts.length > 0;
  const hasV4 = j.v.v4Reqs.length > 0;
  if (!hasHnp && hasV4 && b.hnpCount() > 0 && b.v4 !== 0) {
    // Only the IPv4 HoA goes.
    const route = v4Route(b.v4);
    ctx.cache.setIpv4(b, 0);
    b.v4Len = b.v4Router = 0;
    ctx.changed(b, 'refreshed', { reason: 'selective-ipv4-deregistration' });
    const p = ctx.fwd.removeRoutes(b, [route]);
    reply(ctx, j, { status: 0, lifetime: 0, hnps: [], v4: null });
    return p;
  }
  if (hasHnp && !hasV4 && b.v4 !== 0 && b.hnpCount() > 0) {
    // Only the IPv6 prefixes go.
    const routes = b.hnpList().slice();
    ctx.cache.setHnps(b, []);
    ctx.changed(b, 'refreshed', { reason: 'selective-ipv6-deregistration' });
    const p = ctx.fwd.removeRoutes(b, routes);
    reply(ctx, j, { status: 0, lifetime: 0, hnps: routes, v4: null });
    return p;
  }
  // (2): PBA now, delete after MinDelayBeforeBCEDelete; no forwarding meanwhile (drop the MN's traffic).
  const d: PbaDecision = { status: 0, lifetime: 0, hnps: b.hnpList(), v4: b.v4 !== 0 ? { addr: b.v4 >>> 0, prefixLen: b.v4Len, router: b.v4Router >>> 0 } : null };
  if (j.v.llaOpt) d.lla = b.lla !== null ? parseIpv6(b.lla) : j.v.llaOpt.addr;
  const wasDereg = (b.flags & F.DEREG) !== 0;
  b.flags |= F.DEREG;
  b.flags &= ~F.REVOKING;
  if (!wasDereg) {
    ctx.counters.reg.deregistrations++;
    ctx.schedule(b, ctx.clock.now() + ctx.cfg.minDelayBeforeBceDeleteMs);
  }
  ctx.persist(b);
  if (ctx.log.isLevelEnabled('debug')) ctx.log.debug({ mnId: b.mnId, sessionKey: b.sessionKey, proxyCoa: b.peer.address }, 'de-registration accepted');
  const p = ctx.fwd.uninstall(b);
  reply(ctx, j, d);
  return p.then(() => releaseWaiting(ctx, b, 'deregistered'));
}

/** Marks a BCE de-registered on behalf of its MAG (a successful BRI "handover unknown", RFC 5846 §8.1). */
export function deregisterByRevocation(ctx: ApplyContext, b: Bce): Promise<void> {
  if (!(b.flags & F.DEREG)) {
    b.flags |= F.DEREG;
    ctx.counters.reg.deregistrations++;
    ctx.schedule(b, ctx.clock.now() + ctx.cfg.minDelayBeforeBceDeleteMs);
  }
  b.flags &= ~F.REVOKING;
  ctx.persist(b);
  return ctx.fwd.uninstall(b).then(() => releaseWaiting(ctx, b, 'deregistered'));
}
