//! The four-criterion accept/reject decision and its rationale.

use bench_core::units::{fmt2, p_value as p_value_text};
use bench_core::{Decimal, MemoryMetric, Sample, to_decimal};
use bench_stats::{
    Alternative, DEFAULT_BETA, classify_outliers, confidence_interval, improvement_percent, mean,
    memory_increase_percent, minimum_detectable_effect, paired_t_test, speedup_ratio, std_dev,
};
use serde::Serialize;

use crate::{PerformanceThreshold, ThresholdError};

/// Peak memory of both sides on one common metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MemoryComparison {
    /// Which figure is compared.
    pub metric: MemoryMetric,
    /// Baseline peak in bytes.
    pub baseline_bytes: u64,
    /// Candidate peak in bytes.
    pub candidate_bytes: u64,
}

/// Accepted or rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every criterion was met.
    Accepted,
    /// At least one criterion failed.
    Rejected,
}

/// The four criteria of the decision (docs/methodology.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// Mean improvement ≥ the minimum.
    Improvement,
    /// One-tailed paired t-test p < α.
    Significance,
    /// Peak memory increase ≤ the maximum (passes when not measured).
    Memory,
    /// Number of pairs ≥ the minimum.
    SampleSize,
}

impl Criterion {
    /// snake_case name, as in `failed_criteria`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Improvement => "improvement",
            Self::Significance => "significance",
            Self::Memory => "memory",
            Self::SampleSize => "sample_size",
        }
    }
}

/// One criterion's measured value, requirement and outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionResult {
    /// Which criterion.
    pub criterion: Criterion,
    /// Whether it was met.
    pub passed: bool,
    /// Human-readable statement: value, comparison, requirement and, if failed, the miss.
    pub statement: String,
}

/// Counts of Tukey outliers on one side (reported, never dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OutlierCounts {
    /// Mild outliers (beyond 1.5·IQR).
    pub mild: usize,
    /// Severe outliers (beyond 3·IQR).
    pub severe: usize,
}

/// The full result of [`evaluate_threshold`]; serialises to the pairwise-evaluation JSON of
/// docs/methodology.md.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// Accepted or rejected.
    pub verdict: Verdict,
    /// True when all four criteria were met.
    pub passes_threshold: bool,
    /// `(baseline − optimized) / baseline × 100` of the mean wall time.
    pub improvement_percent: Decimal,
    /// `baseline / optimized` mean wall time.
    pub speedup_ratio: Decimal,
    /// One-tailed paired t-test p-value (alternative: baseline slower).
    pub p_value: Decimal,
    /// `p < α`.
    pub statistical_significance: bool,
    /// `α = 1 − confidence`.
    pub alpha: Decimal,
    /// The paired t statistic; null when the differences have zero variance.
    pub t_statistic: Option<Decimal>,
    /// Degrees of freedom of the paired test (`n − 1`).
    pub degrees_of_freedom: u64,
    /// True when zero variance of the paired differences decided the p-value.
    pub zero_variance: bool,
    /// Peak memory change in percent; null when not measured on both sides.
    pub memory_increase_percent: Option<Decimal>,
    /// The memory figures compared, when measured.
    pub memory: Option<MemoryComparison>,
    /// Mean baseline wall time in seconds.
    pub baseline_mean_s: Decimal,
    /// Mean optimized wall time in seconds.
    pub optimized_mean_s: Decimal,
    /// 95% CI of the baseline mean, seconds.
    pub baseline_ci_95: [Decimal; 2],
    /// 95% CI of the optimized mean, seconds.
    pub optimized_ci_95: [Decimal; 2],
    /// Mean paired difference (baseline − optimized), seconds.
    pub mean_difference_s: Decimal,
    /// CI of the mean paired difference at the threshold's confidence, seconds.
    pub difference_ci: Option<[Decimal; 2]>,
    /// Coefficient of variation of the paired differences relative to the baseline mean, %.
    pub difference_cv_percent: Decimal,
    /// Number of baseline runs.
    pub baseline_sample_size: usize,
    /// Number of optimized runs.
    pub optimized_sample_size: usize,
    /// Smallest improvement (% of the baseline mean) this many pairs detect with 80% power at α.
    pub minimum_detectable_effect_percent: Decimal,
    /// True when the minimum detectable effect exceeds the threshold's minimum improvement.
    pub underpowered: bool,
    /// Tukey outliers of the baseline times.
    pub baseline_outliers: OutlierCounts,
    /// Tukey outliers of the optimized times.
    pub optimized_outliers: OutlierCounts,
    /// Every criterion with its measured value and outcome.
    pub criteria: Vec<CriterionResult>,
    /// Names of the criteria that failed.
    pub failed_criteria: Vec<Criterion>,
    /// One paragraph stating every criterion, its value, and by how much a failed one missed.
    pub decision_rationale: String,
    /// The threshold applied.
    pub threshold: PerformanceThreshold,
}

fn dec(x: f64, what: &'static str) -> Result<Decimal, ThresholdError> {
    to_decimal(x).map_err(|_| ThresholdError::NonFinite { what, value: x })
}

/// Decides whether `candidate` (optimized) runs beat `baseline` runs under `threshold`, run `i`
/// of one paired with run `i` of the other.
///
/// The four criteria (all must hold): improvement ≥ minimum; one-tailed paired t-test
/// p < α = 1 − confidence; memory increase ≤ maximum (a side without memory figures makes the
/// criterion "not measured", which does not fail the decision); pairs ≥ minimum sample size.
///
/// ```
/// use bench_core::Sample;
/// use bench_threshold::{evaluate_threshold, OptimizationConfig, Verdict};
/// let base = Sample::timings((0..10).map(|i| 1.0 + 0.01 * f64::from(i % 3)).collect()).unwrap();
/// let fast = Sample::timings((0..10).map(|i| 0.8 + 0.01 * f64::from(i % 2)).collect()).unwrap();
/// let config = OptimizationConfig::create_default();
/// let e = evaluate_threshold(&base, &fast, None, config.get_threshold("grid_search", "small")).unwrap();
/// assert_eq!(e.verdict, Verdict::Accepted);
/// assert!(e.decision_rationale.contains("memory not measured"));
/// ```
pub fn evaluate_threshold(
    baseline: &Sample,
    candidate: &Sample,
    memory: Option<MemoryComparison>,
    threshold: &PerformanceThreshold,
) -> Result<Evaluation, ThresholdError> {
    if baseline.len() != candidate.len() {
        return Err(ThresholdError::MismatchedPairs { baseline: baseline.len(), candidate: candidate.len() });
    }
    let n = baseline.len();
    let confidence = bench_core::to_f64(threshold.statistical_confidence);
    let alpha_f = 1.0 - confidence;
    let (mb, mc) = (mean(baseline), mean(candidate));
    let improvement = improvement_percent(mb, mc)?;
    let speedup = speedup_ratio(mb, mc)?;
    let test = paired_t_test(baseline, candidate, Alternative::Greater)?;
    let bci = confidence_interval(baseline, 0.95)?;
    let oci = confidence_interval(candidate, 0.95)?;

    let diffs: Vec<f64> = baseline.values().iter().zip(candidate.values()).map(|(b, c)| b - c).collect();
    let diff_sample = Sample::new(diffs)?;
    let sigma_d = if test.degenerate { 0.0 } else { std_dev(&diff_sample) };
    let difference_ci = if test.degenerate {
        None
    } else {
        let ci = confidence_interval(&diff_sample, confidence)?;
        Some([dec(ci.lower, "difference CI")?, dec(ci.upper, "difference CI")?])
    };
    let mde_abs = minimum_detectable_effect(n as u64, alpha_f, DEFAULT_BETA, sigma_d)?;
    let mde_percent = mde_abs / mb * 100.0;

    let improvement_d = dec(improvement, "improvement")?;
    let p_d = dec(test.p_value, "p-value")?;
    let alpha = threshold.alpha();
    let mde_d = dec(mde_percent, "minimum detectable effect")?;
    let underpowered = mde_d > threshold.min_improvement_percent;

    let mut criteria = Vec::with_capacity(4);
    // 1. Improvement.
    let min_imp = threshold.min_improvement_percent;
    let passed = improvement_d >= min_imp;
    criteria.push(CriterionResult {
        criterion: crate::Criterion::Improvement,
        passed,
        statement: if passed {
            format!("improvement {}% ≥ {}% required", fmt2(improvement_d), fmt2(min_imp))
        } else {
            format!(
                "improvement {}% < {}% required (missed by {} percentage points)",
                fmt2(improvement_d),
                fmt2(min_imp),
                fmt2(min_imp - improvement_d)
            )
        },
    });
    // 2. Significance.
    let significant = p_d < alpha;
    let zero_var_note = if test.degenerate {
        " (the paired differences have zero variance, so p is set by rule: 0 when the candidate is faster, 1 otherwise)"
    } else {
        ""
    };
    criteria.push(CriterionResult {
        criterion: crate::Criterion::Significance,
        passed: significant,
        statement: if significant {
            format!(
                "one-tailed paired t-test p = {} < α = {}{zero_var_note}",
                p_value_text(test.p_value),
                alpha
            )
        } else {
            format!(
                "one-tailed paired t-test p = {} ≥ α = {} (missed by {}){zero_var_note}",
                p_value_text(test.p_value),
                alpha,
                p_value_text(test.p_value - alpha_f)
            )
        },
    });
    // 3. Memory.
    let max_mem = threshold.max_memory_increase_percent;
    let memory_increase = match memory {
        Some(m) => {
            Some(dec(memory_increase_percent(m.baseline_bytes, m.candidate_bytes)?, "memory increase")?)
        }
        None => None,
    };
    let (mem_passed, mem_statement) = match (memory_increase, memory) {
        (Some(inc), Some(m)) if inc <= max_mem => (
            true,
            format!(
                "memory increase {}% ≤ {}% allowed ({} {} → {} bytes)",
                fmt2(inc),
                fmt2(max_mem),
                m.metric,
                m.baseline_bytes,
                m.candidate_bytes
            ),
        ),
        (Some(inc), Some(m)) => (
            false,
            format!(
                "memory increase {}% > {}% allowed (missed by {} percentage points; {} {} → {} bytes)",
                fmt2(inc),
                fmt2(max_mem),
                fmt2(inc - max_mem),
                m.metric,
                m.baseline_bytes,
                m.candidate_bytes
            ),
        ),
        _ => (
            true,
            "memory not measured on both sides, so this criterion does not count against the decision"
                .to_owned(),
        ),
    };
    criteria.push(CriterionResult {
        criterion: crate::Criterion::Memory,
        passed: mem_passed,
        statement: mem_statement,
    });
    // 4. Sample size.
    let enough = n >= threshold.min_sample_size;
    criteria.push(CriterionResult {
        criterion: crate::Criterion::SampleSize,
        passed: enough,
        statement: if enough {
            format!("sample size {n} pairs ≥ {} required", threshold.min_sample_size)
        } else {
            format!(
                "sample size {n} pairs < {} required (missed by {})",
                threshold.min_sample_size,
                threshold.min_sample_size - n
            )
        },
    });

    let failed_criteria: Vec<crate::Criterion> =
        criteria.iter().filter(|c| !c.passed).map(|c| c.criterion).collect();
    let verdict = if failed_criteria.is_empty() { Verdict::Accepted } else { Verdict::Rejected };
    let power_note = format!(
        "Minimum detectable effect with {n} pairs: {}% at α = {alpha}, power 80%{}.",
        fmt2(mde_d),
        if underpowered {
            format!(" — UNDERPOWERED: larger than the {}% threshold; add pairs", fmt2(min_imp))
        } else {
            String::new()
        }
    );
    let rationale = match verdict {
        Verdict::Accepted => format!(
            "ACCEPTED: all 4 criteria met: {}. {power_note}",
            criteria.iter().map(|c| c.statement.as_str()).collect::<Vec<_>>().join("; ")
        ),
        Verdict::Rejected => {
            let failed: Vec<&str> =
                criteria.iter().filter(|c| !c.passed).map(|c| c.statement.as_str()).collect();
            let passed: Vec<&str> =
                criteria.iter().filter(|c| c.passed).map(|c| c.statement.as_str()).collect();
            format!(
                "REJECTED: {} of 4 criteria failed: {}.{} {power_note}",
                failed.len(),
                failed.join("; "),
                if passed.is_empty() { String::new() } else { format!(" Met: {}.", passed.join("; ")) }
            )
        }
    };

    let counts = |s: &Sample| {
        let r = classify_outliers(s);
        OutlierCounts { mild: r.mild(), severe: r.severe() }
    };
    Ok(Evaluation {
        verdict,
        passes_threshold: verdict == Verdict::Accepted,
        improvement_percent: improvement_d,
        speedup_ratio: dec(speedup, "speedup")?,
        p_value: p_d,
        statistical_significance: significant,
        alpha,
        t_statistic: match test.t_statistic {
            Some(t) => Some(dec(t, "t statistic")?),
            None => None,
        },
        degrees_of_freedom: (n - 1) as u64,
        zero_variance: test.degenerate,
        memory_increase_percent: memory_increase,
        memory,
        baseline_mean_s: dec(mb, "baseline mean")?,
        optimized_mean_s: dec(mc, "optimized mean")?,
        baseline_ci_95: [dec(bci.lower, "CI")?, dec(bci.upper, "CI")?],
        optimized_ci_95: [dec(oci.lower, "CI")?, dec(oci.upper, "CI")?],
        mean_difference_s: dec(test.mean_difference, "mean difference")?,
        difference_ci,
        difference_cv_percent: dec(sigma_d / mb * 100.0, "difference CV")?,
        baseline_sample_size: n,
        optimized_sample_size: candidate.len(),
        minimum_detectable_effect_percent: mde_d,
        underpowered,
        baseline_outliers: counts(baseline),
        optimized_outliers: counts(candidate),
        criteria,
        failed_criteria,
        decision_rationale: rationale,
        threshold: threshold.clone(),
    })
}
