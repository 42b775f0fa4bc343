#!/usr/bin/env python3
"""Generate scipy reference values for the bench-stats crate tests.

Produces ``scipy_reference.json`` (written to stdout), a fixture of
reference values computed with scipy/numpy: paired and Welch t-tests,
confidence intervals, Student-t quantiles / tail probabilities, type-7
quartiles with Tukey fences, and paired-t power (MDE / required pairs).

How to regenerate (from this directory, tests/reference/):

    python3 -m venv /tmp/venv
    /tmp/venv/bin/pip install -r requirements.txt
    /tmp/venv/bin/python gen_reference.py > scipy_reference.json

The output is fully deterministic for given scipy/numpy versions
(numpy.random.default_rng(20261125); floats written with repr, which
round-trips exactly).  NaN/Infinity are rejected (allow_nan=False).
"""

import json
import math
import sys

import numpy as np
import scipy
from scipy import stats

SEED = 20261125
rng = np.random.default_rng(SEED)

CVS = [0.001, 0.003, 0.01, 0.03, 0.1, 0.2, 0.35, 0.5]
EFFECTS = [-0.1, 0.0, 0.02, 0.05, 0.2, 0.5]
ALTERNATIVES = ["greater", "less", "two-sided"]
CONFIDENCES = [0.90, 0.95, 0.99]
NS_SCALES = [53_000_000.0, 1_200_000.0, 250_000.0, 4_700_000_000.0, 87_500.0]


def f(x):
    """Convert to a finite Python float."""
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"non-finite value {x!r}")
    return x


def lognormal(mean, cv, size):
    """Lognormal draws with the given mean and coefficient of variation."""
    s2 = math.log1p(cv * cv)
    return rng.lognormal(math.log(mean) - s2 / 2.0, math.sqrt(s2), size)


def draw_pair(n, cv, effect, scale, ns):
    while True:
        base = lognormal(scale, cv, n)
        cand = base * (1.0 - effect) * lognormal(1.0, cv, n)
        if ns:
            base = np.round(base)
            cand = np.round(cand)
        if (
            np.all(base > 0)
            and np.all(cand > 0)
            and np.std(base - cand, ddof=1) > 0
            and np.std(base, ddof=1) > 0
            and np.std(cand, ddof=1) > 0
        ):
            return base, cand


def summary(x, tcrit):
    n = len(x)
    mean = np.mean(x)
    std = np.std(x, ddof=1)
    se = std / math.sqrt(n)
    return mean, std, se, [f(mean - tcrit * se), f(mean + tcrit * se)]


def welch_df(a, b):
    va = np.var(a, ddof=1) / len(a)
    vb = np.var(b, ddof=1) / len(b)
    return (va + vb) ** 2 / (va * va / (len(a) - 1) + vb * vb / (len(b) - 1))


def make_case(cid, n, cv, effect, alt, conf):
    ns = rng.random() < 0.2
    if ns:
        scale = float(NS_SCALES[rng.integers(len(NS_SCALES))])
    else:
        scale = float(math.exp(rng.uniform(math.log(0.05), math.log(10.0))))
    base, cand = draw_pair(n, cv, effect, scale, ns)
    tcrit = stats.t.ppf((1.0 + conf) / 2.0, n - 1)
    bm, bs, bse, bci = summary(base, tcrit)
    cm, cs, cse, cci = summary(cand, tcrit)

    pr = stats.ttest_rel(base, cand, alternative=alt)
    wr = stats.ttest_ind(base, cand, equal_var=False, alternative=alt)
    wdf = welch_df(base, cand)
    if hasattr(wr, "df"):
        assert math.isclose(float(wr.df), float(wdf), rel_tol=1e-12), (wr.df, wdf)
    if hasattr(pr, "df"):
        assert float(pr.df) == n - 1

    return {
        "id": cid,
        "n": n,
        "cv": cv,
        "confidence": conf,
        "alternative": alt,
        "baseline": [f(v) for v in base],
        "candidate": [f(v) for v in cand],
        "baseline_mean": f(bm),
        "baseline_std": f(bs),
        "baseline_se": f(bse),
        "candidate_mean": f(cm),
        "candidate_std": f(cs),
        "candidate_se": f(cse),
        "t_critical": f(tcrit),
        "baseline_ci": bci,
        "candidate_ci": cci,
        "paired": {
            "t_statistic": f(pr.statistic),
            "df": n - 1,
            "p_value": f(pr.pvalue),
        },
        "welch": {
            "t_statistic": f(wr.statistic),
            "df": f(wdf),
            "p_value": f(wr.pvalue),
        },
        "improvement_percent": f((bm - cm) / bm * 100.0),
        "speedup_ratio": f(bm / cm),
        "diff_std": f(np.std(base - cand, ddof=1)),
    }


def gen_cases():
    n_main = 288  # = 32*9 = 36*8 = 48*6 -> exact balance of combos
    ns_list = list(range(2, 61)) + [2, 3, 4, 5] * 12
    ns_list += [int(v) for v in rng.integers(2, 61, n_main - len(ns_list))]
    ns_list = [ns_list[i] for i in rng.permutation(n_main)]
    cvs = [CVS[i % 8] for i in rng.permutation(n_main)]
    effects = [EFFECTS[i % 6] for i in rng.permutation(n_main)]
    combos = [(a, c) for a in ALTERNATIVES for c in CONFIDENCES]
    combo_idx = [i % 9 for i in rng.permutation(n_main)]

    cases = []
    for i in range(n_main):
        alt, conf = combos[combo_idx[i]]
        cases.append(make_case(i, ns_list[i], cvs[i], effects[i], alt, conf))

    # Extreme cases: low cv, large n, big effect -> astronomically small p.
    extreme = [(60, 0.001, 0.5), (50, 0.001, 0.2), (40, 0.003, 0.5)]
    for k, (alt, conf) in enumerate(combos):
        n, cv, eff = extreme[k % 3]
        cases.append(make_case(len(cases), n, cv, eff, alt, conf))
    return cases


T_PS = [0.5, 0.6, 0.8, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999, 0.9995, 0.05, 0.01, 0.001]
T_DFS = [1.0, 2.0, 3.0, 4.0, 5.0, 9.0, 19.0, 29.0, 59.0, 100.0, 1000.0, 2.5, 7.3]
T_TS = [0.0, 0.1, 1.0, 2.5, 5.0, 10.0, 30.0, 100.0, -1.0, -5.0, -30.0]


def gen_t_quantiles():
    return [
        {"p": p, "df": df, "value": f(stats.t.ppf(p, df))} for p in T_PS for df in T_DFS
    ]


def gen_t_sf():
    return [
        {"t": t, "df": df, "sf": f(stats.t.sf(t, df)), "cdf": f(stats.t.cdf(t, df))}
        for t in T_TS
        for df in T_DFS
    ]


def classify(v, lo_sev, lo_mild, hi_sev, hi_mild):
    if v < lo_sev:
        return "severe_low"
    if v < lo_mild:
        return "mild_low"
    if v > hi_sev:
        return "severe_high"
    if v > hi_mild:
        return "mild_high"
    return "normal"


def gen_quartiles():
    lengths = [2, 3, 2, 3] + list(range(4, 41, 2)) + [5, 7, 11, 13, 17, 23, 31, 37, 40, 40]
    out = []
    for k, m in enumerate(lengths):
        scale = float(math.exp(rng.uniform(math.log(1e-3), math.log(1e8))))
        vals = rng.normal(1.0, 0.1, m) * scale
        if m >= 8 and k % 2 == 0:
            # Plant outliers relative to the bulk's IQR.
            q1b, q3b = np.percentile(vals, [25, 75])
            iqr = q3b - q1b
            vals[0] = q3b + 2.0 * iqr  # mild high (approx.)
            vals[1] = q3b + 10.0 * iqr  # severe high
            vals[2] = q1b - 2.0 * iqr  # mild low (approx.)
            vals[3] = q1b - 10.0 * iqr  # severe low
            vals = vals[rng.permutation(m)]
        if k % 5 == 1:
            vals = np.round(vals)  # some integer-valued vectors (ties possible)
        q1, med, q3 = np.percentile(vals, [25, 50, 75])
        iqr = q3 - q1
        lm, um = q1 - 1.5 * iqr, q3 + 1.5 * iqr
        ls, us = q1 - 3.0 * iqr, q3 + 3.0 * iqr
        out.append(
            {
                "values": [f(v) for v in vals],
                "q1": f(q1),
                "median": f(med),
                "q3": f(q3),
                "lower_mild_fence": f(lm),
                "upper_mild_fence": f(um),
                "lower_severe_fence": f(ls),
                "upper_severe_fence": f(us),
                "classification": [classify(v, ls, lm, us, um) for v in vals],
            }
        )
    labels = {c for e in out for c in e["classification"]}
    assert labels == {"severe_low", "mild_low", "severe_high", "mild_high", "normal"}, labels
    return out


def mde(n, alpha, beta, sigma_d):
    return (stats.t.ppf(1 - alpha, n - 1) + stats.t.ppf(1 - beta, n - 1)) * sigma_d / math.sqrt(n)


def gen_power():
    return [
        {"n": n, "alpha": a, "beta": b, "sigma_d": s, "mde": f(mde(n, a, b, s))}
        for n in [2, 3, 5, 10, 20, 30, 60]
        for a in [0.10, 0.05, 0.01]
        for b in [0.20, 0.10]
        for s in [0.06, 1.5]
    ]


def gen_required_pairs():
    combos = [
        # (effect, sigma_d, alpha, beta): effect/sigma from 0.2 to 5
        (0.012, 0.06, 0.05, 0.20),
        (0.3, 1.5, 0.01, 0.10),
        (0.015, 0.06, 0.10, 0.20),
        (0.45, 1.5, 0.05, 0.10),
        (0.02, 0.06, 0.05, 0.20),
        (0.5, 1.5, 0.01, 0.20),
        (0.03, 0.06, 0.10, 0.10),
        (0.75, 1.5, 0.05, 0.20),
        (0.045, 0.06, 0.01, 0.10),
        (1.5, 1.5, 0.05, 0.20),
        (0.06, 0.06, 0.10, 0.10),
        (1.5, 1.5, 0.01, 0.10),
        (0.09, 0.06, 0.05, 0.10),
        (3.0, 1.5, 0.05, 0.20),
        (0.12, 0.06, 0.01, 0.20),
        (4.5, 1.5, 0.10, 0.20),
        (0.18, 0.06, 0.05, 0.20),
        (6.0, 1.5, 0.05, 0.10),
        (0.3, 0.06, 0.10, 0.20),
        (7.5, 1.5, 0.01, 0.10),
        (0.3, 0.06, 0.05, 0.20),
    ]
    out = []
    for eff, s, a, b in combos:
        n = 2
        while mde(n, a, b, s) > eff:
            n += 1
            assert n <= 100000
        out.append({"effect": eff, "sigma_d": s, "alpha": a, "beta": b, "n": n})
    return out


def main():
    cases = gen_cases()
    fixture = {
        "generator": "gen_reference.py",
        "scipy_version": scipy.__version__,
        "numpy_version": np.__version__,
        "seed": SEED,
        "cases": cases,
        "t_quantiles": gen_t_quantiles(),
        "t_sf": gen_t_sf(),
        "quartiles": gen_quartiles(),
        "power": gen_power(),
        "required_pairs": gen_required_pairs(),
    }
    json.dump(fixture, sys.stdout, indent=1, allow_nan=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
