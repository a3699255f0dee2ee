// The read-write scalars of PMIPV6-MIB (RFC 6475) and the SNMP engine identity, kept
// across restarts through an injected persistence. pmip6MagStatus and pmip6LmaStatus
// MUST survive reboots (RFC 6475); snmpEngineBoots must grow at every start (RFC 3414 §2.2).
//
// Ownership: main/ opens one Pmip6Settings, hands it to the agent and to the roles. The
// roles read `values` and subscribe with onChange() (e.g. the LMA applies new timer values,
// main/ stops or starts a role when its status changes). Values persisted by an SNMP SET
// win over `initial` (the config) at the next start.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { InetAddr } from './view.ts';

/** Where the settings live between runs; the store engineer may back it with the database. */
export interface SettingsPersistence {
  /** The last saved document, or undefined when nothing was saved yet. */
  load(): Promise<Record<string, unknown> | undefined>;
  /** Replaces the saved document; resolves once it is durable. */
  save(doc: Record<string, unknown>): Promise<void>;
}

/** JSON file; writes go to a temporary file renamed over the old one. */
export class JsonFilePersistence implements SettingsPersistence {
  constructor(readonly path: string) {}

  async load(): Promise<Record<string, unknown> | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const doc: unknown = JSON.parse(text);
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${this.path}: not a JSON object`);
    return doc as Record<string, unknown>;
  }

  async save(doc: Record<string, unknown>): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(doc, null, 2) + '\n', { mode: 0o600 });
    await rename(tmp, this.path);
  }
}

/** In memory (tests, or a process that must not persist). */
export class MemoryPersistence implements SettingsPersistence {
  doc: Record<string, unknown> | undefined;
  failNextSave = false;
  async load(): Promise<Record<string, unknown> | undefined> {
    return this.doc ? structuredClone(this.doc) : undefined;
  }
  async save(doc: Record<string, unknown>): Promise<void> {
    if (this.failNextSave) {
      this.failNextSave = false;
      throw new Error('save failed (test)');
    }
    this.doc = structuredClone(doc);
  }
}

export type RoleStatus = 'enabled' | 'disabled';

export interface Pmip6SettingsValues {
  /** pmip6MobileNodeGeneratedTimestampInUse (RFC 5213 §9.3), DEFVAL false. */
  mobileNodeGeneratedTimestampInUse: boolean;
  /** pmip6FixedMagLinkLocalAddressOnAllAccessLinks(-Type); all zeros = not in use. */
  fixedMagLinkLocalAddress: InetAddr;
  /** pmip6FixedMagLinkLayerAddressOnAllAccessLinks; all zeros when the access has no L2 address. */
  fixedMagLinkLayerAddress: Uint8Array;
  /** pmip6MagStatus. */
  magStatus: RoleStatus;
  /** pmip6MagEnableMagLocalRouting (RFC 5213 §9.2), DEFVAL false. */
  magEnableLocalRouting: boolean;
  /** pmip6LmaStatus. */
  lmaStatus: RoleStatus;
  /** pmip6LmaMinDelayBeforeBCEDelete, ms, 1..65535, DEFVAL 10000 (RFC 5213 §9.1). */
  lmaMinDelayBeforeBCEDelete: number;
  /** pmip6LmaMaxDelayBeforeNewBCEAssign, ms, 1..65535, DEFVAL 1500. */
  lmaMaxDelayBeforeNewBCEAssign: number;
  /** pmip6LmaTimestampValidityWindow, ms, 1..65535, DEFVAL 300. */
  lmaTimestampValidityWindow: number;
}

export const DEFAULT_SETTINGS: Readonly<Pmip6SettingsValues> = Object.freeze<Pmip6SettingsValues>({
  mobileNodeGeneratedTimestampInUse: false,
  fixedMagLinkLocalAddress: { type: 2, octets: new Uint8Array(16) },
  fixedMagLinkLayerAddress: new Uint8Array(6),
  // RFC 6475 DEFVAL { disabled }; main/ passes 'enabled' as `initial` for a role it runs.
  magStatus: 'disabled',
  magEnableLocalRouting: false,
  lmaStatus: 'disabled',
  lmaMinDelayBeforeBCEDelete: 10000,
  lmaMaxDelayBeforeNewBCEAssign: 1500,
  lmaTimestampValidityWindow: 300,
});

export type SettingKey = keyof Pmip6SettingsValues;

/** Length of an InetAddress for each InetAddressType (RFC 4001); dns(16) is 1..255. */
export function inetAddressLengthOk(type: number, len: number): boolean {
  switch (type) {
    case 0:
      return len === 0;
    case 1:
      return len === 4;
    case 2:
      return len === 16;
    case 3:
      return len === 8;
    case 4:
      return len === 20;
    case 16:
      return len >= 1 && len <= 255;
    default:
      return false;
  }
}

/** Why a value is refused, in RFC 3416 §4.2.5 terms. */
export type SettingError = 'wrongValue' | 'inconsistentValue';

/** Checks a complete set of values; undefined when valid. */
export function checkSettings(v: Pmip6SettingsValues): { key: SettingKey; error: SettingError } | undefined {
  const ms = (k: SettingKey, x: number) => (Number.isInteger(x) && x >= 1 && x <= 65535 ? undefined : { key: k, error: 'wrongValue' as const });
  const a = v.fixedMagLinkLocalAddress;
  // A link-local address is an IPv6 one: unknown(0) (empty), ipv6(2) or ipv6z(4).
  if (![0, 2, 4].includes(a.type)) return { key: 'fixedMagLinkLocalAddress', error: 'wrongValue' };
  if (!inetAddressLengthOk(a.type, a.octets.length)) return { key: 'fixedMagLinkLocalAddress', error: 'inconsistentValue' };
  if (v.fixedMagLinkLayerAddress.length > 32) return { key: 'fixedMagLinkLayerAddress', error: 'wrongValue' };
  return (
    ms('lmaMinDelayBeforeBCEDelete', v.lmaMinDelayBeforeBCEDelete) ??
    ms('lmaMaxDelayBeforeNewBCEAssign', v.lmaMaxDelayBeforeNewBCEAssign) ??
    ms('lmaTimestampValidityWindow', v.lmaTimestampValidityWindow)
  );
}

type Listener = (values: Readonly<Pmip6SettingsValues>, changed: readonly SettingKey[]) => void;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: unknown, what: string): Uint8Array => {
  if (typeof s !== 'string' || !/^([0-9a-f]{2})*$/i.test(s)) throw new Error(`settings: ${what} is not hex`);
  return new Uint8Array(Buffer.from(s, 'hex'));
};

function toDoc(v: Pmip6SettingsValues): Record<string, unknown> {
  return {
    mobileNodeGeneratedTimestampInUse: v.mobileNodeGeneratedTimestampInUse,
    fixedMagLinkLocalAddressType: v.fixedMagLinkLocalAddress.type,
    fixedMagLinkLocalAddress: hex(v.fixedMagLinkLocalAddress.octets),
    fixedMagLinkLayerAddress: hex(v.fixedMagLinkLayerAddress),
    magStatus: v.magStatus,
    magEnableLocalRouting: v.magEnableLocalRouting,
    lmaStatus: v.lmaStatus,
    lmaMinDelayBeforeBCEDelete: v.lmaMinDelayBeforeBCEDelete,
    lmaMaxDelayBeforeNewBCEAssign: v.lmaMaxDelayBeforeNewBCEAssign,
    lmaTimestampValidityWindow: v.lmaTimestampValidityWindow,
  };
}

function fromDoc(doc: Record<string, unknown>, base: Pmip6SettingsValues): Pmip6SettingsValues {
  const v = { ...base };
  const bool = (k: string) => (typeof doc[k] === 'boolean' ? (doc[k] as boolean) : undefined);
  const num = (k: string) => (typeof doc[k] === 'number' ? (doc[k] as number) : undefined);
  const status = (k: string) => (doc[k] === 'enabled' || doc[k] === 'disabled' ? (doc[k] as RoleStatus) : undefined);
  v.mobileNodeGeneratedTimestampInUse = bool('mobileNodeGeneratedTimestampInUse') ?? v.mobileNodeGeneratedTimestampInUse;
  if (doc.fixedMagLinkLocalAddress !== undefined) {
    v.fixedMagLinkLocalAddress = {
      type: (num('fixedMagLinkLocalAddressType') ?? 2) as InetAddr['type'],
      octets: unhex(doc.fixedMagLinkLocalAddress, 'fixedMagLinkLocalAddress'),
    };
  }
  if (doc.fixedMagLinkLayerAddress !== undefined) v.fixedMagLinkLayerAddress = unhex(doc.fixedMagLinkLayerAddress, 'fixedMagLinkLayerAddress');
  v.magStatus = status('magStatus') ?? v.magStatus;
  v.magEnableLocalRouting = bool('magEnableLocalRouting') ?? v.magEnableLocalRouting;
  v.lmaStatus = status('lmaStatus') ?? v.lmaStatus;
  v.lmaMinDelayBeforeBCEDelete = num('lmaMinDelayBeforeBCEDelete') ?? v.lmaMinDelayBeforeBCEDelete;
  v.lmaMaxDelayBeforeNewBCEAssign = num('lmaMaxDelayBeforeNewBCEAssign') ?? v.lmaMaxDelayBeforeNewBCEAssign;
  v.lmaTimestampValidityWindow = num('lmaTimestampValidityWindow') ?? v.lmaTimestampValidityWindow;
  return v;
}

export interface EngineState {
  /** snmpEngineID (RFC 3411 §5): 5..32 octets. */
  readonly engineId: Buffer;
  /** snmpEngineBoots for this run (1..2^31-1). */
  readonly engineBoots: number;
}

const MAX_BOOTS = 2147483647;

/** Which saved-document keys hold each setting. */
const DOC_KEYS: Record<SettingKey, string[]> = {
  mobileNodeGeneratedTimestampInUse: ['mobileNodeGeneratedTimestampInUse'],
  fixedMagLinkLocalAddress: ['fixedMagLinkLocalAddressType', 'fixedMagLinkLocalAddress'],
  fixedMagLinkLayerAddress: ['fixedMagLinkLayerAddress'],
  magStatus: ['magStatus'],
  magEnableLocalRouting: ['magEnableLocalRouting'],
  lmaStatus: ['lmaStatus'],
  lmaMinDelayBeforeBCEDelete: ['lmaMinDelayBeforeBCEDelete'],
  lmaMaxDelayBeforeNewBCEAssign: ['lmaMaxDelayBeforeNewBCEAssign'],
  lmaTimestampValidityWindow: ['lmaTimestampValidityWindow'],
};

/** Says why a change cannot take effect in this process (RFC 3416 §4.2.5 inconsistentValue), or undefined. */
export type SettingsGuard = (patch: Partial<Pmip6SettingsValues>, current: Readonly<Pmip6SettingsValues>) => SettingKey | undefined;

export class Pmip6Settings {
  private current: Pmip6SettingsValues;
  private engine: { id: Buffer; boots: number } | undefined;
  private readonly listeners = new Set<Listener>();
  private chain: Promise<unknown> = Promise.resolve();
  private guardFn: SettingsGuard | undefined;

  private constructor(
    private readonly persistence: SettingsPersistence,
    values: Pmip6SettingsValues,
    engine: { id: Buffer; boots: number } | undefined,
    /** Settings a SET changed: only these are saved, so a changed configuration wins over the rest. */
    private readonly setKeys: Set<SettingKey>,
  ) {
    this.current = values;
    this.engine = engine;
  }

  /** Who applies the values decides which changes can take effect; the others are refused. */
  guard(fn: SettingsGuard): void {
    this.guardFn = fn;
  }

  /** The first key of `patch` that cannot take effect here (changes only; equal values pass). */
  refusal(patch: Partial<Pmip6SettingsValues>): SettingKey | undefined {
    const changed: Partial<Pmip6SettingsValues> = {};
    for (const k of Object.keys(patch) as SettingKey[]) {
      if (!sameValue(this.current[k], patch[k])) (changed as Record<string, unknown>)[k] = patch[k];
    }
    return Object.keys(changed).length > 0 ? this.guardFn?.(changed, this.current) : undefined;
  }

  /**
   * Loads the saved values; `initial` (from the config) fills what was never saved.
   * Throws when `initial` or the saved document holds a value the MIB cannot represent.
   */
  static async open(persistence: SettingsPersistence, initial: Partial<Pmip6SettingsValues> = {}): Promise<Pmip6Settings> {
    const base: Pmip6SettingsValues = { ...DEFAULT_SETTINGS, ...initial };
    const bad = checkSettings(base);
    if (bad) throw new RangeError(`snmp settings: initial ${bad.key} is not representable in PMIPV6-MIB (${bad.error})`);
    const doc = (await persistence.load()) ?? {};
    const objects = (doc.objects ?? {}) as Record<string, unknown>;
    const values = fromDoc(objects, base);
    const badSaved = checkSettings(values);
    if (badSaved) throw new RangeError(`snmp settings: saved ${badSaved.key} is invalid (${badSaved.error})`);
    // Version 2 saves only what a SET changed. A version 1 document saved every value: a value
    // equal to the configuration's is taken as never set, so a later configuration change wins.
    const setKeys = new Set<SettingKey>();
    for (const k of Object.keys(DOC_KEYS) as SettingKey[]) {
      if (!DOC_KEYS[k].some((d) => objects[d] !== undefined)) continue;
      if (doc.version === 2 || !sameValue(values[k], base[k])) setKeys.add(k);
      else values[k] = base[k] as never;
    }
    let engine: { id: Buffer; boots: number } | undefined;
    const e = doc.engine as { id?: unknown; boots?: unknown } | undefined;
    if (e && typeof e.id === 'string' && typeof e.boots === 'number') engine = { id: Buffer.from(unhex(e.id, 'engine.id')), boots: e.boots };
    return new Pmip6Settings(persistence, values, engine, setKeys);
  }

  get values(): Readonly<Pmip6SettingsValues> {
    return this.current;
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Validates, persists, then publishes a change of one or more values. Rejects (and keeps
   * the old values) when a value is invalid or the persistence fails.
   */
  update(patch: Partial<Pmip6SettingsValues>): Promise<void> {
    return this.serial(async () => {
      const next = { ...this.current, ...patch };
      const bad = checkSettings(next);
      if (bad) throw new SettingsError(bad.key, bad.error);
      const refused = this.refusal(patch);
      if (refused) throw new SettingsError(refused, 'inconsistentValue');
      const changed = (Object.keys(patch) as SettingKey[]).filter((k) => !sameValue(this.current[k], next[k]));
      const keys = new Set([...this.setKeys, ...changed]);
      await this.persistence.save(this.document(next, this.engine, keys));
      for (const k of changed) this.setKeys.add(k);
      this.current = next;
      if (changed.length > 0) for (const l of this.listeners) l(next, changed);
    });
  }

  /**
   * Called once by the agent at start: the engine ID (kept, or `preferredId`, or a new
   * random one) and the next engine boot count, both persisted before use.
   */
  startEngine(preferredId?: Buffer): Promise<EngineState> {
    return this.serial(async () => {
      let id = preferredId ?? this.engine?.id;
      if (!id) id = Buffer.concat([Buffer.from([0x80, 0x00, 0x00, 0x00, 0x05]), randomBytes(12)]); // RFC 3411: format 5 (octets); no enterprise number of our own
      const sameEngine = this.engine !== undefined && this.engine.id.equals(id);
      const prev = sameEngine ? this.engine!.boots : 0;
      const boots = Math.min(prev + 1, MAX_BOOTS);
      const engine = { id, boots };
      await this.persistence.save(this.document(this.current, engine, this.setKeys));
      this.engine = engine;
      return { engineId: id, engineBoots: boots };
    });
  }

  private document(values: Pmip6SettingsValues, engine: { id: Buffer; boots: number } | undefined, keys: ReadonlySet<SettingKey>): Record<string, unknown> {
    const all = toDoc(values);
    const objects: Record<string, unknown> = {};
    for (const k of keys) for (const d of DOC_KEYS[k]) objects[d] = all[d];
    return {
      version: 2,
      objects,
      ...(engine ? { engine: { id: engine.id.toString('hex'), boots: engine.boots } } : {}),
    };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }
}

export class SettingsError extends Error {
  constructor(
    readonly key: SettingKey,
    readonly error: SettingError,
  ) {
    super(`${key}: ${error}`);
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b));
  if (a && b && typeof a === 'object' && typeof b === 'object' && 'octets' in a && 'octets' in b) {
    const x = a as InetAddr;
    const y = b as InetAddr;
    return x.type === y.type && Buffer.from(x.octets).equals(Buffer.from(y.octets));
  }
  return a === b;
}
