// Server request handling: decoded, authenticated request + policy → response or drop.
// No sockets here (server.ts owns them). RFC 6572 §5 (MAG), §6 (LMA), §7 (accounting),
// RFC 2866 (accounting), RFC 5997 (Status-Server).
import { createHash } from 'node:crypto';
import { AttrWriter } from './attrs.ts';
import { getAll, getAttr, proxyStateBytes, type Packet } from './codec.ts';
import { AcctStatus, Attr, Code, ServiceType } from './constants.ts';
import type { AccountingRecord, AcctStatusType, RadiusClient, RadiusPolicy } from './policy.ts';
import { decideService, serviceAllowed, writeLmaAccept, writeMagAccept, type RadiusProfile, type ServiceDecision } from './rfc6572.ts';
import {
  decodeInteger,
  decodeInteger64,
  decodeIpv4PrefixValue,
  decodeIpv6PrefixValue,
  formatIpv4,
  formatIpv6,
  formatIpv6Prefix,
  unmapAddress,
} from './values.ts';
import { allowsIpv4 } from '../policy/profile.ts';
import { canonicalAddress } from '../util/ip.ts';
import { decodeIdentifier, describeIdentifierProblem } from '../policy/identifier.ts';

export type Outcome =
  | { kind: 'respond'; code: number; attrs: Buffer; withMa: boolean; reason?: string; warnings?: string[] }
  | { kind: 'drop'; cause: string; detail?: string };

export type RequestKind = 'access' | 'lma_authorize' | 'accounting' | 'status';

const utf8 = (b: Buffer | undefined): string | null => (b === undefined ? null : b.toString('utf8'));
/** Free text for the accounting table: invalid UTF-8 and NUL become U+FFFD (PostgreSQL text holds neither). */
const text = (b: Buffer | undefined): string | null => (b === undefined ? null : b.toString('utf8').replace(/\0/g, '\uFFFD'));

/**
 * The MN identifier of a request: Mobile-Node-Identifier, else User-Name (RFC 6572 §3.1),
 * checked at the edge (src/policy/identifier.ts): a NUL, a control or bidirectional control
 * character or broken UTF-8 is refused here, before any lookup.
 */
function mnIdentifier(p: Packet): { mnId: string; userName: string | null } | { bad: string } | null {
  const raw = getAttr(p, Attr.MobileNodeIdentifier);
  const un = getAttr(p, Attr.UserName);
  let userName: string | null = null;
  if (un !== undefined) {
    const d = decodeIdentifier(un);
    if (!d.ok) return { bad: `User-Name ${describeIdentifierProblem(d.problem)}` };
    userName = d.text;
  }
  if (raw !== undefined) {
    const d = decodeIdentifier(raw);
    if (!d.ok) return { bad: `Mobile-Node-Identifier ${describeIdentifierProblem(d.problem)}` };
    return { mnId: d.text, userName };
  }
  return userName === null ? null : { mnId: userName, userName };
}

function reject(p: Packet, reason: string, withReplyMessage: boolean): Outcome {
  const w = new AttrWriter(64);
  if (withReplyMessage) w.text(Attr.ReplyMessage, reason.slice(0, 200));
  w.raw(proxyStateBytes(p));
  return { kind: 'respond', code: Code.AccessReject, attrs: w.bytes(), withMa: true, reason };
}

/** Access-Request from a MAG (RFC 6572 §5.1) or an LMA (Service-Type 17, §6.1). */
export async function handleAccessRequest(p: Packet, client: RadiusClient, policy: RadiusPolicy): Promise<Outcome> {
  const st = getAttr(p, Attr.ServiceType);
  if (st && st.length === 4 && st.readUInt32BE(0) === ServiceType.AuthorizeOnly) return handleLmaRequest(p, client, policy);

  // This server authorises (RFC 6572 profile download); it does not run EAP (RFC 3579).
  if (getAttr(p, Attr.EapMessage)) return reject(p, 'EAP is not supported by this server', false);
  const id = mnIdentifier(p);
  if (!id) return reject(p, 'missing User-Name', false);
  if ('bad' in id) return reject(p, id.bad, false);
  const mnId = id.mnId;
  // RFC 2865 §4.1 / RFC 6572 §5.1: at least one NAS identification attribute.
  if (!getAttr(p, Attr.NasIpAddress) && !getAttr(p, Attr.NasIpv6Address) && !getAttr(p, Attr.NasIdentifier)) {
    return reject(p, 'missing NAS-IP-Address, NAS-IPv6-Address and NAS-Identifier', false);
  }
  const fvRaw = getAttr(p, Attr.Mip6FeatureVector);
  let fv: bigint | undefined;
  if (fvRaw) {
    const n = decodeInteger64(fvRaw);
    if (n === null) return reject(p, 'malformed MIP6-Feature-Vector', false);
    fv = n;
  }
  const service = utf8(getAttr(p, Attr.ServiceSelection)) ?? undefined;

  let profile = await policy.findProfile(mnId);
  // An MN the MAG knows only by its MAC (policy.ts findProfileByLinkLayerId): by Calling-Station-Id.
  const csi = profile ? null : linkLayerIdOf(utf8(getAttr(p, Attr.CallingStationId)));
  if (!profile && csi && policy.findProfileByLinkLayerId) profile = await policy.findProfileByLinkLayerId(csi);
  if (!profile) return reject(p, `unknown mobile node ${mnId}`, false);
  if (!profile.enabled) return reject(p, `mobile node ${mnId} is disabled`, false);
  if (!serviceAllowed(service, profile)) return reject(p, `service '${service}' not allowed for ${mnId}`, false);
  const d = decideService(fv, profile);
  if (!d.ok) return reject(p, d.reason, false);

  const block = magAcceptBlock(profile, d.decision);
  const ps = proxyStateBytes(p);
  if (!ps && !getAttr(p, Attr.ChargeableUserIdentity)) {
    return { kind: 'respond', code: Code.AccessAccept, attrs: block.attrs, withMa: true, warnings: block.warnings };
  }
  const w = new AttrWriter(block.attrs.length + 64);
  w.raw(block.attrs);
  echoCui(p, w, profile.mnId);
  w.raw(ps);
  return { kind: 'respond', code: Code.AccessAccept, attrs: w.bytes(), withMa: true, warnings: block.warnings };
}

/**
 * The encoded RFC 6572 attributes of a profile for one service decision, cached per profile
 * object (a policy that returns the same object until the profile changes gets them encoded
 * once; a new object after an update is a new cache key).
 */
const acceptCache = new WeakMap<object, Map<string, { attrs: Buffer; warnings: string[] }>>();

function magAcceptBlock(profile: RadiusProfile, d: ServiceDecision): { attrs: Buffer; warnings: string[] } {
  const k = `${d.featureVector}|${d.ipv6 ? 1 : 0}${d.ipv4 ? 1 : 0}`;
  let m = acceptCache.get(profile);
  const hit = m?.get(k);
  if (hit) return hit;
  const w = new AttrWriter(256);
  const warnings = writeMagAccept(w, profile, d);
  const v = { attrs: w.bytes(), warnings };
  if (!m) {
    m = new Map();
    acceptCache.set(profile, m);
  }
  m.set(k, v);
  return v;
}

/**
 * RFC 4372 §2.1: a CUI in the request MUST come back in the Accept. A NUL CUI asks the server to
 * assign one: we return a stable opaque value derived from the MN identity.
 */
function echoCui(p: Packet, w: AttrWriter, mnId: string): void {
  const cui = getAttr(p, Attr.ChargeableUserIdentity);
  if (!cui) return;
  if (cui.length === 1 && cui[0] === 0) {
    w.text(Attr.ChargeableUserIdentity, createHash('sha256').update('pmip6-cui\0').update(mnId).digest('hex').slice(0, 32));
  } else {
    w.octets(Attr.ChargeableUserIdentity, cui);
  }
}

/**
 * LMA authorisation (RFC 6572 §6.1): Service-Type 17, no State required (RFC 5080 §2.1.1
 * conflicts; aaa-mib.md §7.3). "::/128" in 151 and "0.0.0.0/32" in 155 delegate assignment.
 */
async function handleLmaRequest(p: Packet, client: RadiusClient, policy: RadiusPolicy): Promise<Outcome> {
  const id = mnIdentifier(p);
  if (!id) return reject(p, 'missing Mobile-Node-Identifier and User-Name', true);
  if ('bad' in id) return reject(p, id.bad, true);
  const { mnId, userName } = id;

  const v6 = getAttr(p, Attr.Pmip6HomeLmaIpv6Address) ?? getAttr(p, Attr.Pmip6VisitedLmaIpv6Address);
  const v4 = getAttr(p, Attr.Pmip6HomeLmaIpv4Address) ?? getAttr(p, Attr.Pmip6VisitedLmaIpv4Address);
  if ((v6 && v6.length !== 16) || (v4 && v4.length !== 4)) return reject(p, 'malformed LMA address', true);
  const lmaAddress = v6 ? formatIpv6(v6) : v4 ? formatIpv4(v4) : null;
  // RFC 6572 §6: Authorize-Only is the LMA's request, about the LMA itself: only a client with the
  // role 'lma' may send it, and only naming its own address (no LMA may anchor MNs elsewhere).
  if (client.role !== 'lma') return reject(p, 'Authorize-Only is accepted from LMA clients only', true);
  if (lmaAddress === null || ![client.address, ...(client.lmaAddresses ?? [])].some((a) => sameAddress(lmaAddress, a))) {
    return reject(p, "the LMA address is not the client's own", true);
  }

  let hnps: 'delegate' | string[] | null = null;
  let delegate = false;
  const reported: string[] = [];
  for (const v of getAll(p, Attr.Pmip6HomeHnPrefix).concat(getAll(p, Attr.Pmip6VisitedHnPrefix))) {
    const r = decodeIpv6PrefixValue(v);
    if (!r.ok) return reject(p, `malformed PMIP6-HN-Prefix (${r.error})`, true);
    if (r.length === 128 && r.addr.every((b) => b === 0)) delegate = true;
    else reported.push(formatIpv6Prefix(r.addr, r.length));
  }
  if (delegate) hnps = 'delegate';
  else if (reported.length > 0) hnps = reported;
  let ipv4HoA: 'delegate' | { address: string; prefixLength: number } | null = null;
  const hoaRaw = getAttr(p, Attr.Pmip6HomeIpv4HoA) ?? getAttr(p, Attr.Pmip6VisitedIpv4HoA);
  if (hoaRaw) {
    const r = decodeIpv4PrefixValue(hoaRaw, true);
    if (!r.ok) return reject(p, `malformed PMIP6-IPv4-HoA (${r.error})`, true);
    const zero = r.addr.readUInt32BE(0) === 0;
    ipv4HoA = zero ? 'delegate' : { address: formatIpv4(r.addr), prefixLength: r.length };
  }
  const fvRaw = getAttr(p, Attr.Mip6FeatureVector);
  const fv = fvRaw ? decodeInteger64(fvRaw) : undefined;
  if (fv === null) return reject(p, 'malformed MIP6-Feature-Vector', true);

  const res = await policy.authorizeLma({
    mnId, userName, lmaAddress, hnps, ipv4HoA,
    serviceSelection: utf8(getAttr(p, Attr.ServiceSelection)),
    callingStationId: utf8(getAttr(p, Attr.CallingStationId)),
    nasIdentifier: utf8(getAttr(p, Attr.NasIdentifier)),
    client,
  });
  if (!res.ok) return reject(p, res.reason, true);
  const profile = res.profile;
  if (!profile.enabled) return reject(p, 'mobile node disabled', true);
  const d = decideService(fv, profile);
  if (!d.ok) return reject(p, d.reason, true);
  // §4.8/§4.12: the Accept MUST carry 151/155 if the request did.
  if (hnps !== null) d.decision.ipv6 = true;
  if (ipv4HoA !== null && allowsIpv4(profile)) d.decision.ipv4 = true;
  if (hnps !== null && profile.hnps.length === 0) return reject(p, 'no home network prefix assigned', true);
  if (ipv4HoA !== null && profile.ipv4HoA === null) return reject(p, 'no IPv4 home address assigned', true);

  const w = new AttrWriter(256);
  writeLmaAccept(w, profile, d.decision);
  echoCui(p, w, profile.mnId);
  w.raw(proxyStateBytes(p));
  return { kind: 'respond', code: Code.AccessAccept, attrs: w.bytes(), withMa: true };
}

/** "02-00-5E-10-00-01" or "02:00:5e:10:00:01" as colon hex (the profiles' mnLinkLayerIds form), or null. */
function linkLayerIdOf(text: string | null): string | null {
  if (!text) return null;
  const hex = text.trim().toLowerCase().replace(/[:\-.]/g, '');
  return /^([0-9a-f]{2}){6,8}$/.test(hex) ? hex.match(/../g)!.join(':') : null;
}

/** Status-Server (RFC 5997 §3): Access-Accept on the auth port, Accounting-Response on acct. */
export function statusResponse(p: Packet, port: 'auth' | 'acct'): Outcome {
  const w = new AttrWriter(64);
  w.raw(proxyStateBytes(p));
  return { kind: 'respond', code: port === 'auth' ? Code.AccessAccept : Code.AccountingResponse, attrs: w.bytes(), withMa: true };
}

const STATUS_NAMES: Record<number, AcctStatusType> = {
  [AcctStatus.Start]: 'start',
  [AcctStatus.Stop]: 'stop',
  [AcctStatus.InterimUpdate]: 'interim-update',
  [AcctStatus.AccountingOn]: 'accounting-on',
  [AcctStatus.AccountingOff]: 'accounting-off',
};

/** Decode an Accounting-Request into a record (RFC 2866 §5, RFC 2869 §5.1–5.3, RFC 6572 §7.3). */
export function decodeAccounting(p: Packet, client: RadiusClient, clientAddress: string, now: Date): AccountingRecord | string {
  const st = getAttr(p, Attr.AcctStatusType);
  const stv = st ? decodeInteger(st) : null;
  if (stv === null) return 'missing or malformed Acct-Status-Type';
  const int = (t: number): number | null => {
    const v = getAttr(p, t);
    return v ? decodeInteger(v) : null;
  };
  const octets = (lo: number, hi: number): bigint | null => {
    const l = int(lo);
    if (l === null) return null;
    return (BigInt(int(hi) ?? 0) << 32n) | BigInt(l);
  };
  const v4 = (t: number): string | null => {
    const v = getAttr(p, t);
    return v && v.length === 4 ? formatIpv4(v) : null;
  };
  const v6 = (t: number): string | null => {
    const v = getAttr(p, t);
    return v && v.length === 16 ? formatIpv6(v) : null;
  };
  const hnps: string[] = [];
  for (const v of getAll(p, Attr.Pmip6HomeHnPrefix).concat(getAll(p, Attr.Pmip6VisitedHnPrefix))) {
    const r = decodeIpv6PrefixValue(v);
    if (r.ok) hnps.push(formatIpv6Prefix(r.addr, r.length));
  }
  const hoa = getAttr(p, Attr.Pmip6HomeIpv4HoA) ?? getAttr(p, Attr.Pmip6VisitedIpv4HoA);
  const hoaR = hoa ? decodeIpv4PrefixValue(hoa, true) : null;
  const ts = int(Attr.EventTimestamp);
  const fvRaw = getAttr(p, Attr.Mip6FeatureVector);
  const userName = text(getAttr(p, Attr.UserName));
  // The record is kept either way (RFC 2866 §2: answer only once recorded); an unusable identifier is not linked to an MN.
  const id = mnIdentifier(p);

  // Idempotency key: client + attributes except Acct-Delay-Time and Proxy-State.
  const h = createHash('sha256').update(clientAddress).update('\0');
  for (const a of p.attributes) {
    if (a.type === Attr.AcctDelayTime || a.type === Attr.ProxyState || a.type === Attr.MessageAuthenticator) continue;
    h.update(Buffer.from([a.type, a.value.length])).update(a.value);
  }

  return {
    key: h.digest('hex'),
    receivedAt: now,
    clientName: client.name,
    clientAddress,
    statusType: STATUS_NAMES[stv] ?? 'other',
    statusTypeValue: stv,
    sessionId: text(getAttr(p, Attr.AcctSessionId)),
    multiSessionId: text(getAttr(p, Attr.AcctMultiSessionId)),
    userName,
    mnId: id && !('bad' in id) ? id.mnId : null,
    nasIpAddress: v4(Attr.NasIpAddress),
    nasIpv6Address: v6(Attr.NasIpv6Address),
    nasIdentifier: text(getAttr(p, Attr.NasIdentifier)),
    inputOctets: octets(Attr.AcctInputOctets, Attr.AcctInputGigawords),
    outputOctets: octets(Attr.AcctOutputOctets, Attr.AcctOutputGigawords),
    inputPackets: int(Attr.AcctInputPackets),
    outputPackets: int(Attr.AcctOutputPackets),
    sessionTime: int(Attr.AcctSessionTime),
    terminateCause: int(Attr.AcctTerminateCause),
    delayTime: int(Attr.AcctDelayTime),
    eventTimestamp: ts === null ? null : new Date(ts * 1000),
    serviceSelection: text(getAttr(p, Attr.ServiceSelection)),
    lmaAddress: v6(Attr.Pmip6HomeLmaIpv6Address) ?? v4(Attr.Pmip6HomeLmaIpv4Address) ?? v6(Attr.Pmip6VisitedLmaIpv6Address) ?? v4(Attr.Pmip6VisitedLmaIpv4Address),
    hnps,
    ipv4HoA: hoaR && hoaR.ok ? `${formatIpv4(hoaR.addr)}/${hoaR.length}` : null,
    callingStationId: text(getAttr(p, Attr.CallingStationId)),
    featureVector: fvRaw ? decodeInteger64(fvRaw) : null,
  };
}

/** Accounting-Request → record it, then Accounting-Response (RFC 2866 §2: only after recording). */
export async function handleAccounting(p: Packet, client: RadiusClient, clientAddress: string, policy: RadiusPolicy, now: Date): Promise<Outcome> {
  const rec = decodeAccounting(p, client, clientAddress, now);
  if (typeof rec === 'string') return { kind: 'drop', cause: 'bad_accounting_request', detail: rec };
  await policy.recordAccounting(rec);
  const w = new AttrWriter(64);
  w.raw(proxyStateBytes(p));
  return { kind: 'respond', code: Code.AccountingResponse, attrs: w.bytes(), withMa: p.maOffset >= 0 };
}

function sameAddress(a: string, b: string): boolean {
  const x = canonicalAddress(unmapAddress(a));
  return x !== null && x === canonicalAddress(unmapAddress(b));
}
