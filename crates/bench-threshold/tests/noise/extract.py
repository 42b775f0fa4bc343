#!/usr/bin/env python3
"""Turn the raw data of recorded A/A comparisons into the compact noise fixtures of the
adaptive-design tests (one CSV per recording).

The recordings were made on the reference machine (shared 2-core VM) with the release build:

    cargo xtask evaluate --aa 1 --runs 2000 --step persistent-workers --workers 2 --output-dir DIR/pw2
    cargo xtask evaluate --aa 1 --runs 1000 --step persistent-workers --workers 1 --output-dir DIR/pw1
    taskset -c 1 cargo xtask evaluate --aa 1 --runs 1000 --step persistent-workers --workers 1 --output-dir DIR/pw1pin
    cargo xtask evaluate --aa 1 --runs 200 --step baseline --workers 2 --output-dir DIR/base2
    cargo xtask evaluate --aa 1 --runs 300 --step prefix-sums --workers 2 --output-dir DIR/ps2

Usage: extract.py DIR  (writes <name>.csv beside this script for each recording found).
Columns: pair, the two runs' positions in the interleaved schedule, their wall and CPU
nanoseconds (a = the side labelled baseline, b = the side labelled candidate; both ran the same
code).
"""
import csv
import glob
import json
import os
import sys
from typing import Any


def side(files: list[str], suffix: str) -> dict[str, Any]:
    (path,) = [f for f in files if f.endswith(suffix)]
    with open(path) as f:
        return json.load(f)


def main() -> None:
    root = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ["pw2", "pw1", "pw1pin", "base2", "ps2"]:
        files = glob.glob(os.path.join(root, name, "profiling-results", "raw_data", "*.json"))
        if not files:
            continue
        a, b = side(files, "_baseline.json"), side(files, "_candidate.json")
        assert a["pairing"]["partner_run_id"] == b["run_id"], "the two sides were interleaved"
        with open(os.path.join(here, f"{name}.csv"), "w", newline="") as out:
            w = csv.writer(out, lineterminator="\n")
            w.writerow(["pair", "seq_a", "seq_b", "wall_ns_a", "wall_ns_b", "cpu_ns_a", "cpu_ns_b"])
            for ra, rb in zip(a["runs"], b["runs"]):
                assert ra["pair"] == rb["pair"]
                w.writerow([ra["pair"], ra["sequence"], rb["sequence"], ra["wall_ns"], rb["wall_ns"], ra["cpu_ns"], rb["cpu_ns"]])
        print(name, len(a["runs"]), "pairs;", a["environment"]["cpu"], a["environment"]["build_profile"])


if __name__ == "__main__":
    main()
