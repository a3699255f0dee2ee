// Our MIB modules (mibs/PMIPV6-TC-MIB, mibs/PMIPV6-MIB) against RFC 6475: smilint-clean,
// the same definitions as the RFC's own module (test/snmp/fixtures/rfc6475) (descriptive text aside), and
// the agent's in-code object tree equal to what the module says.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pmip6Objects } from '../../src/snmp/mib.ts';
import { MemoryPersistence, Pmip6Settings } from '../../src/snmp/settings.ts';
import { FakeLma, FakeMag } from './fake-view.ts';
import { OUR_MIBS, RFC6475_MIBS, run, IETF_MIBS, tempDir } from './helpers.ts';

const MODULES = ['PMIPV6-TC-MIB', 'PMIPV6-MIB'];
let tmp: ReturnType<typeof tempDir>;
let ourPath: string; // our modules first, then the standard ones without any PMIPV6 module
const rfcPath = `${RFC6475_MIBS}:${IETF_MIBS}`;
const noConf = ['-c', '/dev/null']; // ignore /etc/smi.conf search paths

before(() => {
  tmp = tempDir('mib');
  ourPath = `${OUR_MIBS}:${IETF_MIBS}`;
});
after(() => tmp.remove());

const ours = (args: string[]) => run('smidump', [...noConf, ...args], { SMIPATH: ourPath });
const rfc = (args: string[]) => run('smidump', [...noConf, ...args], { SMIPATH: rfcPath });

/** smidump's SMIv2 rendering (canonical order) with the free text (DESCRIPTION, REFERENCE, ...) blanked. */
function normalised(smiv2: string): string[] {
  return smiv2
    .replace(/^--.*\n/gm, '')
    .replace(/(DESCRIPTION|REFERENCE|CONTACT-INFO|ORGANIZATION)\s*"[^"]*"/g, '$1 "."')
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter((l) => l !== '');
}

describe('PMIPV6-TC-MIB and PMIPV6-MIB modules (RFC 6475 §5)', () => {
  for (const m of MODULES) {
    test(`RFC 6475 §5: ${m} passes smilint -l 3 with zero diagnostics`, async () => {
      const r = await run('smilint', [...noConf, '-l', '3', join(OUR_MIBS, m)], { SMIPATH: ourPath });
      assert.equal(r.stdout + r.stderr, '', `smilint said:\n${r.stdout}${r.stderr}`);
    });

    test(`RFC 6475 §5: ${m} defines exactly the RFC's nodes, syntaxes, access, indexes, notifications and conformance`, async () => {
      const a = await rfc(['-q', '-f', 'smiv2', m]);
      const b = await ours(['-q', '-f', 'smiv2', join(OUR_MIBS, m)]);
      assert.equal(a.stderr, '');
      assert.equal(b.stderr, '');
      // The two halves really are different files: ours carries our own text.
      assert.match(b.stdout, /PMIP6 Suite project/);
      assert.doesNotMatch(a.stdout, /PMIP6 Suite project/);
      const la = normalised(a.stdout);
      const lb = normalised(b.stdout);
      assert.ok(la.length > 30);
      for (let i = 0; i < Math.max(la.length, lb.length); i++) {
        assert.equal(lb[i], la[i], `line ${i} differs; RFC context:\n${la.slice(Math.max(0, i - 8), i + 2).join('\n')}`);
      }
    });

    test(`RFC 6475 §5: ${m} has the RFC's OID tree (smidump -f tree and -f identifiers)`, async () => {
      for (const f of ['tree', 'identifiers']) {
        const a = await rfc(['-q', '-f', f, m]);
        const b = await ours(['-q', '-f', f, join(OUR_MIBS, m)]);
        assert.ok(a.stdout.length > 0);
        assert.equal(b.stdout, a.stdout, `-f ${f} differs`);
      }
    });
  }

  test('RFC 6475 §5.2: net-snmp tools load our module, not the RFC copy, from the search path the tests use', async () => {
    const env = { SNMP_PERSISTENT_DIR: tmp.path };
    const d = await run('snmptranslate', ['-M', ourPath, '-m', 'PMIPV6-MIB', '-Td', 'PMIPV6-MIB::pmip6Capabilities'], env);
    assert.match(d.stdout, /The Proxy Mobile IPv6 roles this entity runs/);
    const n = await run('snmptranslate', ['-M', ourPath, '-m', 'PMIPV6-MIB', '-On', 'PMIPV6-MIB::pmip6LmaHomeTunnelReleased'], env);
    assert.equal(n.stdout.trim(), '.1.3.6.1.2.1.206.0.4');
  });

  test('RFC 6475 §5.2: the agent object tree in code equals the module (name, OID, type, access)', async () => {
    const ids = await ours(['-q', '-f', 'identifiers', join(OUR_MIBS, 'PMIPV6-MIB')]);
    const tree = await ours(['-q', '-f', 'tree', join(OUR_MIBS, 'PMIPV6-MIB')]);
    const oidOf = new Map<string, { kind: string; oid: string }>();
    for (const line of ids.stdout.split('\n')) {
      const [mod, name, kind, oid] = line.trim().split(/\s+/);
      if (mod === 'PMIPV6-MIB') oidOf.set(name, { kind, oid });
    }
    // "+-- r-n TruthValue  pmip6BindingPBUFlag(1)"
    const fromMib = new Map<string, { access: string; type: string; oid: string }>();
    for (const line of tree.stdout.split('\n')) {
      const m = /\+-- (r-n|rwn|---) (\S+)\s+(\w+)\(\d+\)/.exec(line);
      if (!m || m[1] === '---') continue; // not-accessible: index objects are never served
      const o = oidOf.get(m[3]);
      assert.ok(o && (o.kind === 'scalar' || o.kind === 'column'), `${m[3]} kind`);
      fromMib.set(m[3], { access: m[1] === 'rwn' ? 'read-write' : 'read-only', type: m[2], oid: o.oid });
    }
    assert.equal(fromMib.size, 58); // 47 read-only + 11 read-write objects
    const settings = await Pmip6Settings.open(new MemoryPersistence());
    const objs = pmip6Objects({ lma: new FakeLma(), mag: new FakeMag(), settings, startedAt: Date.now() });
    const fromCode = new Map(objs.map((o) => [o.name, { access: o.access, type: o.smiType, oid: o.oid.join('.') }]));
    assert.deepEqual([...fromCode.keys()].sort(), [...fromMib.keys()].sort());
    for (const [name, want] of fromMib) assert.deepEqual(fromCode.get(name), want, name);
  });
});
