// The MAG's per-MN route out of the access link across a link flap (issue 13): the kernel
// removes the routes through an interface that goes down or away, and the MAG's data plane
// (src/dataplane/userspace.ts, link-watch.ts) puts the route and its rule back when the link
// is up again while the binding still wants it, and does not once the binding has ended.
// A MAG data plane (flap-driver.ts) runs in a namespace of this test (p6t-nlflap-*), the MN
// end of the access link in another; both are removed even when the test fails.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Lab, netnsUnavailable, type Netns } from '../helpers/netns.ts';
import { ROOT } from '../helpers/cli.ts';
import { until } from '../helpers/until.ts';
import { loadNative } from '../../src/transport/native.ts';

const n = loadNative();
const skip = netnsUnavailable() ?? (n.ok && n.addon.TunForwarder && n.addon.LinkSocket ? null : 'native addon without TunForwarder/LinkSocket');
const HNP = '2001:db8:97:f001::/64';

class Driver {
  private readonly lines: string[] = [];
  private waiter: (() => void) | null = null;
  constructor(readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (l) => {
      this.lines.push(l);
      this.waiter?.();
    });
  }
  async next(): Promise<Record<string, unknown>> {
    await until('driver answer', () => this.lines.length > 0 || this.child.exitCode !== null, 20_000);
    const l = this.lines.shift();
    if (l === undefined) throw new Error(`driver exited ${this.child.exitCode}`);
    return JSON.parse(l) as Record<string, unknown>;
  }
  async cmd(c: string): Promise<Record<string, unknown>> {
    this.child.stdin.write(`${c}\n`);
    return this.next();
  }
}

describe('MAG access-link flap: per-MN routes come back with the link while the binding lasts', { skip: skip ?? false }, () => {
  const lab = new Lab('nlflap');
  let mag: Netns, mn: Netns;
  const drivers: ChildProcessWithoutNullStreams[] = [];

  const v6 = (): string[] => mag.ip('-6', 'route', 'show', 'table', '5297').split('\n').filter((l) => l.includes('nlacc0')).map((l) => l.trim().split(' ').slice(0, 3).join(' '));
  const v4 = (): string[] => mag.ip('-4', 'route', 'show', 'table', '5297').split('\n').filter((l) => l.includes('nlacc0')).map((l) => l.trim().split(' ').slice(0, 3).join(' '));
  const toRules = (): string[] => [...mag.ip('-6', 'rule').split('\n'), ...mag.ip('-4', 'rule').split('\n')].filter((l) => /to \S+ lookup 5297/.test(l)).map((l) => l.trim().replace(/\s+/g, ' '));
  const present = () => v6().length === 1 && v4().length === 1;
  const WANT6 = [`${HNP} dev nlacc0`];
  const WANT4 = ['10.97.0.5 dev nlacc0'];

  let err = '';
  const start = async (routing: string): Promise<Driver> => {
    const c = spawn('ip', ['netns', 'exec', mag.name, process.execPath, '--import', 'tsx', 'test/dataplane/flap-driver.ts', routing], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    drivers.push(c);
    lab.track(c);
    err = '';
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const d = new Driver(c);
    const r = await d.next().catch((e: Error) => {
      throw new Error(`${e.message}: ${err}`);
    });
    assert.equal(r.ready, true, err);
    return d;
  };

  before(() => {
    mag = lab.ns('mag');
    mn = lab.ns('mn');
    mag.ip('link', 'add', 'nlacc0', 'type', 'veth', 'peer', 'name', 'nlmn0');
    mag.ip('link', 'set', 'nlmn0', 'netns', mn.name);
    mag.ip('link', 'set', 'nlacc0', 'up');
    mn.ip('link', 'set', 'nlmn0', 'up');
  });
  after(async () => {
    for (const c of drivers) if (c.exitCode === null) c.kill('SIGKILL');
    await lab.cleanup();
  });

  for (const routing of ['rtnetlink', 'ip-command']) {
    it(`the MAG's link goes down and up: the kernel drops the routes, the data plane puts them back (${routing})`, async () => {
      const d = await start(routing);
      await until('routes out of the access link', present, 10_000);
      assert.deepEqual([v6(), v4()], [WANT6, WANT4]);
      assert.equal(toRules().length, 2, 'the destination rules (IPv6, IPv4)');

      mag.ip('link', 'set', 'nlacc0', 'down');
      await until('the kernel removed the routes through the downed link', () => v6().length === 0 && v4().length === 0, 10_000);
      mag.ip('link', 'set', 'nlacc0', 'up');
      await until('routes restored after link up', present, 10_000);
      assert.deepEqual([v6(), v4()], [WANT6, WANT4]);
      assert.equal(toRules().length, 2);
      assert.ok(Number((await d.cmd('stats')).restoredRoutes) >= 2);

      // The interface goes away (its MAG end moved to another namespace) and comes back.
      mag.ip('link', 'set', 'nlacc0', 'netns', mn.name);
      await until('routes gone with the interface', () => v6().length === 0 && v4().length === 0, 10_000);
      mn.ip('link', 'set', 'nlacc0', 'netns', mag.name);
      mag.ip('link', 'set', 'nlacc0', 'up');
      await until('routes restored when the interface is back and up', present, 10_000);

      await d.cmd('close');
      assert.deepEqual([v6(), v4(), toRules()], [[], [], []], 'close removes everything');
    });
  }

  it('open removes what a crashed run left in its table (rtnetlink dumps), and says so', async () => {
    mag.ip('-6', 'route', 'add', '2001:db8:97:dead::/64', 'dev', 'nlacc0', 'table', '5297');
    mag.ip('-6', 'rule', 'add', 'pref', '5297', 'from', '2001:db8:97:dead::/64', 'lookup', '5297');
    mag.ip('-4', 'rule', 'add', 'pref', '5300', 'to', '10.97.9.9', 'lookup', '5297');
    const d = await start('rtnetlink');
    await until('routes out of the access link', present, 10_000);
    assert.deepEqual(v6(), WANT6, 'only the new run\'s route');
    assert.deepEqual(toRules().sort(), ['5297: from all to 10.97.0.5 lookup 5297', `5297: from all to ${HNP} lookup 5297`], 'only the new run\'s rules');
    const warn = err.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; rules?: number; routes?: number }).find((l) => /previous run left behind/.test(l.msg));
    assert.ok(warn, err);
    assert.deepEqual([warn.rules, warn.routes], [2, 1]);
    await d.cmd('close');
  });

  it('no route comes back once the binding has ended (routes removed), and a new binding gets them at once', async () => {
    const d = await start('auto');
    await until('routes out of the access link', present, 10_000);
    await d.cmd('remove');
    assert.deepEqual([v6(), v4(), toRules()], [[], [], []]);
    const before = Number((await d.cmd('stats')).restoredRoutes);
    mag.ip('link', 'set', 'nlacc0', 'down');
    mag.ip('link', 'set', 'nlacc0', 'up');
    // The link event reaches the data plane within milliseconds; give it ample time to (wrongly) act.
    await sleep(500);
    assert.deepEqual([v6(), v4(), toRules()], [[], [], []], 'nothing is restored for an ended binding');
    assert.equal(Number((await d.cmd('stats')).restoredRoutes), before);
    await d.cmd('add');
    assert.deepEqual([v6(), v4()], [WANT6, WANT4]);
    await d.cmd('close');
  });
});
