#!/usr/bin/env python3
"""Independent reference values for the ratio-of-means bounds (``ratio_reference.json``).

Nothing here reuses the Rust formulas:

- ``mixture``: the one-sided scale-invariant normal mixture's evidence E_n(q) computed from its
  *definition* -- the likelihood ratio of the scale-invariant statistics, mixed over a half-normal
  prior on the standardised effect -- by numerical double integration (scipy.integrate), for
  data with sum T and sum of squares W:

      E_n = [ int_0^inf int_0^inf u^(n-1) exp(-(W u^2 - 2 theta T u + n theta^2)/2) du
              * 2 sqrt(c/(2 pi)) exp(-c theta^2/2) dtheta ]
            / int_0^inf u^(n-1) exp(-W u^2/2) du

  and the critical q_n (smallest T/sqrt(W) with E_n >= 1/alpha) by root finding on it.
- ``paired``: at the bounds the Rust code reports, scipy's one-sample t-test of the differences
  r*x - y must give p = alpha exactly (one-sided); the bounds themselves are found here by
  root finding on scipy's p-value.
- ``welch``: the same with scipy's Welch test (``ttest_ind(equal_var=False)``) of r*x against y.

Regenerate (from this directory): ``python3 gen_ratio_reference.py > ratio_reference.json``
with the pinned requirements.txt. Deterministic: numpy.random.default_rng(20261203).
"""

import json
import math
import sys

import numpy as np
from scipy import integrate, optimize, stats

rng = np.random.default_rng(20261203)


def tune(t_star, alpha):
    l = -2.0 * math.log(alpha)
    return t_star / (l + math.log(1.0 + l))


def log_evidence_by_integration(q, n, c):
    # Scale so that W = 1, T = q (the evidence depends on the data through q only).
    W, T = 1.0, q
    log_norm_u = (n / 2.0 - 1.0) * math.log(2.0) + math.lgamma(n / 2.0)  # int u^(n-1) e^{-u^2/2}

    def inner(theta):
        # int_0^inf u^(n-1) exp(-(W u^2 - 2 theta T u + n theta^2)/2) du, scaled by exp(-shift)
        # around its peak to stay finite; returns log.
        a = W
        b = theta * T
        peak = (b + math.sqrt(b * b + 4.0 * a * (n - 1))) / (2.0 * a)
        def log_f(u):
            return (n - 1) * math.log(u) - (a * u * u - 2.0 * b * u) / 2.0
        shift = log_f(peak)
        val, _ = integrate.quad(lambda u: math.exp(log_f(u) - shift) if u > 0 else 0.0, 0.0, peak * 6 + 20,
                                points=[peak], limit=400, epsabs=0.0, epsrel=1e-12)
        return math.log(val) + shift - n * theta * theta / 2.0

    # theta integral with the half-normal prior; integrate in theta around the integrand's peak.
    grid = np.linspace(0.0, 6.0 / math.sqrt(c) + 4.0 * abs(q) / math.sqrt(n) + 2.0, 4001)
    logs = np.array([inner(t) - c * t * t / 2.0 for t in grid])
    shift = logs.max()
    val = integrate.simpson(np.exp(logs - shift), x=grid)
    log_num = math.log(val) + shift + math.log(2.0 * math.sqrt(c / (2.0 * math.pi)))
    return log_num - (log_norm_u - (n / 2.0) * math.log(W))


def critical_by_integration(n, c, alpha):
    target = math.log(1.0 / alpha)
    top = math.sqrt(n) * (1.0 - 1e-9)
    if log_evidence_by_integration(top, n, c) < target:
        return None
    return optimize.brentq(lambda q: log_evidence_by_integration(q, n, c) - target, 0.0, top, xtol=1e-10)


def root(f, a, b):
    """The root of f in [a, b], or None when f does not change sign there (unbounded)."""
    if f(a) * f(b) > 0:
        return None
    return optimize.brentq(f, a, b, xtol=1e-15, rtol=1e-13)


def paired_bounds(x, y, alpha):
    def p(r):
        return stats.ttest_1samp(r * x - y, 0.0, alternative="greater").pvalue
    def p_less(r):
        return stats.ttest_1samp(r * x - y, 0.0, alternative="less").pvalue
    est = y.mean() / x.mean()
    return est, root(lambda r: alpha - p_less(r), 1e-9, est), root(lambda r: p(r) - alpha, est, est * 100)


def welch_bounds(x, y, alpha):
    def p(r, alt):
        return stats.ttest_ind(r * x, y, equal_var=False, alternative=alt).pvalue
    est = y.mean() / x.mean()
    return (est, root(lambda r: alpha - p(r, "less"), 1e-9, est),
            root(lambda r: p(r, "greater") - alpha, est, est * 100))


def lognormal(mean, cv, size):
    s2 = math.log1p(cv * cv)
    return rng.lognormal(math.log(mean) - s2 / 2.0, math.sqrt(s2), size)


def main():
    out = {"mixture": [], "paired": [], "welch": []}
    for alpha in (0.01, 0.05, 0.10):
        for t_star in (20.0, 100.0, 400.0):
            c = tune(t_star, alpha)
            for n in (5, 10, 25, 60, 150, 400):
                qs = [0.3 * math.sqrt(n), 0.7 * math.sqrt(n)]
                out["mixture"].append({
                    "alpha": alpha, "t_star": t_star, "n": n,
                    "q": qs,
                    "log_evidence": [log_evidence_by_integration(q, n, c) for q in qs],
                    "critical": critical_by_integration(n, c, alpha),
                })
    for alpha in (0.01, 0.05, 0.10):
        for n in (4, 10, 30, 120):
            for cv in (0.02, 0.1, 0.3):
                for effect in (0.0, 0.05, 0.3):
                    x = lognormal(1.0, cv, n)
                    y = x * (1.0 - effect) * lognormal(1.0, cv, n)
                    est, lo, hi = paired_bounds(x, y, alpha)
                    out["paired"].append({"alpha": alpha, "x": list(map(float, x)), "y": list(map(float, y)),
                                          "estimate": est, "lower": lo, "upper": hi})
                    ny = max(3, n - 2)
                    y2 = lognormal(1.0 - effect, cv, ny)
                    est, lo, hi = welch_bounds(x, y2, alpha)
                    out["welch"].append({"alpha": alpha, "x": list(map(float, x)), "y": list(map(float, y2)),
                                         "estimate": est, "lower": lo, "upper": hi})
    json.dump(out, sys.stdout, allow_nan=False, indent=None)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
