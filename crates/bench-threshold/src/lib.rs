//! Performance thresholds and the accept/reject decision.
//!
//! - [`PerformanceThreshold`] and [`create_threshold`]: minimum improvement, confidence, sample
//!   size and memory limit for one (workflow type, dataset-size category);
//! - [`OptimizationConfig`] with the presets ([`Preset::Default`] 5% / 95% / 10 runs /
//!   2% memory / goal 40%, [`Preset::Strict`] 10% / 99% / 20 / 1% / 50%, [`Preset::Lenient`]
//!   2% / 90% / 10 / 10% / 20%), looked up per workflow and size with a fallback;
//! - [`evaluate_threshold`]: the four-criterion decision (improvement ≥ min, one-tailed paired
//!   p < α, memory increase ≤ max, n ≥ min) with a rationale that states every criterion, its
//!   measured value and by how much a failed one missed, plus the minimum detectable effect and
//!   an `underpowered` flag.
//!
//! - [`threshold_for`] and [`compare_measurements`]: the same decision on two sides read from
//!   files, with the threshold their workflow and size call for.
//!
//! - [`evaluate_adaptive`] and [`adaptive_status`]: the adaptive design — an anytime-valid
//!   confidence sequence decides as soon as it can, within a budget ([`AdaptivePlan`]).
//!
//! No I/O happens here.
//!
//! ```
//! use bench_core::Sample;
//! use bench_threshold::{evaluate_threshold, Criterion, OptimizationConfig, Preset, Verdict};
//!
//! let config = OptimizationConfig::from_preset(Preset::Default);
//! let threshold = config.get_threshold("grid_search", "small");
//! let baseline = Sample::timings(vec![1.00, 1.02, 0.99, 1.01, 1.00, 0.98, 1.03, 1.01, 1.00, 0.99]).unwrap();
//! // 3% faster: significant, but below the 5% minimum.
//! let candidate = Sample::timings(baseline.values().iter().map(|t| t * 0.97).collect()).unwrap();
//! let e = evaluate_threshold(&baseline, &candidate, None, threshold).unwrap();
//! assert_eq!(e.verdict, Verdict::Rejected);
//! assert_eq!(e.failed_criteria, vec![Criterion::Improvement]);
//! assert!(e.decision_rationale.contains("short by 2.00 percentage points"));
//! ```

mod adaptive;
mod bound;
mod decision;
mod measured;
mod plan;
mod threshold;

pub use adaptive::{
    AdaptiveState, RecordedNoise, SimulationTally, adaptive_status, evaluate_adaptive, simulate_adaptive,
};
pub use bound::{
    BoundMethod, ESTIMAND, ESTIMAND_DEFINITION, ImprovementBound, abba_blocks, confidence_sequence_bound,
    independent_bound, paired_bound,
};
pub use decision::{
    Criterion, CriterionResult, Evaluation, MemoryComparison, OutlierCounts, Pairing, Verdict,
    evaluate_independent, evaluate_threshold,
};
pub use measured::{compare_measurements, threshold_for};
pub use plan::{AdaptiveOutcome, AdaptivePlan, AdaptivePoint, AdaptiveReport};
pub use threshold::{
    DEFAULT_MEMORY_FLOOR_BYTES, DatasetSizeCategory, KNOWN_WORKFLOWS, OptimizationConfig,
    PerformanceThreshold, Preset, Rule, ThresholdOverrides, create_threshold,
};

use thiserror::Error;

/// Why a threshold could not be built or applied.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ThresholdError {
    /// A threshold field is outside its domain.
    #[error("threshold field `{field}` is {value}; expected {expected}")]
    InvalidThreshold {
        /// The field.
        field: &'static str,
        /// Its value.
        value: String,
        /// The allowed domain.
        expected: &'static str,
    },
    /// A preset name that does not exist.
    #[error("unknown preset {name:?}; expected one of: default, strict, lenient")]
    UnknownPreset {
        /// The name given.
        name: String,
    },
    /// Baseline and candidate have different numbers of runs, so they cannot be paired.
    #[error(
        "cannot pair runs: baseline has {baseline} runs, candidate has {candidate}; run i of one pairs with run i of the other, so both need the same count"
    )]
    MismatchedPairs {
        /// Baseline runs.
        baseline: usize,
        /// Candidate runs.
        candidate: usize,
    },
    /// A derived figure was not finite.
    #[error("{what} is {value}, not a finite number")]
    NonFinite {
        /// Which figure.
        what: &'static str,
        /// Its value.
        value: f64,
    },
    /// A statistic failed.
    #[error(transparent)]
    Stats(#[from] bench_stats::StatsError),
    /// A derived sample broke a sample invariant.
    #[error(transparent)]
    Sample(#[from] bench_core::SampleError),
}

impl bench_core::ErrorClass for ThresholdError {
    fn is_input_error(&self) -> bool {
        match self {
            Self::InvalidThreshold { .. }
            | Self::UnknownPreset { .. }
            | Self::MismatchedPairs { .. }
            | Self::Sample(_) => true,
            Self::NonFinite { .. } => false,
            Self::Stats(e) => bench_core::ErrorClass::is_input_error(e),
        }
    }
}
