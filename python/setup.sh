#!/usr/bin/env bash
# Sets up the Ray backend from the project's own files: a virtualenv at python/.venv with the
# pinned requirements, the Rust extension (crates/bench-py) built by maturin into it, and the
# driver package (python/bench_ray). Run from anywhere: `bash python/setup.sh`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
venv="$here/.venv"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
    echo "== creating $venv"
    "$python" -m venv "$venv"
fi
echo "== installing python/requirements.txt (Ray and its dependencies: a few hundred MB the first time)"
"$venv/bin/pip" install --disable-pip-version-check --progress-bar off -r "$here/requirements.txt"
echo "== building the extension (crates/bench-py) with maturin: a release build, 2-3 minutes the first time"
VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" "$venv/bin/maturin" develop --release \
    --manifest-path "$root/crates/bench-py/Cargo.toml"
echo "== putting the driver (python/bench_ray) on the venv's path"
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$here" > "$site/bench_ray_source.pth"
"$venv/bin/python" -c "import bench_py, bench_ray, ray; print('Ray backend ready: ray', ray.__version__)"
