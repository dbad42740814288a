import { chanceToBeat } from './chance-to-beat.js';
import { differenceInterval, pooledZTestPValue, ratio, rateOf } from './proportions.js';
import { DEFAULT_SEQUENTIAL_TUNING, sequentialDifference } from './sequential.js';
import { sampleRatioMismatch } from './srm.js';
import type { ResultsInput, StatsOptions, VariationCounts, VariationResult, VariationResults } from './types.js';

/**
 * The figures of the `results` answer for one optimization and goal (spec/attribution.md
 * "Answers", §Stats): each variation's counts and rates, each non-control variation compared
 * with the control, and the SRM check of the whole split.
 *
 * Pure: the same input always gives the same output, and nothing is read from outside.
 * @throws RangeError when the input breaks its contract (see {@link ResultsInput} and
 *   {@link VariationCounts}): such input is a bug upstream, not data to report on.
 */
export function variationResults(input: ResultsInput, options: StatsOptions = {}): VariationResults {
  const tuning = options.sequentialTuning ?? DEFAULT_SEQUENTIAL_TUNING;
  checkInput(input, tuning);
  const control = input.variations.find((v) => v.key === input.control) as VariationCounts;
  const variations = input.variations.map((v) => (v === control ? summary(v) : compared(control, v, tuning)));
  const srm = sampleRatioMismatch(input.variations.map((v) => ({ visitors: v.visitors, weight: input.weights[v.key] ?? 0 })));
  return { variations, srm };
}

function summary(v: VariationCounts): VariationResult {
  return {
    key: v.key,
    visitors: v.visitors,
    converters: v.converters,
    conversions: v.conversions,
    conversionRate: rateOf(v),
    value: v.value,
    valuePerVisitor: ratio(v.value, v.visitors),
  };
}

function compared(control: VariationCounts, v: VariationCounts, tuning: number): VariationResult {
  const bothSeen = control.visitors > 0 && v.visitors > 0;
  const absolute = bothSeen ? rateOf(v) - rateOf(control) : null;
  const controlRate = rateOf(control);
  return {
    ...summary(v),
    lift: {
      absolute,
      relative: absolute !== null && controlRate > 0 ? absolute / controlRate : null,
      ci95: differenceInterval(control, v),
    },
    pValue: pooledZTestPValue(control, v),
    chanceToBeatControl: chanceToBeat(control, v),
    sequential: sequentialDifference(control, v, tuning),
  };
}

function checkInput(input: ResultsInput, tuning: number): void {
  if (!(Number.isFinite(tuning) && tuning > 0)) throw new RangeError(`sequentialTuning must be a positive number, got ${tuning}.`);
  const keys = new Set<string>();
  for (const v of input.variations) {
    if (keys.has(v.key)) throw new RangeError(`Variation "${v.key}" is listed twice.`);
    keys.add(v.key);
    for (const field of ['visitors', 'converters', 'conversions'] as const) {
      if (!Number.isSafeInteger(v[field]) || v[field] < 0) {
        throw new RangeError(`${field} of variation "${v.key}" must be a non-negative integer, got ${v[field]}.`);
      }
    }
    if (v.converters > v.visitors) {
      throw new RangeError(`Variation "${v.key}" has more converters (${v.converters}) than visitors (${v.visitors}).`);
    }
    if (!Number.isFinite(v.value)) throw new RangeError(`value of variation "${v.key}" must be a finite number, got ${v.value}.`);
  }
  if (!keys.has(input.control)) throw new RangeError(`The control "${input.control}" is not among the variations.`);
  const weighted = Object.keys(input.weights);
  const unknown = weighted.filter((key) => !keys.has(key));
  const missing = [...keys].filter((key) => !Object.hasOwn(input.weights, key));
  if (unknown.length > 0 || missing.length > 0) {
    throw new RangeError(`weights must name exactly the variations; unknown: [${unknown.join(', ')}], missing: [${missing.join(', ')}].`);
  }
  const values = weighted.map((key) => input.weights[key] as number);
  if (values.some((w) => !(Number.isFinite(w) && w >= 0)) || !values.some((w) => w > 0)) {
    throw new RangeError(`weights must be finite and ≥ 0, not all 0; got ${JSON.stringify(input.weights)}.`);
  }
}
