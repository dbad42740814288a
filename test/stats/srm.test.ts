import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleRatioMismatch, SRM_THRESHOLD } from '../../src/stats/index.js';
import { assertClose } from './close.js';

/* Reference values: scipy.stats.chisquare(observed, expected).pvalue, see reference-values.py. */

const arms = (visitors: number[], weights: number[]) => visitors.map((v, i) => ({ visitors: v, weight: weights[i] ?? 0 }));

describe('sampleRatioMismatch', () => {
  it('matches a published example: 44 000 against 45 000 at 50/50, p ≈ 0.0008, flagged', () => {
    // Published: https://srm.osc.garden ("A p-value of 0.0008 (like in our 44,000 vs 45,000 example)").
    assert.equal(SRM_THRESHOLD, 0.001);
    const result = sampleRatioMismatch(arms([44_000, 45_000], [50, 50]));
    assert.ok(result.pValue !== null && Math.abs(result.pValue - 0.0008) < 5e-5, `${result.pValue}`);
    // reference-values.py "srmPublished": chisquare([44000, 45000], [44500, 44500])
    assertClose(result, { pValue: 0.0008022781177678721, flagged: true });
  });

  it('tests an uneven three-way split against its weights', () => {
    // reference-values.py "threeSrm": chisquare([12000, 9000, 9100], [12040, 9030, 9030])
    assertClose(sampleRatioMismatch(arms([12_000, 9000, 9100], [40, 30, 30])), { pValue: 0.6786858669306721, flagged: false });
  });

  it('normalises the weights', () => {
    assert.deepEqual(sampleRatioMismatch(arms([1000, 1100], [0.5, 0.5])), sampleRatioMismatch(arms([1000, 1100], [7, 7])));
  });

  it('leaves out an arm weighted 0 that nobody reached', () => {
    // reference-values.py "srmTwo": chisquare([1000, 1100]) = 0.029096331741252267
    assertClose(sampleRatioMismatch(arms([1000, 1100, 0], [1, 1, 0])), { pValue: 0.029096331741252267, flagged: false });
  });

  it('flags visitors in an arm weighted 0', () => {
    assert.deepEqual(sampleRatioMismatch(arms([1000, 1000, 1], [1, 1, 0])), { pValue: 0, flagged: true });
  });

  it('keeps its precision far into the tail with two arms', () => {
    // scipy.stats.chisquare([0, 100]).pvalue = 1.5239706048320995e-23 (χ² = 100, df = 1)
    assertClose(sampleRatioMismatch(arms([0, 100], [1, 1])), { pValue: 1.5239706048320995e-23, flagged: true });
  });

  it('flags a gross mismatch between many arms', () => {
    const { pValue, flagged } = sampleRatioMismatch(arms([10_000, 10_000, 5_000], [1, 1, 1]));
    assert.ok(pValue !== null && pValue >= 0 && pValue < 1e-10, `${pValue}`);
    assert.equal(flagged, true);
  });

  it('has nothing to say without visitors or without two arms', () => {
    assert.deepEqual(sampleRatioMismatch(arms([0, 0], [1, 1])), { pValue: null, flagged: false });
    assert.deepEqual(sampleRatioMismatch(arms([500], [1])), { pValue: null, flagged: false });
    assert.deepEqual(sampleRatioMismatch(arms([500, 0], [1, 0])), { pValue: null, flagged: false });
  });

  it('gives a p-value of 1 for a split exactly on the weights', () => {
    assert.equal(sampleRatioMismatch(arms([2000, 1000, 1000], [2, 1, 1])).pValue, 1);
  });
});
