// Builds the native addon (native/build/Release/pmip6_native.node) with node-gyp. Run by
// `npm ci` / `npm install` through package.json's "install" script. It never fails the
// install: without a compiler (g++, make, python3) or Node headers, it prints one line
// saying what is lost (the IPv6 Mobility Header transport) and exits 0; everything else
// in the suite runs without the addon. PMIP6_NATIVE=skip skips the build, PMIP6_NATIVE=require
// makes a failed build fail the install (CI images that must have it). See native/README.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const mode = process.env.PMIP6_NATIVE ?? '';
const say = (line) => process.stderr.write(`pmip6 native addon: ${line}\n`);

if (mode === 'skip') {
  say('not built (PMIP6_NATIVE=skip); the IPv6 transport (raw Mobility Header sockets) is unavailable, everything else works');
  process.exit(0);
}

// npm passes its bundled node-gyp to scripts; outside npm, look next to this node.
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((c) => c && existsSync(c));
}

const gyp = findNodeGyp();
let ok = false;
let why = '';
let log = '';
if (!gyp) {
  why = 'node-gyp not found (it comes with npm)';
} else {
  const r = spawnSync(process.execPath, [gyp, 'rebuild'], { cwd: here, encoding: 'utf8', env: process.env, maxBuffer: 64 * 1024 * 1024 });
  log = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  ok = r.status === 0 && existsSync(join(here, 'build', 'Release', 'pmip6_native.node'));
  if (!ok) {
    const first = log.split('\n').find((l) => /error|not found|No such file|command not found/i.test(l));
    why = r.error ? r.error.message : (first ?? `node-gyp exited with ${r.status}`).trim().slice(0, 200);
  }
}
try {
  mkdirSync(join(here, 'build'), { recursive: true });
  writeFileSync(join(here, 'build', 'install.log'), log);
} catch {
  // a read-only tree: the one line below is all there is
}
if (ok) {
  say('built (native/build/Release/pmip6_native.node)');
  process.exit(0);
}
say(`not built: ${why} -- the IPv6 transport (raw Mobility Header sockets, protocol 135) is unavailable; everything else works. Needs g++, make, python3; log in native/build/install.log; see native/README.md`);
process.exit(mode === 'require' ? 1 : 0);
