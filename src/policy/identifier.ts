// Mobile-node identifiers at the edge: what RADIUS (User-Name, Mobile-Node-Identifier), the
// Mobility Header (MN-ID option, RFC 4283) and the API accept before an identifier goes
// anywhere near the store. An NAI is UTF-8 text (RFC 7542 §2.2, RFC 4282 §2.1); it never
// contains NUL or other control characters (RFC 7542 §2.2 excludes C0, DEL and C1), and we
// also refuse the Unicode Bidi_Control characters (U+061C, U+200E, U+200F, U+202A-U+202E,
// U+2066-U+2069), which make an identifier display as another one (RFC 7542 §2.4 asks for
// normalised, unambiguous names). PostgreSQL refuses NUL in text: one such key in a batched
// query would fail the whole batch, so this check runs before any batching.
//
// Pure: no I/O. ASCII identifiers (the common case) cost one pass over the bytes.

// Length is not judged here: the schemas and the store have their limits, and an over-long
// identifier harms nothing downstream (it simply matches no profile).
export type IdentifierProblem = 'empty' | 'nul' | 'invalid-utf8' | 'control-character' | 'bidi-control';

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Unicode Bidi_Control (PropList.txt). */
function isBidiControl(c: number): boolean {
  return c === 0x061c || c === 0x200e || c === 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/** C0, DEL and C1 control characters. */
function isControl(c: number): boolean {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/** What is wrong with an identifier given as text, or null when it may be used. */
export function identifierProblem(s: string): IdentifierProblem | null {
  if (s.length === 0) return 'empty';
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return 'nul';
    if (c < 0x20 || c === 0x7f) return 'control-character';
    if (c > 0x7f) ascii = false;
  }
  if (ascii) return null;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    // A lone surrogate cannot be encoded as UTF-8 (a JSON string may carry one).
    if (c >= 0xd800 && c <= 0xdfff) return 'invalid-utf8';
    if (isControl(c)) return 'control-character';
    if (isBidiControl(c)) return 'bidi-control';
  }
  return null;
}

export type DecodedIdentifier = { ok: true; text: string } | { ok: false; problem: IdentifierProblem };

/** Decodes identifier octets (a RADIUS attribute, an MN-ID option) and checks them. */
export function decodeIdentifier(bytes: Uint8Array): DecodedIdentifier {
  if (bytes.length === 0) return { ok: false, problem: 'empty' };
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0) return { ok: false, problem: 'nul' };
    if (b < 0x20 || b === 0x7f) return { ok: false, problem: 'control-character' };
    if (b > 0x7f) ascii = false;
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (ascii) return { ok: true, text: buf.toString('latin1') };
  let text: string;
  try {
    text = fatalUtf8.decode(bytes);
  } catch {
    return { ok: false, problem: 'invalid-utf8' };
  }
  const p = identifierProblem(text);
  return p === null ? { ok: true, text } : { ok: false, problem: p };
}

/** A human-readable reason (API messages, RADIUS Reply-Message, logs). */
export function describeIdentifierProblem(p: IdentifierProblem): string {
  switch (p) {
    case 'empty':
      return 'must not be empty';
    case 'nul':
      return 'must not contain NUL';
    case 'invalid-utf8':
      return 'is not valid UTF-8';
    case 'control-character':
      return 'must not contain control characters';
    case 'bidi-control':
      return 'must not contain bidirectional control characters';
  }
}
