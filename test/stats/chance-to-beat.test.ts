import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { chanceToBeat, type Arm } from '../../src/stats/index.js';
import { assertClose } from './close.js';

const arm = (visitors: number, converters: number): Arm => ({ visitors, converters });

/* Reference values: see test/stats/reference-values.py and the header of stats.test.ts. */

describe('chanceToBeat', () => {
  it('matches the published value of Evan Miller\'s formula for α_A, β_A, α_B, β_B = 21, 200, 31, 200', () => {
    // Published: https://notebook.community/sharnett/AB-testing/evan_miller_formula, cell 121,
    // probability_B_beats_A_evan(21, 200, 31, 200) printed as 0.906704245199 (12 decimals).
    const p = chanceToBeat(arm(219, 20), arm(229, 30));
    assert.ok(Math.abs(p - 0.906704245199) < 5e-13, `${p}`);
  });

  it('is exact for small counts', () => {
    // reference-values.py "chanceSmallExact": Σ_{j<3} C(13, j)·B(4+j, 18−j)/B(4, 5) = 37/323 with
    // Python fractions (control 3/7, variation 2/12).
    assertClose(chanceToBeat(arm(7, 3), arm(12, 2)), 37 / 323, 1e-12);
  });

  // Each case makes a different Beta parameter the smallest, so each of the four sums is used.
  it('sums over the smallest parameter, whichever it is', () => {
    // reference-values.py, chanceToBeatControl of the named case (quadrature):
    // a_variation smallest — "large50"
    assertClose(chanceToBeat(arm(1_000_000, 500_000), arm(1_000_000, 499_000)), 0.0786495948425376);
    // b_control smallest — "highA"
    assertClose(chanceToBeat(arm(1000, 960), arm(1000, 950)), 0.14161851775056833);
    // a_control smallest — "large2"
    assertClose(chanceToBeat(arm(1_000_000, 20_000), arm(1_000_000, 20_400)), 0.9778093487489466);
    // b_variation smallest — "highB"
    assertClose(chanceToBeat(arm(1000, 950), arm(1000, 960)), 0.8583814822495961);
  });

  it('agrees with the closed forms of degenerate posteriors', () => {
    // 1e-9: at a million visitors the two log-Beta values of the first term cancel down from ~5e5.
    // A uniform control: P(p_v > U) = E[p_v] = (1 + x)/(2 + n).
    assertClose(chanceToBeat(arm(0, 0), arm(1_000_000, 123_456)), 123_457 / 1_000_002, 1e-9);
    // No converters: Beta(1, b) survival is (1 − x)^b, so P = b_c/(b_c + b_v).
    assertClose(chanceToBeat(arm(999_999, 0), arm(500_000, 0)), 1_000_000 / 1_500_001, 1e-9);
    // Everybody converted: Beta(a, 1) CDF is x^a, so P = a_v/(a_c + a_v).
    assertClose(chanceToBeat(arm(300, 300), arm(700, 700)), 701 / 1002, 1e-9);
  });

  it('returns 1/2 for identical arms', () => {
    for (const [n, x] of [[0, 0], [1, 1], [10, 3], [100_000, 2_000], [1_000_000, 500_000]] as const) {
      assertClose(chanceToBeat(arm(n, x), arm(n, x)), 0.5, 1e-9);
    }
  });

  it('gives complementary answers when the arms swap', () => {
    const arms = fc.integer({ min: 0, max: 3000 }).chain((visitors) =>
      fc.record({ visitors: fc.constant(visitors), converters: fc.integer({ min: 0, max: visitors }) }));
    fc.assert(fc.property(arms, arms, (a, b) => Math.abs(chanceToBeat(a, b) + chanceToBeat(b, a) - 1) < 1e-9), { numRuns: 300 });
  });

  it('never falls when the variation gains a converter', () => {
    const counts = fc.tuple(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 2, max: 2000 }))
      .chain(([nc, nv]) => fc.tuple(fc.constant(nc), fc.integer({ min: 0, max: nc }), fc.constant(nv), fc.integer({ min: 0, max: nv - 1 })));
    fc.assert(fc.property(counts, ([nc, xc, nv, xv]) =>
      // Not strictly: near 1 both round to 1 within the ~1e-14 absolute error of a complement.
      chanceToBeat(arm(nc, xc), arm(nv, xv + 1)) >= chanceToBeat(arm(nc, xc), arm(nv, xv)) - 1e-12), { numRuns: 1000 });
  });

  it('keeps its relative precision when the answer is tiny', () => {
    // reference-values.py "tinyChance": control 142/425, variation 349/1995; the exact fraction
    // (Python fractions, binomial form) as a float.
    assertClose(chanceToBeat(arm(425, 142), arm(1995, 349)), 7.113445845955153e-13, 1e-9);
  });

  it('stays within [0, 1] at extreme counts', () => {
    for (const [c, v] of [[arm(1_000_000, 0), arm(1_000_000, 1_000_000)], [arm(1_000_000, 1_000_000), arm(1_000_000, 0)]] as const) {
      const p = chanceToBeat(c, v);
      assert.ok(p >= 0 && p <= 1 && Number.isFinite(p), `${p}`);
    }
    assert.equal(chanceToBeat(arm(1_000_000, 0), arm(1_000_000, 1_000_000)), 1);
    assert.equal(chanceToBeat(arm(1_000_000, 1_000_000), arm(1_000_000, 0)), 0);
  });
});
