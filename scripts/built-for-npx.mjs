// Exits 0 (nothing to do) when npm runs a lifecycle script for `npx pmip6` / `npm exec pmip6`
// in a clone that is already built, 1 otherwise. npm >= 7 runs a project's own bin by
// installing the project into its _npx cache as a linked folder, which re-runs the project's
// "install" and "prepare" scripts in the clone itself (npm_command=exec): without this check
// the first `npx pmip6` deletes and rebuilds dist/ and the native addon, under a suite that
// may be running from them. `npm ci`, `npm install` and `npm run build` always build.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const what = process.argv[2] === 'native' ? join(root, 'native', 'build', 'Release', 'pmip6_native.node') : join(root, 'dist', 'cli.js');
process.exit(process.env.npm_command === 'exec' && existsSync(what) ? 0 : 1);
