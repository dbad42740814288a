/**
 * The reliability suite runs in two profiles: `ci` (part of `npm test`, minutes) and `full`
 * (`npm run test:reliability`, on demand). Each test picks its sizes with `sized(ci, full)`.
 */
export type Profile = 'ci' | 'full';

export const PROFILE: Profile = process.env.CLOSELOOP_RELIABILITY === 'full' ? 'full' : 'ci';

/** The CI figure or the full one, by profile. */
export function sized<T>(ci: T, full: T): T {
  return PROFILE === 'full' ? full : ci;
}

/** Prints a measured figure of the suite (the note's table is built from these lines). */
export function figure(test: string, text: string): void {
  process.stdout.write(`# reliability[${PROFILE}] ${test}: ${text}\n`);
}

/** A pseudo-random generator with a fixed seed (mulberry32): the same requests every run. */
export function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
