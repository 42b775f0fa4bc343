//! Profilers that state their own accuracy and cost, and flame graphs.
//!
//! - [`profile_workflow`] runs a workflow under one [`ProfileKind`] and writes its files, each
//!   returned as a typed [`Artefact`]:
//!   - `cpu`: the kernel's perf-event `task-clock` sampler at 4,000 samples per CPU-second with
//!     kernel-recorded call chains, falling back to a SIGPROF sampler walking frame pointers
//!     (signal-safe; Linux x86-64) where perf events cannot be opened → a function table with
//!     self/total samples, percentages and their sampling errors, the call stacks
//!     ([`FoldedStacks`]), sampled line tables, the sampler that ran and its measured effective
//!     rate, a colour-coded flame graph and a Firefox Profiler file;
//!   - `spans`: a `tracing` layer installed as the global default → exact `ncalls`
//!     (total/primitive), `tottime`, `cumtime` per span, a pstats-like table and a Chrome trace;
//!   - `lines`: statement probes of a `#[bench_line_probe::line_probe]` function → a
//!     line_profiler-style table;
//!   - `memory`: an RSS sampler at 0.1 s and heap figures from bench-measure's counting
//!     allocator; opt-in dhat.
//! - [`generate_flame_graph`] / [`generate_differential_flame_graph`] with inferno.
//!
//! Profiles take bench-measure's measurement lock: one measurement at a time per process.
//!
//! ```
//! use bench_profile::*;
//! let dir = tempfile::tempdir().unwrap();
//! let id = bench_core::RunId::new("demo").unwrap();
//! let (n, out) = profile_workflow(|| (0..1000u32).sum::<u32>(), &ProfileKind::Spans, dir.path(), &id,
//!                                 &ProfileOptions::default()).unwrap();
//! assert_eq!(n, 499_500);
//! assert!(out.artefacts.iter().any(|a| a.kind == ArtefactKind::ChromeTrace && a.path.exists()));
//! ```

mod artefact;
pub mod cpu;
pub mod flame;
pub mod lines;
pub mod memory;
pub mod spans;
mod stacks;
mod workflow;

pub use artefact::{Artefact, ArtefactKind};
pub use flame::{FlameSummary, generate_differential_flame_graph, generate_flame_graph};
pub use stacks::{FoldedStacks, Stack, is_runtime_frame, sampling_error_percent};
pub use workflow::{
    FunctionLines, ProfileKind, ProfileMetrics, ProfileOptions, ProfileOutput, hot_lines, profile_workflow,
    write_cpu_files,
};

use std::path::{Path, PathBuf};

use thiserror::Error;

/// Why a profile could not run or be written.
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
    /// The profiler does not run on this platform.
    #[error("{0}")]
    Unsupported(String),
    /// An input file (another profiler's stacks) could not be read or is malformed.
    #[error("{0}")]
    Input(String),
}

impl bench_core::ErrorClass for ProfileError {
    fn is_input_error(&self) -> bool {
        matches!(self, Self::UnknownFunction { .. } | Self::RunId(_) | Self::Unsupported(_) | Self::Input(_))
    }
}

impl ProfileError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, e: &std::io::Error) -> Self {
        Self::Io { path: path.to_path_buf(), message: e.to_string() }
    }
}
