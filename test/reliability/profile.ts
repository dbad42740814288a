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
