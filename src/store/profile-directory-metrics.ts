// Profile directory metrics on the process registry (prom-client), pulled at scrape time: the
// lookup path only increments plain numbers.
// - Lookups and invalidations are process totals over every directory (one in `pmip6 start`,
//   several in tests): plain module-level counts, so a closed or never-started directory (the
//   mode-off ones the LMA and RADIUS policies make for themselves) keeps what it counted and
//   nothing has to be unregistered.
// - Entries and serving describe the running directories (started with a notification
//   channel, not yet closed): they join at start() and leave at close().
import { Counter, Gauge } from 'prom-client';
import type { Metric } from 'prom-client';
import { registry } from '../metrics/registry.ts';

export const LOOKUP_RESULTS = ['hit', 'miss', 'negative-hit', 'bypass', 'stale', 'unavailable', 'invalid'] as const;
export type LookupResult = (typeof LOOKUP_RESULTS)[number];

/** Process totals; ProfileDirectory increments them next to its own stats. */
export const directoryTotals = {
  lookups: { hit: 0, miss: 0, 'negative-hit': 0, bypass: 0, stale: 0, unavailable: 0, invalid: 0 } satisfies Record<LookupResult, number>,
  invalidations: { one: 0, all: 0 },
};

/** What the gauges read from a running directory. */
export interface DirectoryGaugeSource {
  readonly size: { profiles: number; unknown: number };
  readonly serving: boolean;
  readonly answeringHeld: boolean;
}

const running = new Set<DirectoryGaugeSource>();

export function registerDirectory(d: DirectoryGaugeSource): void {
  running.add(d);
}

export function unregisterDirectory(d: DirectoryGaugeSource): void {
  running.delete(d);
}

/** One metric per name on the registry, even if this module is evaluated twice (the later one wins). */
function fresh<T extends Metric>(name: string, make: () => T): T {
  registry.removeSingleMetric(name);
  return make();
}

fresh(
  'pmip6_profile_directory_entries',
  () =>
    new Gauge({
      name: 'pmip6_profile_directory_entries',
      help: 'Mobile-node entries the profile directory holds in memory, by kind: profile, or unknown (an MN without a profile)',
      labelNames: ['kind'] as const,
      registers: [registry],
      collect(this: Gauge<'kind'>) {
        let profiles = 0;
        let unknown = 0;
        for (const d of running) {
          const s = d.size;
          profiles += s.profiles;
          unknown += s.unknown;
        }
        this.set({ kind: 'profile' }, profiles);
        this.set({ kind: 'unknown' }, unknown);
      },
    }),
);

fresh(
  'pmip6_profile_directory_lookups_total',
  () =>
    new Counter({
      name: 'pmip6_profile_directory_lookups_total',
      help: 'Profile lookups by result: hit (profile from memory), negative-hit (known unknown MN from memory), miss (read from the database, then kept), bypass (read from the database because memory may not be used: cache off or notifications not verified), stale (database unreachable: a held profile answered), unavailable (database unreachable and the MN not held: no answer), invalid (an identifier no profile can have: answered unknown without a lookup)',
      labelNames: ['result'] as const,
      registers: [registry],
      collect(this: Counter<'result'>) {
        this.reset();
        for (const r of LOOKUP_RESULTS) this.inc({ result: r }, directoryTotals.lookups[r]);
      },
    }),
);

fresh(
  'pmip6_profile_directory_invalidations_total',
  () =>
    new Counter({
      name: 'pmip6_profile_directory_invalidations_total',
      help: 'Profile changes that dropped entries, by kind: one (an MN, by notification or by this process) or all (a flush notification, e.g. TRUNCATE or a renamed pool, or invalidate-all)',
      labelNames: ['kind'] as const,
      registers: [registry],
      collect(this: Counter<'kind'>) {
        this.reset();
        this.inc({ kind: 'one' }, directoryTotals.invalidations.one);
        this.inc({ kind: 'all' }, directoryTotals.invalidations.all);
      },
    }),
);

fresh(
  'pmip6_profile_directory_serving',
  () =>
    new Gauge({
      name: 'pmip6_profile_directory_serving',
      help: '1 while profile lookups may be answered from memory (notification channel up and confirmed within maxStaleMs, in every running directory); 0 while they go to the database',
      registers: [registry],
      collect(this: Gauge) {
        let serving = running.size > 0;
        for (const d of running) serving &&= d.serving;
        this.set(serving ? 1 : 0);
      },
    }),
);

fresh(
  'pmip6_profile_directory_stale',
  () =>
    new Gauge({
      name: 'pmip6_profile_directory_stale',
      help: '1 while the database cannot be reached and profiles held in memory (possibly stale) answer lookups, for at most store.outageServeMs',
      registers: [registry],
      collect(this: Gauge) {
        let stale = false;
        for (const d of running) stale ||= d.answeringHeld;
        this.set(stale ? 1 : 0);
      },
    }),
);
