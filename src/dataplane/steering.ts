// Policy routing behind one interface (the user-space data plane's steering, userspace.ts):
// routes in one table of ours and rules at one preference that look that table up
// (RFC 5213 §5.6 / §6.10 say what must be forwarded, not how: on Linux it is policy routing
// into the TUN device). Two implementations: rtnetlink from the native addon (rtnl.ts,
// microseconds per change, on the handover path) and iproute2's `ip` command (iproute.ts,
// a process per change: the fallback when the addon lacks RouteNetlink).
import { isIPv4 } from 'node:net';

export type Family = 4 | 6;

/** A rule's selector: source and/or destination prefix ("2001:db8:1::/64", "10.0.0.5/32"). */
export interface RuleSelector {
  from?: string;
  to?: string;
}

export interface PolicyRouting {
  readonly kind: 'rtnetlink' | 'ip-command';
  /** Adds `pref <pref> [from X] [to Y] lookup <table>`; already there = done. */
  ruleAdd(family: Family, sel: RuleSelector, pref: number, table: number): Promise<void>;
  /** Removes that rule; not there = done. */
  ruleDel(family: Family, sel: RuleSelector, pref: number, table: number): Promise<void>;
  /** `route replace <prefix> dev <dev> table <table>` ("::/0" and "0.0.0.0/0" are the defaults). */
  routeReplace(prefix: string, dev: string, table: number): Promise<void>;
  /** Removes the route to exactly `prefix` from `table`; not there = done. */
  routeDel(prefix: string, table: number): Promise<void>;
  /** Removes every rule (IPv4 and IPv6) that looks up `table` and every route in it. */
  reconcileTable(table: number): Promise<{ rules: number; routes: number }>;
  close(): void;
}

export const familyOf = (prefix: string): Family => (isIPv4(prefix.split('/')[0]) ? 4 : 6);

/** "2001:db8::/64" -> ["2001:db8::", 64]; "10.0.0.5/32"; a bare address is a host route. */
export function splitPrefix(prefix: string): [string, number] {
  const i = prefix.indexOf('/');
  if (i < 0) return [prefix, prefix.includes(':') ? 128 : 32];
  return [prefix.slice(0, i), Number(prefix.slice(i + 1))];
}
