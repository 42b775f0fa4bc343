#!/usr/bin/env python3
"""A backtesting.py SMA-crossover sweep on the bundled GOOG bars: the Python workload whose
py-spy recording (`backtesting_py.folded`) and call counts (`backtesting_py_calls.json`) are the
fixture of `cargo xtask profile --from`.

HOW TO RUN (from the repository root):

    python3 -m venv /tmp/btvenv
    /tmp/btvenv/bin/pip install -r crates/bench-profile/tests/pyspy/requirements.txt
    bash crates/bench-profile/tests/pyspy/record.sh /tmp/btvenv

`record.sh` runs this script twice: under py-spy (`record --format raw`, 250 Hz) for the
stacks, and with `--calls FILE` under cProfile for exact call counts, written as
`{"file::function": calls}` in the naming `--from` gives py-spy's frames (the file as py-spy
shows it, the function name, no line).
"""

import argparse
import cProfile
import json
import pstats
import sys
import warnings

import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover


def SMA(values, n):
    return pd.Series(values).rolling(n).mean()


class SmaCross(Strategy):
    n1 = 10
    n2 = 30

    def init(self):
        self.sma1 = self.I(SMA, self.data.Close, self.n1)
        self.sma2 = self.I(SMA, self.data.Close, self.n2)

    def next(self):
        if crossover(self.sma1, self.sma2):
            self.position.close()
            self.buy()
        elif crossover(self.sma2, self.sma1):
            self.position.close()
            self.sell()


def load(path, symbol):
    df = pd.read_csv(path, compression="gzip")
    d = df[df["Ticker"] == symbol].copy()
    d["Date"] = pd.to_datetime(d["Date"])
    return d.set_index("Date")[["Open", "High", "Low", "Close", "Volume"]]


def sweep(ohlc):
    """Twenty-four backtests, one per (fast, slow) pair: backtesting.py's per-bar loop dominates
    (the imports of pandas and backtesting.py's plotting take a third of the run)."""
    best = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fast in (3, 5, 10, 15, 20, 30):
            for slow in (40, 60, 90, 120):
                bt = Backtest(ohlc, SmaCross, cash=10_000, commission=0, finalize_trades=True)
                stats = bt.run(n1=fast, n2=slow)
                equity = float(stats["Equity Final [$]"])
                if best is None or equity > best[0]:
                    best = (equity, fast, slow)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/stocks.csv.gz")
    ap.add_argument("--calls", help="write cProfile call counts here instead of just running")
    ap.add_argument("--folded", help="the py-spy recording whose frame names the counts take")
    args = ap.parse_args()
    ohlc = load(args.data, "GOOG")
    if not args.calls:
        print(sweep(ohlc))
        return
    prof = cProfile.Profile()
    prof.enable()
    sweep(ohlc)
    prof.disable()
    # py-spy names a frame "qualified.name (file:line)", the file shortened (relative to the
    # sys.path entry it came from) and the line the one being run. A cProfile entry is (full
    # path, line of the `def`, bare name): it is the py-spy function with the same bare name and
    # file suffix whose lines start at or after the `def` and nearest to it.
    seen = {}  # (qualname, short file) -> lowest line seen
    with open(args.folded) as f:
        for line in f:
            stack = line.rsplit(" ", 1)[0]
            for frame in stack.split(";"):
                if frame.endswith(")") and " (" in frame:
                    func, loc = frame[:-1].rsplit(" (", 1)
                    short, _, at = loc.rpartition(":")
                    if at.isdigit():
                        key = (func, short)
                        seen[key] = min(seen.get(key, 1 << 30), int(at))
    calls = {}
    for (file, def_line, func), (_cc, nc, _tt, _ct, _callers) in pstats.Stats(prof).stats.items():
        best = None
        for (qual, short), first in seen.items():
            bare = qual.rsplit(".", 1)[-1]
            if bare == func and file.endswith(short) and first >= def_line:
                if best is None or first < best[0]:
                    best = (first, f"{short}::{qual}")
        if best:
            # Two definitions can map to one name only when one was never sampled: keep the
            # nearest definition's count.
            prev = calls.get(best[1])
            if prev is None or prev[0] < def_line:
                calls[best[1]] = (def_line, nc)
    calls = {k: v[1] for k, v in calls.items()}
    with open(args.calls, "w") as f:
        json.dump(dict(sorted(calls.items())), f, indent=1)
        f.write("\n")
    print(f"{len(calls)} functions with call counts", file=sys.stderr)


if __name__ == "__main__":
    main()
