import { Interner } from '../core/interner.js';
import type { EventColumns } from '../store/index.js';

/**
 * A few ids (visitors, sessions, users) to find among a workspace's events, matched against each
 * chunk's strings by their bytes: finding one visitor's events reads the columns once and makes
 * an object only for the rows that match, instead of loading the whole workspace.
 */
export class IdSet {
  readonly #ids = new Interner();

  constructor(ids: Iterable<string> = []) {
    for (const id of ids) this.add(id);
  }

  add(id: string): void {
    this.#ids.intern(id);
  }

  get size(): number {
    return this.#ids.size;
  }

  /** For one chunk: whether its string reference r is one of the ids (each reference looked up once). */
  matcher(c: EventColumns): (r: number) => boolean {
    const known = new Uint8Array(c.offsets.length - 1); // 0: not looked up yet, 1: one of the ids, 2: not
    return (r) => {
      if (r === 0) return false;
      let k = known[r]!;
      if (k === 0) k = known[r] = this.#ids.findBytes(c.bytes, c.offsets[r]!, c.offsets[r + 1]!) >= 0 ? 1 : 2;
      return k === 1;
    };
  }
}
