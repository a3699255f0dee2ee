// Loads and validates the configuration: defaults < config file < environment < overrides.
// Errors name the bad key, the source it came from and the value given.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { configSchema, type Config } from './schema.ts';

export { configSchema, type Config };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
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
    if (name.startsWith('PMIP6_') && !known.has(name) && name !== 'PMIP6_CONFIG' && name !== 'PMIP6_LOG_LEVEL') {
      problems.push(`environment ${name}: not a configuration key`);
    }
  }
  const merged = deepMerge(deepMerge(fileJson, envJson), opts.overrides ?? {});
  const res = configSchema.safeParse(merged);
  if (!res.success) {
    for (const issue of res.error.issues) {
      const key = issue.path.join('.');
      const src = sources.get(key) ?? (file ? `config file ${file}` : 'configuration');
      const given = getPath(merged, issue.path);
      problems.push(`${key} (${src}) = ${JSON.stringify(given)}: ${issue.message}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return res.data as Config;
}
