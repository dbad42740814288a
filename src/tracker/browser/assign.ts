/**
 * Variation assignment: the same function as the server's (src/assignment), proven equal by the
 * shared vectors in test/tracker/assignment-vectors.json. Kept free of browser globals so the
 * vectors can run against it in Node too.
 */

export interface WeightedVariation {
  key: string;
  weight: number;
}

/** FNV-1a (32 bit) of the UTF-8 bytes, then MurmurHash3's finaliser so every bit depends on every input bit. */
export function hash(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The variation of `optimization` that `visitorId` sees: its hash as a point in [0, total weight). */
export function assign(visitorId: string, optimization: string, variations: WeightedVariation[]): string | undefined {
  let total = 0;
  for (const v of variations) total += v.weight;
  let point = (hash(`${optimization}:${visitorId}`) / 4294967296) * total;
  for (const v of variations) {
    point -= v.weight;
    if (point < 0) return v.key;
  }
  // Reached only when rounding left the point at the very top: the last variation holds it.
  return variations[variations.length - 1]?.key;
}
