// The user-space forwarder's tables (native/src/fwd_table.c): open addressing with
// backward-shift deletion, longest-prefix match over the prefix lengths in use, tunnels
// removed with their routes. A driver inside a namespace of the test's own (a TUN device
// needs CAP_NET_ADMIN; nothing appears in the machine's namespace) runs random operations
// and compares every answer (added, removed, absent, routed over another tunnel) and the
// route count with a model, over two routing contexts (the same prefix in each is two routes).
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Lab, netnsUnavailable } from '../helpers/netns.ts';
import { ROOT } from '../helpers/cli.ts';

const skip = netnsUnavailable();

describe('user-space forwarder tables against a model', { skip: skip ?? false }, () => {
  const lab = new Lab('dptbl');
  after(() => lab.cleanup());

  for (const seed of [1, 7, 2024]) {
    it(`random adds, removes and tunnel removals agree with the model (seed ${seed})`, () => {
      const ns = lab.ns(`s${seed}`);
      const r = spawnSync('ip', ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', 'test/dataplane/table-driver.ts', String(seed), '20000'], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ops: number; mismatches: string[]; routes: number; model: number };
      assert.deepEqual(out.mismatches, []);
      assert.equal(out.ops, 20000);
      assert.equal(out.routes, out.model, 'the route count is the model\'s');
      assert.ok(out.model > 100, 'the table was well filled');
    });
  }
});
