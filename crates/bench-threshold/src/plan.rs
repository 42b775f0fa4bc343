//! An adaptive comparison's plan (its pair and time budget, the tuning of its confidence
//! sequence) and what it reports (how it ended, its path): the data both the decision
//! (`decision.rs`) and the sequence (`sequential.rs`) speak of.

use bench_core::Decimal;
use bench_stats::MixtureBoundary;
use serde::Serialize;

use crate::{PerformanceThreshold, ThresholdError};

/// How an adaptive comparison samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AdaptivePlan {
    /// Pairs before the first decision (at least the threshold's minimum sample size).
    pub min_pairs: usize,
    /// Most pairs a comparison may take.
    pub max_pairs: usize,
    /// Most wall time a comparison may take, seconds.
    pub max_seconds: f64,
    /// Pairs at which the confidence sequence is tightest (its tuning).
    pub tuned_for_pairs: f64,
}

impl AdaptivePlan {
    /// The default budget: 400 pairs or 60 s per comparison, tuned for twice the budget (800
    /// pairs), no decision before the threshold's minimum sample size.
    pub fn default_for(threshold: &PerformanceThreshold) -> Self {
        Self {
            min_pairs: threshold.min_sample_size.max(2),
            max_pairs: 400,
            max_seconds: 60.0,
            tuned_for_pairs: 800.0,
        }
    }

    /// The plan with another pair budget, tuned for twice it.
    pub fn with_budget(self, max_pairs: usize) -> Self {
        Self { max_pairs, tuned_for_pairs: 2.0 * max_pairs as f64, ..self }
    }

    /// The mixture boundary this plan decides with, at the threshold's α, tuned in ABBA blocks.
    pub fn boundary(&self, threshold: &PerformanceThreshold) -> Result<MixtureBoundary, ThresholdError> {
        Ok(MixtureBoundary::tuned_for(
            (self.tuned_for_pairs / 2.0).max(1.0),
            bench_core::to_f64(threshold.alpha()),
        )?)
    }
}

/// How an adaptive comparison ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AdaptiveOutcome {
    /// The lower bound reached the threshold.
    Accepted,
    /// The upper bound fell below the threshold.
    Rejected,
    /// Sampling ended (budget, time or interruption) with the sequence still containing the
    /// threshold, or with dependent runs.
    Inconclusive,
}

/// Where a comparison stood after some pairs, as improvements of mean time in percent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AdaptivePoint {
    /// Pairs so far.
    pub pairs: usize,
    /// Estimated improvement of mean time, percent.
    pub estimate_percent: f64,
    /// Lower end of the confidence sequence, percent (`None` while the data do not bound it).
    pub lower_percent: Option<f64>,
    /// Upper end, percent (`None` while unbounded).
    pub upper_percent: Option<f64>,
}

/// What the adaptive design did, for reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdaptiveReport {
    /// How it ended.
    pub outcome: AdaptiveOutcome,
    /// Pairs used.
    pub pairs_used: usize,
    /// Wall time the comparison took, seconds.
    pub seconds: Decimal,
    /// Why sampling stopped: `decided`, `max_pairs`, `max_time` or `interrupted`.
    pub stopped_by: String,
    /// The confidence sequence of the improvement of mean time at the stop, percent (null ends:
    /// unbounded) — the headline interval.
    pub interval_at_stop_percent: [Option<Decimal>; 2],
    /// The estimate at the stop: the improvement of mean time, percent. After an early stop it
    /// is biased away from the threshold (a comparison stops when it happens to look clear);
    /// the interval is what holds.
    pub estimate_percent: Decimal,
    /// The plan.
    pub plan: AdaptivePlan,
    /// The running estimate and sequence after every block from the second on.
    pub path: Vec<AdaptivePoint>,
}
