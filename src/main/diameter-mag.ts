// The MAG's AAA over Diameter (RFC 5779 §4.1), wired by mag-role.ts when aaa.protocol is
// diameter and diameter.peers is set. The same policy and detector as over RADIUS
// (aaa-policy.ts: RadiusMagPolicy; aaa-detector.ts: AaaDetector) on DiameterAaaClient:
// - attach → AAR (AUTHORIZE_ONLY, STATE_MAINTAINED, one Session-Id per MN) → profile; a
//   refusal (5003) → not eligible; no answer → policy error;
// - the binding ends (de-registered, lost, revoked) → STR with Termination-Cause LOGOUT,
//   LINK_BROKEN or ADMINISTRATIVE (RFC 6733 §8.4, RFC 5779 §6.1);
// - RAR (the operator changed the profile) → RAA, then a new AAR in the same session and
//   Mag.reRegister (RFC 7155 §3.4); ASR (revoked) → ASA and de-registration (RFC 5779 §6.3).
// One client per identity and peer list in a process, shared by its MAGs (`pmip6 simulate`):
// RAR/ASR go to the MAG that holds the MN.
import { isIPv4, isIPv6 } from 'node:net';
import type { Config } from '../config/index.ts';
import type { Mag, MagEventSink } from '../mag/index.ts';
import { FeatureVector } from '../policy/profile.ts';
import { DiameterAaaClient, Result, TerminationCause, loadTls, type ServerRequest } from '../diameter/index.ts';
import { logger, type Logger } from '../util/log.ts';
import { AaaDetector } from './aaa-detector.ts';
import { RadiusMagPolicy } from './aaa-policy.ts';
import type { MagAaaOptions } from './mag-aaa.ts';

/** The Diameter client of this process for the config's identity and peers (shared, counted). */
const clients = new Map<string, { client: DiameterAaaClient; users: number; mags: Set<MagDiameter> }>();

export function diameterClientFor(config: Config, o: { nasIdentifier?: string; nasIpAddress?: string }): { client: DiameterAaaClient; release(): Promise<void>; mags: Set<MagDiameter> } {
  const c = config.diameter;
  const key = JSON.stringify([c.identity, c.realm, c.peers]);
  let e = clients.get(key);
  if (!e) {
    const tls = c.tlsCert && c.tlsKey && c.tlsCa ? loadTls({ cert: c.tlsCert, key: c.tlsKey, ca: c.tlsCa }) : null;
    const client = new DiameterAaaClient({
      identity: c.identity,
      realm: c.realm,
      peers: c.peers,
      tls,
      watchdogMs: c.watchdogMs,
      requestTimeoutMs: c.requestTimeoutMs,
      reconnectMaxMs: c.reconnectMaxMs,
      cacheTtlMs: c.cacheTtlMs,
      nasIdentifier: o.nasIdentifier,
      nasIpAddress: o.nasIpAddress,
      logger: logger('diameter-client'),
    });
    const mags = new Set<MagDiameter>();
    // RAR / ASR: the MAG holding the MN answers; none → DIAMETER_UNKNOWN_SESSION_ID.
    client.onServerRequest(async (r) => {
      for (const m of mags) {
        const out = await m.onServerRequest(r);
        if (out) return out;
      }
      return { resultCode: Result.UnknownSessionId };
    });
    client.start();
    e = { client, users: 0, mags };
    clients.set(key, e);
  }
  const entry = e;
  entry.users++;
  return {
    client: entry.client,
    mags: entry.mags,
    async release() {
      if (--entry.users > 0) return;
      clients.delete(key);
      await entry.client.close();
    },
  };
}

export interface MagDiameter {
  client: DiameterAaaClient;
  policy: RadiusMagPolicy<DiameterAaaClient>;
  /** The detector to give the MAG (wraps the real one). */
  detector: AaaDetector;
  /** STR when a binding ends. */
  events: MagEventSink;
  onServerRequest(r: ServerRequest): Promise<{ resultCode: number; after?: () => void } | null>;
  bind(mag: Mag): Promise<void>;
  stop(): Promise<void>;
}

const CAUSE = { deregistered: TerminationCause.Logout, failed: TerminationCause.LinkBroken, revoked: TerminationCause.Administrative } as const;

export async function startMagDiameter(config: Config, o: MagAaaOptions): Promise<MagDiameter> {
  const log: Logger = logger('mag-aaa').child({ mag: o.nasId, aaa: 'diameter' });
  const shared = diameterClientFor(config, { nasIdentifier: o.nasId, nasIpAddress: isIPv4(o.proxyCoa) || isIPv6(o.proxyCoa) ? o.proxyCoa : undefined });
  const client = shared.client;
  const featureVector = FeatureVector.PMIP6_SUPPORTED | (o.requestIpv4 ? FeatureVector.IP4_HOA_SUPPORTED : 0n);
  const policy = new RadiusMagPolicy(client, { featureVector, log, protocol: 'Diameter' });
  let mag: Mag | null = null;
  const detector = new AaaDetector(o.detector, policy, (key, link) => mag?.view.get(key, link) !== undefined, log);
  const pending = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>): void => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  const self: MagDiameter = {
    client,
    policy,
    detector,
    events: {
      emit(e) {
        if (e.type !== 'deregistered' && e.type !== 'failed' && e.type !== 'revoked') return;
        if (e.type === 'revoked' && e.ipv4Only) return;
        const key = e.mnId;
        // The session is the MN's on this MAG: it ends with its last binding here.
        queueMicrotask(() => {
          if (mag?.view.get(key)) return;
          const userName = policy.naiOf(key);
          if (!client.sessionId(userName)) return;
          track(client.terminate(userName, CAUSE[e.type]).then((ok) => {
            if (!ok) log.warn({ mnId: key }, 'STR not answered');
          }));
        });
      },
    },
    async onServerRequest(r) {
      if (!mag) return null;
      const key = policy.keyOf(r.userName);
      const held = mag.view.list().filter((b) => b.mnId === key);
      if (held.length === 0) return null;
      const m = mag;
      if (r.kind === 'rar') {
        log.info({ mnId: key, session: r.sessionId }, 'RAR: re-authorizing with the new profile (RFC 7155 §3.4)');
        return {
          resultCode: Result.Success,
          after: () => {
            policy.invalidate(key);
            track(m.reRegister(key).then((x) => {
              if (x.policyError) log.warn({ mnId: key }, 'RAR: the new AAR failed; the binding keeps its profile');
            }));
          },
        };
      }
      log.info({ mnId: key, session: r.sessionId }, 'ASR: de-registering (RFC 5779 §6.3)');
      return {
        resultCode: Result.Success,
        after: () => {
          policy.invalidate(key);
          for (const b of held) track(m.detach({ kind: 'detach', mnId: key, link: b.link }));
        },
      };
    },
    async bind(m) {
      mag = m;
      shared.mags.add(self);
    },
    async stop() {
      shared.mags.delete(self);
      const until = Date.now() + config.diameter.requestTimeoutMs + 100;
      while (pending.size > 0 && Date.now() < until) await Promise.race([...pending, new Promise((r) => setTimeout(r, 50))]);
      await shared.release();
    },
  };
  return self;
}
