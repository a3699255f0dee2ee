// Extracts MIB modules (IETF code components) from RFC texts: drops the page footers,
// form feeds and page headers with the blank lines around them, takes the text from
// "NAME DEFINITIONS ::= BEGIN" to the END that closes it (macro BEGIN/END pairs inside,
// as in SNMPv2-SMI, are counted; comments and strings are skipped) and removes the
// indentation the RFC added. Used to make mibs/ietf/ and the RFC 6475 test fixture:
//   node --import tsx scripts/extract-mibs.ts RFC_DIR [--check]
// With --check it compares the committed files with a fresh extraction instead of writing.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../', import.meta.url).pathname;

/** Module → RFC and where it goes in the repository. */
export const MODULES: { module: string; rfc: number; dir: string }[] = [
  { module: 'SNMPv2-SMI', rfc: 2578, dir: 'mibs/ietf' },
  { module: 'SNMPv2-TC', rfc: 2579, dir: 'mibs/ietf' },
  { module: 'SNMPv2-CONF', rfc: 2580, dir: 'mibs/ietf' },
  { module: 'SNMP-FRAMEWORK-MIB', rfc: 3411, dir: 'mibs/ietf' },
  { module: 'SNMPv2-MIB', rfc: 3418, dir: 'mibs/ietf' },
  { module: 'INET-ADDRESS-MIB', rfc: 4001, dir: 'mibs/ietf' },
  { module: 'MOBILEIPV6-MIB', rfc: 4295, dir: 'mibs/ietf' },
  // The RFC's own PMIPV6 modules: the reference our mibs/ are compared with (test only).
  { module: 'PMIPV6-TC-MIB', rfc: 6475, dir: 'test/snmp/fixtures/rfc6475' },
  { module: 'PMIPV6-MIB', rfc: 6475, dir: 'test/snmp/fixtures/rfc6475' },
];

/** The RFC's lines without page breaks (footer, form feed, header and the blank lines around them). */
export function withoutPageBreaks(text: string): string[] {
  const lines = text.replace(/\r/g, '').split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (/\[Page \d+\]\s*$/.test(l)) {
      while (out.length && out[out.length - 1].trim() === '') out.pop();
      continue;
    }
    if (l.startsWith('\f')) {
      // "RFC nnnn   title   Month Year" follows the form feed (on its line, or after blank lines).
      const skipBlank = () => {
        while (i + 1 < lines.length && lines[i + 1].trim() === '') i++;
      };
      if (!/^\fRFC \d+/.test(l)) {
        skipBlank();
        if (/^RFC \d+/.test(lines[i + 1] ?? '')) i++;
      }
      skipBlank();
      continue;
    }
    out.push(l);
  }
  return out;
}

/** BEGIN/END depth change of one line, outside strings and comments; `inString` carries over lines. */
function scan(line: string, state: { inString: boolean }): number {
  let depth = 0;
  let i = 0;
  while (i < line.length) {
    if (state.inString) {
      const q = line.indexOf('"', i);
      if (q < 0) return depth;
      state.inString = false;
      i = q + 1;
      continue;
    }
    if (line.startsWith('--', i)) {
      const end = line.indexOf('--', i + 2);
      if (end < 0) return depth;
      i = end + 2;
      continue;
    }
    if (line[i] === '"') {
      state.inString = true;
      i++;
      continue;
    }
    const m = /^[A-Za-z][\w-]*/.exec(line.slice(i));
    if (m) {
      if (m[0] === 'BEGIN') depth++;
      else if (m[0] === 'END') depth--;
      i += m[0].length;
      continue;
    }
    i++;
  }
  return depth;
}

export function extractModule(rfcText: string, module: string): string {
  const lines = withoutPageBreaks(rfcText);
  const start = lines.findIndex((l) => new RegExp(`^\\s*${module.replace(/-/g, '\\-')}\\s+DEFINITIONS\\s*::=\\s*BEGIN\\s*$`).test(l));
  if (start < 0) throw new Error(`${module}: no "DEFINITIONS ::= BEGIN" line`);
  const state = { inString: false };
  let depth = 0;
  let end = -1;
  for (let i = start; i < lines.length; i++) {
    depth += scan(lines[i], state);
    if (depth === 0) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error(`${module}: no END closes the module`);
  const body = lines.slice(start, end + 1).map((l) => l.replace(/\s+$/, ''));
  const indent = Math.min(...body.filter((l) => l !== '').map((l) => /^ */.exec(l)![0].length));
  return body.map((l) => l.slice(indent)).join('\n') + '\n';
}

export function main(argv: string[]): number {
  const [rfcDir, flag] = argv;
  if (!rfcDir) {
    process.stderr.write('usage: extract-mibs.ts RFC_DIR [--check]\n');
    return 2;
  }
  let bad = 0;
  for (const m of MODULES) {
    const text = extractModule(readFileSync(join(rfcDir, `rfc${m.rfc}.txt`), 'utf8'), m.module);
    const target = join(ROOT, m.dir, m.module);
    if (flag === '--check') {
      let have = '';
      try {
        have = readFileSync(target, 'utf8');
      } catch {
        /* missing */
      }
      if (have !== text) {
        process.stderr.write(`${m.dir}/${m.module} differs from RFC ${m.rfc}\n`);
        bad++;
      }
    } else {
      mkdirSync(join(ROOT, m.dir), { recursive: true });
      writeFileSync(target, text);
      process.stdout.write(`${m.dir}/${m.module} (RFC ${m.rfc}, ${text.split('\n').length - 1} lines)\n`);
    }
  }
  return bad ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(main(process.argv.slice(2)));
