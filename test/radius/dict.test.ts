// dict/dictionary.pmip6: the FreeRADIUS-format dictionary we ship for operators agrees with
// our constants and with FreeRADIUS's own RFC dictionaries, and radclient loads it.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { Attr } from '../../src/radius/constants.ts';
import { SECRET, parseReply, radclient, startServer } from './helpers.ts';

const OURS = resolve(import.meta.dirname, '../../dict/dictionary.pmip6');

async function attributes(file: string): Promise<Map<string, { num: number; type: string }>> {
  const m = new Map<string, { num: number; type: string }>();
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    const a = /^ATTRIBUTE\s+(\S+)\s+(\d+)\s+(\S+)/.exec(line);
    if (a) m.set(a[1], { num: Number(a[2]), type: a[3] });
  }
  return m;
}

describe('dict/dictionary.pmip6', () => {
  it('RFC 6572 §9.1 / RFC 5447: numbers and types equal FreeRADIUS dictionaries and our constants', async () => {
    const ours = await attributes(OURS);
    const fr = new Map<string, { num: number; type: string }>();
    for (const f of ['rfc6572', 'rfc5447', 'rfc3576', 'rfc4372']) {
      for (const [k, v] of await attributes(`/usr/share/freeradius/dictionary.${f}`)) fr.set(k, v);
    }
    for (let n = 145; n <= 162; n++) assert.ok([...ours.values()].some((v) => v.num === n), `attribute ${n} present`);
    for (const [name, v] of ours) {
      assert.deepEqual(fr.get(name), v, name);
      const constName = name.replace(/-/g, '').replace(/^MIP6/, 'Mip6').replace(/^PMIP6/, 'Pmip6');
      const match = Object.entries(Attr).find(([k]) => k.toLowerCase() === constName.toLowerCase());
      assert.ok(match, `constant for ${name}`);
      assert.equal(match[1], v.num, name);
    }
  });

  it('radclient loads it after the FreeRADIUS dictionaries and decodes our Accept with it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'radius-dict-'));
    const { server, auth } = await startServer();
    try {
      await writeFile(join(dir, 'dictionary'), `$INCLUDE ${OURS}\n`);
      const r = await radclient(['-d', dir, '-x', '-r', '1', '-t', '3', `127.0.0.1:${auth}`, 'auth', SECRET],
        'User-Name = "mn1@example.net"\nNAS-Identifier = "mag1"\nMessage-Authenticator = 0x00\n');
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual(parseReply(r.stdout).attrs.get('PMIP6-Home-HN-Prefix'), ['2001:db8:1:1::/64', '2001:db8:2::/48']);
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
