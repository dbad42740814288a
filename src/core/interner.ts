import { alike, isShared, sharedBytes, sharedI32Array } from './column.js';

/**
 * Numbers distinct strings 0, 1, 2, … from their UTF-8 bytes, without making a JS string for
 * each: a run meets millions of visitor, session and user ids, and a Map<string, number> costs a
 * string, its hash and a map entry apiece (seconds and hundreds of megabytes at ten million
 * events). Here the bytes go into one growing arena, and an open-addressing table of numbers
 * finds them again; a string is decoded only when someone asks for its name.
 */
export class Interner {
  #arena: Buffer;
  #used = 0;
  /** String k is arena[starts[k] .. starts[k + 1]). */
  #starts: Int32Array;
  /**
   * Slot i is table[2i] = string number + 1 (0: empty) and table[2i + 1] = its hash, side by side
   * so that a probe reads one cache line. Kept at most half full.
   */
  #table: Int32Array;
  #count = 0;

  /** `shared`: its memory is shared, and stays so as it grows: another thread can read the strings (an attribution run's, judge-thread.ts). */
  constructor(shared = false) {
    this.#arena = shared ? sharedBytes(1 << 16) : Buffer.allocUnsafe(1 << 16);
    this.#starts = shared ? sharedI32Array(1 << 12) : new Int32Array(1 << 12);
    this.#table = shared ? sharedI32Array(2 << 13) : new Int32Array(2 << 13);
  }

  get size(): number {
    return this.#count;
  }

  /** Makes room for `count` strings in all (one table instead of many rehashes as they arrive). */
  reserve(count: number): void {
    if (count <= this.#starts.length) return;
    this.#starts = grow(this.#starts, count);
    let slots = this.#slots();
    while (slots < count * 2) slots *= 2;
    if (slots > this.#slots()) this.#rehash(slots);
  }

  /** The number of bytes[from, to), numbering it if it is new. */
  internBytes(bytes: Uint8Array, from: number, to: number): number {
    const h = hashBytes(bytes, from, to);
    const table = this.#table;
    const mask = (table.length >>> 1) - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const k = table[2 * slot]! - 1;
      if (k < 0) return this.#add(bytes, from, to, h, slot);
      if (table[2 * slot + 1] === h && this.#equals(k, bytes, from, to)) return k;
    }
  }

  /** The number of s, numbering it if it is new. */
  intern(s: string): number {
    const b = Buffer.from(s, 'utf8');
    return this.internBytes(b, 0, b.length);
  }

  /** The number of s, or -1 when it was never interned. */
  find(s: string): number {
    const b = Buffer.from(s, 'utf8');
    return this.findBytes(b, 0, b.length);
  }

  /** The number of the string whose UTF-8 bytes are bytes[from, to), or -1 when it was never interned. */
  findBytes(bytes: Uint8Array, from: number, to: number): number {
    const h = hashBytes(bytes, from, to);
    const table = this.#table;
    const mask = (table.length >>> 1) - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const k = table[2 * slot]! - 1;
      if (k < 0) return -1;
      if (table[2 * slot + 1] === h && this.#equals(k, bytes, from, to)) return k;
    }
  }

  /** What the interner holds, as arrays (views, not copies): its bytes, where each string starts, its table. */
  parts(): [Uint8Array, Int32Array, Int32Array] {
    return [this.#arena.subarray(0, this.#used), this.#starts.subarray(0, this.#count), this.#table];
  }

  /**
   * An interner holding what parts() gave, adopted as they are. `room`: the arena and starts are
   * a snapshot's arrays, each alone in its memory, and new strings go into the room after them
   * (a nightly run adds a day's strings to three million: growing would copy a 26 MB arena, in
   * fresh pages, for the first one).
   */
  static fromParts(arena: Uint8Array, starts: Int32Array, table: Int32Array, room = false): Interner {
    const out = new Interner();
    const capacity = (a: Uint8Array | Int32Array) => (room ? (a.buffer.byteLength - a.byteOffset) / a.BYTES_PER_ELEMENT : a.length);
    out.#arena = Buffer.from(arena.buffer, arena.byteOffset, capacity(arena));
    out.#used = arena.byteLength;
    out.#starts = new Int32Array(starts.buffer, starts.byteOffset, capacity(starts));
    out.#count = starts.length;
    if (table.length < 4 || (table.length & (table.length - 1)) !== 0 || starts.length * 2 > table.length >>> 1) throw new Error('Interner parts: the table does not fit the strings.');
    out.#table = table;
    return out;
  }

  name(k: number): string {
    return this.#arena.toString('utf8', this.#starts[k]!, this.#end(k));
  }

  /** Gives string k's UTF-8 bytes to a writer of strings (ByteWriter.literal). */
  writeLiteral(out: { literal(b: Uint8Array, from: number, to: number): unknown }, k: number): void {
    out.literal(this.#arena, this.#starts[k]!, this.#end(k));
  }

  /** Feeds string k's bytes to a fingerprint (or anything that takes bytes). */
  fingerprint(f: { bytes(b: Uint8Array, from: number, to: number): unknown }, k: number): void {
    f.bytes(this.#arena, this.#starts[k]!, this.#end(k));
  }

  /**
   * The strings as a chunk of EventColumns lays them out: string r + 1 is string r here, and
   * string 0 (null) is empty — offsets[r] .. offsets[r + 1] in bytes.
   */
  layout(): { offsets: Uint32Array; bytes: Uint8Array } {
    const offsets = new Uint32Array(this.#count + 2);
    offsets.set(this.#starts.subarray(0, this.#count), 1);
    offsets[this.#count + 1] = this.#used;
    return { offsets, bytes: this.#arena.subarray(0, this.#used) };
  }

  /** Compares two numbered strings as JavaScript compares strings (UTF-16 code units). */
  compare(a: number, b: number): number {
    if (a === b) return 0;
    const x = this.name(a);
    const y = this.name(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }

  #end(k: number): number {
    return k + 1 < this.#count ? this.#starts[k + 1]! : this.#used;
  }

  #equals(k: number, bytes: Uint8Array, from: number, to: number): boolean {
    const start = this.#starts[k]!;
    if (this.#end(k) - start !== to - from) return false;
    const arena = this.#arena;
    for (let i = 0; i < to - from; i++) if (arena[start + i] !== bytes[from + i]) return false;
    return true;
  }

  #add(bytes: Uint8Array, from: number, to: number, h: number, slot: number): number {
    const k = this.#count++;
    if (k === this.#starts.length) this.#starts = grow(this.#starts, Math.max(this.#starts.length * 2, 1 << 12));
    const length = to - from;
    if (this.#used + length > this.#arena.length) {
      // A snapshot's arena is shared memory (a second thread may read it): it stays shared.
      const size = Math.max(this.#arena.length * 2, this.#used + length);
      const next = isShared(this.#arena) ? sharedBytes(size) : Buffer.allocUnsafe(size);
      this.#arena.copy(next, 0, 0, this.#used);
      this.#arena = next;
    }
    // Ids are short: a loop copies them without the view object subarray() would allocate per string.
    const arena = this.#arena;
    if (length <= 64) for (let i = 0; i < length; i++) arena[this.#used + i] = bytes[from + i]!;
    else arena.set(bytes.subarray(from, to), this.#used);
    this.#starts[k] = this.#used;
    this.#used += length;
    this.#table[2 * slot] = k + 1;
    this.#table[2 * slot + 1] = h;
    if (this.#count * 2 > this.#slots()) this.#rehash(this.#slots() * 2);
    return k;
  }

  #slots(): number {
    return this.#table.length >>> 1;
  }

  #rehash(slots: number): void {
    const old = this.#table;
    const table = alike(old, 2 * slots);
    const mask = slots - 1;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] === 0) continue;
      let slot = old[i + 1]! & mask;
      while (table[2 * slot] !== 0) slot = (slot + 1) & mask;
      table[2 * slot] = old[i]!;
      table[2 * slot + 1] = old[i + 1]!;
    }
    this.#table = table;
  }
}

function grow(a: Int32Array, size: number): Int32Array {
  const next = alike(a, size);
  next.set(a);
  return next;
}

/** FNV-1a over the bytes, then murmur3's finaliser so the low bits (the table's slot) are well mixed. */
function hashBytes(bytes: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
