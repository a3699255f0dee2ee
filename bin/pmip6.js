#!/usr/bin/env node
// Entry point of the installed `pmip6` command (package.json "bin", `npx pmip6`, `npm link`,
// the container's ENTRYPOINT): plain Node.js on the compiled CLI in dist/, no TypeScript
// loader. dist/ is made by `npm run build`, which `npm ci` runs through "prepare".
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(`pmip6: ${cli.pathname} is missing: run "npm run build" (npm ci does it) in ${new URL('..', import.meta.url).pathname}\n`);
  process.exit(2);
}
const { main } = await import(cli.href);
await main();
