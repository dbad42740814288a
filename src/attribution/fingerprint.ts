import type { Outcome } from './engine.js';

/**
 * A 53-bit hash fed field by field (the mixing of cyrb53, by bryc, public domain), so that a run
 * compares each new outcome with the stored one by a number, without serialising either: two
 * different outcomes share a fingerprint with a chance of about 2^-53.
 */
export class Fingerprint {
  #h1 = 0;
  #h2 = 0;

  constructor() {
    this.reset();
  }

  reset(): this {
    this.#h1 = 0xdeadbeef;
    this.#h2 = 0x41c6ce57;
    return this;
  }

  #mix(x: number): void {
    this.#h1 = Math.imul(this.#h1 ^ x, 2654435761);
    this.#h2 = Math.imul(this.#h2 ^ x, 1597334677);
  }

  /** A string, or null (told apart from "" and from "null"): its UTF-8 bytes, as bytes() takes them. */
  str(s: string | null): this {
    if (s === null) {
      this.#mix(0x1_0000);
      return this;
    }
    let ascii = true;
    for (let i = 0; i < s.length && ascii; i++) ascii = s.charCodeAt(i) < 0x80;
    if (!ascii) {
      const b = Buffer.from(s, 'utf8');
      return this.bytes(b, 0, b.length);
    }
    // #mix inlined on locals: a run fingerprints a million outcomes, byte by byte.
    let h1 = this.#h1;
    let h2 = this.#h2;
    for (let i = 0; i < s.length; i++) {
      const x = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ x, 2654435761);
      h2 = Math.imul(h2 ^ x, 1597334677);
    }
    this.#h1 = h1;
    this.#h2 = h2;
    this.#mix(0x1_0001);
    return this;
  }

  /** A string given as its UTF-8 bytes[from, to): the same as str() of the decoded string. */
  bytes(b: Uint8Array, from: number, to: number): this {
    let h1 = this.#h1;
    let h2 = this.#h2;
    for (let i = from; i < to; i++) {
      const x = b[i]!;
      h1 = Math.imul(h1 ^ x, 2654435761);
      h2 = Math.imul(h2 ^ x, 1597334677);
    }
    this.#h1 = h1;
    this.#h2 = h2;
    this.#mix(0x1_0001);
    return this;
  }

  /** A number (integers up to 2^53 and fractions alike), or null. */
  num(n: number | null): this {
    if (n === null) {
      this.#mix(0x1_0002);
      return this;
    }
    this.#mix(n | 0);
    this.#mix(Math.floor(n / 4294967296) | 0);
    this.#mix(Number.isInteger(n) ? 0 : Math.round((n % 1) * 1e9));
    return this;
  }

  value(): number {
    let h1 = Math.imul(this.#h1 ^ (this.#h1 >>> 16), 2246822507);
    h1 ^= Math.imul(this.#h2 ^ (this.#h2 >>> 13), 3266489909);
    let h2 = Math.imul(this.#h2 ^ (this.#h2 >>> 16), 2246822507);
    h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return 4294967296 * (2097151 & h2) + (h1 >>> 0);
  }
}

const shared = new Fingerprint();

/** The fingerprint of everything a stored outcome holds (the outcome's fields as the store keeps them, outcome-codec.ts). */
export function outcomeFingerprint(o: Outcome): number {
  const f = shared.reset().str(o.outcome).num(o.goalId);
  if (o.outcome === 'attributed') {
    f.num(o.attributions.length);
    for (const a of o.attributions) f.str(a.optimization).str(a.variation).num(a.viewedAt).str(a.visitorId);
  } else {
    f.str(o.reason);
    const d = o.deciding;
    if (d === null) f.str(null);
    else f.str(d.optimization).str(d.variation).num(d.viewedAt).str(d.visitorId).num(d.sessionStart).num(d.sessionEnd);
  }
  f.num(o.visitors.length);
  for (const v of o.visitors) f.str(v);
  return f.value();
}
