import { REF, type EventColumns } from './event-columns.js';

/**
 * A Bloom filter of the ids a segment's events carry (visitor, session and user ids), so that a
 * reader looking for a few ids (a journey, a dry-run preview) skips the segments that hold none
 * of them: without it, finding one visitor among ten million views decoded every segment twice
 * (1.4 s); with it, a few. A filter may say yes for a segment without the ids (about 1 in 100
 * per id at 10 bits an id), never no for one with them.
 *
 * Layout: a byte for the format, one for the number of probes, one for log2 of the number of
 * bits, one unused, then the bits. Probe i of an id sets bit (h1 + i·h2) mod bits, with h1 and h2
 * two 32-bit hashes of its UTF-8 bytes.
 */
const FORMAT = 1;
const PROBES = 7;
const BITS_PER_ID = 10;
const HEADER = 4;
const FIELDS = [REF.visitorId, REF.sessionId, REF.userId];

/** An id's two hashes, computed once for every filter it is checked against. */
export interface IdProbe { h1: number; h2: number }

function hashes(bytes: Uint8Array, from: number, to: number): IdProbe {
  // FNV-1a, then murmur3's finaliser; the second hash from other constants, odd so that every bit is reachable.
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = from; i < to; i++) {
    a = Math.imul(a ^ bytes[i]!, 0x01000193);
    b = Math.imul(b ^ bytes[i]!, 0x5bd1e995);
  }
  a ^= a >>> 16; a = Math.imul(a, 0x85ebca6b); a ^= a >>> 13; a = Math.imul(a, 0xc2b2ae35); a ^= a >>> 16;
  b ^= b >>> 15; b = Math.imul(b, 0x2c1b3c6d); b ^= b >>> 12; b = Math.imul(b, 0x297a2d39); b ^= b >>> 15;
  return { h1: a >>> 0, h2: (b | 1) >>> 0 };
}

export function idProbes(ids: Iterable<string>): IdProbe[] {
  return [...ids].map((id) => {
    const b = Buffer.from(id, 'utf8');
    return hashes(b, 0, b.length);
  });
}

/** The filter of a chunk's visitor, session and user ids. */
export function idFilter(c: EventColumns): Uint8Array {
  const { n, refs, offsets, bytes } = c;
  const seen = new Uint8Array(offsets.length - 1);
  let distinct = 0;
  for (const f of FIELDS) {
    for (let i = 0; i < n; i++) {
      const r = refs[f * n + i]!;
      if (r !== 0 && seen[r] === 0) {
        seen[r] = 1;
        distinct++;
      }
    }
  }
  let log2 = 6;
  while (log2 < 31 && 2 ** log2 < distinct * BITS_PER_ID) log2++;
  const filter = new Uint8Array(HEADER + (2 ** log2 >>> 3));
  filter[0] = FORMAT;
  filter[1] = PROBES;
  filter[2] = log2;
  const mask = 2 ** log2 - 1;
  for (let r = 1; r < seen.length; r++) {
    if (seen[r] === 0) continue;
    const { h1, h2 } = hashes(bytes, offsets[r]!, offsets[r + 1]!);
    for (let p = 0; p < PROBES; p++) {
      const bit = (h1 + Math.imul(p, h2)) & mask;
      filter[HEADER + (bit >>> 3)]! |= 1 << (bit & 7);
    }
  }
  return filter;
}

/** Whether a segment with this filter may hold one of the ids (true for a filter of an unknown format). */
export function mayHold(filter: Uint8Array, probes: readonly IdProbe[]): boolean {
  if (filter.length < HEADER || filter[0] !== FORMAT) return true;
  const k = filter[1]!;
  const mask = 2 ** filter[2]! - 1;
  if (filter.length !== HEADER + ((mask + 1) >>> 3)) return true;
  for (const { h1, h2 } of probes) {
    let all = true;
    for (let p = 0; p < k && all; p++) {
      const bit = (h1 + Math.imul(p, h2)) & mask;
      all = (filter[HEADER + (bit >>> 3)]! & (1 << (bit & 7))) !== 0;
    }
    if (all) return true;
  }
  return false;
}
