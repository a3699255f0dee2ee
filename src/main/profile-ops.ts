// What `pmip6 profile add|list|show|rm` and `pmip6 import` do, against either the policy
// store directly or a running suite's operator API. The rule (`chooseTarget`):
//   1. `--api URL` given                                        -> that API;
//   2. no databaseUrl and the embedded store's lock in dataDir
//      is held by a live process (a running `pmip6 start`)      -> the API at api.host:api.port;
//   3. otherwise                                                -> the store (PostgreSQL or embedded).
// The token: `--token`, else api.token, else dataDir/api-token (written by `pmip6 start`).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/index.ts';
import type { Store } from '../store/index.ts';
import { lockHolder } from '../store/lock.ts';
import type { ProfileInput } from '../policy/validate.ts';
import type { Profile } from '../policy/profile.ts';
import { importProfiles, type ImportReport, type ImportRow } from '../policy/import.ts';
import { ApiClient } from './api-client.ts';
import { StartupError, setting } from './errors.ts';

export interface ListFilter {
  q?: string;
  lma?: string;
  limit: number;
  offset: number;
}

export interface ProfileOps {
  /** Where the operations go, for messages: "the API at http://..." or "the store". */
  readonly where: string;
  add(input: ProfileInput): Promise<Profile>;
  list(f: ListFilter): Promise<{ items: Profile[]; total: number }>;
  show(mnId: string): Promise<Profile>;
  rm(mnId: string): Promise<void>;
  /** `text` is the file as read; `rows` its parsed rows (the store path validates those). */
  import(file: { text: string; json: boolean; rows: ImportRow[] }, o: { dryRun: boolean; onProgress?: (done: number, total: number) => void }): Promise<ImportReport>;
  close(): Promise<void>;
}

export type Target = { kind: 'api'; url: string; why: string } | { kind: 'store' };

/** The URL of this configuration's own API, as a local client reaches it. */
export function localApiUrl(c: Config): string {
  const h = c.api.host;
  const host = h === '0.0.0.0' || h === '' ? '127.0.0.1' : h === '::' ? '[::1]' : h.includes(':') ? `[${h}]` : h;
  return `http://${host}:${c.api.port}`;
}

export function chooseTarget(c: Config, apiOption?: string): Target {
  if (apiOption) return { kind: 'api', url: apiOption, why: '--api' };
  if (!c.databaseUrl) {
    const pid = lockHolder(c.dataDir);
    if (pid !== undefined) return { kind: 'api', url: localApiUrl(c), why: `the embedded store in ${c.dataDir} is in use by process ${pid}` };
  }
  return { kind: 'store' };
}

/** The API token for a client of this configuration's suite. */
export function apiToken(c: Config, tokenOption?: string): string {
  if (tokenOption) return tokenOption;
  if (c.api.token) return c.api.token;
  const file = join(c.dataDir, 'api-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  throw new StartupError(`no API token: pass --token, or set ${setting('api.token')}; "pmip6 start" writes one to ${file}`);
}

export function storeOps(s: Store): ProfileOps {
  return {
    where: 'the store',
    add: (input) => s.profiles.create(input, 'cli'),
    list: (f) => s.profiles.list(f),
    show: (mnId) => s.profiles.get(mnId),
    rm: async (mnId) => {
      await s.profiles.delete(mnId, 'cli');
    },
    import: (file, o) => importProfiles(s.db, file.rows, { actor: 'cli', dryRun: o.dryRun, onProgress: o.onProgress }),
    close: () => s.close(),
  };
}

export function apiOps(url: string, token: string): ProfileOps {
  const api = new ApiClient(url, token);
  const id = (mnId: string) => `/profiles/${encodeURIComponent(mnId)}`;
  return {
    where: `the API at ${url}`,
    add: async (input) => (await api.request<Profile>('POST', '/profiles', input)).json,
    list: async (f) => {
      const q = new URLSearchParams({ limit: String(f.limit), offset: String(f.offset), ...(f.q ? { q: f.q } : {}), ...(f.lma ? { lma: f.lma } : {}) });
      return (await api.request<{ items: Profile[]; total: number }>('GET', `/profiles?${q}`)).json;
    },
    show: async (mnId) => (await api.request<Profile>('GET', id(mnId))).json,
    rm: async (mnId) => {
      await api.request('DELETE', id(mnId));
    },
    import: async (file, o) => {
      const r = await api.request<ImportReport>('POST', `/profiles/import${o.dryRun ? '?dryRun=true' : ''}`, file.text, { contentType: file.json ? 'application/json' : 'text/csv', accept: [422] });
      o.onProgress?.(r.json.total, r.json.total);
      return r.json;
    },
    close: async () => undefined,
  };
}
