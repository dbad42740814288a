const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const ESCAPED_QUOTE = Buffer.from('\\"', 'latin1');
const ESCAPED_BACKSLASH = Buffer.from('\\\\', 'latin1');
/** The escape JSON.stringify writes for each control character: \b \t \n \f \r by letter, the others as \u00xx. */
const ESCAPES: readonly Uint8Array[] = Array.from({ length: 0x20 }, (_, c) => Buffer.from(JSON.stringify(String.fromCharCode(c)).slice(1, -1), 'latin1'));

/**
 * Writes JSON as UTF-8 bytes into one growing buffer, from numbers and from strings given as
 * their UTF-8 bytes (an Interner's arena), without making a JS string for each part: a first
 * attribution run serialises a million outcomes, and building them as strings, then chunks of
 * strings, cost more than judging them and kept the collector busy for seconds. What it writes
 * is what JSON.stringify writes for the same values.
 */
export class JsonBytes {
  #buf: Buffer;
  #n = 0;

  constructor(capacity = 1 << 16) {
    this.#buf = Buffer.allocUnsafe(capacity);
  }

  get length(): number {
    return this.#n;
  }

  /** Forgets what was written, keeping the memory. */
  reset(): this {
    this.#n = 0;
    return this;
  }

  /** The bytes written, from `from` (a view, valid until the next write). */
  bytes(from = 0, to = this.#n): Buffer {
    return this.#buf.subarray(from, to);
  }

  /** Bytes [from, to) as a string. */
  text(from = 0, to = this.#n): string {
    return this.#buf.toString('utf8', from, to);
  }

  #room(extra: number): Buffer {
    if (this.#n + extra > this.#buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#n + extra));
      this.#buf.copy(next, 0, 0, this.#n);
      this.#buf = next;
    }
    return this.#buf;
  }

  /** One ASCII character (punctuation: `[`, `,`, …). */
  char(c: string): this {
    this.#room(1)[this.#n++] = c.charCodeAt(0);
    return this;
  }

  /** ASCII text as it is (`null`, a number's digits). */
  ascii(s: string): this {
    const buf = this.#room(s.length);
    for (let i = 0; i < s.length; i++) buf[this.#n++] = s.charCodeAt(i);
    return this;
  }

  /** A number as JSON.stringify writes it (null for NaN and infinities), or null. */
  num(x: number | null): this {
    if (x === null || !Number.isFinite(x)) return this.ascii('null');
    if (!Number.isSafeInteger(x) || x < 0) return this.ascii(String(x));
    const buf = this.#room(16);
    // Digits by 32-bit integer arithmetic, in two halves for timestamps and ids past 2^31
    // (division of doubles made this the costliest part of writing a million outcomes).
    if (x < 1e8) this.#digits(buf, x, 1);
    else {
      const high = Math.floor(x / 1e8);
      this.#digits(buf, high, 1);
      this.#digits(buf, x - high * 1e8, 8);
    }
    return this;
  }

  /** v (below 2^31) in decimal, zero-padded to at least `width` digits. */
  #digits(buf: Buffer, v: number, width: number): void {
    let digits = 1;
    for (let y = v; y >= 10; y = (y / 10) | 0) digits++;
    if (digits < width) digits = width;
    let at = this.#n + digits;
    this.#n = at;
    for (let i = 0; i < digits; i++) {
      const q = (v / 10) | 0;
      buf[--at] = 0x30 + v - q * 10;
      v = q;
    }
  }

  /** A JSON string from UTF-8 bytes[from, to): quoted, with `"`, `\` and control characters escaped. */
  stringBytes(b: Uint8Array, from: number, to: number): this {
    let buf = this.#room(to - from + 2);
    buf[this.#n++] = QUOTE;
    for (let i = from; i < to; i++) {
      const c = b[i]!;
      if (c >= 0x20 && c !== QUOTE && c !== BACKSLASH) {
        buf[this.#n++] = c;
        continue;
      }
      const escape = c < 0x20 ? ESCAPES[c]! : c === QUOTE ? ESCAPED_QUOTE : ESCAPED_BACKSLASH;
      buf = this.#room(escape.length + (to - i) + 1);
      for (let k = 0; k < escape.length; k++) buf[this.#n++] = escape[k]!;
    }
    buf[this.#n++] = QUOTE;
    return this;
  }

  /** A JS string as JSON, or null. */
  string(s: string | null): this {
    if (s === null) return this.ascii('null');
    let plain = true;
    for (let i = 0; i < s.length && plain; i++) {
      const c = s.charCodeAt(i);
      plain = c >= 0x20 && c < 0x80 && c !== QUOTE && c !== BACKSLASH;
    }
    if (plain) return this.char('"').ascii(s).char('"');
    return this.raw(Buffer.from(JSON.stringify(s), 'utf8'));
  }

  /** Bytes that already are JSON (a part written earlier, or by another writer). */
  raw(b: Uint8Array, from = 0, to = b.length): this {
    const buf = this.#room(to - from);
    if (to - from <= 64) for (let i = from; i < to; i++) buf[this.#n++] = b[i]!;
    else {
      buf.set(b.subarray(from, to), this.#n);
      this.#n += to - from;
    }
    return this;
  }
}
