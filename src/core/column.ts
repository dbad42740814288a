/** A growable column of numbers in a typed array: millions of values without an object or a boxed number each. */
export class Column<A extends Float64Array | Int32Array> {
  #data: A;
  length = 0;

  constructor(private readonly make: (n: number) => A, capacity = 256) {
    this.#data = make(capacity);
  }

  push(x: number): void {
    if (this.length === this.#data.length) this.reserve(Math.max(this.length, 16));
    this.#data[this.length++] = x;
  }

  /** Makes room for `extra` more values at once (one copy instead of many doublings). */
  reserve(extra: number): void {
    if (this.length + extra <= this.#data.length) return;
    const next = this.make(Math.max(this.length + extra, this.#data.length * 2));
    next.set(this.#data.subarray(0, this.length));
    this.#data = next;
  }

  get(i: number): number {
    return this.#data[i]!;
  }

  set(i: number, x: number): void {
    this.#data[i] = x;
  }

  /** The values pushed so far (a view, not a copy). */
  view(): A {
    return this.#data.subarray(0, this.length) as A;
  }

  /** Takes these values as the column's (adopted, not copied: a snapshot's arrays), with the room after them in their memory to grow into. */
  adopt(values: A): this {
    const room = (values.buffer.byteLength - values.byteOffset) / values.BYTES_PER_ELEMENT;
    this.#data = (values instanceof Float64Array ? new Float64Array(values.buffer, values.byteOffset, room) : new Int32Array(values.buffer, values.byteOffset, room)) as A;
    this.length = values.length;
    return this;
  }

  /** Forgets every value and gives the memory back. */
  clear(): void {
    this.#data = this.make(256);
    this.length = 0;
  }
}

export const f64 = (capacity?: number) => new Column((n) => new Float64Array(n), capacity);
export const i32 = (capacity?: number) => new Column((n) => new Int32Array(n), capacity);
