// scripts/netns-demo.sh runs as a user would run it (root): five namespaces of its own
// (named nldemo<pid>-* here through NETNS_DEMO_TAG), the LMA and two MAGs as the suite's
// processes, the MN unmodified: it gets its address by SLAAC from MAG1's Router
// Advertisement, pings the CN, its link moves to MAG2 and the ping goes on with the same
// address; at the end nothing of it is left (namespaces, processes, temporary files).
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { ROOT } from '../helpers/cli.ts';
import { netnsUnavailable } from '../helpers/netns.ts';
import { loadNative } from '../../src/transport/native.ts';

const TAG = `nldemo${process.pid}`;
const skip =
  netnsUnavailable() ??
  (loadNative().ok ? null : 'native addon not built') ??
  (spawnSync('ping', ['-V']).error ? 'ping (iputils-ping) is not installed' : null) ??
  (spawnSync('curl', ['--version']).error ? 'curl is not installed' : null);

/** Processes started by the script: they inherit NETNS_DEMO_TAG (the suite's processes do not name it on their command line). */
const demoProcesses = (): number[] =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`NETNS_DEMO_TAG=${TAG}`);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);

const namespaces = (): string[] => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(`${TAG}-`));

describe('scripts/netns-demo.sh', { skip: skip ?? false }, () => {
  after(() => {
    for (const pid of demoProcesses()) process.kill(pid, 'SIGKILL'); // only if the script failed to
    for (const n of namespaces()) spawnSync('ip', ['netns', 'del', n]); // only if the script failed to
  });

  it('SLAAC at MAG1, ping to the CN, the link moves to MAG2, the ping goes on, everything removed', async () => {
    const child = spawn('bash', ['scripts/netns-demo.sh'], { cwd: ROOT, env: { ...process.env, NETNS_DEMO_TAG: TAG, NETNS_DEMO_PING_S: '5' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const t = setTimeout(() => child.kill('SIGTERM'), 280_000);
      child.on('exit', (c) => (clearTimeout(t), resolve(c)));
    });
    assert.equal(code, 0, out.slice(-4000));
    // The MN got its address from the HNP by SLAAC (EUI-64 of its MAC) and the fixed MAG link-local as router.
    assert.match(out, /inet6 2001:db8:dd:f001:0:5eff:fedd:5\/64 scope global dynamic/);
    assert.match(out, /default via fe80::200:5eff:fe00:5213 dev eth0 proto ra/);
    // Pings across the move: some answered, and the MN kept its address.
    const stats = [...out.matchAll(/(\d+) packets transmitted, (\d+) received/g)].map((m) => [Number(m[1]), Number(m[2])]);
    assert.equal(stats.length, 2, out.slice(-3000));
    assert.ok(stats[1][1] > 0, 'answers to the ping across the move');
    assert.match(out, /MN address 2001:db8:dd:f001:0:5eff:fedd:5 kept/);
    assert.match(out, /longest gap between two answers across the move: \d+ ms/);
    // The binding is at MAG2, with the same prefix, and MAG2 routes it out of the access link.
    assert.match(out, /"proxyCoa":"2001:db8:dd:2::2","lma":"2001:db8:dd::1","hnps":\["2001:db8:dd:f001::\/64"\]/);
    assert.match(out, /2001:db8:dd:f001::\/64 dev acc0/);
    assert.match(out, /== cleaned up/);
    assert.deepEqual(namespaces(), [], 'no namespace of the demo is left');
    const tmp = /removed: namespaces, processes and (\/tmp\/pmip6-demo-\w+) removed|and (\/tmp\/pmip6-demo-\w+) removed/.exec(out);
    const dir = tmp?.[1] ?? tmp?.[2];
    assert.ok(dir, 'the script names its temporary directory');
    assert.equal(spawnSync('test', ['-e', dir]).status, 1, `${dir} is removed`);
    assert.deepEqual(demoProcesses(), [], 'no process of the demo is left (the LMA, the MAGs, ping)');
  });
});
