// An MN known to the MAG only by its MAC (mag.access.identity=aaa): the access link attaches
// it under a NAI made of its MAC, the MAG asks RADIUS with the MAC as Calling-Station-Id
// (RFC 2865 §5.31), the server finds the one profile listing that MAC in mnLinkLayerIds,
// and its Accept's Mobile-Node-Identifier is the identity the MAG registers (RFC 6572 §4.2);
// the RA still reaches the MN's link. A MAC listed by two profiles, or by none, is refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AccessLinkDetector } from '../../src/attach/detector.ts';
import { Icmp6Type } from '../../src/attach/icmp6.ts';
import { RecordingDataPlane } from '../../src/dataplane/recording.ts';
import { AaaDetector } from '../../src/main/aaa-detector.ts';
import { RadiusMagPolicy } from '../../src/main/aaa-policy.ts';
import { advertiserFor } from '../../src/main/access.ts';
import { Mag, type MagEvent } from '../../src/mag/index.ts';
import { FeatureVector } from '../../src/policy/profile.ts';
import { RadiusAaaClient, makeProfile } from '../../src/radius/index.ts';
import { logger } from '../../src/util/log.ts';
import { LMA, MAG_A, world } from '../mag/harness.ts';
import { SECRET, fixturePolicy, startServer } from '../radius/helpers.ts';
import { until } from '../helpers/until.ts';
import { FakeIo, routerSolicitation } from './fake-io.ts';

const MAC = '02:00:5e:10:00:07';
const TWICE = '02:00:5e:10:00:08';

describe('MN identified by its MAC over RADIUS (Calling-Station-Id)', () => {
  let ctx: Awaited<ReturnType<typeof startServer>>;
  let client: RadiusAaaClient;

  before(async () => {
    const pol = fixturePolicy();
    pol.addProfile(makeProfile({ id: 20, mnId: 'mn-mac@example.net', mnLinkLayerIds: [MAC, TWICE], hnps: ['2001:db8:70::/64'], lma: LMA, mip6FeatureVector: FeatureVector.PMIP6_SUPPORTED }));
    pol.addProfile(makeProfile({ id: 21, mnId: 'mn-other@example.net', mnLinkLayerIds: [TWICE], hnps: ['2001:db8:71::/64'], lma: LMA, mip6FeatureVector: FeatureVector.PMIP6_SUPPORTED }));
    ctx = await startServer(pol);
    client = new RadiusAaaClient({ servers: [{ host: '127.0.0.1', port: ctx.auth, acctPort: ctx.acct, secret: SECRET }], nasIdentifier: 'mag1', timeoutMs: 500, retries: 2, cacheTtlMs: 0 });
  });
  after(async () => {
    client.close();
    await ctx.server.stop();
  });

  it('the server: an unknown User-Name with a listed MAC gets the Accept of that profile, its MN-ID in Mobile-Node-Identifier; an ambiguous or unlisted MAC is rejected', async () => {
    const ok = await client.authorize({ userName: '02005e100007@example.net', callingStationId: '02-00-5E-10-00-07' });
    assert.equal(ok.status, 'accept');
    assert.equal(ok.status === 'accept' ? ok.profile.mnId : null, 'mn-mac@example.net');
    assert.equal((await client.authorize({ userName: '02005e100008@example.net', callingStationId: TWICE })).status, 'reject');
    assert.equal((await client.authorize({ userName: '02005e100009@example.net', callingStationId: '02:00:5e:10:00:09' })).status, 'reject');
    assert.equal((await client.authorize({ userName: 'nobody@example.net' })).status, 'reject');
  });

  it('the MAG: attach from the MAC, registration as the Accept\'s MN-ID, the RA on the MN\'s link', async () => {
    const w = world();
    const io = new FakeIo();
    const det = new AccessLinkDetector({ interfaces: ['acc*'], reachableTimeMs: 1e9, raDelayMs: 1 }, { clock: w.clock, io, identify: (m) => `${m.replace(/:/g, '')}@example.net` });
    const policy = new RadiusMagPolicy(client, { featureVector: FeatureVector.PMIP6_SUPPORTED, log: logger('test') });
    const events: MagEvent[] = [];
    let mag: Mag | null = null;
    const aaaDet = new AaaDetector(det, policy, (k, l) => mag?.view.get(k, l) !== undefined, logger('test'));
    mag = new Mag({ id: 'mag-a', proxyCoa: MAG_A, heartbeatIntervalS: 0 }, { clock: w.clock, transport: w.hub.endpoint(MAG_A), dataPlane: new RecordingDataPlane(), policy, detector: aaaDet, advertiser: advertiserFor(det, policy), events: { emit: (e) => void events.push(e) } });
    await mag.start();
    io.link(5, 'acc0', true);
    io.take(5);
    io.rx(5, routerSolicitation(MAC));
    const reg = await until('registered', async () => {
      await w.advance(0);
      return events.find((e) => e.type === 'registered');
    });
    assert.equal(reg.mnId, 'mn-mac@example.net');
    assert.equal(w.lma.bces.has('mn-mac@example.net'), true);
    const ras = io.take(5).filter((p) => p.type === Icmp6Type.ROUTER_ADVERTISEMENT);
    assert.equal(ras.length, 1);
    assert.deepEqual(ras[0].ra!.prefixes.map((p) => p.prefix), ['2001:db8:70::']);
    assert.equal(ras[0].dstMac, MAC);
    // The presence check (RFC 5213 §6.13) and the detach find the MN under its MN-ID as well.
    io.link(5, 'acc0', false);
    await until('deregistered', async () => {
      await w.advance(1000);
      return events.find((e) => e.type === 'deregistered' && e.mnId === 'mn-mac@example.net');
    });
    await mag.stop();
  });
});
