// V8 settings the suite's process runs with by default, set at start (before the roles
// allocate anything) unless the operator chose otherwise on the command line or in
// PMIP6_NODE_FLAGS (bin/pmip6.js).
//
// --no-allocation-site-pretenuring: V8 allocates the objects of a code site straight in the
// old generation once many of them outlived a young-generation collection. During a burst of
// initial registrations every PBU's decoded options, job and PBA decision live until the
// binding's commit (RFC 5213 §5.3.6: PBA once durable), so V8 "pretenures" those sites; from
// then on every re-registration's short-lived objects land in the old generation too, and each
// minor collection copies or marks megabytes of garbage. Measured in-process (issue 12):
// 11 µs of CPU per re-registration with pretenuring, 6 µs without, scavenges 15 ms -> 0.4 ms.
import v8 from 'node:v8';

const DEFAULTS: readonly { flag: string; name: string }[] = [
  { flag: '--no-allocation-site-pretenuring', name: 'allocation-site-pretenuring' },
];

/** True when the operator gave V8 setting `name` (e.g. 'heap-growing-percent', with or without --no-) as a node flag or in PMIP6_NODE_FLAGS. */
export function operatorGaveV8Flag(name: string, execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): boolean {
  const given = [...execArgv, ...(env.PMIP6_NODE_FLAGS ?? '').split(/\s+/)].join(' ').replace(/_/g, '-');
  return given.includes(name);
}

/** Sets each default whose setting the operator did not give (node flags or PMIP6_NODE_FLAGS); returns those set. */
export function applyDefaultV8Flags(execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): string[] {
  const set: string[] = [];
  for (const d of DEFAULTS) {
    if (operatorGaveV8Flag(d.name, execArgv, env)) continue;
    v8.setFlagsFromString(d.flag);
    set.push(d.flag);
  }
  return set;
}
