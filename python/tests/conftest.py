"""Fixtures: real bundles from the Rust extension and a real multi-node Ray cluster on loopback."""

from __future__ import annotations

import logging
import time
from typing import Any, Iterator

import bench_py
import pytest
import ray
from ray.cluster_utils import Cluster


@pytest.fixture(scope="session")
def bundled() -> tuple[bytes, str]:
    """The bundled real data (five US stocks), loaded in this process."""
    data = bench_py.bundled_bytes()
    key = bench_py.bundle_key(data)
    bench_py.load_bundle(key, data)
    return data, key


@pytest.fixture(scope="session")
def derived() -> tuple[bytes, str]:
    """A derived series long enough that one piece of two combinations at the baseline step
    takes a sizeable fraction of a second (so a node can be killed mid-sweep)."""
    data = bench_py.derived_bytes(1, 400_000, 7)
    key = bench_py.bundle_key(data)
    bench_py.load_bundle(key, data)
    return data, key


# Ray declares a node dead after its health checks fail (defaults: every 3 s, 5 failures, so
# a lost node's tasks wait ~20 s before their retry). The test cluster checks every 0.5 s and
# gives up after 3 misses; the same settings go into a real head's `ray start --system-config`.
HEALTH_CHECKS = {
    "health_check_initial_delay_ms": 0,
    "health_check_period_ms": 500,
    "health_check_timeout_ms": 500,
    "health_check_failure_threshold": 3,
}


@pytest.fixture()
def cluster() -> Iterator[dict[str, Any]]:
    """A local cluster like a small real one: a head that runs no tasks (0 CPUs) and two
    worker nodes with one CPU each, all on loopback."""
    started = time.perf_counter()
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "_system_config": HEALTH_CHECKS})
    workers = [c.add_node(num_cpus=1) for _ in range(2)]
    c.wait_for_nodes()
    ray.init(address=c.address, log_to_driver=False, logging_level=logging.ERROR)
    info = {"cluster": c, "workers": workers, "start_seconds": time.perf_counter() - started}
    try:
        yield info
    finally:
        ray.shutdown()
        c.shutdown()


@pytest.fixture()
def local_ray() -> Iterator[None]:
    """A local single-node Ray instance with two CPUs."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    try:
        yield
    finally:
        ray.shutdown()
