/**
 * Variation assignment on the server: the same answer the browser snippet's getVariation gives
 * (src/tracker/browser/assign.ts), proven by the shared vectors in
 * test/tracker/assignment-vectors.json. A backend that renders a page itself, or reasons about
 * which variation a visitor was shown, asks here.
 */

export interface WeightedVariation {
  key: string;
  weight: number;
}

/** FNV-1a, 32 bit, of the UTF-8 bytes of `text` (the reference algorithm, for the published vectors). */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 0x01000193);
  return h >>> 0;
}

/** FNV-1a followed by MurmurHash3's 32-bit finaliser, so every output bit depends on every input bit. */
export function assignmentHash(text: string): number {
  let h = fnv1a32(text);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Where a visitor falls in [0, 1) for an optimization: the hash of "optimization:visitorId". */
export function bucketOf(visitorId: string, optimization: string): number {
  return assignmentHash(`${optimization}:${visitorId}`) / 4294967296;
}

/**
 * The variation of `optimization` that `visitorId` (the lowercase UUID the snippet keeps in
 * ot_vid) is assigned: its bucket scaled to the total weight, walked through the variations in
 * their stored order. Deterministic: the same visitor gets the same variation while the
 * variations and weights stay the same. Undefined only for an optimization without variations.
 */
export function assignVariation(visitorId: string, optimization: { key: string; variations: readonly WeightedVariation[] }): string | undefined {
  const { variations } = optimization;
  let total = 0;
  for (const v of variations) total += v.weight;
  // The same operations in the same order as the snippet, so floating point agrees to the bit.
  let point = bucketOf(visitorId, optimization.key) * total;
  for (const v of variations) {
    point -= v.weight;
    if (point < 0) return v.key;
  }
  return variations[variations.length - 1]?.key;
}
