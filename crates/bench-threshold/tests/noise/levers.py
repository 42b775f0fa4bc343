#!/usr/bin/env python3
"""The noise-lever table of docs/methodology.md, recomputed from the committed recordings.

Each recording is an A/A comparison (both sides ran the same code), so every spread below is
pure noise. For each recording it prints, as percentages of the mean run:

- single-run CV of wall time;
- CV of the paired wall-time differences, and of the paired CPU-time differences;
- standard deviation of the per-pair log-ratios ln(a/b);
- the effective per-pair standard deviation of three estimators of the log-ratio's centre
  (mean, 10%-trimmed mean, median): the bootstrap standard error of the estimator times sqrt(n),
  which is what sets how many pairs a confidence interval of a given width needs
  (pairs needed scale with its square);
- finer vs coarser interleaving: the CV of differences when each run of side a is paired with the
  run of side b that ran k positions later in the schedule (k = 1 is the tightest pairing the
  schedule allows; larger k is what a coarser interleaving would give).

Standard library only:  python3 levers.py
"""
import csv
import math
import os
import random
import statistics as st

HERE = os.path.dirname(os.path.abspath(__file__))
NAMES = {
    "pw2": "persistent-workers, 2 workers",
    "pw1": "persistent-workers, 1 worker",
    "pw1pin": "persistent-workers, 1 worker pinned to one core (other core idle)",
    "base2": "baseline, 2 workers",
    "ps2": "prefix-sums, 2 workers",
}


def load(name: str) -> list[dict[str, int]]:
    with open(os.path.join(HERE, f"{name}.csv")) as f:
        return [{k: int(v) for k, v in row.items()} for row in csv.DictReader(f)]


def effective_sd(values: list[float], estimator, rng: random.Random, draws: int = 400) -> float:
    n = len(values)
    boot = [estimator([values[rng.randrange(n)] for _ in range(n)]) for _ in range(draws)]
    return st.stdev(boot) * math.sqrt(n)


def trimmed(values: list[float], fraction: float = 0.1) -> float:
    s = sorted(values)
    k = int(len(s) * fraction)
    return st.mean(s[k : len(s) - k])


def distance_cv(rows: list[dict[str, int]], k: int) -> float:
    """CV of a-minus-b differences when each a run is paired with the b run k positions later."""
    b_at = {r["seq_b"]: r["wall_ns_b"] for r in rows}
    diffs = [r["wall_ns_a"] - b_at[r["seq_a"] + k] for r in rows if r["seq_a"] + k in b_at]
    mean = st.mean(r["wall_ns_a"] for r in rows)
    return st.stdev(diffs) / mean * 100


def main() -> None:
    rng = random.Random(1)
    print(
        "recording | runs | mean run | single CV | diff CV wall | diff CV CPU | log-ratio sd "
        "| eff. sd mean | trimmed 10% | median | diff CV at distance 1 / 5 / 25 / 125"
    )
    for name, label in NAMES.items():
        rows = load(name)
        wa = [r["wall_ns_a"] for r in rows]
        wb = [r["wall_ns_b"] for r in rows]
        ca = [r["cpu_ns_a"] for r in rows]
        cb = [r["cpu_ns_b"] for r in rows]
        m = st.mean(wa)
        diff = [x - y for x, y in zip(wa, wb)]
        diff_cpu = [x - y for x, y in zip(ca, cb)]
        lr = [math.log(x / y) for x, y in zip(wa, wb)]
        eff = [effective_sd(lr, est, rng) * 100 for est in (st.mean, trimmed, st.median)]
        dist = " / ".join(f"{distance_cv(rows, k):.1f}%" for k in (1, 5, 25, 125))
        print(
            f"{name} ({label}) | {len(rows)} pairs | {m / 1e6:.2f} ms | {st.stdev(wa) / m * 100:.1f}% "
            f"| {st.stdev(diff) / m * 100:.1f}% | {st.stdev(diff_cpu) / st.mean(ca) * 100:.1f}% "
            f"| {st.stdev(lr) * 100:.1f}% | {eff[0]:.1f}% | {eff[1]:.1f}% | {eff[2]:.1f}% | {dist}"
        )


if __name__ == "__main__":
    main()
