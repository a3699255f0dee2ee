// The embedded store's data-folder lock: a live owner keeps it; a killed owner (gone, a
// zombie not yet reaped, or a PID now used by another process) is recognised at once and
// the lock taken over on the first try.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirBusyError, lockDataDir, procStat } from '../../src/store/lock.ts';

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'pmip6-lock-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const lockOf = (dir: string, owner: unknown) => writeFileSync(join(dir, 'pmip6.lock'), typeof owner === 'string' ? owner : JSON.stringify(owner));
const until = async (f: () => boolean) => {
  for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('data folder lock (src/store/lock.ts)', () => {
  it('a live owner keeps the lock; its PID, start time and boot ID are recorded', async () => {
    const dir = fresh();
    const child = spawn('sleep', ['30']);
    try {
      await until(() => procStat(child.pid!) !== null);
      lockOf(dir, { pid: child.pid, start: procStat(child.pid!)!.start });
      assert.throws(() => lockDataDir(dir), DataDirBusyError);
      lockOf(dir, String(child.pid)); // the older format: a bare PID
      assert.throws(() => lockDataDir(dir), DataDirBusyError);
    } finally {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone; // killed and reaped: now the lock is stale
    }
    const release = lockDataDir(dir);
    const written = JSON.parse(readFileSync(join(dir, 'pmip6.lock'), 'utf8')) as { pid: number; start: string; boot: string };
    assert.equal(written.pid, process.pid);
    assert.equal(written.start, procStat(process.pid)!.start);
    assert.match(written.boot, /^[0-9a-f-]{36}$/);
    release();
  });

  it('a killed owner that is still a zombie (not reaped by its parent) is recognised on the first try', async () => {
    const dir = fresh();
    // The shell's background child dies at once; the shell then execs `sleep`, which never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number(await new Promise<string>((r) => parent.stdout!.once('data', (d) => r(String(d).trim()))));
      await until(() => procStat(pid)?.state === 'Z');
      assert.equal(procStat(pid)?.state, 'Z', 'the owner is a zombie');
      lockOf(dir, { pid });
      const release = lockDataDir(dir);
      release();
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('a PID reused by another process (different start time) and a lock from another boot are stale', () => {
    const dir = fresh();
    const other = process.ppid; // alive, but not the process that wrote the lock
    lockOf(dir, { pid: other, start: '1' });
    lockDataDir(dir)();
    lockOf(dir, { pid: other, start: procStat(other)!.start, boot: '00000000-0000-0000-0000-000000000000' });
    lockDataDir(dir)();
    lockOf(dir, ''); // torn by a crash between create and write
    lockDataDir(dir)();
  });
});
