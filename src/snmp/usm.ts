// SNMPv3 message checks done before net-snmp sees a message (RFC 3412 §7.2, RFC 3414 §3.2,
// RFC 3413 §3.2). net-snmp's agent decrypts before it authenticates, drops a message with
// a wrong digest silently, localizes keys for whatever engine ID a message names (one
// 1 MB hash and one cache entry per new ID), and checks neither the engine ID nor the time
// window. Here every v3 message is checked in RFC order and answered with the Report the
// RFCs prescribe; only messages that pass go on to net-snmp.
import type { ViewName } from './vacm.ts';
import { createHmac, timingSafeEqual } from 'node:crypto';
import snmp from 'net-snmp';
import { BerError, BerReader, CONFIRMED_PDUS, Tag, ber, encode, type BerNode } from './ber.ts';
import { COUNTER_OIDS, type SnmpEngineCounters } from './mib.ts';

export type AuthProtocol = 'sha' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
export type PrivProtocol = 'aes';
export type Access = 'read-only' | 'read-write';

/** An SNMPv3 USM user (RFC 3414), keys given as passwords (RFC 3414 §A.2 password-to-key). */
export interface UsmUserConfig {
  name: string;
  /** SHA = HMAC-SHA-96 (RFC 3414), sha224..sha512 = HMAC-SHA-2 (RFC 7860). Omit for noAuthNoPriv. */
  authProtocol?: AuthProtocol;
  authKey?: string;
  /** AES = AES-128-CFB (RFC 3826). Needs authProtocol. */
  privProtocol?: PrivProtocol;
  privKey?: string;
  /** Default read-only. Write is granted only at authPriv (vacm.ts). */
  access?: Access;
  /** RFC 3415 read view; default by security level (vacm.ts). */
  view?: ViewName;
}

/** net-snmp SecurityLevel values. */
export const Level = { noAuthNoPriv: 1, authNoPriv: 2, authPriv: 3 } as const;

const AUTH: Record<AuthProtocol, { id: number; hash: string; macLen: number }> = {
  sha: { id: snmp.AuthProtocols.sha, hash: 'sha1', macLen: 12 },
  sha224: { id: snmp.AuthProtocols.sha224, hash: 'sha224', macLen: 16 },
  sha256: { id: snmp.AuthProtocols.sha256, hash: 'sha256', macLen: 24 },
  sha384: { id: snmp.AuthProtocols.sha384, hash: 'sha384', macLen: 32 },
  sha512: { id: snmp.AuthProtocols.sha512, hash: 'sha512', macLen: 48 },
};

export interface UsmUser {
  readonly name: string;
  readonly level: number;
  readonly access: Access;
  readonly view?: ViewName;
  readonly auth?: { readonly protocol: AuthProtocol; readonly password: string; key: Buffer };
  readonly priv?: { readonly protocol: PrivProtocol; readonly password: string };
  /** The user object net-snmp's authorizer holds. */
  readonly netSnmpUser: Record<string, unknown>;
}

export function makeUser(u: UsmUserConfig): UsmUser {
  if (!u.name || Buffer.byteLength(u.name) > 32) throw new RangeError(`snmp user name must be 1..32 octets: ${u.name}`);
  if (u.privProtocol && !u.authProtocol) throw new RangeError(`snmp user ${u.name}: privacy needs authentication`);
  for (const [k, v] of [['authKey', u.authKey], ['privKey', u.privKey]] as const) {
    const needed = k === 'authKey' ? u.authProtocol : u.privProtocol;
    if (needed && (!v || v.length < 8)) throw new RangeError(`snmp user ${u.name}: ${k} must have at least 8 characters`);
  }
  if (u.authProtocol && !AUTH[u.authProtocol]) throw new RangeError(`snmp user ${u.name}: unsupported auth protocol ${u.authProtocol}`);
  if (u.privProtocol && u.privProtocol !== 'aes') throw new RangeError(`snmp user ${u.name}: unsupported privacy protocol ${u.privProtocol}`);
  const level = u.privProtocol ? Level.authPriv : u.authProtocol ? Level.authNoPriv : Level.noAuthNoPriv;
  return {
    name: u.name,
    level,
    access: u.access ?? 'read-only',
    view: u.view,
    auth: u.authProtocol ? { protocol: u.authProtocol, password: u.authKey!, key: Buffer.alloc(0) } : undefined,
    priv: u.privProtocol ? { protocol: u.privProtocol, password: u.privKey! } : undefined,
    netSnmpUser: {
      name: u.name,
      level,
      ...(u.authProtocol ? { authProtocol: AUTH[u.authProtocol].id, authKey: u.authKey } : {}),
      ...(u.privProtocol ? { privProtocol: snmp.PrivProtocols.aes, privKey: u.privKey } : {}),
    },
  };
}

export interface EngineClock {
  readonly engineId: Buffer;
  readonly engineBoots: number;
  /** snmpEngineTime now, seconds. */
  engineTime(): number;
}

/** What to do with an SNMPv3 message. */
export type V3Decision =
  | { action: 'pass'; user: UsmUser }
  | { action: 'drop' }
  | { action: 'reply'; message: Buffer };

interface Parsed {
  msgId: number;
  flags: number;
  engineId: Buffer;
  boots: number;
  time: number;
  userName: string;
  authParams: { value: Buffer; start: number };
  privParams: Buffer;
  /** Plaintext scoped PDU, or the encrypted octets. */
  data: { encrypted: Buffer } | { scoped: Buffer };
}

interface ScopedPdu {
  contextEngineId: Buffer;
  contextName: Buffer;
  pduTag: number;
  requestId: number;
  /** Content octets of the request's variable-bindings list. */
  varbinds: Buffer;
}

const TIME_WINDOW = 150; // RFC 3414 §2.2.3
const MAX_BOOTS = 2147483647;

export class Usm {
  private readonly users = new Map<string, UsmUser>();

  constructor(
    users: readonly UsmUser[],
    private readonly clock: EngineClock,
    private readonly counters: SnmpEngineCounters,
    private readonly maxMessageSize: number,
  ) {
    for (const u of users) {
      if (u.auth) u.auth.key = snmp.Authentication.passwordToKey(AUTH[u.auth.protocol].id, u.auth.password, clock.engineId);
      this.users.set(u.name, u);
    }
  }

  user(name: string): UsmUser | undefined {
    return this.users.get(name);
  }

  check(buf: Buffer): V3Decision {
    let m: Parsed;
    try {
      m = parse(buf);
    } catch (e) {
      if (e instanceof V3Drop) {
        this.counters[e.counter]++;
        return { action: 'drop' };
      }
      this.counters.snmpInASNParseErrs++;
      return { action: 'drop' };
    }
    const reportable = (m.flags & 4) !== 0;
    const auth = (m.flags & 1) !== 0;
    const priv = (m.flags & 2) !== 0;
    let scoped: ScopedPdu | undefined;
    if ('scoped' in m.data) {
      try {
        scoped = parseScoped(m.data.scoped);
      } catch {
        this.counters.snmpInASNParseErrs++;
        return { action: 'drop' };
      }
    }
    // A report goes back for confirmed-class PDUs, or when the type is unknown (encrypted) and the
    // reportable flag is set (RFC 3412 §7.1 step 3b).
    const mayReport = scoped ? CONFIRMED_PDUS.has(scoped.pduTag) : reportable;
    const report = (counter: keyof SnmpEngineCounters, level: number, user?: UsmUser, ctx?: ScopedPdu): V3Decision => {
      const value = ++this.counters[counter];
      if (!mayReport) return { action: 'drop' };
      return { action: 'reply', message: this.encodeReport(m, counter, value, level, user, ctx ?? scoped) };
    };

    // RFC 3414 §3.2 step 3: our engine is authoritative for requests.
    if (!m.engineId.equals(this.clock.engineId)) return report('usmStatsUnknownEngineIDs', Level.noAuthNoPriv);
    // Step 4.
    const user = this.users.get(m.userName);
    if (!user) return report('usmStatsUnknownUserNames', Level.noAuthNoPriv);
    // Step 5: the level must be one the user's protocols support.
    if ((auth && !user.auth) || (priv && !user.priv)) return report('usmStatsUnsupportedSecLevels', Level.noAuthNoPriv);
    // Step 6: authentication.
    if (auth) {
      const a = AUTH[user.auth!.protocol];
      if (m.authParams.value.length !== a.macLen) return report('usmStatsWrongDigests', Level.noAuthNoPriv);
      const copy = Buffer.from(buf);
      copy.fill(0, m.authParams.start, m.authParams.start + a.macLen);
      const mac = createHmac(a.hash, user.auth!.key).update(copy).digest().subarray(0, a.macLen);
      if (!timingSafeEqual(mac, m.authParams.value)) return report('usmStatsWrongDigests', Level.noAuthNoPriv);
      // Step 7: timeliness, reported with authNoPriv so the manager can trust the new time.
      const now = this.clock.engineTime();
      if (this.clock.engineBoots === MAX_BOOTS || m.boots !== this.clock.engineBoots || Math.abs(m.time - now) > TIME_WINDOW) {
        return report('usmStatsNotInTimeWindows', Level.authNoPriv, user);
      }
    }
    // Step 8: privacy.
    if (priv) {
      if (!('encrypted' in m.data) || m.privParams.length !== 8) return report('usmStatsDecryptionErrors', Level.noAuthNoPriv);
      try {
        const plain: Buffer = snmp.Encryption.decryptPdu(
          snmp.PrivProtocols.aes,
          m.data.encrypted,
          m.privParams,
          user.priv!.password,
          AUTH[user.auth!.protocol].id,
          { engineID: this.clock.engineId, engineBoots: m.boots, engineTime: m.time },
        );
        scoped = parseScoped(plain);
      } catch {
        return report('usmStatsDecryptionErrors', Level.noAuthNoPriv);
      }
    }
    if (!scoped) {
      this.counters.snmpInASNParseErrs++;
      return { action: 'drop' };
    }
    const level = priv ? Level.authPriv : auth ? Level.authNoPriv : Level.noAuthNoPriv;
    if (!CONFIRMED_PDUS.has(scoped.pduTag) || scoped.pduTag === Tag.InformRequest) {
      // Not a command-responder PDU (RFC 3412 §4.2.2 step 2): counted, reported when confirmed.
      const value = ++this.counters.snmpUnknownPDUHandlers;
      if (scoped.pduTag !== Tag.InformRequest) return { action: 'drop' };
      return { action: 'reply', message: this.encodeReport(m, 'snmpUnknownPDUHandlers', value, level, user, scoped) };
    }
    // RFC 3413 §3.2: one context, "" on our engine.
    if (!scoped.contextEngineId.equals(this.clock.engineId)) return report('snmpUnknownPDUHandlers', level, user, scoped);
    if (scoped.contextName.length !== 0) return report('snmpUnknownContexts', level, user, scoped);
    // Access control: a user is served at its configured level only (RFC 3413 §3.2 step 5,
    // authorizationError for a request below it).
    if (level < user.level) {
      return { action: 'reply', message: this.encodeResponse(m, scoped, level, user, 16) };
    }
    return { action: 'pass', user };
  }

  private encodeReport(m: Parsed, counter: keyof SnmpEngineCounters, value: number, level: number, user?: UsmUser, ctx?: ScopedPdu): Buffer {
    const varbinds = ber.seq(ber.seq(ber.oid([...COUNTER_OIDS[counter], 0]), ber.int(value, Tag.Counter32)));
    const pdu = ber.constructed(Tag.Report, ber.int(ctx?.requestId ?? 0), ber.int(0), ber.int(0), varbinds);
    return this.encodeMessage(m.msgId, level, user, pdu, ctx?.contextName);
  }

  private encodeResponse(m: Parsed, ctx: ScopedPdu, level: number, user: UsmUser, errorStatus: number): Buffer {
    const pdu = ber.constructed(Tag.Response, ber.int(ctx.requestId), ber.int(errorStatus), ber.int(0), ber.raw(Tag.Sequence, ctx.varbinds));
    return this.encodeMessage(m.msgId, level, user, pdu, ctx.contextName);
  }

  /** An SNMPv3 message from this (authoritative) engine, at `level` with `user`'s keys. */
  encodeMessage(msgId: number, level: number, user: UsmUser | undefined, pdu: BerNode, contextName: Buffer = Buffer.alloc(0), reportable = false): Buffer {
    const engineId = this.clock.engineId;
    const boots = this.clock.engineBoots;
    const time = this.clock.engineTime();
    const scoped = encode(ber.seq(ber.octets(engineId), ber.octets(contextName), pdu));
    const auth = level >= Level.authNoPriv && user?.auth ? AUTH[user.auth.protocol] : undefined;
    let data: BerNode = ber.encoded(scoped);
    let privParams: Buffer = Buffer.alloc(0);
    if (level === Level.authPriv && user?.priv && user.auth) {
      const enc = snmp.Encryption.encryptPdu(snmp.PrivProtocols.aes, scoped, user.priv.password, AUTH[user.auth.protocol].id, {
        engineID: engineId,
        engineBoots: boots,
        engineTime: time,
      });
      data = ber.octets(enc.encryptedPdu);
      privParams = enc.msgPrivacyParameters;
    }
    const flags = (auth ? 1 : 0) | (level === Level.authPriv && auth ? 2 : 0) | (reportable ? 4 : 0);
    const mark = { offset: -1 };
    const secParams = encode(
      ber.seq(
        ber.octets(engineId),
        ber.int(boots),
        ber.int(time),
        ber.octets(user?.name ?? ''),
        ber.octets(Buffer.alloc(auth ? auth.macLen : 0)),
        ber.octets(privParams),
      ),
    );
    const msg = ber.seq(
      ber.int(3),
      ber.seq(ber.int(msgId), ber.int(this.maxMessageSize), ber.octets(Buffer.from([flags])), ber.int(3)),
      { tag: Tag.OctetString, content: secParams, mark },
      data,
    );
    const out = encode(msg);
    if (auth && user?.auth) {
      // The digest field sits inside secParams: engineID, boots, time, user, then authParams.
      const inner = new BerReader(out, mark.offset, mark.offset + secParams.length).sequence();
      inner.octets();
      inner.integer();
      inner.integer();
      inner.octets();
      const field = inner.octets();
      const mac = createHmac(auth.hash, user.auth.key).update(out).digest().subarray(0, auth.macLen);
      mac.copy(out, field.start);
    }
    return out;
  }
}

class V3Drop extends Error {
  constructor(readonly counter: keyof SnmpEngineCounters) {
    super(counter);
  }
}

function parse(buf: Buffer): Parsed {
  const msg = new BerReader(buf).sequence();
  if (msg.integer() !== 3) throw new BerError('not SNMPv3');
  const gd = msg.sequence();
  const msgId = gd.integer();
  const maxSize = gd.integer();
  const flagsOct = gd.octets().value;
  const model = gd.integer();
  if (msgId < 0 || maxSize < 484 || flagsOct.length !== 1) throw new BerError('bad msgGlobalData');
  if (model !== 3) throw new V3Drop('snmpUnknownSecurityModels');
  const flags = flagsOct[0];
  if ((flags & 3) === 2) throw new V3Drop('snmpInvalidMsgs'); // priv without auth (RFC 3412 §7.2 step 5d)
  const spTlv = msg.read(Tag.OctetString);
  const sp = new BerReader(buf, spTlv.start, spTlv.end).sequence();
  const engineId = Buffer.from(sp.octets().value);
  const boots = sp.integer();
  const time = sp.integer();
  const user = sp.octets().value;
  const authParams = sp.octets();
  const privParams = Buffer.from(sp.octets().value);
  if (user.length > 32 || engineId.length > 32) throw new BerError('bad msgSecurityParameters');
  const tag = msg.peekTag();
  let data: Parsed['data'];
  if (flags & 2) {
    data = { encrypted: Buffer.from(msg.octets().value) };
  } else {
    if (tag !== Tag.Sequence) throw new BerError('scopedPDU expected');
    const t = msg.read(Tag.Sequence);
    data = { scoped: buf.subarray(t.tlvStart, t.end) };
  }
  return { msgId, flags, engineId, boots, time, userName: user.toString('utf8'), authParams, privParams, data };
}

function parseScoped(b: Buffer): ScopedPdu {
  const s = new BerReader(b).sequence();
  const contextEngineId = Buffer.from(s.octets().value);
  const contextName = Buffer.from(s.octets().value);
  const pduTag = s.peekTag();
  const pdu = s.sequence(pduTag);
  const requestId = pdu.integer();
  pdu.integer();
  pdu.integer();
  const vb = pdu.read(Tag.Sequence);
  return { contextEngineId, contextName, pduTag, requestId, varbinds: Buffer.from(pdu.buf.subarray(vb.start, vb.end)) };
}
