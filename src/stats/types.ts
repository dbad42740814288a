/**
 * Shapes of the statistics answer (spec/attribution.md "Answers" and §Stats).
 *
 * Every figure is a finite number or `null`, never NaN or ±Infinity, so an answer survives
 * JSON.stringify unchanged. `null` means "the data cannot give this figure" (say, a relative lift
 * against a control that converted nobody), and each field says when that happens.
 */

/** What one arm of a test needs for a comparison of conversion rates. */
export interface Arm {
  /** Distinct visitors who saw the variation: a non-negative integer. */
  visitors: number;
  /** Distinct visitors with at least one attributed conversion: an integer in [0, visitors]. */
  converters: number;
}

/** One variation's counts over the requested range, as attribution produced them. */
export interface VariationCounts extends Arm {
  key: string;
  /** Attributed conversions (a converter may convert several times): a non-negative integer. */
  conversions: number;
  /** Sum of the attributed conversions' values, in the goal's currency. */
  value: number;
}

/** Input of `variationResults`. */
export interface ResultsInput {
  /** Key of the control variation; must be one of `variations`. */
  control: string;
  /**
   * Configured traffic weight per variation key, in any unit (they are normalised). Must name
   * exactly the keys of `variations`, each with a finite weight ≥ 0, not all 0.
   */
  weights: Readonly<Record<string, number>>;
  variations: readonly VariationCounts[];
}

/** Tuning of `variationResults`; every field has a default. */
export interface StatsOptions {
  /**
   * Sequential-testing tuning parameter N*: the total visitors (control + variation) at which the
   * always-valid interval is tightest, i.e. where decisions are usually taken. It fixes the mSPRT
   * mixing variance (see sequential.ts). GrowthBook's default and ours: 5000. Keep it fixed for
   * the life of a test, or the always-valid guarantee is lost.
   */
  sequentialTuning?: number;
}

/** A two-sided interval `[lo, hi]`. */
export type Interval = [number, number];

/** Lift of a variation's conversion rate over the control's. */
export interface Lift {
  /** `rate(variation) − rate(control)`; null when either arm has no visitors. */
  absolute: number | null;
  /** `absolute / rate(control)`; null when either arm has no visitors or the control rate is 0. */
  relative: number | null;
  /**
   * 95 % Wald interval of `absolute`, unpooled standard error. Null when either arm has no
   * visitors, or when the standard error is 0 (every visitor of each arm converted, or none did):
   * then the data carry no measure of spread and a zero-width interval would claim certainty.
   */
  ci95: Interval | null;
}

/** Always-valid figures: they stay valid however often, and whenever, the results are looked at. */
export interface SequentialResult {
  /**
   * `min(1, 1/Λ)` for the data as they are now (mSPRT, normal mixture). Taking the running
   * minimum across looks is the caller's business. Null in the same cases as `lift.ci95`.
   */
  pValue: number | null;
  /** Always-valid 95 % interval of the absolute lift; null in the same cases as `lift.ci95`. */
  ci95: Interval | null;
}

/** One entry of the answer's `variations`; the comparison fields are absent on the control. */
export interface VariationResult {
  key: string;
  visitors: number;
  converters: number;
  conversions: number;
  /** `converters / visitors`; 0 when there are no visitors. */
  conversionRate: number;
  value: number;
  /** `value / visitors`; 0 when there are no visitors. */
  valuePerVisitor: number;
  lift?: Lift;
  /**
   * Two-sided pooled two-proportion z-test against the control. Null when either arm has no
   * visitors, or when both arms converted nobody (or everybody): the pooled standard error is
   * then 0 and the z statistic 0/0.
   */
  pValue?: number | null;
  /**
   * `P(p_variation > p_control)` with independent `Beta(1 + converters, 1 + visitors − converters)`
   * posteriors, computed exactly. Always defined: an arm without visitors keeps the uniform prior.
   */
  chanceToBeatControl?: number;
  sequential?: SequentialResult;
}

/** Sample-ratio-mismatch check of one optimization. */
export interface SrmResult {
  /**
   * Chi-square goodness-of-fit p-value of visitors against the weights (df = arms with a positive
   * weight − 1). Null when there are no visitors or fewer than two arms with a positive weight.
   * 0 when an arm weighted 0 has visitors.
   */
  pValue: number | null;
  /** `pValue < 0.001` (`SRM_THRESHOLD`). */
  flagged: boolean;
}

/** Output of `variationResults`: the statistics part of the `results` answer. */
export interface VariationResults {
  /** In the order of the input. */
  variations: VariationResult[];
  srm: SrmResult;
}
