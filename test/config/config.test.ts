// Configuration: defaults, file, PMIP6_* environment (upper snake case of the key path),
// DATABASE_URL, and errors that name the key, where it came from and the bad value.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, envName, configKeys, ConfigError } from '../../src/config/index.ts';

describe('configuration', () => {
  it('has embedded defaults: PGlite in ./data, API on 8080, standard ports', () => {
    const c = loadConfig({ env: {} });
    assert.equal(c.dataDir, './data');
    assert.equal(c.databaseUrl, '');
    assert.equal(c.api.port, 8080);
    assert.equal(c.radius.authPort, 1812);
    assert.equal(c.radius.acctPort, 1813);
    assert.equal(c.diameter.port, 3868);
    assert.equal(c.snmp.port, 161);
    assert.equal(c.lma.udpPort, 5436);
    assert.equal(c.lma.minDelayBeforeBCEDelete, 10000);
  });

  it('maps every key to PMIP6_ + upper snake case, as DESIGN.md lists', () => {
    assert.equal(envName(['api', 'port']), 'PMIP6_API_PORT');
    assert.equal(envName(['radius', 'authPort']), 'PMIP6_RADIUS_AUTH_PORT');
    assert.equal(envName(['dataDir']), 'PMIP6_DATA_DIR');
    const names = configKeys().map(envName);
    for (const n of ['PMIP6_API_TOKEN', 'PMIP6_RADIUS_ACCT_PORT', 'PMIP6_DIAMETER_PORT', 'PMIP6_DIAMETER_IDENTITY', 'PMIP6_DIAMETER_REALM', 'PMIP6_SNMP_PORT', 'PMIP6_LMA_ADDRESS']) {
      assert.ok(names.includes(n), n);
    }
    const c = loadConfig({ env: { PMIP6_API_PORT: '9090', PMIP6_RADIUS_AUTH_PORT: '11812', PMIP6_LMA_ADDRESS: '2001:db8::1', DATABASE_URL: 'postgres://h/db', PMIP6_SNMP_COMMUNITIES: 'public, noc' } });
    assert.equal(c.api.port, 9090);
    assert.equal(c.radius.authPort, 11812);
    assert.equal(c.lma.address, '2001:db8::1');
    assert.equal(c.databaseUrl, 'postgres://h/db');
    assert.deepEqual(c.snmp.communities, ['public', 'noc']);
  });

  it('layers defaults < file < environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pmip6-cfg-'));
    const f = join(dir, 'c.json');
    writeFileSync(f, JSON.stringify({ api: { port: 7000, token: 'from-file' }, dataDir: '/srv/pmip6' }));
    const c = loadConfig({ file: f, env: { PMIP6_API_PORT: '7001' } });
    assert.equal(c.api.port, 7001);
    assert.equal(c.api.token, 'from-file');
    assert.equal(c.dataDir, '/srv/pmip6');
  });

  it('names the key, its source and the bad value', () => {
    assert.throws(
      () => loadConfig({ env: { PMIP6_API_PORT: 'eighty' } }),
      (e: unknown) => e instanceof ConfigError && /api\.port \(environment PMIP6_API_PORT\) = "eighty"/.test(e.message),
    );
    assert.throws(() => loadConfig({ env: { PMIP6_API_PORT: '70000' } }), /api\.port .*70000/);
    assert.throws(() => loadConfig({ env: { PMIP6_RADIUS_REQUIRE_MESSAGE_AUTHENTICATOR: 'maybe' } }), /radius\.requireMessageAuthenticator/);
    assert.throws(() => loadConfig({ env: { PMIP6_API_PROT: '1' } }), /PMIP6_API_PROT: not a configuration key/);
    const dir = mkdtempSync(join(tmpdir(), 'pmip6-cfg-'));
    const f = join(dir, 'bad.json');
    writeFileSync(f, '{"api": {"port": "x"}}');
    assert.throws(() => loadConfig({ file: f, env: {} }), new RegExp(`api\\.port \\(config file ${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\) = "x"`));
    writeFileSync(f, '{not json');
    assert.throws(() => loadConfig({ file: f, env: {} }), /bad\.json/);
  });

  it('README documents every key with its environment name', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const k of configKeys()) {
      assert.ok(readme.includes(`| \`${k.join('.')}\` | \`${envName(k)}\``), `README lacks ${k.join('.')} / ${envName(k)}`);
    }
  });

  it('DATABASE_URL may name a Unix-socket server (no host, ?host=/dir or %2Fdir), as libpq does', () => {
    for (const url of ['postgres://pmip6@/pmip6?host=/run/postgresql', 'postgres://pmip6@/pmip6?host=%2Ftmp%2Fsock&port=5432']) {
      assert.equal(loadConfig({ env: { DATABASE_URL: url } }).databaseUrl, url);
    }
    assert.throws(() => loadConfig({ env: { DATABASE_URL: 'postgres://pmip6@/pmip6' } }), /databaseUrl/);
  });
});
