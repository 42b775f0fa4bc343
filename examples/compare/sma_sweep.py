#!/usr/bin/env python3
"""A small SMA-crossover grid search in plain Python (standard library only), in two versions
that must print the same results: try `cargo xtask compare` on them.

    cargo xtask compare 'python3 examples/compare/sma_sweep.py --method slice' \
                        'python3 examples/compare/sma_sweep.py --method rolling'

For each ticker of the bundled data and each (fast, slow) pair, the position is long while the
fast simple moving average of the close is above the slow one, flat otherwise; the result is the
final equity of 1.0 invested. Prices are handled in integer cents and averages compared as
integer sums, so both methods decide every bar identically and print identical lines.

--method slice   recomputes each window's sum from a slice at every bar (sum() of a list slice)
--method rolling keeps a running sum per window (add the new close, drop the oldest)
"""
import argparse
import csv
import gzip
import os
from collections import defaultdict

FAST = (5, 10, 20)
SLOW = (50, 100, 150)


def load(path):
    closes = defaultdict(list)
    with gzip.open(path, "rt", newline="") as f:
        for row in csv.DictReader(f):
            closes[row["Ticker"]].append(round(float(row["Close"]) * 100))
    return closes


def sums_slice(c, w):
    return [sum(c[i + 1 - w : i + 1]) if i + 1 >= w else None for i in range(len(c))]


def sums_rolling(c, w):
    out, s = [], 0
    for i, x in enumerate(c):
        s += x
        if i >= w:
            s -= c[i - w]
        out.append(s if i + 1 >= w else None)
    return out


def final_equity(c, fast_sums, fast, slow_sums, slow):
    equity, long = 1.0, False
    for i in range(1, len(c)):
        if long:
            equity *= c[i] / c[i - 1]
        f, s = fast_sums[i], slow_sums[i]
        # fast/F > slow/S  <=>  fast*S > slow*F (integers: exact)
        long = f is not None and s is not None and f * slow > s * fast
    return equity


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--method", choices=["slice", "rolling"], required=True)
    p.add_argument("--data", default=os.path.join(here, "..", "..", "data", "stocks.csv.gz"))
    args = p.parse_args()
    sums = sums_slice if args.method == "slice" else sums_rolling
    for ticker, c in sorted(load(args.data).items()):
        by_window = {w: sums(c, w) for w in FAST + SLOW}
        best = max(
            ((final_equity(c, by_window[f], f, by_window[s], s), f, s) for f in FAST for s in SLOW),
            key=lambda t: t[0],
        )
        print(f"{ticker} best fast={best[1]} slow={best[2]} final_equity={best[0]:.6f}")


if __name__ == "__main__":
    main()
