//! Benchmark any two commands — a script before and after a change, an old and a new build —
//! with the whole method: each runs once with its output captured and the outputs are compared
//! (a candidate that prints something else is blocked, never timed); then both run as real child
//! processes interleaved in randomised ABBA pairs, adaptively until an anytime-valid confidence
//! sequence decides or a budget is spent; then the four criteria decide.
//!
//! - [`CommandSpec`]: a command line split like a shell would ([`Shell::None`]) or run by
//!   `sh -c` ([`Shell::Sh`]); empty lines, unclosed quotes and shell syntax errors are refused.
//! - [`TimedRunner`]: one run = spawn → reap on a monotonic clock, user + system CPU time and
//!   peak resident set from the kernel's accounting of that child (`wait4`), the exit status; a
//!   non-zero exit fails the run with the tail of its standard error.
//! - [`compare_outputs`]: the gate — exact, numeric within a tolerance, or none.
//! - [`compare_commands`], [`compare_with_saved`], [`measure_command`]: the comparisons;
//!   [`SavedBaseline`]: runs kept under a name; [`hyperfine_export`]: hyperfine's JSON format;
//!   [`harness_overhead`]: the harness's own cost per run.
//! - [`run_under_callgrind`]: a command's instructions and estimated cycles under Valgrind's
//!   Callgrind ([`CountMetric`]), a metric the machine's noise does not move;
//!   [`compare_counts`]: two commands decided on it — exactly, when the counts are
//!   deterministic.
//!
//! ```
//! use bench_command::{CommandSpec, CompareOptions, Shell, compare_commands};
//! use bench_optimizations::{Decision, Design};
//! use bench_threshold::OptimizationConfig;
//! let dir = tempfile::tempdir().unwrap();
//! let t = OptimizationConfig::create_default().fallback().clone();
//! let same = CommandSpec::parse("echo 42", Shell::None).unwrap();
//! let options = CompareOptions { design: Design::Fixed, runs: 4, warmup_runs: 1, ..CompareOptions::new("doc", t, dir.path()) };
//! let c = compare_commands(&same, &same, &options, &mut |_| {}).unwrap();
//! assert!(c.equivalence.equivalent);
//! assert_eq!(c.baseline.runs, 4);
//! assert_ne!(c.decision, Decision::Accepted); // the same command is no improvement on itself
//! ```

mod baseline;
mod callgrind;
mod child;
mod compare;
mod counts;
mod hyperfine;
mod output;
mod spec;

pub use baseline::{BASELINE_SCHEMA_VERSION, BaselineInfo, SavedBaseline};
pub use callgrind::{
    CallgrindCounts, CallgrindOptions, CallgrindRun, CompareMetric, CountMetric, run_under_callgrind,
    valgrind_version,
};
pub use child::{
    Captured, ChildUsage, Overhead, TimedRunner, describe_status, harness_overhead, run_captured, tail,
};
pub use compare::{
    CommandComparison, CompareOptions, ComparePlan, CompareProgress, SideSummary, compare_commands,
    compare_with_saved, fingerprint_differences, measure_command, record_baseline,
};
pub use counts::{CountComparison, CountOptions, compare_counts};
pub use hyperfine::hyperfine_export;
pub use output::{LineDifference, OutputCheck, OutputComparison, compare_outputs};
pub use spec::{CommandSpec, Shell};

/// What can go wrong comparing commands.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The user's input: a command that is empty, cannot be split or started, fails its check
    /// run, a bad baseline name, binary output under a numeric check.
    #[error("{0}")]
    Input(String),
    /// Reading or writing files, or waiting for a child (internal): `what` names the file or
    /// the step, `source` says why.
    #[error("{what}")]
    Io {
        /// The file or step.
        what: String,
        /// Why it failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The measuring itself failed, with its own class (a run limit is the input's fault).
    #[error(transparent)]
    Measure(#[from] bench_measure::MeasureError),
}

impl CommandError {
    /// An I/O failure on `what` (a path or a step).
    pub(crate) fn io(
        what: impl std::fmt::Display,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Io { what: what.to_string(), source: source.into() }
    }
}

impl bench_core::ErrorClass for CommandError {
    fn is_input_error(&self) -> bool {
        match self {
            Self::Input(_) => true,
            Self::Io { .. } => false,
            Self::Measure(e) => bench_core::ErrorClass::is_input_error(e),
        }
    }
}
