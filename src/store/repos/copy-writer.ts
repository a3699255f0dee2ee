// COPY FROM STDIN text input (PostgreSQL "COPY" text format) written field by field straight
// into bytes: the registration path encodes every new binding (src/lma/persist.ts), and
// building each row as strings first (template literals, escapes, the ISO timestamps, one
// UTF-8 conversion of the whole) allocated ~2.7 KB per row in V8's young generation, a
// quarter of what an initial registration allocates (issue 12: scavenges set its p99).
// One writer per batch; ASCII goes byte by byte, anything else through Buffer#write (UTF-8).

/** Escape of backslash, tab, newline and carriage return in COPY text (0: none). */
function escapeOf(c: number): number {
  return c === 92 ? 92 : c === 9 ? 116 : c === 10 ? 110 : c === 13 ? 114 : 0;
}

export class CopyWriter {
  private buf: Buffer;
  private off = 0;

  constructor(size = 8192) {
    this.buf = Buffer.allocUnsafe(size);
  }

  private room(n: number): void {
    if (this.off + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.off + n) size *= 2;
    const b = Buffer.allocUnsafe(size);
    this.buf.copy(b, 0, 0, this.off);
    this.buf = b;
  }

  /** One byte (a separator: tab 9, newline 10, comma, brace, quote). */
  byte(c: number): void {
    this.room(1);
    this.buf[this.off++] = c;
  }

  /** `s` as it is: the caller knows it holds no character COPY escapes. */
  raw(s: string): void {
    const n = s.length;
    this.room(3 * n);
    const b = this.buf;
    let o = this.off;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        o += b.write(s.slice(i), o, 'utf8');
        break;
      }
      b[o++] = c;
    }
    this.off = o;
  }

  /** `s` as a COPY text field: backslash, tab, newline and carriage return escaped. */
  text(s: string): void {
    const n = s.length;
    this.room(3 * n); // UTF-8 takes at most 3 bytes per UTF-16 unit, an escape 2 per character
    const b = this.buf;
    let o = this.off;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        // The rest through UTF-8 (a pair of surrogates stays together: i is at a character boundary).
        for (let k = i; k < n; k++) {
          const d = s.charCodeAt(k);
          const e = d < 0x80 ? escapeOf(d) : 0;
          if (e !== 0) {
            b[o++] = 92;
            b[o++] = e;
          } else if (d < 0x80) {
            b[o++] = d;
          } else {
            const hi = d >= 0xd800 && d < 0xdc00 && k + 1 < n ? 2 : 1;
            o += b.write(s.slice(k, k + hi), o, 'utf8');
            k += hi - 1;
          }
        }
        break;
      }
      const e = escapeOf(c);
      if (e !== 0) {
        b[o++] = 92;
        b[o++] = e;
      } else {
        b[o++] = c;
      }
    }
    this.off = o;
  }

  /** A number as JavaScript writes it (String(n)); safe integers without a string. */
  num(n: number): void {
    if (!Number.isSafeInteger(n)) return this.raw(String(n));
    this.room(17);
    if (n < 0) {
      this.buf[this.off++] = 45; // '-'
      n = -n;
    }
    this.digits(n, 0);
  }

  /** n's decimal digits, zero-padded to `width`. */
  private digits(n: number, width: number): void {
    let len = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) len++;
    if (len < width) len = width;
    const b = this.buf;
    let o = this.off + len;
    this.off = o;
    for (let i = 0; i < len; i++) {
      const q = Math.floor(n / 10);
      b[--o] = 48 + (n - q * 10);
      n = q;
    }
  }

  /** `ms` (epoch milliseconds, floored) as Date#toISOString writes it. */
  timestamp(ms: number): void {
    ms = Math.floor(ms);
    const day = Math.floor(ms / 86_400_000);
    let t = ms - day * 86_400_000;
    if (day !== this.day) {
      const iso = new Date(ms).toISOString();
      if (iso.length !== 24) return this.raw(iso); // years outside 0000..9999: as Date writes them
      this.day = day;
      this.dayText = iso.slice(0, 11);
    }
    this.raw(this.dayText);
    this.room(13);
    this.digits(Math.floor(t / 3_600_000), 2);
    this.buf[this.off++] = 58; // ':'
    t %= 3_600_000;
    this.digits(Math.floor(t / 60_000), 2);
    this.buf[this.off++] = 58;
    t %= 60_000;
    this.digits(Math.floor(t / 1000), 2);
    this.buf[this.off++] = 46; // '.'
    this.digits(t % 1000, 3);
    this.buf[this.off++] = 90; // 'Z'
  }

  private day = NaN;
  private dayText = '';

  /** The bytes written so far (a copy: the writer may be used again). */
  bytes(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.off));
  }

  /** Empty again, for the next batch (its buffer kept unless over `keep` bytes). */
  reset(keep = 1 << 20): this {
    this.off = 0;
    if (this.buf.length > keep) this.buf = Buffer.allocUnsafe(keep);
    return this;
  }
}
