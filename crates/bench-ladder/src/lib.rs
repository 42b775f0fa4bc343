//! The optimization ladder of the backtest workloads (`bench-workloads`) as a sequential
//! evaluation by the generic toolkit: its steps as optimizations, a harness that times a
//! prepared workload and gates every candidate on its equivalence cases, and the threshold that
//! fits the workload's workflow and dataset size.
//!
//! This is the one crate that knows both sides: the generic crates (statistics, thresholds,
//! measurement, the sequential evaluation, reports) know nothing of backtests, and the backtest
//! crate knows nothing of verdicts.
//!
//! [`count_ladder`] decides the same steps on instructions or estimated cycles counted under
//! Callgrind in child processes, and [`rung_metrics`] sets every rung's wall time, CPU time,
//! instructions and estimated cycles side by side.
//!
//! ```
//! let steps = bench_ladder::ladder_optimizations();
//! let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
//! assert_eq!(names.first(), Some(&"batch-init"));
//! assert!(names.contains(&"persistent-workers"));
//! ```

mod adapter;
mod bottleneck_rules;
mod counts;
mod profiling;
mod run;
mod scenarios;

pub use adapter::{LadderHarness, ladder_harness, ladder_optimizations, ladder_threshold, ladder_workload};
pub use bottleneck_rules::bottleneck_rules;
pub use counts::{
    COUNT_REQUEST_VAR, CountStep, RungMetrics, count_command, count_ladder, count_ladder_bmf,
    count_ladder_text, region_callgrind_options, rung_metrics, rung_metrics_markdown, serve_count_request,
};
pub use profiling::{ProfileTarget, Scenario, WorkloadProfiles};
pub use run::{Backend, DERIVED_COMBINATIONS, LadderError, LadderOptions, LadderRun, MIN_DERIVED_BARS};
pub use scenarios::{
    ASSET_COUNTS, BARS_PER_ASSET, SEARCH_METHODS, WORKER_COUNTS, batch_init_scenarios, coordinator_scenarios,
    search_scenarios,
};
