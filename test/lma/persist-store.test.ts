// Restart recovery through the real bindings repository (src/store/repos/bindings.ts) on
// PGlite: the LMA commits its bindings (group commit) and gets them back after a restart.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BindingRepo } from '../../src/store/repos/bindings.ts';
import { RecordingDataPlane } from '../../src/dataplane/recording.ts';
import { HandoffIndicator as HI } from '../../src/mh/index.ts';
import { openTestDb } from '../helpers/db.ts';
import type { TestDb } from '../helpers/db.ts';
import { harness, makeProfile, MAG1 } from './driver.ts';

describe('group commit to the bindings repository (PGlite)', () => {
  let tdb: TestDb;
  before(async () => {
    tdb = await openTestDb('pglite');
  });
  after(() => tdb.drop());

  it('BindingRepo is a BindingStore: bindings (GRE keys, IPv4, link-local) survive an LMA restart', async () => {
    const repo = new BindingRepo(tdb.db);
    const profiles = [makeProfile('mn1@example.net', { hnps: ['2001:db8:1::/64'], ipv4HoA: '10.0.0.5', ipv4PrefixLength: 24, greKeyPolicy: 'optional' })];
    let h = await harness({ store: repo, profiles });
    const mag = h.mag();
    mag.pbu({ mnId: 'mn1@example.net', v4: { addr: '0.0.0.0' }, gre: 77, lla: '::', lifetime: 3600 });
    await h.settle();
    assert.equal(mag.pba().status, 0);
    assert.equal((await repo.loadLive('lma-test', new Date(h.clock.now()))).length, 1, 'committed before the PBA went out');
    const before = h.lma.bindings.list().items[0];
    await h.close(); // flushes
    const rows = await repo.loadLive('lma-test', new Date(h.clock.now()));
    assert.equal(rows.length, 1);
    assert.equal(rows[0].proxyCoa, MAG1);
    assert.deepEqual(rows[0].hnps, ['2001:db8:1::/64']);
    assert.equal(rows[0].ipv4HoA, '10.0.0.5');

    const dp = new RecordingDataPlane();
    h = await harness({ store: repo, profiles, clock: h.clock, dp });
    const after = h.lma.binding(before.sessionKey)!;
    assert.deepEqual({ ...after, magReachable: true }, { ...before, magReachable: true });
    assert.equal([...dp.tunnels.values()][0].greKeyOut, 77);
    assert.ok(dp.routes.has('10.0.0.5/32'));
    // and it keeps working
    const m = h.mag();
    m.pbu({ mnId: 'mn1@example.net', hnps: ['2001:db8:1::/64'], v4: { addr: '10.0.0.5', prefixLen: 24 }, gre: 77, hi: HI.NOT_CHANGED, lifetime: 0 });
    await h.settle();
    assert.equal(m.pba().status, 0);
    await h.advance(10_000);
    await h.close();
    assert.equal((await repo.loadLive('lma-test', new Date(h.clock.now()))).length, 0);
  });
});
