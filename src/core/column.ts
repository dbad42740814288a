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
    const size = Math.max(this.length + extra, this.#data.length * 2);
    // Shared memory stays shared (an adopted snapshot's: a second thread may read the column).
    const next = isShared(this.#data) ? alike(this.#data, size) : this.make(size);
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

/**
 * Typed arrays over SharedArrayBuffers. A run's snapshot is read into them, so that a second thread
 * can judge part of its conversions over the very same memory (attribution/judge-thread.ts)
 * instead of a copy of hundreds of megabytes. They are read and written as any typed array, and
 * zero-filled as new ArrayBuffers are.
 */
export const sharedF64Array = (n: number): Float64Array => new Float64Array(new SharedArrayBuffer(n * Float64Array.BYTES_PER_ELEMENT));
export const sharedI32Array = (n: number): Int32Array => new Int32Array(new SharedArrayBuffer(n * Int32Array.BYTES_PER_ELEMENT));
export const sharedBytes = (n: number): Buffer => Buffer.from(new SharedArrayBuffer(n));

/** Whether another thread given this array sees the same memory. */
export const isShared = (a: ArrayBufferView): boolean => a.buffer instanceof SharedArrayBuffer;

/** A new zero-filled array of n values of a's kind, in shared memory when a's is. */
export function alike<A extends Float64Array | Int32Array>(a: A, n: number): A {
  if (a instanceof Float64Array) return (isShared(a) ? sharedF64Array(n) : new Float64Array(n)) as A;
  return (isShared(a) ? sharedI32Array(n) : new Int32Array(n)) as A;
}
