// Policy routing through rtnetlink from the native addon (native/src/rtnl.c): one
// NETLINK_ROUTE socket, each change one request and its acknowledgement (RTM_NEWROUTE /
// RTM_DELROUTE, RTM_NEWRULE / RTM_DELRULE with FRA_PRIORITY, FRA_TABLE, FRA_SRC, FRA_DST).
// A refused change throws the kernel's errno as a Node-style error (code "ENODEV", errno,
// syscall "RTM_NEWROUTE", the request in the message); "already there" on add and "not
// there" on delete are done, like iproute.ts.
import type { NativeAddon, RouteNetlink } from '../transport/native.ts';
import { familyOf, splitPrefix, type Family, type PolicyRouting, type RuleSelector } from './steering.ts';

const code = (e: unknown): string | undefined => (e as { code?: string }).code;

function selector(family: Family, sel: RuleSelector): { src?: string; srcLen?: number; dst?: string; dstLen?: number } {
  const o: { src?: string; srcLen?: number; dst?: string; dstLen?: number } = {};
  for (const [k, p] of [['src', sel.from], ['dst', sel.to]] as const) {
    if (p === undefined) continue;
    if (familyOf(p) !== family) throw new TypeError(`rule selector ${p} is not IPv${family}`);
    const [a, l] = splitPrefix(p);
    if (k === 'src') [o.src, o.srcLen] = [a, l];
    else [o.dst, o.dstLen] = [a, l];
  }
  return o;
}

export class RtnetlinkRouting implements PolicyRouting {
  readonly kind = 'rtnetlink';
  private readonly nl: RouteNetlink;

  constructor(addon: NativeAddon) {
    if (!addon.RouteNetlink) throw new Error('the native addon has no RouteNetlink (rebuild it: npm run install)');
    this.nl = new addon.RouteNetlink();
  }

  async ruleAdd(family: Family, sel: RuleSelector, pref: number, table: number): Promise<void> {
    try {
      this.nl.rule('add', { family, priority: pref, table, ...selector(family, sel) });
    } catch (e) {
      if (code(e) !== 'EEXIST') throw e;
    }
  }

  async ruleDel(family: Family, sel: RuleSelector, pref: number, table: number): Promise<void> {
    try {
      this.nl.rule('del', { family, priority: pref, table, ...selector(family, sel) });
    } catch (e) {
      if (code(e) !== 'ENOENT') throw e;
    }
  }

  async routeReplace(prefix: string, dev: string, table: number): Promise<void> {
    const [dst, dstLen] = splitPrefix(prefix);
    this.nl.route('replace', { family: familyOf(prefix), dst, dstLen, table, dev });
  }

  async routeDel(prefix: string, table: number): Promise<void> {
    const [dst, dstLen] = splitPrefix(prefix);
    try {
      this.nl.route('del', { family: familyOf(prefix), dst, dstLen, table });
    } catch (e) {
      if (code(e) !== 'ESRCH' && code(e) !== 'ENOENT') throw e;
    }
  }

  async reconcileTable(table: number): Promise<{ rules: number; routes: number }> {
    let rules = 0;
    let routes = 0;
    for (const family of [6, 4] as const) {
      for (const r of this.nl.dumpRules(family, table)) {
        const sel: { src?: string; srcLen?: number; dst?: string; dstLen?: number } = {};
        if (r.src !== undefined) [sel.src, sel.srcLen] = [r.src, r.srcLen];
        if (r.dst !== undefined) [sel.dst, sel.dstLen] = [r.dst, r.dstLen];
        try {
          this.nl.rule('del', { family, priority: r.priority, table, ...sel });
          rules++;
        } catch (e) {
          if (code(e) !== 'ENOENT') throw e;
        }
      }
      for (const r of this.nl.dumpRoutes(family, table)) {
        const dst = r.dst ?? (family === 6 ? '::' : '0.0.0.0');
        try {
          this.nl.route('del', { family, dst, dstLen: r.dstLen, table });
          routes++;
        } catch (e) {
          if (code(e) !== 'ESRCH' && code(e) !== 'ENOENT') throw e;
        }
      }
    }
    return { rules, routes };
  }

  close(): void {
    this.nl.close();
  }
}
