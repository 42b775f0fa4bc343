"""A local Ray started by `cargo xtask … --backend ray` (no --ray-address) cannot be reached from
the network: its driver, GCS server and raylet run in a network namespace of their own whose only
interface is the loopback, while the tool itself stays in this machine's."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def netns(pid: int) -> str:
    """The network namespace of `pid` ("" once it has exited)."""
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return ""


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def listening(pid: int) -> int:
    """LISTEN sockets (state 0A) of the network namespace `pid` is in."""
    n = 0
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        n += sum(1 for line in lines if line.split()[3] == "0A")
    return n


def test_a_local_ray_listens_on_loopback_only() -> None:
    env = {**os.environ, "BENCH_RAY_PYTHON": sys.executable, "NO_COLOR": "1"}
    run = subprocess.Popen(
        ["cargo", "xtask", "backtest", "--grid", "--backend", "ray", "--workers", "2", "--repeat", "30"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The driver (`python -m bench_ray serve`), once its Ray's GCS server and raylet run in
        # its network namespace.
        driver: int | None = None
        ours: list[int] = []
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and run.poll() is None and not ours:
            found = [p for p in pids() if "bench_ray serve" in cmdline(p)]
            if found:
                driver = found[0]
                servers = [p for p in pids() if any(s in cmdline(p) for s in ("gcs_server", "raylet"))]
                ours = [p for p in servers if netns(p) == netns(driver)]
            time.sleep(0.2)
        assert driver is not None and ours, "the driver started, and its Ray beside it"
        inside = netns(driver)
        interfaces = {line.split(":")[0].strip() for line in Path(f"/proc/{driver}/net/dev").read_text().splitlines()[2:]}
        assert interfaces == {"lo"}, f"the driver's network has only the loopback: {interfaces}"
        assert inside != netns(os.getpid()), "the driver is not in this machine's network namespace"
        assert listening(driver) > 0
    finally:
        out, err = run.communicate(timeout=900)
    assert run.returncode == 0, err
    assert "warning: the local Ray listens on every network interface" not in err
    assert "Grid search" in out
