//! The optimization ladder of the backtest workloads (`bench-workloads`) as a sequential
//! evaluation by the generic toolkit: its steps as optimizations, a harness that times a
//! prepared workload and gates every candidate on its equivalence cases, and the threshold that
//! fits the workload's workflow and dataset size.
//!
//! This is the one crate that knows both sides: the generic crates (statistics, thresholds,
//! measurement, the sequential evaluation, reports) know nothing of backtests, and the backtest
//! crate knows nothing of verdicts.
//!
//! ```
//! let steps = bench_ladder::ladder_optimizations();
//! let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
//! assert_eq!(names.first(), Some(&"batch-init"));
//! assert!(names.contains(&"persistent-workers"));
//! ```

mod adapter;
mod bottleneck_rules;
mod profiling;
mod run;
mod scenarios;

pub use adapter::{LadderHarness, ladder_harness, ladder_optimizations, ladder_threshold, ladder_workload};
pub use bottleneck_rules::bottleneck_rules;
pub use profiling::{Scenario, WorkloadProfiles};
pub use run::{Backend, DERIVED_COMBINATIONS, LadderError, LadderOptions, LadderRun, MIN_DERIVED_BARS};
pub use scenarios::{
    ASSET_COUNTS, BARS_PER_ASSET, SEARCH_METHODS, WORKER_COUNTS, batch_init_scenarios, coordinator_scenarios,
    search_scenarios,
};
