//! A/A calibration: an implementation benchmarked against itself, many times, to see how often
//! noise alone is accepted or called significant on this machine.

use bench_core::Decimal;
use bench_measure::interrupt_requested;
use bench_threshold::{Criterion, PerformanceThreshold, Verdict};
use serde::Serialize;

use crate::sampling::{Design, EvaluationError, Sampling};
use crate::sequence::SequenceHarness;

/// One A/A comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AaRow {
    /// 1-based repetition.
    pub repetition: usize,
    /// Measured "improvement" of the implementation over itself, percent.
    pub improvement_percent: Decimal,
    /// One-tailed paired p-value (fixed-sample: not valid after an adaptive stop; reported
    /// for the classic rule only).
    pub p_value: Decimal,
    /// Lower bound of the improvement at the stop, percent (the decision's bound; null while
    /// unbounded).
    pub lower_percent: Option<Decimal>,
    /// Minimum detectable effect of the comparison, percent.
    pub minimum_detectable_effect_percent: Decimal,
    /// The verdict (accepted = noise was accepted).
    pub verdict: Verdict,
    /// The criteria that failed.
    pub failed_criteria: Vec<Criterion>,
}

/// The outcome of an A/A calibration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AaCalibration {
    /// The implementation compared with itself.
    pub implementation: String,
    /// Pairs per comparison (as completed in the first one).
    pub pairs_per_comparison: usize,
    /// Comparisons requested.
    pub requested: usize,
    /// Comparisons completed.
    pub repetitions: usize,
    /// How many were accepted — each one a false acceptance.
    pub wrongly_accepted: usize,
    /// How many had a lower bound above zero — the decision's own bound (anytime-valid under
    /// the adaptive design), not a fixed-sample p-value computed after stopping.
    pub significant_at_alpha: usize,
    /// α of the threshold.
    pub alpha: Decimal,
    /// The threshold applied.
    pub threshold: PerformanceThreshold,
    /// Every comparison.
    pub rows: Vec<AaRow>,
    /// Pairs each comparison took.
    pub pairs_used: Vec<usize>,
}

impl AaCalibration {
    /// False when an interrupt stopped it before every comparison ran.
    pub fn complete(&self) -> bool {
        self.repetitions == self.requested
    }
}

/// Benchmarks `stack` against itself `n` times through `harness` and evaluates each comparison
/// under `threshold`; stops early on an interrupt. `progress(done, n)` is called after each.
pub fn calibrate_aa<S>(
    harness: &mut dyn SequenceHarness<S>,
    stack: &S,
    threshold: &PerformanceThreshold,
    design: Design,
    n: usize,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<AaCalibration, EvaluationError> {
    let sampling = Sampling::new(design, threshold);
    let alpha = threshold.alpha();
    let mut rows = Vec::with_capacity(n.min(4096));
    let mut pairs = 0;
    let mut pairs_used = Vec::with_capacity(n.min(4096));
    for i in 0..n {
        if interrupt_requested() {
            break;
        }
        let out = harness.benchmark(stack, stack, &format!("aa{i}"), &sampling)?;
        if i == 0 {
            pairs = out.baseline.raw.runs.len();
        }
        pairs_used.push(out.baseline.raw.runs.len());
        let e = sampling.evaluate(&out)?;
        rows.push(AaRow {
            repetition: i + 1,
            improvement_percent: e.improvement_percent,
            p_value: e.p_value,
            lower_percent: e.bound.lower_percent,
            minimum_detectable_effect_percent: e.minimum_detectable_effect_percent,
            verdict: e.verdict,
            failed_criteria: e.failed_criteria,
        });
        progress(i + 1, n);
    }
    Ok(AaCalibration {
        implementation: harness.describe(stack),
        pairs_per_comparison: pairs,
        requested: n,
        repetitions: rows.len(),
        wrongly_accepted: rows.iter().filter(|r| r.verdict == Verdict::Accepted).count(),
        significant_at_alpha: rows
            .iter()
            .filter(|r| r.lower_percent.is_some_and(|l| l > Decimal::ZERO))
            .count(),
        alpha,
        threshold: threshold.clone(),
        rows,
        pairs_used,
    })
}
