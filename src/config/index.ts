// Loads and validates the configuration: defaults < config file < environment < overrides.
// Errors name the bad key, the source it came from and the value given.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { configSchema, type Config } from './schema.ts';
import { withoutPassword } from '../util/redact.ts';

export { configSchema, type Config };

/** Every problem found, one line each: the key, where it came from, the value (secrets redacted) and why. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.map((p) => `invalid configuration: ${p}`).join('\n'));
    this.name = 'ConfigError';
  }
}

/** Edit distance, for "did you mean" on unknown keys. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The known name nearest to `name`. */
export function nearest(name: string, known: Iterable<string>): string {
  let best = '';
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

/** Keys whose values are secrets: never echoed in an error. */
const SECRET_KEYS = /(^|\.)(token|secret|users|communities|trapCommunity)$/;

/** A value fit for an error message: secrets hidden, the password of a database URL removed. */
function shown(key: string, value: unknown): string {
  if (SECRET_KEYS.test(key)) return '"[redacted]"';
  if (key === 'databaseUrl' && typeof value === 'string') return JSON.stringify(withoutPassword(value));
  return JSON.stringify(value);
}

type Json = Record<string, unknown>;

/** camelCase path -> PMIP6_UPPER_SNAKE (api.authPort -> PMIP6_API_AUTH_PORT). */
export function envName(path: string[]): string {
  return 'PMIP6_' + path.map((p) => p.replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

function innerObject(t: z.ZodType): z.ZodObject | undefined {
  let cur: unknown = t;
  for (let i = 0; i < 5 && cur; i++) {
    if (cur instanceof z.ZodObject) return cur;
    const def = (cur as { def?: { innerType?: unknown } }).def;
    cur = def?.innerType;
  }
  return undefined;
}

/** Every leaf key path of the schema, e.g. [["api","port"], ["dataDir"], ...]. */
export function configKeys(schema: z.ZodObject = configSchema, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [k, v] of Object.entries(schema.shape)) {
    const obj = innerObject(v as z.ZodType);
    if (obj) out.push(...configKeys(obj, [...prefix, k]));
    else out.push([...prefix, k]);
  }
  return out;
}

function setPath(target: Json, path: string[], value: unknown): void {
  let cur = target;
  for (const p of path.slice(0, -1)) {
    if (typeof cur[p] !== 'object' || cur[p] === null) cur[p] = {};
    cur = cur[p] as Json;
  }
  cur[path[path.length - 1]] = value;
}

function getPath(src: unknown, path: (string | number | symbol)[]): unknown {
  let cur = src;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string | number | symbol, unknown>)[p];
  }
  return cur;
}

function deepMerge(a: Json, b: Json): Json {
  const out: Json = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' && !Array.isArray(prev)
        ? deepMerge(prev as Json, v as Json)
        : v;
  }
  return out;
}

export interface LoadOptions {
  /** JSON config file; also PMIP6_CONFIG. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: Json;
}

/** Keys of a config file the schema does not have (zod would drop them silently). */
function unknownFileKeys(json: Json, schema: z.ZodObject, file: string, prefix: string[] = []): string[] {
  const out: string[] = [];
  const all = [...configKeys().map((k) => k.join('.')), ...Object.keys(configSchema.shape)];
  for (const [k, v] of Object.entries(json)) {
    const path = [...prefix, k];
    const field = schema.shape[k] as z.ZodType | undefined;
    if (!field) {
      out.push(`config file ${file}: unknown key "${path.join('.')}"; the nearest is "${nearest(path.join('.'), all)}"`);
      continue;
    }
    const inner = innerObject(field);
    if (inner && v && typeof v === 'object' && !Array.isArray(v)) out.push(...unknownFileKeys(v as Json, inner, file, path));
  }
  return out;
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const problems: string[] = [];
  const sources = new Map<string, string>();
  let fileJson: Json = {};
  const file = opts.file ?? env.PMIP6_CONFIG;
  if (file) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) problems.push(`${file}: must hold a JSON object`);
      else fileJson = parsed as Json;
    } catch (e) {
      problems.push(`${file}: ${(e as Error).message}`);
    }
  }
  const envJson: Json = {};
  const known = new Set<string>();
  for (const path of configKeys()) {
    const name = envName(path);
    known.add(name);
    const v = env[name];
    if (v !== undefined) {
      setPath(envJson, path, v);
      sources.set(path.join('.'), `environment ${name}`);
    }
  }
  if (env.DATABASE_URL !== undefined && env.PMIP6_DATABASE_URL === undefined) {
    setPath(envJson, ['databaseUrl'], env.DATABASE_URL);
    sources.set('databaseUrl', 'environment DATABASE_URL');
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith('PMIP6_') && !known.has(name) && name !== 'PMIP6_CONFIG') {
      problems.push(`environment ${name}: not a configuration key; the nearest is ${nearest(name, known)}`);
    }
  }
  problems.push(...unknownFileKeys(fileJson, configSchema, file ?? ''));
  const merged = deepMerge(deepMerge(fileJson, envJson), opts.overrides ?? {});
  const res = configSchema.safeParse(merged);
  if (!res.success) {
    for (const issue of res.error.issues) {
      const key = issue.path.join('.');
      const src = sources.get(key) ?? (file ? `config file ${file}` : 'configuration');
      const given = getPath(merged, issue.path);
      problems.push(`${key} (${src}) = ${shown(key, given)}: ${issue.message}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return res.data as Config;
}
