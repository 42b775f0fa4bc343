//! Measuring: timed suites, paired suites interleaved in randomised ABBA blocks, interrupts,
//! run records, and the readings every measured run takes — wall time, process CPU time, peak
//! resident set and peak live heap.
//!
//! - [`run_benchmark_suite`]: one configuration, warm-ups then timed runs, a run that panics is
//!   recorded as failed and the suite goes on → a raw-data file and a
//!   [`bench_core::BenchmarkResult`] with a t-based CI and warnings;
//! - [`run_paired_suite`]: a baseline and a candidate in ABBA blocks ([`abba_schedule`]) so
//!   each pair shares the machine's conditions — what makes a paired test valid on a noisy
//!   machine; each run records its pair and its place in the schedule;
//!   [`run_paired_suite_until`] stops as soon as a caller's rule decides, or at a time budget;
//!   [`run_paired_measured_until`] does the same for runs the caller measures itself (child
//!   processes);
//! - [`request_interrupt`]: a Ctrl-C handler asks suites to stop after the run in progress;
//!   what completed is written with status `interrupted`;
//! - [`CountingAlloc`]: a global allocator that counts live and peak heap bytes; [`sys`]: CPU
//!   clocks, resident set, the environment fingerprint;
//! - [`callgrind`]: client requests that mark the region Callgrind counts;
//! - [`repeat_for`]: repeat a short workload until it has run long enough to profile;
//!   [`time_repeated`]: the median and fastest of several timings of short work.
//!
//! One measurement runs at a time per process ([`measurement_lock`]): the resident-set
//! high-water mark and the heap counters are process-wide.
//!
//! ```
//! use bench_measure::*;
//! let dir = tempfile::tempdir().unwrap();
//! let config = SuiteConfig::new(5, "demo", "unit", Default::default(), dir.path()).unwrap();
//! let out = run_benchmark_suite(|| (0..100_000u64).map(|i| i * i).sum::<u64>(), &config).unwrap();
//! assert_eq!(out.raw.runs.len(), 5);
//! assert!(out.raw_path.exists());
//! let r = out.result.unwrap();
//! assert!(r.execution_time_ci_95[0] <= r.execution_time_mean);
//! ```

mod alloc;
pub mod callgrind;
mod interrupt;
mod suite;
pub mod sys;

pub use alloc::{
    CountingAlloc, HeapSnapshot, heap_snapshot, heap_tracking_active, reset_heap_peak, set_deep_mode,
    set_heap_counting,
};
pub use interrupt::{
    SAME_INTERRUPT_WITHIN, clear_interrupt, install_interrupt_handler, interrupt_requested,
    request_interrupt, stop_gracefully, write_open_suites,
};
pub use suite::{
    DEFAULT_WARMUP_RUNS, PairedConfig, PairedOutcome, RepeatedTiming, Side, SuiteConfig, SuiteOutcome,
    SuiteStop, abba_schedule, check_run_count, measurement_lock, most_pairs, panic_message, repeat_for,
    run_benchmark_suite, run_benchmark_suite_with_progress, run_measured_suite, run_paired_measured_until,
    run_paired_suite, run_paired_suite_until, time_repeated,
};

use std::path::PathBuf;

use bench_core::ErrorClass;
use thiserror::Error;

/// Why a suite could not run or its raw data could not be written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MeasureError {
    /// A file could not be written.
    #[error("{}: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// An invalid run id.
    #[error(transparent)]
    RunId(#[from] bench_core::RunIdError),
    /// Raw data could not be written.
    #[error(transparent)]
    Input(#[from] bench_core::InputError),
    /// What was to be measured could not be set up (a harness's own failure).
    #[error("{0}")]
    Workload(String),
    /// More runs than the memory budget holds (checked before the suite starts).
    #[error(transparent)]
    Limit(#[from] bench_core::limits::LimitError),
}

impl ErrorClass for MeasureError {
    fn is_input_error(&self) -> bool {
        match self {
            Self::Io { .. } | Self::Workload(_) => false,
            Self::RunId(e) => e.is_input_error(),
            Self::Input(e) => e.is_input_error(),
            Self::Limit(_) => true,
        }
    }
}
