//! Pure statistics for benchmark verdicts: plain functions over a validated
//! [`Sample`](bench_core::Sample), no I/O.
//!
//! - descriptive: [`mean`], [`std_dev`] (ddof = 1), [`standard_error`], [`median`] and
//!   [`quantile_linear`] of plain values;
//! - Student's t: [`t_quantile`], [`t_sf`], [`t_cdf`], and [`confidence_interval`] at any level;
//! - tests: [`paired_t_test`] and [`welch_t_test`] with [`Alternative::Greater`], `Less` or
//!   `TwoSided`;
//! - effect sizes: [`improvement_percent`], [`speedup_ratio`], [`memory_increase_percent`];
//! - [`classify_outliers`]: Tukey fences (mild 1.5·IQR, severe 3·IQR), reported, never dropped;
//! - power: [`minimum_detectable_effect`] of a paired design and [`required_pairs`];
//! - bounds on a ratio of two means ([`PairedSums::ratio_bounds`], [`welch_ratio_bounds`]):
//!   fixed-sample ([`paired_critical`]) or anytime-valid ([`MixtureBoundary`]: valid at every
//!   sample size at once, for comparisons that stop when the answer is clear), widened for
//!   serial dependence ([`lag1_autocorrelation`], [`variance_inflation`]).
//!
//! Every figure is checked against scipy in `tests/reference/` (the generator script and its
//! output are committed).
//!
//! ```
//! use bench_core::Sample;
//! use bench_stats::{confidence_interval, paired_t_test, Alternative};
//!
//! let baseline = Sample::timings(vec![10.4, 10.6, 10.5, 10.7, 10.3]).unwrap();
//! let optimized = Sample::timings(vec![6.2, 6.4, 6.3, 6.5, 6.1]).unwrap();
//! let ci = confidence_interval(&baseline, 0.95).unwrap();
//! assert!(ci.lower < 10.5 && 10.5 < ci.upper);
//! let test = paired_t_test(&baseline, &optimized, Alternative::Greater).unwrap();
//! assert!(test.p_value < 0.05);
//! ```

mod descriptive;
mod effect;
mod outliers;
mod power;
mod rank;
mod ratio;
mod tdist;
mod ttest;

pub use descriptive::{ConfidenceInterval, confidence_interval, mean, standard_error, std_dev};
pub use effect::{improvement_percent, memory_increase_percent, speedup_ratio};
pub use outliers::{OutlierClass, OutlierReport, classify_outliers, median, quantile_linear};
pub use power::{DEFAULT_BETA, minimum_detectable_effect, minimum_detectable_effect_from_se, required_pairs};
pub use rank::{average_ranks, spearman};
pub use ratio::{
    MAX_AUTOCORRELATION, MixtureBoundary, PairedSums, RatioBounds, lag1_autocorrelation, paired_critical,
    variance_inflation, welch_ratio_bounds,
};
pub use tdist::{t_cdf, t_pdf, t_quantile, t_sf};
pub use ttest::{Alternative, TTest, paired_t_test, welch_t_test};

use thiserror::Error;

/// Why a statistic could not be computed.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum StatsError {
    /// A parameter is outside its domain.
    #[error("{name} is {value}; expected {expected}")]
    InvalidParameter {
        /// Which parameter.
        name: &'static str,
        /// The value given.
        value: f64,
        /// Its domain.
        expected: &'static str,
    },
    /// A paired test got samples of different lengths.
    #[error(
        "paired samples must have the same length: baseline has {baseline} runs, candidate has {candidate}"
    )]
    MismatchedPairs {
        /// Baseline length.
        baseline: usize,
        /// Candidate length.
        candidate: usize,
    },
    /// A derived sample (e.g. the paired differences) broke a sample invariant.
    #[error("{0}")]
    Sample(#[from] bench_core::SampleError),
    /// The required sample size exceeds the search limit.
    #[error("more than {limit} pairs would be needed; the effect is too small for the noise")]
    TooManyPairs {
        /// The search limit.
        limit: u64,
    },
}

impl bench_core::ErrorClass for StatsError {
    fn is_input_error(&self) -> bool {
        matches!(self, Self::MismatchedPairs { .. } | Self::Sample(_))
    }
}
