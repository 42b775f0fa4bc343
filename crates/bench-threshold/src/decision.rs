//! The four-criterion accept/reject decision and its rationale.

use bench_core::units::{self, fmt2, p_value as p_value_text};
use bench_core::{Decimal, MemoryMetric, Sample, to_decimal};
use bench_stats::{
    Alternative, DEFAULT_BETA, TTest, classify_outliers, confidence_interval, improvement_percent, mean,
    memory_increase_percent, minimum_detectable_effect_from_se, paired_t_test, speedup_ratio, std_dev,
    t_quantile, welch_t_test,
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

/// Accepted, rejected, a regression, or not decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every criterion was met: under the strict rule, the lower bound of the improvement
    /// reaches the threshold.
    Accepted,
    /// A criterion failed for good: the upper bound of the improvement is below the threshold,
    /// or memory grew too much (classic rule: any criterion failed).
    Rejected,
    /// The candidate is slower: the upper bound of the improvement is below zero (classic
    /// rule: the one-tailed test in the other direction has p < α). A rejection with a name.
    Regression,
    /// The bounds still contain the threshold (or the runs are not independent, or too few
    /// pairs were taken): neither shown to reach it nor shown to miss it. Never accepted.
    Inconclusive,
}

impl Verdict {
    /// How the verdict reads: `ACCEPTED`, `REJECTED`, `REGRESSION`, `INCONCLUSIVE`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Accepted => "ACCEPTED",
            Self::Rejected => "REJECTED",
            Self::Regression => "REGRESSION",
            Self::Inconclusive => "INCONCLUSIVE",
        }
    }
}

impl std::fmt::Display for Verdict {
    /// The [`Verdict::label`].
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Whether the two sides' runs were taken together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pairing {
    /// Interleaved in one suite (ABBA pairs): run `i` of one side pairs with run `i` of the
    /// other, and the paired t-test applies.
    Interleaved,
    /// Measured separately (two invocations, two hyperfine exports, a saved baseline): the
    /// sides are independent samples, compared with Welch's t-test; run counts may differ.
    NotInterleaved,
}

impl Pairing {
    /// The test this pairing calls for, in words.
    pub fn test_name(self) -> &'static str {
        match self {
            Self::Interleaved => "one-tailed paired t-test",
            Self::NotInterleaved => "one-tailed Welch t-test (not interleaved)",
        }
    }
}

/// The four criteria of the decision (docs/methodology.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// Mean improvement ≥ the minimum.
    Improvement,
    /// One-tailed t-test p < α (paired when interleaved, Welch otherwise).
    Significance,
    /// Peak memory increase ≤ the maximum, or below the absolute floor (passes when not
    /// measured).
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
    /// Accepted, rejected or a regression.
    pub verdict: Verdict,
    /// Whether the runs were interleaved (paired test) or not (Welch's test).
    pub pairing: Pairing,
    /// True when all four criteria were met.
    pub passes_threshold: bool,
    /// `(baseline − optimized) / baseline × 100` of the mean wall time.
    pub improvement_percent: Decimal,
    /// `baseline / optimized` mean wall time.
    pub speedup_ratio: Decimal,
    /// One-tailed p-value (alternative: baseline slower), paired or Welch by `pairing`.
    pub p_value: Decimal,
    /// One-tailed p-value of the other direction (alternative: candidate slower).
    pub regression_p_value: Decimal,
    /// `p < α`.
    pub statistical_significance: bool,
    /// `α = 1 − confidence`.
    pub alpha: Decimal,
    /// The t statistic; null when the differences have zero variance.
    pub t_statistic: Option<Decimal>,
    /// Degrees of freedom of the test: `n − 1` paired; Welch–Satterthwaite rounded down when
    /// not interleaved (the exact value is `welch_degrees_of_freedom`).
    pub degrees_of_freedom: u64,
    /// Welch–Satterthwaite degrees of freedom, when not interleaved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub welch_degrees_of_freedom: Option<Decimal>,
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
    /// Mean difference (baseline − optimized), seconds.
    pub mean_difference_s: Decimal,
    /// Two-sided CI of the mean difference at the threshold's confidence, seconds.
    pub difference_ci: Option<[Decimal; 2]>,
    /// Coefficient of variation of one pair's difference relative to the baseline mean, % (the
    /// paired differences' sd; √(s_b² + s_c²) when not interleaved).
    pub difference_cv_percent: Decimal,
    /// Number of baseline runs.
    pub baseline_sample_size: usize,
    /// Number of optimized runs.
    pub optimized_sample_size: usize,
    /// Smallest improvement (% of the baseline mean) this many pairs detect with 80% power at α.
    pub minimum_detectable_effect_percent: Decimal,
    /// True when the result is inconclusive and the minimum detectable effect exceeds the
    /// threshold's minimum improvement (never set on a decided result).
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
    /// The rule that decided ([`crate::Rule::Strict`] unless the threshold asks otherwise).
    pub rule: crate::Rule,
    /// The estimand's one-sided bounds: what the strict rule decides on.
    pub bound: crate::ImprovementBound,
    /// What the classic rule (point estimate ≥ threshold and p < α against no improvement)
    /// says, reported beside whichever rule decided.
    pub classic_verdict: Verdict,
    /// What the adaptive design did, when the comparison was adaptive.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "sequential")]
    pub adaptive: Option<crate::AdaptiveReport>,
}

impl std::fmt::Display for Evaluation {
    /// The decision rationale: the verdict, every criterion with its value, the bounds.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.decision_rationale)
    }
}

fn dec(x: f64, what: &'static str) -> Result<Decimal, ThresholdError> {
    to_decimal(x).map_err(|_| ThresholdError::NonFinite { what, value: x })
}

/// Decides whether `candidate` (optimized) runs beat `baseline` runs under `threshold`, run `i`
/// of one paired with run `i` of the other (they were interleaved in one suite).
///
/// The four criteria (all must hold): improvement ≥ minimum; one-tailed paired t-test
/// p < α = 1 − confidence; memory increase ≤ maximum, or under the threshold's absolute floor (a
/// side without memory figures makes the criterion "not measured", which does not fail the
/// decision); pairs ≥ minimum sample size. A candidate significantly slower by the opposite
/// one-tailed test is a [`Verdict::Regression`].
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
/// let e = evaluate_threshold(&fast, &base, None, config.get_threshold("grid_search", "small")).unwrap();
/// assert_eq!(e.verdict, Verdict::Regression);
/// ```
pub fn evaluate_threshold(
    baseline: &Sample,
    candidate: &Sample,
    memory: Option<MemoryComparison>,
    threshold: &PerformanceThreshold,
) -> Result<Evaluation, ThresholdError> {
    evaluate(baseline, candidate, memory, threshold, Pairing::Interleaved)
}

/// [`evaluate_threshold`] for runs that were not interleaved: Welch's t-test on two independent
/// samples, whose run counts may differ; the verdict says "not interleaved".
///
/// ```
/// use bench_core::Sample;
/// use bench_threshold::{evaluate_independent, OptimizationConfig, Pairing};
/// let base = Sample::timings((0..12).map(|i| 1.0 + 0.01 * f64::from(i % 3)).collect()).unwrap();
/// let fast = Sample::timings((0..10).map(|i| 0.8 + 0.01 * f64::from(i % 2)).collect()).unwrap();
/// let e = evaluate_independent(&base, &fast, None, OptimizationConfig::create_default().fallback()).unwrap();
/// assert_eq!(e.pairing, Pairing::NotInterleaved);
/// assert!(e.decision_rationale.contains("not interleaved"));
/// ```
pub fn evaluate_independent(
    baseline: &Sample,
    candidate: &Sample,
    memory: Option<MemoryComparison>,
    threshold: &PerformanceThreshold,
) -> Result<Evaluation, ThresholdError> {
    evaluate(baseline, candidate, memory, threshold, Pairing::NotInterleaved)
}

/// The paired or Welch test in one direction.
fn test(a: &Sample, b: &Sample, pairing: Pairing, alternative: Alternative) -> Result<TTest, ThresholdError> {
    Ok(match pairing {
        Pairing::Interleaved => paired_t_test(a, b, alternative)?,
        Pairing::NotInterleaved => welch_t_test(a, b, alternative)?,
    })
}

fn evaluate(
    baseline: &Sample,
    candidate: &Sample,
    memory: Option<MemoryComparison>,
    threshold: &PerformanceThreshold,
    pairing: Pairing,
) -> Result<Evaluation, ThresholdError> {
    if pairing == Pairing::Interleaved && baseline.len() != candidate.len() {
        return Err(ThresholdError::MismatchedPairs { baseline: baseline.len(), candidate: candidate.len() });
    }
    let alpha = bench_core::to_f64(threshold.alpha());
    let min = bench_core::to_f64(threshold.min_improvement_percent);
    let bound = match pairing {
        Pairing::Interleaved => crate::paired_bound(baseline.values(), candidate.values(), alpha, min)?,
        Pairing::NotInterleaved => {
            crate::independent_bound(baseline.values(), candidate.values(), alpha, min)?
        }
    };
    assemble(baseline, candidate, memory, threshold, pairing, bound)
}

/// The evaluation of two samples with the improvement's bound already computed (fixed-sample or
/// anytime-valid): every figure, both rules' verdicts, the criteria and the rationale.
pub(crate) fn assemble(
    baseline: &Sample,
    candidate: &Sample,
    memory: Option<MemoryComparison>,
    threshold: &PerformanceThreshold,
    pairing: Pairing,
    bound: crate::ImprovementBound,
) -> Result<Evaluation, ThresholdError> {
    let n = baseline.len().min(candidate.len());
    let confidence = bench_core::to_f64(threshold.statistical_confidence);
    let alpha_f = 1.0 - confidence;
    let (mb, mc) = (mean(baseline), mean(candidate));
    let improvement = improvement_percent(mb, mc)?;
    let speedup = speedup_ratio(mb, mc)?;
    let test_up = test(baseline, candidate, pairing, Alternative::Greater)?;
    let test_down = test(baseline, candidate, pairing, Alternative::Less)?;
    let bci = confidence_interval(baseline, 0.95)?;
    let oci = confidence_interval(candidate, 0.95)?;

    let (sigma_pair, difference_ci) = match pairing {
        Pairing::Interleaved => {
            let diffs: Vec<f64> =
                baseline.values().iter().zip(candidate.values()).map(|(b, c)| b - c).collect();
            let diff_sample = Sample::new(diffs)?;
            if test_up.degenerate {
                (0.0, None)
            } else {
                let ci = confidence_interval(&diff_sample, confidence)?;
                (
                    std_dev(&diff_sample),
                    Some([dec(ci.lower, "difference CI")?, dec(ci.upper, "difference CI")?]),
                )
            }
        }
        Pairing::NotInterleaved => {
            let sigma = (std_dev(baseline).powi(2) + std_dev(candidate).powi(2)).sqrt();
            if test_up.degenerate {
                (sigma, None)
            } else {
                let half =
                    t_quantile(0.5 + confidence / 2.0, test_up.degrees_of_freedom)? * test_up.standard_error;
                let md = test_up.mean_difference;
                (sigma, Some([dec(md - half, "difference CI")?, dec(md + half, "difference CI")?]))
            }
        }
    };
    let mde_abs = if test_up.degenerate {
        0.0
    } else {
        minimum_detectable_effect_from_se(
            test_up.standard_error,
            test_up.degrees_of_freedom,
            alpha_f,
            DEFAULT_BETA,
        )?
    };
    let mde_percent = mde_abs / mb * 100.0;

    let improvement_d = dec(improvement, "improvement")?;
    let p_d = dec(test_up.p_value, "p-value")?;
    let p_down = dec(test_down.p_value, "regression p-value")?;
    let alpha = threshold.alpha();
    let mde_d = dec(mde_percent, "minimum detectable effect")?;
    let test_name = pairing.test_name();

    let mut criteria = Vec::with_capacity(4);
    let min_imp = threshold.min_improvement_percent;
    let rule = threshold.rule;
    let confidence_pct = (threshold.statistical_confidence * Decimal::ONE_HUNDRED).normalize();
    // 1–2 under the classic rule: the point estimate, and p against no improvement.
    let classic_improvement = improvement_d >= min_imp;
    let significant = p_d < alpha;
    let zero_var_note = if test_up.degenerate {
        " (the differences have zero variance, so p is set by rule: 0 when the candidate is faster, 1 otherwise)"
    } else {
        ""
    };
    let lower_text = bound.lower_percent.map_or("−∞".to_owned(), |l| format!("{}%", fmt2(l)));
    match rule {
        crate::Rule::Strict => {
            let passed = bound.reaches(min_imp);
            criteria.push(CriterionResult {
                criterion: crate::Criterion::Improvement,
                passed,
                statement: if bound.dependent {
                    format!(
                        "the runs are not independent (lag-1 autocorrelation {} above {}), so the improvement is not bounded",
                        bound.lag1_autocorrelation.map_or("?".into(), fmt2),
                        bench_stats::MAX_AUTOCORRELATION
                    )
                } else if passed {
                    format!("{confidence_pct}% lower bound of the improvement {lower_text} ≥ {}% required", fmt2(min_imp))
                } else {
                    format!(
                        "{confidence_pct}% lower bound of the improvement {lower_text} < {}% required{}",
                        fmt2(min_imp),
                        bound
                            .lower_percent
                            .map(|l| format!(" (short by {} percentage points)", fmt2(min_imp - l)))
                            .unwrap_or_default()
                    )
                },
            });
            let excludes_zero = !bound.dependent && bound.lower_percent.is_some_and(|l| l > Decimal::ZERO);
            criteria.push(CriterionResult {
                criterion: crate::Criterion::Significance,
                passed: excludes_zero,
                statement: if excludes_zero {
                    format!("the lower bound {lower_text} excludes no improvement")
                } else {
                    format!("the lower bound {lower_text} does not exclude no improvement")
                },
            });
        }
        crate::Rule::Classic => {
            criteria.push(CriterionResult {
                criterion: crate::Criterion::Improvement,
                passed: classic_improvement,
                statement: if classic_improvement {
                    format!(
                        "improvement {}% ≥ {}% required (point estimate)",
                        fmt2(improvement_d),
                        fmt2(min_imp)
                    )
                } else {
                    format!(
                        "improvement {}% < {}% required (point estimate; missed by {} percentage points)",
                        fmt2(improvement_d),
                        fmt2(min_imp),
                        fmt2(min_imp - improvement_d)
                    )
                },
            });
            criteria.push(CriterionResult {
                criterion: crate::Criterion::Significance,
                passed: significant,
                statement: if significant {
                    format!(
                        "{test_name} p = {} < α = {}{zero_var_note}",
                        p_value_text(test_up.p_value),
                        alpha
                    )
                } else {
                    format!(
                        "{test_name} p = {} ≥ α = {} (missed by {}){zero_var_note}",
                        p_value_text(test_up.p_value),
                        alpha,
                        p_value_text(test_up.p_value - alpha_f)
                    )
                },
            });
        }
    }
    // 3. Memory.
    let max_mem = threshold.max_memory_increase_percent;
    let memory_increase = match memory {
        Some(m) => {
            Some(dec(memory_increase_percent(m.baseline_bytes, m.candidate_bytes)?, "memory increase")?)
        }
        None => None,
    };
    let floor = threshold.memory_floor_bytes;
    let (mem_passed, mem_statement) = match (memory_increase, memory) {
        (Some(inc), Some(m)) if inc <= max_mem => (
            true,
            format!(
                "memory increase {}% ≤ {}% allowed ({} {} → {})",
                fmt2(inc),
                fmt2(max_mem),
                m.metric,
                units::bytes(m.baseline_bytes),
                units::bytes(m.candidate_bytes)
            ),
        ),
        (Some(inc), Some(m)) if m.candidate_bytes.saturating_sub(m.baseline_bytes) < floor => (
            true,
            format!(
                "memory increase {}% > {}% allowed, but only {} ({} {} → {}), under the {} floor: reported, not failed",
                fmt2(inc),
                fmt2(max_mem),
                units::bytes_signed(m.candidate_bytes as i64 - m.baseline_bytes as i64),
                m.metric,
                units::bytes(m.baseline_bytes),
                units::bytes(m.candidate_bytes),
                units::bytes(floor)
            ),
        ),
        (Some(inc), Some(m)) => (
            false,
            format!(
                "memory increase {}% > {}% allowed (missed by {} percentage points; {} {} → {})",
                fmt2(inc),
                fmt2(max_mem),
                fmt2(inc - max_mem),
                m.metric,
                units::bytes(m.baseline_bytes),
                units::bytes(m.candidate_bytes)
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
    let unit = if pairing == Pairing::Interleaved { "pairs" } else { "runs per side" };
    criteria.push(CriterionResult {
        criterion: crate::Criterion::SampleSize,
        passed: enough,
        statement: if enough {
            format!("sample size {n} {unit} ≥ {} required", threshold.min_sample_size)
        } else {
            format!(
                "sample size {n} {unit} < {} required (missed by {})",
                threshold.min_sample_size,
                threshold.min_sample_size - n
            )
        },
    });

    let failed_criteria: Vec<crate::Criterion> =
        criteria.iter().filter(|c| !c.passed).map(|c| c.criterion).collect();
    let classic_regression = mc > mb && p_down < alpha;
    let classic_verdict = if classic_improvement && significant && mem_passed && enough {
        Verdict::Accepted
    } else if classic_regression {
        Verdict::Regression
    } else {
        Verdict::Rejected
    };
    let strict_verdict = if bound.short_of(Decimal::ZERO) {
        Verdict::Regression
    } else if !mem_passed || bound.short_of(min_imp) {
        Verdict::Rejected
    } else if bound.reaches(min_imp) && enough {
        Verdict::Accepted
    } else {
        Verdict::Inconclusive
    };
    let verdict = match rule {
        crate::Rule::Strict => strict_verdict,
        crate::Rule::Classic => classic_verdict,
    };
    let underpowered = verdict == Verdict::Inconclusive && mde_d > min_imp;
    let bound_note = format!("Estimand: the {}.", bound.statement());
    let other_rule = match rule {
        crate::Rule::Strict => format!(
            " Classic rule (accepts when the point estimate ≥ {}% and p < α against no improvement; here {}% and p = {}), reported beside: {}.",
            fmt2(min_imp),
            fmt2(improvement_d),
            p_value_text(test_up.p_value),
            classic_verdict.label()
        ),
        crate::Rule::Classic => format!(
            " Decided by the classic rule, as asked; the strict rule (lower bound ≥ {}%) would say {}.",
            fmt2(min_imp),
            strict_verdict.label()
        ),
    };
    let power_note = if verdict == Verdict::Inconclusive {
        format!(
            " {}Minimum detectable effect with {n} {unit}: {}% at α = {alpha}, power 80%{}.",
            bound
                .pairs_to_decide
                .map(|p| format!("About {p} {unit} in all would decide at the observed noise. "))
                .unwrap_or_default(),
            fmt2(mde_d),
            if underpowered {
                format!(" — UNDERPOWERED: larger than the {}% threshold; add {unit}", fmt2(min_imp))
            } else {
                String::new()
            }
        )
    } else {
        String::new()
    };
    let pairing_note = match pairing {
        Pairing::Interleaved => "",
        Pairing::NotInterleaved => {
            " The runs were not interleaved (measured separately), so they were compared as independent samples with Welch's test; drifts between the two measurements are not controlled."
        }
    };
    let statements = |pass: bool| {
        criteria.iter().filter(|c| c.passed == pass).map(|c| c.statement.as_str()).collect::<Vec<_>>()
    };
    let (failed, passed) = (statements(false), statements(true));
    let met = if passed.is_empty() { String::new() } else { format!(" Met: {}.", passed.join("; ")) };
    let lead = match verdict {
        Verdict::Accepted => format!(
            "ACCEPTED: all 4 criteria met: {}.",
            criteria.iter().map(|c| c.statement.as_str()).collect::<Vec<_>>().join("; ")
        ),
        Verdict::Inconclusive => {
            let why = if bound.dependent {
                "runs are not independent".to_owned()
            } else if bound.reaches(min_imp) {
                format!(
                    "the bound reaches the threshold but only {n} {unit} of the {} required were taken",
                    threshold.min_sample_size
                )
            } else {
                format!(
                    "the {confidence_pct}% bounds {} still contain the {}% threshold after {n} {unit}",
                    bound.interval_text(),
                    fmt2(min_imp)
                )
            };
            format!("INCONCLUSIVE: {why}; neither accepted nor rejected. Open: {}.{met}", failed.join("; "))
        }
        Verdict::Rejected | Verdict::Regression => {
            let slowdown = if verdict == Verdict::Regression {
                match rule {
                    crate::Rule::Strict => format!(
                        "REGRESSION: the candidate is {}% slower (the {confidence_pct}% upper bound of the improvement, {}%, is below 0). ",
                        fmt2(-improvement_d),
                        bound.upper_percent.map_or("?".into(), fmt2)
                    ),
                    crate::Rule::Classic => format!(
                        "REGRESSION: the candidate is {}% slower ({} in the other direction: p = {} < α = {alpha}). ",
                        fmt2(-improvement_d),
                        test_name,
                        p_value_text(test_down.p_value),
                    ),
                }
            } else {
                String::new()
            };
            format!("{slowdown}REJECTED: {} of 4 criteria failed: {}.{met}", failed.len(), failed.join("; "))
        }
    };
    let rationale = format!("{lead} {bound_note}{other_rule}{pairing_note}{power_note}");

    let counts = |s: &Sample| {
        let r = classify_outliers(s);
        OutlierCounts { mild: r.mild(), severe: r.severe() }
    };
    Ok(Evaluation {
        verdict,
        pairing,
        passes_threshold: verdict == Verdict::Accepted,
        improvement_percent: improvement_d,
        speedup_ratio: dec(speedup, "speedup")?,
        p_value: p_d,
        regression_p_value: p_down,
        statistical_significance: significant,
        alpha,
        t_statistic: match test_up.t_statistic {
            Some(t) => Some(dec(t, "t statistic")?),
            None => None,
        },
        degrees_of_freedom: test_up.degrees_of_freedom.floor() as u64,
        welch_degrees_of_freedom: match pairing {
            Pairing::Interleaved => None,
            Pairing::NotInterleaved => Some(dec(test_up.degrees_of_freedom, "degrees of freedom")?),
        },
        zero_variance: test_up.degenerate,
        memory_increase_percent: memory_increase,
        memory,
        baseline_mean_s: dec(mb, "baseline mean")?,
        optimized_mean_s: dec(mc, "optimized mean")?,
        baseline_ci_95: [dec(bci.lower, "CI")?, dec(bci.upper, "CI")?],
        optimized_ci_95: [dec(oci.lower, "CI")?, dec(oci.upper, "CI")?],
        mean_difference_s: dec(test_up.mean_difference, "mean difference")?,
        difference_ci,
        difference_cv_percent: dec(sigma_pair / mb * 100.0, "difference CV")?,
        baseline_sample_size: baseline.len(),
        optimized_sample_size: candidate.len(),
        minimum_detectable_effect_percent: mde_d,
        underpowered,
        baseline_outliers: counts(baseline),
        optimized_outliers: counts(candidate),
        criteria,
        failed_criteria,
        decision_rationale: rationale,
        threshold: threshold.clone(),
        rule,
        bound,
        classic_verdict,
        adaptive: None,
    })
}
