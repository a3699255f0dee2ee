// New BCEs go to the binding store encoded straight from the BCE (src/lma/persist.ts copyRow,
// newRows; BindingRepo.insertNew: COPY on PostgreSQL, the INSERT on PGlite). What the store
// then holds must be what toPersisted(b) would have written, whatever the text holds, and
// restore (fromPersisted) must rebuild the same BCE.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Bce, F, MagPeer } from '../../src/lma/bce.ts';
import { fromPersisted, newRows, toPersisted } from '../../src/lma/persist.ts';
import { BindingRepo, copyTimestamp } from '../../src/store/repos/bindings.ts';
import type { MhTransport } from '../../src/transport/types.ts';
import { DB_KINDS, openTestDb, type TestDb } from '../helpers/db.ts';

const NOW = Date.UTC(2026, 11, 6, 23, 59, 59, 7);

function bces(): Bce[] {
  const p4 = new MagPeer('192.0.2.1', '192.0.2.1', 5436, '192.0.2.100', 'udp4', {} as MhTransport);
  const p6 = new MagPeer('2001:db8::2', '2001:db8::2', -1, 'odd\t"local"\\é', 'ip6', {} as MhTransport);
  const out: Bce[] = [];
  const mk = (id: number, mnId: string, ll: string | null, peer: MagPeer, f: (b: Bce) => void): void => {
    const b = new Bce(id, mnId, ll, 4, peer);
    b.lifetime = 600;
    b.registeredAt = NOW;
    b.refreshedAt = NOW + 1;
    b.expiresAt = NOW + 600_000;
    b.policyAt = NOW - 5;
    b.ts = 1234567.5;
    b.seq = 65535;
    f(b);
    out.push(b);
  };
  mk(1, 'mn1@example.net', null, p4, (b) => (b.hnps = '2001:db8:1::/64'));
  mk(2, 'tab\there\nnew\\line "q" é€', '02:00:00:00:00:01', p6, (b) => {
    b.hnps = ['2001:db8:2::/64', '2001:db8:3::/64'];
    b.v4 = (10 << 24) | 5;
    b.v4Len = 24;
    b.v4Router = (10 << 24) | 1;
    b.lla = 'fe80::1';
    b.greUp = 0xfffffff0 | 0;
    b.greDown = 7;
    b.ctx = 3;
    b.hi = 4;
    b.flags |= F.GRE | F.GRE_KEYS;
  });
  mk(3, 'mn3@example.net', null, p4, (b) => {
    b.hnps = null;
    b.flags |= F.DEREG;
    b.deadline = NOW + 10_000;
  });
  mk(4, 'mn4@example.net', null, p4, (b) => {
    b.hnps = '2001:db8:4::/64';
    b.registeredAt = NOW + 1000; // past midnight: a new day's date text
    b.expiresAt = NOW + 1000 + 600_000;
  });
  return out;
}

describe('copyTimestamp', () => {
  it('is Date#toISOString across days, before 1970 and at the edges of a day', () => {
    for (const ms of [NOW, NOW + 1, NOW + 86_400_000 * 3 + 1, 0, -1, -86_400_001, Date.UTC(2000, 1, 29, 0, 0, 0, 0), Date.UTC(2026, 0, 1) - 1, NOW + 0.75]) {
      assert.equal(copyTimestamp(ms), new Date(ms).toISOString(), String(ms));
    }
  });
});

for (const kind of DB_KINDS) {
  describe(`new BCEs encoded for the binding store (${kind})`, () => {
    let t: TestDb;
    before(async () => {
      t = await openTestDb(kind);
    });
    after(() => t.drop());

    it('the store holds what toPersisted gives, and restore rebuilds the BCE', async () => {
      const repo = new BindingRepo(t.db);
      const list = bces();
      await repo.insertNew('lma\tx', newRows('lma\tx', list));
      const rows = await repo.loadLive('lma\tx', new Date(NOW - 1));
      assert.equal(rows.length, list.length);
      const byKey = new Map(rows.map((r) => [r.sessionKey, r]));
      for (const b of list) {
        const want = toPersisted('lma\tx', b);
        const got = byKey.get(b.sessionKey)!;
        assert.deepEqual(got, want, b.sessionKey);
        const back = fromPersisted(got, () => b.peer)!;
        const ref = fromPersisted(want, () => b.peer)!;
        assert.deepEqual(back, ref);
      }
    });

    it('a new row the store holds after all is upserted, not refused', async () => {
      const repo = new BindingRepo(t.db);
      const list = bces();
      await repo.insertNew('dup', newRows('dup', list.slice(0, 1)));
      list[0].seq = 9;
      await repo.insertNew('dup', newRows('dup', list));
      const rows = await repo.loadLive('dup', new Date(NOW - 1));
      assert.equal(rows.length, list.length);
      assert.equal(rows.find((r) => r.sessionKey === '1')!.state.seq, 9);
    });
  });
}
