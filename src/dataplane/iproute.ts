// Policy routing for the user-space data plane through iproute2's `ip` command (a choice:
// each change is one short-lived process, a few milliseconds; errors come back as the text
// an operator would see). Everything the data plane adds lives in one routing table of its
// own and in rules at one preference that look that table up, so reconciling after a crash
// is "delete every rule that looks up our table, flush our table" (RFC 5213 §5.6 / §6.10
// say what must be forwarded, not how: this is the Linux way to steer it into the TUN device).
// The fallback of rtnl.ts (the native addon's rtnetlink) when the addon lacks RouteNetlink.
import { execFile } from 'node:child_process';
import { isIPv4 } from 'node:net';
import type { Family, PolicyRouting, RuleSelector } from './steering.ts';

export class IpCommandError extends Error {
  constructor(readonly args: string[], readonly stderr: string, readonly exitCode: number | null) {
    super(`ip ${args.join(' ')}: ${stderr.trim() || `exit ${exitCode}`}`);
    this.name = 'IpCommandError';
  }
}

/** Runs `ip ARGS`; rejects with IpCommandError. */
export function ip(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, { encoding: 'utf8', timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new IpCommandError(args, stderr || err.message, typeof err.code === 'number' ? err.code : null));
      else resolve(stdout);
    });
  });
}

export const familyFlag = (prefix: string): '-4' | '-6' => (isIPv4(prefix.split('/')[0]) ? '-4' : '-6');

/** `ip rule add` that treats "already there" as done (the kernel refuses duplicate rules with EEXIST). */
export async function ruleAdd(fam: '-4' | '-6', selector: string[], pref: number, table: number): Promise<void> {
  try {
    await ip([fam, 'rule', 'add', 'pref', String(pref), ...selector, 'lookup', String(table)]);
  } catch (e) {
    if (!(e instanceof IpCommandError) || !/File exists/i.test(e.stderr)) throw e;
  }
}

/** `ip rule del` that treats "not there" as done. */
export async function ruleDel(fam: '-4' | '-6', selector: string[], pref: number, table: number): Promise<void> {
  try {
    await ip([fam, 'rule', 'del', 'pref', String(pref), ...selector, 'lookup', String(table)]);
  } catch (e) {
    if (!(e instanceof IpCommandError) || !/No such file|not found|Cannot find/i.test(e.stderr)) throw e;
  }
}

export async function routeReplace(prefix: string, dev: string, table: number): Promise<void> {
  await ip([familyFlag(prefix), 'route', 'replace', prefix, 'dev', dev, 'table', String(table)]);
}

export async function routeDel(prefix: string, table: number): Promise<void> {
  try {
    await ip([familyFlag(prefix), 'route', 'del', prefix, 'table', String(table)]);
  } catch (e) {
    if (!(e instanceof IpCommandError) || !/No such process|not found|Cannot find/i.test(e.stderr)) throw e;
  }
}

/**
 * Removes what an earlier run left: every rule (IPv4 and IPv6) that looks up `table`, and
 * every route in it. Returns how many rules and routes it removed.
 */
export async function reconcileTable(table: number): Promise<{ rules: number; routes: number }> {
  let rules = 0;
  let routes = 0;
  for (const fam of ['-6', '-4'] as const) {
    const list = await ip([fam, 'rule', 'show']).catch(() => '');
    const re = new RegExp(`^(\\d+):\\s+(.*?)\\s+lookup ${table}\\b`);
    for (const line of list.split('\n')) {
      const m = re.exec(line.trim());
      if (!m) continue;
      const sel = m[2].split(/\s+/);
      // "from all to X" -> to X; "from X" stays
      const args: string[] = [];
      for (let i = 0; i < sel.length; i += 2) if (sel[i + 1] !== undefined && sel[i + 1] !== 'all') args.push(sel[i], sel[i + 1]);
      await ip([fam, 'rule', 'del', 'pref', m[1], ...args, 'lookup', String(table)]).then(() => rules++, () => undefined);
    }
    const table_ = await ip([fam, 'route', 'show', 'table', String(table)]).catch(() => '');
    routes += table_.split('\n').filter((l) => l.trim() !== '').length;
    await ip([fam, 'route', 'flush', 'table', String(table)]).catch(() => undefined);
  }
  return { rules, routes };
}

const selectorArgs = (sel: RuleSelector): string[] => [...(sel.from ? ['from', sel.from] : []), ...(sel.to ? ['to', sel.to] : [])];
const flag = (f: Family): '-4' | '-6' => (f === 4 ? '-4' : '-6');

/** PolicyRouting through the `ip` command. */
export const ipCommandRouting: PolicyRouting = {
  kind: 'ip-command',
  ruleAdd: (f, sel, pref, table) => ruleAdd(flag(f), selectorArgs(sel), pref, table),
  ruleDel: (f, sel, pref, table) => ruleDel(flag(f), selectorArgs(sel), pref, table),
  routeReplace,
  routeDel,
  reconcileTable,
  close: () => undefined,
};
