"""Submits a job's pieces as Ray tasks, gathers them, and reports every lost piece."""

from __future__ import annotations

import json
import logging
import os
import socket
from urllib.parse import urlsplit
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import bench_py
import ray


class ClusterUnreachable(RuntimeError):
    """The Ray cluster at the given address could not be reached."""


@dataclass(frozen=True)
class PieceFailure:
    """A piece that did not come back: its index and what Ray said."""

    index: int
    error: str


class SweepFailed(RuntimeError):
    """Some pieces failed after their retries; the others completed."""

    def __init__(self, failures: list[PieceFailure], pieces: int) -> None:
        self.failures = failures
        self.pieces = pieces
        listed = "; ".join(f"piece {f.index}: {f.error}" for f in failures[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        super().__init__(f"{len(failures)} of {pieces} pieces failed: {listed}{more}")


@dataclass(frozen=True)
class Chaos:
    """A fire drill for a cluster's retry handling: the worker that runs piece
    ``abort_piece`` for the first time aborts its own process (SIGABRT). Attempts are
    counted in files under ``scratch``, which every node must see (one machine, or a shared
    file system)."""

    abort_piece: int
    scratch: str

    def attempts(self, piece: Optional[int] = None) -> list[str]:
        """The attempts of a piece so far (default: the aborting piece), one line per attempt:
        the process id and the node id. Every piece's attempts are logged while chaos is on."""
        index = self.abort_piece if piece is None else piece
        path = os.path.join(self.scratch, f"piece-{index}.attempts")
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as f:
            return [line for line in f.read().splitlines() if line]


@dataclass(frozen=True)
class PieceRecord:
    """Where and how long a piece ran (its last, successful attempt)."""

    index: int
    node: str
    pid: int
    seconds: float
    # When it finished, by the worker's wall clock (seconds since the epoch).
    ended_at: float = 0.0


@dataclass
class RunResult:
    """A completed run: the outputs in piece order and where they ran."""

    job: str
    key: str
    outputs: list[str]
    records: list[PieceRecord]
    wall_seconds: float
    cluster_cpus: float
    nodes: list[str] = field(default_factory=list)

    def merged(self) -> str:
        """The job's result (a grid search's or a walk-forward's JSON), as the rayon path
        computes it."""
        return str(bench_py.merge(self.key, self.job, self.outputs))

    def to_json(self) -> dict[str, Any]:
        """The outputs and the run's facts, for `cargo xtask` to merge."""
        return {
            "outputs": [json.loads(o) for o in self.outputs],
            "pieces": len(self.outputs),
            "nodes": self.nodes,
            "cluster_cpus": self.cluster_cpus,
            "wall_seconds": self.wall_seconds,
            "task_seconds": [r.seconds for r in self.records],
            "piece_nodes": [r.node for r in self.records],
        }


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fails fast with a clear error when ``host:port`` does not accept connections (Ray
    itself would keep retrying for a long time)."""
    if address in ("auto", "local"):
        return
    client = address.startswith("ray://")
    parts = urlsplit("//" + address.removeprefix("ray://").rstrip("/"))
    try:
        host, port = parts.hostname, parts.port or (10001 if client else None)
    except ValueError:
        host, port = None, None
    if not host or port is None:
        raise ClusterUnreachable(f"--ray-address {address!r}: expected host:port (or ray://host:port, or auto)")
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as e:
        raise ClusterUnreachable(f"no Ray cluster answers at {address}: {e}") from e


def piece_index(piece: str) -> int:
    """The index of a one-piece job's piece."""
    body = next(iter(json.loads(piece).values()))
    items = body.get("chunks") or body.get("windows")
    return int(items[0]["index"])


def connect(address: Optional[str], num_cpus: Optional[int] = None) -> None:
    """Connects to the cluster at ``address`` (``host:port`` of a head started with
    ``ray start --head``, ``ray://…`` for a Ray client, ``auto``), or starts a local Ray
    instance with ``num_cpus`` CPUs when ``address`` is None."""
    if ray.is_initialized():
        return
    quiet: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR"}
    if address is None:
        # "local": a new instance here, never a cluster found through RAY_ADDRESS or the
        # address file `ray start` leaves in /tmp/ray.
        ray.init(address="local", num_cpus=num_cpus, **quiet)
        return
    _check_reachable(address)
    try:
        ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
    except (ConnectionError, RuntimeError) as e:
        raise ClusterUnreachable(f"cannot connect to the Ray cluster at {address}: {e}") from e


@ray.remote
def evaluate_piece(key: str, bundle_box: list[Any], piece: str, chaos: Optional[Chaos]) -> dict[str, Any]:
    """Runs one piece. The bundle arrives as an object reference inside a list, so Ray does not
    fetch it for every task: a worker process fetches and loads it only the first time it sees
    the key."""
    if chaos is not None:
        own = piece_index(piece)
        path = os.path.join(chaos.scratch, f"piece-{own}.attempts")
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{os.getpid()} {ray.get_runtime_context().get_node_id()}\n")
        if own == chaos.abort_piece:
            with open(path, encoding="utf-8") as f:
                first = len(f.read().splitlines()) == 1
            if first:
                os.abort()
    start, cpu_start = time.perf_counter(), time.process_time()
    if not bench_py.has_bundle(key):
        bench_py.load_bundle(key, ray.get(bundle_box[0]))
    output = bench_py.run_piece(key, piece)
    return {
        "output": output,
        "node": ray.get_runtime_context().get_node_id(),
        "pid": os.getpid(),
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu_start,
        "ended_at": time.time(),
    }


@dataclass(frozen=True)
class BundleHandle:
    """A bundle put in the cluster's object store once, and its content key."""

    key: str
    box: list[Any]


def put_bundle(bundle: bytes) -> BundleHandle:
    """Puts ``bundle`` (binary, as ``bench_py.bundled_bytes`` gives) in the object store once, so
    any number of jobs on it ship it to each worker process at most once. Also loads it in this
    process for :meth:`RunResult.merged`."""
    key = str(bench_py.bundle_key(bundle))
    bench_py.load_bundle(key, bundle)
    return BundleHandle(key, [ray.put(bundle)])


def run_job(
    job: str,
    bundle: "bytes | BundleHandle",
    *,
    max_retries: int = 3,
    chaos: Optional[Chaos] = None,
    on_result: Optional[Callable[[int, int, Optional[PieceRecord]], None]] = None,
) -> RunResult:
    """Runs every piece of ``job`` (JSON from ``bench_py.grid_job`` / ``walk_forward_job``) on
    the connected cluster. A task lost with its worker or node is retried up to
    ``max_retries`` times; pieces that still fail raise :class:`SweepFailed` after every other
    piece has finished — never a result with a piece missing. ``on_result(done, total,
    record)`` is called after each piece (``record`` is None for a failed one)."""
    if not ray.is_initialized():
        connect(None)
    handle = bundle if isinstance(bundle, BundleHandle) else put_bundle(bundle)
    pieces: list[str] = list(bench_py.split(job))
    start = time.perf_counter()
    task = evaluate_piece.options(max_retries=max_retries, retry_exceptions=False)
    by_ref = {task.remote(handle.key, handle.box, p, chaos): i for i, p in enumerate(pieces)}
    pending = list(by_ref)
    outputs: list[Optional[str]] = [None] * len(pieces)
    records: list[Optional[PieceRecord]] = [None] * len(pieces)
    failures: list[PieceFailure] = []
    done_count = 0
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        for ref in done:
            i = by_ref[ref]
            try:
                got = ray.get(ref)
            except ray.exceptions.RayError as e:
                text = str(e).strip()
                first_line = text.splitlines()[0] if text else ""
                failures.append(PieceFailure(i, f"{type(e).__name__}: {first_line}"))
            else:
                outputs[i] = got["output"]
                records[i] = PieceRecord(i, got["node"], got["pid"], got["seconds"], got["ended_at"])
            done_count += 1
            if on_result is not None:
                on_result(done_count, len(pieces), records[i])
    wall = time.perf_counter() - start
    if failures:
        raise SweepFailed(sorted(failures, key=lambda f: f.index), len(pieces))
    recs = [r for r in records if r is not None]
    return RunResult(
        job=job,
        key=handle.key,
        outputs=[o for o in outputs if o is not None],
        records=recs,
        wall_seconds=wall,
        cluster_cpus=float(ray.cluster_resources().get("CPU", 0.0)),
        nodes=sorted({r.node for r in recs}),
    )
