// Acknowledged means durable, and a crash is a restart (RFC 5213 §5.3.6, RFC 5847 §3.2), on
// the embedded store and on PostgreSQL. `pmip6 start` runs the LMA as a child process; this
// process runs four real MAGs (src/mag over UDP) that register 2,000 MNs as fast as the LMA
// answers. At a random moment of that load the LMA gets SIGKILL. Then:
// - the store (opened here; on PGlite that also takes over the dead process's lock) holds a
//   binding for every MN whose PBA 0 a MAG had received, with the same prefixes, and no
//   prefix twice;
// - the restarted LMA comes back with a higher Restart Counter, tells the MAGs (unsolicited
//   Heartbeat Response), and they re-register; in the end every MN is registered, each
//   acknowledged one with its prefixes, and no prefix is held twice.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startSuiteProcess, stopProcess, type Child } from '../helpers/cli.ts';
import { createPgDatabase } from '../helpers/db.ts';
import { openStore } from '../../src/store/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { startMagRole, type MagRole } from '../../src/main/mag-role.ts';
import { ManualDetector } from '../../src/attach/manual.ts';
import type { MagEvent } from '../../src/mag/index.ts';

const MNS = 2000;
const MAGS = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
const LMA_ID = 'crash-lma';
const mnId = (i: number) => `crash-${i}@test.example`;

async function provision(o: { dataDir: string; databaseUrl?: string }): Promise<void> {
  const store = await openStore({ dataDir: o.dataDir, databaseUrl: o.databaseUrl });
  try {
    await store.db.exec(`INSERT INTO profiles (mn_id) SELECT 'crash-' || i || '@test.example' FROM generate_series(0, ${MNS - 1}) AS i;
      INSERT INTO hnp_assignments (prefix, profile_id) SELECT ('2001:db8:' || to_hex(p.id) || '::/64')::cidr, p.id FROM profiles p;`);
  } finally {
    await store.close();
  }
}

/** Restart Counter from the child's "LMA started" log line. */
function restartCounterOf(c: Child): number {
  for (const line of c.out().split('\n')) {
    if (!line.includes('"LMA started"')) continue;
    return (JSON.parse(line) as { restartCounter: number }).restartCounter;
  }
  throw new Error(`no "LMA started" line in: ${c.out().slice(-2000)}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, f: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`kill -9 of the LMA under registration load (${kind})`, () => {
    const cleanup: (() => Promise<unknown> | void)[] = [];
    after(async () => {
      for (const f of cleanup.reverse()) await f();
    });

    it('every acknowledged binding survives with its prefixes; MAGs see a new Restart Counter and re-register; no prefix twice', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), `pmip6-crash-${kind}-`));
      cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
      let databaseUrl: string | undefined;
      if (kind === 'postgres') {
        const db = await createPgDatabase();
        cleanup.push(() => db.drop());
        databaseUrl = db.url;
      }
      await provision({ dataDir, databaseUrl });
      const lmaPort = await freePort('udp');
      const env = {
        PMIP6_DATA_DIR: dataDir,
        PMIP6_DATABASE_URL: databaseUrl ?? '',
        PMIP6_RADIUS_ENABLED: 'false',
        PMIP6_SNMP_ENABLED: 'false',
        PMIP6_LMA_ID: LMA_ID,
        PMIP6_LMA_ADDRESS: '127.0.0.1',
        PMIP6_LMA_UDP_PORT: String(lmaPort),
        PMIP6_LMA_AUTHORIZE_ANY_MAG: 'true',
        PMIP6_STORE_PROFILE_CACHE: 'preload',
        // RFC 5213 §9.1 TimestampValidityWindow: the restarted LMA reads PBUs that waited in its
        // socket while it was starting; on a loaded machine that can exceed the 300 ms default,
        // and a 156 is not what this test is about.
        PMIP6_LMA_TIMESTAMP_VALIDITY_WINDOW: '10000',
      };
      let lma = await startSuiteProcess(env);
      cleanup.push(() => stopProcess(lma));
      const rc1 = restartCounterOf(lma);

      // The load generator: four MAGs in this process.
      const magConfig = loadConfig({
        env: { PMIP6_DATA_DIR: mkdtempSync(join(tmpdir(), 'pmip6-crash-mags-')), PMIP6_MAG_LMA_ADDRESS: '127.0.0.1', PMIP6_MAG_LMA_PORT: String(lmaPort), PMIP6_MAG_HEARTBEAT_INTERVAL: '1', PMIP6_MAG_HEARTBEAT_INTERVAL_FORCE: 'true', PMIP6_MAG_LIFETIME: '600', PMIP6_SECURITY_ALLOW_UNPROTECTED_SIGNALLING: 'true' },
      });
      cleanup.push(() => rmSync(magConfig.dataDir, { recursive: true, force: true }));
      const acked = new Map<string, string[]>();
      let registeredAfterRestart = new Set<string>();
      const restartsSeen = new Map<string, number>();
      let afterKill = false;
      const failed: string[] = [];
      const detectors = MAGS.map(() => new ManualDetector());
      const mags: MagRole[] = [];
      for (let m = 0; m < MAGS.length; m++) {
        const role = await startMagRole(magConfig, {
          id: `crash-mag${m}`, proxyCoa: MAGS[m], port: 0, detector: detectors[m],
          events: {
            emit(e: MagEvent) {
              if (e.type === 'registered' || e.type === 'refreshed') {
                if (!afterKill) acked.set(e.mnId, e.hnps.slice().sort());
                else registeredAfterRestart.add(e.mnId);
              }
              if (e.type === 'lmaRestarted') restartsSeen.set(MAGS[m], e.restartCounter);
              if (e.type === 'failed') failed.push(`${e.mnId}:${e.reason}:${e.status}`);
            },
          },
        });
        mags.push(role);
        cleanup.push(() => role.stop({ deregister: false }));
      }

      // Load: every MN attaches, 100 every few ms (the MAGs retransmit to a dead LMA); SIGKILL when a random share is acknowledged.
      const killAt = 200 + Math.floor(Math.random() * (MNS - 600));
      let attached = 0;
      // Attaches beyond killAt + 300 wait for the kill, so the LMA dies with MNs still unanswered
      // however fast it answers (the batched UDP socket answers 2,000 faster than one poll here).
      let killed = false;
      const feeder = (async () => {
        while (attached < MNS) {
          while (!killed && attached >= killAt + 300) await sleep(5);
          for (let k = 0; k < 100 && attached < MNS; k++, attached++) {
            detectors[attached % MAGS.length].attach({ mnId: mnId(attached), accessTechType: 4, link: `link-${attached}`, handoffIndicator: 1 });
          }
          await sleep(5);
        }
      })();
      await until('the kill moment', () => acked.size >= killAt, 120_000);
      lma.child.kill('SIGKILL');
      await lma.exited;
      await sleep(300); // PBAs already in our sockets still count as received
      afterKill = true;
      killed = true;
      const ackedAtKill = new Map(acked);
      assert.ok(ackedAtKill.size >= killAt && ackedAtKill.size < MNS, `killed with ${ackedAtKill.size} of ${MNS} acknowledged`);

      // What the store holds (PGlite: the killed process's lock is taken over on the first try).
      const store = await openStore({ dataDir, databaseUrl });
      let rows;
      try {
        rows = await store.bindings.loadLive(LMA_ID);
      } finally {
        await store.close();
      }
      const byMn = new Map(rows.map((r) => [r.mnId, r.hnps.slice().sort()]));
      const lost = [...ackedAtKill].filter(([mn, hnps]) => JSON.stringify(byMn.get(mn)) !== JSON.stringify(hnps));
      assert.equal(lost.length, 0, `acknowledged bindings missing or changed after the crash: ${lost.length} of ${ackedAtKill.size}, e.g. ${JSON.stringify(lost.slice(0, 3))}`);
      const prefixes = rows.flatMap((r) => r.hnps);
      assert.equal(new Set(prefixes).size, prefixes.length, 'no prefix held twice in the store');

      // Restart: a new Restart Counter, announced; the MAGs re-register and the rest of the load completes.
      registeredAfterRestart = new Set();
      lma = await startSuiteProcess(env);
      const rc2 = restartCounterOf(lma);
      assert.ok(rc2 > rc1, `Restart Counter ${rc1} -> ${rc2}`);
      await until('every MAG to see the new Restart Counter', () => MAGS.every((a) => restartsSeen.get(a) === rc2), 30_000);
      await until('the acknowledged MNs to re-register', () => [...ackedAtKill.keys()].every((mn) => registeredAfterRestart.has(mn)), 60_000);
      const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
      type Page = { total: number; items: { mnId: string; hnps: string[] }[] };
      const page = async (offset: number) => (await (await fetch(`${lma.base}/api/v1/bindings?limit=1000&offset=${offset}`, { headers: { authorization: `Bearer ${token}` } })).json()) as Page;
      const list = async (): Promise<Page> => {
        const first = await page(0);
        for (let off = 1000; off < first.total; off += 1000) first.items.push(...(await page(off)).items);
        return first;
      };
      await feeder;
      await until('every MN to be registered', async () => (await list()).total === MNS, 90_000).catch(async (e: Error) => {
        throw new Error(`${e.message}: ${(await list()).total} bindings; MAG failures ${failed.length}: ${failed.slice(0, 5).join(', ')}; BUL ${mags.map((m) => JSON.stringify(m.mag.view.counts())).join(" ")}`);
      });
      const live = (await list()).items;
      const liveByMn = new Map(live.map((b) => [b.mnId, b.hnps.slice().sort()]));
      for (const [mn, hnps] of ackedAtKill) assert.deepEqual(liveByMn.get(mn), hnps, `${mn} keeps its prefixes`);
      const livePrefixes = live.flatMap((b) => b.hnps);
      assert.equal(new Set(livePrefixes).size, livePrefixes.length, 'no prefix held twice by the restarted LMA');
      assert.equal(live.length, MNS);
    });
  });
}
