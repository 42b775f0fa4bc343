#!/usr/bin/env python3
"""Generate golden reference cases for the SMA-crossover backtest engine by
running the real backtesting.py (kernc/backtesting.py) 0.6.6 from PyPI.

HOW TO RUN (from the repository root):

    python3 -m venv /tmp/btvenv
    /tmp/btvenv/bin/pip install -r crates/bench-workloads/tests/golden/requirements.txt
    /tmp/btvenv/bin/python crates/bench-workloads/tests/golden/gen_backtesting_py.py

It reads data/stocks.csv.gz and (over)writes
crates/bench-workloads/tests/golden/backtesting_py_cases.json.  Output is
deterministic: running it twice gives byte-identical JSON.  Optional args:
``--data PATH`` and ``--out PATH``.

BACKTEST SETTINGS (the ones that reproduce the project's golden case
GOOG fast=10 slow=30 -> 66 trades, final equity 51406.235):

    Backtest(ohlc, SmaCross, cash=10_000, commission=0, spread=0, margin=1,
             trade_on_close=False, hedging=False, exclusive_orders=False,
             finalize_trades=True)

Without finalize_trades=True (the 0.6.6 default is False) the same case gives
65 trades and 51943.195 (the last trade stays open, is left out of the stats
and is marked to market at the last close).

Data: unadjusted Open/High/Low/Close/Volume of one ticker, DatetimeIndex from
Date, rows kept in file order (dates ascending; asserted).

SEMANTICS OF backtesting.py 0.6.6 (read from its source and checked below by an
independent re-implementation, see `reference_sim`):

* First decision bar: Backtest.run() calls Strategy.next() for bars
  i = start .. n-1 with start = 1 + (number of leading NaNs of the slowest
  indicator) = slow.  crossover(a, b) is a[-2] < b[-2] and a[-1] > b[-1]
  (strict on both bars).
* SMA = pandas rolling(n).mean(), which is NOT a naive window sum: it is one
  running Kahan-compensated sum (see `kahan_sma`, asserted bit-identical to
  pandas for every case).  A naive sum(window)/n changes the crossover signals
  of IBM 5/20 and MSFT 5/20 (near-ties), so an engine must use the same
  algorithm to reproduce those cases' trades.
* A market order placed by next() at bar i fills at Open[i+1]; the trade's
  EntryBar/ExitBar is i+1.  position.close() is processed before buy()/sell()
  on the same bar (close orders are inserted at the front of the queue).
* Size of buy()/sell() (default size = 1 - 2**-52):
  int((margin_available * leverage * (1 - eps)) // price); with no open trades
  margin_available == cash, leverage == 1.0.  Note Python float `//`
  (floor of the exact quotient), not floor(a / b).
* Cash bookkeeping: cash += size * (exit_price - entry_price) at each close
  (commission 0).  Equity at bar i (recorded after fills at Open[i]):
  cash + (Close[i] * size - size * entry_price)  (that exact float form).
* finalize_trades=True: after next() ran on the last bar n-1, every still-open
  trade gets a close order, and the broker is run once more ON THE LAST BAR:
  open trades are closed at Open[n-1] (ExitBar = n-1), and the equity value of
  bar n-1 is overwritten with the result.  So an open position is closed at
  the LAST BAR'S OPEN, and E[n-1] == final cash in the normal case.
  A trade whose entry was filled at Open[n-1] (signal on bar n-2) is closed at
  the same price: EntryBar == ExitBar == n-1, PnL 0, and it IS counted.
* An order placed by next() on the LAST bar (signal at bar n-1) is NOT dropped:
  the extra broker pass fills it at Open[n-1], the old position is closed at
  Open[n-1] and a NEW trade is opened at Open[n-1]; that new trade is left open
  (never in stats['_trades'], not counted in # Trades, not in exposure), but
  it is marked to market at Close[n-1] in E[n-1] / 'Equity Final [$]'.  See
  "semantics_probes" in the JSON.  (None of the full-data cases has a signal on
  its last bar; the JSON field "signal_on_last_bar" says so per case.)
* Equity curve: one value per bar, all n bars.  Bars 0..start-1 (before the
  first next() call) are back-filled with the value at bar `start`, i.e. 10000.
* Exposure Time [%] = 100 * mean over ALL n bars of "bar is in
  [EntryBar, ExitBar] of some closed trade", INCLUSIVE at both ends (a bar
  where one trade exits and the next enters counts once).
* Max. Drawdown [%] = -100 * max(1 - E / cummax(E)).
* 'Return [%]' = (E[-1] - E[0]) / E[0] * 100.
* "sharpe_ratio" in the JSON is NOT backtesting.py's Sharpe: it is the
  project's definition  r = E[1:]/E[:-1] - 1 over all bars,
  mean(r) / std(r, ddof=1) * sqrt(252)  (0.0 if std == 0), computed with numpy
  (np.mean/np.std use pairwise summation, so a naive-loop implementation may
  differ in the last few ulps).
"""

import argparse
import json
import math
import os
import platform
import sys
import warnings

import numpy as np
import pandas as pd

import backtesting
from backtesting import Backtest, Strategy
from backtesting.lib import crossover

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))

SETTINGS = dict(
    cash=10_000,
    commission=0,
    spread=0.0,
    margin=1.0,
    trade_on_close=False,
    hedging=False,
    exclusive_orders=False,
    finalize_trades=True,
)

SYMBOLS = ["AAPL", "IBM", "MSFT", "GOOG", "FB"]
GRID = [(10, 30), (5, 20), (20, 50), (10, 100)]
EXTRA = [("GOOG", 10, 20), ("GOOG", 2, 3), ("MSFT", 50, 200), ("AAPL", 3, 7), ("FB", 30, 190)]
# (FB 10/30 is already in the grid)
WITH_EQUITY_CURVE = {("GOOG", 10, 30), ("FB", 10, 30), ("IBM", 5, 20)}
GOLDEN = dict(symbol="GOOG", fast=10, slow=30, trades=66, final_equity=51406.235)

EPS = sys.float_info.epsilon


def SMA(values, n):
    return pd.Series(values).rolling(n).mean()


class SmaCross(Strategy):
    n1 = 10
    n2 = 20

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


def load(path):
    df = pd.read_csv(path, compression="gzip")
    out = {}
    for sym in SYMBOLS:
        d = df[df["Ticker"] == sym].copy()
        d["Date"] = pd.to_datetime(d["Date"])
        d = d.set_index("Date")[["Open", "High", "Low", "Close", "Volume"]]
        assert d.index.is_monotonic_increasing and d.index.is_unique, sym
        out[sym] = d
    return out


def run_bt(ohlc, fast, slow):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        bt = Backtest(ohlc, SmaCross, **SETTINGS)
        stats = bt.run(n1=fast, n2=slow)
    msgs = sorted({str(x.message).split("\n")[0] for x in w
                   if issubclass(x.category, UserWarning)
                   and not issubclass(x.category, (DeprecationWarning, FutureWarning))
                   and "prices are larger than initial cash" not in str(x.message)})
    return stats, msgs


def signals(close, fast, slow, sma=None):
    """Signals computed independently of the engine: +1 where the fast SMA crosses above the slow, -1 where it crosses below."""
    f = sma(close, fast) if sma else SMA(close, fast).to_numpy()
    s = sma(close, slow) if sma else SMA(close, slow).to_numpy()
    n = len(close)
    sig = np.zeros(n, dtype=int)
    for i in range(slow, n):
        if f[i - 1] < s[i - 1] and f[i] > s[i]:
            sig[i] = 1
        elif s[i - 1] < f[i - 1] and s[i] > f[i]:
            sig[i] = -1
    return sig


def naive_sma(close, n):
    out = np.full(len(close), np.nan)
    for i in range(n - 1, len(close)):
        acc = 0.0
        for v in close[i - n + 1:i + 1]:
            acc += v
        out[i] = acc / n
    return out


def kahan_sma(close, n):
    """Re-implementation of pandas' fixed-window rolling mean (Cython roll_mean,
    mirrored by pandas/core/_numba/kernels/mean_.py): ONE running Kahan-
    compensated sum over the whole series, separate compensation terms for
    adding (entering value) and removing (leaving value); per step first
    remove close[i-n], then add close[i]; result = sum / n; if the last n
    added values are all equal the result is that value exactly.  (The
    neg_ct clamps never trigger for positive prices.)"""
    out = np.full(len(close), np.nan)
    sum_x = comp_add = comp_rem = 0.0
    same = 0
    prev = close[0] if len(close) else np.nan
    for i, val in enumerate(close):
        if i >= n:
            y = -close[i - n] - comp_rem
            t = sum_x + y
            comp_rem = t - sum_x - y
            sum_x = t
        y = val - comp_add
        t = sum_x + y
        comp_add = t - sum_x - y
        sum_x = t
        same = same + 1 if val == prev else 1
        prev = val
        if i >= n - 1:
            out[i] = prev if same >= n else sum_x / n
    return out


def reference_sim(o, c, sig, slow, cash0=10_000.0):
    """Plain re-implementation of backtesting.py's behaviour for this strategy
    (incl. finalize_trades=True).  Returns (trades, equity, open_trade_left)."""
    n = len(o)
    cash = float(cash0)
    pos = None  # [size, entry_price, entry_bar]
    trades = []
    eq = np.full(n, np.nan)
    pending = 0

    def fill(i, direction):
        nonlocal cash, pos
        if pos is not None:
            size, ep, eb = pos
            cash += size * (o[i] - ep)
            trades.append([eb, i, size, ep, float(o[i])])
            pos = None
        if direction:
            size = int((cash * 1.0 * (1 - EPS)) // o[i])
            if size:
                pos = [direction * size, float(o[i]), i]

    def mark(i):
        if pos is None:
            return cash
        size, ep, _ = pos
        return cash + (c[i] * size - size * ep)

    for i in range(slow, n):
        if pending:
            fill(i, pending)
            pending = 0
        eq[i] = mark(i)
        pending = int(sig[i])
    # finalize_trades=True: extra broker pass on the last bar
    if n > slow and (pos is not None or pending):
        fill(n - 1, pending)
        eq[n - 1] = mark(n - 1)
    eq[:slow] = eq[slow] if n > slow else cash0
    return trades, eq, pos


def py(x):
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        return float(x)
    return x


def case_record(sym, ohlc, fast, slow, with_curve, checks):
    stats, warns = run_bt(ohlc, fast, slow)
    n = len(ohlc)
    E = stats["_equity_curve"]["Equity"].to_numpy(dtype=float)
    assert len(E) == n
    tr = stats["_trades"]
    trade_list = [[int(r.EntryBar), int(r.ExitBar), int(r.Size),
                   float(r.EntryPrice), float(r.ExitPrice)]
                  for r in tr[["EntryBar", "ExitBar", "Size", "EntryPrice", "ExitPrice"]]
                  .itertuples(index=False)]

    r = E[1:] / E[:-1] - 1
    sd = float(np.std(r, ddof=1)) if len(r) > 1 else 0.0
    sharpe = 0.0 if sd == 0 else float(np.mean(r) / sd * math.sqrt(252))
    peak = np.maximum.accumulate(E)
    mdd_re = float(np.max(1 - E / peak) * 100)
    mdd = float(-stats["Max. Drawdown [%]"])
    assert mdd_re == mdd, (sym, fast, slow, mdd_re, mdd)

    # Exposure: inclusive [EntryBar, ExitBar] over all n bars.
    cov = np.zeros(n, dtype=bool)
    cov_excl = np.zeros(n, dtype=bool)
    for eb, xb, *_ in trade_list:
        cov[eb:xb + 1] = True
        cov_excl[eb:xb] = True
    exposure = float(stats["Exposure Time [%]"])
    exp_incl = float(cov.mean() * 100)
    exp_excl = float(cov_excl.mean() * 100)
    assert exp_incl == exposure, (sym, fast, slow, exp_incl, exposure)
    checks["exposure_inclusive_matches"] += 1
    if exp_excl != exposure:
        checks["exposure_exclusive_would_differ"] += 1

    # Independent re-implementation must agree bit-for-bit.
    o = ohlc["Open"].to_numpy(dtype=float)
    c = ohlc["Close"].to_numpy(dtype=float)
    sig = signals(c, fast, slow)
    ref_trades, ref_eq, left_open = reference_sim(o, c, sig, slow)
    assert ref_trades == trade_list, (sym, fast, slow)
    assert np.array_equal(ref_eq, E), (sym, fast, slow)
    assert left_open is None or sig[n - 1] != 0
    checks["reference_sim_bit_exact"] += 1

    # Does floor(a / b) ever differ from a // b for the sizes?
    cash = 10_000.0
    for eb, xb, size, ep, xp in trade_list:
        a = cash * (1 - EPS)
        if math.floor(a / ep) != int(a // ep):
            checks["size_floor_div_vs_floordiv_differs"].append([sym, fast, slow, eb])
        cash += size * (xp - ep)

    # The Kahan re-implementation must equal pandas' rolling mean bit-for-bit.
    for w in (fast, slow):
        assert np.array_equal(kahan_sma(c, w), SMA(c, w).to_numpy(), equal_nan=True), (sym, w)
    checks["kahan_sma_equals_pandas_rolling_mean"] += 1

    # Would a naive window-sum SMA give different signals than pandas rolling?
    if not np.array_equal(sig, signals(c, fast, slow, sma=naive_sma)):
        checks["naive_sma_signals_differ"].append([sym, fast, slow])

    rec = {
        "symbol": sym,
        "fast": fast,
        "slow": slow,
        "bars": n,
        "trades": int(stats["# Trades"]),
        "final_equity": float(stats["Equity Final [$]"]),
        "total_return_percent": float(stats["Return [%]"]),
        "max_drawdown_percent": mdd,
        "exposure_percent": exposure,
        "sharpe_ratio": sharpe,
        "max_drawdown_percent_recomputed": mdd_re,
        "signal_on_last_bar": bool(sig[n - 1] != 0),
        "open_trade_left_after_finalize": left_open is not None,
        "bt_warnings": warns,
        "trade_list": trade_list,
    }
    if with_curve:
        rec["equity_curve"] = [float(x) for x in E]
    return rec


def probes(data):
    """Truncate GOOG so that a signal falls on the last bar / second-to-last
    bar, to document what backtesting.py does there."""
    sym, fast, slow = "GOOG", 10, 30
    full = data[sym]
    sig = signals(full["Close"].to_numpy(dtype=float), fast, slow)
    k = int(np.nonzero(sig)[0][5])  # some signal bar well inside the data
    out = []
    for n, what in [(k + 1, "signal on the last bar (order placed on last bar)"),
                    (k + 2, "signal on bar n-2 (entry fills at last bar's open)")]:
        ohlc = full.iloc[:n]
        stats, _ = run_bt(ohlc, fast, slow)
        strat = stats["_strategy"]
        still_open = [[int(t.entry_bar), int(t.size), float(t.entry_price)]
                      for t in strat._broker.trades]
        E = stats["_equity_curve"]["Equity"].to_numpy(dtype=float)
        last = stats["_trades"].iloc[-1]
        out.append({
            "symbol": sym, "fast": fast, "slow": slow, "bars": n,
            "description": what,
            "signal_at_last_bar": int(sig[n - 1]),
            "signal_at_bar_n_minus_2": int(sig[n - 2]),
            "trades": int(stats["# Trades"]),
            "final_equity": float(stats["Equity Final [$]"]),
            "last_closed_trade": [int(last.EntryBar), int(last.ExitBar), int(last.Size),
                                  float(last.EntryPrice), float(last.ExitPrice)],
            "trades_left_open_after_finalize": still_open,
            "open_last_bar": float(ohlc["Open"].iloc[-1]),
            "close_last_bar": float(ohlc["Close"].iloc[-1]),
            "equity_last_3": [float(x) for x in E[-3:]],
        })
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(REPO, "data", "stocks.csv.gz"))
    ap.add_argument("--out", default=os.path.join(HERE, "backtesting_py_cases.json"))
    args = ap.parse_args()

    assert backtesting.__version__ == "0.6.6", backtesting.__version__
    data = load(args.data)

    plan = [(s, f, sl) for s in SYMBOLS for f, sl in GRID] + EXTRA
    checks = {"exposure_inclusive_matches": 0, "exposure_exclusive_would_differ": 0,
              "reference_sim_bit_exact": 0,
              "kahan_sma_equals_pandas_rolling_mean": 0, "size_floor_div_vs_floordiv_differs": [],
              "naive_sma_signals_differ": []}
    cases = [case_record(s, data[s], f, sl, (s, f, sl) in WITH_EQUITY_CURVE, checks)
             for s, f, sl in plan]

    g = next(c for c in cases if (c["symbol"], c["fast"], c["slow"]) ==
             (GOLDEN["symbol"], GOLDEN["fast"], GOLDEN["slow"]))
    assert g["trades"] == GOLDEN["trades"], g["trades"]
    assert round(g["final_equity"], 3) == GOLDEN["final_equity"], g["final_equity"]

    doc = {
        "generator": "crates/bench-workloads/tests/golden/gen_backtesting_py.py",
        "source": "backtesting.py (PyPI 'backtesting')",
        "versions": {"backtesting": backtesting.__version__, "pandas": pd.__version__,
                     "numpy": np.__version__, "python": platform.python_version()},
        "data": "data/stocks.csv.gz, unadjusted Open/High/Low/Close/Volume, DatetimeIndex from Date",
        "strategy": "SmaCross: SMA = pd.Series(v).rolling(n).mean(); on crossover(fast, slow): "
                    "position.close(); buy()  elif crossover(slow, fast): position.close(); sell()",
        "settings": SETTINGS,
        "golden_check": {**GOLDEN, "reproduced_final_equity": g["final_equity"]},
        "semantics": {
            "first_decision_bar": "slow (Strategy.next called for i = slow .. n-1)",
            "sma": "pandas rolling(n).mean(): single running Kahan-compensated sum, remove "
                   "close[i-n] (own compensation term) then add close[i] (own compensation term), "
                   "sum/n; exact value if the last n closes are equal. See kahan_sma() in the "
                   "generator. A naive window sum flips signals in IBM 5/20 and MSFT 5/20.",
            "crossover": "a[i-1] < b[i-1] and a[i] > b[i], strict",
            "fill": "market orders placed at bar i fill at Open[i+1]; EntryBar/ExitBar = i+1",
            "size": "int((cash * 1.0 * (1 - 2**-52)) // fill_price)  (python float floor-division)",
            "cash": "cash += size * (exit_price - entry_price) on each close",
            "equity": "E[i] = cash + (Close[i]*size - size*entry_price) if a trade is open else cash; "
                      "recorded after the fills at Open[i]",
            "equity_curve_start": "one value per bar for all bars; bars 0..slow-1 back-filled with "
                                  "E[slow] (= cash = 10000)",
            "final_close": "finalize_trades=True re-runs the broker on the last bar: open trades close "
                           "at Open[n-1] (ExitBar n-1) and E[n-1] is overwritten (= final cash)",
            "order_on_last_bar": "NOT dropped: filled at Open[n-1] by the finalize pass; the old trade "
                                 "closes at Open[n-1], the new trade opens at Open[n-1] and stays open: "
                                 "not in # Trades / _trades / exposure, but marked at Close[n-1] in "
                                 "E[n-1] and Equity Final. No full-data case here hits this.",
            "entry_on_last_bar": "signal at n-2 -> trade with EntryBar == ExitBar == n-1, entry == exit "
                                 "price, PnL 0, counted in # Trades",
            "exposure": "100 * (#bars covered by any [EntryBar, ExitBar], inclusive both ends) / n, "
                        "over all n bars (warm-up included in the denominator)",
            "max_drawdown_percent": "100 * max(1 - E / cummax(E))",
            "return_percent": "(E[-1] - E[0]) / E[0] * 100",
            "sharpe_ratio": "project definition, not backtesting.py's: r = E[1:]/E[:-1]-1 (all bars), "
                            "np.mean(r)/np.std(r, ddof=1)*sqrt(252), 0 if std == 0",
        },
        "checks": checks,
        "cases": cases,
        "semantics_probes": probes(data),
    }
    text = json.dumps(doc, indent=1, allow_nan=False) + "\n"
    with open(args.out, "w") as fh:
        fh.write(text)
    print(f"wrote {args.out}: {len(cases)} cases; checks: "
          f"{ {k: v for k, v in checks.items()} }")


if __name__ == "__main__":
    main()
