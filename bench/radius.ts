// `npm run bench -- radius [--profiles=100000] [--requests=40000] [--chunk=1000] [--parallel=64,128] [--rounds=3]
//                          [--workers=1,2] [--policy=store,memory] [--directory=lazy,preload] [--batch=<n>]`
// Access-Request → Access-Accept per second, driven by Debian's radclient at 64 and 128
// requests in flight, against our server and against FreeRADIUS 3.2 (started here on loopback
// with its own temporary raddb, a users file equivalent to our profiles and its own port),
// in the same run, with the ratio. Our server's policy is the store (StoreRadiusPolicy) on a
// fresh PostgreSQL database (127.0.0.1:5432, created, bulk-populated with SQL and dropped
// here) holding the same profiles and the bench's AAA client; `--policy=store,memory` also
// runs the in-memory policy for comparison. `--directory` lists the profile-directory modes
// to run the store policy with, one server each (src/store/profile-directory.ts): `off` (every
// request reads PostgreSQL), `lazy` (filled on miss; emptied before every measured run, so each
// run is cold: most of its requests are first lookups), `preload` (all profiles loaded before
// the server answers). `--batch=<n>` sets the most MNs per batched profile query (1: one query
// per request, as before batching).
// Measured here (2 cores shared by radclient, the server, PostgreSQL, FreeRADIUS and other
// work; 2026-11, two runs of `--policy=store,memory --directory=off,lazy,preload`), Accept/s
// ratio to FreeRADIUS at 64 / 128 in flight, CPU ms per 1000 Accepts (of it PostgreSQL):
//   directory off (every request reads PostgreSQL, batched)  0.64x / 0.64x   71-74 (21-22)
//   directory lazy, emptied before every run (cold)         0.65x / 0.58-0.64x  67-76 (8-20)
//   directory preload                                       0.91-1.01x / 0.94-1.07x  27-31 (0)
//   in-memory policy (reference)                            1.07x / 0.98x   28-30
//   FreeRADIUS 3.2                                          14,600-14,900 / 16,900-17,600 Accept/s, 32-36
// With the profiles in memory the store policy is as fast as the in-memory one and spends less CPU
// per Accept than FreeRADIUS (1.12-1.23x); the rate ratio moves by +-0.07 between runs on this
// shared machine. A cold lazy run is mostly first lookups (32,950 distinct MNs in 40,000
// requests), each a share of a batched query, so it costs what mode off costs.
// One query per request (--batch=1) cost 215-330 ms per 1000 (0.17-0.22x): per-query overhead
// in pg and the backend, not the index lookup (~0.05 ms). Our CPU figure includes the PostgreSQL
// backends serving the bench database, the directory's LISTEN connection among them
// (FreeRADIUS reads its users file from memory).
// radclient 3.2 slows down super-linearly with the size of its request file (it rescans its
// whole request list per reply: 16,000 requests take 9x as long as 4,000), so each run is a
// sequence of radclient processes over `--chunk` requests each; process start-up (~20 ms) is
// inside the measured time for both servers alike. Server CPU per 1000 Accepts is reported
// too: with radclient saturating a core, it is the fairer efficiency figure.
// `--workers=1,2` also runs our server as 2 cluster workers sharing the socket (measured: more
// CPU per Accept and no gain, both workers wake per datagram; so the default is 1). (FreeRADIUS
// uses a thread pool; a single event loop uses one core while radclient waits on a burst).
import { readFile } from 'node:fs/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FeatureVector } from '../src/policy/profile.ts';
import { openPostgres } from '../src/store/pg.ts';
import { migrate } from '../src/store/migrate.ts';
import type { Db } from '../src/store/db.ts';
import { createPgDatabase } from '../test/helpers/db.ts';
import { benchMns, type BenchMn as Mn } from './radius-profiles.ts';
import type { ProfileCacheMode } from '../src/store/profile-directory.ts';

const SECRET = 'bench-secret-0123';

function opt(args: string[], name: string, dflt: string): string {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
}

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

function runRadclient(args: string[], input?: string): Promise<{ code: number; out: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('radclient', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, out, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    child.on('error', (e) => resolve({ code: 1, out: `${out}\n${e.message}`, ms: 0 }));
    // radclient with -f does not read stdin and may be gone already: EPIPE is not an error here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

const FEATURE_VECTOR = FeatureVector.PMIP6_SUPPORTED | FeatureVector.IP4_HOA_SUPPORTED;

/**
 * The bench's profiles in the store, with set-based SQL (seconds, not minutes): the same MNs as
 * benchMns(n) (mn<i>@example.net, HNP 2001:db8:<i>>16>:<i&0xffff>::/64, HoA 10.0.0.0 + i /16),
 * and the bench's RADIUS client (127.0.0.1, Message-Authenticator required).
 */
export async function populate(db: Db, n: number): Promise<void> {
  await db.exec(`INSERT INTO profiles (mn_id, lma, ipv4_hoa, ipv4_prefix_length, ipv4_default_router, service_selection, mip6_feature_vector)
    SELECT 'mn' || i || '@example.net', '2001:db8::1', ('10.0.0.0'::inet + i), 16, '10.0.0.1', 'internet', ${BigInt.asIntN(64, FEATURE_VECTOR)}
    FROM generate_series(0, ${n - 1}) AS i`);
  await db.exec(`INSERT INTO hnp_assignments (prefix, profile_id, position)
    SELECT ('2001:db8:' || to_hex(i >> 16) || ':' || to_hex(i & 65535) || '::/64')::cidr, p.id, 0
    FROM generate_series(0, ${n - 1}) AS i JOIN profiles p ON p.mn_id = 'mn' || i || '@example.net'`);
  await db.query(`INSERT INTO aaa_clients (kind, name, address, secret, require_message_authenticator) VALUES ('radius', 'bench', '127.0.0.1', $1, true)`, [SECRET]);
  await db.exec('ANALYZE');
}

/** PIDs of the PostgreSQL backends connected to a database (their CPU counts as ours). */
async function backendPids(db: Db, name: string): Promise<number[]> {
  const r = await db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [name]);
  return r.rows.map((x) => Number(x.pid));
}

async function startFreeradius(dir: string, port: number, mns: Mn[]): Promise<ChildProcess> {
  await mkdir(join(dir, 'log'));
  await mkdir(join(dir, 'run'));
  await writeFile(join(dir, 'radiusd.conf'), `
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
logdir = ${dir}/log
raddbdir = ${dir}
radacctdir = ${dir}/log
name = freeradius
confdir = ${dir}
modconfdir = ${dir}
run_dir = ${dir}/run
db_dir = ${dir}
libdir = /usr/lib/freeradius
pidfile = ${dir}/run/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 1048576
hostname_lookups = no
log {
  destination = files
  file = ${dir}/log/radius.log
  auth = no
}
security {
  allow_core_dumps = no
  max_attributes = 200
  reject_delay = 0
  status_server = yes
}
thread pool {
  start_servers = 5
  max_servers = 32
  min_spare_servers = 3
  max_spare_servers = 10
  max_requests_per_server = 0
  max_queue_size = 65536
}
client lo {
  ipaddr = 127.0.0.1
  secret = ${SECRET}
  require_message_authenticator = yes
}
modules {
  files {
    filename = ${dir}/users
  }
}
server default {
  listen {
    type = auth
    ipaddr = 127.0.0.1
    port = ${port}
  }
  authorize {
    files
  }
  authenticate {
  }
}
`);
  // Equivalent of our profiles: the same reply attributes per MN.
  const lines: string[] = [];
  for (const m of mns) {
    lines.push(`${m.mnId}\tAuth-Type := Accept, Service-Selection == "internet"
\tMobile-Node-Identifier = "${m.mnId}",
\tService-Selection = "internet",
\tPMIP6-Home-LMA-IPv6-Address = 2001:db8::1,
\tPMIP6-Home-HN-Prefix = ${m.hnp},
\tPMIP6-Home-IPv4-HoA = ${m.hoa}/16,
\tPMIP6-Home-IPv4-Gateway = 10.0.0.1,
\tMIP6-Feature-Vector = ${FEATURE_VECTOR}
`);
  }
  await writeFile(join(dir, 'users'), lines.join('\n'));
  const child = spawn('freeradius', ['-f', '-d', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`freeradius exited: ${err}`);
    const r = await runRadclient(['-r', '1', '-t', '1', `127.0.0.1:${port}`, 'status', SECRET], 'Message-Authenticator = 0x00\n');
    if (r.code === 0) return child;
    if (Date.now() > deadline) throw new Error('freeradius did not start');
    await new Promise((r2) => setTimeout(r2, 500));
  }
}

export async function run(args: string[]): Promise<void> {
  const nProfiles = Number(opt(args, 'profiles', '100000'));
  const nRequests = Number(opt(args, 'requests', '40000'));
  const parallel = opt(args, 'parallel', '64,128').split(',').map(Number);
  const rounds = Number(opt(args, 'rounds', '3'));
  const policies = opt(args, 'policy', 'store').split(',') as ('store' | 'memory')[];
  const modes = opt(args, 'directory', 'lazy,preload').split(',') as ProfileCacheMode[];
  const batchArg = opt(args, 'batch', '');
  const dir = await mkdtemp(join(tmpdir(), 'pmip6-radius-bench-'));
  const mns = benchMns(nProfiles);

  console.log(`radius bench: ${nProfiles} profiles, ${nRequests} Access-Requests per run, radclient -p ${parallel.join('/')}, best of ${rounds}`);

  const needPg = policies.includes('store');
  const pg = needPg ? await createPgDatabase('pmip6_bench_radius') : null;
  let admin: Db | null = null;
  const ourServers: { name: string; port: number; pids: number[]; pg: boolean; child: ChildProcess; cold: boolean }[] = [];
  let fr: ChildProcess | null = null;
  try {
    if (pg) {
      admin = await openPostgres(pg.url, { max: 1 });
      await migrate(admin);
      const t0 = Date.now();
      await populate(admin, nProfiles);
      const n = await admin.query<{ n: bigint }>('SELECT count(*) AS n FROM hnp_assignments');
      if (Number(n.rows[0].n) !== nProfiles) throw new Error('population failed');
      console.log(`policy: PostgreSQL store (StoreRadiusPolicy, profile directory ${modes.join(' / ')}, batch ${batchArg === '' ? 'default' : batchArg}), database ${pg.name}: ${nProfiles} profiles inserted in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    if (policies.includes('memory')) console.log('policy: in-memory (MemoryRadiusPolicy) as a reference');

    // Our server in its own process(es) (as FreeRADIUS is), measured from /proc like it.
    const variants = opt(args, 'workers', '1').split(',').map(Number);
    const servers = policies.flatMap((policy): { policy: 'store' | 'memory'; mode: ProfileCacheMode }[] => (policy === 'store' ? modes.map((mode) => ({ policy, mode })) : [{ policy, mode: 'off' }]));
    for (const { policy, mode } of servers) {
      for (const workers of variants) {
        const port = await freePort();
        const t0 = Date.now();
        const child = spawn(process.execPath, [
          '--import', 'tsx', fileURLToPath(new URL('./radius-server.ts', import.meta.url)),
          SECRET, String(nProfiles), String(workers), String(port), policy === 'store' ? pg!.url : 'memory', mode, batchArg,
        ], {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: { ...process.env, PMIP6_LOG_LEVEL: process.env.PMIP6_LOG_LEVEL ?? 'warn' },
        });
        const ready = await new Promise<{ port: number; pids: number[] }>((resolve, reject) => {
          let buf = '';
          child.stdout!.on('data', (d: Buffer) => {
            buf += d.toString();
            const m = /READY (\d+) ([\d,]+)/.exec(buf);
            if (m) resolve({ port: Number(m[1]), pids: m[2].split(',').map(Number) });
          });
          child.once('exit', (code) => reject(new Error(`our server exited (${code})`)));
        });
        const name = policy === 'store' ? `ours ${mode}${mode === 'lazy' ? ' (cold)' : ''}` : `ours ${policy}`;
        ourServers.push({ name: `${name}${variants.length > 1 ? ` x${workers}` : ''}`, ...ready, pg: policy === 'store', child, cold: policy === 'store' && mode === 'lazy' });
        if (policy === 'store' && mode === 'preload') console.log(`${name}: ready with ${nProfiles} profiles preloaded in ${((Date.now() - t0) / 1000).toFixed(1)} s (process start included)`);
      }
    }
    const frPort = await freePort();
    const t0 = Date.now();
    fr = await startFreeradius(dir, frPort, mns);
    console.log(`freeradius 3.2 started on 127.0.0.1:${frPort} (users file loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);

    // Requests spread over all profiles (deterministic pseudo-random order). Math.imul keeps the
    // LCG in 32 bits: plain `x * 1103515245` loses its low bits in a double and cycled through
    // only 3,627 of 100,000 profiles, a working set every cache holds.
    const reqs: string[] = [];
    const touched = new Set<number>();
    let x = 12345;
    for (let i = 0; i < nRequests; i++) {
      x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
      touched.add(x % mns.length);
      const m = mns[x % mns.length];
      reqs.push(`User-Name = "${m.mnId}"\nNAS-Identifier = "mag1"\nService-Type = Login-User\nMessage-Authenticator = 0x00\nService-Selection = "internet"\n`);
    }
    console.log(`requests: ${nRequests} per run over ${touched.size} distinct profiles`);
    const chunk = Number(opt(args, 'chunk', '1000'));
    const reqFiles: string[] = [];
    for (let i = 0; i < reqs.length; i += chunk) {
      const f = join(dir, `requests-${i}.txt`);
      await writeFile(f, reqs.slice(i, i + chunk).join('\n'));
      reqFiles.push(f);
    }

    // Sanity: every server answers the same MN with an Accept carrying its HNP and HoA.
    const probe = `User-Name = "${mns[1].mnId}"\nNAS-Identifier = "mag1"\nMessage-Authenticator = 0x00\nService-Selection = "internet"\n`;
    for (const [name, port] of [...ourServers.map((o) => [o.name, o.port] as const), ['freeradius', frPort] as const]) {
      const r = await runRadclient(['-x', '-r', '2', '-t', '2', `127.0.0.1:${port}`, 'auth', SECRET], probe);
      if (r.code !== 0 || !r.out.includes(`PMIP6-Home-HN-Prefix = ${mns[1].hnp}`) || !r.out.includes('PMIP6-Home-LMA-IPv6-Address = 2001:db8::1')) {
        throw new Error(`${name}: probe failed\n${r.out}`);
      }
    }

    const cpuMs = async (pid: number): Promise<number> => {
      try {
        const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
        return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, USER_HZ = 100
      } catch {
        return 0; // a backend that went away between listing and reading
      }
    };
    const frPid = fr.pid!;
    type Target = { name: string; port: number; pids: number[]; pg: boolean; cold: boolean };
    const targets: Target[] = [...ourServers.map((o) => ({ name: o.name, port: o.port, pids: o.pids, pg: o.pg, cold: o.cold })), { name: 'FreeRADIUS 3.2', port: frPort, pids: [frPid], pg: false, cold: false }];
    /** A lazy directory emptied (SIGUSR2 to its process): the next run starts cold. */
    const empty = async (t: Target) => {
      if (!t.cold) return;
      for (const pid of t.pids) process.kill(pid, 'SIGUSR2');
      await new Promise((r) => setTimeout(r, 100));
    };
    // Warm-up: JIT for our server, and the store policy's PostgreSQL connections (its pool opens
    // them on demand; they are listed for the CPU figure before each run).
    for (const t of targets) {
      await runRadclient(['-q', '-s', '-p', String(Math.max(...parallel)), '-r', '3', '-t', '5', '-f', reqFiles[reqFiles.length - 1], `127.0.0.1:${t.port}`, 'auth', SECRET]);
    }
    const best = new Map<string, { rate: number; cpuPerK: number; pgPerK: number }>();
    for (const p of parallel) {
      for (let round = 0; round < rounds; round++) {
        // Rotate the order so no server always gets the warmer (or busier) machine.
        const order = targets.map((_, i) => targets[(i + round) % targets.length]);
        for (const t of order) {
          // The server's PostgreSQL backends (the pool opens them lazily; list them per run).
          await empty(t);
          const pgPids = t.pg && admin ? await backendPids(admin, pg!.name) : [];
          const sum = async (pids: number[]) => (await Promise.all(pids.map(cpuMs))).reduce((a, b) => a + b, 0);
          const cpu0 = await sum(t.pids);
          const pg0 = await sum(pgPids);
          const t0 = process.hrtime.bigint();
          let acc = 0;
          for (const f of reqFiles) {
            const r = await runRadclient(['-q', '-s', '-p', String(p), '-r', '3', '-t', '5', '-f', f, `127.0.0.1:${t.port}`, 'auth', SECRET]);
            acc += Number(/Accepted\s*:\s*(\d+)/.exec(r.out)?.[1] ?? 0);
          }
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          const cpu = (await sum(t.pids)) - cpu0;
          const pgCpu = (await sum(pgPids)) - pg0;
          if (acc !== nRequests) throw new Error(`${t.name} p=${p}: ${acc}/${nRequests} accepted`);
          const k = `${p}|${t.name}`;
          const b = best.get(k) ?? { rate: 0, cpuPerK: Infinity, pgPerK: Infinity };
          b.rate = Math.max(b.rate, (nRequests / ms) * 1000);
          if ((cpu + pgCpu) / nRequests * 1000 < b.cpuPerK) {
            b.cpuPerK = ((cpu + pgCpu) / nRequests) * 1000;
            b.pgPerK = (pgCpu / nRequests) * 1000;
          }
          best.set(k, b);
        }
      }
    }
    console.log('');
    console.log('in flight | server              | Accept/s | CPU ms/1000 (of it PostgreSQL) | rate vs FreeRADIUS | CPU vs FreeRADIUS (FR/ours)');
    for (const p of parallel) {
      const fr0 = best.get(`${p}|FreeRADIUS 3.2`)!;
      for (const t of targets) {
        const b = best.get(`${p}|${t.name}`)!;
        const ours = t.name.startsWith('ours');
        const vs = ours ? `${(b.rate / fr0.rate).toFixed(2)}x` : '';
        const cv = ours ? `${(fr0.cpuPerK / b.cpuPerK).toFixed(2)}x` : '';
        const cpu = `${b.cpuPerK.toFixed(1)}${t.pg ? ` (${b.pgPerK.toFixed(1)})` : ''}`;
        console.log(`${String(p).padStart(9)} | ${t.name.padEnd(19)} | ${b.rate.toFixed(0).padStart(8)} | ${cpu.padStart(30)} | ${vs.padStart(18)} | ${cv}`);
      }
    }
    console.log('');
    console.log('note: radclient, our server, PostgreSQL and FreeRADIUS share the 2 cores of this machine; radclient itself is near saturation. Each server runs in its own process(es); CPU is utime+stime from /proc (all workers summed, plus the PostgreSQL backends of the bench database for the store policy).');
  } finally {
    if (fr && fr.exitCode === null) {
      fr.kill('SIGTERM');
      await new Promise((r) => fr!.once('exit', r));
    }
    for (const { child } of ourServers) {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    }
    await admin?.close().catch(() => undefined);
    await pg?.drop().catch((e: unknown) => console.error(`could not drop ${pg.name}: ${(e as Error).message}`));
    await rm(dir, { recursive: true, force: true });
  }
}

// Direct run: `node --import tsx bench/radius.ts [args]`.
if (import.meta.url === `file://${process.argv[1]}`) {
  run(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
