import { differenceInterval, rateOf, unpooledVariance } from './proportions.js';
import type { Arm, Interval, SequentialResult } from './types.js';

/** GrowthBook's default sequential tuning parameter N* (total visitors). */
export const DEFAULT_SEQUENTIAL_TUNING = 5000;

/** Error rate of the always-valid interval: it is a 95 % interval. */
const ALPHA = 0.05;

/** An estimate that is asymptotically normal: the input of the mixture SPRT. */
export interface NormalEstimate {
  /** The estimated effect θ̂ (here: difference of conversion rates). */
  estimate: number;
  /** σ̂², the estimated variance of `estimate` (not of one observation). */
  variance: number;
  /** Observations behind the estimate, all arms together. */
  n: number;
}

/**
 * ρ² of Waudby-Smith et al., "Time-uniform central limit theory and asymptotic confidence
 * sequences" (2023), eq. 161, as GrowthBook uses it: the mixing variance per unit of
 * per-observation variance that makes the 1 − α confidence sequence tightest after `tuning`
 * observations: `ρ² = (−2 ln α + ln(1 − 2 ln α)) / N*`.
 */
export function sequentialRho2(tuning: number): number {
  const twoLogInvAlpha = -2 * Math.log(ALPHA);
  return (twoLogInvAlpha + Math.log1p(twoLogInvAlpha)) / tuning;
}

/**
 * Always-valid p-value and 95 % interval for θ from a normal estimate, by the mixture sequential
 * probability ratio test (mSPRT) of Johari, Pekelis & Walsh, "Always Valid Inference: Continuous
 * Monitoring of A/B Tests" (Operations Research, 2022; arXiv:1512.04922), the method of
 * Optimizely's Stats Engine.
 *
 * Likelihood ratio of θ̂ ~ N(θ, σ̂²) against H₀: θ = θ₀, mixed over θ ~ N(θ₀, τ²):
 *
 *   Λ(θ₀) = sqrt(σ̂² / (σ̂² + τ²)) · exp(τ² (θ̂ − θ₀)² / (2 σ̂² (σ̂² + τ²)))
 *
 * (for equal arms of n visitors, σ̂² = V/n and this is their two-stream Bernoulli formula
 * `sqrt(V/(V + nτ²)) · exp(n²τ²θ̂² / (2V(V + nτ²)))`). p = min(1, 1/Λ(0)); the interval is
 * `{θ₀ : Λ(θ₀) < 1/α}`, so p < 0.05 exactly when it excludes 0.
 *
 * Mixing variance: τ² = ρ² · n · σ̂², with ρ² from {@link sequentialRho2} — the mixture is on the
 * effect measured in per-visitor standard deviations, so one N* suits any base rate. With this τ²
 * the interval is exactly GrowthBook's sequential interval (Waudby-Smith et al. eq. 9, as cited in
 * GrowthBook's gbstats) and 1/Λ(0) the matching e-value; n · σ̂² converges to a constant, so τ²
 * does too. The normal approximation is what makes this asymptotically, not exactly, valid.
 *
 * @returns nulls when σ̂² or n is not positive: nothing to mix over.
 */
export function mixtureSprt(input: NormalEstimate, tuning: number = DEFAULT_SEQUENTIAL_TUNING): SequentialResult {
  const { estimate, variance, n } = input;
  if (!(variance > 0) || !(n > 0)) return { pValue: null, ci95: null };
  // τ²/σ̂² = nρ²: every term below is written with it, so σ̂² cancels where it can.
  const mix = n * sequentialRho2(tuning);
  const logLambda = (mix * estimate ** 2) / (2 * variance * (1 + mix)) - 0.5 * Math.log1p(mix);
  const pValue = Math.min(1, Math.exp(-logLambda));
  const halfWidth = Math.sqrt(((variance * (1 + mix)) / mix) * (-2 * Math.log(ALPHA) + Math.log1p(mix)));
  const ci95: Interval = [estimate - halfWidth, estimate + halfWidth];
  return { pValue, ci95 };
}

/**
 * Always-valid comparison of two conversion rates: {@link mixtureSprt} on
 * `θ̂ = rate(variation) − rate(control)` with the unpooled variance and n = all visitors.
 * @returns nulls whenever the fixed-horizon interval is null (an arm without visitors, or a
 *   standard error of 0).
 */
export function sequentialDifference(control: Arm, variation: Arm, tuning: number = DEFAULT_SEQUENTIAL_TUNING): SequentialResult {
  if (differenceInterval(control, variation) === null) return { pValue: null, ci95: null };
  return mixtureSprt({
    estimate: rateOf(variation) - rateOf(control),
    variance: unpooledVariance(control, variation),
    n: control.visitors + variation.visitors,
  }, tuning);
}
