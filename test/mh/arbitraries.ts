/**
 * fast-check generators of valid MH messages and options (shared by the
 * property, robustness and tshark tests). Byte fields are Buffers so that
 * decoded messages compare deep-equal to generated ones.
 */
import fc from 'fast-check';
import { encodedLength } from '../../src/mh/index.ts';
import type { MhMessage, MobilityOption } from '../../src/mh/index.ts';

/** fc.record with ordinary prototypes, so generated values deep-equal decoded ones. */
function rec<T>(shape: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(shape, { noNullPrototype: true }) as fc.Arbitrary<T>;
}

export const bytes = (min: number, max: number): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));
const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const v6 = bytes(16, 16);

/** Option codes the codec interprets (or are padding): never generated as 'unknown'. */
const INTERPRETED = new Set([0, 1, 2, 3, 8, 19, 20, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 36, 37, 38, 39, 50]);
const anyUnknownCode = fc.integer({ min: 2, max: 255 }).filter((c) => !INTERPRETED.has(c));
const HANDLED = new Set([5, 6, 7, 13, 16]);
const anyUnknownMhType = u8.filter((t) => !HANDLED.has(t));

export interface ArbConfig {
  /** Option codes for { type: 'unknown' } options (default: any code the codec does not interpret). */
  unknownOptionCode?: fc.Arbitrary<number>;
  /** MH Types for UnknownMh messages (default: any type the codec does not decode). */
  unknownMhType?: fc.Arbitrary<number>;
  /** Vendor IDs for Vendor-Specific options (default: any uint32). */
  vendorId?: fc.Arbitrary<number>;
}

/** One arbitrary per option type, keyed by its tag. */
export function makeOptionArbs(cfg: ArbConfig = {}): Record<MobilityOption['type'], fc.Arbitrary<MobilityOption>> {
  const unknownCode = cfg.unknownOptionCode ?? anyUnknownCode;
  const vendorId = cfg.vendorId ?? u32;
  return {
    bindingRefreshAdvice: rec({ type: fc.constant('bindingRefreshAdvice' as const), interval: u16 }),
    altCoa: rec({ type: fc.constant('altCoa' as const), addr: v6 }),
    mnId: rec({ type: fc.constant('mnId' as const), subtype: u8, id: bytes(0, 254) }),
    vendorSpecific: rec({ type: fc.constant('vendorSpecific' as const), vendorId, subType: u8, data: bytes(0, 250) }),
    serviceSelection: rec({ type: fc.constant('serviceSelection' as const), id: bytes(1, 255) }),
    hnp: rec({ type: fc.constant('hnp' as const), prefixLen: fc.integer({ min: 0, max: 128 }), prefix: v6 }),
    handoffIndicator: rec({ type: fc.constant('handoffIndicator' as const), hi: u8 }),
    accessTechType: rec({ type: fc.constant('accessTechType' as const), att: u8 }),
    mnLinkLayerId: rec({ type: fc.constant('mnLinkLayerId' as const), id: bytes(0, 253) }),
    linkLocalAddress: rec({ type: fc.constant('linkLocalAddress' as const), addr: v6 }),
    timestamp: rec({ type: fc.constant('timestamp' as const), value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }),
    restartCounter: rec({ type: fc.constant('restartCounter' as const), counter: u32 }),
    ipv4HomeAddress: rec({
      type: fc.constant('ipv4HomeAddress' as const), prefixLen: fc.integer({ min: 0, max: 32 }), p: fc.boolean(), addr: u32,
    }),
    ipv4AddressAck: rec({
      type: fc.constant('ipv4AddressAck' as const), status: u8, prefixLen: fc.integer({ min: 0, max: 32 }), addr: u32,
    }),
    natDetection: rec({ type: fc.constant('natDetection' as const), f: fc.boolean(), refreshTime: u32 }),
    ipv4Coa: rec({ type: fc.constant('ipv4Coa' as const), addr: u32 }),
    greKey: rec({ type: fc.constant('greKey' as const), key: fc.option(u32, { nil: null }) }),
    ipv4HoaRequest: rec({ type: fc.constant('ipv4HoaRequest' as const), prefixLen: fc.integer({ min: 0, max: 32 }), addr: u32 }),
    ipv4HoaReply: rec({
      type: fc.constant('ipv4HoaReply' as const), status: u8, prefixLen: fc.integer({ min: 0, max: 32 }), addr: u32,
    }),
    ipv4DefaultRouter: rec({ type: fc.constant('ipv4DefaultRouter' as const), addr: u32 }),
    ipv4DhcpSupportMode: rec({ type: fc.constant('ipv4DhcpSupportMode' as const), server: fc.boolean() }),
    mnGroupId: rec({ type: fc.constant('mnGroupId' as const), subtype: u8, groupId: u32 }),
    unknown: rec({ type: fc.constant('unknown' as const), code: unknownCode, data: bytes(0, 255) }),
  };
}

function fits(m: MhMessage): boolean {
  try {
    encodedLength(m);
    return true;
  } catch {
    return false;
  }
}

/** Arbitrary valid messages (every type, options of every kind, sizes that fit 2048 octets). */
export function makeMessageArb(cfg: ArbConfig = {}): fc.Arbitrary<MhMessage> {
  const optionsArb = fc.array(fc.oneof(...Object.values(makeOptionArbs(cfg))), { maxLength: 10 });
  const unknownMhType = cfg.unknownMhType ?? anyUnknownMhType;
  return fc.oneof(
    rec({ type: fc.constant('bu' as const), seq: u16, flags: u16, lifetime: u16, options: optionsArb }),
    rec({ type: fc.constant('ba' as const), status: u8, flags: u8, seq: u16, lifetime: u16, options: optionsArb }),
    rec({ type: fc.constant('be' as const), status: u8, homeAddress: v6, options: optionsArb }),
    rec({ type: fc.constant('heartbeat' as const), flags: u16, seq: u32, options: optionsArb }),
    rec({ type: fc.constant('bri' as const), trigger: u8, seq: u16, flags: u8, options: optionsArb }),
    rec({ type: fc.constant('bra' as const), status: u8, seq: u16, flags: u8, options: optionsArb }),
    rec({
      type: fc.constant('unknown' as const),
      mhType: unknownMhType,
      data: fc.integer({ min: 0, max: 40 }).chain((k) => bytes(2 + 8 * k, 2 + 8 * k)),
    }),
  ).filter(fits);
}

export const optionArbs = makeOptionArbs();
export const optionArb: fc.Arbitrary<MobilityOption> = fc.oneof(...Object.values(optionArbs));
export const messageArb: fc.Arbitrary<MhMessage> = makeMessageArb();
