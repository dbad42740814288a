import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import type { Arm, Interval } from './types.js';

/** z such that P(|Z| ≤ z) = 0.95 for a standard normal Z: 1.959963984540054. */
export const Z_95 = normalQuantile(0.975, 0, 1);

/** `numerator / denominator`, or 0 when the denominator is 0 (a rate over nobody is shown as 0). */
export function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

/**
 * 95 % Wald interval of `rate(variation) − rate(control)` with the unpooled standard error
 * `sqrt(pc(1 − pc)/nc + pv(1 − pv)/nv)`.
 * @returns null when either arm has no visitors or the standard error is 0.
 */
export function differenceInterval(control: Arm, variation: Arm): Interval | null {
  if (control.visitors === 0 || variation.visitors === 0) return null;
  const se = Math.sqrt(unpooledVariance(control, variation));
  if (se === 0) return null;
  const diff = rateOf(variation) - rateOf(control);
  return [diff - Z_95 * se, diff + Z_95 * se];
}

/**
 * Two-sided p-value of the pooled two-proportion z-test of "both arms convert at one rate"
 * (equivalently Pearson's chi-square on the 2×2 table without continuity correction).
 * @returns null when either arm has no visitors, or when the pooled rate is 0 or 1 (z is 0/0).
 */
export function pooledZTestPValue(control: Arm, variation: Arm): number | null {
  const { visitors: nc, converters: xc } = control;
  const { visitors: nv, converters: xv } = variation;
  if (nc === 0 || nv === 0) return null;
  const pooled = (xc + xv) / (nc + nv);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / nc + 1 / nv));
  if (se === 0) return null;
  const z = (xv / nv - xc / nc) / se;
  // 2·Φ(−|z|) rather than 2·(1 − Φ(|z|)): it keeps its relative precision far into the tail.
  return 2 * normalCdf(-Math.abs(z), 0, 1);
}

/**
 * Variance of the estimated difference of rates, `pc(1 − pc)/nc + pv(1 − pv)/nv`; both arms must
 * have visitors.
 */
export function unpooledVariance(control: Arm, variation: Arm): number {
  const pc = rateOf(control);
  const pv = rateOf(variation);
  return (pc * (1 - pc)) / control.visitors + (pv * (1 - pv)) / variation.visitors;
}

/** Conversion rate of an arm (0 without visitors). */
export function rateOf(arm: Arm): number {
  return ratio(arm.converters, arm.visitors);
}
