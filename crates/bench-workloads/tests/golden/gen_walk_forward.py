#!/usr/bin/env python3
"""Golden cases for the engine's WALK-FORWARD workflow, computed with the real
backtesting.py (kernc/backtesting.py) 0.6.6 from PyPI.

HOW TO RUN (from the repository root; same pinned environment as
gen_backtesting_py.py):

    python3 -m venv /tmp/btvenv
    /tmp/btvenv/bin/pip install -r crates/bench-workloads/tests/golden/requirements.txt
    /tmp/btvenv/bin/python crates/bench-workloads/tests/golden/gen_walk_forward.py

It reads data/stocks.csv.gz and (over)writes
crates/bench-workloads/tests/golden/walk_forward_cases.json.  The output is
deterministic (no randomness, no clock, no multiprocessing): two runs give
byte-identical JSON.  Optional args: ``--data PATH`` and ``--out PATH``.

WHAT IS REPRODUCED (src/walkforward.rs ``run_walk_forward``)
-----------------------------------------------------------
* Windows: ``windows()``: window k starts at ``start = k*step``; in-sample is
  ``[start, start+IS)`` (rolling) or ``[0, start+IS)`` (anchored);
  out-of-sample is ``[start+IS, start+IS+OOS)``; windows stop when the
  out-of-sample part would pass the end of the series.
* In-sample: every grid pair is backtested on the in-sample slice ALONE
  (``Task { lookback: false }``): the slice ``[is_lo, is_hi)`` is given to
  ``Backtest`` as its whole data, so the SMAs warm up inside it and the first
  decision bar is ``is_lo + slow`` (backtesting.py: ``Strategy.next`` is first
  called at slice index ``1 + warm-up bars = slow``; engine:
  ``Task::decide_from() = lo + slow``).
* Grid search: an EXPLICIT LOOP of ``Backtest.run`` over the grid, in the
  engine's grid order (``param_grid``: fast-major, only fast < slow), NOT
  ``Backtest.optimize``: optimize builds its own parameter order, runs in
  worker processes and picks ``heatmap.idxmax()``, and it returns only the
  best run, while the objective below needs every pair's equity curve.
* Objective (``Objective::SharpeRatio``): computed by formula from each run's
  ``stats['_equity_curve']['Equity']`` (NOT backtesting.py's own 'Sharpe
  Ratio', which is defined differently): r = E[1:]/E[:-1] - 1 over every bar
  of the slice, ``np.mean(r) / np.std(r, ddof=1) * sqrt(252)``, 0 when the sd
  is 0.  Tie-break = ``Objective::best``: scan in grid order and replace the
  best only on a STRICTLY greater score, i.e. the FIRST pair (grid order) with
  the maximal score wins.  Because the engine's Sharpe is a streaming
  sum/sum-of-squares (and SIMD when not recording) while numpy uses pairwise
  summation, the two can differ in the last ~1e-14 relative; every window
  records the margin between the best and the runner-up
  (``objective_margin_relative``) and whether the engine-style streaming
  formula picks the same pair (``selection_same_with_streaming_sharpe``).
* Out-of-sample: the chosen pair on ``[is_hi, oos_hi)`` WITH lookback
  (``Task { lookback: true }``): the SMAs use the bars before ``is_hi`` and the
  first decision bar is ``is_hi`` itself (``Task::decide_from() = lo``); a
  decision at bar i compares the SMAs at bars i-1 and i, so the decision at
  ``is_hi`` needs the SMAs at ``is_hi - 1``, i.e. closes from
  ``is_hi - slow``.  WARM-UP RULE USED HERE: ``Backtest`` gets the bars
  ``[is_hi - slow, oos_hi)``; its first ``next()`` call is at slice index
  ``slow`` = absolute bar ``is_hi`` (asserted: the slow SMA's first non-NaN is
  at slice index slow-1); no order can fill before slice index slow+1, so the
  equity of slice bars 0..slow is the starting cash and the engine's curve over
  ``[is_hi, oos_hi)`` is ``Equity[slow:]``.  The six metrics are recomputed
  from that part of the curve and the trades in it, with the engine's
  definitions (``engine.rs`` ``finish``/``CurveStats``): trades = closed
  trades; final_equity = last value; total_return_percent =
  (final - 10000) / 10000 * 100; max_drawdown_percent =
  (1 - min(E / cummax(E))) * 100; sharpe_ratio as above over the OOS curve
  only (n-1 returns for n bars); exposure_percent = bars covered by any trade
  (entry and exit bar inclusive) / n * 100 with n = oos_hi - is_hi.
* Order on the last bar: backtesting.py (finalize_trades=True) fills an order
  placed on a slice's last bar at that bar's open and leaves the new trade open,
  marked at the last close in the final equity; the engine does not fill it
  (documented deviation).  Where that happens the last equity value is replaced
  by the broker's cash after the final pass (= the engine's final equity);
  trades and exposure are unaffected (the open trade is never counted).  The
  windows list the pairs where this was applied.
* Summary, as ``run_walk_forward``: annualised return
  ((final/10000)^(252/bars) - 1) * 100 with bars = is_hi - is_lo resp.
  oos_hi - is_hi; efficiency = mean annualised OOS / mean annualised IS
  (null when the latter <= 0); parameter_stability = share of consecutive
  windows keeping the previous window's pair (1.0 with fewer than 2 windows);
  profitable_oos_share = share of windows with OOS final equity > 10000;
  stitched equity: each window's OOS curve scaled by level/anchor to continue
  from the previous window's last value (bars already covered are skipped).

SMA TIES
--------
backtesting.py compares pandas' rolling means (floats); the engine decides
exactly (a mathematical tie is not a cross).  For every window, grid pair and
slice the generator compares both rules at every decision bar: exact signs from
integer sums of the 4-decimal closes converted exactly (fractions.Fraction of
the CSV text * 10^4, asserted integral) and compared as rationals
(sum_f/f vs sum_s/s via sum_f*s vs sum_s*f), float signs from the same pandas
rolling means backtesting.py used.  ``exact_tie_bars`` counts comparison bars
with an exact tie; ``exact_ties`` counts decision bars where the two rules give
different signals (every one of them must sit on an exact tie, asserted).  A
window with any disagreement is flagged; the case's numbers are then
backtesting.py's, and the exact-rule (engine) expectation is recorded beside
them.

CROSS-CHECKS (asserted; counts in "checks")
------------------------------------------
* every backtesting.py run (in-sample and out-of-sample) is re-simulated by
  ``engine_sim`` below, a plain re-implementation of ``engine.rs simulate``:
  equity curve and trade list must agree bit for bit;
* every out-of-sample run is also re-simulated over the whole warm-up slice by
  ``reference_sim`` from gen_backtesting_py.py (backtesting.py semantics,
  including its last-bar-order behaviour): bit-identical equity and trades;
* pandas' rolling means equal gen_backtesting_py.kahan_sma bit for bit; the
  engine's ticks ``(price*1e4 + 0.5) as i64`` equal the exact ticks.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import os
import platform
import re
import sys
import warnings
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd

import backtesting
from backtesting import Backtest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
sys.path.insert(0, HERE)
# The single-backtest generator: its validated strategy, settings and
# backtesting.py re-implementation are reused so both golden files share them.
import gen_backtesting_py as single  # noqa: E402

STARTING_CASH = 10_000.0
EPS = sys.float_info.epsilon
SETTINGS: dict[str, Any] = dict(single.SETTINGS)
METRICS = ("trades", "final_equity", "total_return_percent", "max_drawdown_percent",
           "sharpe_ratio", "exposure_percent")
Params = tuple[int, int]
Trade = list  # [entry_bar, exit_bar, size, entry_price, exit_price]


@dataclass(frozen=True)
class CaseSpec:
    """One walk-forward run on one asset (ranges inclusive, like ParamRange)."""
    name: str
    symbol: str
    fast: tuple[int, int, int]
    slow: tuple[int, int, int]
    in_sample: int
    out_of_sample: int
    step: int
    mode: str  # "rolling" | "anchored"
    objective: str = "sharpe_ratio"


STANDARD = dict(fast=(5, 30, 5), slow=(40, 120, 20), in_sample=504, out_of_sample=126, step=126)
CASES = [
    CaseSpec("GOOG standard walk-forward, rolling", "GOOG", mode="rolling", **STANDARD),
    CaseSpec("MSFT standard walk-forward, anchored", "MSFT", mode="anchored", **STANDARD),
    CaseSpec("AAPL short windows, rolling", "AAPL", fast=(5, 20, 5), slow=(30, 90, 30),
             in_sample=252, out_of_sample=63, step=63, mode="rolling"),
]
# Keep each stitched curve in the JSON when the whole file stays under this.
MAX_JSON_BYTES = 300_000


@dataclass
class Series:
    """One asset's unadjusted bars in file order, plus exact close ticks."""
    symbol: str
    ohlc: pd.DataFrame
    open: np.ndarray
    close: np.ndarray
    ticks: list[int]
    prefix: list[int]  # prefix[i] = sum(ticks[:i])


def load(path: str, symbols: Sequence[str]) -> dict[str, Series]:
    """Loads the CSV (pandas floats, as gen_backtesting_py.py) and the exact
    close ticks from the CSV text, asserting they describe the same numbers."""
    df = pd.read_csv(path, compression="gzip")
    raw: dict[str, list[str]] = {s: [] for s in symbols}
    with gzip.open(path, "rt", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Ticker"] in raw:
                raw[row["Ticker"]].append(row["Close"])
    out = {}
    for sym in symbols:
        d = df[df["Ticker"] == sym].copy()
        d["Date"] = pd.to_datetime(d["Date"])
        d = d.set_index("Date")[["Open", "High", "Low", "Close", "Volume"]]
        assert d.index.is_monotonic_increasing and d.index.is_unique, sym
        close = d["Close"].to_numpy(dtype=float)
        ticks = []
        for text, c in zip(raw[sym], close, strict=True):
            q = Fraction(text) * 10_000
            assert q.denominator == 1, (sym, text)
            assert float(Fraction(text)) == c, (sym, text)
            assert int(c * 10_000.0 + 0.5) == q.numerator, (sym, text)  # engine's to_ticks
            ticks.append(q.numerator)
        prefix = [0]
        for t in ticks:
            prefix.append(prefix[-1] + t)
        out[sym] = Series(sym, d, d["Open"].to_numpy(dtype=float), close, ticks, prefix)
    return out


def param_grid(fast: tuple[int, int, int], slow: tuple[int, int, int]) -> list[Params]:
    """grid.rs param_grid: fast-major, only fast < slow."""
    return [(f, s) for f in range(fast[0], fast[1] + 1, fast[2])
            for s in range(slow[0], slow[1] + 1, slow[2]) if f < s]


def windows(n: int, in_sample: int, oos: int, step: int, mode: str) -> list[tuple[int, int, int]]:
    """walkforward.rs windows(): (is_lo, is_hi, oos_hi)."""
    out = []
    start = 0
    while start + in_sample + oos <= n:
        out.append((start if mode == "rolling" else 0, start + in_sample, start + in_sample + oos))
        start += step
    return out


# ---------------------------------------------------------------- signals

def exact_signs(s: Series, f: int, sl: int, bars: range) -> list[int]:
    """sign(SMA_f - SMA_s) at each bar, exactly: the SMAs as rationals
    (fractions.Fraction of exact integer tick sums over the window length)."""
    p = s.prefix
    out = []
    for j in bars:
        sf = p[j + 1] - p[j + 1 - f]
        ss = p[j + 1] - p[j + 1 - sl]
        d = Fraction(sf, f) - Fraction(ss, sl)
        out.append((d > 0) - (d < 0))
    return out


def float_signs(fa: np.ndarray, sa: np.ndarray) -> list[int]:
    """The float comparison backtesting.py's crossover() makes."""
    return [int(a > b) - int(a < b) for a, b in zip(fa.tolist(), sa.tolist(), strict=True)]


def crosses(signs: list[int]) -> list[int]:
    """signs[k] at bars d0-1, d0, ...; returns the signal (+1 up, -1 down, 0)
    at decision bars d0, d0+1, ...: up iff prev < 0 and now > 0 (strict)."""
    return [1 if a < 0 and b > 0 else -1 if a > 0 and b < 0 else 0
            for a, b in zip(signs, signs[1:])]


# ------------------------------------------------------------- simulators

def engine_sim(o: np.ndarray, c: np.ndarray, lo: int, hi: int,
               sig: dict[int, int]) -> tuple[list[float], list[Trade]]:
    """Plain re-implementation of engine.rs `simulate` over bars [lo, hi):
    `sig` maps absolute decision bars to +1/-1; an order fills at the next
    bar's open unless placed on the last bar; the open position is closed at
    the last bar's open; equity = cash + (close*size - size*entry); trades
    have bars relative to lo."""
    cash = STARTING_CASH
    pos: Optional[tuple[float, float, int, float]] = None  # size, entry, bar, cost
    trades: list[Trade] = []
    eq = [cash]

    def close_at(bar: int, price: float) -> None:
        nonlocal cash, pos
        if pos is not None:
            size, ep, eb, _ = pos
            cash += size * (price - ep)
            trades.append([eb - lo, bar - lo, int(size), ep, float(price)])
            pos = None

    last = hi - 1
    for b in range(lo + 1, hi):
        d = sig.get(b - 1, 0)
        if d:
            close_at(b, o[b])
            shares = float(int((cash * (1.0 - EPS)) // o[b]))
            if shares >= 1.0:
                size = shares if d > 0 else -shares
                pos = (size, float(o[b]), b, size * o[b])
        if b == last:
            close_at(b, o[b])
            eq.append(cash)
        else:
            eq.append(cash if pos is None else cash + (c[b] * pos[0] - pos[3]))
    return eq[: hi - lo], trades


def metrics(eq: Sequence[float], trades: Sequence[Trade], n: int) -> dict[str, float]:
    """engine.rs Metrics from an equity curve over n bars and its trades
    (bars relative to the curve's first bar)."""
    E = np.asarray(eq, dtype=float)
    final = float(E[-1])
    peak = np.maximum.accumulate(E)
    covered = np.zeros(n, dtype=bool)
    for eb, xb, *_ in trades:
        covered[eb:xb + 1] = True
    return {
        "trades": len(trades),
        "final_equity": final,
        "total_return_percent": (final - STARTING_CASH) / STARTING_CASH * 100.0,
        "max_drawdown_percent": float((1.0 - np.min(E / peak)) * 100.0),
        "sharpe_ratio": sharpe_numpy(E),
        "exposure_percent": int(covered.sum()) / n * 100.0,
    }


def sharpe_numpy(E: np.ndarray) -> float:
    """The objective: mean/sd(ddof=1) of per-bar returns * sqrt(252), 0 if sd = 0."""
    r = E[1:] / E[:-1] - 1
    if len(r) < 2:
        return 0.0
    sd = float(np.std(r, ddof=1))
    return 0.0 if sd == 0 else float(np.mean(r) / sd * math.sqrt(252))


def sharpe_streaming(E: np.ndarray) -> float:
    """engine.rs CurveStats::sharpe (scalar path): running sum and sum of
    squares, var = (sum_sq - sum*mean)/(n-1), 0 unless var > 0."""
    s = q = 0.0
    prev = float(E[0])
    for e in E[1:].tolist():
        r = e / prev - 1.0
        s += r
        q += r * r
        prev = e
    n = len(E) - 1
    if n < 2:
        return 0.0
    mean = s / n
    var = (q - s * mean) / (n - 1)
    return mean / math.sqrt(var) * math.sqrt(252) if var > 0 else 0.0


def best_index(scores: Sequence[float]) -> int:
    """grid.rs Objective::best: first index of the maximum (strict > to replace)."""
    best = None
    for i, s in enumerate(scores):
        if best is None or s > scores[best]:
            best = i
    assert best is not None
    return best


# ------------------------------------------------------ backtesting.py runs

@dataclass
class BtRun:
    """One backtesting.py run on a slice, with the engine-equivalent curve."""
    equity_raw: np.ndarray
    equity: np.ndarray  # last value replaced by the cash if an order on the last bar was filled
    trades: list[Trade]  # slice-relative bars
    order_on_last_bar: bool
    fast_sma: np.ndarray
    slow_sma: np.ndarray


def run_bt(ohlc: pd.DataFrame, f: int, sl: int) -> BtRun:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = Backtest(ohlc, single.SmaCross, **SETTINGS).run(n1=f, n2=sl)
    strat = stats["_strategy"]
    E = stats["_equity_curve"]["Equity"].to_numpy(dtype=float)
    assert len(E) == len(ohlc)
    trades = [[int(r.EntryBar), int(r.ExitBar), int(r.Size), float(r.EntryPrice), float(r.ExitPrice)]
              for r in stats["_trades"][["EntryBar", "ExitBar", "Size", "EntryPrice", "ExitPrice"]]
              .itertuples(index=False)]
    left_open = list(strat._broker.trades)
    fixed = E.copy()
    if left_open:
        fixed[-1] = float(strat._broker._cash)
    fa = np.asarray(strat.sma1, dtype=float)
    sa = np.asarray(strat.sma2, dtype=float)
    # The indicators are pandas rolling means of the slice (Kahan running sum).
    c = ohlc["Close"].to_numpy(dtype=float)
    assert np.array_equal(fa, single.SMA(c, f).to_numpy(), equal_nan=True)
    assert np.array_equal(sa, single.SMA(c, sl).to_numpy(), equal_nan=True)
    # backtesting.py's first next() call is at 1 + warm-up bars = slow.
    assert int(np.isnan(sa).argmin()) + 1 == sl
    return BtRun(E, fixed, trades, bool(left_open), fa, sa)


@dataclass
class TieCount:
    tie_bars: int = 0
    disagreements: int = 0


def compare_rules(s: Series, f: int, sl: int, a: int, d0: int, hi: int,
                  run: BtRun, ties: TieCount) -> tuple[dict[int, int], dict[int, int]]:
    """Signals of the float rule (what backtesting.py did on slice [a, hi)) and
    the exact rule (the engine) at decision bars [d0, hi), absolute bars."""
    bars = range(d0 - 1, hi)
    ex = exact_signs(s, f, sl, bars)
    fl = float_signs(run.fast_sma[d0 - 1 - a:], run.slow_sma[d0 - 1 - a:])
    ties.tie_bars += ex.count(0)
    sx, sf = crosses(ex), crosses(fl)
    for k, (x, y) in enumerate(zip(sx, sf, strict=True)):
        if x != y:
            assert ex[k] == 0 or ex[k + 1] == 0, ("disagreement without an exact tie", s.symbol, f, sl, d0 + k)
            ties.disagreements += 1
    to_map = lambda v: {d0 + k: x for k, x in enumerate(v) if x}  # noqa: E731
    return to_map(sf), to_map(sx)


# ---------------------------------------------------------------- cases

def rnd(m: dict[str, float]) -> dict[str, Any]:
    return {k: (int(v) if k == "trades" else float(v)) for k, v in m.items()}


def annualized(final: float, bars: int) -> float:
    """walkforward.rs annualized_percent."""
    return ((final / STARTING_CASH) ** (252.0 / bars) - 1.0) * 100.0 if bars else 0.0


def run_case(spec: CaseSpec, s: Series, checks: dict[str, int]) -> dict[str, Any]:
    grid = param_grid(spec.fast, spec.slow)
    max_slow = max(sl for _, sl in grid)
    assert spec.in_sample > max_slow + 1  # run_walk_forward's own check
    wins = windows(len(s.close), spec.in_sample, spec.out_of_sample, spec.step, spec.mode)
    assert wins, spec.name
    o, c = s.open, s.close
    case_ties = TieCount()
    out_windows = []
    stitched: list[float] = []
    stitched_start = wins[0][1]
    exact_alt: list[dict[str, Any]] = []
    for is_lo, is_hi, oos_hi in wins:
        wt = TieCount()
        # ---- in-sample grid (lookback: false)
        is_ohlc = s.ohlc.iloc[is_lo:is_hi]
        is_metrics, is_metrics_exact, last_bar_pairs = [], [], []
        stream, raw_scores = [], []
        for f, sl in grid:
            run = run_bt(is_ohlc, f, sl)
            fl, ex = compare_rules(s, f, sl, is_lo, is_lo + sl, is_hi, run, wt)
            eq, tr = engine_sim(o, c, is_lo, is_hi, fl)
            assert eq == run.equity.tolist() and tr == run.trades, (spec.name, is_lo, f, sl)
            checks["in_sample_runs_engine_sim_bit_exact"] += 1
            if run.order_on_last_bar:
                last_bar_pairs.append([f, sl])
            m = metrics(run.equity, run.trades, is_hi - is_lo)
            is_metrics.append(m)
            stream.append(sharpe_streaming(run.equity))
            raw_scores.append(sharpe_numpy(run.equity_raw))
            if ex != fl:
                eq, tr = engine_sim(o, c, is_lo, is_hi, ex)
                is_metrics_exact.append(metrics(eq, tr, is_hi - is_lo))
            else:
                is_metrics_exact.append(m)
        scores = [m["sharpe_ratio"] for m in is_metrics]
        b = best_index(scores)
        fast, slow = grid[b]
        others = [x for i, x in enumerate(scores) if i != b]
        runner = max(others) if others else None
        tied_with = [list(grid[i]) for i, x in enumerate(scores) if i != b and x == scores[b]]
        same_streaming = best_index(stream) == b
        raw_pick = grid[best_index(raw_scores)]
        # ---- out-of-sample (lookback: true): feed [is_hi - slow, oos_hi)
        a = is_hi - slow
        run = run_bt(s.ohlc.iloc[a:oos_hi], fast, slow)
        assert np.all(run.equity_raw[:slow + 1] == STARTING_CASH)
        assert all(t[0] > slow for t in run.trades)
        fl, ex = compare_rules(s, fast, slow, a, is_hi, oos_hi, run, wt)
        oos_eq = run.equity[slow:].tolist()
        oos_tr = [[t[0] - slow, t[1] - slow] + t[2:] for t in run.trades]
        eq, tr = engine_sim(o, c, is_hi, oos_hi, fl)
        assert eq == oos_eq and tr == oos_tr, (spec.name, is_hi)
        checks["out_of_sample_runs_engine_sim_bit_exact"] += 1
        # independent re-simulation with backtesting.py semantics on the whole slice
        sig = np.zeros(oos_hi - a, dtype=int)
        for bar, d in ex.items():
            sig[bar - a] = d
        ref_trades, ref_eq, _ = single.reference_sim(o[a:oos_hi], c[a:oos_hi], sig, slow)
        if ex == fl:
            assert np.array_equal(ref_eq, run.equity_raw) and ref_trades == run.trades, (spec.name, is_hi)
            checks["out_of_sample_reference_sim_bit_exact"] += 1
        oos_m = metrics(oos_eq, oos_tr, oos_hi - is_hi)
        if ex != fl:
            eq_x, tr_x = engine_sim(o, c, is_hi, oos_hi, ex)
            oos_m_exact = metrics(eq_x, tr_x, oos_hi - is_hi)
        else:
            oos_m_exact = oos_m
        # the exact-rule (engine) expectation for the whole window, when it can differ
        b_x = best_index([m["sharpe_ratio"] for m in is_metrics_exact])
        flagged = wt.disagreements > 0
        if flagged:
            exact_alt.append({"is_hi": is_hi, "fast": grid[b_x][0], "slow": grid[b_x][1],
                              "in_sample": rnd(is_metrics_exact[b_x]),
                              "note": "exact-rule IS pick; OOS below assumes the backtesting.py pick",
                              "out_of_sample_with_backtesting_py_pick": rnd(oos_m_exact)})
        case_ties.tie_bars += wt.tie_bars
        case_ties.disagreements += wt.disagreements
        # ---- stitching, as run_walk_forward
        covered_to = stitched_start + len(stitched)
        skip = min(max(covered_to - is_hi, 0), len(oos_eq))
        if skip < len(oos_eq):
            anchor = oos_eq[0] if skip == 0 else oos_eq[skip - 1]
            level = stitched[-1] if stitched else STARTING_CASH
            scale = level / anchor
            stitched.extend(e * scale for e in oos_eq[skip:])
        out_windows.append({
            "symbol": s.symbol,
            "is_lo": is_lo, "is_hi": is_hi, "oos_hi": oos_hi,
            "fast": fast, "slow": slow,
            "in_sample": rnd(is_metrics[b]),
            "out_of_sample": rnd(oos_m),
            "is_annualized_return_percent": annualized(is_metrics[b]["final_equity"], is_hi - is_lo),
            "oos_annualized_return_percent": annualized(oos_m["final_equity"], oos_hi - is_hi),
            "oos_trade_list": oos_tr,
            "objective_runner_up": runner,
            "objective_margin": None if runner is None else scores[b] - runner,
            "objective_margin_relative": (None if runner is None or scores[b] == 0 else
                                          (scores[b] - runner) / abs(scores[b])),
            "objective_tied_with": tied_with,
            "selection_same_with_streaming_sharpe": same_streaming,
            "is_grid_sharpe": scores,
            "is_pairs_with_order_on_last_bar": last_bar_pairs,
            "pick_without_last_bar_correction": list(raw_pick),
            "oos_order_on_last_bar": run.order_on_last_bar,
            "exact_tie_bars": wt.tie_bars,
            "exact_ties": wt.disagreements,
            "flagged": flagged,
        })
    n = len(out_windows)
    mean_is = sum(w["is_annualized_return_percent"] for w in out_windows) / n
    mean_oos = sum(w["oos_annualized_return_percent"] for w in out_windows) / n
    pairs = [(p["fast"], p["slow"]) == (q["fast"], q["slow"])
             for p, q in zip(out_windows, out_windows[1:]) if p["symbol"] == q["symbol"]]
    summary = {
        "windows": n,
        "mean_is_annualized_return_percent": mean_is,
        "mean_oos_annualized_return_percent": mean_oos,
        "efficiency": mean_oos / mean_is if mean_is > 0 else None,
        "parameter_stability": sum(pairs) / len(pairs) if pairs else 1.0,
        "profitable_oos_share": sum(w["out_of_sample"]["final_equity"] > STARTING_CASH
                                    for w in out_windows) / n,
        "bar_evaluations": sum((hi - lo) * len(grid) + (oh - hi) for lo, hi, oh in wins),
        "stitched": [{"symbol": s.symbol, "start_bar": stitched_start, "length": len(stitched),
                      "final": stitched[-1], "equity": stitched}],
    }
    margins = [w["objective_margin_relative"] for w in out_windows if w["objective_margin_relative"] is not None]
    return {
        "name": spec.name,
        "symbol": s.symbol,
        "bars": len(s.close),
        "spec": {
            "fast": dict(zip(("start", "end", "step"), spec.fast)),
            "slow": dict(zip(("start", "end", "step"), spec.slow)),
            "params": [list(p) for p in grid],
            "in_sample": spec.in_sample, "out_of_sample": spec.out_of_sample, "step": spec.step,
            "mode": spec.mode, "objective": spec.objective,
        },
        "exact_ties": case_ties.disagreements,
        "exact_tie_bars": case_ties.tie_bars,
        "flagged_windows": [w["is_hi"] for w in out_windows if w["flagged"]],
        "exact_rule_alternatives": exact_alt,
        "min_objective_margin_relative": min(margins) if margins else None,
        "windows_with_objective_tie": sum(bool(w["objective_tied_with"]) for w in out_windows),
        "windows_where_streaming_sharpe_picks_differently":
            sum(not w["selection_same_with_streaming_sharpe"] for w in out_windows),
        "windows_where_uncorrected_backtesting_py_equity_picks_differently":
            sum(w["pick_without_last_bar_correction"] != [w["fast"], w["slow"]] for w in out_windows),
        "summary": summary,
        "windows": out_windows,
    }


META = {
    "backtest_call": "Backtest(slice_ohlc, SmaCross, cash=10000, commission=0, spread=0.0, margin=1.0, "
                     "trade_on_close=False, hedging=False, exclusive_orders=False, finalize_trades=True)"
                     ".run(n1=fast, n2=slow); SmaCross and settings from gen_backtesting_py.py",
    "data": "data/stocks.csv.gz, one ticker, unadjusted Open/High/Low/Close/Volume in file order, "
            "DatetimeIndex from Date; bar indices are 0-based positions in that series",
    "grid_search": "explicit loop of Backtest.run over the grid in param_grid order (fast-major, fast < slow), "
                   "not Backtest.optimize",
    "in_sample_rule": "Backtest gets bars [is_lo, is_hi) alone (engine Task lookback=false): SMAs warm up "
                      "inside the slice, first decision bar is_lo + slow; metrics over the whole slice",
    "warm_up_rule": "out-of-sample (engine Task lookback=true, lo=is_hi, hi=oos_hi): Backtest gets bars "
                    "[is_hi - slow, oos_hi); its first next() is at slice index slow = absolute is_hi, "
                    "comparing SMAs at is_hi-1 and is_hi (as the engine's decide_from() = lo); the engine's "
                    "curve over [is_hi, oos_hi) is Equity[slow:] (Equity[:slow+1] == 10000 asserted) and "
                    "trades are counted from is_hi; trade bars in oos_trade_list are relative to is_hi",
    "objective": "sharpe_ratio = np.mean(r)/np.std(r, ddof=1)*sqrt(252), r = E[1:]/E[:-1]-1 over the "
                 "in-sample slice's whole equity curve (warm-up bars included, as the engine), 0 if the sd "
                 "is 0; computed from stats['_equity_curve'], not backtesting.py's 'Sharpe Ratio'",
    "tie_break": "Objective::best: the first pair in grid order with the maximal score (a later pair "
                 "replaces the best only if strictly greater)",
    "order_on_last_bar": "backtesting.py fills an order placed on a slice's last bar and leaves the trade "
                         "open, marked at the last close; the engine does not fill it. The last equity value "
                         "is replaced by the broker's cash (engine semantics) before any metric is computed",
    "metrics": "engine.rs definitions over the engine's curve: trades (closed), final_equity ($), "
               "total_return_percent = (final-10000)/10000*100, max_drawdown_percent = "
               "(1-min(E/cummax E))*100 (>= 0), sharpe_ratio (above, dimensionless, annualised), "
               "exposure_percent = bars in any [entry, exit] (inclusive) / bars * 100",
    "annualized_return_percent": "((final/10000)^(252/bars) - 1)*100, bars = is_hi-is_lo or oos_hi-is_hi",
    "efficiency": "mean OOS annualised % / mean IS annualised % over the case's windows; null if mean IS <= 0",
    "parameter_stability": "share of consecutive windows (same asset) with the same (fast, slow); 1 if < 2 windows",
    "profitable_oos_share": "share of windows with OOS final_equity > 10000",
    "stitched": "run_walk_forward's StitchedCurve: each window's OOS curve * (level/anchor), level = last "
                "stitched value (10000 at first), anchor = curve[skip-1] or curve[0]; start_bar = first "
                "window's is_hi; 'equity' omitted when the JSON would exceed ~300 KB",
    "window_fields": "is_lo/is_hi/oos_hi: half-open bar ranges; fast/slow: the in-sample pick; in_sample / "
                     "out_of_sample: the six metrics; *_annualized_return_percent: %; oos_trade_list: "
                     "[entry_bar, exit_bar, size (shares, < 0 short), entry_price, exit_price], bars relative "
                     "to is_hi; is_grid_sharpe: objective of every grid pair in spec.params order; "
                     "objective_runner_up / objective_margin(_relative): second-best score and the best's "
                     "lead over it; objective_tied_with: pairs with exactly the best score (tie-break used); "
                     "selection_same_with_streaming_sharpe: the engine-style running-sum Sharpe picks the "
                     "same pair; is_pairs_with_order_on_last_bar / oos_order_on_last_bar: where the "
                     "last-bar correction was applied; pick_without_last_bar_correction: the pair "
                     "backtesting.py's own (uncorrected) equity would have picked; exact_tie_bars / "
                     "exact_ties / flagged: SMA ties in this window (all pairs and slices)",
    "exact_ties": "decision bars where the exact rule (engine) and pandas' float rolling means "
                  "(backtesting.py) give different signals, over every window, grid pair and slice; "
                  "exact_tie_bars counts comparison bars with an exact SMA tie (harmless or not)",
}


def compact(text: str) -> str:
    """Puts arrays of plain numbers (and null) on one line."""
    num = r"(?:-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|null|true|false)"
    pat = re.compile(r"\[\s*(" + num + r"(?:,\s*" + num + r")*)\s*\]")
    return pat.sub(lambda m: "[" + re.sub(r",\s*", ", ", m.group(1)) + "]", text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(REPO, "data", "stocks.csv.gz"))
    ap.add_argument("--out", default=os.path.join(HERE, "walk_forward_cases.json"))
    args = ap.parse_args()

    assert backtesting.__version__ == "0.6.6", backtesting.__version__
    data = load(args.data, sorted({c.symbol for c in CASES}))
    for s in data.values():
        for w in (5, 30, 120):
            assert np.array_equal(single.kahan_sma(s.close, w), single.SMA(s.close, w).to_numpy(),
                                  equal_nan=True)
    checks = {"in_sample_runs_engine_sim_bit_exact": 0, "out_of_sample_runs_engine_sim_bit_exact": 0,
              "out_of_sample_reference_sim_bit_exact": 0}
    cases = [run_case(spec, data[spec.symbol], checks) for spec in CASES]
    doc: dict[str, Any] = {
        "generator": "crates/bench-workloads/tests/golden/gen_walk_forward.py",
        "meta": {
            "source": "backtesting.py (PyPI 'backtesting')",
            "versions": {"backtesting": backtesting.__version__, "pandas": pd.__version__,
                         "numpy": np.__version__, "python": platform.python_version()},
            "settings": SETTINGS,
            "starting_cash": STARTING_CASH,
            **META,
        },
        "checks": checks,
        "cases": cases,
    }
    text = compact(json.dumps(doc, indent=1, allow_nan=False)) + "\n"
    if len(text.encode()) > MAX_JSON_BYTES:
        for c in cases:
            for st in c["summary"]["stitched"]:
                st.pop("equity")
        text = compact(json.dumps(doc, indent=1, allow_nan=False)) + "\n"
    with open(args.out, "w") as fh:
        fh.write(text)
    print(f"wrote {args.out} ({len(text.encode())} bytes); checks: {checks}")
    for c in cases:
        print(f"  {c['name']}: {c['summary']['windows']} windows, exact_ties {c['exact_ties']}, "
              f"exact_tie_bars {c['exact_tie_bars']}, flagged {c['flagged_windows']}, "
              f"min objective margin {c['min_objective_margin_relative']}, "
              f"streaming picks differently {c['windows_where_streaming_sharpe_picks_differently']}, "
              f"uncorrected picks differently "
              f"{c['windows_where_uncorrected_backtesting_py_equity_picks_differently']}")


if __name__ == "__main__":
    main()
