//! The Python extension that lets Ray (or any Python coordinator) run bench's backtests: a
//! PyO3 module, built as an abi3 wheel by maturin, over the distributable pieces of
//! [`bench_workloads`] — one grid chunk or one walk-forward window per call, each a pure,
//! deterministic function of the bundle and the piece.
//!
//! A worker process loads a bundle once under a key ([`load_bundle`]) and then runs any number
//! of pieces on it ([`run_piece`]); the coordinator merges the outputs ([`merge`]) into exactly
//! what the in-process rayon run gives ([`run_local`]). The Python names are the same as the
//! Rust ones; every function takes and returns JSON text in `bench_workloads`' own formats
//! ([`bench_workloads::Job`], [`bench_workloads::PieceOutput`]).
//!
//! ```
//! let bytes = bench_py::bundled_bytes().unwrap();
//! let key = bench_py::bundle_key(&bytes);
//! bench_py::load_bundle(&key, &bytes).unwrap();
//! let job = bench_py::grid_job(&key, Some("GOOG"), "10:20:10", "30:40:10", "prefix-sums", 2, "exact").unwrap();
//! let pieces = bench_py::split(&job).unwrap();
//! let outputs: Vec<String> = pieces.iter().map(|p| bench_py::run_piece(&key, p).unwrap()).collect();
//! let merged = bench_py::merge(&key, &job, &outputs).unwrap();
//! assert_eq!(merged, bench_py::run_local(&key, &job, 2).unwrap());
//! assert!(merged.contains("\"trades\":66")); // GOOG 10/30, as backtesting.py
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use bench_workloads::{
    Bundle, Engine, GridSpec, Job, LadderStep, Objective, ParamRange, PieceOutput, WalkForwardSpec,
    WindowMode, WorkloadError, checked_param_grid, merge_grid, merge_walk_forward, run_grid,
    run_piece as run_one, run_walk_forward,
};
use pyo3::exceptions::{PyKeyError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// A bundle loaded in this process: the engine over it and the folder holding its binary file
/// (the baseline step re-reads the file per backtest, as it does in-process).
struct Loaded {
    engine: Engine,
    _dir: tempfile::TempDir,
}

fn loaded() -> &'static Mutex<HashMap<String, Arc<Loaded>>> {
    static LOADED: OnceLock<Mutex<HashMap<String, Arc<Loaded>>>> = OnceLock::new();
    LOADED.get_or_init(Mutex::default)
}

fn invalid(message: impl Into<String>) -> WorkloadError {
    WorkloadError::InvalidParameter(message.into())
}

fn engine(key: &str) -> Result<Engine, WorkloadError> {
    let map = loaded().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    map.get(key)
        .map(|l| l.engine.clone())
        .ok_or_else(|| invalid(format!("no bundle loaded under key {key:?}; call load_bundle first")))
}

fn parse_job(job: &str) -> Result<Job, WorkloadError> {
    serde_json::from_str(job).map_err(|e| invalid(format!("job JSON: {e}")))
}

fn internal(message: impl Into<String>) -> WorkloadError {
    WorkloadError::Internal(message.into())
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, WorkloadError> {
    serde_json::to_string(value).map_err(|e| internal(format!("cannot write JSON: {e}")))
}

/// The job format this extension was built with ([`bench_workloads::JOB_FORMAT`]).
pub fn job_format() -> u32 {
    bench_workloads::JOB_FORMAT
}

/// A key naming a bundle's contents (checksum and length): the same bytes give the same key on
/// every machine.
pub fn bundle_key(bytes: &[u8]) -> String {
    format!("{:016x}-{}", bench_workloads::bundle_checksum(bytes), bytes.len())
}

/// Loads a binary bundle (as [`Bundle::to_binary`] writes it) under `key`, once per process;
/// loading a key already loaded does nothing.
pub fn load_bundle(key: &str, bytes: &[u8]) -> Result<(), WorkloadError> {
    if has_bundle(key) {
        return Ok(());
    }
    let dir =
        tempfile::tempdir().map_err(|e| internal(format!("cannot make a folder for the bundle: {e}")))?;
    let path = dir.path().join("bundle.bin");
    let bundle = Bundle::from_binary(bytes, &path)?;
    std::fs::write(&path, bytes).map_err(|e| internal(format!("cannot write {}: {e}", path.display())))?;
    let engine = Engine::new(path, Arc::new(bundle), 1)?;
    let mut map = loaded().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    map.entry(key.to_string()).or_insert_with(|| Arc::new(Loaded { engine, _dir: dir }));
    Ok(())
}

/// Whether a bundle is loaded under `key` in this process.
pub fn has_bundle(key: &str) -> bool {
    loaded().lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains_key(key)
}

/// The bundled real data (five US stocks, daily) as a binary bundle.
pub fn bundled_bytes() -> Result<Vec<u8>, WorkloadError> {
    Ok(bench_workloads::load_data(None)?.to_binary())
}

/// A derived bundle of `assets` × `bars` (block bootstrap of the bundled bars, seeded).
pub fn derived_bytes(assets: usize, bars: usize, seed: u64) -> Result<Vec<u8>, WorkloadError> {
    let real = bench_workloads::load_data(None)?;
    Ok(bench_workloads::derive(&real, assets, bars, seed)?.to_binary())
}

fn ranges(fast: &str, slow: &str) -> Result<Vec<bench_workloads::Params>, WorkloadError> {
    let f: ParamRange = fast.parse().map_err(|e| invalid(format!("fast range: {e}")))?;
    let s: ParamRange = slow.parse().map_err(|e| invalid(format!("slow range: {e}")))?;
    checked_param_grid(&f, &s)
}

fn step(name: &str) -> Result<LadderStep, WorkloadError> {
    name.parse().map_err(invalid)
}

/// A grid-search job over the bundle under `key` (symbols comma-separated, `None` for every
/// asset), cut into chunks of at most `per_chunk` combinations.
pub fn grid_job(
    key: &str,
    symbols: Option<&str>,
    fast_range: &str,
    slow_range: &str,
    ladder_step: &str,
    per_chunk: usize,
    rules: &str,
) -> Result<String, WorkloadError> {
    let engine = engine(key)?;
    let spec = GridSpec {
        assets: engine.bundle().select_assets(symbols)?,
        params: ranges(fast_range, slow_range)?,
        objective: Objective::FinalEquity,
        rules: rules.parse()?,
    };
    to_json(&Job::grid(&spec, step(ladder_step)?.optimizations(), per_chunk))
}

/// A walk-forward job (Sharpe ratio in-sample) over the bundle under `key`, one piece per window.
#[allow(clippy::too_many_arguments)]
pub fn walk_forward_job(
    key: &str,
    symbols: Option<&str>,
    fast_range: &str,
    slow_range: &str,
    in_sample: usize,
    out_of_sample: usize,
    step_bars: usize,
    anchored: bool,
    ladder_step: &str,
    rules: &str,
) -> Result<String, WorkloadError> {
    let engine = engine(key)?;
    let spec = WalkForwardSpec {
        assets: engine.bundle().select_assets(symbols)?,
        params: ranges(fast_range, slow_range)?,
        in_sample,
        out_of_sample,
        step: step_bars,
        mode: if anchored { WindowMode::Anchored } else { WindowMode::Rolling },
        objective: Objective::SharpeRatio,
        rules: rules.parse()?,
        search: None,
    };
    to_json(&Job::walk_forward(&spec, engine.bundle(), step(ladder_step)?.optimizations())?)
}

/// The job cut into one-piece jobs, in piece order: what a coordinator sends to its workers.
pub fn split(job: &str) -> Result<Vec<String>, WorkloadError> {
    parse_job(job)?.split().iter().map(to_json).collect()
}

/// Runs a one-piece job (from [`split`]) on the bundle under `key`; returns the piece's output.
pub fn run_piece(key: &str, piece: &str) -> Result<String, WorkloadError> {
    let job = parse_job(piece)?;
    if job.pieces() != 1 {
        return Err(invalid(format!(
            "run_piece takes a one-piece job; this one has {} pieces",
            job.pieces()
        )));
    }
    to_json(&run_one(&engine(key)?, &job, 0)?)
}

/// Merges piece outputs (in piece order) into the job's result: a grid search's or a
/// walk-forward's, as JSON.
pub fn merge(key: &str, job: &str, outputs: &[String]) -> Result<String, WorkloadError> {
    let job = parse_job(job)?;
    let outputs: Vec<PieceOutput> = outputs
        .iter()
        .enumerate()
        .map(|(i, o)| serde_json::from_str(o).map_err(|e| invalid(format!("output of piece {i}: {e}"))))
        .collect::<Result<_, _>>()?;
    match &job {
        Job::Grid { .. } => to_json(&merge_grid(engine(key)?.bundle(), &job, outputs)?),
        Job::WalkForward { .. } => to_json(&merge_walk_forward(engine(key)?.bundle(), &job, outputs)?),
    }
}

/// The whole job in this process on a rayon pool of `workers` threads (the default backend):
/// the reference a distributed run must equal.
pub fn run_local(key: &str, job: &str, workers: usize) -> Result<String, WorkloadError> {
    let job = parse_job(job)?;
    let engine = engine(key)?.with_workers(workers)?;
    match &job {
        Job::Grid { opts, .. } => {
            let spec = job.grid_spec().ok_or_else(|| invalid("the grid job has no chunk"))?;
            to_json(&run_grid(&engine, &spec, *opts)?)
        }
        Job::WalkForward { opts, spec, .. } => to_json(&run_walk_forward(&engine, spec, *opts)?),
    }
}

pyo3::create_exception!(
    bench_py,
    InputError,
    PyValueError,
    "What was asked cannot be done: a bad range, step, key, job or piece output, data that does not load, a limit."
);
pyo3::create_exception!(
    bench_py,
    InternalError,
    PyRuntimeError,
    "A failure of the extension itself (a temporary file, a worker pool, a result that cannot be serialised)."
);

/// A Rust error as a Python exception of its class: [`InputError`] (a `ValueError`) for what the
/// caller asked, [`InternalError`] (a `RuntimeError`) for failures of the extension itself.
fn py_err(e: WorkloadError) -> PyErr {
    if bench_core::ErrorClass::is_input_error(&e) {
        InputError::new_err(e.to_string())
    } else {
        InternalError::new_err(e.to_string())
    }
}

/// Python bindings: the same functions, releasing the interpreter while Rust works.
#[pymodule]
mod bench_py {
    use super::*;

    /// The exception classes and the `serve` protocol's reply marker, as module attributes.
    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("InputError", m.py().get_type::<InputError>())?;
        m.add("InternalError", m.py().get_type::<InternalError>())?;
        m.add("SERVE_REPLY_PREFIX", bench_workloads::SERVE_REPLY_PREFIX)?;
        Ok(())
    }

    /// The job format this extension speaks.
    #[pyfunction]
    fn job_format() -> u32 {
        super::job_format()
    }

    /// A key naming a bundle's contents.
    #[pyfunction]
    fn bundle_key(bytes: &[u8]) -> String {
        super::bundle_key(bytes)
    }

    /// Loads a binary bundle under a key, once per process.
    #[pyfunction]
    fn load_bundle(py: Python<'_>, key: &str, bytes: &[u8]) -> PyResult<()> {
        py.detach(|| super::load_bundle(key, bytes)).map_err(py_err)
    }

    /// Whether a bundle is loaded under the key in this process.
    #[pyfunction]
    fn has_bundle(key: &str) -> bool {
        super::has_bundle(key)
    }

    /// The bundled real data as a binary bundle.
    #[pyfunction]
    fn bundled_bytes(py: Python<'_>) -> PyResult<Vec<u8>> {
        py.detach(super::bundled_bytes).map_err(py_err)
    }

    /// A derived bundle (block bootstrap of the bundled bars, seeded).
    #[pyfunction]
    fn derived_bytes(py: Python<'_>, assets: usize, bars: usize, seed: u64) -> PyResult<Vec<u8>> {
        py.detach(|| super::derived_bytes(assets, bars, seed)).map_err(py_err)
    }

    /// A grid-search job over the bundle under the key.
    #[pyfunction]
    #[pyo3(signature = (key, symbols, fast_range, slow_range, ladder_step, per_chunk, rules = "exact"))]
    fn grid_job(
        key: &str,
        symbols: Option<&str>,
        fast_range: &str,
        slow_range: &str,
        ladder_step: &str,
        per_chunk: usize,
        rules: &str,
    ) -> PyResult<String> {
        super::grid_job(key, symbols, fast_range, slow_range, ladder_step, per_chunk, rules).map_err(py_err)
    }

    /// A walk-forward job over the bundle under the key.
    #[pyfunction]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (key, symbols, fast_range, slow_range, in_sample, out_of_sample, step_bars, anchored, ladder_step, rules = "exact"))]
    fn walk_forward_job(
        key: &str,
        symbols: Option<&str>,
        fast_range: &str,
        slow_range: &str,
        in_sample: usize,
        out_of_sample: usize,
        step_bars: usize,
        anchored: bool,
        ladder_step: &str,
        rules: &str,
    ) -> PyResult<String> {
        super::walk_forward_job(
            key,
            symbols,
            fast_range,
            slow_range,
            in_sample,
            out_of_sample,
            step_bars,
            anchored,
            ladder_step,
            rules,
        )
        .map_err(py_err)
    }

    /// The job cut into one-piece jobs.
    #[pyfunction]
    fn split(job: &str) -> PyResult<Vec<String>> {
        super::split(job).map_err(py_err)
    }

    /// Runs a one-piece job on the bundle under the key.
    #[pyfunction]
    fn run_piece(py: Python<'_>, key: &str, piece: &str) -> PyResult<String> {
        if !super::has_bundle(key) {
            return Err(PyKeyError::new_err(format!("no bundle loaded under key {key:?}")));
        }
        py.detach(|| super::run_piece(key, piece)).map_err(py_err)
    }

    /// Merges piece outputs (in piece order) into the job's result.
    #[pyfunction]
    fn merge(py: Python<'_>, key: &str, job: &str, outputs: Vec<String>) -> PyResult<String> {
        py.detach(|| super::merge(key, job, &outputs)).map_err(py_err)
    }

    /// The whole job in this process on a rayon pool.
    #[pyfunction]
    fn run_local(py: Python<'_>, key: &str, job: &str, workers: usize) -> PyResult<String> {
        py.detach(|| super::run_local(key, job, workers)).map_err(py_err)
    }
}
