// The profile directory's settings (profile-directory.ts; from store.* in the configuration).
import type { Logger } from '../util/log.ts';

export const PROFILE_CHANNEL = 'pmip6_profile';
export const PROFILE_CACHE_MODES = ['off', 'lazy', 'preload'] as const;
export type ProfileCacheMode = (typeof PROFILE_CACHE_MODES)[number];

export interface ProfileDirectoryOptions {
  /** Default lazy: fill on miss. preload: load every profile at start (and after reconnecting). */
  mode?: ProfileCacheMode;
  /** PostgreSQL: the database URL for the dedicated LISTEN connection (without it the mode is off). */
  listenUrl?: string;
  /** Longest time an answer from memory may rest on an unconfirmed notification channel (default 10 s). */
  maxStaleMs?: number;
  /** Most unknown MNs remembered (default 100,000; oldest dropped first). */
  maxNegativeEntries?: number;
  /** Most MNs waiting for a database read at once (default 20,000); lookups beyond fail at once, counted (issue 9). */
  maxWaiting?: number;
  /** Most MNs per batched database read (default 256; 1 = one query per lookup). */
  batchSize?: number;
  /** Batched reads running at once (default 4). */
  maxBatchesInFlight?: number;
  /** Profiles per preload query (default 5000). */
  preloadPageSize?: number;
  /** Longest a held profile answers while the database cannot be reached, after the channel was last confirmed (default 300,000 ms; 0 = never). */
  outageServeMs?: number;
  /** During an outage, the database is tried again after this long (meanwhile held profiles answer at once; default 1000 ms). */
  outageProbeMs?: number;
  /** Clock for the staleness rule (default performance.now). */
  now?: () => number;
  logger?: Logger;
}
