// `pmip6`: the command line. `start` runs the all-in-one process; the other commands work
// on the policy store directly (PostgreSQL via DATABASE_URL, or the embedded store in
// dataDir when no suite is running on it).
import { Command, Option } from 'commander';
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { SingleBar, Presets } from 'cli-progress';
import { loadConfig, ConfigError, type Config } from './config/index.ts';
import { openStore, type Store } from './store/index.ts';
import { migrate } from './store/migrate.ts';
import { profileInputSchema, formatIssues } from './policy/validate.ts';
import { importProfiles, rowsFromCsv, rowsFromJson, ImportFormatError } from './policy/import.ts';
import { startSuite, ensureApiToken } from './main/suite.ts';
import { startMagRole } from './main/mag-role.ts';
import { startSnmpRole, SnmpConfigError } from './main/snmp-role.ts';
import type { MagEventSink } from './mag/index.ts';
import { simulate } from './main/simulate.ts';
import { ManualDetector } from './attach/manual.ts';
import { createMagApp } from './api/mag.ts';
import { createServer } from 'node:http';
import { toJson } from './api/http.ts';
import { NotFoundError, ConflictError, InvalidError } from './store/errors.ts';
import { DataDirBusyError } from './store/lock.ts';

class CliError extends Error {}

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function config(cmd: Command): Config {
  const o = cmd.optsWithGlobals<{ config?: string }>();
  return loadConfig({ file: o.config });
}

async function withStore<T>(cmd: Command, fn: (s: Store) => Promise<T>): Promise<T> {
  const c = config(cmd);
  const s = await openStore({ databaseUrl: c.databaseUrl || undefined, dataDir: c.dataDir });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
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
    .showHelpAfterError();

  program
    .command('start')
    .description('run the all-in-one process: policy store, API and the configured servers')
    .action(async (_o, cmd: Command) => {
      const suite = await startSuite(config(cmd));
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
    .description('run a MAG: PMIPv6 signalling to the LMA over IPv4/UDP; attach/detach events come from its API')
    .option('--id <id>', 'MAG identity (default mag.id)')
    .option('--proxy-coa <address>', 'Proxy-CoA: the MAG address towards the LMA (default mag.proxyCoa)')
    .option('--lma <address>', 'default LMA address (default mag.lmaAddress)')
    .action(async (o, cmd: Command) => {
      const c = config(cmd);
      if (o.lma) c.mag.lmaAddress = o.lma;
      const detector = new ManualDetector();
      // The SNMP agent (PMIPV6-MIB MAG tables, pmip6MagHomeTunnel* notifications) needs the
      // MAG first; the MAG's events reach it through this late-bound sink.
      const late: { snmp?: MagEventSink } = {};
      const role = await startMagRole(c, { id: o.id ?? c.mag.id, proxyCoa: o.proxyCoa ?? c.mag.proxyCoa, port: c.mag.port, detector, events: { emit: (e) => late.snmp?.emit(e) } });
      const snmpRole = c.snmp.enabled
        ? await startSnmpRole(c, { mag: role.mag }).catch(async (e: unknown) => {
            await role.stop({ deregister: false });
            throw e;
          })
        : undefined;
      late.snmp = snmpRole?.magEvents;
      const { token, file } = ensureApiToken(c);
      const server = createServer(createMagApp(role.mag, detector, token));
      await new Promise<void>((r) => server.listen(c.api.port, c.api.host, r));
      process.stderr.write(`MAG ${o.id ?? c.mag.id} running; API on port ${c.api.port}${file ? ` (token in ${file})` : ''}\n`);
      const stop = async (sig: string) => {
        process.stderr.write(`\n${sig}: de-registering and stopping\n`);
        server.closeAllConnections();
        server.close();
        await role.stop({ deregister: true });
        await snmpRole?.stop();
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
    .option('--base-address <ip>', 'first MAG Proxy-CoA; more MAGs use the next addresses', '127.0.0.2')
    .option('--port <p>', 'local UDP port of each MAG (0 = any)', '0')
    .option('--lma <address>', 'LMA address (default mag.lmaAddress)')
    .option('--lma-port <p>', 'LMA UDP port (default mag.lmaPort)')
    .option('--provision', 'create the pool, MAGs and profiles through the operator API first')
    .option('--api <url>', 'operator API for --provision', 'http://127.0.0.1:8080')
    .option('--token <token>', 'API token for --provision (default: api.token or dataDir/api-token)')
    .option('--expect-all-accepted', 'exit 1 unless every PBA was accepted and no binding is left')
    .action(async (o, cmd: Command) => {
      const c = config(cmd);
      if (o.lma) c.mag.lmaAddress = o.lma;
      if (o.lmaPort) c.mag.lmaPort = Number(o.lmaPort);
      const num = (v: string, name: string) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0) throw new CliError(`--${name} must be a number (got ${v})`);
        return n;
      };
      const report = await simulate(c, {
        mns: num(o.mns, 'mns'),
        rate: num(o.rate, 'rate'),
        mags: Math.max(1, num(o.mags, 'mags')),
        scenario: o.scenario,
        realm: o.realm,
        baseAddress: o.baseAddress,
        port: num(o.port, 'port'),
        provision: o.provision ? { api: o.api, token: o.token ?? ensureApiToken(c).token, pool: 'sim' } : undefined,
      });
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      if (o.expectAllAccepted) {
        const bad = Object.entries(report.pbaStatus).filter(([k]) => k !== '0');
        if (bad.length || report.bulEntriesAtEnd !== 0) throw new CliError(`not every PBA was accepted: ${JSON.stringify(report.pbaStatus)}, ${report.bulEntriesAtEnd} BUL entries left`);
      }
    });

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(async (_o, cmd: Command) => {
      const c = config(cmd);
      const s = await openStore({ databaseUrl: c.databaseUrl || undefined, dataDir: c.dataDir, migrate: false });
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
      await withStore(cmd, async (s) => print(await s.profiles.create(p.data, 'cli')));
    });
  profile
    .command('list')
    .description('list profiles')
    .option('--q <text>', 'MN identifier contains')
    .option('--lma <address>', 'assigned to this LMA')
    .option('--limit <n>', 'page size', '50')
    .option('--offset <n>', 'skip this many', '0')
    .action(async (o, cmd: Command) => {
      await withStore(cmd, async (s) => {
        const r = await s.profiles.list({ q: o.q, lma: o.lma, limit: Number(o.limit), offset: Number(o.offset) });
        for (const p of r.items) process.stdout.write(`${p.mnId}\t${p.hnps.join(',') || '-'}\t${p.ipv4HoA ?? '-'}\t${p.lma ?? '-'}\t${p.enabled ? 'enabled' : 'disabled'}\n`);
        process.stderr.write(`${r.items.length} of ${r.total}\n`);
      });
    });
  profile
    .command('show')
    .description('show one profile as JSON')
    .argument('<mnId>')
    .action(async (mnId: string, _o, cmd: Command) => withStore(cmd, async (s) => print(await s.profiles.get(mnId))));
  profile
    .command('rm')
    .description('delete a profile')
    .argument('<mnId>')
    .action(async (mnId: string, _o, cmd: Command) =>
      withStore(cmd, async (s) => {
        await s.profiles.delete(mnId, 'cli');
        process.stdout.write(`deleted ${mnId}\n`);
      }),
    );

  program
    .command('import')
    .description('bulk import profiles from a CSV (header row names the fields) or JSON file; all or nothing')
    .argument('<file>')
    .option('--dry-run', 'check every row, keep nothing')
    .action(async (file: string, o, cmd: Command) => {
      const text = readFileSync(file, 'utf8');
      let rows;
      try {
        rows = /\.json$/i.test(file) || /^\s*[[{]/.test(text) ? rowsFromJson(JSON.parse(text)) : rowsFromCsv(text);
      } catch (e) {
        throw new CliError(`${file}: ${(e as Error).message}`);
      }
      await withStore(cmd, async (s) => {
        const bar = new SingleBar({ format: 'importing [{bar}] {percentage}% | {value}/{total} rows | {eta}s left', stream: process.stderr, noTTYOutput: true, notTTYSchedule: 2000 }, Presets.shades_classic);
        bar.start(rows.length, 0);
        const report = await importProfiles(s.db, rows, { actor: 'cli', dryRun: Boolean(o.dryRun), onProgress: (d) => bar.update(d) });
        bar.stop();
        for (const e of report.errors.slice(0, 200)) process.stderr.write(`${file}:${e.line}: ${e.mnId ? `${e.mnId}: ` : ''}${e.field}: ${e.message}\n`);
        if (report.errors.length > 200) process.stderr.write(`... and ${report.errors.length - 200} more problems\n`);
        if (!report.ok) throw new CliError(`import failed: ${report.errors.length} problem(s) in ${report.total} rows; nothing was imported`);
        process.stdout.write(o.dryRun ? `dry run: all ${report.total} rows are valid\n` : `imported ${report.imported} profiles\n`);
      });
    });
  return program;
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (e) {
    const known = e instanceof CliError || e instanceof ConfigError || e instanceof NotFoundError || e instanceof ConflictError || e instanceof InvalidError || e instanceof ImportFormatError || e instanceof DataDirBusyError || e instanceof SnmpConfigError;
    process.stderr.write(`pmip6: ${known ? (e as Error).message : ((e as Error).stack ?? String(e))}\n`);
    process.exit(known ? 2 : 1);
  }
}

// Run when executed directly (`node --import tsx src/cli.ts ...`, `node dist/cli.js ...`), not
// when imported: bin/pmip6.js imports this module and calls main() itself.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  await main();
}
