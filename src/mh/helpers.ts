/**
 * Small conveniences over decoded messages: option accessors, lifetime and
 * timestamp conversions, NAI helpers, flag tests. Pure.
 */
import { BaFlag, BuFlag, MnIdSubtype, Rfc6275 } from './types.ts';
import type {
  BindingAck,
  BindingUpdate,
  MhMessage,
  MnIdOption,
  MobilityOption,
  MobilityOptionType,
  OptionOf,
} from './types.ts';

/* ------------------------------------------------------------------------ */
/* Options                                                                   */
/* ------------------------------------------------------------------------ */

function optionsOf(msg: MhMessage | { options: MobilityOption[] }): MobilityOption[] {
  return 'options' in msg ? msg.options : [];
}

/** First option of the given type, or undefined. */
export function getOption<T extends MobilityOptionType>(
  msg: MhMessage | { options: MobilityOption[] },
  type: T,
): OptionOf<T> | undefined {
  const opts = optionsOf(msg);
  for (let i = 0; i < opts.length; i++) if (opts[i].type === type) return opts[i] as OptionOf<T>;
  return undefined;
}

/** Every option of the given type, in wire order (e.g. all HNPs). */
export function getOptions<T extends MobilityOptionType>(
  msg: MhMessage | { options: MobilityOption[] },
  type: T,
): OptionOf<T>[] {
  const out: OptionOf<T>[] = [];
  const opts = optionsOf(msg);
  for (let i = 0; i < opts.length; i++) if (opts[i].type === type) out.push(opts[i] as OptionOf<T>);
  return out;
}

/** How many options of the given type (RFC 5213 8.1: at most one of most types). */
export function countOptions(msg: MhMessage | { options: MobilityOption[] }, type: MobilityOptionType): number {
  let c = 0;
  const opts = optionsOf(msg);
  for (let i = 0; i < opts.length; i++) if (opts[i].type === type) c++;
  return c;
}

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */
/* ------------------------------------------------------------------------ */

/** A Proxy Binding Update: a BU with the P flag (RFC 5213 8.1). */
export function isPbu(msg: MhMessage): msg is BindingUpdate {
  return msg.type === 'bu' && (msg.flags & BuFlag.P) !== 0;
}

/** A Proxy Binding Acknowledgement: a BA with the P flag (RFC 5213 8.2). */
export function isPba(msg: MhMessage): msg is BindingAck {
  return msg.type === 'ba' && (msg.flags & BaFlag.P) !== 0;
}

/* ------------------------------------------------------------------------ */
/* Lifetime (RFC 6275 6.1.7: units of 4 seconds)                            */
/* ------------------------------------------------------------------------ */

/** Seconds represented by a raw Lifetime field. */
export function lifetimeToSeconds(units: number): number {
  return units * Rfc6275.LIFETIME_UNIT_S;
}

/**
 * Raw Lifetime field for a duration in seconds. Rounds up, so that a positive
 * duration never becomes 0 (0 means de-registration), and clamps to 65535
 * (262140 s). 0 or less gives 0.
 */
export function secondsToLifetime(seconds: number): number {
  if (!(seconds > 0)) return 0;
  const u = Math.ceil(seconds / Rfc6275.LIFETIME_UNIT_S);
  return u > 0xffff ? 0xffff : u;
}

/* ------------------------------------------------------------------------ */
/* Timestamp (RFC 5213 8.8): 48-bit seconds since 1970 . 16-bit fraction     */
/* ------------------------------------------------------------------------ */

/** Timestamp option value for a time in milliseconds since 1970-01-01 UTC (fractions allowed). */
export function timestampFromMs(ms: number): bigint {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`timestamp: ${ms} ms is not a time after 1970`);
  const sec = Math.floor(ms / 1000);
  if (sec > 0xffffffffffff) throw new RangeError('timestamp: seconds do not fit in 48 bits');
  const frac = Math.floor(((ms - sec * 1000) * 65536) / 1000); // 0..65535
  return (BigInt(sec) << 16n) | BigInt(frac > 0xffff ? 0xffff : frac);
}

/** Milliseconds since 1970-01-01 UTC of a Timestamp option value (with sub-ms fraction). */
export function timestampToMs(value: bigint): number {
  const sec = Number(value >> 16n);
  const frac = Number(value & 0xffffn);
  return sec * 1000 + (frac * 1000) / 65536;
}

/* ------------------------------------------------------------------------ */
/* Mobile Node Identifier (RFC 4283)                                         */
/* ------------------------------------------------------------------------ */

/** MN-ID option with subtype 1 (NAI, RFC 4283 3.1) for a `user@realm` string. */
export function mnIdFromNai(nai: string): MnIdOption {
  return { type: 'mnId', subtype: MnIdSubtype.NAI, id: Buffer.from(nai, 'utf8') };
}

/** The NAI text of an MN-ID option with subtype 1, else undefined. */
export function naiFromMnId(opt: MnIdOption | undefined): string | undefined {
  if (!opt || opt.subtype !== MnIdSubtype.NAI) return undefined;
  return Buffer.from(opt.id.buffer, opt.id.byteOffset, opt.id.byteLength).toString('utf8');
}
