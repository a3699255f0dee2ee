// RFC 5846 binding revocation at the LMA: as initiator (§8.1: one MN's binding(s), or
// every binding of a MAG with G = 1 and "Per-Peer Policy"; "Inter-MAG Handover - Unknown"
// for HI = 4), with retransmission (§6.3: InitMINDelayBRIs, doubling up to
// MAX_BRACK_TIMEOUT, BRIMaxRetriesNumber); BRA handling (§6.2.2); and as responder to a
// MAG's BRI (§8.2).
import { BraStatus, BrFlag, RevocationTrigger, getOption, getOptions, ipv6ToString } from '../mh/index.ts';
import type { BindingRevocationAck, BindingRevocationIndication } from '../mh/index.ts';
import type { MhTransport, ReceivedMh } from '../transport/types.ts';
import type { TimerHandle } from '../util/clock.ts';
import { buildBra, buildBri } from './build.ts';
import { F } from './bce.ts';
import type { Bce, MagPeer } from './bce.ts';
import { releaseWaiting } from './apply.ts';
import { deregisterByRevocation } from './deregister.ts';
import type { ApplyContext } from './apply.ts';
import { peerAddr } from './heartbeat.ts';
import { mnIdOption, mnIdText, peerKeyOf, prefixKey } from './pbu.ts';
import { v4Route } from './forwarding.ts';
import { canonicalSource } from './sender.ts';
import type { RevocationOutcome } from './types.ts';

type Purpose = 'admin' | 'handoff';

interface BriRecord {
  seq: number;
  peer: MagPeer;
  msg: BindingRevocationIndication;
  bces: Bce[];
  purpose: Purpose;
  retries: number;
  delay: number;
  timer: TimerHandle | null;
  done: (o: RevocationOutcome) => void;
}

/** Several BRIs as one outcome: acknowledged only when every one was; not-found when there were none. */
function allOf(outs: RevocationOutcome[]): RevocationOutcome {
  if (outs.length === 0) return { result: 'not-found', removed: 0 };
  return { result: outs.every((o) => o.result === 'acknowledged') ? 'acknowledged' : 'timeout', removed: outs.reduce((n, o) => n + o.removed, 0) };
}

export class Revocations {
  private readonly out = new Map<number, BriRecord>();
  private nextSeq: number;

  constructor(private readonly ctx: ApplyContext) {
    this.nextSeq = Math.floor(Math.random() * 0x10000);
  }

  get outstanding(): number {
    return this.out.size;
  }

  stop(): void {
    for (const r of this.out.values()) r.timer?.cancel();
    this.out.clear();
  }

  /* ------------------------------------------------ operator actions (§8.1, administrative) */

  /** One binding: a BRI to its MAG, then removal; one already de-registering is removed now (nothing to tell the MAG). */
  revokeSession(sessionKey: string, trigger: number): Promise<RevocationOutcome> {
    const ctx = this.ctx;
    const b = ctx.cache.get(Number(sessionKey));
    if (!b) return Promise.resolve({ result: 'not-found', removed: 0 });
    if (b.flags & F.DEREG) {
      return new Promise((res) => ctx.serial.run(b.mnId, () => ctx.removeBce(b, 'revoked', 'administrative').then(() => res({ result: 'acknowledged', removed: 1 }))));
    }
    return this.revoke(b.peer, [b], trigger, 'admin', false);
  }

  /** Every binding of one MN: one BRI per MAG. */
  async revokeMobileNode(mnId: string, trigger: number): Promise<RevocationOutcome> {
    const byPeer = new Map<MagPeer, Bce[]>();
    for (const b of this.ctx.cache.ofMn(mnId)) {
      const l = byPeer.get(b.peer);
      if (l) l.push(b);
      else byPeer.set(b.peer, [b]);
    }
    return allOf(await Promise.all([...byPeer].map(([peer, bces]) => this.revoke(peer, bces, trigger, 'admin', false))));
  }

  /** Every binding at a MAG (G = 1, "Per-Peer Policy"); `port` narrows to one UDP peer. */
  async revokePeer(address: string, port?: number): Promise<RevocationOutcome> {
    const peers = [...this.ctx.cache.peers.values()].filter((p) => p.address === address && (port === undefined || p.port === port) && p.count > 0);
    return allOf(await Promise.all(peers.map((p) => this.revoke(p, this.ctx.cache.ofPeer(p), RevocationTrigger.PER_PEER_POLICY, 'admin', true))));
  }

  /** §6.1.1: a sequence number unique among outstanding BRIs. */
  private seq(): number {
    for (let i = 0; i < 0x10000; i++) {
      const s = this.nextSeq;
      this.nextSeq = (this.nextSeq + 1) & 0xffff;
      if (!this.out.has(s)) return s;
    }
    throw new Error('no free BRI sequence number');
  }

  /**
   * §8.1: revoke `bces` (all at one MAG). `global` = every binding of that MAG
   * (G = 1, "Per-Peer Policy", no options); otherwise they must be one MN's.
   */
  revoke(peer: MagPeer, bces: Bce[], trigger: number, purpose: Purpose, global: boolean): Promise<RevocationOutcome> {
    const { ctx } = this;
    if (bces.length === 0) return Promise.resolve({ result: 'not-found', removed: 0 });
    const seq = this.seq();
    for (const b of bces) b.flags |= F.REVOKING;
    const hnps: string[] = [];
    for (const b of bces) for (const p of b.hnpList()) hnps.push(p);
    const first = bces[0];
    const msg = global
      ? buildBri(seq, RevocationTrigger.PER_PEER_POLICY, { global: true })
      : buildBri(seq, trigger, {
        mnId: mnIdOption(first.mnId),
        hnps,
        v4: first.v4 !== 0 ? { addr: first.v4 >>> 0, prefixLen: first.v4Len } : undefined,
      });
    return new Promise<RevocationOutcome>((done) => {
      const rec: BriRecord = {
        seq, peer, msg, bces, purpose, retries: 0, delay: Math.max(ctx.cfg.initMinDelayBrisMs, 1), timer: null, done,
      };
      this.out.set(seq, rec);
      peer.brisOutstanding++;
      ctx.counters.revocation.initiated++;
      ctx.log.info({ event: 'revocation-sent', proxyCoa: peer.address, seq, trigger: msg.trigger, global, bindings: bces.length, mnId: global ? undefined : first.mnId }, 'BRI sent');
      this.transmit(rec);
    });
  }

  private transmit(rec: BriRecord): void {
    const { ctx } = this;
    ctx.send(rec.peer.transport, rec.msg, peerAddr(rec.peer), rec.peer.local, 'bri');
    rec.timer = ctx.clock.setTimer(rec.delay, () => {
      rec.timer = null;
      if (this.out.get(rec.seq) !== rec) return;
      if (rec.retries < ctx.cfg.briMaxRetries) {
        rec.retries++;
        rec.delay = Math.min(rec.delay * 2, ctx.cfg.maxBrackTimeoutMs); // §6.3 exponential back-off
        this.transmit(rec);
      } else {
        ctx.counters.revocation.timedOut++;
        this.finish(rec, 'timeout', undefined);
      }
    });
  }

  /** §6.2.2: a BRA for one of our BRIs. */
  onBra(msg: BindingRevocationAck, m: ReceivedMh): void {
    const { ctx } = this;
    ctx.counters.rx.bra++;
    const rec = this.out.get(msg.seq);
    if (!rec || rec.peer.address !== canonicalSource(m.from.address)) {
      ctx.counters.dropped['bra-unknown-seq']++;
      return;
    }
    ctx.counters.revocation.acknowledged++;
    this.finish(rec, 'acknowledged', msg.status);
  }

  /** The MAG does not understand MH type 16 (Binding Error status 2): give up on its BRIs. */
  unsupportedBy(peer: MagPeer): boolean {
    let any = false;
    for (const rec of [...this.out.values()]) {
      if (rec.peer !== peer) continue;
      any = true;
      this.finish(rec, 'timeout', undefined);
    }
    return any;
  }

  private finish(rec: BriRecord, result: 'acknowledged' | 'timeout', status: number | undefined): void {
    const { ctx } = this;
    this.out.delete(rec.seq);
    rec.timer?.cancel();
    rec.peer.brisOutstanding--;
    ctx.log.info({ event: 'revocation-done', proxyCoa: rec.peer.address, seq: rec.seq, result, status }, 'BRI finished');
    const success = result === 'acknowledged' && status !== undefined && status < 128;
    if (rec.purpose === 'handoff') {
      // §8.1: success = de-registration by the old MAG; "MN is attached" or no answer = new session.
      const b = rec.bces[0];
      ctx.serial.run(b.mnId, () => {
        if (!ctx.cache.has(b) || !(b.flags & F.REVOKING) || b.peer !== rec.peer) return;
        if (success) return deregisterByRevocation(ctx, b);
        b.flags &= ~F.REVOKING;
        return releaseWaiting(ctx, b, 'still-attached');
      });
      rec.done({ result, status, removed: 0 });
      ctx.cache.maybeForgetPeer(rec.peer);
      return;
    }
    // Administrative: the bindings go whatever the MAG said (§6.2.2 leaves failures to local policy;
    // §6.3: clean up after the last retransmission).
    const reason = result === 'acknowledged' ? `bri-acknowledged-${status}` : 'bri-timeout';
    let removed = 0;
    const jobs = rec.bces.map((b) => new Promise<void>((res) => {
      ctx.serial.run(b.mnId, () => {
        if (!ctx.cache.has(b) || !(b.flags & F.REVOKING) || b.peer !== rec.peer) {
          res();
          return;
        }
        removed++;
        return ctx.removeBce(b, 'revoked', reason).then(res, res);
      });
    }));
    void Promise.all(jobs).then(() => {
      ctx.cache.maybeForgetPeer(rec.peer);
      rec.done({ result, status, removed });
    });
  }

  /* ---------------------------------------------------------------- responder (§8.2) */

  onBri(msg: BindingRevocationIndication, m: ReceivedMh, t: MhTransport): void {
    const { ctx } = this;
    ctx.counters.rx.bri++;
    ctx.counters.revocation.received++;
    const answer = (status: number): void => {
      ctx.send(t, buildBra(msg.seq, msg.flags, status), m.from, m.local, 'bra');
    };
    const trigger = msg.trigger;
    const global = (msg.flags & BrFlag.G) !== 0;
    if ((msg.flags & BrFlag.P) === 0) return answer(BraStatus.BINDING_DOES_NOT_EXIST); // we hold proxy bindings only
    const known = trigger <= RevocationTrigger.POSSIBLE_OUT_OF_SYNC_BCE_STATE
      || trigger === RevocationTrigger.PER_PEER_POLICY
      || trigger === RevocationTrigger.REVOKING_MOBILITY_NODE_LOCAL_POLICY;
    if (!known) return answer(BraStatus.REVOCATION_TRIGGER_NOT_SUPPORTED); // §6.2.1
    if (global !== trigger >= 128) return answer(BraStatus.REVOCATION_FUNCTION_NOT_SUPPORTED); // §6.2.1
    const peerKey = peerKeyOf(m.from);
    const peer = ctx.cache.peers.get(peerKey);
    const mnIdOpt = getOption(msg, 'mnId');
    let victims: Bce[];
    if (global) {
      if (!mnIdOpt || !ctx.cfg.allowMagGlobalRevocation) return answer(BraStatus.GLOBAL_REVOCATION_NOT_AUTHORIZED);
      // The sending MAG must be a provisioned, authorised one; "Per-Peer Policy" names it in the MN-ID (§8.2).
      const mag = ctx.mags?.bySource(canonicalSource(m.from.address));
      if (ctx.mags && (!mag || !mag.authorized)) return answer(BraStatus.GLOBAL_REVOCATION_NOT_AUTHORIZED);
      if (mag && trigger === RevocationTrigger.PER_PEER_POLICY && mnIdText(mnIdOpt) !== mag.id) return answer(BraStatus.GLOBAL_REVOCATION_NOT_AUTHORIZED);
      const alt = getOption(msg, 'altCoa');
      if (alt && canonicalSource(ipv6ToString(alt.addr)) !== canonicalSource(m.from.address)) return answer(BraStatus.GLOBAL_REVOCATION_NOT_AUTHORIZED);
      victims = peer ? ctx.cache.ofPeer(peer) : [];
      if (trigger === RevocationTrigger.REVOKING_MOBILITY_NODE_LOCAL_POLICY) {
        const id = mnIdText(mnIdOpt);
        const at = id.lastIndexOf('@');
        const realm = at >= 0 ? id.slice(at + 1) : id;
        victims = victims.filter((b) => b.mnId.slice(b.mnId.lastIndexOf('@') + 1) === realm && b.mnId.includes('@'));
      }
    } else {
      if (!mnIdOpt) return answer(BraStatus.REVOKED_MOBILE_NODES_IDENTITY_REQUIRED);
      // Only bindings this MAG holds: a MAG cannot revoke what another MAG registered.
      victims = ctx.cache.ofMn(mnIdText(mnIdOpt)).filter((b) => b.peer.key === peerKey);
      const hnps = getOptions(msg, 'hnp').map((o) => prefixKey(o.prefix, o.prefixLen));
      if (hnps.length > 0) victims = victims.filter((b) => hnps.some((p) => b.hasHnp(p)));
      if (msg.flags & BrFlag.V) {
        const req = getOption(msg, 'ipv4HoaRequest') ?? getOption(msg, 'ipv4HomeAddress');
        if (!req) return answer(BraStatus.IPV4_HOME_ADDRESS_OPTION_REQUIRED);
        victims = victims.filter((b) => b.v4 !== 0 && b.v4 === (req.addr | 0));
        if (victims.length === 0) return answer(BraStatus.BINDING_DOES_NOT_EXIST);
        for (const b of victims) {
          ctx.serial.run(b.mnId, () => {
            if (!ctx.cache.has(b) || b.v4 === 0) return;
            const route = v4Route(b.v4);
            ctx.cache.setIpv4(b, 0);
            b.v4Len = b.v4Router = 0;
            ctx.changed(b, 'refreshed', { reason: 'ipv4-revoked-by-mag' });
            return ctx.fwd.removeRoutes(b, [route]);
          });
        }
        return answer(BraStatus.SUCCESS);
      }
    }
    if (victims.length === 0) return answer(BraStatus.BINDING_DOES_NOT_EXIST);
    for (const b of victims) {
      ctx.serial.run(b.mnId, () => {
        if (ctx.cache.has(b)) return ctx.removeBce(b, 'revoked', 'mag-initiated');
      });
    }
    answer(BraStatus.SUCCESS);
  }
}
