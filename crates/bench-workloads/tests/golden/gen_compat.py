#!/usr/bin/env python3
"""Reference results for the engine's backtesting.py rules (`Rules::BacktestingPy`,
`--rules backtesting-py`), computed with the real backtesting.py 0.6.6 from PyPI.

HOW TO RUN (from the repository root; same pinned environment as
gen_backtesting_py.py):

    python3 -m venv /tmp/btvenv
    /tmp/btvenv/bin/pip install -r crates/bench-workloads/tests/golden/requirements.txt
    /tmp/btvenv/bin/python crates/bench-workloads/tests/golden/gen_compat.py

It reads data/stocks.csv.gz and (over)writes
crates/bench-workloads/tests/golden/backtesting_py_sweep.json.gz (a gzip file
written with mtime 0, so two runs give byte-identical files).  It takes about
ten minutes.

WHAT IS IN IT
-------------
* "sweep": every (fast, slow) with 1 <= fast < slow <= 30 on each of the five
  bundled stocks (2,175 backtests; FB has 196 bars), each run by ``Backtest.run`` with the
  settings of gen_backtesting_py.py (finalize_trades=True), UNCORRECTED: an
  order placed on the last bar is filled at that bar's open and the new trade
  is left open, marked at the last close in 'Equity Final [$]'.  Per case:
  symbol, fast, slow, '# Trades', 'Equity Final [$]', whether a trade was left
  open, backtesting.py's own 'Sharpe Ratio' (null where it is NaN), and a SHA-256 digest of the closed trades [EntryBar, ExitBar, Size,
  EntryPrice, ExitPrice] (``trade_digest``: every price to the bit).
* "walk_forward": walk-forward runs where backtesting.py runs every backtest
  (the in-sample slice alone; out of sample the slice [is_hi - slow, oos_hi),
  see gen_walk_forward.py for the warm-up rule) with NO correction of its
  equity, the in-sample pick by the engine's Sharpe ratio computed from
  backtesting.py's equity curve (and, beside it, the pick by backtesting.py's
  own 'Sharpe Ratio'), the out-of-sample metrics with the engine's definitions,
  and the summary figures (efficiency, parameter stability, profitable share,
  stitched curve) as gen_walk_forward.py computes them.
* "out_of_money": a synthetic series on which backtesting.py's out-of-money
  stop ends the run (see ``out_of_money``): its bars, trades and equity curve.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import struct
import sys
import warnings
from typing import Any

import numpy as np
import pandas as pd

import backtesting
from backtesting import Backtest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_backtesting_py as single  # noqa: E402
import gen_walk_forward as wf  # noqa: E402

REPO = wf.REPO
STARTING_CASH = wf.STARTING_CASH

# Cases the other golden files do not use: short windows, where a cross on a
# window's last bar is common.
WF_CASES = [
    wf.CaseSpec("IBM short windows, anchored", "IBM", fast=(2, 12, 2), slow=(14, 30, 4),
                in_sample=252, out_of_sample=63, step=63, mode="anchored"),
    wf.CaseSpec("GOOG short windows, rolling, overlapping", "GOOG", fast=(3, 15, 3), slow=(20, 40, 5),
                in_sample=189, out_of_sample=42, step=21, mode="rolling"),
]


def run(ohlc, f: int, sl: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = Backtest(ohlc, single.SmaCross, **single.SETTINGS).run(n1=f, n2=sl)
    E = stats["_equity_curve"]["Equity"].to_numpy(dtype=float)
    trades = [[int(r.EntryBar), int(r.ExitBar), int(r.Size), float(r.EntryPrice), float(r.ExitPrice)]
              for r in stats["_trades"][["EntryBar", "ExitBar", "Size", "EntryPrice", "ExitPrice"]]
              .itertuples(index=False)]
    left_open = bool(list(stats["_strategy"]._broker.trades))
    return stats, E, trades, left_open


def trade_digest(trades: list[list[Any]]) -> str:
    """SHA-256 (hex) of the trade list as text: per trade
    "EntryBar,ExitBar,Size,bits(EntryPrice),bits(ExitPrice);" where bits() is the
    IEEE-754 double's 64-bit pattern as an unsigned decimal integer, so the
    digest pins every price to the bit."""
    bits = lambda x: struct.unpack("<Q", struct.pack("<d", x))[0]  # noqa: E731
    text = "".join(f"{eb},{xb},{size},{bits(ep)},{bits(xp)};" for eb, xb, size, ep, xp in trades)
    return hashlib.sha256(text.encode()).hexdigest()


def sweep(data) -> list[list[Any]]:
    out = []
    for sym in wf.single.SYMBOLS:
        ohlc = data[sym].ohlc
        for sl in range(2, 31):
            for f in range(1, sl):
                stats, E, trades, left_open = run(ohlc, f, sl)
                assert int(stats["# Trades"]) == len(trades)
                assert float(stats["Equity Final [$]"]) == float(E[-1])
                x = float(stats["Sharpe Ratio"])
                out.append([sym, f, sl, len(trades), float(E[-1]), left_open, trade_digest(trades),
                            None if np.isnan(x) else x])
        print(f"  sweep {sym}: done", flush=True)
    return out


def walk_forward(spec: wf.CaseSpec, s) -> dict[str, Any]:
    grid = wf.param_grid(spec.fast, spec.slow)
    wins = wf.windows(len(s.close), spec.in_sample, spec.out_of_sample, spec.step, spec.mode)
    out_windows = []
    stitched: list[float] = []
    stitched_start = wins[0][1]
    for is_lo, is_hi, oos_hi in wins:
        is_ohlc = s.ohlc.iloc[is_lo:is_hi]
        is_metrics, bt_sharpe = [], []
        for f, sl in grid:
            stats, E, trades, _ = run(is_ohlc, f, sl)
            is_metrics.append(wf.metrics(E, trades, is_hi - is_lo))
            x = float(stats["Sharpe Ratio"])
            bt_sharpe.append(-np.inf if np.isnan(x) else x)
        b = wf.best_index([m["sharpe_ratio"] for m in is_metrics])
        b_bt = wf.best_index(bt_sharpe)
        fast, slow = grid[b]
        a = is_hi - slow
        _, E, trades, left_open = run(s.ohlc.iloc[a:oos_hi], fast, slow)
        assert np.all(E[:slow + 1] == STARTING_CASH)
        oos_eq = E[slow:].tolist()
        oos_tr = [[t[0] - slow, t[1] - slow] + t[2:] for t in trades]
        oos_m = wf.metrics(oos_eq, oos_tr, oos_hi - is_hi)
        covered_to = stitched_start + len(stitched)
        skip = min(max(covered_to - is_hi, 0), len(oos_eq))
        if skip < len(oos_eq):
            anchor = oos_eq[0] if skip == 0 else oos_eq[skip - 1]
            level = stitched[-1] if stitched else STARTING_CASH
            stitched.extend(e * (level / anchor) for e in oos_eq[skip:])
        out_windows.append({
            "is_lo": is_lo, "is_hi": is_hi, "oos_hi": oos_hi, "fast": fast, "slow": slow,
            "in_sample": wf.rnd(is_metrics[b]), "out_of_sample": wf.rnd(oos_m),
            "is_annualized_return_percent": wf.annualized(is_metrics[b]["final_equity"], is_hi - is_lo),
            "oos_annualized_return_percent": wf.annualized(oos_m["final_equity"], oos_hi - is_hi),
            "oos_trade_list": oos_tr,
            "oos_trade_left_open": left_open,
            "pick_by_backtesting_py_sharpe": list(grid[b_bt]),
        })
    n = len(out_windows)
    mean_is = sum(w["is_annualized_return_percent"] for w in out_windows) / n
    mean_oos = sum(w["oos_annualized_return_percent"] for w in out_windows) / n
    same = [(p["fast"], p["slow"]) == (q["fast"], q["slow"]) for p, q in zip(out_windows, out_windows[1:])]
    return {
        "name": spec.name, "symbol": spec.symbol,
        "spec": {"params": [list(p) for p in grid], "in_sample": spec.in_sample,
                 "out_of_sample": spec.out_of_sample, "step": spec.step, "mode": spec.mode},
        "summary": {
            "efficiency": mean_oos / mean_is if mean_is > 0 else None,
            "parameter_stability": sum(same) / len(same) if same else 1.0,
            "profitable_oos_share": sum(w["out_of_sample"]["final_equity"] > STARTING_CASH
                                        for w in out_windows) / n,
            "stitched_start": stitched_start, "stitched_final": stitched[-1], "stitched_length": len(stitched),
        },
        "windows": out_windows,
    }


def out_of_money() -> dict[str, Any]:
    """A synthetic series on which a short is caught by a gap: a rise to 104.5, a fall to 84.5 (the
    fast SMA crosses below the slow one: short), then the price gaps to 300 and stays. Marked at
    the gap bar's close the short's loss exceeds the equity: backtesting.py closes the trade at
    that close, sets the cash to 0, values every later bar at 0 and stops."""
    price = [90.0 + k / 2 for k in range(30)] + [104.5 - k for k in range(1, 21)] + [84.5] * 10 + [300.0] * 30
    opens = [price[0]] + price[:-1]  # each bar opens at the previous close
    index = pd.bdate_range("2020-01-01", periods=len(price))
    ohlc = pd.DataFrame({"Open": opens, "High": [max(a, b) for a, b in zip(opens, price)],
                         "Low": [min(a, b) for a, b in zip(opens, price)], "Close": price,
                         "Volume": [1000.0] * len(price)}, index=index)
    stats, E, trades, left_open = run(ohlc, 3, 10)
    assert float(E[-1]) == 0.0 and not left_open
    return {"fast": 3, "slow": 10, "open": opens, "close": price, "trades": trades,
            "equity": [float(x) for x in E], "final_equity": float(E[-1])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(REPO, "data", "stocks.csv.gz"))
    ap.add_argument("--out", default=os.path.join(HERE, "backtesting_py_sweep.json.gz"))
    args = ap.parse_args()
    assert backtesting.__version__ == "0.6.6", backtesting.__version__
    data = wf.load(args.data, wf.single.SYMBOLS)
    doc = {
        "generator": "crates/bench-workloads/tests/golden/gen_compat.py",
        "settings": single.SETTINGS,
        "sweep_fields": ["symbol", "fast", "slow", "trades", "final_equity", "trade_left_open",
                         "trade_digest (see trade_digest())", "backtesting.py's 'Sharpe Ratio' (null: NaN)"],
        "out_of_money": out_of_money(),
        "walk_forward": [walk_forward(spec, data[spec.symbol]) for spec in WF_CASES],
        "sweep": sweep(data),
    }
    text = json.dumps(doc, separators=(",", ":"), allow_nan=False).encode()
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as gz:
        gz.write(text)
    with open(args.out, "wb") as fh:
        fh.write(buf.getvalue())
    left = sum(c[5] for c in doc["sweep"])
    print(f"wrote {args.out} ({len(buf.getvalue())} bytes gzip, {len(text)} raw); "
          f"{len(doc['sweep'])} sweep cases, {left} with a trade left open; "
          f"{sum(len(c['windows']) for c in doc['walk_forward'])} walk-forward windows")


if __name__ == "__main__":
    main()
