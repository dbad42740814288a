import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import type { SrmResult } from './types.js';

/** p-value below which a sample ratio mismatch is flagged (spec/attribution.md §Stats). */
export const SRM_THRESHOLD = 0.001;

/** One arm of the SRM check: who arrived, and the share of traffic it was configured to get. */
export interface SrmArm {
  visitors: number;
  /** Any non-negative unit; weights are normalised over all arms. */
  weight: number;
}

/**
 * Sample ratio mismatch: Pearson's chi-square goodness-of-fit of the visitors against the
 * configured weights, `Σ (observed − expected)² / expected` on `k − 1` degrees of freedom, where
 * k counts the arms with a positive weight.
 *
 * An arm weighted 0 takes no part unless it has visitors; then traffic reached a variation that
 * should get none, which no ratio explains: p-value 0, flagged. No visitors at all, or fewer than
 * two arms to compare, give a null p-value, not flagged.
 *
 * With two arms (df = 1) the p-value is `2Φ(−√χ²)`, exact to the last digits however small. With
 * more, it is `1 − F(χ²)`: exact to about 1e-16 absolute, far below the 0.001 flag, but a p-value
 * under ~1e-10 keeps few significant digits and one under ~1e-16 reads 0.
 */
export function sampleRatioMismatch(arms: readonly SrmArm[]): SrmResult {
  const total = arms.reduce((sum, arm) => sum + arm.visitors, 0);
  const weightSum = arms.reduce((sum, arm) => sum + arm.weight, 0);
  const weighted = arms.filter((arm) => arm.weight > 0);
  if (arms.some((arm) => arm.weight === 0 && arm.visitors > 0)) return { pValue: 0, flagged: true };
  if (total === 0 || weighted.length < 2) return { pValue: null, flagged: false };
  let statistic = 0;
  for (const arm of weighted) {
    const expected = (total * arm.weight) / weightSum;
    statistic += (arm.visitors - expected) ** 2 / expected;
  }
  const pValue = chiSquareSurvival(statistic, weighted.length - 1);
  return { pValue, flagged: pValue < SRM_THRESHOLD };
}

/** P(X > x) for X ~ χ²(df). */
function chiSquareSurvival(x: number, df: number): number {
  // χ²(1) is Z², so its tail is two normal tails, which keep their relative precision.
  if (df === 1) return 2 * normalCdf(-Math.sqrt(x), 0, 1);
  return Math.max(0, 1 - chisquareCdf(x, df));
}
