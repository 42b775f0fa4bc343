#!/usr/bin/env python3
"""Side-by-side throughput of the project's Rust SMA-crossover grid search
(`xtask backtest --grid`) against two Python peers, backtesting.py 0.6.6 and
vectorbt, on the same bars and the same parameter grid.

SETUP (once; from the repository root; this script never pip-installs):

    python3 -m venv /tmp/peervenv            # or any path, then export PEER_VENV=that path
    /tmp/peervenv/bin/pip install -r crates/bench-workloads/benches/requirements-peers.txt
    cargo build --release -p xtask           # provides target/release/xtask
    # optional, recommended: freeze the binary so a rebuild during the run cannot swap it
    cp target/release/xtask /tmp/xtask-bench

RUN:

    /tmp/peervenv/bin/python crates/bench-workloads/benches/compare_peers.py \
        [--xtask /tmp/xtask-bench] [--out /tmp/compare_peers.json] [--quick]

Full mode takes roughly 7-10 minutes on the 2-core machine, mostly
backtesting.py (about 6 s per GOOG grid and 45 s per ALL5 grid in one
process); --quick takes about 1 minute.

If started with another interpreter, the script re-executes itself with
$PEER_VENV/bin/python (default PEER_VENV=/tmp/peervenv).  Run it on an idle
machine: it prints the load average at start and end, and every repetition
of every engine is interleaved round-robin (bt, vbt, rust, bt, vbt, rust, ...)
so that all engines share the same machine conditions.

WHAT IS MEASURED (full mode; --quick shrinks everything, see --help)

Grid: fast 5:50:5 x slow 20:200:20, only fast < slow -> 90 pairs, the
SmaCross strategy of backtesting.py's README with cash 10000, no commission,
finalize_trades=True.  The strategy class, the Backtest settings and the data
loader are imported from crates/bench-workloads/tests/golden/gen_backtesting_py.py
(the generator of the project's golden cases), so they are exactly the ones
that the Rust engine is checked against.

Datasets (bundled data/stocks.csv.gz, unadjusted OHLC):
  * GOOG      - 2148 bars
  * ALL5      - AAPL, IBM, MSFT, GOOG, FB (3270+3270+3270+2148+196 = 12154 bars);
                the peers loop over the symbols (one optimize / one vectorbt
                run per symbol, times added up), the Rust engine gets all five
                in one --symbols call.
  * DERIVED   - Rust only: its own derived series (`--derived --assets 1
                --bars 252000 --seed 42`, a seeded block bootstrap of the real
                bars).  The Rust tool cannot export those bars, and this script
                makes no derived data of its own, so the peers are not run on it.

bar evaluations = bars x combinations (e.g. 2148 x 90 = 193,320 for GOOG);
bar_evals_per_s = bar evaluations / median seconds.

Engines / timings:
  * backtesting.py  `Backtest(ohlc, SmaCross, **SETTINGS).optimize(n1=range(..),
    n2=range(..), constraint=lambda p: p.n1 < p.n2, maximize='Equity Final [$]',
    return_heatmap=False)`; the timer covers the optimize() call only (Backtest
    construction and data loading excluded).  optimize() runs the admissible
    combinations through `backtesting.Pool()` and then re-runs the best one once
    more in the parent process (so 91 backtests for 90 pairs).
      - "default":  backtesting.Pool as shipped: on Linux a fork-based
        multiprocessing.Pool(processes=None) = os.cpu_count() processes; the
        combinations are cut into batches of max(1, min(300, n // cpu_count))
        and the data is passed through shared memory.  The pool's process
        count is recorded.  Pool start-up is part of the timed call.
      - "1 process": backtesting.Pool replaced (the documented override point)
        by an in-process serial pool whose imap() is the built-in map().
  * vectorbt (numba engine; vectorbt-rust is not installed).  The first run of
    every variant compiles numba code (and writes numba's on-disk cache): one
    untimed warm-up run per variant and dataset precedes the timed runs.  The
    timer covers: two MA.run calls (windows given as the 90 (fast, slow) pairs,
    columns paired as in vectorbt's docs), ma_crossed_above / ma_crossed_below,
    Portfolio.from_signals and total_return() + final_value() for all columns.
    Single-threaded (from_signals is not parallelised).
      - "standard": the stock vectorbt idiom, `from_signals(close, entries,
        exits, init_cash=10000)`: long-only, fills at the signal bar's CLOSE,
        fractional shares, an open position is marked at the last close.
      - "aligned":  same signals, made to mimic backtesting.py: signals shifted
        one bar and filled at the next bar's OPEN, long+short with
        upon_opposite_entry='reverse', whole shares (size_granularity=1), all
        positions closed at the last bar's open (finalize_trades=True).
    Known remaining semantic differences to backtesting.py (not forced away):
    vectorbt's rolling mean is a plain cumulative-sum difference (pandas uses
    a Kahan-compensated running sum) and its crossover counts a cross through
    an exact tie (a<b, a==b, a>b) that backtesting.py's strict crossover does
    not; a signal on the very last bar is ignored by "aligned" (backtesting.py
    would open a trade at the last open and mark it at the last close).  So
    near-ties can flip trades (e.g. IBM 5/20), see the agreement check.
  * Rust engine  `xtask backtest --grid --fast-range .. --slow-range ..
    --symbols .. --step STEP --workers W --json` for every ladder step and
    W in {1, 2}.  Two timings: "engine" = the JSON's `seconds` (the sweep only,
    no process start, no CSV parse), "process" = wall time of the whole
    subprocess measured here (process start + gzip CSV parse + sweep + JSON).
    The peers' timings are in-process and correspond to "engine".

Every configuration is repeated --reps times (3; --quick: 2) round-robin and
the median is reported (min/max are in the JSON).  Before timing, an
agreement check compares final equity / trades of a few (symbol, fast, slow)
cases between backtesting.py (Backtest.run), the Rust engine (single
backtest), vectorbt standard & aligned and the golden JSON, and after timing
the best grid pair of every engine is compared.  IBM 5/20 and MSFT 5/20 are
exact-tie cases: the SMAs are mathematically equal at a decision bar, the Rust
CLI compares them exactly and backtesting.py compares pandas' rounded means, so
they differ there by design (see tests/golden_backtesting_py.rs).

Output: a Markdown table on stdout and a JSON document at --out.  Exit status
1 if the engines disagree where they should not (a non-tie check case, the
golden JSON, or the best grid pair of Rust vs backtesting.py).
"""

import argparse
import datetime as _dt
import hashlib
import importlib.util
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings

os.environ.setdefault("TQDM_DISABLE", "1")  # before tqdm is imported: no optimize progress bar

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
GOLDEN_DIR = os.path.join(REPO, "crates", "bench-workloads", "tests", "golden")
GOLDEN_SCRIPT = os.path.join(GOLDEN_DIR, "gen_backtesting_py.py")
GOLDEN_JSON = os.path.join(GOLDEN_DIR, "backtesting_py_cases.json")
DEFAULT_VENV = "/tmp/peervenv"

STEPS = ["baseline", "batch-init", "indicator-cache", "persistent-workers",
         "vectorized-signals", "prefix-sums"]
ALL5 = ["AAPL", "IBM", "MSFT", "GOOG", "FB"]
# (symbol, fast, slow, exact_tie): exact_tie marks the two golden cases where the two SMAs are
# mathematically equal at a decision bar.  The Rust CLI compares SMAs exactly (the engine's
# contract); backtesting.py compares pandas' rounded rolling means, so there the engine
# differs from backtesting.py by design (documented and asserted in
# crates/bench-workloads/tests/golden_backtesting_py.rs, exact_comparison_differs_only_at_exact_ties).
CHECK_CASES = [("GOOG", 10, 30, False), ("GOOG", 5, 20, False), ("GOOG", 20, 50, False),
               ("IBM", 5, 20, True), ("MSFT", 5, 20, True)]
FULL = dict(fast="5:50:5", slow="20:200:20", reps=3, derived_bars=252_000,
            datasets="GOOG,ALL5,DERIVED")
QUICK = dict(fast="5:15:5", slow="20:40:20", reps=2, derived_bars=20_000,
             datasets="GOOG,ALL5,DERIVED")


# --------------------------------------------------------------------------
# interpreter / environment
# --------------------------------------------------------------------------

def ensure_venv():
    """Re-exec under $PEER_VENV/bin/python unless already running there."""
    venv = os.path.abspath(os.environ.get("PEER_VENV", DEFAULT_VENV))
    if os.path.realpath(sys.prefix) == os.path.realpath(venv):
        return venv
    py = os.path.join(venv, "bin", "python")
    if os.environ.get("_COMPARE_PEERS_REEXEC") != "1" and os.path.exists(py):
        os.environ["_COMPARE_PEERS_REEXEC"] = "1"
        os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])
    try:
        import backtesting  # noqa: F401
        import vectorbt  # noqa: F401
    except ImportError:
        sys.exit(f"compare_peers: no usable venv at {venv} (set PEER_VENV); set it up with\n"
                 f"  python3 -m venv {venv}\n"
                 f"  {venv}/bin/pip install -r {os.path.join(HERE, 'requirements-peers.txt')}")
    return sys.prefix


def parse_range(spec):
    a, b, step = (int(x) for x in spec.split(":"))
    return list(range(a, b + 1, step))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def binary_info(path):
    st = os.stat(path)
    return {"path": path, "sha256": sha256(path), "size": st.st_size,
            "mtime": _dt.datetime.fromtimestamp(st.st_mtime, _dt.timezone.utc).isoformat()}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def git_describe():
    try:
        return subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def load_golden_module():
    sys.dont_write_bytecode = True  # leave no __pycache__ in the repository
    spec = importlib.util.spec_from_file_location("gen_backtesting_py", GOLDEN_SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    # registered so that the strategy class pickles by reference into the
    # (forked) backtesting.py pool workers
    sys.modules["gen_backtesting_py"] = mod
    spec.loader.exec_module(mod)
    return mod


# --------------------------------------------------------------------------
# engines
# --------------------------------------------------------------------------

class SerialPool:
    """Drop-in for backtesting.Pool: runs the batches in this process."""
    _processes = 1

    def __init__(self, *_, **__):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def imap(self, func, iterable):
        return map(func, iterable)


class BtEngine:
    def __init__(self, golden, data):
        import backtesting
        self.backtesting = backtesting
        self.g = golden
        self.data = data
        self.orig_pool = backtesting.Pool
        self.pool_info = {}

    def _recording_pool(self, processes=None, initializer=None, initargs=()):
        import multiprocessing as mp
        pool = self.orig_pool(processes, initializer, initargs)
        self.pool_info = {"processes": getattr(pool, "_processes", None),
                          "pool_type": f"{type(pool).__module__}.{type(pool).__name__}",
                          "start_method": mp.get_start_method(allow_none=True)}
        return pool

    def optimize(self, symbol, fast_vals, slow_vals, mode):
        from backtesting import Backtest
        bt = Backtest(self.data[symbol], self.g.SmaCross, **self.g.SETTINGS)
        self.backtesting.Pool = self._recording_pool if mode == "default" else SerialPool
        self.pool_info = {"processes": 1, "pool_type": "in-process serial map"} \
            if mode != "default" else {}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                stats = bt.optimize(n1=fast_vals, n2=slow_vals,
                                    constraint=lambda p: p.n1 < p.n2,
                                    maximize="Equity Final [$]", return_heatmap=False)
                dt = time.perf_counter() - t0
        finally:
            self.backtesting.Pool = self.orig_pool
        strat = stats["_strategy"]
        best = {"symbol": symbol, "fast": int(strat.n1), "slow": int(strat.n2),
                "final_equity": float(stats["Equity Final [$]"]),
                "trades": int(stats["# Trades"])}
        return dt, best, dict(self.pool_info)

    def run_one(self, symbol, fast, slow):
        from backtesting import Backtest
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            st = Backtest(self.data[symbol], self.g.SmaCross, **self.g.SETTINGS).run(
                n1=fast, n2=slow)
        return {"final_equity": float(st["Equity Final [$]"]), "trades": int(st["# Trades"])}


class VbtEngine:
    def __init__(self, data):
        import numpy as np
        import pandas as pd
        import vectorbt as vbt
        vbt.settings["engine"] = "numba"  # the standard engine, even if vectorbt-rust is present
        self.np, self.pd, self.vbt = np, pd, vbt
        self.data = data

    def grid(self, symbol, pairs, variant):
        """Returns (seconds, per-column final values Series, trade counts or None)."""
        np, pd, vbt = self.np, self.pd, self.vbt
        ohlc = self.data[symbol]
        close = ohlc["Close"]
        opn = ohlc["Open"].to_numpy(dtype=float)
        fw = [f for f, _ in pairs]
        sw = [s for _, s in pairs]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            fast = vbt.MA.run(close, window=fw, short_name="fast")
            slow = vbt.MA.run(close, window=sw, short_name="slow")
            entries = fast.ma_crossed_above(slow)
            exits = fast.ma_crossed_below(slow)
            if entries.ndim == 1:  # a single pair gives Series
                entries, exits = entries.to_frame(), exits.to_frame()
            if variant == "standard":
                pf = vbt.Portfolio.from_signals(close, entries, exits, init_cash=10_000)
            else:
                n = len(close)
                le = np.zeros(entries.shape, dtype=bool)
                se = np.zeros(entries.shape, dtype=bool)
                le[1:] = entries.to_numpy()[:-1]     # signal at i -> order at i+1
                se[1:] = exits.to_numpy()[:-1]
                le[n - 1] = se[n - 1] = False       # finalize: only closing on the last bar
                fin = np.zeros(entries.shape, dtype=bool)
                fin[n - 1] = True
                cols = entries.columns
                df = lambda a: pd.DataFrame(a, index=close.index, columns=cols)  # noqa: E731
                pf = vbt.Portfolio.from_signals(
                    close, entries=df(le), exits=df(fin), short_entries=df(se),
                    short_exits=df(fin), price=opn[:, None], size=np.inf,
                    size_granularity=1, init_cash=10_000, upon_opposite_entry="reverse")
            total_return = pf.total_return()
            final = pf.final_value()
            dt = time.perf_counter() - t0
        return dt, final, total_return

    def best(self, symbol, pairs, variant):
        _, final, _ = self.grid(symbol, pairs, variant)
        vals = final.to_numpy()
        i = int(self.np.argmax(vals))  # first on ties, columns in pair order
        return {"symbol": symbol, "fast": pairs[i][0], "slow": pairs[i][1],
                "final_equity": float(vals[i])}


class RustEngine:
    def __init__(self, xtask, data_path):
        self.xtask = xtask
        self.data_path = data_path

    def _data_args(self):
        return ["--data", self.data_path] if self.data_path else []

    def grid(self, fast_spec, slow_spec, step, workers, symbols=None, derived_bars=None,
             seed=42):
        cmd = [self.xtask, "backtest", "--grid", "--fast-range", fast_spec,
               "--slow-range", slow_spec, "--step", step, "--workers", str(workers), "--json"]
        if derived_bars:
            cmd += ["--derived", "--assets", "1", "--bars", str(derived_bars),
                    "--seed", str(seed)]
        else:
            cmd += ["--symbols", ",".join(symbols)] + self._data_args()
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr}")
        return wall, json.loads(proc.stdout), cmd

    def run_one(self, symbol, fast, slow):
        cmd = [self.xtask, "backtest", "--symbol", symbol, "--fast", str(fast),
               "--slow", str(slow), "--json"] + self._data_args()
        d = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
        return {"final_equity": float(d["final_equity"]), "trades": int(d["trades"])}


# --------------------------------------------------------------------------
# agreement checks
# --------------------------------------------------------------------------

def close_enough(a, b, rel=1e-9):
    return a is not None and b is not None and abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def agreement_check(bt, vbt_e, rust):
    golden = {}
    if os.path.exists(GOLDEN_JSON):
        with open(GOLDEN_JSON) as fh:
            for c in json.load(fh)["cases"]:
                golden[(c["symbol"], c["fast"], c["slow"])] = c
    rows = []
    for sym, f, s, exact_tie in CHECK_CASES:
        b = bt.run_one(sym, f, s)
        r = rust.run_one(sym, f, s)
        _, v_std, _ = vbt_e.grid(sym, [(f, s)], "standard")
        _, v_al, _ = vbt_e.grid(sym, [(f, s)], "aligned")
        g = golden.get((sym, f, s))
        row = {"symbol": sym, "fast": f, "slow": s, "exact_tie_case": exact_tie,
               "backtesting_py": b, "rust": r,
               "vectorbt_standard_final_value": float(v_std.iloc[0]),
               "vectorbt_aligned_final_value": float(v_al.iloc[0]),
               "golden_final_equity": g["final_equity"] if g else None,
               "golden_trades": g["trades"] if g else None}
        row["rust_matches_bt"] = (close_enough(b["final_equity"], r["final_equity"])
                                  and b["trades"] == r["trades"])
        row["rust_vs_bt"] = ("match" if row["rust_matches_bt"] else
                             "differs (exact-tie case, by design)" if exact_tie else "MISMATCH")
        row["bt_matches_golden"] = None if not g else (
            close_enough(b["final_equity"], g["final_equity"]) and b["trades"] == g["trades"])
        row["vbt_aligned_matches_bt"] = close_enough(b["final_equity"],
                                                     row["vectorbt_aligned_final_value"], 1e-6)
        rows.append(row)
    return rows


def print_agreement(rows):
    print("\n## Agreement check (final equity; trades in parentheses)\n")
    print("| case | backtesting.py | Rust engine | golden JSON | vectorbt aligned | "
          "vectorbt standard | Rust = bt | vbt aligned = bt |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        g = "-" if r["golden_final_equity"] is None else \
            f"{r['golden_final_equity']:.3f} ({r['golden_trades']})"
        print(f"| {r['symbol']} {r['fast']}/{r['slow']} "
              f"| {r['backtesting_py']['final_equity']:.3f} ({r['backtesting_py']['trades']}) "
              f"| {r['rust']['final_equity']:.3f} ({r['rust']['trades']}) | {g} "
              f"| {r['vectorbt_aligned_final_value']:.3f} "
              f"| {r['vectorbt_standard_final_value']:.3f} "
              f"| {r['rust_vs_bt']} "
              f"| {'yes' if r['vbt_aligned_matches_bt'] else 'no'} |")
    print("\nExact-tie cases (IBM 5/20, MSFT 5/20): the SMAs are mathematically equal at a"
          " decision bar; the Rust CLI compares them exactly, backtesting.py compares pandas'"
          " rounded rolling means, so the two differ there by design (the engine's golden test"
          " asserts that this is the only kind of difference).")
    print("vectorbt standard = long-only, fills at the signal bar's close, fractional shares,"
          " open position marked at the last close: it differs from backtesting.py by design."
          "\nvectorbt aligned can still differ where a near-tie of the two SMAs flips a signal"
          " (vectorbt's rolling mean is a plain cumsum difference, pandas' is Kahan-compensated;"
          " vectorbt counts a cross through an exact tie).")


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def summarize(samples):
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples),
            "n": len(samples), "samples": samples}


def fmt_rate(x):
    if x is None or not math.isfinite(x):
        return "-"
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= div:
            return f"{x / div:.2f}{unit}"
    return f"{x:.0f}"


def main():
    venv = ensure_venv()

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help=f"smoke test: grid {QUICK['fast']} x {QUICK['slow']}, "
                         f"{QUICK['reps']} reps, derived {QUICK['derived_bars']} bars")
    ap.add_argument("--out", default="/tmp/compare_peers.json")
    ap.add_argument("--xtask", default=os.path.join(REPO, "target", "release", "xtask"))
    ap.add_argument("--data", default=os.path.join(REPO, "data", "stocks.csv.gz"),
                    help="OHLCV csv(.gz) read by the peers AND passed to xtask --data")
    ap.add_argument("--reps", type=int, help="timed repetitions per configuration")
    ap.add_argument("--fast-range", help="A:B:STEP, B included")
    ap.add_argument("--slow-range", help="A:B:STEP, B included")
    ap.add_argument("--datasets", help="comma list of GOOG, ALL5, DERIVED")
    ap.add_argument("--derived-bars", type=int)
    ap.add_argument("--steps", default=",".join(STEPS))
    ap.add_argument("--workers", default="1,2", help="Rust worker counts")
    ap.add_argument("--skip", default="",
                    help="comma list of engines to skip: bt-default, bt-serial, vbt-standard, "
                         "vbt-aligned, rust")
    args = ap.parse_args()
    preset = QUICK if args.quick else FULL
    fast_spec = args.fast_range or preset["fast"]
    slow_spec = args.slow_range or preset["slow"]
    reps = args.reps or preset["reps"]
    derived_bars = args.derived_bars or preset["derived_bars"]
    datasets = [d.strip().upper() for d in (args.datasets or preset["datasets"]).split(",")]
    steps = [s for s in args.steps.split(",") if s]
    workers = [int(w) for w in args.workers.split(",") if w]
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    fast_vals, slow_vals = parse_range(fast_spec), parse_range(slow_spec)
    pairs = [(f, s) for f in fast_vals for s in slow_vals if f < s]
    combos = len(pairs)
    # the xtask default data is the bundled file; pass --data only when it differs
    bundled = os.path.join(REPO, "data", "stocks.csv.gz")
    rust_data = None if os.path.realpath(args.data) == os.path.realpath(bundled) else args.data

    import numba
    import numpy as np
    import pandas as pd
    import backtesting
    import vectorbt as vbt

    golden = load_golden_module()
    data = golden.load(args.data)
    bars = {sym: len(df) for sym, df in data.items()}
    xinfo_start = binary_info(args.xtask)
    load_start = os.getloadavg()

    meta = {
        "generator": "crates/bench-workloads/benches/compare_peers.py",
        "started_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        "quick": args.quick, "reps": reps, "fast_range": fast_spec, "slow_range": slow_spec,
        "pairs": combos, "datasets": datasets, "derived_bars": derived_bars,
        "steps": steps, "rust_workers": workers, "skip": sorted(skip),
        "machine": {"cpu": cpu_model(), "os_cpu_count": os.cpu_count(),
                    "platform": platform.platform(), "loadavg_start": load_start},
        "python": sys.version.split()[0], "venv": venv,
        "versions": {"backtesting": backtesting.__version__, "vectorbt": vbt.__version__,
                     "numba": numba.__version__, "numpy": np.__version__,
                     "pandas": pd.__version__},
        "vectorbt_rust_installed": bool(vbt._engine.is_rust_available()),
        "numba_num_threads": numba.config.NUMBA_NUM_THREADS,
        "repo_git": git_describe(), "xtask": xinfo_start, "data": args.data, "bars": bars,
    }
    print(f"# compare_peers ({'quick' if args.quick else 'full'})\n")
    print(f"grid fast {fast_spec} x slow {slow_spec} (fast < slow): {combos} pairs; "
          f"{reps} timed reps per configuration, round-robin; medians reported")
    print(f"backtesting {backtesting.__version__}, vectorbt {vbt.__version__} "
          f"(numba {numba.__version__}), numpy {np.__version__}, pandas {pd.__version__}, "
          f"Python {meta['python']}")
    print(f"xtask {args.xtask} sha256 {xinfo_start['sha256'][:16]} mtime {xinfo_start['mtime']}; "
          f"repo {meta['repo_git']}")
    print(f"CPU {meta['machine']['cpu']} x{os.cpu_count()}; load average at start "
          f"{load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}")
    if load_start[0] > 0.5:
        print("WARNING: the machine is not idle (1-min load > 0.5); timings will be noisy.")
    sys.stdout.flush()

    bt = BtEngine(golden, data)
    vb = VbtEngine(data)
    rust = RustEngine(args.xtask, rust_data)
    meta["vectorbt_engine"] = vbt.settings["engine"]

    # ---- agreement check on single cases (also warms up vectorbt's JIT) ----
    t0 = time.perf_counter()
    checks = agreement_check(bt, vb, rust)
    print_agreement(checks)
    print(f"\n(agreement check took {time.perf_counter() - t0:.1f} s, including any numba "
          "compilation)")
    sys.stdout.flush()

    # ---- configurations ----
    ds_symbols = {"GOOG": ["GOOG"], "ALL5": ALL5}
    configs = []  # dicts: key, dataset, engine, variant, ...
    for ds in datasets:
        if ds == "DERIVED":
            if "rust" not in skip:
                for step in steps:
                    for w in workers:
                        configs.append(dict(key=f"DERIVED/rust/{step}/w{w}", dataset=ds,
                                            engine="rust", variant=step, workers=w))
            continue
        if ds not in ds_symbols:
            sys.exit(f"unknown dataset {ds}")
        for name, engine, variant in (("bt-default", "backtesting.py", "default"),
                                      ("bt-serial", "backtesting.py", "1 process"),
                                      ("vbt-standard", "vectorbt", "standard"),
                                      ("vbt-aligned", "vectorbt", "aligned")):
            if name not in skip:
                configs.append(dict(key=f"{ds}/{name}", dataset=ds, engine=engine,
                                    variant=variant))
        if "rust" not in skip:
            for step in steps:
                for w in workers:
                    configs.append(dict(key=f"{ds}/rust/{step}/w{w}", dataset=ds,
                                        engine="rust", variant=step, workers=w))

    def ds_bars(ds, rust_json=None):
        if ds == "DERIVED":
            return rust_json["bars"] if rust_json else derived_bars
        return sum(bars[s] for s in ds_symbols[ds])

    def run_config(c):
        """One repetition. Returns (seconds, extra dict)."""
        ds = c["dataset"]
        if c["engine"] == "backtesting.py":
            total, bests, pool = 0.0, [], None
            mode = "default" if c["variant"] == "default" else "serial"
            for sym in ds_symbols[ds]:
                dt, best, pool = bt.optimize(sym, fast_vals, slow_vals, mode)
                total += dt
                bests.append(best)
            return total, {"best": max(bests, key=lambda b: b["final_equity"]), "pool": pool}
        if c["engine"] == "vectorbt":
            total, bests = 0.0, []
            for sym in ds_symbols[ds]:
                dt, final, _ = vb.grid(sym, pairs, c["variant"])
                total += dt
                vals = final.to_numpy()
                i = int(np.argmax(vals))
                bests.append({"symbol": sym, "fast": pairs[i][0], "slow": pairs[i][1],
                              "final_equity": float(vals[i])})
            return total, {"best": max(bests, key=lambda b: b["final_equity"])}
        if ds == "DERIVED":
            wall, d, cmd = rust.grid(fast_spec, slow_spec, c["variant"], c["workers"],
                                     derived_bars=derived_bars)
        else:
            wall, d, cmd = rust.grid(fast_spec, slow_spec, c["variant"], c["workers"],
                                     symbols=ds_symbols[ds])
        return float(d["seconds"]), {"process_wall": wall, "json": d, "cmd": cmd}

    # ---- warm-up: one untimed run of every configuration ----
    t0 = time.perf_counter()
    for c in configs:
        if c["engine"] == "backtesting.py":
            # bt has no JIT: warm it (imports, pool fork path) on a 2-pair grid only
            sym = ds_symbols[c["dataset"]][0]
            bt.optimize(sym, fast_vals[:1], slow_vals[:2],
                        "default" if c["variant"] == "default" else "serial")
        else:
            run_config(c)
    print(f"\nwarm-up done in {time.perf_counter() - t0:.1f} s; timing "
          f"{len(configs)} configurations x {reps} reps ...")
    sys.stdout.flush()

    # ---- timed, round-robin ----
    samples = {c["key"]: [] for c in configs}
    walls = {c["key"]: [] for c in configs}
    extras = {}
    loads = []
    t_all = time.perf_counter()
    for rep in range(reps):
        loads.append(os.getloadavg())
        for c in configs:
            sec, extra = run_config(c)
            samples[c["key"]].append(sec)
            if "process_wall" in extra:
                walls[c["key"]].append(extra["process_wall"])
            extras.setdefault(c["key"], extra)
        print(f"  rep {rep + 1}/{reps} done ({time.perf_counter() - t_all:.1f} s)", flush=True)

    xinfo_end = binary_info(args.xtask)
    load_end = os.getloadavg()
    meta["machine"]["loadavg_end"] = load_end
    meta["machine"]["loadavg_per_rep"] = loads
    meta["xtask_end"] = xinfo_end
    meta["finished_utc"] = _dt.datetime.now(_dt.timezone.utc).isoformat()

    # ---- results ----
    results = []
    for c in configs:
        k = c["key"]
        extra = extras[k]
        rj = extra.get("json")
        nb = ds_bars(c["dataset"], rj)
        bar_evals = nb * combos
        if rj:
            assert rj["combinations"] == combos, (k, rj["combinations"], combos)
            assert rj["bar_evaluations"] == bar_evals, (k, rj["bar_evaluations"], bar_evals)
        s = summarize(samples[k])
        r = dict(c, bars=nb, combinations=combos, bar_evaluations=bar_evals, seconds=s,
                 bar_evals_per_s=bar_evals / s["median"], best=extra.get("best"))
        if c["engine"] == "backtesting.py":
            r["processes"] = extra["pool"].get("processes")
            r["pool"] = extra["pool"]
            r["backtests_run"] = (combos + 1) * len(ds_symbols[c["dataset"]])
        elif c["engine"] == "vectorbt":
            r["processes"] = 1
        else:
            w = summarize(walls[k])
            r.update(processes=1, threads=c["workers"], process_wall_seconds=w,
                     process_bar_evals_per_s=bar_evals / w["median"],
                     best=rj["best"], rust_reported_bar_evals_per_s=rj["bar_evals_per_s"],
                     command=" ".join(extra["cmd"]))
        results.append(r)
    by_key = {r["key"]: r for r in results}

    # ratios Rust / peer (throughput ratio = peer seconds / rust seconds)
    ratios = []
    for p in results:
        if p["engine"] == "rust":
            continue
        for r in results:
            if r["engine"] != "rust" or r["dataset"] != p["dataset"]:
                continue
            ratios.append({"dataset": p["dataset"], "peer": p["key"], "rust": r["key"],
                           "engine_time_ratio": p["seconds"]["median"] / r["seconds"]["median"],
                           "process_time_ratio":
                               p["seconds"]["median"] / r["process_wall_seconds"]["median"]})

    # best-pair agreement of the grids
    grid_best = {}
    for ds in datasets:
        if ds == "DERIVED":
            continue
        entry = {r["key"]: r["best"] for r in results if r["dataset"] == ds}
        rust_bests = [b for k, b in entry.items() if "/rust/" in k]
        bt_bests = [b for k, b in entry.items() if "/bt-" in k]
        consistent = all(
            (b["symbol"], b["fast"], b["slow"]) == (rust_bests[0]["symbol"], rust_bests[0]["fast"],
                                                    rust_bests[0]["slow"])
            and close_enough(b["final_equity"], rust_bests[0]["final_equity"])
            for b in rust_bests + bt_bests) if rust_bests else None
        grid_best[ds] = {"by_config": entry, "rust_and_backtesting_py_agree": consistent}

    # ---- print ----
    print("\n## Throughput (bar evaluations = bars x combinations; median of "
          f"{reps} round-robin reps)\n")
    print("| dataset | engine | variant | procs x threads | median s | min s | max s | "
          "bar evals/s | process wall s | bar evals/s (process) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        s = r["seconds"]
        if r["engine"] == "rust":
            pt = f"1 x {r['threads']}"
            pw = f"{r['process_wall_seconds']['median']:.4f}"
            pr = fmt_rate(r["process_bar_evals_per_s"])
        else:
            pt = f"{r['processes']} x 1"
            pw, pr = "-", "-"
        print(f"| {r['dataset']} ({r['bars']} bars) | {r['engine']} | {r['variant']} | {pt} "
              f"| {s['median']:.4f} | {s['min']:.4f} | {s['max']:.4f} "
              f"| {fmt_rate(r['bar_evals_per_s'])} | {pw} | {pr} |")

    cols = []
    for st in dict.fromkeys([steps[0], steps[-1]]):
        for w in workers:
            cols.append((st, w, "engine"))
    for w in workers:
        cols.append((steps[-1], w, "process"))
    for ds in datasets:
        if ds == "DERIVED":
            continue
        peers = [r for r in results if r["dataset"] == ds and r["engine"] != "rust"]
        if not peers or "rust" in skip:
            continue
        print(f"\n### {ds}: Rust / peer throughput ratio (peer median s / Rust median s)\n")
        print("| peer | " + " | ".join(f"{st} w{w} ({kind})" for st, w, kind in cols) + " |")
        print("|---|" + "---|" * len(cols))
        for p in peers:
            cells = []
            for st, w, kind in cols:
                rr = by_key.get(f"{ds}/rust/{st}/w{w}")
                if rr is None:
                    cells.append("-")
                    continue
                den = rr["seconds"]["median"] if kind == "engine" \
                    else rr["process_wall_seconds"]["median"]
                cells.append(f"{p['seconds']['median'] / den:.1f}x")
            print(f"| {p['engine']} {p['variant']} ({p['processes']} proc) | "
                  + " | ".join(cells) + " |")

    print("\n## Best grid pair per engine (maximize final equity)\n")
    for ds, gb in grid_best.items():
        seen = {}
        for k, b in gb["by_config"].items():
            if b is None:
                continue
            sig = (b["symbol"], b["fast"], b["slow"], round(b["final_equity"], 4))
            seen.setdefault(sig, []).append(k.split("/", 1)[1])
        for (sym, f, s, eq), ks in seen.items():
            print(f"- {ds}: {sym} {f}/{s} final equity {eq:.3f}  <- {', '.join(ks)}")
        print(f"- {ds}: Rust and backtesting.py agree: {gb['rust_and_backtesting_py_agree']}")

    bt_pool = next((r["pool"] for r in results if r["engine"] == "backtesting.py"
                    and r["variant"] == "default"), None)
    if bt_pool:
        print(f"\nbacktesting.py optimize default pool: {bt_pool}")
    print(f"load average at end {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}")
    if xinfo_end["sha256"] != xinfo_start["sha256"]:
        print("WARNING: the xtask binary CHANGED during the run (rebuilt?): Rust results mix "
              "two binaries. Re-run with --xtask pointing to a frozen copy.")

    doc = {"meta": meta, "agreement_check": checks, "results": results, "ratios": ratios,
           "grid_best": grid_best,
           "notes": [
               "peer seconds = in-process call time (data already loaded); Rust 'engine' "
               "seconds = the JSON 'seconds' of xtask (sweep only); Rust 'process' = whole "
               "subprocess wall time incl. process start and gzip CSV parse",
               "backtesting.py optimize runs combinations+1 backtests per symbol (re-runs the "
               "best in the parent process); its default pool forks os.cpu_count() processes",
               "vectorbt timings exclude numba compilation (one untimed warm-up run)",
               "ALL5: peers loop over the five symbols and add the times up; Rust gets them in "
               "one call",
               "DERIVED: Rust only (the derived bars cannot be exported for the peers)",
           ]}
    with open(args.out, "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    print(f"\nwrote {args.out}")
    bad = [c for c in checks if c["rust_vs_bt"] == "MISMATCH"]
    bad += [c for c in checks if c["bt_matches_golden"] is False]
    if bad or any(g["rust_and_backtesting_py_agree"] is False for g in grid_best.values()):
        print("WARNING: unexpected disagreement between Rust, backtesting.py and the golden "
              "JSON (see the agreement check / best-pair lines above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
