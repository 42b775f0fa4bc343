#!/usr/bin/env python3
"""Independent oracle for `cargo xtask backtest --walk-forward --json`.

Written from the documentation alone -- docs/methodology.md, sections "Walk-forward, defined"
and "The engine's rules and backtesting.py's", README.md, data/README.md and the output of
`xtask backtest --help` -- without reading the engine's Rust source. It does not import
backtesting.py either: the backtesting-py rules are re-implemented from the docs' description
(pandas' `rolling(n).mean()` over the bars backtesting.py would be given).

It recomputes every window of a walk-forward (bounds, the in-sample pick, the six in- and
out-of-sample metrics), the walk-forward efficiency, the parameter stability, the profitable
share and the stitched out-of-sample equity, and compares them with the tool's JSON: numbers to
`|a - b| <= 1e-9 * max(1, |a|, |b|)`, trades, bounds and pairs exactly. Exit 0 when everything
matches, 1 on any mismatch, 2 on a usage error.

Run (numpy and pandas needed):

    xtask backtest --walk-forward --symbols MSFT --in-sample 300 --out-of-sample 60 \
        --fast-range 4:20:4 --slow-range 25:85:15 --json > wf.json
    python3 walk_forward_oracle.py wf.json --symbols MSFT --in-sample 300 --out-of-sample 60 \
        --fast-range 4:20:4 --slow-range 25:85:15

The flags are the tool's own (--step, --anchored, --rules, --objective, --data as well);
`--gm-divisor n` switches the backtesting.py geometric mean's divisor from the documented
`n - 1` to `n` (a diagnostic, see the report).
"""
import argparse
import gzip
import json
import math
import os
import sys

import numpy as np
import pandas as pd

CASH = 10_000.0
EPS_FRACTION = 1.0 - 2.0 ** -52
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", "data", "stocks.csv.gz"))
TOL = 1e-9


# ----------------------------------------------------------------------------- data

def load(path, symbols):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as fh:
        df = pd.read_csv(fh, dtype={"Ticker": str, "Date": str})
    out = {}
    for s in symbols:
        rows = df[df["Ticker"] == s]
        if rows.empty:
            sys.exit(f"symbol {s} not in {path}")
        o = rows["Open"].to_numpy(dtype=float)
        c = rows["Close"].to_numpy(dtype=float)
        out[s] = {
            "open": o,
            "close": c,
            # prices have at most 4 decimals: whole ticks for the exact SMAs
            "ticks": np.array([round(x * 10000) for x in c], dtype=np.int64),
            "dates": rows["Date"].tolist(),
        }
    return out


def parse_range(text):
    parts = [int(p) for p in text.split(":")]
    a, b = parts[0], parts[1]
    step = parts[2] if len(parts) > 2 else 1
    return list(range(a, b + 1, step))


# ----------------------------------------------------------------------------- signals

def signals_exact(ticks, lo, hi, fast, slow, first_decision):
    """+1 cross up / -1 cross down / 0 for every decision bar in [first_decision, hi).

    SMAs compared exactly: mean_f > mean_s  <=>  sum_f * slow > sum_s * fast."""
    cs = np.concatenate(([0], np.cumsum(ticks[:hi], dtype=np.int64)))
    sig = np.zeros(hi - lo, dtype=np.int8)
    idx = np.arange(first_decision - 1, hi)  # bars whose relation we need
    sf = cs[idx + 1] - cs[idx + 1 - fast]
    ss = cs[idx + 1] - cs[idx + 1 - slow]
    lhs = sf * slow
    rhs = ss * fast
    below = lhs < rhs
    above = lhs > rhs
    up = below[:-1] & above[1:]
    down = above[:-1] & below[1:]
    d = idx[1:] - lo
    sig[d[up]] = 1
    sig[d[down]] = -1
    return sig


def signals_pandas(close, lo, hi, fast, slow, data_lo, first_decision):
    """backtesting.py's view: rolling means of close[data_lo:hi] compared as floats."""
    s = pd.Series(close[data_lo:hi])
    f = s.rolling(fast).mean().to_numpy()
    l = s.rolling(slow).mean().to_numpy()
    sig = np.zeros(hi - lo, dtype=np.int8)
    for i in range(first_decision, hi):
        j = i - data_lo
        if f[j - 1] < l[j - 1] and f[j] > l[j]:
            sig[i - lo] = 1
        elif f[j - 1] > l[j - 1] and f[j] < l[j]:
            sig[i - lo] = -1
    return sig


# ----------------------------------------------------------------------------- engine

def run(open_, close, lo, hi, sig, rules):
    """Backtest over bars [lo, hi) given the decision signals. Returns (equity, trades, exposure)."""
    n = hi - lo
    eq = np.empty(n)
    cash = CASH
    size = 0.0
    entry = 0.0
    entry_bar = None
    pending = 0
    trades = 0
    exposed = np.zeros(n, dtype=bool)
    bust = False

    def close_position(price, bar):
        nonlocal cash, size, entry, entry_bar, trades
        cash += size * (price - entry)
        exposed[entry_bar - lo: bar - lo + 1] = True
        trades += 1
        size = 0.0
        entry_bar = None

    def open_position(direction, price, bar):
        nonlocal size, entry, entry_bar
        shares = (cash * EPS_FRACTION) // price
        if shares <= 0:
            return
        size = direction * shares
        entry = price
        entry_bar = bar

    for i in range(lo, hi):
        k = i - lo
        if bust:
            eq[k] = 0.0
            continue
        if pending:
            if size != 0:
                close_position(open_[i], i)
            open_position(pending, open_[i], i)
            pending = 0
        last = i == hi - 1
        if last:
            if size != 0:
                close_position(open_[i], i)
            if sig[k] and rules == "backtesting-py":
                # order placed on the last bar: filled at its open, kept open, not counted
                open_position(int(sig[k]), open_[i], i)
                e = cash + (close[i] * size - size * entry)
                eq[k] = e
                if e <= 0:
                    eq[k] = 0.0
                continue
        e = cash + (close[i] * size - size * entry) if size != 0 else cash
        if rules == "backtesting-py" and e <= 0:
            # out-of-money stop: close at this close, everything after valued 0
            if size != 0:
                close_position(close[i], i)
            cash = 0.0
            eq[k] = 0.0
            bust = True
            continue
        eq[k] = e
        if not last and sig[k]:
            pending = int(sig[k])
    exposure = exposed.mean() * 100.0
    return eq, trades, exposure


def returns(eq):
    with np.errstate(divide="ignore", invalid="ignore"):
        r = eq[1:] / eq[:-1] - 1.0
    r[~np.isfinite(r)] = 0.0  # flat 0-valued tail after the out-of-money stop
    return r


def sharpe(eq):
    r = returns(eq)
    if len(r) < 2:
        return 0.0
    sd = r.std(ddof=1)
    if sd == 0 or not np.isfinite(sd):
        return 0.0
    return r.mean() / sd * math.sqrt(252)


GM_DIVISOR = "n-1"


def bt_sharpe(eq):
    r = returns(eq)
    if len(r) < 2:
        return float("nan")
    if np.any(1.0 + r <= 0):
        g = 0.0
    else:
        div = len(r) if GM_DIVISOR == "n-1" else len(r) + 1
        g = math.exp(np.log(1.0 + r).sum() / div) - 1.0
    a = (1.0 + g) ** 252 - 1.0
    var = r.var(ddof=1)
    v2 = (var + (1.0 + g) ** 2) ** 252 - (1.0 + g) ** 504
    v = math.sqrt(v2) if v2 >= 0 else float("nan")
    if v == 0 or not np.isfinite(v):
        return float("nan")
    return a / v


def max_drawdown(eq):
    peak = np.maximum.accumulate(eq)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = eq / peak
    return (1.0 - np.nanmin(ratio)) * 100.0


def metrics(eq, trades, exposure):
    fe = float(eq[-1])
    return {
        "trades": trades,
        "final_equity": fe,
        "total_return_percent": (fe / CASH - 1.0) * 100.0,
        "max_drawdown_percent": float(max_drawdown(eq)),
        "sharpe_ratio": float(sharpe(eq)),
        "exposure_percent": float(exposure),
    }


def annualised(final, bars):
    x = final / CASH
    if x < 0:
        return float("nan")
    return (x ** (252.0 / bars) - 1.0) * 100.0


def backtest_in_sample(a, lo, hi, fast, slow, rules):
    first = lo + slow
    if rules == "exact":
        sig = signals_exact(a["ticks"], lo, hi, fast, slow, first)
    else:
        sig = signals_pandas(a["close"], lo, hi, fast, slow, lo, first)
    return run(a["open"], a["close"], lo, hi, sig, rules)


def backtest_out_of_sample(a, lo, hi, fast, slow, rules):
    first = lo  # SMAs warmed up on the bars before: first decision is the first bar
    if rules == "exact":
        sig = signals_exact(a["ticks"], lo, hi, fast, slow, first)
    else:
        sig = signals_pandas(a["close"], lo, hi, fast, slow, lo - slow, first)
    return run(a["open"], a["close"], lo, hi, sig, rules)


def score(objective, eq):
    if objective == "sharpe-ratio":
        return sharpe(eq)
    if objective == "backtesting-py-sharpe":
        return bt_sharpe(eq)
    if objective == "final-equity":
        return eq[-1]
    if objective == "min-drawdown":
        return -max_drawdown(eq)
    raise ValueError(objective)


# ----------------------------------------------------------------------------- walk-forward

def walk_forward(data, symbols, I, O, K, anchored, pairs, rules, objective):
    windows = []
    stitched = []
    for s in symbols:
        a = data[s]
        n = len(a["close"])
        k = 0
        curve = []
        prev_oos_lo = None
        while k * K + I + O <= n:
            oos_lo = k * K + I
            oos_hi = oos_lo + O
            is_lo = 0 if anchored else k * K
            is_hi = oos_lo
            best = None
            best_score = None
            for f, l in pairs:
                eq, _, _ = backtest_in_sample(a, is_lo, is_hi, f, l, rules)
                sc = score(objective, eq)
                if best is None:
                    best, best_score = (f, l), sc
                elif math.isnan(best_score) and not math.isnan(sc):
                    best, best_score = (f, l), sc
                elif not math.isnan(sc) and sc > best_score:
                    best, best_score = (f, l), sc
            f, l = best
            ieq, itr, iex = backtest_in_sample(a, is_lo, is_hi, f, l, rules)
            oeq, otr, oex = backtest_out_of_sample(a, oos_lo, oos_hi, f, l, rules)
            windows.append({
                "symbol": s, "fast": f, "slow": l,
                "in_sample": [a["dates"][is_lo], a["dates"][is_hi - 1]],
                "out_of_sample": [a["dates"][oos_lo], a["dates"][oos_hi - 1]],
                "in_sample_metrics": metrics(ieq, itr, iex),
                "out_of_sample_metrics": metrics(oeq, otr, oex),
                "bars": {"is_lo": is_lo, "is_hi": is_hi, "oos_hi": oos_hi},
                "_is_bars": is_hi - is_lo,
            })
            # stitching
            if not curve:
                curve = [float(x) for x in oeq]
                start_bar = oos_lo
            else:
                covered_to = prev_oos_lo + O  # end of what is already covered
                first_new = max(oos_lo, covered_to)
                j0 = first_new - oos_lo
                ref = oeq[j0 - 1] if j0 > 0 else oeq[0]
                scale = curve[-1] / ref
                curve.extend(float(x) * scale for x in oeq[j0:])
            prev_oos_lo = oos_lo
            k += 1
        if curve:
            stitched.append({"symbol": s, "start_bar": start_bar, "equity": curve})
    # summaries
    is_ann = [annualised(w["in_sample_metrics"]["final_equity"], w["_is_bars"]) for w in windows]
    oos_ann = [annualised(w["out_of_sample_metrics"]["final_equity"], O) for w in windows]
    wfe = None
    if windows:
        mi = float(np.mean(is_ann))
        if mi > 0:
            wfe = float(np.mean(oos_ann)) / mi
    same = tot = 0
    for w0, w1 in zip(windows, windows[1:]):
        if w0["symbol"] == w1["symbol"]:
            tot += 1
            same += (w0["fast"], w0["slow"]) == (w1["fast"], w1["slow"])
    stability = same / tot if tot else 1.0
    profitable = (sum(w["out_of_sample_metrics"]["final_equity"] > CASH for w in windows) / len(windows)
                  if windows else None)
    return {"windows": windows, "walk_forward_efficiency": wfe, "parameter_stability": stability,
            "profitable_oos_share": profitable, "stitched": stitched}


# ----------------------------------------------------------------------------- comparison

def close_enough(a, b):
    if a is None or b is None:
        return a is None and b is None
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= TOL * max(1.0, abs(a), abs(b))


METRICS = ["trades", "final_equity", "total_return_percent", "max_drawdown_percent",
           "sharpe_ratio", "exposure_percent"]


def compare(oracle, tool, verbose):
    bad = []

    def report(where, what, ov, tv):
        bad.append((where, what, ov, tv))

    ow, tw = oracle["windows"], tool["windows"]
    print(f"windows: oracle {len(ow)}, tool {len(tw)}")
    if len(ow) != len(tw):
        report("summary", "window count", len(ow), len(tw))
    equal_windows = 0
    for i, (o, t) in enumerate(zip(ow, tw)):
        before = len(bad)
        where = f"window {i} ({o['symbol']})"
        for key in ("symbol", "fast", "slow", "in_sample", "out_of_sample"):
            if o[key] != t.get(key):
                report(where, key, o[key], t.get(key))
        for key in ("is_lo", "is_hi", "oos_hi"):
            if o["bars"][key] != t["bars"][key]:
                report(where, "bars." + key, o["bars"][key], t["bars"][key])
        for part in ("in_sample_metrics", "out_of_sample_metrics"):
            for m in METRICS:
                ov, tv = o[part][m], t[part][m]
                ok = ov == tv if m == "trades" else close_enough(ov, tv)
                if not ok:
                    report(where, f"{part}.{m}", ov, tv)
        ok = len(bad) == before
        equal_windows += ok
        if verbose or not ok:
            b = o["bars"]
            print(f"  {i:3d} {o['symbol']:5s} IS[{b['is_lo']},{b['is_hi']}) OOS[{b['is_hi']},{b['oos_hi']}) "
                  f"pair oracle {o['fast']}/{o['slow']} tool {t['fast']}/{t['slow']} "
                  f"OOS eq {o['out_of_sample_metrics']['final_equity']:.6f} "
                  f"{'EQUAL' if ok else 'DIFFERENT'}")
    print(f"windows equal: {equal_windows} / {len(tw)}")
    for key in ("walk_forward_efficiency", "parameter_stability", "profitable_oos_share"):
        ov, tv = oracle[key], tool.get(key)
        ok = close_enough(ov, tv)
        print(f"{key}: oracle {ov!r} tool {tv!r} {'EQUAL' if ok else 'DIFFERENT'}")
        if not ok:
            report("summary", key, ov, tv)
    os_, ts = oracle["stitched"], tool["stitched"]
    if len(os_) != len(ts):
        report("stitched", "assets", len(os_), len(ts))
    for o, t in zip(os_, ts):
        where = f"stitched {o['symbol']}"
        n_bad = len(bad)
        if o["symbol"] != t["symbol"]:
            report(where, "symbol", o["symbol"], t["symbol"])
        if o["start_bar"] != t["start_bar"]:
            report(where, "start_bar", o["start_bar"], t["start_bar"])
        if len(o["equity"]) != len(t["equity"]):
            report(where, "length", len(o["equity"]), len(t["equity"]))
        worst = 0.0
        for j, (a, b) in enumerate(zip(o["equity"], t["equity"])):
            worst = max(worst, abs(a - b) / max(1.0, abs(a), abs(b)))
            if not close_enough(a, b):
                report(where, f"equity[{j}]", a, b)
                break
        print(f"{where}: start {o['start_bar']}/{t['start_bar']}, length {len(o['equity'])}/{len(t['equity'])}, "
              f"largest relative difference {worst:.3g} {'EQUAL' if len(bad) == n_bad else 'DIFFERENT'}")
    return bad


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("tool_json")
    p.add_argument("--symbols", required=True)
    p.add_argument("--in-sample", type=int, default=504)
    p.add_argument("--out-of-sample", type=int, default=126)
    p.add_argument("--step", type=int)
    p.add_argument("--anchored", action="store_true")
    p.add_argument("--fast-range", default="5:30:5")
    p.add_argument("--slow-range", default="40:120:20")
    p.add_argument("--rules", choices=["exact", "backtesting-py"], default="exact")
    p.add_argument("--objective", default="sharpe-ratio",
                   choices=["sharpe-ratio", "backtesting-py-sharpe", "final-equity", "min-drawdown"])
    p.add_argument("--data", default=DEFAULT_DATA)
    p.add_argument("--gm-divisor", choices=["n-1", "n"], default="n-1")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    global GM_DIVISOR
    GM_DIVISOR = args.gm_divisor
    symbols = args.symbols.split(",")
    K = args.step or args.out_of_sample
    pairs = [(f, l) for f in parse_range(args.fast_range) for l in parse_range(args.slow_range) if f < l]
    data = load(args.data, symbols)
    with open(args.tool_json) as fh:
        tool = json.load(fh)
    oracle = walk_forward(data, symbols, args.in_sample, args.out_of_sample, K, args.anchored,
                          pairs, args.rules, args.objective)
    bad = compare(oracle, tool, args.verbose)
    if bad:
        print(f"MISMATCHES: {len(bad)}; first: {bad[0][0]} {bad[0][1]}: oracle {bad[0][2]!r} tool {bad[0][3]!r}")
        for b in bad[1:10]:
            print(f"  {b[0]} {b[1]}: oracle {b[2]!r} tool {b[3]!r}")
        return 1
    print("ALL EQUAL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
