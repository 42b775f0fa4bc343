"""Command line of the Ray driver (what `cargo xtask … --backend ray` runs).

    python -m bench_ray run --job JOB.json --bundle BUNDLE.bin --out OUT.json [--address A]
    python -m bench_ray serve [--address A]      # requests as JSON lines on stdin
    python -m bench_ray coordinator --out OUT.json [--workers 1,2,4,8,16]

`serve` connects once, answers `@bench_ray {"ready": …}` and then runs one job per request line
{"job": PATH, "bundle": PATH, "out": PATH}, answering {"ok": true, …} or {"ok": false,
"error": …} per line, until its stdin closes. A bundle file is put in the object store once.

Exit codes: 0 success, 2 bad input or no cluster at the address, 3 pieces lost after retries.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from typing import Any, Callable, Iterable, Optional

import bench_py
import ray

from bench_ray.driver import BundleHandle, ClusterUnreachable, SweepFailed, connect, put_bundle, run_job


# Replies start with this marker, so a stray line another library prints on stdout is skipped.
# It is the Rust side's constant (bench_workloads::SERVE_REPLY_PREFIX), read through the extension.
REPLY: str = bench_py.SERVE_REPLY_PREFIX


def _write_atomic(path: str, doc: Any) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".bench_ray.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _progress(done: int, total: int, _record: object) -> None:
    if sys.stderr.isatty():
        end = "\n" if done == total else ""
        sys.stderr.write(f"\rray: {done}/{total} pieces{end}")
        sys.stderr.flush()


class _Server:
    def __init__(self, max_retries: int) -> None:
        self.max_retries = max_retries
        self.bundles: dict[tuple[str, int, int], BundleHandle] = {}

    def handle(self, job_path: str, bundle_path: str, out_path: str) -> dict[str, Any]:
        st = os.stat(bundle_path)
        ident = (os.path.abspath(bundle_path), st.st_size, st.st_mtime_ns)
        if ident not in self.bundles:
            with open(bundle_path, "rb") as f:
                self.bundles[ident] = put_bundle(f.read())
        with open(job_path, encoding="utf-8") as f:
            job = f.read()
        run = run_job(job, self.bundles[ident], max_retries=self.max_retries, on_result=_progress)
        _write_atomic(out_path, run.to_json())
        return {"ok": True, "wall_seconds": run.wall_seconds, "pieces": len(run.outputs)}


def _cluster_facts() -> dict[str, Any]:
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    return {
        "cluster_cpus": float(ray.cluster_resources().get("CPU", 0.0)),
        "nodes": len(nodes),
        # An extension older than the job-format check reports 0, which the caller refuses.
        "job_format": int(getattr(bench_py, "job_format", lambda: 0)()),
    }


def _run(args: argparse.Namespace) -> int:
    for path in (args.job, args.bundle):
        if not os.path.isfile(path):
            print(f"error: no such file: {path}", file=sys.stderr)
            return 2
    connect(args.address, num_cpus=args.workers)
    _Server(args.max_retries).handle(args.job, args.bundle, args.out)
    return 0


def serve_lines(lines: Iterable[str], server: _Server, reply: Callable[[dict[str, Any]], None]) -> None:
    """Answers each request line with one reply: ``{"ok": true, …}`` or ``{"ok": false, "kind":
    "input" | "lost" | "internal", "error": …}``. A failed request never ends the session."""
    for line in lines:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            if not isinstance(req, dict) or not all(isinstance(req.get(k), str) for k in ("job", "bundle", "out")):
                raise ValueError(f"expected {{job, bundle, out}} file paths, got {line.strip()[:200]}")
            answer = server.handle(req["job"], req["bundle"], req["out"])
        except SweepFailed as e:
            answer = {"ok": False, "kind": "lost", "error": str(e)}
        except (FileNotFoundError, IsADirectoryError, PermissionError, json.JSONDecodeError, ValueError) as e:
            # bench_py.InputError is a ValueError: a bad job is the caller's input.
            answer = {"ok": False, "kind": "input", "error": f"{type(e).__name__}: {e}"}
        except Exception as e:  # bench_py.InternalError and the rest: the caller decides
            answer = {"ok": False, "kind": "internal", "error": f"{type(e).__name__}: {e}"}
        reply(answer)


def _serve(args: argparse.Namespace) -> int:
    # Replies go to the original stdout alone; anything else written to stdout (by Ray or a
    # native library) goes to stderr, so it can never run into a reply line.
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def reply(doc: dict[str, Any]) -> None:
        replies.write(REPLY + json.dumps(doc) + "\n")
        replies.flush()

    connect(args.address, num_cpus=args.workers)
    reply({"ready": True, **_cluster_facts()})
    serve_lines(sys.stdin, _Server(args.max_retries), reply)
    return 0


def _coordinator(args: argparse.Namespace) -> int:
    from bench_ray.coordinator import compare

    workers = [int(w) for w in args.workers.split(",") if w]
    sizes = [int(s) for s in args.chunks.split(",") if s]
    doc = compare(workers, tasks=args.tasks, chunk_sizes=sizes)
    _write_atomic(args.out, doc)
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench_ray", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("run", "run one job's pieces on Ray and write their outputs"), ("serve", "run jobs from stdin")):
        p = sub.add_parser(name, help=text)
        if name == "run":
            p.add_argument("--job", required=True, help="job JSON (bench_workloads::Job)")
            p.add_argument("--bundle", required=True, help="binary bundle the job refers to")
            p.add_argument("--out", required=True, help="where to write the outputs (JSON, atomically)")
        p.add_argument("--address", help="Ray cluster (host:port, ray://host:port, auto); default: start a local one")
        p.add_argument("--workers", type=int, help="CPUs of the local Ray instance (default: all)")
        p.add_argument("--max-retries", type=int, default=3, help="retries of a task lost with its worker or node")
    coord = sub.add_parser("coordinator", help="Ray's per-task overhead, utilisation and throughput per worker count")
    coord.add_argument("--workers", default="1,2,4,8,16", help="worker counts (CPUs of a local Ray instance)")
    coord.add_argument("--tasks", type=int, default=64, help="tasks (real backtests) per worker count")
    coord.add_argument("--chunks", default="1,2,4,8,16,32,64,128,256,512", help="combinations per task for the break-even search")
    coord.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "serve":
            return _serve(args)
        return _coordinator(args)
    except ClusterUnreachable as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except SweepFailed as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
