// Routes and rules through the native addon's rtnetlink (native/src/rtnl.c, src/dataplane/rtnl.ts)
// in a namespace this test creates (p6t-nlrt-*): what it adds is what `ip` shows, the
// kernel's refusals come back as errors with its errno, "already there" / "not there" are
// done for the PolicyRouting calls, reconcile removes exactly our table's rules and routes,
// and the `ip` command fallback (iproute.ts) leaves the same kernel state.
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { Lab, netnsUnavailable, type Netns } from '../helpers/netns.ts';
import { loadNative } from '../../src/transport/native.ts';

const DRIVER = new URL('./rtnl-driver.ts', import.meta.url).pathname;
const n = loadNative();
const skip = netnsUnavailable() ?? (n.ok && n.addon.RouteNetlink ? null : 'native addon without RouteNetlink');

type Res = { ok: true; result: unknown } | { ok: false; error: { name: string; message: string; code: string | null; errno: number | null; syscall: string | null } };

describe('rtnetlink routes and rules (native RouteNetlink, RtnetlinkRouting)', { skip: skip ?? false }, () => {
  const lab = new Lab('nlrt');
  let ns: Netns;

  const run = (steps: unknown[]): Res[] =>
    JSON.parse(execFileSync('ip', ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', DRIVER, JSON.stringify(steps)], { encoding: 'utf8' })) as Res[];
  const rules = (fam: '-4' | '-6'): string[] => ns.ip(fam, 'rule', 'show').split('\n').filter((l) => /lookup 52(98|99)\b/.test(l)).map((l) => l.trim().replace(/\s+/g, ' '));
  const routes = (fam: '-4' | '-6', table: number): string[] =>
    ns.ip(fam, 'route', 'show', 'table', String(table)).split('\n').filter((l) => l.trim()).map((l) => l.trim().replace(/\s+/g, ' ').replace(/ proto \w+| metric \d+| pref medium| scope link/g, ''));
  /** Nothing of tables 5298/5299 left from an earlier test (even a failed one). */
  const clean = (): void => {
    for (const fam of ['-4', '-6']) {
      for (const t of ['5298', '5299']) {
        spawnSync('ip', ['-n', ns.name, fam, 'route', 'flush', 'table', t]);
        for (let i = 0; i < 20 && spawnSync('ip', ['-n', ns.name, fam, 'rule', 'del', 'table', t]).status === 0; i++);
      }
    }
  };
  const route = (cmd: string, r: Record<string, unknown>) => ({ native: 'route', args: [cmd, { table: 5299, ...r }] });
  const rule = (cmd: string, r: Record<string, unknown>) => ({ native: 'rule', args: [cmd, { table: 5299, priority: 5299, ...r }] });

  before(() => {
    ns = lab.ns('rt');
    ns.ip('link', 'add', 'nlv0', 'type', 'veth', 'peer', 'name', 'nlv1');
    ns.ip('link', 'set', 'nlv0', 'up');
    ns.ip('link', 'set', 'nlv1', 'up');
  });
  beforeEach(() => clean());
  after(async () => {
    await lab.cleanup();
  });

  it('adds, replaces and deletes routes and rules; the kernel shows exactly them', () => {
    const r = run([
      route('replace', { family: 6, dst: '2001:db8:1::', dstLen: 64, dev: 'nlv0' }),
      route('replace', { family: 6, dst: '2001:db8:1::', dstLen: 64, dev: 'nlv1' }), // replaced, not added
      route('add', { family: 4, dst: '10.1.0.0', dstLen: 16, dev: 'nlv0' }),
      route('replace', { family: 6, dstLen: 0, dev: 'nlv0' }), // the default route
      rule('add', { family: 6, src: '2001:db8:1::', srcLen: 64 }),
      rule('add', { family: 6, dst: '2001:db8:1::', dstLen: 64 }),
      // The catch-all first: the kernel's duplicate check (NLM_F_EXCL, as `ip rule add`) takes
      // an absent selector as a wildcard, so a catch-all after a specific rule at the same
      // preference and table is refused as existing.
      rule('add', { family: 4 }),
      rule('add', { family: 4, dst: '10.1.0.0', dstLen: 16 }),
    ]);
    assert.deepEqual(r.map((x) => x.ok), [true, true, true, true, true, true, true, true], JSON.stringify(r));
    assert.deepEqual(routes('-6', 5299).sort(), ['2001:db8:1::/64 dev nlv1', 'default dev nlv0']);
    assert.deepEqual(routes('-4', 5299), ['10.1.0.0/16 dev nlv0']);
    assert.deepEqual(rules('-6').sort(), ['5299: from 2001:db8:1::/64 lookup 5299', '5299: from all to 2001:db8:1::/64 lookup 5299']);
    assert.deepEqual(rules('-4').sort(), ['5299: from all lookup 5299', '5299: from all to 10.1.0.0/16 lookup 5299']);

    const d = run([{ native: 'dumpRules', args: [6, 5299] }, { native: 'dumpRoutes', args: [4, 5299] }, { native: 'dumpRoutes', args: [4, 5298] }]);
    assert.ok(d[0].ok && d[1].ok && d[2].ok);
    const dr = (d[0] as { result: { priority: number; src?: string; srcLen: number; dst?: string; dstLen: number }[] }).result;
    assert.deepEqual(dr.map((x) => `${x.priority} from ${x.src ?? 'all'}/${x.srcLen} to ${x.dst ?? 'all'}/${x.dstLen}`).sort(), [
      '5299 from 2001:db8:1::/64 to all/0',
      '5299 from all/0 to 2001:db8:1::/64',
    ]);
    assert.deepEqual((d[1] as { result: { dst: string; dstLen: number; table: number }[] }).result.map((x) => [x.dst, x.dstLen, x.table]), [['10.1.0.0', 16, 5299]]);
    assert.deepEqual((d[2] as { result: unknown[] }).result, [], 'a table with nothing in it dumps nothing');

    const del = run([
      route('del', { family: 6, dst: '2001:db8:1::', dstLen: 64 }),
      route('del', { family: 6, dstLen: 0 }),
      route('del', { family: 4, dst: '10.1.0.0', dstLen: 16 }),
      rule('del', { family: 6, src: '2001:db8:1::', srcLen: 64 }),
      rule('del', { family: 6, dst: '2001:db8:1::', dstLen: 64 }),
      rule('del', { family: 4, dst: '10.1.0.0', dstLen: 16 }),
      rule('del', { family: 4 }),
    ]);
    assert.ok(del.every((x) => x.ok), JSON.stringify(del));
    assert.deepEqual([...routes('-6', 5299), ...routes('-4', 5299), ...rules('-6'), ...rules('-4')], []);
  });

  it('returns the kernel\'s refusals as errors carrying its errno and the request', () => {
    const r = run([
      route('add', { family: 6, dst: '2001:db8:2::', dstLen: 64, dev: 'nlv0' }),
      route('add', { family: 6, dst: '2001:db8:2::', dstLen: 64, dev: 'nlv0' }), // EEXIST (add is exclusive)
      route('del', { family: 6, dst: '2001:db8:3::', dstLen: 64 }), // ESRCH
      rule('del', { family: 6, src: '2001:db8:3::', srcLen: 64 }), // ENOENT
      rule('add', { family: 6, src: '2001:db8:2::', srcLen: 64 }),
      rule('add', { family: 6, src: '2001:db8:2::', srcLen: 64 }), // EEXIST
      route('add', { family: 4, dst: '10.2.0.1', dstLen: 16, dev: 'nlv0' }), // host bits: EINVAL with the kernel's text
      route('add', { family: 6, dst: '2001:db8:4::', dstLen: 64, dev: 'nlnosuch' }), // ENODEV
      route('add', { family: 6, dst: 'not-an-address', dstLen: 64, dev: 'nlv0' }), // TypeError, nothing sent
      route('del', { family: 6, dst: '2001:db8:2::', dstLen: 64 }),
      rule('del', { family: 6, src: '2001:db8:2::', srcLen: 64 }),
    ]);
    const err = (i: number) => {
      const x = r[i];
      assert.equal(x.ok, false, `step ${i} should fail: ${JSON.stringify(x)}`);
      return (x as Extract<Res, { ok: false }>).error;
    };
    assert.equal(r[0].ok, true);
    assert.deepEqual([err(1).code, err(1).errno, err(1).syscall], ['EEXIST', 17, 'RTM_NEWROUTE']);
    assert.match(err(1).message, /route add 2001:db8:2::\/64 table 5299 dev nlv0: File exists/);
    assert.deepEqual([err(2).code, err(2).syscall], ['ESRCH', 'RTM_DELROUTE']);
    assert.deepEqual([err(3).code, err(3).syscall], ['ENOENT', 'RTM_DELRULE']);
    assert.equal(r[4].ok, true);
    assert.deepEqual([err(5).code, err(5).syscall], ['EEXIST', 'RTM_NEWRULE']);
    assert.deepEqual([err(6).code, err(6).syscall], ['EINVAL', 'RTM_NEWROUTE']);
    assert.match(err(6).message, /kernel: .*prefix/i, 'the extended ack text of the kernel');
    assert.equal(err(7).code, 'ENODEV');
    assert.match(err(7).message, /nlnosuch/);
    assert.equal(err(8).name, 'TypeError');
    assert.ok(r[9].ok && r[10].ok);
    assert.deepEqual([...routes('-6', 5299), ...rules('-6')], []);
  });

  it('RtnetlinkRouting: add twice and delete what is not there are done; reconcile removes our table\'s rules and routes only', () => {
    // What a crashed run would have left (made with the ip command), plus a neighbour's state.
    ns.ip('-6', 'route', 'add', '2001:db8:5::/64', 'dev', 'nlv0', 'table', '5299');
    ns.ip('-6', 'route', 'add', 'default', 'dev', 'nlv0', 'table', '5299');
    ns.ip('-4', 'route', 'add', '10.5.0.0/16', 'dev', 'nlv0', 'table', '5299');
    ns.ip('-6', 'rule', 'add', 'pref', '5299', 'from', '2001:db8:5::/64', 'lookup', '5299');
    ns.ip('-6', 'rule', 'add', 'pref', '5300', 'to', '2001:db8:5::/64', 'lookup', '5299'); // another preference, our table
    ns.ip('-4', 'rule', 'add', 'pref', '5299', 'lookup', '5299');
    ns.ip('-6', 'route', 'add', '2001:db8:6::/64', 'dev', 'nlv0', 'table', '5298');
    ns.ip('-6', 'rule', 'add', 'pref', '5298', 'from', '2001:db8:6::/64', 'lookup', '5298');
    const r = run([
      { routing: 'rtnetlink', method: 'ruleAdd', args: [6, { from: '2001:db8:5::/64' }, 5299, 5299] }, // already there
      { routing: 'rtnetlink', method: 'ruleDel', args: [6, { to: '2001:db8:7::/64' }, 5299, 5299] }, // not there
      { routing: 'rtnetlink', method: 'routeDel', args: ['2001:db8:7::/64', 5299] }, // not there
      { routing: 'rtnetlink', method: 'reconcileTable', args: [5299] },
      { routing: 'rtnetlink', method: 'reconcileTable', args: [5299] }, // nothing left the second time
    ]);
    assert.ok(r.every((x) => x.ok), JSON.stringify(r));
    assert.deepEqual((r[3] as { result: unknown }).result, { rules: 3, routes: 3 });
    assert.deepEqual((r[4] as { result: unknown }).result, { rules: 0, routes: 0 });
    assert.deepEqual([...routes('-6', 5299), ...routes('-4', 5299)], []);
    assert.deepEqual(rules('-6'), ['5298: from 2001:db8:6::/64 lookup 5298'], 'the other table\'s rule stays');
    assert.deepEqual(routes('-6', 5298), ['2001:db8:6::/64 dev nlv0']);
    ns.ip('-6', 'rule', 'del', 'pref', '5298', 'from', '2001:db8:6::/64', 'lookup', '5298');
    ns.ip('-6', 'route', 'flush', 'table', '5298');
  });

  it('the ip command fallback leaves the same kernel state as rtnetlink', () => {
    const seq = (impl: string) => [
      { routing: impl, method: 'routeReplace', args: ['2001:db8:8::/64', 'nlv0', 5299] },
      { routing: impl, method: 'routeReplace', args: ['::/0', 'nlv1', 5299] },
      { routing: impl, method: 'routeReplace', args: ['10.8.0.0/16', 'nlv0', 5299] },
      { routing: impl, method: 'ruleAdd', args: [6, { from: '2001:db8:8::/64' }, 5299, 5299] },
      { routing: impl, method: 'ruleAdd', args: [6, { to: '2001:db8:8::/64' }, 5299, 5299] },
      { routing: impl, method: 'ruleAdd', args: [4, {}, 5299, 5299] },
      { routing: impl, method: 'ruleAdd', args: [4, {}, 5299, 5299] },
    ];
    const state = () => [routes('-6', 5299).sort(), routes('-4', 5299), rules('-6').sort(), rules('-4')];
    assert.ok(run(seq('ip-command')).every((x) => x.ok));
    const viaIp = state();
    const rec = run([{ routing: 'ip-command', method: 'reconcileTable', args: [5299] }]);
    assert.deepEqual((rec[0] as { result: unknown }).result, { rules: 3, routes: 3 });
    assert.ok(run(seq('rtnetlink')).every((x) => x.ok));
    assert.deepEqual(state(), viaIp);
    assert.ok(run([{ routing: 'rtnetlink', method: 'reconcileTable', args: [5299] }])[0].ok);
    assert.deepEqual(state(), [[], [], [], []]);
  });

  it('per-operation cost, rtnetlink next to the ip command (reported, not asserted)', (t) => {
    const r = run([{ time: 'rtnetlink', n: 200, dev: 'nlv0' }, { time: 'ip-command', n: 10, dev: 'nlv0' }]);
    assert.ok(r.every((x) => x.ok), JSON.stringify(r));
    const [a, b] = r.map((x) => (x as { result: { perOpUs: number } }).result.perOpUs);
    t.diagnostic(`per route/rule change: rtnetlink ${a.toFixed(1)} µs, ip command ${(b / 1000).toFixed(2)} ms (${Math.round(b / a)}x)`);
  });
});
