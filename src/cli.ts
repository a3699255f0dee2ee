// `pmip6`: the command line. `start` runs the all-in-one process; `profile` and `import` work
// on the policy store directly (PostgreSQL via DATABASE_URL, or the embedded store in
// dataDir), or through a running suite's operator API (`--api`, or when the embedded store is
// in use by `pmip6 start`: src/main/profile-ops.ts). Problems a person can fix print one line
// naming the setting and exit 2; anything else is a bug and prints its stack (exit 1).
import { Command, Option } from 'commander';
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { SingleBar, Presets } from 'cli-progress';
import { loadConfig, ConfigError, type Config } from './config/index.ts';
import { openStore } from './store/index.ts';
import { migrate } from './store/migrate.ts';
import { profileInputSchema, formatIssues } from './policy/validate.ts';
import { rowsFromCsv, rowsFromJson, ImportFormatError } from './policy/import.ts';
import { startSuite, ensureApiToken, listen, secretBox } from './main/suite.ts';
import { tuneHeap } from './main/heap-tuning.ts';
import { privateUmask } from './main/private-files.ts';
import { logToStderr, setLogLevel } from './util/log.ts';
import { startMagRole } from './main/mag-role.ts';
import { startSnmpRole, SnmpConfigError } from './main/snmp-role.ts';
import type { MagEventSink } from './mag/index.ts';
import { simulate } from './main/simulate.ts';
import { ManualDetector } from './attach/manual.ts';
import { combineDetectors } from './attach/combine.ts';
import { accessLinkDetector, forgetAccessMetrics } from './main/access.ts';
import { createMagApp } from './api/mag.ts';
import { createServer } from 'node:http';
import { toJson } from './api/http.ts';
import { NotFoundError, ConflictError, InvalidError } from './store/errors.ts';
import { DataDirBusyError } from './store/lock.ts';
import { Ip6TransportUnavailableError } from './transport/native.ts';
import { DatabaseUnreachableError } from './store/connect.ts';
import { StartupError, checkDataDir, listening, setting } from './main/errors.ts';
import { ApiError, ApiUnreachableError } from './main/api-client.ts';
import { apiOps, apiToken, chooseTarget, localApiUrl, storeOps, type ProfileOps } from './main/profile-ops.ts';
import { applyDefaultV8Flags } from './util/v8-flags.ts';

class CliError extends Error {}

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

interface GlobalOptions {
  config?: string;
  api?: string;
  token?: string;
}

function config(cmd: Command): Config {
  const o = cmd.optsWithGlobals<GlobalOptions>();
  const c = loadConfig({ file: o.config });
  setLogLevel(c.logLevel); // the root and every component logger made before
  return c;
}

/** The profile operations of this invocation: through the API or on the store (profile-ops.ts). */
async function withProfiles<T>(cmd: Command, fn: (ops: ProfileOps, viaApi: boolean) => Promise<T>): Promise<T> {
  const c = config(cmd);
  const o = cmd.optsWithGlobals<GlobalOptions>();
  const target = chooseTarget(c, o.api);
  if (target.kind === 'api') {
    try {
      return await fn(apiOps(target.url, apiToken(c, o.token)), true);
    } catch (e) {
      // Chosen because a suite holds the store: say so when its API cannot be used.
      if (target.why === '--api' || !(e instanceof StartupError || e instanceof ApiUnreachableError)) throw e;
      throw new CliError(`${target.why}, so this command uses its API: ${(e as Error).message}`);
    }
  }
  if (!c.databaseUrl) checkDataDir(c.dataDir);
  const ops = storeOps(await openStore({ databaseUrl: c.databaseUrl || undefined, dataDir: c.dataDir, connectTimeoutMs: c.store.connectTimeoutMs, secrets: secretBox(c).box }));
  try {
    return await fn(ops, false);
  } finally {
    await ops.close();
  }
}

/** A positive number option (`--rate 0.5`), or a CliError naming the option. */
function positive(v: string, name: string): number {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !(n > 0)) throw new CliError(`--${name} must be a number above 0 (got ${JSON.stringify(v)})`);
  return n;
}

/** A whole number option (`--limit 20`), or a CliError naming the option. */
function whole(v: string, name: string, min = 0): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) < min) throw new CliError(`--${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''} (got ${JSON.stringify(v)})`);
  return Number(v);
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

function print(v: unknown): void {
  process.stdout.write(`${JSON.stringify(JSON.parse(toJson(v)), null, 2)}\n`);
}

export function buildCli(): Command {
  const program = new Command('pmip6')
    .description('PMIP6 Suite: Proxy Mobile IPv6 LMA/MAG with AAA, SNMP and an operator API')
    .version(PACKAGE_VERSION, '-V, --version')
    .option('-c, --config <file>', 'JSON configuration file (also PMIP6_CONFIG)')
    .option('--api <url>', 'operator API of a running suite for profile, import and simulate --provision (default: this configuration\'s api.host:api.port)')
    .option('--token <token>', 'API bearer token (default: api.token, else dataDir/api-token)')
    .showHelpAfterError();

  program
    .command('start')
    .description('run the all-in-one process: policy store, API and the configured servers')
    .option('--allow-unprotected-signalling', 'run MAG-LMA signalling without IPsec (RFC 5213 §4) on an isolated network: sets security.allowUnprotectedSignalling')
    .action(async (o: { allowUnprotectedSignalling?: boolean }, cmd: Command) => {
      const c = config(cmd);
      if (o.allowUnprotectedSignalling) c.security.allowUnprotectedSignalling = true;
      tuneHeap(c.heapGrowingPercent); // before the caches fill (src/main/heap-tuning.ts)
      const suite = await startSuite(c);
      const stop = async (sig: string) => {
        process.stderr.write(`\n${sig}: stopping\n`);
        await suite.stop();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });

  program
    .command('mag')
    .description('run a MAG: PMIPv6 signalling to the LMA over IPv6 (protocol 135) or IPv4/UDP; attach/detach events come from its API and, with mag.access.detector=access-link, from its access interfaces (MLD, DAD NS, RS, link state), which get per-MN Router Advertisements')
    .option('--id <id>', 'MAG identity (default mag.id)')
    .option('--proxy-coa <address>', 'Proxy-CoA: the MAG address towards the LMA (default mag.proxyCoa)')
    .option('--lma <address>', 'default LMA address (default mag.lmaAddress)')
    .option('--allow-unprotected-signalling', 'run MAG-LMA signalling without IPsec (RFC 5213 §4): sets security.allowUnprotectedSignalling')
    .action(async (o, cmd: Command) => {
      const c = config(cmd);
      if (o.lma) c.mag.lmaAddress = o.lma;
      if (o.allowUnprotectedSignalling) c.security.allowUnprotectedSignalling = true;
      const detector = new ManualDetector();
      // mag.access.detector=access-link: MNs are also detected on the access interfaces and
      // get their Router Advertisements there (RFC 5213 §6.7, §6.8).
      const access = accessLinkDetector(c);
      // The SNMP agent (PMIPV6-MIB MAG tables, pmip6MagHomeTunnel* notifications) needs the
      // MAG first; the MAG's events reach it through this late-bound sink.
      const late: { snmp?: MagEventSink } = {};
      const role = await startMagRole(c, {
        id: o.id ?? c.mag.id,
        proxyCoa: o.proxyCoa ?? c.mag.proxyCoa,
        port: c.mag.port,
        detector: access ? combineDetectors(detector, access) : detector,
        advertiser: access ?? undefined,
        events: { emit: (e) => late.snmp?.emit(e) },
      });
      const snmpRole = c.snmp.enabled
        ? await startSnmpRole(c, { mag: role.mag, signalling: role.signalling }).catch(async (e: unknown) => {
            await role.stop({ deregister: false });
            throw e;
          })
        : undefined;
      late.snmp = snmpRole?.magEvents;
      const { token, file } = ensureApiToken(c);
      const server = createServer(createMagApp(role.mag, detector, token));
      await listening({ what: 'MAG API', proto: 'TCP', ports: [{ key: 'api.port', port: c.api.port }], addressKey: 'api.host' }, () => listen(server, c.api.port, c.api.host)).catch(async (e: unknown) => {
        await role.stop({ deregister: false });
        await snmpRole?.stop();
        throw e;
      });
      process.stderr.write(`MAG ${o.id ?? c.mag.id} running; API on port ${c.api.port}${file ? ` (token in ${file})` : ''}\n`);
      const stop = async (sig: string) => {
        process.stderr.write(`\n${sig}: de-registering and stopping\n`);
        server.closeAllConnections();
        server.close();
        await role.stop({ deregister: true });
        await snmpRole?.stop();
        if (access) forgetAccessMetrics(c.mag.id);
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });

  program
    .command('simulate')
    .description('drive MAGs with synthetic attach / move / detach events (demo and load)')
    .option('--mns <n>', 'number of simulated mobile nodes', '100')
    .option('--rate <r>', 'events per second', '50')
    .option('--mags <n>', 'number of MAGs (moves go between them)', '2')
    .addOption(new Option('--scenario <s>', 'event pattern').choices(['attach-detach', 'lifecycle', 'churn']))
    .option('--realm <realm>', 'MN identifiers are sim-<i>@<realm>', 'sim.pmip6.local')
    .option('--base-address <ip>', 'first MAG Proxy-CoA (IPv4: UDP, IPv6: raw IPv6); more MAGs use the next addresses', '127.0.0.2')
    .option('--port <p>', 'local UDP port of each MAG (0 = any)', '0')
    .option('--lma <address>', 'LMA address (default mag.lmaAddress)')
    .option('--lma-port <p>', 'LMA UDP port (default mag.lmaPort)')
    .option('--provision', 'create the pool, MAGs and profiles through the operator API first (--api, default api.host:api.port)')
    .option('--expect-all-accepted', 'exit 1 unless PBAs arrived, every one accepted, and no binding is left')
    .option('--allow-unprotected-signalling', 'run MAG-LMA signalling without IPsec (RFC 5213 §4): sets security.allowUnprotectedSignalling')
    .action(async (o, cmd: Command) => {
      logToStderr(); // standard output carries the report
      const c = config(cmd);
      const g = cmd.optsWithGlobals<GlobalOptions>();
      if (o.allowUnprotectedSignalling) c.security.allowUnprotectedSignalling = true;
      if (o.lma) c.mag.lmaAddress = o.lma;
      if (o.lmaPort) c.mag.lmaPort = whole(o.lmaPort, 'lma-port');
      const api = g.api ?? localApiUrl(c);
      let report;
      try {
        report = await simulate(c, {
          mns: whole(o.mns, 'mns'),
          rate: positive(o.rate, 'rate'),
          mags: whole(o.mags, 'mags', 1),
          scenario: o.scenario,
          realm: o.realm,
          baseAddress: o.baseAddress,
          port: whole(o.port, 'port'),
          provision: o.provision ? { api, token: apiToken(c, g.token), pool: 'sim' } : undefined,
        });
      } catch (e) {
        if (e instanceof ApiUnreachableError) throw new CliError(`--provision: ${e.message}; start the suite first ("pmip6 start"), or pass --api URL (this configuration's ${setting('api.port')} is ${c.api.port})`);
        throw e;
      }
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      if (o.expectAllAccepted) {
        const received = Object.values(report.pbaStatus).reduce((a, b) => a + b, 0);
        if (received === 0) throw new CliError(`no PBA arrived from the LMA at ${c.mag.lmaAddress}:${c.mag.lmaPort}; is it running there? (--lma / --lma-port, ${setting('mag.lmaAddress')} / ${setting('mag.lmaPort')})`);
        const bad = Object.entries(report.pbaStatus).filter(([k]) => k !== '0');
        if (bad.length || report.bulEntriesAtEnd !== 0) throw new CliError(`not every PBA was accepted: ${JSON.stringify(report.pbaStatus)}, ${report.bulEntriesAtEnd} BUL entries left`);
      }
    });

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(async (_o, cmd: Command) => {
      const c = config(cmd);
      if (!c.databaseUrl) checkDataDir(c.dataDir);
      const s = await openStore({ databaseUrl: c.databaseUrl || undefined, dataDir: c.dataDir, migrate: false, connectTimeoutMs: c.store.connectTimeoutMs });
      try {
        const applied = await migrate(s.db);
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'schema is up to date\n');
      } finally {
        await s.close();
      }
    });

  const profile = program.command('profile').description('manage mobile-node profiles');
  profile
    .command('add')
    .description('create a profile')
    .requiredOption('--mn-id <nai>', 'MN identifier (NAI), e.g. mn1@example.net')
    .option('--hnp <prefix>', 'home network prefix (repeatable)', collect)
    .option('--hnp-pool <name>', 'draw the HNP from this pool')
    .option('--ipv4-hoa <address>', 'IPv4 home address')
    .option('--ipv4-pool <name>', 'draw the IPv4 home address from this pool')
    .option('--lma <address>', 'assigned LMA address or FQDN')
    .option('--service <name>', 'service selection')
    .option('--ll-id <mac>', 'MN link-layer identifier (repeatable)', collect)
    .addOption(new Option('--gre <policy>', 'GRE key policy').choices(['none', 'optional', 'required']))
    .option('--disabled', 'create it disabled')
    .action(async (o, cmd: Command) => {
      const raw = {
        mnId: o.mnId,
        ...(o.hnp ? { hnps: o.hnp } : {}),
        ...(o.hnpPool ? { hnpPool: o.hnpPool } : {}),
        ...(o.ipv4Hoa ? { ipv4HoA: o.ipv4Hoa } : {}),
        ...(o.ipv4Pool ? { ipv4Pool: o.ipv4Pool } : {}),
        ...(o.lma ? { lma: o.lma } : {}),
        ...(o.service ? { serviceSelection: o.service } : {}),
        ...(o.llId ? { mnLinkLayerIds: o.llId } : {}),
        ...(o.gre ? { greKeyPolicy: o.gre } : {}),
        ...(o.disabled ? { enabled: false } : {}),
      };
      const p = profileInputSchema.safeParse(raw);
      if (!p.success) throw new CliError(formatIssues(p.error).map((f) => `${f.field}: ${f.message}`).join('\n'));
      await withProfiles(cmd, async (ops) => print(await ops.add(p.data)));
    });
  profile
    .command('list')
    .description('list profiles')
    .option('--q <text>', 'MN identifier contains')
    .option('--lma <address>', 'assigned to this LMA')
    .option('--limit <n>', 'page size', '50')
    .option('--offset <n>', 'skip this many', '0')
    .action(async (o, cmd: Command) => {
      const limit = whole(o.limit, 'limit', 1);
      const offset = whole(o.offset, 'offset');
      await withProfiles(cmd, async (ops) => {
        const r = await ops.list({ q: o.q, lma: o.lma, limit, offset });
        for (const p of r.items) process.stdout.write(`${p.mnId}\t${p.hnps.join(',') || '-'}\t${p.ipv4HoA ?? '-'}\t${p.lma ?? '-'}\t${p.enabled ? 'enabled' : 'disabled'}\n`);
        process.stderr.write(`${r.items.length} of ${r.total}\n`);
      });
    });
  profile
    .command('show')
    .description('show one profile as JSON')
    .argument('<mnId>')
    .action(async (mnId: string, _o, cmd: Command) => withProfiles(cmd, async (ops) => print(await ops.show(mnId))));
  profile
    .command('rm')
    .description('delete a profile')
    .argument('<mnId>')
    .action(async (mnId: string, _o, cmd: Command) =>
      withProfiles(cmd, async (ops) => {
        await ops.rm(mnId);
        process.stdout.write(`deleted ${mnId}\n`);
      }),
    );

  program
    .command('import')
    .description('bulk import profiles from a CSV (header row names the fields) or JSON file; all or nothing')
    .argument('<file>')
    .option('--dry-run', 'check every row, keep nothing')
    .action(async (file: string, o, cmd: Command) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new CliError(`import file ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
      }
      const json = /\.json$/i.test(file) || /^\s*[[{]/.test(text);
      let rows;
      try {
        rows = json ? rowsFromJson(JSON.parse(text)) : rowsFromCsv(text);
      } catch (e) {
        throw new CliError(`${file}: ${(e as Error).message}`);
      }
      await withProfiles(cmd, async (ops, viaApi) => {
        const bar = new SingleBar({ format: 'importing [{bar}] {percentage}% | {value}/{total} rows | {eta}s left', stream: process.stderr, noTTYOutput: true, notTTYSchedule: 2000 }, Presets.shades_classic);
        bar.start(rows.length, 0);
        const report = await ops.import({ text, json, rows }, { dryRun: Boolean(o.dryRun), onProgress: (d) => bar.update(d) });
        bar.stop();
        for (const e of report.errors.slice(0, 200)) process.stderr.write(`${file}:${e.line}: ${e.mnId ? `${e.mnId}: ` : ''}${e.field}: ${e.message}\n`);
        if (report.errors.length > 200) process.stderr.write(`... and ${report.errors.length - 200} more problems\n`);
        if (!report.ok) throw new CliError(`import failed: ${report.errors.length} problem(s) in ${report.total} rows; nothing was imported`);
        const how = viaApi ? ` through ${ops.where}` : '';
        process.stdout.write(o.dryRun ? `dry run: all ${report.total} rows are valid${how}\n` : `imported ${report.imported} profiles${how}\n`);
      });
    });

  program
    .command('health')
    .description("exit 0 when this configuration's suite answers /readyz (the container HEALTHCHECK)")
    .action(async (_o, cmd: Command) => {
      const url = `${cmd.optsWithGlobals<GlobalOptions>().api ?? localApiUrl(config(cmd))}/readyz`;
      const r = await fetch(url, { signal: AbortSignal.timeout(5000) }).catch((e: unknown) => {
        throw new CliError(`${url}: ${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message}`);
      });
      if (r.status !== 200) throw new CliError(`${url}: HTTP ${r.status} ${await r.text()}`);
      process.stdout.write('ready\n');
    });
  return program;
}

/** The one-line text of a problem a person can fix, or undefined for a bug. */
function explain(e: unknown): string | undefined {
  if (e instanceof ApiUnreachableError) return `${e.message}: is "pmip6 start" running there? Pass --api URL, or check ${setting('api.port')}`;
  if (e instanceof ApiError) return [e.message, ...e.fields.map((f) => `${f.field}: ${f.message}`)].filter((l, i, a) => a.indexOf(l) === i).join('\n');
  if (e instanceof DatabaseUnreachableError) {
    if (e.final) return `${e.message}; check the user and password in ${setting('databaseUrl')} (or DATABASE_URL)`;
    const what = e.code === '3D000' ? 'create the database, or' : 'check that PostgreSQL runs there, or';
    return `${e.message}; ${what} set ${setting('databaseUrl')} (or DATABASE_URL); ${setting('store.connectTimeoutMs')} is how long to wait`;
  }
  const known = [CliError, ConfigError, NotFoundError, ConflictError, InvalidError, ImportFormatError, DataDirBusyError, SnmpConfigError, StartupError, Ip6TransportUnavailableError];
  return known.some((k) => e instanceof k) ? (e as Error).message : undefined;
}

export async function main(argv = process.argv): Promise<void> {
  privateUmask(); // every file this process creates (PGlite's included) is private to the user
  applyDefaultV8Flags(); // before the roles allocate (src/util/v8-flags.ts)
  try {
    await buildCli().parseAsync(argv);
  } catch (e) {
    const text = explain(e);
    const lines = text === undefined ? [((e as Error)?.stack ?? String(e))] : text.split('\n');
    process.stderr.write(lines.map((l) => `pmip6: ${l}\n`).join(''));
    process.exit(text === undefined ? 1 : 2);
  }
}

// Run when executed directly (`node --import tsx src/cli.ts ...`, `node dist/cli.js ...`), not
// when imported: bin/pmip6.js imports this module and calls main() itself.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  await main();
}
