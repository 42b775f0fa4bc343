#!/usr/bin/env python3
"""Exact call counts for `cargo xtask profile --from RECORDING --calls COUNTS.json`.

py-spy samples a Python program's stacks but cannot count calls, so `profile --from` cannot tell
a function run once (FIXED) from one run thousands of times (VARIABLE) and reports UNKNOWN. This
runs the same program under cProfile (exact counts) and writes the counts named as `--from`
names py-spy's frames: `file::qualified.name`, the file as py-spy shows it.

    py-spy record --format raw --output rec.folded -- python3 app.py ARGS
    python3 tools/py_spy_calls.py --folded rec.folded --out calls.json -- app.py ARGS
    cargo xtask profile --from rec.folded --calls calls.json --app mypackage/

The program runs twice (once under each profiler), so it should do the same work both times.
Only functions py-spy sampled get a count (the others are not in the report anyway). Standard
library only; `--folded` may be gzip-compressed (`.gz`).
"""

import argparse
import cProfile
import gzip
import json
import pstats
import runpy
import sys


def sampled_functions(folded: str) -> dict[tuple[str, str], int]:
    """(qualified name, file as py-spy shows it) -> lowest line sampled in it."""
    seen: dict[tuple[str, str], int] = {}
    opener = gzip.open if folded.endswith(".gz") else open
    with opener(folded, "rt") as f:
        for line in f:
            stack = line.rstrip("\n").rsplit(" ", 1)[0]
            for frame in stack.split(";"):
                if frame.endswith(")") and " (" in frame:
                    func, loc = frame[:-1].rsplit(" (", 1)
                    short, _, at = loc.rpartition(":")
                    if at.isdigit():
                        key = (func, short)
                        seen[key] = min(seen.get(key, 1 << 30), int(at))
    return seen


def named_counts(stats: pstats.Stats, seen: dict[tuple[str, str], int]) -> dict[str, int]:
    """cProfile's entries are (full path, line of the `def`, bare name): each is the py-spy
    function with the same bare name and file suffix whose sampled lines start at or after the
    `def` and nearest to it. Two definitions can map to one name only when one was never
    sampled: the nearest definition's count is kept."""
    calls: dict[str, tuple[int, int]] = {}
    for (file, def_line, func), (_cc, nc, _tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        best = None
        for (qual, short), first in seen.items():
            bare = qual.rsplit(".", 1)[-1]
            if bare == func and file.endswith(short) and first >= def_line:
                if best is None or first < best[0]:
                    best = (first, f"{short}::{qual}")
        if best:
            prev = calls.get(best[1])
            if prev is None or prev[0] < def_line:
                calls[best[1]] = (def_line, nc)
    return {k: v[1] for k, v in sorted(calls.items())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folded", required=True, help="the py-spy recording (record --format raw)")
    ap.add_argument("--out", required=True, help="where to write the counts (JSON)")
    ap.add_argument("script", help="the Python program py-spy recorded")
    ap.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    a = ap.parse_args()
    try:
        seen = sampled_functions(a.folded)
    except OSError as e:
        print(f"{a.folded}: {e}", file=sys.stderr)
        return 2
    if not seen:
        print(f"{a.folded}: no py-spy frame `function (file:line)` in it", file=sys.stderr)
        return 2
    sys.argv = [a.script, *[x for x in a.args if x != "--"]]
    prof = cProfile.Profile()
    prof.enable()
    try:
        runpy.run_path(a.script, run_name="__main__")
    except SystemExit as e:
        if e.code not in (None, 0):
            print(f"{a.script} exited with {e.code}; counts not written", file=sys.stderr)
            return 1
    finally:
        prof.disable()
    calls = named_counts(pstats.Stats(prof), seen)
    with open(a.out, "w") as f:
        json.dump(calls, f, indent=1)
        f.write("\n")
    print(f"{a.out}: call counts of {len(calls)} sampled functions", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
