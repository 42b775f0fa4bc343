"""Ray as a parallel coordinator, measured the way the rayon scenario is: the same kind of
real backtests on the bundled data, per worker count on a local Ray instance, and the task size
at which Ray's per-task overhead falls below 5% of the work.

Definitions (per timed run; medians over the runs):

- utilisation = Σ per-task CPU time (the worker process's, while the task ran: the engine runs
  on a pool thread of its own) ÷ (workers × wall time);
- per-task overhead = (workers × wall time − Σ per-task wall time) ÷ tasks: what a task costs
  beyond its own work (scheduling, argument and result transfer, waiting for a CPU);
- throughput = tasks ÷ wall time.

Worker processes are started and the bundle is loaded in a warm-up run that is not timed; its
time is reported as start-up.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

import bench_py
import ray

from bench_ray.driver import BundleHandle, evaluate_piece, put_bundle


def _pieces(job: str, count: int) -> list[str]:
    return list(bench_py.split(job))[:count]


def _timed(handle: BundleHandle, pieces: list[str], workers: int) -> dict[str, float]:
    task = evaluate_piece.options(max_retries=0)
    start = time.perf_counter()
    got = ray.get([task.remote(handle.key, handle.box, p, None) for p in pieces])
    wall = time.perf_counter() - start
    task_wall = sum(g["seconds"] for g in got)
    task_cpu = sum(g["cpu_seconds"] for g in got)
    n = len(pieces)
    return {
        "wall_s": wall,
        "task_wall_s": task_wall,
        "task_cpu_s": task_cpu,
        "utilisation": min(1.0, task_cpu / (workers * wall)),
        "per_task_overhead_ms": max(0.0, (workers * wall - task_wall) / n * 1e3),
        "overhead_share": max(0.0, 1.0 - task_wall / (workers * wall)),
        "throughput_per_s": n / wall,
        "mean_task_ms": task_wall / n * 1e3,
    }


def _median_run(handle: BundleHandle, pieces: list[str], workers: int, runs: int) -> dict[str, float]:
    readings = [_timed(handle, pieces, workers) for _ in range(runs)]
    readings.sort(key=lambda r: r["wall_s"])
    return readings[len(readings) // 2]


def _start(workers: int) -> float:
    started = time.perf_counter()
    ray.init(address="local", num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    return time.perf_counter() - started


def compare(workers: list[int], *, tasks: int = 100, chunk_sizes: list[int], runs: int = 3) -> dict[str, Any]:
    """Measures Ray per worker count (``tasks`` one-backtest tasks each) and the break-even task
    size (16 tasks of each of ``chunk_sizes`` backtests, on this machine's cores)."""
    if ray.is_initialized():
        ray.shutdown()
    bundle = bench_py.bundled_bytes()
    key = str(bench_py.bundle_key(bundle))
    bench_py.load_bundle(key, bundle)
    # One backtest per task, over every asset, as the rayon scenario's tasks.
    probe = json.loads(bench_py.grid_job(key, None, "5:5:1", "30:30:1", "vectorized-signals", 1))
    assets = len({c["asset"] for c in probe["grid"]["chunks"]}) or 1
    per_asset = max(1, -(-tasks // assets))
    one = bench_py.grid_job(key, None, f"2:{1 + per_asset}:1", f"{2 + per_asset}:{2 + per_asset}:1", "vectorized-signals", 1)
    one_pieces = _pieces(one, tasks)
    rows = []
    for w in workers:
        start_s = _start(w)
        handle = put_bundle(bundle)
        warm_started = time.perf_counter()
        _timed(handle, one_pieces, w)
        warm_s = time.perf_counter() - warm_started
        row = _median_run(handle, one_pieces, w, runs)
        rows.append({"workers": w, "tasks": len(one_pieces), "start_s": start_s, "warm_up_s": warm_s, **row})
        ray.shutdown()
    cores = os.cpu_count() or 1
    w = cores
    _start(w)
    handle = put_bundle(bundle)
    # Break-even: tasks of k backtests of GOOG at the batch-init step (about 1.5 ms each here),
    # so a task's work grows from milliseconds to a fifth of a second.
    sizes = []
    for k in chunk_sizes:
        job = bench_py.grid_job(key, "GOOG", "2:101:1", "102:301:1", "batch-init", k)
        pieces = _pieces(job, 16)
        _timed(handle, pieces, w)
        sizes.append({"backtests_per_task": k, "tasks": len(pieces), **_median_run(handle, pieces, w, runs)})
    ray.shutdown()
    below = [s for s in sizes if s["overhead_share"] < 0.05]
    return {
        "schema_version": 1,
        "ray_version": ray.__version__,
        "cores": cores,
        "runs": runs,
        "rows": rows,
        "task_sizes": sizes,
        "break_even_workers": w,
        "break_even_task_ms": below[0]["mean_task_ms"] if below else None,
        "largest_task_ms": sizes[-1]["mean_task_ms"] if sizes else None,
    }
