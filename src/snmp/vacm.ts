// RFC 3415 View-based Access Control, reduced to what this agent serves (RFC 6475 §6: the
// binding cache, MN identifiers, link-layer identifiers and prefixes identify subscribers and
// should be readable only over authenticated and encrypted SNMPv3):
//
//   principal (v2c community or v3 user) + security level  ->  read view, write or not
//
//   view 'full'        every object
//   view 'restricted'  every object except the subtrees below (their values or their index
//                      name MN identifiers, MN link-layer identifiers, home network prefixes or
//                      home addresses): counters, scalars, the LMA's and MAG's own address tables
//
//   v2c community               read: its view (default restricted)          write: never
//   v3 user, noAuth / authNoPriv read: its view (default restricted)         write: never
//   v3 user, authPriv            read: its view (default full)                write: when configured rw
//
// A request outside the read view answers as RFC 3415 §3.2 says (noSuchObject for GET, the
// walk skips it); a SET without write access gets noAccess (RFC 3416 §4.2.5). Pure.
import { PMIP6_MIB } from './mib.ts';
import type { MibObject } from './mib.ts';

export type ViewName = 'full' | 'restricted';
export const VIEW_NAMES: readonly ViewName[] = ['full', 'restricted'];

const p = (...rest: number[]): number[] => [...PMIP6_MIB, ...rest];

/** Subtrees the restricted view leaves out (PMIPV6-MIB, RFC 6475). */
export const RESTRICTED_EXCLUDES: readonly (readonly number[])[] = [
  p(1, 1, 2), // pmip6BindingCacheTable: indexed by the home address
  p(1, 2, 2, 2), // pmip6MagMnIdentifierTable
  p(1, 2, 2, 3), // pmip6MagMnLLIdentifierTable
  p(1, 2, 2, 4), // pmip6MagHomeNetworkPrefixTable
  p(1, 2, 3, 1), // pmip6MagBLTable: indexed by the home address
  p(1, 2, 3, 2), // pmip6MagMnProfileTable
  p(1, 3, 2, 4), // pmip6LmaMnIdentifierTable
  p(1, 3, 2, 5), // pmip6LmaMnLLIdentifierTable
  p(1, 3, 2, 6), // pmip6LmaHomeNetworkPrefixTable
];

function under(prefix: readonly number[], oid: readonly number[]): boolean {
  if (prefix.length > oid.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== oid[i]) return false;
  return true;
}

/** RFC 3415 §5 view check for one OID. */
export function inView(view: ViewName, oid: readonly number[]): boolean {
  if (view === 'full') return true;
  for (const x of RESTRICTED_EXCLUDES) if (under(x, oid)) return false;
  return true;
}

/** The objects a view shows (an engine over them answers only inside the view). */
export function viewObjects(objects: readonly MibObject[], view: ViewName): MibObject[] {
  return objects.filter((o) => inView(view, o.oid));
}

export type SecurityLevel = 'noAuthNoPriv' | 'authNoPriv' | 'authPriv';

export interface Principal {
  kind: 'community' | 'user';
  /** The configured view; default by kind and level. */
  view?: ViewName;
  /** Configured for write access (only an authPriv user can have it). */
  readWrite: boolean;
}

export interface AccessDecision {
  read: ViewName;
  write: boolean;
}

/** RFC 3415 §3.2 isAccessAllowed, for this agent's two views. */
export function decideAccess(p: Principal, level: SecurityLevel): AccessDecision {
  if (p.kind === 'community') return { read: p.view ?? 'restricted', write: false };
  const strong = level === 'authPriv';
  return { read: p.view ?? (strong ? 'full' : 'restricted'), write: strong && p.readWrite };
}
