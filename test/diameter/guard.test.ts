// Bounded server state (RFC 6733 §3 duplicates, §8.1 kept sessions): what goes in comes out,
// and nothing grows past its limit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DupCache, SessionTable } from '../../src/diameter/guard.ts';

describe('duplicate cache and session table', () => {
  it('§3: a duplicate is in progress, then answered with the cached answer; entries expire and are bounded', () => {
    const d = new DupCache(1000, 3);
    assert.deepEqual(d.check(1, 0), { kind: 'new' });
    assert.deepEqual(d.check(1, 10), { kind: 'in_progress' });
    d.complete(1, Buffer.from('a'), 20);
    assert.deepEqual(d.check(1, 30), { kind: 'answered', answer: Buffer.from('a') });
    assert.deepEqual(d.check(1, 1021), { kind: 'new' }, 'expired');
    d.check(2, 1021);
    d.check(3, 1021);
    d.check(4, 1021);
    assert.equal(d.size, 3);
    assert.equal(d.evicted, 1);
    d.abandon(4);
    assert.deepEqual(d.check(4, 1022), { kind: 'new' }, 'an abandoned request is processed anew');
  });

  it('§8.1: sessions by Session-Id and by MN (several per MN), the oldest dropped beyond the limit', () => {
    const t = new SessionTable(3);
    const k = (sessionId: string, mnId: string) => ({ sessionId, mnId, originHost: 'mag1.example.net', userName: mnId });
    t.add(k('s1', 'mn1'), 'mag1');
    t.add(k('s2', 'mn1'), 'mag2');
    t.add(k('s3', 'mn2'), 'mag1');
    t.add(k('s1', 'mn1'), 'mag1');
    assert.deepEqual(t.ofMn('mn1').map((s) => s.sessionId), ['s1', 's2']);
    t.add(k('s4', 'mn3'), 'mag1');
    assert.equal(t.size, 3);
    assert.equal(t.evicted, 1);
    assert.deepEqual(t.ofMn('mn1').map((s) => s.sessionId), ['s2']);
    t.add(k('s2', 'mn9'), 'mag2');
    assert.deepEqual(t.ofMn('mn1'), []);
    assert.deepEqual(t.ofMn('mn9').map((s) => s.peer), ['mag2']);
    assert.equal(t.remove('s3')?.mnId, 'mn2');
    assert.deepEqual(t.ofMn('mn2'), []);
    assert.equal(t.remove('s3'), undefined);
  });
});
