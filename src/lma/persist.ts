// BCE <-> API record and BCE <-> persisted row (docs/ARCHITECTURE.md "Scale-out": each LMA
// commits its binding cache to the store for restart recovery; the group commit is commit.ts).
import { isIPv4 } from 'node:net';
import { ipv4ToString, parseIpv4 } from '../mh/index.ts';
import { CopyWriter } from '../store/repos/copy-writer.ts';
import type { NewRows, PersistedBinding } from '../store/repos/bindings.ts';
import { Bce, F } from './bce.ts';
import type { MagPeer } from './bce.ts';
import { encapFor } from './forwarding.ts';
import type { BindingInfo } from './types.ts';

const iso = (ms: number): string => new Date(ms).toISOString();

export function bindingInfo(b: Bce): BindingInfo {
  const gre = (b.flags & F.GRE) !== 0;
  const keys = (b.flags & F.GRE_KEYS) !== 0;
  return {
    sessionKey: b.sessionKey,
    mnId: b.mnId,
    mnLinkLayerId: b.llId,
    accessTechnologyType: b.att,
    handoffIndicator: b.hi,
    proxyCoa: b.peer.address,
    magPort: b.peer.port >= 0 ? b.peer.port : null,
    lmaAddress: b.peer.local,
    carriage: b.peer.carriage,
    hnps: b.hnpList().slice(),
    ipv4HoA: b.v4 !== 0 ? ipv4ToString(b.v4 >>> 0) : null,
    ipv4PrefixLength: b.v4 !== 0 ? b.v4Len : null,
    ipv4DefaultRouter: b.v4 !== 0 && b.v4Router !== 0 ? ipv4ToString(b.v4Router >>> 0) : null,
    magLinkLocalAddress: b.lla,
    lifetimeS: b.lifetime,
    registeredAt: iso(b.registeredAt),
    refreshedAt: iso(b.refreshedAt),
    expiresAt: iso(b.expiresAt),
    state: b.flags & F.DEREG ? 'deregistering' : 'active',
    revoking: (b.flags & F.REVOKING) !== 0,
    peerRestarted: (b.flags & F.PEER_RESTARTED) !== 0,
    magReachable: !b.peer.unreachable,
    timestampMs: b.ts !== 0 ? (b.ts / 65536) * 1000 : null,
    sequence: b.seq,
    tunnel: b.flags & F.FWD || gre
      ? { encap: encapFor(b), greKeyUplink: gre && keys ? b.greUp >>> 0 : null, greKeyDownlink: gre && keys ? b.greDown >>> 0 : null }
      : null,
  };
}

/** Fields of PersistedBinding.state (everything the columns do not hold). */
interface PersistedState {
  v: 1;
  port: number;
  local: string;
  carriage: string;
  hi: number;
  ts: number;
  seq: number;
  flags: number;
  v4Len: number;
  v4Router: number;
  lla: string | null;
  greUp: number;
  greDown: number;
  /** Routing context (Bce.ctx), when not the default. */
  ctx: number;
  policyAt: number;
  refreshedAt: number;
  /** De-registered: when the BCE goes (MinDelayBeforeBCEDelete). */
  deadline: number;
}

const PERSISTED_FLAGS = F.DEREG | F.GRE | F.GRE_KEYS | F.POL_V6 | F.POL_V4 | F.POL_GRE_OPT | F.POL_GRE_REQ | F.POL_MAG_OK | F.UDP_ENCAP;

export function toPersisted(lmaId: string, b: Bce): PersistedBinding {
  // Fields at their default are left out (fromPersisted reads them back as 0 / null / expiresAt):
  // a smaller row on the registration path.
  const state: Partial<PersistedState> = {
    v: 1,
    port: b.peer.port,
    local: b.peer.local,
    carriage: b.peer.carriage,
    hi: b.hi,
    ts: b.ts,
    seq: b.seq,
    flags: b.flags & PERSISTED_FLAGS,
    policyAt: b.policyAt,
    refreshedAt: b.refreshedAt,
  };
  if (b.v4Len !== 0) state.v4Len = b.v4Len;
  if (b.v4Router !== 0) state.v4Router = b.v4Router;
  if (b.lla !== null) state.lla = b.lla;
  if (b.greUp !== 0) state.greUp = b.greUp;
  if (b.greDown !== 0) state.greDown = b.greDown;
  if (b.ctx !== 0) state.ctx = b.ctx;
  if (b.flags & F.DEREG) state.deadline = b.deadline;
  return {
    lmaId,
    sessionKey: b.sessionKey,
    mnId: b.mnId,
    mnLlId: b.llId,
    att: b.att,
    proxyCoa: b.peer.address,
    hnps: b.hnpList().slice(),
    ipv4HoA: b.v4 !== 0 ? ipv4ToString(b.v4 >>> 0) : null,
    lifetimeS: b.lifetime,
    registeredAt: new Date(b.registeredAt),
    // A de-registered binding lives only until MinDelayBeforeBCEDelete ends.
    expiresAt: new Date(b.flags & F.DEREG ? Math.min(b.deadline, b.expiresAt) : b.expiresAt),
    state: state as unknown as Record<string, unknown>,
  };
}

// A JSON string needing no escape in JSON nor in COPY text (no quote, backslash, control or non-ASCII character).
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function json(w: CopyWriter, v: string): void {
  if (PLAIN.test(v)) {
    w.byte(34); // '"'
    w.raw(v);
    w.byte(34);
  } else {
    w.text(JSON.stringify(v));
  }
}

/** A number as a JSON object member `,"name":n` (names are plain ASCII). */
function member(w: CopyWriter, name: string, n: number): void {
  w.raw(name);
  w.num(n);
}

/**
 * One row of the binding store's COPY input (NewRows.copyData's format), straight from the BCE
 * into bytes: the same content as toPersisted(b) there, state JSON in the same key order,
 * without the intermediate objects, strings, JSON.stringify and Date (the registration path; issue 12).
 * `lmaText`: the LMA's id, already escaped for COPY.
 */
export function copyRow(w: CopyWriter, lmaText: string, b: Bce): void {
  const p = b.peer;
  const h = b.hnps;
  const dereg = (b.flags & F.DEREG) !== 0;
  w.raw(lmaText);
  w.byte(9);
  w.num(b.id); // sessionKey
  w.byte(9);
  w.text(b.mnId);
  w.byte(9);
  if (b.llId === null) w.raw('\\N');
  else w.text(b.llId);
  w.byte(9);
  w.num(b.att);
  w.byte(9);
  w.text(p.address);
  w.byte(9);
  w.byte(123); // '{'
  if (typeof h === 'string') w.text(h);
  else if (h !== null) {
    for (let i = 0; i < h.length; i++) {
      if (i > 0) w.byte(44); // ','
      w.text(h[i]);
    }
  }
  w.byte(125); // '}'
  w.byte(9);
  if (b.v4 !== 0) w.raw(ipv4ToString(b.v4 >>> 0));
  else w.raw('\\N');
  w.byte(9);
  w.num(b.lifetime);
  w.byte(9);
  w.timestamp(b.registeredAt);
  w.byte(9);
  w.timestamp(dereg ? Math.min(b.deadline, b.expiresAt) : b.expiresAt);
  w.byte(9);
  member(w, '{"v":1,"port":', p.port);
  w.raw(',"local":');
  json(w, p.local);
  w.raw(',"carriage":');
  json(w, p.carriage);
  member(w, ',"hi":', b.hi);
  member(w, ',"ts":', b.ts);
  member(w, ',"seq":', b.seq);
  member(w, ',"flags":', b.flags & PERSISTED_FLAGS);
  member(w, ',"policyAt":', b.policyAt);
  member(w, ',"refreshedAt":', b.refreshedAt);
  if (b.v4Len !== 0) member(w, ',"v4Len":', b.v4Len);
  if (b.v4Router !== 0) member(w, ',"v4Router":', b.v4Router);
  if (b.lla !== null) {
    w.raw(',"lla":');
    json(w, b.lla);
  }
  if (b.greUp !== 0) member(w, ',"greUp":', b.greUp);
  if (b.greDown !== 0) member(w, ',"greDown":', b.greDown);
  if (b.ctx !== 0) member(w, ',"ctx":', b.ctx);
  if (dereg) member(w, ',"deadline":', b.deadline);
  w.byte(125);
  w.byte(10);
}

const WRITER = new CopyWriter(64 * 1024);

/** New BCEs of one batch as the binding store's NewRows. */
export function newRows(lmaId: string, bces: readonly Bce[]): NewRows {
  return {
    count: bces.length,
    copyData(lmaText: string): Buffer {
      const w = WRITER.reset(); // one buffer for every batch: the result is a copy of what it holds
      for (let i = 0; i < bces.length; i++) copyRow(w, lmaText, bces[i]);
      return w.bytes();
    },
    rows: () => bces.map((b) => toPersisted(lmaId, b)),
  };
}

/** Rebuilds a BCE from its row; `peerFor` finds or creates the MAG record. Null if the row is unusable. */
export function fromPersisted(
  p: PersistedBinding,
  peerFor: (key: string, address: string, port: number, local: string, carriage: string) => MagPeer | null,
): Bce | null {
  const id = Number(p.sessionKey);
  if (!Number.isSafeInteger(id) || id <= 0) return null;
  const s = p.state as unknown as Partial<PersistedState>;
  const port = typeof s.port === 'number' ? s.port : -1;
  const local = typeof s.local === 'string' ? s.local : '';
  const carriage = typeof s.carriage === 'string' ? s.carriage : isIPv4(p.proxyCoa) ? 'udp4' : 'ip6';
  const key = p.proxyCoa; // a MAG is its address (RFC 5213 §5.3.5), whatever its UDP port
  const peer = peerFor(key, p.proxyCoa, port, local, carriage);
  if (!peer) return null;
  const b = new Bce(id, p.mnId, p.mnLlId, p.att ?? 0, peer);
  b.hnps = p.hnps.length === 0 ? null : p.hnps.length === 1 ? p.hnps[0] : p.hnps.slice();
  if (p.ipv4HoA) b.v4 = parseIpv4(p.ipv4HoA) | 0;
  b.v4Len = s.v4Len ?? 0;
  b.v4Router = s.v4Router ?? 0;
  b.lla = s.lla ?? null;
  b.ts = s.ts ?? 0;
  b.seq = s.seq ?? 0;
  b.hi = s.hi ?? 0;
  b.lifetime = p.lifetimeS;
  b.registeredAt = p.registeredAt.getTime();
  b.refreshedAt = s.refreshedAt ?? b.registeredAt;
  b.expiresAt = p.expiresAt.getTime();
  b.policyAt = s.policyAt ?? 0;
  b.flags = (s.flags ?? 0) & PERSISTED_FLAGS;
  b.greUp = s.greUp ?? 0;
  b.greDown = s.greDown ?? 0;
  b.ctx = typeof s.ctx === 'number' && Number.isInteger(s.ctx) && s.ctx >= 0 && s.ctx < 16 ? s.ctx : 0;
  b.deadline = b.flags & F.DEREG ? (s.deadline ?? b.expiresAt) : b.expiresAt;
  return b;
}
