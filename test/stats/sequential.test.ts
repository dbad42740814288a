import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  differenceInterval, mixtureSprt, pooledZTestPValue, sequentialDifference, sequentialRho2, type Arm,
} from '../../src/stats/index.js';
import { assertClose } from './close.js';

/* Reference values: see test/stats/reference-values.py and the header of stats.test.ts. */

const arm = (visitors: number, converters: number): Arm => ({ visitors, converters });

const arms = fc.integer({ min: 1, max: 100_000 }).chain((visitors) =>
  fc.record({ visitors: fc.constant(visitors), converters: fc.integer({ min: 0, max: visitors }) }));

/** Deterministic uniform numbers in [0, 1) (mulberry32), so simulations give the same answer every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('sequentialRho2', () => {
  it('is Waudby-Smith et al.\'s ρ² for N* = 5000 and α = 0.05', () => {
    // reference-values.py "rho2": (-2*math.log(0.05) + math.log(1 - 2*math.log(0.05))) / 5000
    assertClose(sequentialRho2(5000), 0.001587230920347513);
  });
});

describe('mixtureSprt', () => {
  it('reproduces GrowthBook\'s published sequential interval', () => {
    // GrowthBook packages/stats/tests/frequentist/test_tests.py, test_sequential_test_runs_prop:
    // ProportionStatistic(sum=1396, n=3000) vs (sum=2422, n=3461), default tuning 5000, α = 0.05:
    // relative lift 0.50386, ci [0.40098, 0.60675] (5 decimals). Its estimate and delta-method
    // variance, fed to the same mixture:
    const pa = 1396 / 3000;
    const pb = 2422 / 3461;
    const estimate = pb / pa - 1;
    const variance = (pb * (1 - pb)) / (pa ** 2 * 3461) + (pa * (1 - pa) * pb ** 2) / (pa ** 4 * 3000);
    const result = mixtureSprt({ estimate, variance, n: 3000 + 3461 }, 5000);
    assert.ok(result.ci95 !== null);
    assert.ok(Math.abs(result.ci95[0] - 0.40098) <= 5e-6 && Math.abs(result.ci95[1] - 0.60675) <= 5e-6, `${result.ci95}`);
    // reference-values.py "growthbook" (mpmath: 1/Λ(0), and the roots of log Λ(θ₀) = log 20)
    assertClose(result, { pValue: 5.174716682839768e-44, ci95: [0.40097849668594154, 0.6067482066783577] });
  });

  it('agrees with Johari et al.\'s two-stream Bernoulli formula for equal arms', () => {
    // "Always valid inference", eq. for binary data with n visitors per arm:
    // Λ = sqrt(V/(V + nτ²)) · exp(n²τ²θ̂² / (2V(V + nτ²))), V = pc(1−pc) + pv(1−pv).
    // With our mixing variance τ² = ρ²·(2n)·(V/n) = 2ρ²V for the difference.
    const n = 4000;
    const pc = 200 / n;
    const pv = 262 / n;
    const v = pc * (1 - pc) + pv * (1 - pv);
    const tau2 = 2 * sequentialRho2(5000) * v;
    const lambda = Math.sqrt(v / (v + n * tau2)) * Math.exp((n ** 2 * tau2 * (pv - pc) ** 2) / (2 * v * (v + n * tau2)));
    assertClose(sequentialDifference(arm(n, 200), arm(n, 262)).pValue, Math.min(1, 1 / lambda), 1e-12);
  });

  it('has a p-value of exactly 0.05 at either end of its 95 % interval', () => {
    const inputs = fc.record({
      estimate: fc.double({ min: -1, max: 1, noNaN: true }),
      variance: fc.double({ min: 1e-8, max: 1, noNaN: true }),
      n: fc.integer({ min: 1, max: 10_000_000 }),
    });
    fc.assert(fc.property(inputs, ({ estimate, variance, n }) => {
      const { ci95 } = mixtureSprt({ estimate, variance, n });
      assert.ok(ci95 !== null);
      for (const end of ci95) {
        // Testing H₀: θ = end is testing 0 on the estimate shifted by −end.
        const { pValue } = mixtureSprt({ estimate: estimate - end, variance, n });
        assert.ok(pValue !== null && Math.abs(pValue - 0.05) < 1e-9, `${pValue}`);
      }
    }), { numRuns: 300 });
  });

  it('has a p-value of 1 when the estimate is 0', () => {
    assert.equal(mixtureSprt({ estimate: 0, variance: 1e-4, n: 10_000 }).pValue, 1);
  });

  it('gives nulls without variance or observations', () => {
    assert.deepEqual(mixtureSprt({ estimate: 0.1, variance: 0, n: 100 }), { pValue: null, ci95: null });
    assert.deepEqual(mixtureSprt({ estimate: 0.1, variance: 0.01, n: 0 }), { pValue: null, ci95: null });
  });
});

describe('sequentialDifference', () => {
  it('rejects at 5 % exactly when its interval leaves out 0', () => {
    fc.assert(fc.property(arms, arms, (c, v) => {
      const { pValue, ci95 } = sequentialDifference(c, v);
      if (pValue === null || ci95 === null) return true;
      return (pValue < 0.05) === (ci95[0] > 0 || ci95[1] < 0);
    }), { numRuns: 500 });
  });

  it('is always wider than the fixed-horizon interval', () => {
    fc.assert(fc.property(arms, arms, (c, v) => {
      const fixed = differenceInterval(c, v);
      const { ci95 } = sequentialDifference(c, v);
      if (fixed === null) return ci95 === null;
      return ci95 !== null && ci95[0] < fixed[0] && ci95[1] > fixed[1];
    }), { numRuns: 500 });
  });

  it('gives the same p-value and a mirrored interval when the arms swap', () => {
    fc.assert(fc.property(arms, arms, (c, v) => {
      const ab = sequentialDifference(c, v);
      const ba = sequentialDifference(v, c);
      if (ab.ci95 === null || ba.ci95 === null) return ab.ci95 === ba.ci95;
      return ab.pValue === ba.pValue
        && Math.abs(ab.ci95[0] + ba.ci95[1]) < 1e-12 && Math.abs(ab.ci95[1] + ba.ci95[0]) < 1e-12;
    }), { numRuns: 300 });
  });

  it('keeps the false-positive rate under 5 % when an A/A test is checked every day', () => {
    // 1000 simulated A/A tests, 30 days of 200 visitors per arm per day at a 10 % rate, each looked
    // at after every day. A fixed-horizon test "finds" a difference in about a quarter of them;
    // the always-valid p-value must stay below the 5 % it promises.
    const random = seeded(42);
    const binomial = (n: number, p: number) => {
      let x = 0;
      for (let i = 0; i < n; i++) if (random() < p) x++;
      return x;
    };
    let fixedFalse = 0;
    let sequentialFalse = 0;
    for (let test = 0; test < 1000; test++) {
      const control = arm(0, 0);
      const variation = arm(0, 0);
      let fixedHit = false;
      let sequentialHit = false;
      for (let day = 0; day < 30; day++) {
        control.visitors += 200;
        variation.visitors += 200;
        control.converters += binomial(200, 0.1);
        variation.converters += binomial(200, 0.1);
        fixedHit ||= (pooledZTestPValue(control, variation) ?? 1) < 0.05;
        sequentialHit ||= (sequentialDifference(control, variation).pValue ?? 1) < 0.05;
      }
      if (fixedHit) fixedFalse++;
      if (sequentialHit) sequentialFalse++;
    }
    assert.ok(fixedFalse / 1000 > 0.15, `peeking at a fixed-horizon test: ${fixedFalse / 1000}`);
    assert.ok(sequentialFalse / 1000 <= 0.05, `sequential: ${sequentialFalse / 1000}`);
  });
});
