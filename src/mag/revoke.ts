// Binding revocation with the MAG as responder (RFC 5846 §6.2.1, §9.1): the LMA's BRI
// removes bindings (BULE, routes, tunnel if unused; no de-registration PBU, the LMA has
// already let go) and we answer with a BRA (§6.1.2) to the BRI's source address and port.
import { BraStatus, mnIdFromNai, parsePrefix } from '../mh/index.ts';
import type { BindingRevocationIndication, MobilityOption } from '../mh/index.ts';
import type { Peer } from '../transport/types.ts';
import type { Bule } from './bul.ts';
import { buildBra } from './build.ts';
import { decideBri } from './handle.ts';
import type { Mag } from './sm.ts';

export async function handleBri(mag: Mag, bri: BindingRevocationIndication, from: Peer): Promise<void> {
  const d = decideBri(bri);
  const answer = (status: number, options: MobilityOption[] = []): void => {
    if (mag.path.send(buildBra(bri, status, options), from)) mag.metrics.sent('bra');
  };
  switch (d.kind) {
    case 'discard':
      // §6.1.2: a discarded BRI gets no BRA.
      mag.metrics.drop('badBri');
      mag.log.warn({ lma: from.address, reason: d.reason }, 'BRI discarded');
      return;
    case 'reject':
      return answer(d.status);
    case 'allPeer': {
      // §9.1: G=1, Per-Peer Policy: every binding this MAG holds with that LMA.
      const sessions: Bule[] = [];
      for (const b of mag.bul.entries()) if (b.lma === from.address) sessions.push(b);
      if (sessions.length === 0) return answer(BraStatus.BINDING_DOES_NOT_EXIST);
      await Promise.all(sessions.map((b) => mag.serial(b.mnId, () => revoke(mag, b, bri.trigger))));
      return answer(BraStatus.SUCCESS);
    }
    case 'mns': {
      const missing: string[] = [];
      const targets: Bule[] = [];
      for (const mnId of d.mnIds) {
        const found: Bule[] = [];
        if (d.global && mnId.startsWith('@')) {
          // §8.1 / §9.1 "Revoking Mobility Node Local Policy": "@realm" names every MN whose
          // MN-ID has exactly that realm ("@example.com" is not "x@foo.example.com"); a full
          // MN-ID names that MN only (below).
          const realm = realmOf(mnId);
          for (const b of mag.bul.entries()) if (b.lma === from.address && realm !== null && realmOf(b.mnId) === realm) found.push(b);
          if (found.length === 0) missing.push(mnId);
          targets.push(...found);
          continue;
        }
        for (let b = mag.bul.head(mnId); b; b = b.nextSession ?? undefined) {
          if (b.lma !== from.address) continue;
          if (d.hnps.length > 0 && !b.hnps.some((h) => d.hnps.includes(h))) continue;
          if (d.ipv4Only && !(b.wantIpv4 && b.ipv4Assigned && b.ipv4HoA === d.ipv4HoA)) continue;
          found.push(b);
        }
        if (found.length === 0) missing.push(mnId);
        targets.push(...found);
      }
      if (targets.length === 0) return answer(BraStatus.BINDING_DOES_NOT_EXIST);
      // §9.1: inter-MAG handover triggers: refuse while we can verify the MN is still here.
      if (d.handover && mag.detector?.isAttached) {
        const here = targets.find((b) => mag.detector?.isAttached?.(b.mnId, b.link) === true);
        if (here) return answer(BraStatus.REVOCATION_FAILED_MN_IS_ATTACHED, [mnIdFromNai(here.mnId)]);
      }
      await Promise.all(targets.map((b) => mag.serial(b.mnId, () => revoke(mag, b, bri.trigger, d.ipv4Only))));
      if (missing.length > 0) {
        // §9.1: some bindings were already gone: partial success naming them.
        return answer(BraStatus.PARTIAL_SUCCESS, missing.map(mnIdFromNai));
      }
      // §5.2: HNP options only with P; MN-ID SHOULD accompany them.
      const opts: MobilityOption[] = [];
      if (!d.global && d.mnIds.length === 1) {
        opts.push(mnIdFromNai(d.mnIds[0]));
        for (const h of d.hnps) {
          const p = parsePrefix(h);
          opts.push({ type: 'hnp', prefixLen: p.prefixLen, prefix: p.prefix });
        }
      }
      return answer(BraStatus.SUCCESS, opts);
    }
  }
}

/** The realm of an NAI (after the last "@", lower case), or null without one. */
function realmOf(nai: string): string | null {
  const at = nai.lastIndexOf('@');
  return at < 0 || at === nai.length - 1 ? null : nai.slice(at + 1).toLowerCase();
}

async function revoke(mag: Mag, b: Bule, trigger: number, ipv4Only = false): Promise<void> {
  if (!mag.alive(b)) return;
  const ev = { type: 'revoked' as const, mnId: b.mnId, link: b.link, lma: b.lma, trigger, ipv4Only };
  if (ipv4Only) {
    // §9.1 V flag: release only the IPv4 HoA binding; the IPv6 part of the session stays.
    await mag.dropIpv4(b);
    mag.metrics.binding('revoked');
    mag.log.info({ event: 'revoked', mnId: b.mnId, link: b.link, lma: b.lma, trigger, ipv4Only }, 'IPv4 binding revoked');
    mag.emit(ev);
    if (!b.wantIpv6) await mag.removeSession(b, () => undefined);
    return;
  }
  await mag.removeSession(b, () => {
    mag.metrics.binding('revoked');
    mag.log.info({ event: 'revoked', mnId: b.mnId, link: b.link, lma: b.lma, trigger }, 'binding revoked');
    mag.emit(ev);
  });
}
