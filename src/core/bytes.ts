/** Bytes written into one growing buffer: varints, doubles, strings. */
export class ByteWriter {
  #buf: Buffer;
  /** #buf's memory, for f64() (Buffer.writeDoubleLE took a tenth of a first run's writing). */
  #view: DataView;
  #n = 0;

  constructor(capacity = 1 << 16) {
    this.#buf = Buffer.allocUnsafe(capacity);
    this.#view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
  }

  get length(): number {
    return this.#n;
  }

  /** A writer whose first `bytes.length` bytes are these (written elsewhere: another thread's bytes(), handed over), adopted as they are. */
  static adopt(bytes: Uint8Array): ByteWriter {
    const out = new ByteWriter(0);
    out.#buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    out.#view = new DataView(out.#buf.buffer, out.#buf.byteOffset, out.#buf.byteLength);
    out.#n = bytes.byteLength;
    return out;
  }

  /** Forgets what was written, keeping the memory. */
  reset(): this {
    this.#n = 0;
    return this;
  }

  /** Where the bytes are written (valid until the next write; bytes() says how many). */
  get buffer(): Buffer {
    return this.#buf;
  }

  /** The bytes written [from, to) (a view, valid until the next write). */
  bytes(from = 0, to = this.#n): Buffer {
    return this.#buf.subarray(from, to);
  }

  #room(extra: number): Buffer {
    if (this.#n + extra > this.#buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#n + extra));
      this.#buf.copy(next, 0, 0, this.#n);
      this.#buf = next;
      this.#view = new DataView(next.buffer, next.byteOffset, next.byteLength);
    }
    return this.#buf;
  }

  u8(x: number): this {
    this.#room(1)[this.#n++] = x;
    return this;
  }

  /** A non-negative safe integer, 7 bits a byte (low first; the high bit says more follow). */
  varint(x: number): this {
    if (!Number.isSafeInteger(x) || x < 0) throw new RangeError(`Not a non-negative safe integer: ${x}.`);
    const buf = this.#room(8);
    // Past 31 bits by division, then by shifts (ids and counts: mostly one to three bytes).
    while (x > 0x7fffffff) {
      buf[this.#n++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    while (x >= 0x80) {
      buf[this.#n++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    buf[this.#n++] = x;
    return this;
  }

  f64(x: number): this {
    this.#room(8);
    this.#view.setFloat64(this.#n, x, true);
    this.#n += 8;
    return this;
  }

  /** A string given as its UTF-8 bytes [from, to), as an outcome's string table holds text: twice its length, then the bytes (outcome-bytes.ts). */
  literal(b: Uint8Array, from: number, to: number): this {
    return this.varint(2 * (to - from)).raw(b, from, to);
  }

  /** Bytes as they are. */
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

/** Reads what a ByteWriter wrote, from a position it keeps. */
export class ByteReader {
  at: number;
  /** `buf` as a Buffer, for its decoders. */
  readonly #view: Buffer;
  /** `buf` as a DataView, for f64() (made when first needed: readers are made per outcome). */
  #doubles: DataView | null = null;

  constructor(readonly buf: Uint8Array, at = 0) {
    this.at = at;
    this.#view = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  u8(): number {
    if (this.at >= this.buf.length) throw new RangeError('Outcome bytes end early.');
    return this.buf[this.at++]!;
  }

  varint(): number {
    let x = 0;
    let scale = 1;
    for (;;) {
      const b = this.u8();
      x += (b & 0x7f) * scale;
      if (b < 0x80) return x;
      scale *= 0x80;
    }
  }

  f64(): number {
    if (this.at + 8 > this.buf.length) throw new RangeError('Outcome bytes end early.');
    this.#doubles ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    const x = this.#doubles.getFloat64(this.at, true);
    this.at += 8;
    return x;
  }

  /** A string: its length, then its UTF-8 bytes. */
  string(): string {
    return this.utf8(this.varint());
  }

  /** The next n bytes as UTF-8. */
  utf8(n: number): string {
    if (this.at + n > this.buf.length) throw new RangeError('Outcome bytes end early.');
    const s = this.#view.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }
}
