//! The decision on two sides read from files (or kept in memory): which threshold applies to
//! them, and the evaluation with their common memory figure.

use bench_core::Measurements;

use crate::{
    DatasetSizeCategory, Evaluation, MemoryComparison, OptimizationConfig, PerformanceThreshold,
    ThresholdError, evaluate_independent, evaluate_threshold,
};

/// The threshold for two sides: the (workflow, dataset size) entry both record, else the
/// fallback; a warning when they record different workflows.
///
/// ```
/// use bench_threshold::{OptimizationConfig, threshold_for};
/// let m = bench_core::Measurements::parse(
///     r#"{"results":[{"command":"a","times":[1.0,1.1,1.2]}]}"#, std::path::Path::new("a.json")).unwrap();
/// let config = OptimizationConfig::create_default();
/// let (t, warnings) = threshold_for(&config, &m, &m);
/// assert_eq!(t.workflow_type, "*");
/// assert!(warnings.is_empty());
/// ```
pub fn threshold_for<'a>(
    config: &'a OptimizationConfig,
    baseline: &Measurements,
    candidate: &Measurements,
) -> (&'a PerformanceThreshold, Vec<String>) {
    let mut warnings = Vec::new();
    let workflow = baseline.workflow_type.clone().or_else(|| candidate.workflow_type.clone());
    if let (Some(x), Some(y)) = (&baseline.workflow_type, &candidate.workflow_type)
        && x != y
    {
        warnings.push(format!(
            "the files measure different workflows ({x} vs {y}); using the baseline's threshold"
        ));
    }
    let category = baseline.dataset_size.or(candidate.dataset_size).map(DatasetSizeCategory::from_rows);
    let threshold = match (&workflow, category) {
        (Some(w), Some(cat)) => config.get_threshold(w, cat.as_str()),
        _ => config.fallback(),
    };
    (threshold, warnings)
}

/// The decision on two sides' timings: when they were interleaved in one suite (each names the
/// other as its partner), run `i` pairs with run `i` ([`evaluate_threshold`]); otherwise they
/// are independent samples ([`evaluate_independent`], Welch's test, counts may differ). Memory
/// is compared on the figure both sides measured (heap peak first, else peak RSS).
pub fn compare_measurements(
    baseline: &Measurements,
    candidate: &Measurements,
    threshold: &PerformanceThreshold,
) -> Result<Evaluation, ThresholdError> {
    let memory = Measurements::common_memory_peak(baseline, candidate)
        .map(|(metric, x, y)| MemoryComparison { metric, baseline_bytes: x, candidate_bytes: y });
    if baseline.interleaved_with(candidate) {
        if !baseline.pairs_match(candidate) {
            return Err(ThresholdError::MismatchedPairs {
                baseline: baseline.times.len(),
                candidate: candidate.times.len(),
            });
        }
        evaluate_threshold(&baseline.times, &candidate.times, memory, threshold)
    } else {
        evaluate_independent(&baseline.times, &candidate.times, memory, threshold)
    }
}
