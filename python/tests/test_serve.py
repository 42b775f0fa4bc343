"""The `serve` protocol and the extension's error classes, without a Ray cluster: request lines
that fail before any work is sent answer one reply each and keep the session up, replies carry
the Rust side's marker, and an unreachable address exits 2 with the address named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import bench_py
import pytest

from bench_ray.__main__ import REPLY, _Server, serve_lines


def _serve(lines: list[str]) -> list[dict[str, Any]]:
    replies: list[dict[str, Any]] = []
    serve_lines(lines, _Server(max_retries=0), replies.append)
    return replies


def test_the_reply_marker_is_the_rust_constant() -> None:
    assert REPLY == bench_py.SERVE_REPLY_PREFIX == "@bench_ray "


def test_each_bad_request_gets_one_input_reply_and_the_session_goes_on(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-bundle.bin")
    job = tmp_path / "job.json"
    job.write_text("{}", encoding="utf-8")
    replies = _serve(
        [
            "not json\n",
            "\n",  # blank lines are skipped
            json.dumps({"job": str(job), "bundle": missing}) + "\n",  # no "out"
            json.dumps({"job": str(job), "bundle": missing, "out": str(tmp_path / "o.json")}) + "\n",
            json.dumps(["a", "list"]) + "\n",
        ]
    )
    assert [r["ok"] for r in replies] == [False] * 4
    assert [r["kind"] for r in replies] == ["input"] * 4
    assert "JSONDecodeError" in replies[0]["error"]
    assert "expected {job, bundle, out} file paths" in replies[1]["error"]
    assert "FileNotFoundError" in replies[2]["error"] and "no-such-bundle.bin" in replies[2]["error"]
    assert not (tmp_path / "o.json").exists()


def test_errors_keep_their_class(bundled: tuple[bytes, str]) -> None:
    _, key = bundled
    assert issubclass(bench_py.InputError, ValueError)
    assert issubclass(bench_py.InternalError, RuntimeError)
    assert not issubclass(bench_py.InternalError, ValueError)
    with pytest.raises(bench_py.InputError, match="fast range"):
        bench_py.grid_job(key, None, "5:x:5", "20:200:20", "prefix-sums", 4)
    with pytest.raises(bench_py.InputError, match="unknown symbol"):
        bench_py.grid_job(key, "NOPE", "5:50:5", "20:200:20", "prefix-sums", 4)
    with pytest.raises(bench_py.InputError, match="job JSON"):
        bench_py.split("{")


def test_serve_with_no_cluster_at_the_address_exits_2_naming_it() -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    done = subprocess.run(
        [sys.executable, "-m", "bench_ray", "serve", "--address", "127.0.0.1:9"],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 2, done.stderr
    assert "127.0.0.1:9" in done.stderr
    assert REPLY not in done.stdout
