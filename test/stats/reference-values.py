"""Reference values for test/stats/*.test.ts, computed independently of src/stats.

Run:  python3 test/stats/reference-values.py      (scipy 1.17.1, mpmath 1.3.0)

Nothing here imports or mirrors the TypeScript code. Each figure comes from a library routine
or from a definition evaluated a different way from src/stats:
  - pooled z-test p      scipy.stats.chi2_contingency(table, correction=False): Pearson's
                         chi-square on the 2x2 table, whose p-value is the pooled z-test's (z² = χ²)
  - Wald interval        d ± scipy.stats.norm.ppf(0.975) · sqrt(pc(1−pc)/nc + pv(1−pv)/nv)
  - chance to beat       numerical integration (scipy.integrate.quad), not Evan Miller's sum:
                         P(pv > pc) = ∫₀¹ f_c(x) · (1 − I_x(av, bv)) dx, f_c the Beta(ac, bc)
                         density (scipy.stats.beta), 1 − I the complemented regularized
                         incomplete beta (scipy.special.betaincc); accurate to ~1e-9. Where the
                         sum is short enough it is also checked against Evan Miller's sum in
                         30-digit mpmath, term by term
  - SRM                  scipy.stats.chisquare(observed, expected)
  - sequential           mixture likelihood ratio Λ(θ₀) of Johari, Pekelis & Walsh evaluated in
                         mpmath, p = min(1, 1/Λ(0)); the interval ends found by mpmath.findroot
                         solving Λ(θ₀) = 1/α (not the closed-form half-width src/stats uses)
"""

import json
import math
from fractions import Fraction

import mpmath as mp
from scipy import integrate, special, stats

mp.mp.dps = 50
ALPHA = mp.mpf("0.05")
TUNING = 5000


def fixed(nc, xc, nv, xv):
    """Lift, Wald interval and pooled z-test p-value."""
    pc, pv = xc / nc, xv / nv
    d = pv - pc
    se = (pc * (1 - pc) / nc + pv * (1 - pv) / nv) ** 0.5
    z = stats.norm.ppf(0.975)
    table = [[xc, nc - xc], [xv, nv - xv]]
    chi2, p, dof, _ = stats.chi2_contingency(table, correction=False)
    return {
        "absolute": d,
        "relative": d / pc if pc > 0 else None,
        "ci95": [d - z * se, d + z * se],
        "pValue": p,
        "chi2": chi2,
    }


def chance(nc, xc, nv, xv):
    """P(pv > pc), Beta(1 + x, 1 + n − x) posteriors, by adaptive quadrature (QUADPACK).

    ∫₀¹ f_c(x) · (1 − I_x(av, bv)) dx, split at each posterior's mean ± k sd (k = 0, 1, 2, 4, 8,
    16, 32) so that the quadrature finds the peak even when it is a needle among 1e6 visitors.
    """
    ac, bc, av, bv = 1 + xc, 1 + nc - xc, 1 + xv, 1 + nv - xv
    cuts = set()
    for a, b in ((ac, bc), (av, bv)):
        mean = a / (a + b)
        sd = (a * b / ((a + b) ** 2 * (a + b + 1))) ** 0.5
        cuts.update(mean + sign * k * sd for k in (0, 1, 2, 4, 8, 16, 32) for sign in (-1, 1))
    points = sorted(x for x in cuts if 0 < x < 1)
    edges = [0.0, *points, 1.0]

    def integrand(x):
        return math.exp(stats.beta.logpdf(x, ac, bc)) * special.betaincc(av, bv, x)

    total = 0.0
    for lo, hi in zip(edges, edges[1:]):
        value, error = integrate.quad(integrand, lo, hi, epsabs=1e-15, epsrel=1e-12, limit=500)
        assert error < 1e-12, (lo, hi, error)
        total += value
    if 1 + xv <= 25_000:
        # Cross-check: Evan Miller's sum term by term in 30-digit mpmath (no recurrence, no
        # rewriting over a smaller parameter); the two methods agree to ~1e-9 here.
        assert abs(total - miller_sum(ac, bc, av, bv)) < 1e-8, (total, miller_sum(ac, bc, av, bv))
    return total


def miller_sum(aA, bA, aB, bB):
    def lbeta(a, b):
        return mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)
    with mp.workdps(30):
        return mp.fsum(mp.exp(lbeta(aA + i, bA + bB) - mp.log(bB + i) - lbeta(1 + i, bB) - lbeta(aA, bA))
                       for i in range(aB))


def exact_chance(nc, xc, nv, xv):
    """P(pv > pc) as an exact fraction, by the binomial form of the incomplete beta."""
    def beta(a, b):  # B(a, b) for positive integers, exactly
        return Fraction(math.factorial(a - 1) * math.factorial(b - 1), math.factorial(a + b - 1))
    aA, bA, aB, bB = 1 + xc, 1 + nc - xc, 1 + xv, 1 + nv - xv
    m = aB + bB - 1
    return sum(math.comb(m, j) * beta(aA + j, bA + m - j) for j in range(aB)) / beta(aA, bA)


def sequential(nc, xc, nv, xv, tuning=TUNING, estimate=None, variance=None):
    """Always-valid p-value and interval from the normal-mixture likelihood ratio."""
    if estimate is None:
        pc, pv = mp.mpf(xc) / nc, mp.mpf(xv) / nv
        estimate = pv - pc
        variance = pc * (1 - pc) / nc + pv * (1 - pv) / nv
    estimate, variance = mp.mpf(estimate), mp.mpf(variance)
    n = mp.mpf(nc + nv)
    rho2 = (-2 * mp.log(ALPHA) + mp.log(1 - 2 * mp.log(ALPHA))) / tuning
    tau2 = rho2 * n * variance

    def lam(theta0):
        return mp.sqrt(variance / (variance + tau2)) * mp.exp(
            tau2 * (estimate - theta0) ** 2 / (2 * variance * (variance + tau2)))

    def excess(theta0):
        return mp.log(lam(theta0)) - mp.log(1 / ALPHA)

    p = min(mp.mpf(1), 1 / lam(0))
    sd = mp.sqrt(variance)
    # Λ grows monotonically away from the estimate: bracket each end and solve on log Λ.
    lo = mp.findroot(excess, (estimate - 100 * sd, estimate), solver="illinois")
    hi = mp.findroot(excess, (estimate, estimate + 100 * sd), solver="illinois")
    return {"pValue": float(p), "ci95": [float(lo), float(hi)]}


def srm(observed, weights):
    total = sum(observed)
    expected = [total * w / sum(weights) for w in weights]
    return stats.chisquare(observed, expected).pvalue


def case(nc, xc, nv, xv):
    out = fixed(nc, xc, nv, xv)
    out["chanceToBeatControl"] = float(chance(nc, xc, nv, xv))
    out["sequential"] = sequential(nc, xc, nv, xv)
    return out


refs = {
    # Evan Miller's formula notebook (α_A, β_A, α_B, β_B = 21, 200, 31, 200)
    "miller": case(219, 20, 229, 30),
    "millerSrm": srm([219, 229], [1, 1]),
    # Three arms, 40/30/30 split
    "threeBold": case(12000, 600, 9000, 513),
    "threeCalm": case(12000, 600, 9100, 430),
    "threeSrm": srm([12000, 9000, 9100], [40, 30, 30]),
    # 100 % conversion in the control
    "allConvert": case(100, 100, 100, 90),
    # Large counts: 1e6 visitors per arm at 2 % and at 50 %
    "large2": case(1_000_000, 20_000, 1_000_000, 20_400),
    "large50": case(1_000_000, 500_000, 1_000_000, 499_000),
    # A clear winner: the always-valid p-value is small too
    "strong": case(20_000, 1000, 20_000, 1150),
    # High rates, so that failures (b) are the smaller Beta parameters
    "highA": case(1000, 960, 1000, 950),
    "highB": case(1000, 950, 1000, 960),
    # The control converts nobody, the variation does
    "controlZero": case(100, 0, 100, 5),
    # Chance to beat only, small counts with an asymmetric split
    "chanceSmall": float(chance(7, 3, 12, 2)),
    # The same, exactly: with integer parameters 1 − I_x(aB, bB) = P(Binomial(aB + bB − 1, x) < aB),
    # so P = Σ_{j<aB} C(aB+bB−1, j) · B(aA+j, bA+bB+aB−1−j) / B(aA, bA), a rational number
    "chanceSmallExact": exact_chance(7, 3, 12, 2),
    # A tiny answer, where the complement would lose every digit
    "tinyChance": exact_chance(425, 142, 1995, 349),
    # Published SRM example (srm.osc.garden): 44,000 vs 45,000 at 50/50, "p-value of 0.0008"
    "srmPublished": srm([44_000, 45_000], [1, 1]),
    # Published chi-square example (imathworks, CV answer): A 10/56,000, B 21/78,000,
    # "Chi-square = 1.158368, p-value = 0.2818"
    "ctrPublished": fixed(56_000, 10, 78_000, 21),
    # GrowthBook test_sequential_test_runs_prop (relative lift, delta-method variance), checked
    # against the generic mixture SPRT
    "growthbook": sequential(3000, None, 3461, None,
                             estimate=mp.mpf(2422) / 3461 / (mp.mpf(1396) / 3000) - 1,
                             variance=(lambda pa, pb: pb * (1 - pb) / (pa ** 2 * 3461)
                                       + pa * (1 - pa) * pb ** 2 / (pa ** 4 * 3000))(
                                 mp.mpf(1396) / 3000, mp.mpf(2422) / 3461)),
    # Two arms of 1000 and 1100 at 50/50 (a third arm weighted 0 with 0 visitors must not count)
    "srmTwo": srm([1000, 1100], [1, 1]),
    # rho² for N* = 5000, α = 0.05 (Waudby-Smith et al. eq. 161)
    "rho2": (-2 * math.log(0.05) + math.log(1 - 2 * math.log(0.05))) / 5000,
    # Sequential with another tuning parameter
    "tuning20000": sequential(12000, 600, 9000, 513, tuning=20_000),
}


def floats(value):
    if isinstance(value, dict):
        return {k: floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [floats(v) for v in value]
    if isinstance(value, Fraction):
        return {"fraction": f"{value.numerator}/{value.denominator}", "float": float(value)}
    return None if value is None else float(value)


print(json.dumps(floats(refs), indent=2))
