// RFC 5213 end to end, as two real processes over UDP on loopback: `pmip6 start` runs the
// LMA, `pmip6 simulate` runs two MAGs; 1,000 simulated MNs attach at MAG 1, move to MAG 2
// (RFC 5213 §5.3.4 handoff; the old MAG's de-registration must not tear the new binding
// down, §5.3.5) and detach. Every PBA is accepted, the API shows the bindings while they
// exist, and the LMA's binding cache is empty at the end.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, pmip6, startSuiteProcess, stopProcess, type Child } from '../helpers/cli.ts';

describe('MAG and LMA as two processes over IPv4/UDP (RFC 5844 §4)', () => {
  const children: Child[] = [];
  after(async () => {
    for (const c of children) await stopProcess(c);
  });

  it('1,000 MNs attach, move between two MAGs and detach; every PBA accepted; cache empty at the end', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pmip6-e2e-'));
    const lmaPort = await freePort('udp');
    const lma = await startSuiteProcess({
      PMIP6_DATA_DIR: dataDir,
      PMIP6_RADIUS_ENABLED: 'false',
      PMIP6_SNMP_ENABLED: 'false',
      PMIP6_LMA_ADDRESS: '127.0.0.1',
      PMIP6_LMA_UDP_PORT: String(lmaPort),
      PMIP6_LMA_MIN_DELAY_BEFORE_BCE_DELETE: '1000',
      // RFC 5213 §5.5 tolerates clock skew up to TimestampValidityWindow (300 ms by default);
      // on a loaded 2-core machine a PBU can take longer than that to be read (status 156).
      PMIP6_LMA_TIMESTAMP_VALIDITY_WINDOW: '10000',
      PMIP6_LOG_LEVEL: process.env.E2E_LOG ?? 'warn',
    });
    children.push(lma);
    const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
    const auth = { authorization: `Bearer ${token}` };
    // One retry: a keep-alive socket the server closed just as the request went out.
    const get = (url: string) => fetch(url, { headers: auth }).catch(() => fetch(url, { headers: auth }));
    const bindings = async () => (await (await get(`${lma.base}/api/v1/bindings?limit=5`)).json()) as { total: number; items: { mnId: string; proxyCoa: string; hnps: string[] }[] };

    const sim = pmip6(
      ['simulate', '--mns', '1000', '--rate', '200', '--mags', '2', '--scenario', 'lifecycle', '--base-address', '127.0.0.2', '--lma', '127.0.0.1', '--lma-port', String(lmaPort), '--provision', '--api', lma.base, '--token', token, '--expect-all-accepted'],
      { PMIP6_DATA_DIR: mkdtempSync(join(tmpdir(), 'pmip6-e2e-sim-')), PMIP6_LOG_LEVEL: 'warn' },
    );
    children.push(sim);

    // While the MNs are attached, the API shows their bindings.
    let seen = { total: 0, items: [] as { mnId: string; proxyCoa: string; hnps: string[] }[] };
    for (let i = 0; i < 600 && seen.total < 100 && sim.child.exitCode === null; i++) {
      await new Promise((r) => setTimeout(r, 100));
      seen = await bindings();
    }
    assert.ok(seen.total >= 100, `bindings visible while MNs are attached (saw ${seen.total})`);
    assert.match(seen.items[0].mnId, /^sim-\d+@sim\.pmip6\.local$/);
    assert.match(seen.items[0].hnps[0], /^2001:db8:51[0-9a-f]{2}:[0-9a-f:]*\/64$/);
    assert.ok(['127.0.0.2', '127.0.0.3'].includes(seen.items[0].proxyCoa));

    const code = await sim.exited;
    if (process.env.E2E_LOG) console.log(lma.out().split('\n').filter((l) => l.includes('rejected')).join('\n'));
    assert.equal(code, 0, sim.out().slice(-3000));
    const report = JSON.parse(sim.stdout()) as { pbaStatus: Record<string, number>; summary: { attaches: number; detaches: number; moves: number }; bulEntriesAtEnd: number };
    assert.equal(code, 0, sim.out().slice(-3000));
    assert.equal(report.summary.moves, 1000);
    assert.equal(report.summary.attaches, 2000);
    assert.equal(report.summary.detaches, 2000);
    assert.deepEqual(Object.keys(report.pbaStatus), ['0'], 'every PBA accepted');
    assert.ok(report.pbaStatus['0'] >= 3000, `PBAs: ${report.pbaStatus['0']}`);
    assert.equal(report.bulEntriesAtEnd, 0);

    // After MinDelayBeforeBCEDelete (1 s here) the LMA's binding cache is empty.
    let left = -1;
    for (let i = 0; i < 100 && left !== 0; i++) {
      left = (await bindings()).total;
      if (left !== 0) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(left, 0, 'binding cache empty at the end');
    const metrics = await (await fetch(`${lma.base}/metrics`)).text();
    const accepted = Number(/pmip6_lma_pba_sent_total\{status="0"\} (\d+)/.exec(metrics)?.[1]);
    assert.ok(accepted >= 3000, `LMA counted ${accepted} accepted PBAs`);
    assert.doesNotMatch(metrics, /pmip6_lma_pba_sent_total\{status="1[2-9]\d"\} [1-9]/, 'no rejection sent');
  });
});
