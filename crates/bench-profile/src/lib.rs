//! Profilers and timed benchmark suites that state their own accuracy and cost.
//!
//! - [`profile_workflow`] runs a workflow under one [`ProfileKind`] and writes its files:
//!   - `cpu`: pprof sampling (frame-pointer unwinding, signal-safe) → a function table with
//!     self/total samples, percentages and their sampling errors, folded stacks, the measured
//!     effective sample rate, and a colour-coded flame graph;
//!   - `spans`: a `tracing` layer installed as the global default → exact `ncalls`
//!     (total/primitive), `tottime`, `cumtime` per span, a pstats-like table and a Chrome trace;
//!   - `lines`: statement probes of a `#[bench_line_probe::line_probe]` function → a
//!     line_profiler-style table;
//!   - `memory`: an RSS sampler at 0.1 s and heap figures from [`CountingAlloc`]; opt-in dhat.
//! - [`generate_flame_graph`] / [`generate_differential_flame_graph`] with inferno.
//! - [`run_benchmark_suite`] and [`run_paired_suite`] (randomised ABBA interleaving) → raw data
//!   files and [`bench_core::BenchmarkResult`], with an environment fingerprint and warnings.
//!
//! ```
//! use bench_profile::*;
//! let dir = tempfile::tempdir().unwrap();
//! let config = SuiteConfig::new(5, "demo", "unit", Default::default(), dir.path()).unwrap();
//! let out = run_benchmark_suite(|| (0..100_000u64).map(|i| i * i).sum::<u64>(), &config).unwrap();
//! assert_eq!(out.raw.runs.len(), 5);
//! assert!(out.raw_path.exists());
//! let r = out.result.unwrap();
//! assert!(r.execution_time_ci_95[0] <= r.execution_time_mean);
//! ```

mod alloc;
pub mod cpu;
pub mod flame;
pub mod lines;
pub mod memory;
pub mod spans;
mod suite;
pub mod sys;
mod workflow;

pub use alloc::{
    CountingAlloc, HeapSnapshot, heap_snapshot, heap_tracking_active, reset_heap_peak, set_heap_counting,
};
pub use flame::{FlameSummary, generate_differential_flame_graph, generate_flame_graph};
pub use suite::{
    DEFAULT_WARMUP_RUNS, PairedConfig, PairedOutcome, Side, SuiteConfig, SuiteOutcome, abba_schedule,
    clear_interrupt, interrupt_requested, panic_message, request_interrupt, run_benchmark_suite,
    run_benchmark_suite_with_progress, run_paired_suite,
};
pub use workflow::{ProfileKind, ProfileMetrics, ProfileOptions, ProfileOutput, profile_workflow};

use std::path::{Path, PathBuf};

use thiserror::Error;

/// Why a profile or suite could not run or be written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// A file could not be written.
    #[error("{}: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A profiler could not start or report.
    #[error("{0}")]
    Profiler(String),
    /// Nothing was recorded.
    #[error("{0}")]
    Empty(String),
    /// Flame-graph rendering failed.
    #[error("flame graph: {0}")]
    Flame(String),
    /// The lines profiler was asked for a function without probes.
    #[error("no line probes ran for function {name:?}; functions with #[line_probe] that ran: {known}")]
    UnknownFunction {
        /// The name asked for.
        name: String,
        /// The probed functions that ran.
        known: String,
    },
    /// An invalid run id.
    #[error(transparent)]
    RunId(#[from] bench_core::RunIdError),
    /// Raw data could not be written.
    #[error(transparent)]
    Input(#[from] bench_core::InputError),
}

impl ProfileError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, e: &std::io::Error) -> Self {
        Self::Io { path: path.to_path_buf(), message: e.to_string() }
    }
}
