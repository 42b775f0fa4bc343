#!/usr/bin/env bash
# Records the py-spy fixture of `cargo xtask profile --from`: the stacks of a backtesting.py sweep
# (py-spy record --format raw) and its call counts (cProfile), from the repository root:
#   bash crates/bench-profile/tests/pyspy/record.sh /tmp/btvenv
# The venv needs requirements.txt (backtesting.py 0.6.6 and py-spy). py-spy reads the target's
# memory, so it needs root or ptrace permission.
set -euo pipefail
venv=${1:?usage: record.sh VENV}
here=$(dirname "$0")
folded=$(mktemp --suffix=.folded)
trap 'rm -f "$folded"' EXIT
"$venv/bin/py-spy" record --rate 250 --format raw --output "$folded" -- "$venv/bin/python" "$here/sma_sweep.py"
"$venv/bin/python" tools/py_spy_calls.py --folded "$folded" --out "$here/backtesting_py_calls.json" -- "$here/sma_sweep.py"
gzip -9 -c "$folded" > "$here/backtesting_py.folded.gz"
