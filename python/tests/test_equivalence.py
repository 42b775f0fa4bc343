"""A Ray run gives exactly the rayon run's results: through the library on a local Ray
instance, and through `cargo xtask backtest --backend ray` on the bundled and a derived series."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import bench_py
import pytest

from bench_ray import run_job

ROOT = Path(__file__).resolve().parents[2]


def xtask(*args: str, env: "dict[str, str] | None" = None) -> subprocess.CompletedProcess[str]:
    """`cargo xtask …` from the workspace root, with this venv's Python as the Ray backend."""
    full_env = {**os.environ, "BENCH_RAY_PYTHON": sys.executable, "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        ["cargo", "xtask", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=900
    )


@pytest.mark.parametrize("step", ["baseline", "indicator-cache", "prefix-sums"])
def test_grid_pieces_on_ray_merge_to_the_rayon_result(local_ray: None, bundled: tuple[bytes, str], step: str) -> None:
    data, key = bundled
    job = bench_py.grid_job(key, None, "5:50:5", "20:200:20", step, 7)
    run = run_job(job, data)
    assert len(run.outputs) == len(bench_py.split(job))
    assert run.merged() == bench_py.run_local(key, job, 2)


@pytest.mark.parametrize("anchored", [False, True])
def test_walk_forward_windows_on_ray_merge_to_the_rayon_result(
    local_ray: None, bundled: tuple[bytes, str], anchored: bool
) -> None:
    data, key = bundled
    job = bench_py.walk_forward_job(key, "GOOG,MSFT", "5:30:5", "40:120:20", 504, 126, 126, anchored, "prefix-sums")
    run = run_job(job, data)
    merged = json.loads(run.merged())
    assert len(merged["windows"]) == len(bench_py.split(job)) > 10
    assert run.merged() == bench_py.run_local(key, job, 2)


def test_backtesting_py_rules_reach_every_ray_piece(local_ray: None, bundled: tuple[bytes, str]) -> None:
    data, key = bundled
    args = (key, "GOOG,IBM", "2:12:2", "5:30:5", "prefix-sums", 7)
    job = bench_py.grid_job(*args, rules="backtesting-py")
    run = run_job(job, data)
    assert run.merged() == bench_py.run_local(key, job, 2)
    # On these short windows the rules part (last-bar crosses, ties): the pieces followed them.
    assert run.merged() != bench_py.run_local(key, bench_py.grid_job(*args), 2)
    with pytest.raises(bench_py.InputError, match="expected exact or backtesting-py"):
        bench_py.grid_job(*args, rules="pandas-ish")


def without_timing(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in ("backend", "workers", "seconds", "seconds_min", "bar_evals_per_s")}


@pytest.mark.parametrize(
    "data_flags",
    [
        ["--symbols", "GOOG,MSFT,AAPL"],
        ["--derived", "--assets", "2", "--bars", "50000", "--seed", "11"],
    ],
    ids=["bundled", "derived"],
)
def test_xtask_grid_on_ray_equals_rayon(data_flags: list[str]) -> None:
    grid = ["backtest", "--grid", "--fast-range", "5:30:5", "--slow-range", "40:100:20", "--json", *data_flags]
    rayon = xtask(*grid)
    assert rayon.returncode == 0, rayon.stderr
    ray = xtask(*grid, "--backend", "ray", "--workers", "2", "--ray-chunk", "3")
    assert ray.returncode == 0, ray.stderr
    a, b = json.loads(rayon.stdout), json.loads(ray.stdout)
    assert (a["backend"], b["backend"]) == ("rayon", "ray")
    assert a["best"] == b["best"] and a["best"] is not None
    assert without_timing(a) == without_timing(b)


@pytest.mark.parametrize(
    "rules, search",
    [("exact", []), ("backtesting-py", []), ("exact", ["--search", "bohb", "--budget", "400000"])],
    ids=["exact", "backtesting-py", "bohb-search"],
)
def test_xtask_walk_forward_on_ray_equals_rayon(rules: str, search: list[str]) -> None:
    wf = ["backtest", "--walk-forward", "--symbols", "GOOG,AAPL", "--rules", rules, "--json", *search]
    rayon, ray = xtask(*wf), xtask(*wf, "--backend", "ray", "--workers", "2")
    assert rayon.returncode == 0 and ray.returncode == 0, rayon.stderr + ray.stderr
    assert rayon.stdout == ray.stdout
    assert json.loads(ray.stdout)["rules"] == rules


def test_no_ray_installed_is_exit_2_naming_the_setup_command(tmp_path: Path) -> None:
    missing = xtask("backtest", "--grid", "--backend", "ray", env={"BENCH_RAY_PYTHON": str(tmp_path / "python")})
    assert missing.returncode == 2
    assert "bash python/setup.sh" in missing.stderr
    # A Python without Ray: the system interpreter running the venv-less check.
    bare = tmp_path / "bare-python"
    bare.write_text("#!/bin/sh\nexec /usr/bin/env -i python3 -I \"$@\"\n")
    bare.chmod(0o755)
    no_ray = xtask("backtest", "--grid", "--backend", "ray", env={"BENCH_RAY_PYTHON": str(bare)})
    assert no_ray.returncode == 2, no_ray.stderr
    assert "not set up" in no_ray.stderr and "bash python/setup.sh" in no_ray.stderr


def test_unreachable_address_is_exit_2() -> None:
    # Port 9 on loopback (discard) has no listener here: refused at once.
    gone = xtask("backtest", "--grid", "--backend", "ray", "--ray-address", "127.0.0.1:9")
    assert gone.returncode == 2
    assert "no Ray cluster answers at 127.0.0.1:9" in gone.stderr


def test_driver_cli_reports_bad_files_with_exit_2(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench_ray", "run", "--job", str(tmp_path / "nope.json"), "--bundle",
         str(tmp_path / "nope.bin"), "--out", str(tmp_path / "out.json")],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 2
    assert "no such file" in out.stderr and "nope.json" in out.stderr
    assert not (tmp_path / "out.json").exists()


def test_xtask_evaluate_on_ray_writes_its_own_report_and_says_why(tmp_path: Path) -> None:
    """A Ray evaluation measures no memory, so its verdicts can differ from a rayon run's: it
    says so on the console and writes its own report, never over the rayon run's."""
    rayon_report = tmp_path / "benchmark-results" / "grid_search_bundled_report.md"
    rayon_report.parent.mkdir(parents=True)
    rayon_report.write_text("# the rayon run's report\n")
    done = xtask(
        "evaluate", "--backend", "ray", "--workers", "2", "--combinations", "2", "--design", "fixed",
        "--runs", "3", "--preset", "lenient", "--continue-after-goal", "--output-dir", str(tmp_path),
    )
    assert done.returncode in (0, 1), done.stderr
    assert "warning: on Ray the verdicts can differ" in done.stderr, done.stderr
    ray_report = tmp_path / "benchmark-results" / "grid_search_bundled_ray_report.md"
    assert "on Ray (memory not measured" in ray_report.read_text()
    assert rayon_report.read_text() == "# the rayon run's report\n"
