// Wiring for MAG unit tests: ManualClock + MemoryHub + RecordingDataPlane + FakeLma + a
// ManualDetector, with an event log.
import { ManualDetector } from '../../src/attach/manual.ts';
import { RecordingDataPlane } from '../../src/dataplane/recording.ts';
import { Mag, profileFrom, mapPolicy } from '../../src/mag/index.ts';
import type { BuleInfo, MagConfigInput, MagEvent, MagEventSink, ProfileTemplate } from '../../src/mag/index.ts';
import type { Profile } from '../../src/policy/profile.ts';
import type { MagPolicySource } from '../../src/policy/source.ts';
import { MemoryHub } from '../../src/transport/memory.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { FakeLma } from './fake-lma.ts';

export const LMA = '2001:db8::1';
export const MAG_A = '2001:db8:a::1';
export const MAG_B = '2001:db8:b::1';

/** Lets queued microtasks, hub deliveries and promise chains run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

export function profile(mnId: string, t: ProfileTemplate = {}): Profile {
  return profileFrom(mnId, { lma: LMA, hnpPool: 'pool', ...t });
}

export interface MagUnderTest {
  mag: Mag;
  detector: ManualDetector;
  dp: RecordingDataPlane;
  events: MagEvent[];
  /** More sinks, added after construction (e.g. an adapter that needs the MAG first). */
  sinks: MagEventSink[];
  address: string;
  /** The entry of mnId (or the first entry); throws when there is none. */
  view(mnId?: string): BuleInfo;
}

export interface World {
  clock: ManualClock;
  hub: MemoryHub;
  lma: FakeLma;
  /** Advance the clock by ms and let everything settle. */
  advance(ms: number): Promise<void>;
  addMag(address: string, cfg?: Partial<MagConfigInput>, policy?: MagPolicySource): Promise<MagUnderTest>;
}

export function world(opts: { profiles?: Profile[]; lmaAddress?: string } = {}): World {
  const clock = new ManualClock();
  const hub = new MemoryHub();
  const lma = new FakeLma(hub, opts.lmaAddress ?? LMA, clock);
  const defaultPolicy = mapPolicy(opts.profiles ?? []);
  return {
    clock,
    hub,
    lma,
    async advance(ms) {
      // Step in small slices so timer-driven sends see the clock at their own instant.
      await settle();
      let left = ms;
      while (left > 0) {
        const step = Math.min(left, 250);
        clock.advance(step);
        left -= step;
        await settle(4);
      }
      await settle();
    },
    async addMag(address, cfg = {}, policy = defaultPolicy) {
      const detector = new ManualDetector();
      const dp = new RecordingDataPlane();
      const events: MagEvent[] = [];
      const sinks: MagEventSink[] = [];
      const mag = new Mag(
        { id: `mag-${address}`, proxyCoa: address, heartbeatIntervalS: 0, initialSeq: 100, ...cfg },
        { clock, transport: hub.endpoint(address), dataPlane: dp, policy, detector, events: { emit: (e) => { for (const s of sinks) s.emit(e); events.push(e); } } },
      );
      await mag.start();
      const view = (mnId?: string): BuleInfo => {
        const e = mnId ? mag.view.get(mnId) : mag.view.list(1)[0];
        if (!e) throw new Error(`no BULE${mnId ? ` for ${mnId}` : ''}`);
        return e;
      };
      return { mag, detector, dp, events, sinks, address, view };
    },
  };
}

export function attachEv(mnId: string, over: Record<string, unknown> = {}) {
  return { mnId, link: 'ap0', accessTechType: 4, mnLinkLayerId: '02:00:00:00:00:01', ...over };
}
