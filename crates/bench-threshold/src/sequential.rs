//! The adaptive (sequential) decision: after the preset's minimum pairs, every new block of
//! pairs updates an anytime-valid confidence sequence of the improvement, and the comparison
//! stops as soon as it lies wholly above the threshold (accepted) or wholly below it (rejected:
//! the improvement cannot reach the threshold), or when the budget is spent (decided at budget:
//! the fixed-sample rule is applied to all pairs and the report says so).
//!
//! The sequence is on the median of the per-pair log-ratios `ln(baseline / candidate)`:
//! scale-free (a drift of the machine's speed that multiplies both runs of a pair cancels), and
//! the median is untouched by the outlier runs a shared machine produces — measured on this
//! project's own A/A runs, it needs about a quarter of the pairs the mean does (see
//! docs/methodology.md). Its confidence sequence ([`bench_stats::MedianSequence`]) is
//! distribution-free and valid at every look. The improvement in percent is `(1 − e^{−x}) · 100`
//! of a log-ratio `x`: the typical pair's improvement.

use bench_core::{Decimal, Sample, to_decimal};
use bench_stats::MedianSequence;
use serde::Serialize;

use crate::{Criterion, CriterionResult, Evaluation, PerformanceThreshold, ThresholdError, Verdict};

/// How an adaptive comparison samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AdaptivePlan {
    /// Pairs before the first look (at least the threshold's minimum sample size).
    pub min_pairs: usize,
    /// Most pairs a comparison may take.
    pub max_pairs: usize,
    /// Most wall time a comparison may take, seconds.
    pub max_seconds: f64,
    /// Pairs at which the confidence sequence is tightest (its tuning).
    pub tuned_for_pairs: f64,
}

impl AdaptivePlan {
    /// The default budget: 400 pairs or 60 s per comparison, tuned for 100 pairs, first look
    /// after the threshold's minimum sample size.
    pub fn default_for(threshold: &PerformanceThreshold) -> Self {
        Self {
            min_pairs: threshold.min_sample_size.max(2),
            max_pairs: 400,
            max_seconds: 60.0,
            tuned_for_pairs: 100.0,
        }
    }

    /// The confidence sequence this plan decides with, at the threshold's α.
    pub fn sequence(&self, threshold: &PerformanceThreshold) -> Result<MedianSequence, ThresholdError> {
        Ok(MedianSequence::tuned_for(self.tuned_for_pairs, bench_core::to_f64(threshold.alpha()))?)
    }
}

/// How an adaptive comparison ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SequentialOutcome {
    /// The confidence sequence lies wholly above the threshold.
    Accepted,
    /// It lies wholly below: the improvement cannot reach the threshold (or there is none).
    Rejected,
    /// The budget ran out with the sequence still straddling the threshold; the fixed-sample
    /// rule decided on all pairs.
    DecidedAtBudget,
}

/// Where a comparison stood after some pairs, as improvements in percent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SequentialPoint {
    /// Pairs so far.
    pub pairs: usize,
    /// Estimated improvement, percent.
    pub estimate_percent: f64,
    /// Lower end of the confidence sequence, percent (`None` while the data do not bound it).
    pub lower_percent: Option<f64>,
    /// Upper end, percent (`None` while unbounded).
    pub upper_percent: Option<f64>,
}

/// The improvement in percent of a log-ratio.
fn percent(x: f64) -> f64 {
    (1.0 - (-x).exp()) * 100.0
}

/// [`percent`] of a bound, `None` when the bound is infinite.
fn bound(x: f64) -> Option<f64> {
    x.is_finite().then(|| percent(x))
}

/// Where the sequence stands after `log_ratios` (one per pair), and whether it has decided:
/// `Some(Accepted)` above the threshold, `Some(Rejected)` below, `None` while it straddles it
/// or before the plan's first look.
pub fn sequential_status(
    log_ratios: &[f64],
    threshold: &PerformanceThreshold,
    plan: &AdaptivePlan,
) -> Result<(Option<SequentialPoint>, Option<SequentialOutcome>), ThresholdError> {
    let mut sorted = log_ratios.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted_status(&sorted, threshold, &plan.sequence(threshold)?, plan.min_pairs)
}

/// [`sequential_status`] of log-ratios already sorted, with the sequence built once (for
/// callers that keep the pairs sorted as they arrive, like the error-rate simulation).
pub fn sorted_status(
    sorted: &[f64],
    threshold: &PerformanceThreshold,
    cs: &MedianSequence,
    min_pairs: usize,
) -> Result<(Option<SequentialPoint>, Option<SequentialOutcome>), ThresholdError> {
    let Some((lo, hi)) = cs.interval_sorted(sorted) else { return Ok((None, None)) };
    let median = bench_stats::quantile_linear(sorted, 0.5);
    let point = SequentialPoint {
        pairs: sorted.len(),
        estimate_percent: percent(median),
        lower_percent: bound(lo),
        upper_percent: bound(hi),
    };
    if sorted.len() < min_pairs {
        return Ok((Some(point), None));
    }
    let min = bench_core::to_f64(threshold.min_improvement_percent);
    let outcome = if point.lower_percent.is_some_and(|l| l >= min) {
        Some(SequentialOutcome::Accepted)
    } else if point.upper_percent.is_some_and(|u| u < min) {
        Some(SequentialOutcome::Rejected)
    } else {
        None
    };
    Ok((Some(point), outcome))
}

/// What the adaptive design did, for reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SequentialReport {
    /// How it ended.
    pub outcome: SequentialOutcome,
    /// Pairs used.
    pub pairs_used: usize,
    /// Wall time the comparison took, seconds.
    pub seconds: Decimal,
    /// Why sampling stopped: `decided`, `max_pairs`, `max_time` or `interrupted`.
    pub stopped_by: String,
    /// The confidence sequence of the improvement at the stop, percent (null ends: unbounded).
    pub interval_at_stop_percent: [Option<Decimal>; 2],
    /// The estimate at the stop, percent (the median pair's improvement).
    pub estimate_percent: Decimal,
    /// The plan.
    pub plan: AdaptivePlan,
    /// The running estimate and sequence after every pair from the first look on.
    pub path: Vec<SequentialPoint>,
}

/// The decision of an adaptive comparison: [`crate::evaluate_threshold`] on all pairs, with the
/// improvement and significance criteria decided by the confidence sequence when it decided, and
/// the fixed-sample rule's when the budget ran out. `seconds` and `stopped_by` say how sampling
/// ended.
pub fn evaluate_sequential(
    baseline: &Sample,
    candidate: &Sample,
    memory: Option<crate::MemoryComparison>,
    threshold: &PerformanceThreshold,
    plan: &AdaptivePlan,
    seconds: f64,
    stopped_by: &str,
) -> Result<Evaluation, ThresholdError> {
    let mut e = crate::evaluate_threshold(baseline, candidate, memory, threshold)?;
    let ratios: Vec<f64> =
        baseline.values().iter().zip(candidate.values()).map(|(b, c)| (b / c).ln()).collect();
    let cs = plan.sequence(threshold)?;
    let mut sorted: Vec<f64> = Vec::with_capacity(ratios.len());
    let mut path = Vec::with_capacity(ratios.len());
    for (k, &x) in ratios.iter().enumerate() {
        let at = sorted.partition_point(|y| y.total_cmp(&x).is_lt());
        sorted.insert(at, x);
        if k + 1 >= plan.min_pairs.min(ratios.len())
            && let (Some(p), _) = sorted_status(&sorted, threshold, &cs, plan.min_pairs)?
        {
            path.push(p);
        }
    }
    let (point, decided) = sequential_status(&ratios, threshold, plan)?;
    let point = point.unwrap_or(SequentialPoint {
        pairs: ratios.len(),
        estimate_percent: 0.0,
        lower_percent: None,
        upper_percent: None,
    });
    let d =
        |x: f64, what: &'static str| to_decimal(x).map_err(|_| ThresholdError::NonFinite { what, value: x });
    let interval = [
        point.lower_percent.and_then(|x| to_decimal(x).ok()),
        point.upper_percent.and_then(|x| to_decimal(x).ok()),
    ];
    let min = threshold.min_improvement_percent;
    let shown = |x: Decimal| bench_core::units::fmt2(x);
    let end = |x: Option<Decimal>, inf: &str| x.map_or(inf.to_owned(), |v| format!("{}%", shown(v)));
    let cs_text = format!(
        "anytime-valid {}% confidence sequence of the median pair's improvement [{}, {}] after {} pairs",
        (Decimal::ONE - threshold.alpha()) * Decimal::ONE_HUNDRED,
        end(interval[0], "−∞"),
        end(interval[1], "100%"),
        ratios.len()
    );
    let outcome = decided.unwrap_or(SequentialOutcome::DecidedAtBudget);
    if let Some(decision) = decided {
        let above = decision == SequentialOutcome::Accepted;
        let set = |e: &mut Evaluation, c: Criterion, passed: bool, statement: String| {
            if let Some(r) = e.criteria.iter_mut().find(|r| r.criterion == c) {
                *r = CriterionResult { criterion: c, passed, statement };
            }
        };
        set(
            &mut e,
            Criterion::Improvement,
            above,
            if above {
                format!("{cs_text} lies above the {}% threshold", shown(min))
            } else {
                format!("{cs_text} lies below the {}% threshold: the improvement cannot reach it", shown(min))
            },
        );
        let excludes_zero = point.lower_percent.is_some_and(|l| l > 0.0);
        set(
            &mut e,
            Criterion::Significance,
            excludes_zero,
            if excludes_zero {
                "the confidence sequence excludes no improvement (anytime-valid, so stopping early costs no error rate)".into()
            } else {
                "the confidence sequence does not exclude no improvement".into()
            },
        );
        e.failed_criteria = e.criteria.iter().filter(|c| !c.passed).map(|c| c.criterion).collect();
        e.statistical_significance = excludes_zero;
        let slower = point.upper_percent.is_some_and(|u| u < 0.0);
        e.verdict = if e.failed_criteria.is_empty() {
            Verdict::Accepted
        } else if slower {
            Verdict::Regression
        } else {
            Verdict::Rejected
        };
        e.passes_threshold = e.verdict == Verdict::Accepted;
        let (failed, met): (Vec<&CriterionResult>, Vec<&CriterionResult>) =
            e.criteria.iter().partition(|c| !c.passed);
        let join =
            |v: &[&CriterionResult]| v.iter().map(|c| c.statement.as_str()).collect::<Vec<_>>().join("; ");
        let how = format!("Stopped after {} pairs ({stopped_by}, {seconds:.1} s).", ratios.len());
        e.decision_rationale = match e.verdict {
            Verdict::Accepted => format!("ACCEPTED: all 4 criteria met: {}. {how}", join(&met)),
            _ => format!(
                "{}{} of 4 criteria failed: {}.{} {how}",
                if slower {
                    "REGRESSION: the candidate is significantly slower. REJECTED: "
                } else {
                    "REJECTED: "
                },
                failed.len(),
                join(&failed),
                if met.is_empty() { String::new() } else { format!(" Met: {}.", join(&met)) }
            ),
        };
    } else {
        // At the budget the fixed-sample rule decides on all pairs — the improvement's point
        // estimate against the threshold — but significance stays the sequence's: a fixed-sample
        // p-value computed after stopping on the data would overstate it.
        let excludes_zero = point.lower_percent.is_some_and(|l| l > 0.0);
        let fixed_p = bench_core::units::p_value(bench_core::to_f64(e.p_value));
        if let Some(r) = e.criteria.iter_mut().find(|r| r.criterion == Criterion::Significance) {
            *r = CriterionResult {
                criterion: Criterion::Significance,
                passed: excludes_zero,
                statement: format!(
                    "the confidence sequence {} no improvement (anytime-valid; the fixed-sample paired t-test's p = {fixed_p} is not valid after stopping on the data)",
                    if excludes_zero { "excludes" } else { "does not exclude" }
                ),
            };
        }
        e.statistical_significance = excludes_zero;
        e.failed_criteria = e.criteria.iter().filter(|c| !c.passed).map(|c| c.criterion).collect();
        if e.verdict == Verdict::Accepted && !e.failed_criteria.is_empty() {
            e.verdict = Verdict::Rejected;
        }
        e.passes_threshold = e.verdict == Verdict::Accepted;
        let (failed, met): (Vec<&CriterionResult>, Vec<&CriterionResult>) =
            e.criteria.iter().partition(|c| !c.passed);
        let join =
            |v: &[&CriterionResult]| v.iter().map(|c| c.statement.as_str()).collect::<Vec<_>>().join("; ");
        let verdict = match e.verdict {
            Verdict::Accepted => format!("ACCEPTED: all 4 criteria met: {}.", join(&met)),
            v => format!(
                "{}{} of 4 criteria failed: {}.{}",
                if v == Verdict::Regression {
                    "REGRESSION: the candidate is significantly slower. REJECTED: "
                } else {
                    "REJECTED: "
                },
                failed.len(),
                join(&failed),
                if met.is_empty() { String::new() } else { format!(" Met: {}.", join(&met)) }
            ),
        };
        e.decision_rationale = format!(
            "Decided at budget ({stopped_by}, {} pairs, {seconds:.1} s): the {cs_text} still straddles the {}% threshold, so the fixed-sample rule decided on all pairs. {verdict}",
            ratios.len(),
            shown(min)
        );
    }
    e.sequential = Some(SequentialReport {
        outcome,
        pairs_used: ratios.len(),
        seconds: d(seconds, "seconds")?,
        stopped_by: stopped_by.to_owned(),
        interval_at_stop_percent: interval,
        estimate_percent: d(point.estimate_percent, "estimate")?,
        plan: *plan,
        path,
    });
    Ok(e)
}

/// What [`simulate_adaptive`] counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct SimulationTally {
    /// Comparisons simulated.
    pub comparisons: usize,
    /// Accepted.
    pub accepted: usize,
    /// Significant (the anytime-valid sequence excluded no improvement).
    pub significant: usize,
    /// Ended at the budget.
    pub at_budget: usize,
    /// Pairs used, summed.
    pub pairs: usize,
}

impl SimulationTally {
    /// The share of comparisons that were accepted.
    pub fn accepted_rate(&self) -> f64 {
        self.accepted as f64 / self.comparisons.max(1) as f64
    }

    /// The share that were significant.
    pub fn significant_rate(&self) -> f64 {
        self.significant as f64 / self.comparisons.max(1) as f64
    }

    /// Mean pairs per comparison.
    pub fn mean_pairs(&self) -> f64 {
        self.pairs as f64 / self.comparisons.max(1) as f64
    }
}

/// Simulates `n` adaptive comparisons whose per-pair log-ratios are drawn (with replacement,
/// seeded) from `pool` shifted by `shift`, looking after every two pairs as the real sampler
/// does, within `budget` pairs, and decides each by the same code as a real comparison. With a
/// pool of an A/A's log-ratios (symmetrised about zero) and `shift` 0, the accepted and
/// significant rates are the design's error rates on that noise; with `shift = −ln(1 − g)`,
/// the accepted rate is its power at a true improvement `g`.
///
/// ```
/// use bench_threshold::{AdaptivePlan, OptimizationConfig, simulate_adaptive};
/// let t = OptimizationConfig::create_default().fallback().clone();
/// let pool: Vec<f64> = (0..200).map(|i| ((i % 21) as f64 - 10.0) / 100.0).collect();
/// let tally = simulate_adaptive(&pool, 0.0, 200, 400, &t, &AdaptivePlan::default_for(&t), 7).unwrap();
/// assert!(tally.accepted_rate() <= 0.05);
/// ```
pub fn simulate_adaptive(
    pool: &[f64],
    shift: f64,
    n: usize,
    budget: usize,
    threshold: &PerformanceThreshold,
    plan: &AdaptivePlan,
    seed: u64,
) -> Result<SimulationTally, ThresholdError> {
    let plan = AdaptivePlan { max_pairs: budget.max(plan.min_pairs), ..*plan };
    let cs = plan.sequence(threshold)?;
    let mut rng = bench_core::SplitMix64::new(seed);
    let mut tally = SimulationTally::default();
    if pool.is_empty() {
        return Ok(tally);
    }
    for _ in 0..n {
        let mut drawn = Vec::with_capacity(plan.max_pairs);
        let mut sorted: Vec<f64> = Vec::with_capacity(plan.max_pairs);
        let mut outcome = None;
        while drawn.len() < plan.max_pairs {
            for _ in 0..2 {
                let x = pool[rng.below(pool.len())] + shift;
                drawn.push(x);
                let at = sorted.partition_point(|y| *y < x);
                sorted.insert(at, x);
            }
            if let (Some(point), Some(o)) = sorted_status(&sorted, threshold, &cs, plan.min_pairs)? {
                outcome = Some((o, point));
                break;
            }
        }
        tally.comparisons += 1;
        tally.pairs += drawn.len();
        match outcome {
            Some((o, p)) => {
                tally.accepted += usize::from(o == SequentialOutcome::Accepted);
                tally.significant += usize::from(p.lower_percent.is_some_and(|l| l > 0.0));
            }
            None => {
                tally.at_budget += 1;
                let base = Sample::timings(drawn.iter().map(|x| x.exp()).collect())?;
                let cand = Sample::timings(vec![1.0; drawn.len()])?;
                let e = evaluate_sequential(&base, &cand, None, threshold, &plan, 0.0, "max_pairs")?;
                tally.accepted += usize::from(e.verdict == Verdict::Accepted);
                tally.significant += usize::from(e.statistical_significance);
            }
        }
    }
    Ok(tally)
}
