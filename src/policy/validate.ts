// Input validation for operator-provisioned policy (API, CLI, bulk import): one zod schema
// per resource, normalising addresses and prefixes to canonical text, with messages that
// name the field and the bad value.
import { z } from 'zod';
import { describeIdentifierProblem, identifierProblem } from './identifier.ts';
import { canonicalAddress, canonicalPrefix, parsePrefix } from '../util/ip.ts';
import { isIPv4, isIPv6 } from 'node:net';

const ipv6Prefix = z.string().transform((s, ctx) => {
  const r = parsePrefix(s.trim(), 6);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.reason });
    return z.NEVER;
  }
  return canonicalPrefix(s.trim())!;
});

const prefixAny = z.string().transform((s, ctx) => {
  const r = parsePrefix(s.trim());
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.reason });
    return z.NEVER;
  }
  return canonicalPrefix(s.trim())!;
});

function addr(kind: 4 | 6 | 'any') {
  return z.string().transform((s, ctx) => {
    const t = s.trim();
    const ok = kind === 4 ? isIPv4(t) : kind === 6 ? isIPv6(t) : isIPv4(t) || isIPv6(t);
    if (!ok) {
      ctx.addIssue({ code: 'custom', message: `"${s}" is not an ${kind === 'any' ? 'IP' : `IPv${kind}`} address` });
      return z.NEVER;
    }
    return canonicalAddress(t)!;
  });
}
/** An address ("192.0.2.10" → "192.0.2.10/32") or a prefix, canonical. */
const addressOrPrefix = z.string().transform((s, ctx) => {
  const t = s.trim();
  const a = canonicalAddress(t);
  if (a) return `${a}/${a.includes(':') ? 128 : 32}`;
  const r = parsePrefix(t);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is neither an IP address nor a prefix: ${r.reason}` });
    return z.NEVER;
  }
  return canonicalPrefix(t)!;
});

/** A SHA-256 certificate fingerprint as 64 lowercase hex digits (colons and case ignored). */
const fingerprint = z.string().transform((s, ctx) => {
  const h = s.trim().replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(h)) {
    ctx.addIssue({ code: 'custom', message: 'not a SHA-256 fingerprint (64 hex digits)' });
    return z.NEVER;
  }
  return h;
});

export const ipv4Address = addr(4);
export const ipv6Address = addr(6);
export const ipAddress = addr('any');

/** An LMA reference: IPv6/IPv4 address or an FQDN. */
const lmaRef = z.string().transform((s, ctx) => {
  const t = s.trim();
  const a = canonicalAddress(t);
  if (a) return a;
  if (/^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(t)) {
    return t.toLowerCase();
  }
  ctx.addIssue({ code: 'custom', message: `"${s}" is neither an IP address nor a host name` });
  return z.NEVER;
});

const linkLayerId = z.string().transform((s, ctx) => {
  const hex = s.trim().toLowerCase().replace(/[:\-.]/g, '');
  if (!/^([0-9a-f]{2}){1,32}$/.test(hex)) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is not a link-layer identifier (hex octets like 02:00:5e:00:53:01)` });
    return z.NEVER;
  }
  return hex.match(/../g)!.join(':');
});

/** RFC 6572 §4.10 interface identifier: 64 bits as four hex groups (or 16 hex digits). */
const interfaceId = z.string().transform((s, ctx) => {
  const hex = s.trim().toLowerCase().replace(/[:-]/g, '');
  if (!/^[0-9a-f]{16}$/.test(hex)) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is not a 64-bit interface identifier (like 0200:5eff:fe00:5213)` });
    return z.NEVER;
  }
  return hex.match(/..../g)!.join(':');
});

const featureVector = z.union([z.number().int().nonnegative(), z.string()]).transform((v, ctx) => {
  try {
    const b = BigInt(v);
    if (b < 0n || b >= 1n << 64n) throw new Error('range');
    return b;
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not an unsigned 64-bit value (decimal or 0x hex)` });
    return z.NEVER;
  }
});

/** MN-Identifier in NAI form (RFC 4282 / RFC 4283 subtype 1): user@realm or a bare realm-less id. */
const mnId = z
  .string()
  .min(1, 'must not be empty')
  .max(253, 'longer than 253 octets')
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  .refine((s) => !/[\s\x00-\x1f\x7f]/.test(s), 'must not contain spaces or control characters')
  // The rest of the edge rules (C1 controls, bidirectional controls, broken UTF-8): identifier.ts.
  .superRefine((s, ctx) => {
    const p = identifierProblem(s);
    if (p !== null && p !== 'empty') ctx.addIssue({ code: 'custom', message: describeIdentifierProblem(p) });
  });

const poolName = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." and "-" only');

export const profileInputSchema = z
  .object({
    mnId,
    mnLinkLayerIds: z.array(linkLayerId).max(16).default([]),
    hnps: z.array(ipv6Prefix).max(16).default([]),
    hnpPool: poolName.nullable().default(null),
    /** How many prefixes to draw from hnpPool when hnps is empty. */
    hnpCount: z.number().int().min(1).max(16).default(1),
    ipv4HoA: ipv4Address.nullable().default(null),
    ipv4PrefixLength: z.number().int().min(0).max(32).nullable().default(null),
    ipv4Pool: poolName.nullable().default(null),
    ipv4DefaultRouter: ipv4Address.nullable().default(null),
    lma: lmaRef.nullable().default(null),
    lmaGroup: z.string().min(1).max(64).nullable().default(null),
    serviceSelection: z.string().min(1).max(255).nullable().default(null),
    greKeyPolicy: z.enum(['none', 'optional', 'required']).default('none'),
    dhcpv4Server: ipv4Address.nullable().default(null),
    dhcpv6Server: ipv6Address.nullable().default(null),
    interfaceId: interfaceId.nullable().default(null),
    mip6FeatureVector: featureVector.default(0n),
    enabled: z.boolean().default(true),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (new Set(p.hnps).size !== p.hnps.length) ctx.addIssue({ code: 'custom', path: ['hnps'], message: 'lists the same prefix twice' });
    if (p.ipv4HoA && p.ipv4Pool) ctx.addIssue({ code: 'custom', path: ['ipv4Pool'], message: 'give either ipv4HoA or ipv4Pool, not both' });
  });

export type ProfileInput = z.output<typeof profileInputSchema>;

/** PATCH body: every field optional, none defaulted. */
export const profilePatchSchema = z
  .object({
    mnLinkLayerIds: z.array(linkLayerId).max(16),
    hnps: z.array(ipv6Prefix).max(16),
    hnpPool: poolName.nullable(),
    ipv4HoA: ipv4Address.nullable(),
    ipv4PrefixLength: z.number().int().min(0).max(32).nullable(),
    ipv4Pool: poolName.nullable(),
    ipv4DefaultRouter: ipv4Address.nullable(),
    lma: lmaRef.nullable(),
    lmaGroup: z.string().min(1).max(64).nullable(),
    serviceSelection: z.string().min(1).max(255).nullable(),
    greKeyPolicy: z.enum(['none', 'optional', 'required']),
    dhcpv4Server: ipv4Address.nullable(),
    dhcpv6Server: ipv6Address.nullable(),
    interfaceId: interfaceId.nullable(),
    mip6FeatureVector: featureVector,
    enabled: z.boolean(),
  })
  .partial()
  .strict();

export type ProfilePatch = z.output<typeof profilePatchSchema>;

export const poolInputSchema = z
  .object({
    name: poolName,
    prefix: prefixAny,
    /** Length of each handed-out prefix (IPv6, e.g. 64); 32 for IPv4 address pools. */
    assignLength: z.number().int().min(1).max(128).optional(),
    ipv4Gateway: ipv4Address.nullable().default(null),
  })
  .strict()
  .transform((p, ctx) => {
    const parsed = parsePrefix(p.prefix);
    const fam = parsed.ok ? parsed.value.family : 6;
    const plen = parsed.ok ? parsed.value.length : 0;
    const assignLength = p.assignLength ?? (fam === 4 ? 32 : 64);
    if (fam === 4 && assignLength !== 32) ctx.addIssue({ code: 'custom', path: ['assignLength'], message: 'IPv4 pools hand out single addresses: assignLength must be 32' });
    if (assignLength < plen || assignLength > (fam === 4 ? 32 : 128)) {
      ctx.addIssue({ code: 'custom', path: ['assignLength'], message: `assignLength ${assignLength} must lie between /${plen} and /${fam === 4 ? 32 : 128}` });
    }
    if (fam === 6 && p.ipv4Gateway) ctx.addIssue({ code: 'custom', path: ['ipv4Gateway'], message: 'only IPv4 pools have a gateway' });
    return { ...p, family: fam as 4 | 6, assignLength };
  });

export type PoolInput = z.output<typeof poolInputSchema>;

export const lmaInputSchema = z
  .object({
    name: z.string().min(1).max(64).regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." and "-" only'),
    ipv6Address: ipv6Address.nullable().default(null),
    ipv4Address: ipv4Address.nullable().default(null),
    fqdn: z.string().min(1).max(253).nullable().default(null),
    group: z.string().min(1).max(64).nullable().default(null),
    weight: z.number().int().min(0).max(65535).default(100),
    adminState: z.enum(['up', 'down', 'drain']).default('up'),
  })
  .strict()
  .refine((l) => l.ipv6Address || l.ipv4Address || l.fqdn, { message: 'give at least one of ipv6Address, ipv4Address, fqdn', path: ['ipv6Address'] });

export type LmaInput = z.output<typeof lmaInputSchema>;

export const magInputSchema = z
  .object({
    id: z.string().min(1).max(253).regex(/^[A-Za-z0-9_.@:-]+$/, 'letters, digits and "_.@:-" only'),
    proxyCoa: z.array(ipAddress).max(16).default([]),
    authorized: z.boolean().default(true),
    description: z.string().max(1024).nullable().default(null),
    /**
     * RFC 5213 §4 authorisation scope: null (default) = every provisioned MN; otherwise the MNs
     * matching one of the realms, identifiers or prefixes.
     */
    scope: z
      .object({
        realms: z.array(z.string().min(1).max(253).regex(/^[A-Za-z0-9.-]+$/, 'a realm is a domain name')).max(256).default([]),
        mnIds: z.array(z.string().min(1).max(253)).max(10_000).default([]),
        prefixes: z.array(prefixAny).max(256).default([]),
      })
      .strict()
      .nullable()
      .default(null),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (new Set(m.proxyCoa).size !== m.proxyCoa.length) ctx.addIssue({ code: 'custom', path: ['proxyCoa'], message: 'lists the same address twice' });
  });

export type MagInput = z.output<typeof magInputSchema>;

export const aaaClientInputSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('radius'),
      name: z.string().max(128).nullable().default(null),
      address: ipAddress,
      secret: z.string().min(8, 'shared secret must be at least 8 characters').max(128),
      requireMessageAuthenticator: z.boolean().default(true),
      /** RFC 6572: 'mag' (Access-Request, accounting) or 'lma' (also Authorize-Only, §6, for its own address). */
      role: z.enum(['mag', 'lma']).default('mag'),
      /** Role 'lma': further addresses of this LMA it may name in Authorize-Only (besides its source address). */
      lmaAddresses: z.array(ipAddress).max(16).default([]),
    })
    .strict(),
  z
    .object({
      kind: z.literal('diameter'),
      name: z.string().max(128).nullable().default(null),
      identity: z.string().min(1).max(253),
      realm: z.string().min(1).max(253),
      /** RFC 5779: 'mag' (§4.1 AA for MNs) or 'lma' (also §4.2 PBU authorisation, for its own addresses). */
      role: z.enum(['mag', 'lma']).default('mag'),
      /** Role 'lma': the LMA addresses it may name in MIP6-Agent-Info (besides the address it connects from). */
      lmaAddresses: z.array(ipAddress).max(16).default([]),
      /** Source addresses or prefixes allowed to claim the identity (RFC 6733 §5.3 CER). */
      allowedAddresses: z.array(addressOrPrefix).max(64).default([]),
      /** SHA-256 fingerprint of the peer's TLS certificate ("AB:CD:..." or hex); null = a certificate naming the identity. */
      tlsFingerprint: fingerprint.nullable().default(null),
    })
    .strict(),
]);

export type AaaClientInput = z.output<typeof aaaClientInputSchema>;

/** Turns zod issues into "field: message" strings for 4xx bodies and import reports. */
export function formatIssues(err: z.ZodError): { field: string; message: string }[] {
  return err.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
}
