"""tools/py_spy_calls.py: a Python program's exact call counts named as `profile --from` names
py-spy's frames, from a real run of a real program (no cluster needed)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "py_spy_calls.py"

APP = """import sys
class Book:
    def add(self, x):
        return x + 1
def work(n):
    b = Book()
    return sum(b.add(i) for i in range(n))
def main():
    work(int(sys.argv[1]))
main()
"""

# What py-spy records for it: thread, module, then the functions with the line being run.
RECORDING = (
    "MainThread;<module> (app.py:10);main (app.py:9);work (app.py:7);Book.add (app.py:4) 40\n"
    "MainThread;<module> (app.py:10);main (app.py:9);work (app.py:7) 9\n"
    " 3\n"
)


def run(tmp: Path, folded: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), "--folded", str(folded), "--out", str(tmp / "calls.json"), "--", *args],
        cwd=tmp, capture_output=True, text=True, timeout=120,
    )


def test_counts_are_exact_and_named_like_py_spy_frames(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    folded = tmp_path / "rec.folded.gz"
    folded.write_bytes(gzip.compress(RECORDING.encode()))
    done = run(tmp_path, folded, "app.py", "250")
    assert done.returncode == 0, done.stderr
    calls = json.loads((tmp_path / "calls.json").read_text())
    assert calls == {"app.py::<module>": 1, "app.py::main": 1, "app.py::work": 1, "app.py::Book.add": 250}


def test_a_file_without_py_spy_frames_or_a_failing_program_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import sys\nsys.exit(3)\n")
    empty = tmp_path / "perf.folded"
    empty.write_text("main;work 3\n")
    done = run(tmp_path, empty, "app.py")
    assert done.returncode == 2 and "no py-spy frame" in done.stderr
    good = tmp_path / "rec.folded"
    good.write_text("MainThread;<module> (app.py:2) 1\n")
    done = run(tmp_path, good, "app.py")
    assert done.returncode == 1 and "exited with 3" in done.stderr
    assert not (tmp_path / "calls.json").exists()
