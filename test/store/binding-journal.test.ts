// The LMA's local binding journal (src/store/binding-journal.ts): what was appended is read
// back coalesced by session key (a deletion wins over an earlier row); a line torn by a crash
// in the middle of an append is ignored; a long outage's journal is compacted to its
// coalesced content; clear() empties it.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBindingJournal } from '../../src/store/binding-journal.ts';
import type { PersistedBinding } from '../../src/store/repos/bindings.ts';

const dir = mkdtempSync(join(tmpdir(), 'pmip6-journal-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const row = (k: string, seq: number): PersistedBinding => ({
  lmaId: 'lma', sessionKey: k, mnId: `${k}@example.net`, mnLlId: null, att: 4, proxyCoa: '192.0.2.9', hnps: ['2001:db8:1::/64'], ipv4HoA: null,
  lifetimeS: 60, registeredAt: new Date(1_700_000_000_000), expiresAt: new Date(1_700_000_060_000), state: { seq },
});

describe('binding journal (local, durable)', () => {
  it('reads back what was appended, coalesced; ignores a torn last line; clear empties it', async () => {
    const file = join(dir, 'a.jsonl');
    const j = new FileBindingJournal(file);
    await j.append([row('1', 1), row('2', 1)], []);
    await j.append([row('1', 2)], ['2']);
    appendFileSync(file, '{"u":[{"sessionKey":"3"'); // a crash in the middle of an append
    const back = await new FileBindingJournal(file).load();
    assert.deepEqual([...back.keys()], ['1', '2']);
    assert.equal(back.get('1')!.state.seq, 2);
    assert.equal(back.get('1')!.registeredAt.getTime(), 1_700_000_000_000);
    assert.equal(back.get('2'), null, 'deleted');
    await j.clear();
    assert.equal((await new FileBindingJournal(file).load()).size, 0);
    await j.close();
  });

  it('a journal of many refreshes of a few bindings is compacted to its coalesced content', async () => {
    const file = join(dir, 'b.jsonl');
    const j = new FileBindingJournal(file, 64 << 10);
    for (let i = 0; i < 400; i++) await j.append([row(String(i % 5), i)], []);
    assert.ok(statSync(file).size < 64 << 10, `compacted (${statSync(file).size} bytes)`);
    const back = await new FileBindingJournal(file).load();
    assert.equal(back.size, 5);
    assert.equal(back.get('4')!.state.seq, 399);
    await j.close();
  });
});
