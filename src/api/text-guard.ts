// Text that must not reach the store: every path parameter, query parameter and request
// body string is checked before a route runs. Mobile-node identifiers (any field named
// `mnId`) follow src/policy/identifier.ts (no NUL, no control or bidirectional control
// characters, valid UTF-8); every other string must hold no NUL and no lone surrogate
// (PostgreSQL text can hold neither). The answer is a 400 that names the field, never a
// database error.
import { describeIdentifierProblem, identifierProblem } from '../policy/identifier.ts';

export interface TextProblem {
  field: string;
  message: string;
}

const IDENTIFIER_FIELDS = new Set(['mnId']);
const MAX_DEPTH = 32;

function stringProblem(name: string, s: string): string | null {
  if (IDENTIFIER_FIELDS.has(name)) {
    const p = identifierProblem(s);
    return p === null || p === 'empty' ? null : describeIdentifierProblem(p); // length rules stay with the schemas
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return 'must not contain NUL';
    if (c >= 0xd800 && c <= 0xdfff) {
      const hi = c <= 0xdbff;
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (!hi || next < 0xdc00 || next > 0xdfff) return 'is not valid UTF-8 (lone surrogate)';
      i++;
    }
  }
  return null;
}

function walk(v: unknown, path: string, name: string, depth: number): TextProblem | null {
  if (typeof v === 'string') {
    const m = stringProblem(name, v);
    return m === null ? null : { field: path || name || 'body', message: m };
  }
  if (v === null || typeof v !== 'object' || depth > MAX_DEPTH) return null;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = walk(v[i], `${path}[${i}]`, name, depth + 1);
      if (p) return p;
    }
    return null;
  }
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const keyProblem = stringProblem('', k);
    if (keyProblem) return { field: path || 'body', message: `a field name ${keyProblem}` };
    const p = walk(x, path ? `${path}.${k}` : k, k, depth + 1);
    if (p) return p;
  }
  return null;
}

/** The first unusable string among a request's path parameters, query and body. */
export function requestTextProblem(req: { params?: unknown; query?: unknown; body?: unknown }): TextProblem | null {
  return walk(req.params, '', '', 0) ?? walk(req.query, '', '', 0) ?? walk(req.body, '', '', 0);
}
