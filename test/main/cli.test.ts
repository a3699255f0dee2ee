// The pmip6 CLI against an embedded store: profile add/list/show/rm, import with a
// progress bar and a per-line report, --help everywhere, and the data-folder lock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockDataDir } from '../../src/store/lock.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

function pmip6(dataDir: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env: { ...process.env, PMIP6_DATA_DIR: dataDir, PMIP6_LOG_LEVEL: 'silent' }, encoding: 'utf8', timeout: 120000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('pmip6 CLI', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pmip6-cli-'));

  it('profile add, list, show and rm', () => {
    const add = pmip6(dataDir, 'profile', 'add', '--mn-id', 'cli1@example.net', '--hnp', '2001:db8:c::/64', '--lma', '2001:db8::1');
    assert.equal(add.code, 0, add.err);
    assert.equal(JSON.parse(add.out).mnId, 'cli1@example.net');
    const bad = pmip6(dataDir, 'profile', 'add', '--mn-id', 'cli2@example.net', '--hnp', '2001:db8:c::1/64');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /hnps\.0: .*host bits/);
    const dup = pmip6(dataDir, 'profile', 'add', '--mn-id', 'cli1@example.net');
    assert.equal(dup.code, 2);
    assert.match(dup.err, /mnId already in use/);
    const list = pmip6(dataDir, 'profile', 'list');
    assert.match(list.out, /^cli1@example\.net\t2001:db8:c::\/64\t-\t2001:db8::1\tenabled$/m);
    assert.equal(JSON.parse(pmip6(dataDir, 'profile', 'show', 'cli1@example.net').out).hnps[0], '2001:db8:c::/64');
    assert.equal(pmip6(dataDir, 'profile', 'rm', 'cli1@example.net').code, 0);
    const gone = pmip6(dataDir, 'profile', 'show', 'cli1@example.net');
    assert.equal(gone.code, 2);
    assert.match(gone.err, /not found/);
  });

  it('import reports every bad line and keeps nothing; a good file imports with a progress bar', () => {
    const bad = join(dataDir, 'bad.csv');
    writeFileSync(bad, 'mnId,hnps\nok1@example.net,2001:db8:d1::/64\nbad@example.net,nonsense\nok1@example.net,2001:db8:d2::/64\n');
    const r = pmip6(dataDir, 'import', bad);
    assert.equal(r.code, 2);
    assert.match(r.err, /bad\.csv:3: bad@example\.net: hnps\.0:/);
    assert.match(r.err, /bad\.csv:4: ok1@example\.net: mnId: duplicates line 2/);
    assert.match(r.err, /nothing was imported/);
    const good = join(dataDir, 'good.csv');
    const lines = ['mnId,hnps,ipv4HoA'];
    for (let i = 0; i < 1200; i++) lines.push(`imp${i}@example.net,2001:db8:e:${i.toString(16)}::/64,10.20.${i >> 8}.${i & 255}`);
    writeFileSync(good, lines.join('\n'));
    const ok = pmip6(dataDir, 'import', good);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /imported 1200 profiles/);
    assert.match(ok.err, /importing \[.*\] 100% \| 1200\/1200 rows/);
    assert.match(pmip6(dataDir, 'profile', 'list', '--q', 'imp11', '--limit', '5').err, /5 of 11/);
  });

  it('--help is available on every command', () => {
    for (const args of [[], ['start'], ['migrate'], ['profile'], ['profile', 'add'], ['profile', 'list'], ['profile', 'show'], ['profile', 'rm'], ['import']]) {
      const r = pmip6(dataDir, ...args, '--help');
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.out, /Usage: pmip6/);
    }
  });

  it('refuses to open an embedded store another process is using', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pmip6-busy-'));
    const release = lockDataDir(dir);
    try {
      const r = pmip6(dir, 'profile', 'list');
      assert.equal(r.code, 2);
      assert.match(r.err, /in use by process \d+/);
    } finally {
      release();
    }
  });
});
