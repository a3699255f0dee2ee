// Acknowledged means durable (src/lma/commit.ts) and a crash is a restart (RFC 5847 §3.2),
// on the LMA state machine with a store that can fail and the real file journal:
// - a PBA 0 for a new binding goes out only once the binding is committed (or journalled);
// - while the store fails, batches go to the journal and the PBAs go out; a crash then a
//   restart restores them from the journal, and the journal reaches the store when it returns;
// - an unclean stop raises the Restart Counter and every known MAG gets an unsolicited
//   Heartbeat Response (U = 1) with it; a clean stop keeps the counter.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeartbeatFlag, HandoffIndicator as HI, getOption } from '../../src/mh/index.ts';
import type { CommitSignal, PersistedBinding } from '../../src/store/repos/bindings.ts';
import { FileBindingJournal } from '../../src/store/binding-journal.ts';
import { DbUnavailableError } from '../../src/store/db.ts';
import type { BindingStore, RestartCounterState } from '../../src/lma/index.ts';
import { harness, makeProfile, MAG1, MAG2 } from './driver.ts';

class MemStore implements BindingStore {
  readonly rows = new Map<string, PersistedBinding>();
  fail = false;
  commits = 0;
  /** Session keys committed as rows of new sessions (the `fresh` hint). */
  readonly inserted: string[] = [];
  async commit(_lmaId: string, ups: readonly PersistedBinding[], rems: readonly string[], _signal?: CommitSignal, fresh = 0): Promise<void> {
    if (this.fail) throw new DbUnavailableError(new Error('connection refused'));
    this.commits++;
    for (let i = 0; i < fresh; i++) {
      assert.ok(!this.rows.has(ups[i].sessionKey), `row ${ups[i].sessionKey} hinted as new exists`);
      this.inserted.push(ups[i].sessionKey);
    }
    for (const b of ups) this.rows.set(b.sessionKey, structuredClone(b));
    for (const k of rems) this.rows.delete(k);
  }
  async loadLive(_lmaId: string, now = new Date()): Promise<PersistedBinding[]> {
    if (this.fail) throw new DbUnavailableError(new Error('connection refused'));
    return [...this.rows.values()].filter((r) => r.expiresAt > now).map((r) => structuredClone(r));
  }
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'pmip6-durable-'));
  dirs.push(d);
  return d;
};

const MN1 = 'mn1@example.net';
const MN2 = 'mn2@example.net';
const P1 = '2001:db8:1::/64';
const P2 = '2001:db8:2::/64';
const profiles = [makeProfile(MN1, { hnps: [P1] }), makeProfile(MN2, { hnps: [P2] })];

describe('acknowledged means durable (group commit, local journal)', () => {
  it('while the store fails, new bindings are journalled before their PBA; after a crash they are restored from the journal, which then reaches the store', async () => {
    const store = new MemStore();
    const journalFile = join(tmp(), 'journal.jsonl');
    let h = await harness({ store, journal: new FileBindingJournal(journalFile), profiles });
    const mag = h.mag();
    mag.pbu({ mnId: MN1, lifetime: 600 });
    await h.settle();
    assert.equal(mag.pba().status, 0);
    assert.equal(store.rows.size, 1, 'committed to the store');

    store.fail = true;
    mag.pbu({ mnId: MN2, lifetime: 600 });
    await h.settle();
    assert.equal(mag.pba().status, 0, 'acknowledged: durable in the journal');
    assert.equal(store.rows.size, 1);
    assert.equal(h.lma.counters.persist.journalled, 1);
    assert.equal((await new FileBindingJournal(journalFile).load()).size, 1, 'on disk');
    // Crash: no stop, nothing flushed. The store comes back; a new LMA starts.
    store.fail = false;
    const clock = h.clock;
    h = await harness({ store, journal: new FileBindingJournal(journalFile), profiles, clock });
    assert.deepEqual(h.lma.bindings.list().items.map((b) => [b.mnId, b.hnps[0]]).sort(), [[MN1, P1], [MN2, P2]]);
    await h.advance(1000); // the journal is written to the store, then emptied
    assert.deepEqual([...store.rows.values()].map((r) => r.mnId).sort(), [MN1, MN2]);
    assert.equal((await new FileBindingJournal(journalFile).load()).size, 0);
    assert.equal(h.lma.commits!.journalledRows, 0);
    await h.close();
  });

  it('PBUs arriving together share one commit; a refresh is acknowledged at once and written lazily', async () => {
    const store = new MemStore();
    const h = await harness({ store, profiles });
    const mag = h.mag();
    mag.pbu({ mnId: MN1 });
    mag.pbu({ mnId: MN2 });
    await h.settle();
    assert.equal(mag.pba().status, 0);
    assert.equal(mag.pba().status, 0);
    assert.equal(store.commits, 1);
    assert.equal(store.inserted.length, 2, 'rows of new sessions, hinted as such');
    store.fail = true; // a refresh does not wait for the store
    mag.pbu({ mnId: MN1, hnps: [P1], hi: HI.NOT_CHANGED });
    await h.settle();
    assert.equal(mag.pba().status, 0);
    store.fail = false;
    await h.advance(1000); // the lazy write of the refresh: an update of an existing row
    assert.equal(store.commits, 2);
    assert.equal(store.inserted.length, 2);
    await h.close();
  });

  it('a refresh waits for the commit when the lifetime already written ends within lazyRefreshMarginMs', async () => {
    const store = new MemStore();
    const h = await harness({ store, profiles, config: { lazyRefreshMarginMs: 60_000 } });
    const mag = h.mag();
    mag.pbu({ mnId: MN1, lifetime: 30 }); // the store holds 30 s: a lost refresh would leave too little
    mag.pbu({ mnId: MN2, lifetime: 600 });
    await h.settle();
    assert.equal(mag.pba().status, 0);
    assert.equal(mag.pba().status, 0);
    store.fail = true;
    mag.pbu({ mnId: MN1, hnps: [P1], hi: HI.NOT_CHANGED, lifetime: 600 });
    mag.pbu({ mnId: MN2, hnps: [P2], hi: HI.NOT_CHANGED, lifetime: 600 });
    await h.settle();
    const pba = mag.pba();
    assert.equal(pba.status, 0, 'the refresh of a binding written with 600 s goes out at once');
    assert.equal(Buffer.from(getOption(pba, 'mnId')!.id).toString(), MN2);
    assert.equal(mag.received.length, 0, 'the refresh of a binding written with 30 s waits for the store (which fails: no PBA)');
    store.fail = false;
    mag.pbu({ mnId: MN1, hnps: [P1], hi: HI.NOT_CHANGED, lifetime: 600 }); // the MAG retransmits
    await h.settle();
    assert.equal(mag.pba().status, 0);
    assert.equal([...store.rows.values()].find((r) => r.mnId === MN1)?.lifetimeS, 600, 'committed before its PBA');
    await h.close();
  });
});

describe('RFC 5847 §3.2: a crash is a restart', () => {
  it('an unclean stop raises the Restart Counter and every MAG of a restored binding gets an unsolicited Heartbeat Response with it; a clean stop keeps it', async () => {
    const store = new MemStore();
    let saved: RestartCounterState | null = { counter: 7, cleanStop: true };
    const rcStore = { load: async () => saved, save: async (s: RestartCounterState) => void (saved = s) };
    let h = await harness({ store, restartCounterStore: rcStore, profiles });
    assert.equal(h.lma.restartCounter, 7, 'after a clean stop with everything restored: the same counter');
    assert.deepEqual(saved, { counter: 7, cleanStop: false }, 'running');
    const m1 = h.mag(MAG1);
    const m2 = h.mag(MAG2);
    m1.pbu({ mnId: MN1, lifetime: 600 });
    m2.pbu({ mnId: MN2, lifetime: 600 });
    await h.settle();
    m1.pba();
    m2.pba();
    // Crash (no stop): the next start finds "running".
    const hub = h.hub;
    const clock = h.clock;
    h = await harness({ store, restartCounterStore: rcStore, profiles, hub, clock });
    assert.equal(h.lma.restartCounter, 8);
    await h.settle();
    for (const m of [m1, m2]) {
      const hb = m.take();
      assert.equal(hb?.type, 'heartbeat', 'unsolicited Heartbeat Response');
      assert.equal(hb.type === 'heartbeat' && hb.flags, HeartbeatFlag.R | HeartbeatFlag.U);
      assert.equal(getOption(hb, 'restartCounter')?.counter, 8);
    }
    assert.equal(h.lma.bindingCount, 2, 'bindings restored');
    await h.close();
    assert.deepEqual(saved, { counter: 8, cleanStop: true });
    h = await harness({ store, restartCounterStore: rcStore, profiles, hub, clock });
    assert.equal(h.lma.restartCounter, 8, 'clean stop: the same counter');
    await h.settle();
    assert.equal(m1.take(), undefined, 'and no announcement');
    await h.close();
  });
});
