#!/usr/bin/env python3
"""A backtesting.py SMA-crossover sweep on the bundled GOOG bars: the Python workload whose
py-spy recording (`backtesting_py.folded`) and call counts (`backtesting_py_calls.json`) are the
fixture of `cargo xtask profile --from`.

HOW TO RUN (from the repository root):

    python3 -m venv /tmp/btvenv
    /tmp/btvenv/bin/pip install -r crates/bench-profile/tests/pyspy/requirements.txt
    bash crates/bench-profile/tests/pyspy/record.sh /tmp/btvenv

`record.sh` runs this script twice: under py-spy (`record --format raw`, 250 Hz) for the
stacks, and under `tools/py_spy_calls.py` (cProfile) for exact call counts, written as
`{"file::function": calls}` in the naming `--from` gives py-spy's frames.
"""

import argparse
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
    args = ap.parse_args()
    ohlc = load(args.data, "GOOG")
    print(sweep(ohlc))


if __name__ == "__main__":
    main()
