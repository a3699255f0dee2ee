// The MAG as an RFC 5176 Dynamic Authorization Server: CoA-Request → drop the cached Accept
// and re-register the MN with its new profile (Mag.reRegister); Disconnect-Request →
// de-register it. One DAE listener per port in a process, shared by its MAGs
// (`pmip6 simulate`), dispatched by NAS-Identifier and session.
import type { Mag } from '../mag/index.ts';
import { DaeServer, ErrorCause, type DaeRequest, type DaeResult, type RadiusServerAddress } from '../radius/index.ts';
import type { Logger } from '../util/log.ts';
import { Terminate, type MagAccounting } from './aaa-accounting.ts';
import type { RadiusMagPolicy } from './aaa-policy.ts';

/** What a MAG's listener entry answers with: its RFC 5176 handling, or null (no session here). */
export interface DaeHandler {
  onDae(req: DaeRequest): Promise<DaeResult | null>;
}

export const NOT_FOUND: DaeResult = { ok: false, errorCause: ErrorCause.SessionContextNotFound };

/** RFC 5176 listeners of this process by port, shared by its MAGs. */
const daeListeners = new Map<number, { server: DaeServer; mags: Set<{ nasId: string; aaa: DaeHandler }>; starting: Promise<void> }>();

/** The bound port of this process's listener on `port`, 0 when none. */
export function daeListenerPort(port: number): number {
  return daeListeners.get(port)?.server.port ?? 0;
}

/** Joins (starting it if needed) the listener on `port`; resolves with the function that leaves it. */
export async function joinDae(port: number, host: string, clients: RadiusServerAddress[], entry: { nasId: string; aaa: DaeHandler }, log: Logger): Promise<() => Promise<void>> {
  let l = daeListeners.get(port);
  if (!l) {
    const mags = new Set<{ nasId: string; aaa: DaeHandler }>();
    const server = new DaeServer({
      host,
      port,
      clients: clients.map((c) => ({ address: c.host, secret: c.secret, name: c.name ?? c.host })),
      logger: log,
      handler: async (req) => {
        // RFC 5176 §3: a request naming another NAS is answered 403; else the MAG holding the session acts.
        const named = req.nasIdentifier === null ? [...mags] : [...mags].filter((m) => m.nasId === req.nasIdentifier);
        if (named.length === 0) return { ok: false, errorCause: ErrorCause.NasIdentificationMismatch };
        for (const m of named) {
          const r = await m.aaa.onDae(req);
          if (r) return r;
        }
        return NOT_FOUND;
      },
    });
    l = { server, mags, starting: server.start() };
    daeListeners.set(port, l);
    try {
      await l.starting;
    } catch (e) {
      daeListeners.delete(port);
      throw e;
    }
  } else {
    await l.starting;
  }
  const listener = l;
  listener.mags.add(entry);
  return async () => {
    listener.mags.delete(entry);
    if (listener.mags.size === 0 && daeListeners.get(port) === listener) {
      daeListeners.delete(port);
      await listener.server.stop();
    }
  };
}

/** What one MAG's RFC 5176 handling acts on. */
export interface MagDaeContext {
  mag: Mag;
  policy: RadiusMagPolicy;
  accounting: MagAccounting;
  log: Logger;
}

/** The MAG keys a request names: by Acct-Session-Id, else by Mobile-Node-Identifier or User-Name. */
function findKeys(req: DaeRequest, { mag, policy, accounting }: MagDaeContext): string[] {
  if (req.acctSessionId) {
    for (const s of accounting.sessions.values()) if (s.id === req.acctSessionId) return [s.key];
    return [];
  }
  const keys = new Set<string>();
  for (const id of [req.mnId, req.userName]) if (id && mag.view.get(policy.keyOf(id))) keys.add(policy.keyOf(id));
  return [...keys];
}

/** CoA-Request or Disconnect-Request on this MAG; null: no session of the MN here. */
export async function applyDae(req: DaeRequest, ctx: MagDaeContext): Promise<DaeResult | null> {
  const { mag, policy, accounting, log } = ctx;
  const keys = findKeys(req, ctx);
  if (keys.length === 0) return null;
  if (req.kind === 'coa') {
    let sessions = 0;
    for (const k of keys) {
      policy.invalidate(k);
      const r = await mag.reRegister(k);
      if (r.policyError) return { ok: false, errorCause: ErrorCause.ResourcesUnavailable };
      sessions += r.sessions;
    }
    log.info({ mnIds: keys, sessions, from: req.from }, 'CoA-Request: re-registered with the new profile (RFC 5176)');
    return sessions > 0 ? { ok: true } : NOT_FOUND;
  }
  let n = 0;
  for (const k of keys) {
    policy.invalidate(k);
    const links = new Set(accounting.of(k).map((s) => s.link));
    const first = mag.view.get(k);
    if (first) links.add(first.link);
    for (const link of links) {
      accounting.setCause(k, link, Terminate.AdminReset);
      await mag.detach({ kind: 'detach', mnId: k, link });
      n++;
    }
  }
  log.info({ mnIds: keys, sessions: n, from: req.from }, 'Disconnect-Request: de-registered (RFC 5176)');
  return n > 0 ? { ok: true } : NOT_FOUND;
}
