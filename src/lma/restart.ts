// Restart recovery (docs/ARCHITECTURE.md "Scale-out") and restart announcement (RFC 5847 §3.2).
//
// Recovery: the store's live rows of this LMA, overlaid by the local journal (batches the
// store could not take before the stop; newer than any row), become BCEs again with their
// forwarding state. Two rows claiming one prefix or IPv4 address can only mean that one of
// them ended lazily (a take-over or a de-registration not yet written, commit.ts): the most
// recently refreshed one wins and the other's row is deleted.
//
// Announcement: after a start that may have lost state, every MAG we know (those of the
// restored bindings and the ones the deployment names) gets an unsolicited Heartbeat
// Response (U = 1) with the new Restart Counter; the MAG then re-registers its MNs.
import { isIPv4 } from 'node:net';
import type { MhTransport } from '../transport/types.ts';
import type { PersistedBinding } from '../store/repos/bindings.ts';
import { buildHeartbeat } from './build.ts';
import { F } from './bce.ts';
import type { Bce } from './bce.ts';
import type { GroupCommit } from './commit.ts';
import type { LmaContext } from './context.ts';
import { peerAddr } from './heartbeat.ts';
import { fromPersisted } from './persist.ts';
import type { BindingStore, LmaDeps } from './types.ts';

export interface RestoreContext extends LmaContext {
  lmaaFor(carriage: string): string;
}

export interface RestoreResult {
  restored: number;
  /** Rows that came from the journal (the store had not taken them yet). */
  journalled: number;
  /** Rows that could not become a BCE, or lost to a newer row holding the same prefix. */
  unusable: number;
  superseded: number;
  /** Something could not be read or rebuilt: state may be lost. */
  incomplete: boolean;
}

function pick(t: MhTransport[], address: string): MhTransport | undefined {
  return t.find((x) => isIPv4(x.localAddress().address) === isIPv4(address)) ?? t[0];
}

export async function restoreBindings(ctx: RestoreContext, transports: MhTransport[], store: BindingStore | undefined, commits: GroupCommit | undefined): Promise<RestoreResult> {
  const out: RestoreResult = { restored: 0, journalled: 0, unusable: 0, superseded: 0, incomplete: false };
  if (!store || !commits) {
    out.incomplete = true; // nothing is persisted: every start loses the cache
    return out;
  }
  const now = ctx.clock.now();
  let rows: PersistedBinding[];
  try {
    rows = await store.loadLive(ctx.cfg.lmaId, new Date(now));
  } catch (e) {
    ctx.log.error({ err: e }, 'could not load persisted bindings; starting empty');
    out.incomplete = true;
    return out;
  }
  const byKey = new Map<string, PersistedBinding>();
  for (const r of rows) byKey.set(r.sessionKey, r);
  try {
    const journal = await commits.loadJournal();
    for (const [k, v] of journal) {
      if (v === null || v.expiresAt.getTime() <= now) byKey.delete(k);
      else byKey.set(k, v);
      out.journalled++;
    }
  } catch (e) {
    ctx.log.error({ err: e }, 'could not read the binding journal');
    out.incomplete = true;
  }

  const bces: Bce[] = [];
  for (const row of byKey.values()) {
    const b = fromPersisted(row, (key, address, port, local, carriage) => {
      const t = pick(transports, address);
      return t ? ctx.peerFor(key, address, port, local || ctx.lmaaFor(carriage), carriage, t) : null;
    });
    if (b) bces.push(b);
    else out.unusable++;
  }
  // The most recently refreshed claim to a prefix or address wins.
  bces.sort((a, b) => b.refreshedAt - a.refreshedAt || b.id - a.id);
  const claimed = new Set<string>();
  const winners: Bce[] = [];
  for (const b of bces) {
    const keys = b.hnpList().slice();
    if (b.v4 !== 0) keys.push(`v4:${b.v4}`);
    if (keys.some((k) => claimed.has(k))) {
      out.superseded++;
      commits.removeRow(b.id, b.sessionKey);
      continue;
    }
    for (const k of keys) claimed.add(k);
    winners.push(b);
  }
  winners.sort((a, b) => a.id - b.id); // the cache's iteration order = session-key order
  const installs: Promise<void>[] = [];
  for (const b of winners) {
    ctx.cache.add(b);
    ctx.schedule(b, b.deadline);
    if (!(b.flags & F.DEREG)) installs.push(ctx.fwd.install(b).catch((e: unknown) => ctx.log.warn({ err: e, sessionKey: b.sessionKey }, 'could not restore forwarding')));
    out.restored++;
  }
  for (const b of bces) ctx.cache.reserveId(b.id); // superseded keys are never handed out again either
  for (const p of ctx.cache.peers.values()) ctx.cache.maybeForgetPeer(p);
  await Promise.all(installs);
  if (out.unusable > 0) {
    ctx.log.warn({ unusable: out.unusable }, 'persisted bindings that could not be restored');
    out.incomplete = true;
  }
  if (out.superseded > 0) ctx.log.warn({ superseded: out.superseded }, 'persisted bindings superseded by a newer one holding the same prefix or address; removed');
  return out;
}

/** RFC 5847 §3.2: an unsolicited Heartbeat Response with our new Restart Counter to every MAG we know. Returns how many. */
export async function announceRestart(ctx: LmaContext, transports: MhTransport[], knownMags: LmaDeps['knownMags']): Promise<number> {
  const sent = new Set<string>();
  const hb = buildHeartbeat(0, true, ctx.restartCounter, true);
  for (const p of ctx.cache.peers.values()) {
    const key = `${p.address}#${p.port}`;
    if (sent.has(key)) continue;
    sent.add(key);
    ctx.send(p.transport, hb, peerAddr(p), p.local, 'heartbeat_response');
  }
  if (knownMags) {
    let extra: { address: string; port?: number }[] = [];
    try {
      extra = await knownMags();
    } catch (e) {
      ctx.log.warn({ err: e }, 'could not list the provisioned MAGs to announce the restart to');
    }
    for (const m of extra) {
      const key = `${m.address}#${m.port ?? -1}`;
      const t = pick(transports, m.address);
      if (sent.has(key) || !t) continue;
      sent.add(key);
      ctx.send(t, hb, m.port === undefined ? { address: m.address } : { address: m.address, port: m.port }, undefined, 'heartbeat_response');
    }
  }
  return sent.size;
}
