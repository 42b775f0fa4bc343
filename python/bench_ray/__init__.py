"""Runs bench's grid searches and walk-forwards on a Ray cluster.

The work is cut into pieces by the Rust extension ``bench_py`` (one grid chunk or one
walk-forward window each), the pieces run as Ray tasks with retries on any node, and the
outputs merge into exactly what the in-process rayon run returns::

    import bench_py, bench_ray
    bundle = bench_py.bundled_bytes()
    key = bench_py.bundle_key(bundle)
    bench_py.load_bundle(key, bundle)
    job = bench_py.grid_job(key, None, "5:50:5", "20:200:20", "prefix-sums", 8)
    bench_ray.connect(None)                # a local Ray instance; or "host:6379"
    run = bench_ray.run_job(job, bundle)
    result_json = run.merged()             # == bench_py.run_local(key, job, workers)
"""

from bench_ray.driver import (
    BundleHandle,
    Chaos,
    ClusterUnreachable,
    PieceFailure,
    PieceRecord,
    RunResult,
    SweepFailed,
    connect,
    put_bundle,
    run_job,
)

__all__ = [
    "BundleHandle",
    "Chaos",
    "ClusterUnreachable",
    "PieceFailure",
    "PieceRecord",
    "RunResult",
    "SweepFailed",
    "connect",
    "put_bundle",
    "run_job",
]
