//! Types and file formats shared by every bench crate.
//!
//! - [`Sample`]: a validated set of measurements (n ≥ 2, finite; timings > 0) that statistics
//!   take by reference, so nothing downstream re-checks;
//! - [`RunRecord`], [`RawData`]: the raw-data file of one benchmark suite (integer nanoseconds
//!   and bytes, `schema_version`), read and written atomically;
//! - [`BenchmarkResult`]: a suite's summary with the documented field names, as `Decimal` metrics;
//! - [`Measurements`]: one side of a pairwise evaluation, read from our raw data or from
//!   `hyperfine --export-json`;
//! - [`to_decimal`]: how measured `f64` figures become `Decimal` metrics;
//! - [`write_atomic`] and [`RunId`]: durable writes and file names that cannot escape their
//!   output directory.
//!
//! - [`probe`]: the counters behind `#[bench_line_probe::line_probe]` (line-level profiling);
//! - [`units`]: how durations, bytes, percentages, p-values and rates are written for people;
//! - [`SplitMix64`]: the one seeded generator; [`Value`]: results for the equivalence gate;
//! - [`ErrorClass`]: every error says whether the input or the tool was at fault;
//! - [`BottleneckRules`] and [`ScenarioSet`]: what a workload tells the generic analysis and
//!   scenario runner about itself.
//!
//! The only I/O here is reading and writing these formats.
//!
//! ```
//! use bench_core::{RawData, RunRecord, Sample, Workload, Environment, SuiteStatus, RAW_SCHEMA_VERSION};
//! let dir = tempfile::tempdir().unwrap();
//! let raw = RawData {
//!     schema_version: RAW_SCHEMA_VERSION,
//!     run_id: "demo".into(),
//!     configuration_name: "baseline".into(),
//!     workflow_type: "grid_search".into(),
//!     workload: Workload { dataset_size: 2148, parameter_combinations: 4, backtest_count: 4 },
//!     warmup_runs: 2,
//!     runs: (0..3)
//!         .map(|i| RunRecord { index: i, wall_ns: 1_000_000 + u64::from(i), cpu_ns: 990_000,
//!                              peak_rss_bytes: None, heap_peak_bytes: Some(4096), heap_start_bytes: None,
//!                              pair: None, sequence: None })
//!         .collect(),
//!     failed_runs: vec![],
//!     unpaired_runs: vec![],
//!     status: SuiteStatus::Complete,
//!     pairing: None,
//!     environment: Environment::default(),
//! };
//! let path = dir.path().join("demo.json");
//! raw.write(&path).unwrap();
//! let back = RawData::read(&path).unwrap();
//! assert_eq!(back, raw);
//! let times = Sample::from_nanos(&back.wall_ns()).unwrap();
//! assert_eq!(times.len(), 3);
//! ```

mod class;
mod decimal;
mod error;
mod fsio;
mod input;
pub mod limits;
pub mod probe;
mod raw;
mod result;
mod rng;
mod rules;
mod sample;
mod scenario;
pub mod units;
mod value;

pub use class::ErrorClass;
pub use decimal::{DecimalError, round_display, to_decimal, to_f64};
pub use error::{InputError, from_value, json_kind, parse_json, read_text};
pub use fsio::{RunId, RunIdError, stays_inside, write_atomic};
pub use input::{InputFormat, Measurements, MemoryMetric, TimeMetric};
pub use raw::{
    Environment, FailedRun, Partner, RAW_SCHEMA_VERSION, RawData, RunRecord, SuiteStatus, Workload,
};
pub use result::BenchmarkResult;
pub use rng::SplitMix64;
pub use rules::{BottleneckRules, RecommendationRule, UnitOfWork};
pub use rust_decimal::Decimal;
pub use sample::{Sample, SampleError};
pub use scenario::{Fact, ScenarioCase, ScenarioReading, ScenarioSet, ThreadClock};
pub use value::Value;
