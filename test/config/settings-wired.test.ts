// Issue 9 item 9: every setting does what it says.
// - RFC 5847 §5: a heartbeat interval under 30 s is refused unless forced;
// - RFC 5213 §9.3: lma.timestampBasedApproach=false orders PBUs by sequence number (a stale
//   Timestamp option no longer decides), and MobileNodeGeneratedTimestampInUse needs it;
// - radius.requireMessageAuthenticator=true overrides a client's relaxed flag;
// - logLevel from a configuration file reaches the loggers made before it was read;
// - RFC 5845: uplink GRE keys stay distinct past millions of sessions.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { BaStatus } from '../../src/mh/index.ts';
import { uplinkGreKey } from '../../src/lma/lma.ts';
import { AttrWriter } from '../../src/radius/attrs.ts';
import { encodeRequest } from '../../src/radius/codec.ts';
import { Attr, Code } from '../../src/radius/constants.ts';
import { logger, rootLogger, setLogLevel } from '../../src/util/log.ts';
import { harness, makeProfile } from '../lma/driver.ts';
import { LEGACY_SECRET, exchange, fixturePolicy, startServer } from '../radius/helpers.ts';

describe('issue 9: settings that do what they say', () => {
  it('RFC 5847 §5: heartbeat interval under 30 s refused unless forced; 0 and 30 accepted', () => {
    assert.throws(() => loadConfig({ env: { PMIP6_LMA_HEARTBEAT_INTERVAL: '10' } }), (e: unknown) => e instanceof ConfigError && /lma\.heartbeatInterval.*under 30 s.*heartbeatIntervalForce/.test(e.message));
    assert.throws(() => loadConfig({ env: { PMIP6_MAG_HEARTBEAT_INTERVAL: '29' } }), /mag\.heartbeatInterval/);
    assert.equal(loadConfig({ env: { PMIP6_LMA_HEARTBEAT_INTERVAL: '10', PMIP6_LMA_HEARTBEAT_INTERVAL_FORCE: 'true' } }).lma.heartbeatInterval, 10);
    assert.equal(loadConfig({ env: { PMIP6_LMA_HEARTBEAT_INTERVAL: '0' } }).lma.heartbeatInterval, 0);
    assert.equal(loadConfig({ env: { PMIP6_MAG_HEARTBEAT_INTERVAL: '30' } }).mag.heartbeatInterval, 30);
    assert.throws(() => loadConfig({ env: { PMIP6_LMA_TIMESTAMP_BASED_APPROACH: 'false', PMIP6_LMA_MOBILE_NODE_GENERATED_TIMESTAMP: 'true' } }), /RFC 5213 §9\.3/);
  });

  it('RFC 5213 §9.3: TimestampBasedApproachInUse=0 at the LMA: sequence numbers decide, not the Timestamp option', async () => {
    for (const inUse of [true, false]) {
      const h = await harness({ profiles: [makeProfile('mn1@example.net', { hnps: ['2001:db8:1::/64'] })], config: { timestampBasedApproachInUse: inUse } });
      const mag = h.mag();
      mag.pbu({ mnId: 'mn1@example.net', hnps: ['2001:db8:1::/64'], seq: 10, ts: h.clock.now() });
      await h.settle();
      assert.equal(mag.pba().status, 0);
      // An older timestamp with a newer sequence number.
      mag.pbu({ mnId: 'mn1@example.net', hnps: ['2001:db8:1::/64'], seq: 11, ts: h.clock.now() - 60_000, hi: 5 });
      await h.settle();
      assert.equal(mag.pba().status, inUse ? BaStatus.TIMESTAMP_LOWER_THAN_PREV_ACCEPTED : 0, `in use: ${inUse}`);
      await h.close();
    }
  });

  it('radius.requireMessageAuthenticator=true: a relaxed client must still send Message-Authenticator', async () => {
    for (const strict of [false, true]) {
      const ctx = await startServer(fixturePolicy(), { requireMessageAuthenticator: strict });
      try {
        const attrs = new AttrWriter().text(Attr.UserName, 'mn1@example.net').text(Attr.NasIdentifier, 'legacy').bytes();
        const { packet } = encodeRequest(Code.AccessRequest, 7, attrs, Buffer.from(LEGACY_SECRET), false);
        const reply = await exchange(ctx.auth, packet, { bindAddress: '127.0.0.2', waitMs: 300 });
        assert.equal(reply !== null, !strict, `strict ${strict}`);
        if (strict) assert.equal(ctx.server.stat('missing_message_authenticator'), 1);
      } finally {
        await ctx.server.stop();
      }
    }
  });

  it('logLevel from the configuration file reaches loggers made before it was read', () => {
    const early = logger('made-early');
    const dir = mkdtempSync(join(tmpdir(), 'pmip6-loglevel-'));
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ logLevel: 'debug' }));
    const before = rootLogger().level;
    try {
      setLogLevel(loadConfig({ file: join(dir, 'c.json'), env: {} }).logLevel);
      assert.equal(early.level, 'debug');
      assert.equal(early.isLevelEnabled('debug'), true);
    } finally {
      setLogLevel(before as 'silent');
    }
  });

  it('RFC 5845: uplink GRE keys are distinct for 5,000,000 sessions, never 0, in integer arithmetic', () => {
    for (const [base, n] of [[-123456789, 5_000_000], [0, 100_000], [0x7fffffff, 100_000]]) {
      const seen = new Set<number>();
      for (let id = 1; id <= n; id++) {
        const k = uplinkGreKey(base, id);
        assert.ok(k !== 0 && Number.isInteger(k));
        seen.add(k);
      }
      assert.equal(seen.size, n, `base ${base}`);
    }
    // The old float product lost bits here: ids this large still give distinct keys.
    const big = [2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1].map((id) => uplinkGreKey(12345, id));
    assert.equal(new Set(big).size, 3);
  });
});
