"""Change points of generated series by Apache Otava, the reference `bench_history::change_points`
is checked against (tests/changepoint.rs).

Each series has steps of known size at known places, on noise that is normal, heavy-tailed
(Student's t, 3 degrees of freedom), skewed (log-normal) or dependent (AR(1), phi 0.5); a few have
no step. Recorded per series in otava_series.json:

- `weak`: Otava's split step (`otava.analysis.split`, window 50, first-pass p 0.01): the weak
  change points and their tests;
- `otava`: Otava's `compute_change_points` (split, then merge at max p-value 0.001, min magnitude
  0), as it reports them;
- `fresh`: the merge with both neighbours of a removed point re-tested (Otava 0.8.0 re-tests the
  right neighbour and the point after it, so the left neighbour keeps a test of segments that no
  longer exist), each test computed by Otava's own `TTestSignificanceTester` — what
  `bench_history::change_points` is expected to give.

    python3 -m venv /tmp/otava && /tmp/otava/bin/pip install -r otava_requirements.txt
    /tmp/otava/bin/python otava_reference.py > otava_series.json

With `--series FILE` (a JSON array of numbers, e.g. a recorded history's values) and optionally
`--min-magnitude X` (a fraction; default 0) it prints `{"otava": [...], "fresh": [...]}` for that
one series instead (xtask/tests/history.rs checks `history detect` against it).
"""

import json
import sys

import numpy as np
from otava.analysis import TTestSignificanceTester, compute_change_points, split


def noise(rng, kind, n, scale):
    if kind == "normal":
        return rng.normal(0.0, scale, n)
    if kind == "heavy":
        return rng.standard_t(3, n) * scale
    if kind == "skewed":
        z = rng.lognormal(0.0, 0.5, n)
        return (z - np.exp(0.125)) * scale
    if kind == "ar1":
        e = rng.normal(0.0, scale, n)
        out = np.empty(n)
        out[0] = e[0]
        for i in range(1, n):
            out[i] = 0.5 * out[i - 1] + e[i]
        return out
    raise ValueError(kind)


def series(seed, n, steps, kind, scale):
    """`steps`: (index, relative change) pairs; the level starts at 100."""
    rng = np.random.default_rng(seed)
    level = np.full(n, 100.0)
    for index, change in steps:
        level[index:] *= 1.0 + change
    return level * (1.0 + noise(rng, kind, n, scale))


CASES = [
    # name, seed, length, steps, noise, scale (relative)
    ("one step of 10%, normal 2%", 1, 100, [(60, 0.10)], "normal", 0.02),
    ("two steps, normal 1%", 2, 150, [(50, 0.05), (110, -0.08)], "normal", 0.01),
    ("three steps, heavy-tailed 1%", 3, 200, [(40, 0.10), (90, -0.05), (160, 0.07)], "heavy", 0.01),
    ("a slowdown of 5%, skewed 2%", 4, 120, [(70, 0.05)], "skewed", 0.02),
    ("two steps, dependent 2%", 5, 160, [(60, 0.12), (120, -0.12)], "ar1", 0.02),
    ("no step, normal 2%", 6, 100, [], "normal", 0.02),
    ("no step, heavy-tailed 2%", 7, 150, [], "heavy", 0.02),
    ("a long history, four steps", 8, 300, [(50, 0.04), (130, 0.06), (200, -0.10), (260, 0.05)], "normal", 0.01),
    ("a small step of 2%, normal 0.5%", 9, 100, [(45, 0.02)], "normal", 0.005),
    ("a step at the last quarter, skewed 1%", 10, 80, [(62, 0.08)], "skewed", 0.01),
    ("a short series, one step", 11, 30, [(15, 0.20)], "normal", 0.02),
    ("no step, dependent 1%", 12, 120, [], "ar1", 0.01),
]

def merge_fresh(points, x, max_p, min_magnitude):
    """Hunter's merge, both neighbours of each removed point re-tested."""
    tester = TTestSignificanceTester(max_p)
    points = list(points)
    while points:
        weakest = max(points, key=lambda c: c.stats.pvalue)
        if weakest.stats.pvalue < max_p:
            weakest = min(points, key=lambda c: c.stats.change_magnitude())
            if weakest.stats.change_magnitude() > min_magnitude:
                break
        at = points.index(weakest)
        del points[at]
        intervals = tester.get_intervals(points)
        for j in (at - 1, at):
            if 0 <= j < len(points):
                points[j] = tester.change_point(points[j].to_candidate(), x, intervals)
    return points


def rows(points):
    return [{
        "index": int(cp.index),
        "p_value": float(cp.stats.pvalue),
        "mean_before": float(cp.stats.mean_1),
        "mean_after": float(cp.stats.mean_2),
    } for cp in points]


if "--series" in sys.argv:
    args = sys.argv[1:]
    magnitude = float(args[args.index("--min-magnitude") + 1]) if "--min-magnitude" in args else 0.0
    with open(args[args.index("--series") + 1]) as f:
        values = [float(v) for v in json.load(f)]
    points, _ = compute_change_points(values, window_len=50, max_pvalue=0.001, min_magnitude=magnitude)
    weak = split(values, 50, 0.01)
    fresh = merge_fresh(weak, values, 0.001, magnitude)
    json.dump({"otava": rows(points), "fresh": rows(fresh)}, sys.stdout)
    print()
    sys.exit(0)

out = []
for name, seed, n, steps, kind, scale in CASES:
    x = series(seed, n, steps, kind, scale)
    values = list(x)
    points, _ = compute_change_points(values, window_len=50, max_pvalue=0.001, min_magnitude=0.0)
    weak = split(values, 50, 0.01)
    out.append({
        "name": name,
        "truth": [i for i, _ in steps],
        "series": [float(v) for v in x],
        "weak": rows(weak),
        "otava": rows(points),
        "fresh": rows(merge_fresh(weak, values, 0.001, 0.0)),
    })
json.dump({"otava": "apache-otava 0.8.0", "window": 50, "max_p": 0.001, "min_magnitude": 0.0, "cases": out},
          sys.stdout, indent=1)
print()
