// Capabilities exchange decisions (RFC 6733 §5.3): what a CER/CEA says, and whether two nodes
// share an application and a security mechanism. Pure.
import { App, Avp, InbandSecurity, Result } from './constants.ts';
import { decodeGrouped, findAll, findAvp, type RawAvp } from './codec.ts';
import { missingAvp } from './validate.ts';
import { decIdentity, decIpAddress, decU32, decUtf8 } from './values.ts';

export interface Capabilities {
  originHost: string;
  originRealm: string;
  hostIpAddresses: string[];
  vendorId: number | null;
  productName: string | null;
  originStateId: number | null;
  authApplicationIds: number[];
  acctApplicationIds: number[];
  /** Vendor-Specific-Application-Id members (§6.11). */
  vendorSpecific: { vendorId: number | null; authApplicationId: number | null; acctApplicationId: number | null }[];
  inbandSecurityIds: number[];
}

export type CapabilitiesResult = { ok: true; value: Capabilities } | { ok: false; resultCode: number; detail: string; failedAvp?: Buffer };

const u32s = (avps: readonly RawAvp[], code: number): number[] => findAll(avps, code).map((a) => decU32(a.data)).filter((n): n is number => n !== null);

/** Reads a CER or CEA. {Origin-Host} and {Origin-Realm} are required (§5.3.1, §5.3.2). */
export function readCapabilities(avps: readonly RawAvp[]): CapabilitiesResult {
  const oh = findAvp(avps, Avp.OriginHost);
  if (!oh) return { ok: false, resultCode: Result.MissingAvp, detail: 'no Origin-Host', failedAvp: missingAvp(Avp.OriginHost) };
  const or = findAvp(avps, Avp.OriginRealm);
  if (!or) return { ok: false, resultCode: Result.MissingAvp, detail: 'no Origin-Realm', failedAvp: missingAvp(Avp.OriginRealm) };
  const originHost = decIdentity(oh.data);
  const originRealm = decIdentity(or.data);
  if (originHost === null) return { ok: false, resultCode: Result.InvalidAvpValue, detail: 'Origin-Host is not a DiameterIdentity', failedAvp: Buffer.from(oh.raw) };
  if (originRealm === null) return { ok: false, resultCode: Result.InvalidAvpValue, detail: 'Origin-Realm is not a DiameterIdentity', failedAvp: Buffer.from(or.raw) };
  const vendorSpecific: Capabilities['vendorSpecific'] = [];
  for (const g of findAll(avps, Avp.VendorSpecificApplicationId)) {
    const inner = decodeGrouped(g.data);
    if (!inner.ok) continue;
    const one = (code: number): number | null => {
      const a = findAvp(inner.value, code);
      return a ? decU32(a.data) : null;
    };
    vendorSpecific.push({ vendorId: one(Avp.VendorId), authApplicationId: one(Avp.AuthApplicationId), acctApplicationId: one(Avp.AcctApplicationId) });
  }
  const pn = findAvp(avps, Avp.ProductName);
  const vid = findAvp(avps, Avp.VendorId);
  const osi = findAvp(avps, Avp.OriginStateId);
  return {
    ok: true,
    value: {
      originHost,
      originRealm,
      hostIpAddresses: findAll(avps, Avp.HostIpAddress).map((a) => decIpAddress(a.data)).filter((s): s is string => s !== null),
      vendorId: vid ? decU32(vid.data) : null,
      productName: pn ? decUtf8(pn.data) : null,
      originStateId: osi ? decU32(osi.data) : null,
      authApplicationIds: u32s(avps, Avp.AuthApplicationId),
      acctApplicationIds: u32s(avps, Avp.AcctApplicationId),
      vendorSpecific,
      inbandSecurityIds: u32s(avps, Avp.InbandSecurityId),
    },
  };
}

/** Every Application Id the peer advertised (§5.3: Vendor-Id of Vendor-Specific-Application-Id not used). */
export function advertisedApplications(c: Capabilities): Set<number> {
  const s = new Set<number>([...c.authApplicationIds, ...c.acctApplicationIds]);
  for (const v of c.vendorSpecific) {
    if (v.authApplicationId !== null) s.add(v.authApplicationId);
    if (v.acctApplicationId !== null) s.add(v.acctApplicationId);
  }
  return s;
}

/**
 * §5.3: the common applications are the intersection of ours with every Application-Id the peer
 * advertised; a peer advertising Relay (0xffffffff) shares all of ours.
 */
export function commonApplications(local: readonly number[], peer: Capabilities): number[] {
  const theirs = advertisedApplications(peer);
  if (theirs.has(App.Relay)) return [...local];
  return local.filter((a) => theirs.has(a));
}

/**
 * §5.3 / §6.10: this node does not negotiate TLS in band (TLS is set up before the CER, on the
 * TLS port). A CER that lists Inband-Security-Id values without NO_INBAND_SECURITY has no
 * mechanism in common with us.
 */
export function securityInCommon(peer: Capabilities): boolean {
  return peer.inbandSecurityIds.length === 0 || peer.inbandSecurityIds.includes(InbandSecurity.NoInbandSecurity);
}
