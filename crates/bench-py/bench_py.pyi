"""Type stub of the ``bench_py`` extension (crates/bench-py/src/lib.rs): mypy checks the
driver's calls against it. Every job, piece and result is JSON text in bench_workloads' own
formats; every function raises ``InputError`` for what the caller asked and ``InternalError``
for failures of the extension itself."""

class InputError(ValueError):
    """What was asked cannot be done: a bad range, step, key, job or piece output, data that does
    not load, a limit."""

class InternalError(RuntimeError):
    """A failure of the extension itself (a temporary file, a worker pool, a result that cannot be
    serialised)."""

SERVE_REPLY_PREFIX: str
"""The marker that starts every reply line of ``python -m bench_ray serve``."""

def job_format() -> int: ...
def bundle_key(bytes: bytes) -> str: ...
def load_bundle(key: str, bytes: bytes) -> None: ...
def has_bundle(key: str) -> bool: ...
def bundled_bytes() -> bytes: ...
def derived_bytes(assets: int, bars: int, seed: int) -> bytes: ...
def grid_job(
    key: str,
    symbols: str | None,
    fast_range: str,
    slow_range: str,
    ladder_step: str,
    per_chunk: int,
    rules: str = "exact",
) -> str: ...
def walk_forward_job(
    key: str,
    symbols: str | None,
    fast_range: str,
    slow_range: str,
    in_sample: int,
    out_of_sample: int,
    step_bars: int,
    anchored: bool,
    ladder_step: str,
    rules: str = "exact",
) -> str: ...
def split(job: str) -> list[str]: ...
def run_piece(key: str, piece: str) -> str: ...
def merge(key: str, job: str, outputs: list[str]) -> str: ...
def run_local(key: str, job: str, workers: int) -> str: ...
