// A MAG with the access-link detector, run inside a test namespace (`ip netns exec NS node
// --import tsx test/attach/mag-agent.ts`) and driven over IPC like test/helpers/ns-agent.ts:
// {id, op, ...} -> {id, ok, result | error}. The MAG signals over raw IPv6 to an LMA
// (an ns-agent `lma`), learns MNs from the access interfaces, and sends the RAs.
import { Mag, collectEvents, templatePolicy, type MagEvent } from '../../src/mag/index.ts';
import { AccessLinkDetector } from '../../src/attach/detector.ts';
import { LinkLayerDirectory } from '../../src/attach/directory.ts';
import { NativeAccessIo } from '../../src/attach/link-io.ts';
import type { AccessLinkConfig } from '../../src/attach/config.ts';
import { Ip6Transport } from '../../src/transport/ip6.ts';
import { allTypesBut } from '../../src/transport/ip6.ts';
import { MH_BU } from '../../src/mh/index.ts';
import { RecordingDataPlane } from '../../src/dataplane/recording.ts';
import { systemClock } from '../../src/util/clock.ts';

interface Req {
  id: number;
  op: string;
  [k: string]: unknown;
}

let mag: Mag | undefined;
let det: AccessLinkDetector | undefined;
let transport: Ip6Transport | undefined;
const events: MagEvent[] = [];

const ops: Record<string, (r: Req) => unknown> = {
  async start(r) {
    const dir = new LinkLayerDirectory();
    for (const [mnId, mac] of r.directory as [string, string][]) dir.set(mnId, [mac]);
    det = new AccessLinkDetector(r.access as Partial<AccessLinkConfig>, { clock: systemClock, io: new NativeAccessIo(), identify: (m) => dir.lookup(m) });
    transport = Ip6Transport.open({ addresses: [r.proxyCoa as string], types: allTypesBut(MH_BU), what: 'test MAG' });
    mag = new Mag(
      { id: r.magId as string, proxyCoa: r.proxyCoa as string, defaultLma: r.lma as string, heartbeatIntervalS: 0, lifetimeS: (r.lifetimeS as number) ?? 60, requestIpv4: r.ipv4Only === true },
      {
        clock: systemClock,
        transport,
        dataPlane: new RecordingDataPlane(false),
        // ipv4Only: an RFC 5844 IPv4-only MN (the LMA assigns its IPv4 HoA), else IPv6 (the LMA assigns the HNP).
        policy: templatePolicy(r.ipv4Only ? { lma: r.lma as string, hnpPool: null, ipv4Pool: 'assigned-by-lma' } : { lma: r.lma as string, hnpPool: 'assigned-by-lma' }),
        detector: det,
        advertiser: det,
        events: collectEvents(events),
      },
    );
    await mag.start();
    return true;
  },
  events() {
    return events.map((e) => ({ ...e }));
  },
  attached() {
    return det!.attached();
  },
  counters() {
    return { access: det!.counters, mag: mag!.counters };
  },
  bul() {
    return mag!.view.list();
  },
  async exit() {
    await mag?.stop({ deregister: false });
    await transport?.close();
    setImmediate(() => process.exit(0));
    return true;
  },
};

process.on('message', (r: Req) => {
  void (async () => {
    try {
      const f = ops[r.op];
      if (!f) throw new Error(`unknown op ${r.op}`);
      process.send!({ id: r.id, ok: true, result: await f(r) });
    } catch (e) {
      const err = e as Error & { code?: string };
      process.send!({ id: r.id, ok: false, error: { message: err.stack ?? err.message, name: err.name, code: err.code } });
    }
  })();
});
process.send!({ ready: true });
