// `npm run bench -- <name> [args]`: runs one benchmark (or all with no name). Each bench
// measures against a baseline in the same run and prints the ratio.
const BENCHES: Record<string, string> = {
  store: './store.ts',
  lma: './lma.ts',
  'cache-growth': './lma-cache-growth.ts',
  radius: './radius.ts',
  snmp: './snmp.ts',
  startup: './startup.ts',
  flood: './flood.ts',
  diameter: './diameter.ts',
  attach: './attach.ts',
  dataplane: './dataplane.ts',
  steering: './steering.ts',
};

const [name, ...args] = process.argv.slice(2);
const names = name ? [name] : Object.keys(BENCHES);
for (const n of names) {
  const file = BENCHES[n];
  if (!file) {
    process.stderr.write(`unknown bench "${n}"; choose one of: ${Object.keys(BENCHES).join(', ')}\n`);
    process.exit(2);
  }
  process.stdout.write(`\n== bench ${n} ==\n`);
  const mod = (await import(file)) as { run(args: string[]): Promise<void> };
  await mod.run(args);
}
process.exit(0);
