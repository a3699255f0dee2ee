#!/usr/bin/env node
// Entry point of the installed `pmip6` command (package.json "bin", `npx pmip6`, `npm link`,
// the container's ENTRYPOINT): plain Node.js on the compiled CLI in dist/, no TypeScript
// loader. dist/ is made by `npm run build`, which `npm ci` runs through "prepare".
//
// PMIP6_NODE_FLAGS="--single-threaded-gc ...": Node/V8 flags for the suite's process that
// NODE_OPTIONS does not accept (--single-threaded-gc is one). This process then starts the
// command again as its child with those flags, passes signals on and exits as the child did.
// Running `node --single-threaded-gc bin/pmip6.js ...` directly does the same without the
// extra process. (README "Node flags" says when the flag helps.) The child stops itself
// (SIGTERM, a clean stop) when this process goes away without passing a signal on, as after
// SIGKILL: it watches its parent process id, which changes when its parent dies.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const flags = (process.env.PMIP6_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
// Read here only: the configuration knows no such key (and refuses unknown PMIP6_ variables),
// and the child, which gets the flags on its command line, must not start another.
delete process.env.PMIP6_NODE_FLAGS;
if (flags.length > 0 && !flags.every((f) => process.execArgv.includes(f))) {
  const bad = flags.find((f) => !f.startsWith('--'));
  if (bad !== undefined) {
    process.stderr.write(`pmip6: PMIP6_NODE_FLAGS holds "${bad}": only --flags are taken\n`);
    process.exit(2);
  }
  // A process group of its own: a terminal's Ctrl-C reaches only this process, which passes it
  // on once (the suite stops cleanly on the first SIGINT and exits at once on a second).
  const child = spawn(process.execPath, [...process.execArgv, ...flags, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    detached: true,
    env: { ...process.env, PMIP6_LAUNCHER_PID: String(process.pid) },
  });
  const signals = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  for (const s of signals) process.on(s, () => child.kill(s));
  child.on('error', (e) => {
    process.stderr.write(`pmip6: could not start node with PMIP6_NODE_FLAGS: ${e.message}\n`);
    process.exit(2);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      for (const s of signals) process.removeAllListeners(s);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
} else {
  watchLauncher();
  const cli = new URL('../dist/cli.js', import.meta.url);
  if (!existsSync(cli)) {
    process.stderr.write(`pmip6: ${cli.pathname} is missing: run "npm run build" (npm ci does it) in ${new URL('..', import.meta.url).pathname}\n`);
    process.exit(2);
  }
  const { main } = await import(cli.href);
  await main();
}

/**
 * In the child of a PMIP6_NODE_FLAGS launcher: a clean stop (SIGTERM to itself) once the
 * launcher is gone, checked every second. Read and removed before the configuration, which
 * refuses PMIP6_ variables it does not know.
 */
function watchLauncher() {
  const launcher = Number(process.env.PMIP6_LAUNCHER_PID);
  delete process.env.PMIP6_LAUNCHER_PID;
  if (!Number.isInteger(launcher) || launcher <= 0 || process.ppid !== launcher) return;
  const t = setInterval(() => {
    if (process.ppid === launcher) return;
    clearInterval(t);
    process.stderr.write(`pmip6: the launching process ${launcher} is gone: stopping\n`);
    process.kill(process.pid, 'SIGTERM');
  }, 1000);
  t.unref();
}
