// The native addon is optional: where it cannot be built (no compiler) `npm ci` still
// succeeds, and where the process lacks CAP_NET_RAW everything but the IPv6 transport
// runs; asking for the IPv6 transport then fails with one line that says why.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Ip6Transport } from '../../src/transport/ip6.ts';
import { Ip6TransportUnavailableError, loadNative } from '../../src/transport/native.ts';
import { ROOT, pmip6, startSuiteProcess, stopProcess, type Child } from '../helpers/cli.ts';
import { createPgDatabase } from '../helpers/db.ts';

/** Runs a command without CAP_NET_RAW (as root: out of the bounding set, so exec cannot grant it). */
const NO_NET_RAW = ['setpriv', '--bounding-set=-net_raw', '--inh-caps=-net_raw'];

describe('the native addon is optional', () => {
  const children: Child[] = [];
  after(async () => {
    for (const c of children) await stopProcess(c);
  });

  it('an addon that was not built: the IPv6 transport refuses with the reason, in one line', () => {
    const s = loadNative('/nonexistent/pmip6_native.node');
    assert.equal(s.ok, false);
    assert.throws(
      () => Ip6Transport.open({ addresses: ['2001:db8::1'], addonPath: '/nonexistent/pmip6_native.node', what: 'LMA' }),
      (e: unknown) => e instanceof Ip6TransportUnavailableError && /^LMA on 2001:db8::1: IPv6 transport .* is unavailable: the native addon is not built .*g\+\+, make and python3/.test(e.message) && !e.message.includes('\n'),
    );
  });

  it('npm ci without a compiler: the install script prints one line, exits 0, builds nothing (PMIP6_NATIVE=require makes it fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pmip6-native-'));
    for (const f of ['binding.gyp', 'install.mjs', 'src']) cpSync(join(ROOT, 'native', f), join(dir, f), { recursive: true });
    // A PATH with node and python3 but no make, cc or g++.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync('/usr/bin/python3', join(bin, 'python3'));
    const nodedir = dirname(dirname(process.execPath));
    const env = { PATH: bin, HOME: dir, npm_config_nodedir: process.env.npm_config_nodedir ?? nodedir };
    const r = spawnSync(process.execPath, [join(dir, 'install.mjs')], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^pmip6 native addon: not built: .* the IPv6 transport \(raw Mobility Header sockets, protocol 135\) is unavailable; everything else works/);
    assert.ok(!existsSync(join(dir, 'build', 'Release', 'pmip6_native.node')));
    assert.match(readFileSync(join(dir, 'build', 'install.log'), 'utf8'), /make/, 'the full log is kept');
    const strict = spawnSync(process.execPath, [join(dir, 'install.mjs')], { env: { ...env, PMIP6_NATIVE: 'require' }, encoding: 'utf8' });
    assert.equal(strict.status, 1);
    // package.json runs this script on npm ci / npm install (under npx only when not yet built).
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.match(pkg.scripts.install, /\|\| node native\/install\.mjs$/);
  });

  it('without CAP_NET_RAW: pmip6 start on an IPv6 LMA address and pmip6 mag on an IPv6 Proxy-CoA exit with one line saying why', async () => {
    const db = await createPgDatabase('pmip6_nocap');
    try {
      const env = { DATABASE_URL: db.url, PMIP6_DATA_DIR: mkdtempSync(join(tmpdir(), 'pmip6-nocap-')), PMIP6_RADIUS_ENABLED: 'false', PMIP6_SNMP_ENABLED: 'false', PMIP6_API_ENABLED: 'false', PMIP6_LOG_LEVEL: 'error' };
      const lma = pmip6(['start'], { ...env, PMIP6_LMA_ADDRESS: '2001:db8::1' }, { prefix: NO_NET_RAW });
      children.push(lma);
      assert.equal(await lma.exited, 2, lma.out());
      const out = lma.out().trim().split('\n');
      assert.equal(out.length, 1, lma.out());
      assert.match(out[0], /^pmip6: LMA on 2001:db8::1: IPv6 transport \(Mobility Header on raw IPv6 sockets, protocol 135\) is unavailable: the process lacks CAP_NET_RAW/);
      const mag = pmip6(['mag', '--proxy-coa', '2001:db8::2', '--lma', '2001:db8::1'], env, { prefix: NO_NET_RAW });
      children.push(mag);
      assert.equal(await mag.exited, 2, mag.out());
      assert.match(mag.out().trim(), /^pmip6: MAG mag1 on 2001:db8::2: IPv6 transport .* unavailable: the process lacks CAP_NET_RAW[^\n]*$/);
    } finally {
      await db.drop();
    }
  });

  it('without CAP_NET_RAW, everything else runs: pmip6 start with an IPv4 LMA (UDP, RFC 5844 §4) becomes ready', async () => {
    const db = await createPgDatabase('pmip6_nocap4');
    try {
      const s = await startSuiteProcess({ DATABASE_URL: db.url, PMIP6_DATA_DIR: mkdtempSync(join(tmpdir(), 'pmip6-nocap4-')), PMIP6_RADIUS_ENABLED: 'false', PMIP6_SNMP_ENABLED: 'false', PMIP6_LMA_ADDRESS: '127.0.0.1', PMIP6_LMA_UDP_PORT: '0', PMIP6_LOG_LEVEL: 'warn' }, { prefix: NO_NET_RAW });
      children.push(s);
      assert.equal((await fetch(`${s.base}/readyz`)).status, 200);
      await stopProcess(s);
    } finally {
      await db.drop();
    }
  });
});
