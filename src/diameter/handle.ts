// The server's decisions on application requests (NASREQ, RFC 7155, carrying RFC 5779): request
// in, answer out. No sockets (server.ts owns them); the policy is injected. Order of checks
// (RFC 6733 §7: report the first error found):
//   1. header Application-ID must be NASREQ (1)                  → 3007 APPLICATION_UNSUPPORTED
//   2. command AA (265) or STR (275)                             → 3001 COMMAND_UNSUPPORTED
//   3. required AVPs present ({...} in RFC 7155 §3.1 / §3.5)     → 5005 MISSING_AVP + Failed-AVP
//      at most one Session-Id (§8.8)                             → 5009 AVP_OCCURS_TOO_MANY_TIMES
//   4. Destination-Realm is ours (§6.1.4), Destination-Host, if
//      any, is us                                                → 3003 REALM_NOT_SERVED / 3002
//   5. Auth-Application-Id 1, Auth-Request-Type known            → 5004 INVALID_AVP_VALUE
//   6. AAR from an LMA (RFC 5779 §4.2: AUTHORIZE_ONLY and a MIP6-Agent-Info with the LMA's address)
//      or from a MAG (§4.1): the profile decides                 → 2001, or 5003 AUTHORIZATION_REJECTED
import { App, Avp, AuthRequestType, AuthSessionState, Cmd, Result } from './constants.ts';
import { AvpWriter, findAll, findAvp, type DiameterMessage, type RawAvp } from './codec.ts';
import { answerHeader, buildErrorAnswer, type LocalNode } from './build.ts';
import type { DiameterPeer, DiameterPolicy } from './policy.ts';
import { readAgentInfo, writeLmaAnswer, writeMagAnswer } from './rfc5779.ts';
import { missingAvp } from './validate.ts';
import { decU32, decU64, decUtf8, sameIdentity } from './values.ts';
import { decideService, serviceAllowed, type RadiusProfile } from '../radius/rfc6572.ts';
import { allowsIpv4 } from '../policy/profile.ts';
import { canonicalAddress } from '../util/ip.ts';

const sameIp = (a: string, b: string): boolean => a === b || (canonicalAddress(a) ?? a) === (canonicalAddress(b) ?? b);

export interface HandleContext {
  node: LocalNode;
  policy: DiameterPolicy;
  /** The peer connection's provisioned name (audit, logs). */
  peerName: string;
  /** The admitted peer's role and own LMA addresses, and the address it connects from. */
  peer: Pick<DiameterPeer, 'role' | 'lmaAddresses'> & { remoteAddress: string };
  /** Whether a Session-Id names a session this server keeps (STR). */
  sessionKnown(sessionId: string): boolean;
}

export type RequestKind = 'mag_aar' | 'lma_aar' | 'str' | 'other';

export interface Outcome {
  answer: Buffer;
  resultCode: number;
  kind: RequestKind;
  /** A MAG session to keep (success with STATE_MAINTAINED, RFC 6733 §8.1). */
  keep?: { sessionId: string; mnId: string; originHost: string; userName: string | null };
  /** A session that ended (STR, §8.4). */
  end?: string;
  reason?: string;
  /** A refusal the server counts as a problem of the peer (a fixed cause). */
  problem?: 'not_an_lma' | 'lma_address_not_own';
}

type Ctx = HandleContext;

function error(m: DiameterMessage, ctx: Ctx, kind: RequestKind, resultCode: number, reason: string, failedAvp?: Buffer): Outcome {
  const sid = findAvp(m.avps, Avp.SessionId);
  return { kind, resultCode, reason, answer: buildErrorAnswer(ctx.node, m, resultCode, sid ? sid.data : null, { errorMessage: reason, failedAvp }) };
}

/** Steps 3–5, shared by AAR and STR. Returns an error outcome or null. */
function common(m: DiameterMessage, ctx: Ctx, kind: RequestKind, required: number[]): Outcome | null {
  for (const code of required) {
    if (!findAvp(m.avps, code)) return error(m, ctx, kind, Result.MissingAvp, `missing AVP ${code}`, missingAvp(code));
  }
  const sids = findAll(m.avps, Avp.SessionId);
  if (sids.length > 1) return error(m, ctx, kind, Result.AvpOccursTooManyTimes, 'more than one Session-Id', Buffer.from(sids[1].raw));
  const dr = findAvp(m.avps, Avp.DestinationRealm)!;
  const realm = decUtf8(dr.data);
  if (realm === null || !sameIdentity(realm, ctx.node.originRealm)) return error(m, ctx, kind, Result.RealmNotServed, `realm ${realm ?? '?'} is not served here`);
  const dh = findAvp(m.avps, Avp.DestinationHost);
  if (dh) {
    const host = decUtf8(dh.data);
    if (host === null || !sameIdentity(host, ctx.node.originHost)) return error(m, ctx, kind, Result.UnableToDeliver, `Destination-Host ${host ?? '?'} is not this server`);
  }
  const app = decU32(findAvp(m.avps, Avp.AuthApplicationId)!.data);
  if (app !== App.Nasreq) {
    const a = findAvp(m.avps, Avp.AuthApplicationId)!;
    return error(m, ctx, kind, Result.InvalidAvpValue, `Auth-Application-Id ${app} is not NASREQ`, Buffer.from(a.raw));
  }
  return null;
}

const AAR_REQUIRED = [Avp.SessionId, Avp.AuthApplicationId, Avp.OriginHost, Avp.OriginRealm, Avp.DestinationRealm, Avp.AuthRequestType];
const STR_REQUIRED = [Avp.SessionId, Avp.OriginHost, Avp.OriginRealm, Avp.DestinationRealm, Avp.AuthApplicationId, Avp.TerminationCause];

/** One application request from an open peer connection. */
export function handleRequest(m: DiameterMessage, ctx: Ctx): Outcome | Promise<Outcome> {
  if (m.applicationId !== App.Nasreq) return error(m, ctx, 'other', Result.ApplicationUnsupported, `application ${m.applicationId} is not supported`);
  if (m.commandCode === Cmd.AA) return handleAar(m, ctx);
  if (m.commandCode === Cmd.SessionTermination) return handleStr(m, ctx);
  return error(m, ctx, 'other', Result.CommandUnsupported, `command ${m.commandCode} is not supported`);
}

const text = (avps: readonly RawAvp[], code: number): string | null => {
  const a = findAvp(avps, code);
  return a ? decUtf8(a.data) : null;
};

/** The fixed head of every AA-Answer (RFC 7155 §3.2 order). */
function aaaHead(m: DiameterMessage, ctx: Ctx, resultCode: number, size: number): AvpWriter {
  const w = new AvpWriter(answerHeader(m, resultCode), size);
  w.octets(Avp.SessionId, findAvp(m.avps, Avp.SessionId)!.data);
  w.u32(Avp.AuthApplicationId, App.Nasreq);
  w.u32(Avp.AuthRequestType, decU32(findAvp(m.avps, Avp.AuthRequestType)!.data) ?? AuthRequestType.AuthorizeOnly);
  w.u32(Avp.ResultCode, resultCode);
  w.utf8(Avp.OriginHost, ctx.node.originHost);
  w.utf8(Avp.OriginRealm, ctx.node.originRealm);
  return w;
}

function reject(m: DiameterMessage, ctx: Ctx, kind: RequestKind, reason: string): Outcome {
  const w = aaaHead(m, ctx, Result.AuthorizationRejected, 256);
  w.utf8(Avp.ErrorMessage, reason.slice(0, 200), 0);
  return { kind, resultCode: Result.AuthorizationRejected, reason, answer: w.bytes() };
}

function handleAar(m: DiameterMessage, ctx: Ctx): Outcome | Promise<Outcome> {
  const bad = common(m, ctx, 'mag_aar', AAR_REQUIRED);
  if (bad) return bad;
  const art = findAvp(m.avps, Avp.AuthRequestType)!;
  const type = decU32(art.data);
  if (type !== AuthRequestType.AuthorizeOnly && type !== AuthRequestType.AuthorizeAuthenticate && type !== AuthRequestType.AuthenticateOnly) {
    return error(m, ctx, 'mag_aar', Result.InvalidAvpValue, `Auth-Request-Type ${type}`, Buffer.from(art.raw));
  }
  // RFC 5779 §4.2.1: the LMA asks AUTHORIZE_ONLY and reports itself in MIP6-Agent-Info (§4.2.2).
  if (type === AuthRequestType.AuthorizeOnly && findAvp(m.avps, Avp.Mip6AgentInfo)) return handleLma(m, ctx);
  // This server hands out profiles; it does not check MN credentials (as the RADIUS server).
  if (type === AuthRequestType.AuthenticateOnly) return error(m, ctx, 'mag_aar', Result.UnableToComply, 'authentication only is not offered: ask for authorization');
  const userName = text(m.avps, Avp.UserName);
  const mnId = text(m.avps, Avp.MobileNodeIdentifier) ?? userName;
  if (!mnId) return error(m, ctx, 'mag_aar', Result.MissingAvp, 'no User-Name', missingAvp(Avp.UserName));
  const fvA = findAvp(m.avps, Avp.Mip6FeatureVector);
  const fv = fvA ? decU64(fvA.data) ?? undefined : undefined;
  const service = text(m.avps, Avp.ServiceSelection) ?? undefined;
  const now = ctx.policy.peekProfile?.(mnId);
  if (now !== undefined) return magAnswer(m, ctx, mnId, userName, fv, service, now);
  return ctx.policy.findProfile(mnId).then((p) => magAnswer(m, ctx, mnId, userName, fv, service, p));
}

/**
 * The answer's profile AVPs per profile object and requested MIP6-Feature-Vector (a new object
 * after a change is a new key): a profile is asked about with one or two vectors, so a short
 * list beats a keyed map, and the decision (RFC 5447 §4.2.5 / RFC 5779 §5.5) is made once.
 */
type Block = { fv: bigint | undefined; realm: string; bytes: Buffer | null; reason: string };
const blockCache = new WeakMap<object, Block[]>();

function magBlock(p: RadiusProfile, fv: bigint | undefined, realm: string): Block {
  let list = blockCache.get(p);
  if (list) {
    for (const b of list) if (b.fv === fv && b.realm === realm) return b;
  } else {
    list = [];
    blockCache.set(p, list);
  }
  const d = decideService(fv, p);
  let b: Block;
  if (!d.ok) b = { fv, realm, bytes: null, reason: d.reason };
  else {
    const w = new AvpWriter(undefined, 256);
    writeMagAnswer(w, p, d.decision, realm);
    // Kept as long as the profile: its own memory, not a slice of Node's shared 8 KiB pool
    // (a cached slice would keep a whole pool slab of short-lived buffers alive).
    const out = w.bytes();
    const bytes = Buffer.allocUnsafeSlow(out.length);
    out.copy(bytes);
    b = { fv, realm, bytes, reason: '' };
  }
  if (list.length < 8) list.push(b);
  return b;
}

function magAnswer(m: DiameterMessage, ctx: Ctx, mnId: string, userName: string | null, fv: bigint | undefined, service: string | undefined, p: RadiusProfile | null): Outcome {
  if (!p) return reject(m, ctx, 'mag_aar', `unknown mobile node ${mnId}`);
  if (!p.enabled) return reject(m, ctx, 'mag_aar', `mobile node ${mnId} is disabled`);
  if (!serviceAllowed(service, p)) return reject(m, ctx, 'mag_aar', `service '${service}' not allowed for ${mnId}`);
  const block = magBlock(p, fv, ctx.node.originRealm);
  if (!block.bytes) return reject(m, ctx, 'mag_aar', block.reason);
  const w = aaaHead(m, ctx, Result.Success, 160 + block.bytes.length);
  if (userName) w.utf8(Avp.UserName, userName);
  const ass = findAvp(m.avps, Avp.AuthSessionState);
  const state = ass ? decU32(ass.data) : AuthSessionState.StateMaintained; // §8.11: absent = STATE_MAINTAINED
  w.u32(Avp.AuthSessionState, state === AuthSessionState.NoStateMaintained ? AuthSessionState.NoStateMaintained : AuthSessionState.StateMaintained);
  w.raw(block.bytes);
  const out: Outcome = { kind: 'mag_aar', resultCode: Result.Success, answer: w.bytes() };
  if (state !== AuthSessionState.NoStateMaintained) {
    out.keep = { sessionId: decUtf8(findAvp(m.avps, Avp.SessionId)!.data) ?? '', mnId: p.mnId, originHost: text(m.avps, Avp.OriginHost) ?? '', userName };
  }
  return out;
}

/** RFC 5779 §4.2: authorise the PBU, record the LMA, exchange or assign HNP / IPv4 HoA. */
async function handleLma(m: DiameterMessage, ctx: Ctx): Promise<Outcome> {
  const userName = text(m.avps, Avp.UserName);
  const mnId = userName ?? text(m.avps, Avp.MobileNodeIdentifier);
  if (!mnId) return error(m, ctx, 'lma_aar', Result.MissingAvp, 'no User-Name', missingAvp(Avp.UserName));
  const info = readAgentInfo(m.avps);
  if (!info.ok) return error(m, ctx, 'lma_aar', Result.InvalidAvpValue, info.reason, Buffer.from(info.failed.raw));
  const v = info.value;
  // RFC 5779 §4.2 is the LMA's request, about the LMA itself: only a peer provisioned with the
  // role 'lma' may send it, and only naming its own address (as over RADIUS, RFC 6572 §6).
  if (ctx.peer.role !== 'lma') return { ...reject(m, ctx, 'lma_aar', 'PBU authorisation is accepted from LMA peers only'), problem: 'not_an_lma' };
  const own = v.lmaAddress !== null && [ctx.peer.remoteAddress, ...ctx.peer.lmaAddresses].some((a) => sameIp(a, v.lmaAddress!));
  if (!own) return { ...reject(m, ctx, 'lma_aar', "the LMA address is not the peer's own"), problem: 'lma_address_not_own' };
  const fvA = findAvp(m.avps, Avp.Mip6FeatureVector);
  const fv = fvA ? decU64(fvA.data) ?? undefined : undefined;
  const res = await ctx.policy.authorizeLma({
    mnId,
    userName,
    lmaAddress: v.lmaAddress,
    hnps: v.hnps,
    ipv4HoA: v.ipv4HoA === null || v.ipv4HoA === 'delegate' ? v.ipv4HoA : { address: v.ipv4HoA, prefixLength: 32 },
    serviceSelection: text(m.avps, Avp.ServiceSelection),
    callingStationId: text(m.avps, Avp.CallingStationId),
    peer: ctx.peerName,
  });
  if (!res.ok) return reject(m, ctx, 'lma_aar', res.reason);
  const p = res.profile;
  if (!p.enabled) return reject(m, ctx, 'lma_aar', 'mobile node disabled');
  const d = decideService(fv, p);
  if (!d.ok) return reject(m, ctx, 'lma_aar', d.reason);
  // The answer carries what the request asked about (as RFC 6572 §4.8/§4.12 for RADIUS).
  if (v.hnps !== null) d.decision.ipv6 = true;
  if (v.ipv4HoA !== null && allowsIpv4(p)) d.decision.ipv4 = true;
  if (v.hnps !== null && p.hnps.length === 0) return reject(m, ctx, 'lma_aar', 'no home network prefix assigned');
  if (v.ipv4HoA !== null && p.ipv4HoA === null) return reject(m, ctx, 'lma_aar', 'no IPv4 home address assigned');
  const w = aaaHead(m, ctx, Result.Success, 384);
  const ass = findAvp(m.avps, Avp.AuthSessionState);
  if (ass) w.u32(Avp.AuthSessionState, decU32(ass.data) ?? AuthSessionState.NoStateMaintained);
  writeLmaAnswer(w, p, d.decision, userName);
  return { kind: 'lma_aar', resultCode: Result.Success, answer: w.bytes() };
}

/** STR (RFC 6733 §8.4.1, RFC 7155 §3.5) → STA: the session's state is released. */
function handleStr(m: DiameterMessage, ctx: Ctx): Outcome {
  const bad = common(m, ctx, 'str', STR_REQUIRED);
  if (bad) return bad;
  const sid = decUtf8(findAvp(m.avps, Avp.SessionId)!.data) ?? '';
  const known = ctx.sessionKnown(sid);
  const rc = known ? Result.Success : Result.UnknownSessionId;
  const w = new AvpWriter(answerHeader(m, rc), 160);
  w.octets(Avp.SessionId, findAvp(m.avps, Avp.SessionId)!.data);
  w.u32(Avp.ResultCode, rc);
  w.utf8(Avp.OriginHost, ctx.node.originHost);
  w.utf8(Avp.OriginRealm, ctx.node.originRealm);
  const un = findAvp(m.avps, Avp.UserName);
  if (un) w.octets(Avp.UserName, un.data);
  return { kind: 'str', resultCode: rc, answer: w.bytes(), end: known ? sid : undefined };
}
