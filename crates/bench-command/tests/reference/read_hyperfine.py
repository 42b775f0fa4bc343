#!/usr/bin/env python3
"""An independent reader of hyperfine's `--export-json` format (standard library only).

Written from hyperfine's documented export (its `BenchmarkResult`: `command`, `mean`,
`stddev` — null for a single run —, `median`, `user`, `system`, `min`, `max`, `times`,
`exit_codes`, optional `memory_usage_byte` and `parameters`), not from this project's code.
It reads a file the way hyperfine's own plotting and statistics scripts do (`results[i]["times"]`,
`["command"]`), checks every field's type, and recomputes the summary figures from `times` with
Python's `statistics` module (sample standard deviation, median of the middle two).

Usage: read_hyperfine.py FILE [EXPECTED_COMMAND ...]
Prints one line per result; exits 1 with the reason on the first disagreement.
"""

import json
import math
import statistics
import sys

REQUIRED = {
    "command": str,
    "mean": float,
    "median": float,
    "user": float,
    "system": float,
    "min": float,
    "max": float,
    "times": list,
    "exit_codes": list,
}
OPTIONAL = {"stddev", "memory_usage_byte", "parameters"}


def fail(msg):
    print(f"read_hyperfine: {msg}", file=sys.stderr)
    sys.exit(1)


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


def number(value, where):
    # JSON has one number type; hyperfine writes seconds as floats, but 0 may read as int.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        fail(f"{where}: expected a number, got {value!r}")
    if not math.isfinite(value):
        fail(f"{where}: not finite")
    return float(value)


def check(i, r):
    where = f"results[{i}]"
    if not isinstance(r, dict):
        fail(f"{where}: expected an object")
    unknown = set(r) - set(REQUIRED) - OPTIONAL
    if unknown:
        fail(f"{where}: fields hyperfine does not write: {sorted(unknown)}")
    for key, kind in REQUIRED.items():
        if key not in r:
            fail(f"{where}: missing `{key}`")
        if kind is float:
            number(r[key], f"{where}.{key}")
        elif not isinstance(r[key], kind):
            fail(f"{where}.{key}: expected {kind.__name__}")
    times = [number(t, f"{where}.times") for t in r["times"]]
    if not times:
        fail(f"{where}.times: empty")
    if any(t < 0 for t in times):
        fail(f"{where}.times: a negative time")
    if len(r["exit_codes"]) != len(times):
        fail(f"{where}: {len(r['exit_codes'])} exit codes for {len(times)} times")
    for c in r["exit_codes"]:
        if c is not None and (isinstance(c, bool) or not isinstance(c, int)):
            fail(f"{where}.exit_codes: {c!r} is neither an integer nor null")
    if "memory_usage_byte" in r:
        m = r["memory_usage_byte"]
        if not isinstance(m, list) or len(m) != len(times):
            fail(f"{where}.memory_usage_byte: expected one integer per run")
        if any(isinstance(b, bool) or not isinstance(b, int) or b < 0 for b in m):
            fail(f"{where}.memory_usage_byte: expected non-negative integers")
    if "parameters" in r and not isinstance(r["parameters"], dict):
        fail(f"{where}.parameters: expected an object")
    # The summary figures are those of `times`.
    expected = {
        "mean": statistics.fmean(times),
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
    }
    for key, value in expected.items():
        if not close(r[key], value):
            fail(f"{where}.{key} = {r[key]!r}, but the times give {value!r}")
    stddev = r.get("stddev")
    if len(times) == 1:
        if stddev is not None:
            fail(f"{where}.stddev: hyperfine writes null for a single run")
    elif stddev is None or not close(number(stddev, f"{where}.stddev"), statistics.stdev(times)):
        fail(f"{where}.stddev = {stddev!r}, but the times give {statistics.stdev(times)!r}")
    return times


def main():
    if len(sys.argv) < 2:
        fail("usage: read_hyperfine.py FILE [EXPECTED_COMMAND ...]")
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        fail("expected an object with a `results` list")
    if set(doc) != {"results"}:
        fail(f"top-level fields hyperfine does not write: {sorted(set(doc) - {'results'})}")
    expected = sys.argv[2:]
    results = doc["results"]
    if expected and [r.get("command") for r in results] != expected:
        fail(f"commands {[r.get('command') for r in results]} != expected {expected}")
    for i, r in enumerate(results):
        times = check(i, r)
        print(f"{r['command']}: {len(times)} runs, mean {r['mean']:.6f} s, "
              f"median {r['median']:.6f} s, exit codes {sorted(set(map(str, r['exit_codes'])))}")


if __name__ == "__main__":
    main()
