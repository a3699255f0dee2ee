// What a refresh PBA promises survives kill -9 (src/lma/apply.ts fast path, src/lma/commit.ts).
// A refresh that changes only the lifetime is acknowledged before it is written (lazily) when
// the lifetime already in the store lasts at least lazyRefreshMarginMs (60 s); otherwise its
// PBA waits for the commit. `pmip6 start` runs the LMA on PostgreSQL; a raw MAG here (a UDP
// socket, RFC 5844 §4) registers two groups of MNs, one for 600 s and one for 30 s, refreshes
// every MN for 600 s and, the moment the last refresh PBA 0 is in, kills the LMA with SIGKILL.
// The restarted LMA (this MAG ignores its restart announcement, so nothing re-registers):
// - holds every refreshed binding, with its prefix, before any PBU reaches it;
// - the 30 s group with the refreshed lifetime (written before its PBA);
// - the 600 s group alive for longer than the margin (its refresh was lost or written);
// and answers a refresh of each with PBA 0 and the same prefix (served, not created anew).
// Run with lma.commitWait "disk" and "server".
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startSuiteProcess, stopProcess, type Child } from '../helpers/cli.ts';
import { createPgDatabase } from '../helpers/db.ts';
import { openStore } from '../../src/store/index.ts';
import {
  BuFlag, HandoffIndicator, decodeMessage, encodeMessage, prefixToString, getOption, mnIdFromNai, parsePrefix, secondsToLifetime, timestampFromMs,
} from '../../src/mh/index.ts';

const MNS = 100; // [0, 50): registered for 600 s; [50, 100): for 30 s
const SHORT = 50;
const MAG = '127.0.0.2';
const LMA_ID = 'refresh-crash-lma';
const mnId = (i: number) => `rcrash-${i}@test.example`;

interface Ack {
  status: number;
  hnp: string | null;
}

/** A MAG reduced to its wire: PBUs out, PBAs in, matched by MN identifier. */
class RawMag {
  private readonly sock = dgram.createSocket('udp4');
  private readonly waiting = new Map<string, (a: Ack) => void>();
  private seq = 0;

  constructor(private readonly lmaPort: number) {
    this.sock.on('message', (buf) => {
      const d = decodeMessage(buf);
      if (!d.ok || d.msg.type !== 'ba') return; // heartbeats (the restart announcement) are ignored
      const id = getOption(d.msg, 'mnId');
      const hnp = getOption(d.msg, 'hnp');
      if (!id) return;
      // RFC 5213 §6.9.1.2: the PBA carries the PBU's Sequence Number (a retransmission's late
      // answer, e.g. 156 for its no longer newer timestamp, is not the answer to a newer PBU).
      const key = `${Buffer.from(id.id).toString()}#${d.msg.seq}`;
      this.waiting.get(key)?.({ status: d.msg.status, hnp: hnp ? prefixToString(hnp.prefix, hnp.prefixLen) : null });
      this.waiting.delete(key);
    });
  }

  bind(): Promise<void> {
    return new Promise((r) => this.sock.bind(0, MAG, () => r()));
  }

  /** Sends a PBU (retransmitted every 500 ms) and resolves with its PBA. */
  async pbu(mn: string, hnp: string | null, lifetimeS: number): Promise<Ack> {
    const p = parsePrefix(hnp ?? '::/0');
    const seq = (this.seq = (this.seq + 1) & 0xffff);
    const msg = encodeMessage({
      type: 'bu', seq, flags: BuFlag.A | BuFlag.P, lifetime: secondsToLifetime(lifetimeS),
      options: [
        mnIdFromNai(mn),
        { type: 'hnp', prefixLen: p.prefixLen, prefix: p.prefix },
        { type: 'handoffIndicator', hi: hnp ? HandoffIndicator.NOT_CHANGED : HandoffIndicator.NEW_INTERFACE },
        { type: 'accessTechType', att: 4 },
        { type: 'timestamp', value: timestampFromMs(Date.now()) },
      ],
    });
    const ack = new Promise<Ack>((r) => this.waiting.set(`${mn}#${seq}`, r));
    for (let tries = 0; tries < 60; tries++) {
      this.sock.send(msg, this.lmaPort, '127.0.0.1');
      const a = await Promise.race([ack, new Promise<null>((r) => setTimeout(() => r(null), 500))]);
      if (a) return a;
    }
    throw new Error(`no PBA for ${mn}`);
  }

  close(): void {
    this.sock.close();
  }
}

// lma.commitWait: "disk" (PBA once the commit is flushed) and "server" (once PostgreSQL holds it,
// synchronous_commit off): the LMA's kill -9 loses neither.
for (const commitWait of ['disk', 'server'] as const) describe(`kill -9 right after refresh PBAs (postgres, lma.commitWait ${commitWait})`, () => {
  const cleanup: (() => Promise<unknown> | void)[] = [];
  after(async () => {
    for (const f of cleanup.reverse()) await f();
  });

  it('every refreshed binding is restored and served; a refresh acknowledged before its write leaves the binding alive beyond the margin', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pmip6-refresh-crash-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const db = await createPgDatabase();
    cleanup.push(() => db.drop());
    const store = await openStore({ dataDir, databaseUrl: db.url });
    try {
      await store.db.exec(`INSERT INTO profiles (mn_id) SELECT 'rcrash-' || i || '@test.example' FROM generate_series(0, ${MNS - 1}) AS i;
        INSERT INTO hnp_assignments (prefix, profile_id) SELECT ('2001:db8:7:' || to_hex(p.id) || '::/64')::cidr, p.id FROM profiles p;`);
    } finally {
      await store.close();
    }
    const lmaPort = await freePort('udp');
    const env = {
      PMIP6_DATA_DIR: dataDir, PMIP6_DATABASE_URL: db.url, PMIP6_RADIUS_ENABLED: 'false', PMIP6_SNMP_ENABLED: 'false',
      PMIP6_LMA_ID: LMA_ID, PMIP6_LMA_ADDRESS: '127.0.0.1', PMIP6_LMA_UDP_PORT: String(lmaPort), PMIP6_LMA_AUTHORIZE_ANY_MAG: 'true',
      PMIP6_LMA_TIMESTAMP_VALIDITY_WINDOW: '10000', // PBUs that waited in the socket while the LMA started
      PMIP6_LMA_COMMIT_WAIT: commitWait,
    };
    let lma: Child & { base: string } = await startSuiteProcess(env);
    cleanup.push(() => stopProcess(lma));
    const mag = new RawMag(lmaPort);
    await mag.bind();
    cleanup.push(() => mag.close());

    const hnps: string[] = [];
    await Promise.all(Array.from({ length: MNS }, async (_, i) => {
      const a = await mag.pbu(mnId(i), null, i < SHORT ? 600 : 30);
      assert.equal(a.status, 0);
      hnps[i] = a.hnp!;
    }));
    const refreshed = await Promise.all(Array.from({ length: MNS }, (_, i) => mag.pbu(mnId(i), hnps[i], 600)));
    lma.child.kill('SIGKILL'); // at once: lazy writes of the 600 s group are at most queued
    await lma.exited;
    const killedAt = Date.now();
    refreshed.forEach((a, i) => assert.deepEqual(a, { status: 0, hnp: hnps[i] }, mnId(i)));

    lma = await startSuiteProcess(env);
    const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
    const r = await fetch(`${lma.base}/api/v1/bindings?limit=1000`, { headers: { authorization: `Bearer ${token}` } });
    const page = (await r.json()) as { total: number; items: { mnId: string; hnps: string[]; lifetime: number; expiresAt: string }[] };
    const byMn = new Map(page.items.map((b) => [b.mnId, b]));
    for (let i = 0; i < MNS; i++) {
      const b = byMn.get(mnId(i));
      assert.ok(b, `${mnId(i)} restored`);
      assert.deepEqual(b.hnps, [hnps[i]]);
      if (i >= SHORT) assert.equal(b.lifetime, 600, `${mnId(i)}: its refresh was written before its PBA`);
      assert.ok(Date.parse(b.expiresAt) - killedAt > 60_000, `${mnId(i)} alive beyond the margin (expires ${b.expiresAt})`);
    }
    assert.equal(page.total, MNS);
    // Served by the restored bindings: a refresh keeps the prefix.
    const again = await Promise.all(Array.from({ length: MNS }, (_, i) => mag.pbu(mnId(i), hnps[i], 600)));
    again.forEach((a, i) => assert.deepEqual(a, { status: 0, hnp: hnps[i] }, mnId(i)));
  });
});
