//! [`BenchmarkResult`]: the summary of one benchmark suite, with the documented field names.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::raw::Workload;

/// Summary of one benchmark suite. Times are in seconds; every derived figure is a `Decimal`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkResult {
    /// Name of the configuration measured.
    pub configuration_name: String,
    /// Workflow measured, e.g. `grid_search`.
    pub workflow_type: String,
    /// Workload characteristics (`dataset_size`, `parameter_combinations`, `backtest_count`).
    #[serde(flatten)]
    pub workload: Workload,
    /// Number of completed timed runs.
    pub num_runs: usize,
    /// Number of runs that panicked or were interrupted.
    pub failed_runs: usize,
    /// Mean wall time in seconds.
    pub execution_time_mean: Decimal,
    /// Sample standard deviation (ddof = 1) of the wall time in seconds.
    pub execution_time_std_dev: Decimal,
    /// 95% t-based confidence interval of the mean wall time, `[lower, upper]` in seconds.
    pub execution_time_ci_95: [Decimal; 2],
    /// Mean CPU time (all threads) in seconds.
    pub cpu_time_mean: Decimal,
    /// Largest per-run resident-set high-water mark in bytes, where measured.
    pub memory_peak_bytes: Option<u64>,
    /// Largest per-run heap peak in bytes, where measured.
    pub heap_peak_bytes: Option<u64>,
    /// Conditions that make the figures less trustworthy (high CV, dirty tree, debug build, …).
    pub warnings: Vec<String>,
}
