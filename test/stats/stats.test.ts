import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  differenceInterval, pooledZTestPValue, variationResults, type ResultsInput, type VariationCounts, type VariationResults,
} from '../../src/stats/index.js';
import { assertClose, assertJsonSafe } from './close.js';

/*
 * Reference values: `python3 test/stats/reference-values.py` (scipy 1.17.1, mpmath 1.3.0), which
 * shares no code with src/stats. Per figure, with nc, xc, nv, xv the visitors and converters of
 * control and variation, pc = xc/nc, pv = xv/nv:
 *   absolute, relative   pv − pc, (pv − pc)/pc in Python floats
 *   lift.ci95            d ± norm.ppf(0.975)·sqrt(pc(1−pc)/nc + pv(1−pv)/nv)
 *   pValue               scipy.stats.chi2_contingency([[xc, nc−xc], [xv, nv−xv]], correction=False)[1]
 *                        (Pearson's chi-square on the 2×2 table; its p-value is the pooled z-test's)
 *   chanceToBeatControl  scipy.integrate.quad of beta.pdf(x, 1+xc, 1+nc−xc)·betaincc(1+xv, 1+nv−xv, x)
 *   sequential.pValue    min(1, 1/Λ(0)), Λ the normal-mixture likelihood ratio in mpmath (50 digits)
 *   sequential.ci95      both roots of log Λ(θ₀) = log 20, mpmath.findroot (illinois, bracketed)
 *   srm.pValue           scipy.stats.chisquare(visitors, total·weight/Σweights).pvalue
 * The script prints them under the case names used below.
 */

const arm = (key: string, visitors: number, converters: number, extra: Partial<VariationCounts> = {}): VariationCounts =>
  ({ key, visitors, converters, conversions: converters, value: 0, ...extra });

const twoArms = (control: VariationCounts, variation: VariationCounts): ResultsInput =>
  ({ control: control.key, weights: { [control.key]: 1, [variation.key]: 1 }, variations: [control, variation] });

const variationOf = (results: VariationResults, key: string) => {
  const found = results.variations.find((v) => v.key === key);
  assert.ok(found, `no variation ${key}`);
  return found;
};

describe('variationResults', () => {
  it('matches reference values for a two-arm test (the counts of Evan Miller\'s notebook example)', () => {
    const results = variationResults(twoArms(
      arm('control', 219, 20, { conversions: 25, value: 100 }),
      arm('bold', 229, 30, { conversions: 31, value: 50 }),
    ));
    assertClose(results, {
      variations: [
        // Rates: exact quotients, 20/219, 100/219.
        { key: 'control', visitors: 219, converters: 20, conversions: 25, conversionRate: 20 / 219, value: 100, valuePerVisitor: 100 / 219 },
        {
          key: 'bold', visitors: 229, converters: 30, conversions: 31, conversionRate: 30 / 229, value: 50, valuePerVisitor: 50 / 229,
          // reference-values.py "miller"
          lift: { absolute: 0.03968016589898507, relative: 0.43449781659388653, ci95: [-0.018331139382601655, 0.0976914711805718] },
          pValue: 0.1824355212956108,
          chanceToBeatControl: 0.9067042451992664,
          sequential: { pValue: 0.9004229570392567, ci95: [-0.07763393959189753, 0.15699427138986766] },
        },
      ],
      // reference-values.py "millerSrm": chisquare([219, 229], [224, 224])
      srm: { pValue: 0.6366016325636008, flagged: false },
    });
  });

  it('compares every variation with the control in a three-arm test split 40/30/30', () => {
    const results = variationResults({
      control: 'control',
      weights: { control: 40, bold: 30, calm: 30 },
      variations: [arm('control', 12000, 600), arm('bold', 9000, 513), arm('calm', 9100, 430)],
    });
    assert.deepEqual(results.variations.map((v) => v.key), ['control', 'bold', 'calm']);
    // reference-values.py "threeBold", "threeCalm", "threeSrm"
    assertClose(variationOf(results, 'bold'), {
      key: 'bold', visitors: 9000, converters: 513, conversions: 513, conversionRate: 0.057, value: 0, valuePerVisitor: 0,
      lift: { absolute: 0.006999999999999999, relative: 0.13999999999999999, ci95: [0.0008235732772063258, 0.013176426722793674] },
      pValue: 0.025044299520963684,
      chanceToBeatControl: 0.9874231221373584,
      sequential: { pValue: 0.5340808832823969, ci95: [-0.0028718475856501415, 0.016871847585650142] },
    });
    assertClose(variationOf(results, 'calm'), {
      key: 'calm', visitors: 9100, converters: 430, conversions: 430, conversionRate: 430 / 9100, value: 0, valuePerVisitor: 0,
      lift: { absolute: -0.0027472527472527514, relative: -0.05494505494505503, ci95: [-0.008596219373687142, 0.0031017138791816405] },
      pValue: 0.35904358001076864,
      chanceToBeatControl: 0.18074418090736855,
      sequential: { pValue: 1, ci95: [-0.012097334648528, 0.006602829154022506] },
    });
    assertClose(results.srm, { pValue: 0.6786858669306721, flagged: false });
  });

  it('reports a clear winner as significant both at a fixed horizon and sequentially', () => {
    const results = variationResults(twoArms(arm('control', 20000, 1000), arm('bold', 20000, 1150)));
    // reference-values.py "strong"
    assertClose(variationOf(results, 'bold'), {
      key: 'bold', visitors: 20000, converters: 1150, conversions: 1150, conversionRate: 0.0575, value: 0, valuePerVisitor: 0,
      lift: { absolute: 0.0075, relative: 0.15, ci95: [0.0030804278886584317, 0.011919572111341568] },
      pValue: 0.0008823069556051161,
      chanceToBeatControl: 0.9995595232244516,
      sequential: { pValue: 0.0346556987443786, ci95: [0.00025682447517417725, 0.014743175524825822] },
    });
  });

  it('stays exact with 1 000 000 visitors per arm', () => {
    // reference-values.py "large2" and "large50"
    assertClose(variationOf(variationResults(twoArms(arm('control', 1_000_000, 20_000), arm('bold', 1_000_000, 20_400))), 'bold'), {
      key: 'bold', visitors: 1_000_000, converters: 20_400, conversions: 20_400, conversionRate: 0.0204, value: 0, valuePerVisitor: 0,
      lift: { absolute: 0.00040000000000000105, relative: 0.020000000000000052, ci95: [1.0051681212825151e-05, 0.000789948318787177] },
      pValue: 0.04438000264303206,
      chanceToBeatControl: 0.9778093487489466,
      sequential: { pValue: 1, ci95: [-0.0003459981085431798, 0.0011459981085431797] },
    });
    assertClose(variationOf(variationResults(twoArms(arm('control', 1_000_000, 500_000), arm('bold', 1_000_000, 499_000))), 'bold'), {
      key: 'bold', visitors: 1_000_000, converters: 499_000, conversions: 499_000, conversionRate: 0.499, value: 0, valuePerVisitor: 0,
      lift: { absolute: -0.0010000000000000009, relative: -0.0020000000000000018, ci95: [-0.0023859024384451618, 0.00038590243844515977] },
      pValue: 0.15729899949648024,
      chanceToBeatControl: 0.0786495948425376,
      sequential: { pValue: 1, ci95: [-0.003651327234647566, 0.0016513272346475659] },
    });
  });

  it('matches a published chi-square example: 10/56 000 against 21/78 000, p = 0.2818', () => {
    // Published: https://imathworks.com/cv/solved-chi-square-independence-test-for-a-b-split-testing
    // ("Chi-square = 1.158368, df = 1, p-value = 0.2818"); the pooled z-test's z² is that χ².
    const bold = variationOf(variationResults(twoArms(arm('control', 56_000, 10), arm('bold', 78_000, 21))), 'bold');
    assert.ok(Math.abs((bold.pValue ?? NaN) - 0.2818) < 5e-5, 'published value, 4 decimals');
    // reference-values.py "ctrPublished"
    assertClose(bold.pValue, 0.2818042715371676);
    assertClose(bold.lift, { absolute: 9.065934065934065e-05, relative: 0.5076923076923077, ci95: [-6.903807879403607e-05, 0.00025035676011271737] });
  });

  it('compares a variation with a control that converted everybody', () => {
    // reference-values.py "allConvert": control 100/100, variation 90/100
    assertClose(variationOf(variationResults(twoArms(arm('control', 100, 100), arm('bold', 100, 90))), 'bold'), {
      key: 'bold', visitors: 100, converters: 90, conversions: 90, conversionRate: 0.9, value: 0, valuePerVisitor: 0,
      lift: { absolute: -0.09999999999999998, relative: -0.09999999999999998, ci95: [-0.1587989195362016, -0.04120108046379836] },
      pValue: 0.0011768659106247386,
      chanceToBeatControl: 0.00036633327855499845,
      sequential: { pValue: 0.30095477614840993, ci95: [-0.25299879909692335, 0.05299879909692333] },
    });
  });

  it('gives no relative lift when the control converted nobody, and every other figure', () => {
    // reference-values.py "controlZero": control 0/100, variation 5/100
    assertClose(variationOf(variationResults(twoArms(arm('control', 100, 0), arm('bold', 100, 5))), 'bold'), {
      key: 'bold', visitors: 100, converters: 5, conversions: 5, conversionRate: 0.05, value: 0, valuePerVisitor: 0,
      lift: { absolute: 0.05, relative: null, ci95: [0.007283575292052952, 0.09271642470794705] },
      pValue: 0.023540058261177957,
      chanceToBeatControl: 0.9855234959554194,
      sequential: { pValue: 0.6088116091687521, ci95: [-0.06115105062442848, 0.16115105062442847] },
    });
  });

  it('gives rates of 0 and null comparisons when nobody visited at all', () => {
    const results = variationResults(twoArms(arm('control', 0, 0), arm('bold', 0, 0)));
    assert.deepEqual(results, {
      variations: [
        { key: 'control', visitors: 0, converters: 0, conversions: 0, conversionRate: 0, value: 0, valuePerVisitor: 0 },
        {
          key: 'bold', visitors: 0, converters: 0, conversions: 0, conversionRate: 0, value: 0, valuePerVisitor: 0,
          lift: { absolute: null, relative: null, ci95: null },
          pValue: null,
          // Two uniform priors: P(U₂ > U₁) = 1/2 by symmetry.
          chanceToBeatControl: 0.5,
          sequential: { pValue: null, ci95: null },
        },
      ],
      srm: { pValue: null, flagged: false },
    });
  });

  it('compares nothing but the posterior when the control has no visitors', () => {
    const results = variationResults(twoArms(arm('control', 0, 0), arm('bold', 100, 10, { value: 250 })));
    const bold = variationOf(results, 'bold');
    assert.deepEqual({ ...bold, chanceToBeatControl: undefined }, {
      key: 'bold', visitors: 100, converters: 10, conversions: 10, conversionRate: 0.1, value: 250, valuePerVisitor: 2.5,
      lift: { absolute: null, relative: null, ci95: null },
      pValue: null,
      chanceToBeatControl: undefined,
      sequential: { pValue: null, ci95: null },
    });
    // Against a uniform p_c, P(p_v > p_c) = E[p_v] = (1 + 10)/(2 + 100) = 11/102 (exact).
    assertClose(bold.chanceToBeatControl, 11 / 102, 1e-12);
    // All 100 visitors in one of two equal arms: chi-square 100 on 1 df (scipy.stats.chisquare([0, 100]).pvalue
    // = 1.5239706048320995e-23), flagged.
    assertClose(results.srm, { pValue: 1.5239706048320995e-23, flagged: true });
  });

  it('gives null comparisons when a variation has no visitors', () => {
    const bold = variationOf(variationResults(twoArms(arm('control', 100, 10), arm('bold', 0, 0))), 'bold');
    assert.deepEqual(bold.lift, { absolute: null, relative: null, ci95: null });
    assert.equal(bold.pValue, null);
    assert.deepEqual(bold.sequential, { pValue: null, ci95: null });
    // P(U > p_c) = 1 − E[p_c] = 1 − 11/102 = 91/102 (exact).
    assertClose(bold.chanceToBeatControl, 91 / 102, 1e-12);
  });

  it('gives null tests, not a false certainty, when neither arm converted anybody', () => {
    const bold = variationOf(variationResults(twoArms(arm('control', 100, 0), arm('bold', 200, 0))), 'bold');
    assert.deepEqual({ ...bold, chanceToBeatControl: undefined }, {
      key: 'bold', visitors: 200, converters: 0, conversions: 0, conversionRate: 0, value: 0, valuePerVisitor: 0,
      lift: { absolute: 0, relative: null, ci95: null },
      pValue: null,
      chanceToBeatControl: undefined,
      sequential: { pValue: null, ci95: null },
    });
    // Beta(1, b) has survival (1 − x)^b, so P(p_v > p_c) = ∫ b_c(1 − x)^(b_c − 1)(1 − x)^b_v dx
    // = b_c/(b_c + b_v) = 101/(101 + 201) (exact).
    assertClose(bold.chanceToBeatControl, 101 / 302, 1e-12);
  });

  it('gives null tests when both arms converted everybody', () => {
    const bold = variationOf(variationResults(twoArms(arm('control', 50, 50), arm('bold', 80, 80))), 'bold');
    assert.deepEqual(bold.lift, { absolute: 0, relative: 0, ci95: null });
    assert.equal(bold.pValue, null);
    assert.deepEqual(bold.sequential, { pValue: null, ci95: null });
    // Beta(a, 1) has CDF x^a, so P(p_v > p_c) = 1 − ∫ a_c x^(a_c − 1) x^a_v dx = a_v/(a_c + a_v) = 81/132 (exact).
    assertClose(bold.chanceToBeatControl, 81 / 132, 1e-12);
  });

  it('answers only with numbers and nulls that survive JSON unchanged', () => {
    const inputs = [
      twoArms(arm('control', 0, 0), arm('bold', 0, 0)),
      twoArms(arm('control', 0, 0), arm('bold', 100, 10)),
      twoArms(arm('control', 100, 0), arm('bold', 200, 0)),
      twoArms(arm('control', 50, 50), arm('bold', 80, 80)),
      twoArms(arm('control', 100, 100), arm('bold', 100, 0)),
      twoArms(arm('control', 1_000_000, 1), arm('bold', 1_000_000, 999_999)),
    ];
    for (const input of inputs) {
      const results = variationResults(input);
      assertJsonSafe(results);
      assert.deepEqual(JSON.parse(JSON.stringify(results)), results);
    }
  });

  it('flags a sample ratio mismatch', () => {
    // reference-values.py "srmPublished": chisquare([44000, 45000]) = 0.0008022781177678721
    const results = variationResults(twoArms(arm('control', 44_000, 0), arm('bold', 45_000, 0)));
    assertClose(results.srm, { pValue: 0.0008022781177678721, flagged: true });
  });

  it('uses the sequential tuning parameter it is given', () => {
    const input: ResultsInput = {
      control: 'control',
      weights: { control: 1, bold: 1 },
      variations: [arm('control', 12000, 600), arm('bold', 9000, 513)],
    };
    // reference-values.py "tuning20000"
    assertClose(variationOf(variationResults(input, { sequentialTuning: 20_000 }), 'bold').sequential,
      { pValue: 0.3375688419141932, ci95: [-0.002564618497232265, 0.016564618497232265] });
  });

  it('rejects input that breaks its contract', () => {
    const good = twoArms(arm('control', 10, 1), arm('bold', 10, 2));
    const cases: [string, ResultsInput, object?][] = [
      ['more converters than visitors', twoArms(arm('control', 10, 11), arm('bold', 10, 2))],
      ['negative visitors', twoArms(arm('control', -1, 0), arm('bold', 10, 2))],
      ['fractional converters', twoArms(arm('control', 10, 1.5), arm('bold', 10, 2))],
      ['a non-finite value', twoArms(arm('control', 10, 1, { value: NaN }), arm('bold', 10, 2))],
      ['an unknown control', { ...good, control: 'nobody' }],
      ['a variation listed twice', { ...good, variations: [arm('control', 10, 1), arm('control', 10, 1)], weights: { control: 1 } }],
      ['a missing weight', { ...good, weights: { control: 1 } }],
      ['a weight for an unknown variation', { ...good, weights: { control: 1, bold: 1, calm: 1 } }],
      ['a negative weight', { ...good, weights: { control: 1, bold: -1 } }],
      ['all weights 0', { ...good, weights: { control: 0, bold: 0 } }],
      ['a tuning parameter of 0', good, { sequentialTuning: 0 }],
    ];
    for (const [name, input, options] of cases) {
      assert.throws(() => variationResults(input, options), RangeError, name);
    }
  });
});

describe('fixed-horizon comparison', () => {
  const arms = fc.integer({ min: 0, max: 100_000 }).chain((visitors) =>
    fc.record({ visitors: fc.constant(visitors), converters: fc.integer({ min: 0, max: visitors }) }));

  it('gives the same p-value and a mirrored interval when the arms swap', () => {
    fc.assert(fc.property(arms, arms, (c, v) => {
      assert.equal(pooledZTestPValue(c, v), pooledZTestPValue(v, c));
      const ab = differenceInterval(c, v);
      const ba = differenceInterval(v, c);
      if (ab === null || ba === null) return ab === ba;
      return Math.abs(ab[0] + ba[1]) < 1e-12 && Math.abs(ab[1] + ba[0]) < 1e-12;
    }), { numRuns: 500 });
  });

  it('gives p-values in [0, 1] and intervals around the difference', () => {
    fc.assert(fc.property(arms, arms, (c, v) => {
      const p = pooledZTestPValue(c, v);
      const ci = differenceInterval(c, v);
      const d = v.converters / v.visitors - c.converters / c.visitors;
      return (p === null || (p >= 0 && p <= 1)) && (ci === null || (ci[0] < d && d < ci[1]));
    }), { numRuns: 500 });
  });
});
