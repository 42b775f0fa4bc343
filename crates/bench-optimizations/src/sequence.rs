//! Sequential evaluation: optimizations in priority order, each gated, benchmarked against the
//! accepted stack, and accepted or rejected on explicit criteria.

use std::path::PathBuf;

use bench_core::{Decimal, Environment, SuiteStatus, to_decimal};
use bench_measure::{MeasureError, PairedOutcome};
use bench_threshold::{Evaluation, PerformanceThreshold, Verdict};
use serde::Serialize;

use crate::equivalence::{EquivalenceError, EquivalenceReport};
use crate::sampling::{Design, Sampling};

/// One optimization: a name and how it changes a stack of accepted optimizations.
pub struct Optimization<S> {
    /// Short name, e.g. `indicator-cache`.
    pub name: String,
    /// One sentence on what it changes.
    pub description: String,
    /// The stack with this optimization added.
    pub apply: Box<dyn Fn(&S) -> S>,
}

impl<S> std::fmt::Debug for Optimization<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Optimization").field("name", &self.name).finish_non_exhaustive()
    }
}

/// What the sequence needs from a workload: the gate and the paired benchmark of two stacks.
pub trait SequenceHarness<S> {
    /// Compares the results of `accepted` and `candidate` on the workload's equivalence cases.
    fn check_equivalence(
        &mut self,
        accepted: &S,
        candidate: &S,
    ) -> Result<EquivalenceReport, EquivalenceError>;
    /// Runs `accepted` and `candidate` interleaved in pairs as `sampling` says (a fixed number,
    /// or until its rule decides) and writes their raw data; `label` names the comparison (used in
    /// run ids).
    fn benchmark(
        &mut self,
        accepted: &S,
        candidate: &S,
        label: &str,
        sampling: &Sampling<'_>,
    ) -> Result<PairedOutcome, MeasureError>;
    /// A short description of a stack for reports.
    fn describe(&self, stack: &S) -> String;
}

/// The outcome of one optimization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Passed the gate and every criterion: now part of the stack.
    Accepted,
    /// Passed the gate, failed at least one criterion.
    Rejected,
    /// Passed the gate and is shown to be slower than the accepted stack.
    Regression,
    /// Passed the gate; the budget ran out before the improvement was shown to reach or miss
    /// the threshold. Not part of the stack.
    Inconclusive,
    /// Failed the equivalence gate: not benchmarked.
    Blocked,
    /// The benchmark could not produce two complete pairs (panics or an interrupt).
    Failed,
}

impl Decision {
    /// How the decision reads in tables and summaries.
    pub fn label(self) -> &'static str {
        match self {
            Self::Accepted => "ACCEPTED",
            Self::Rejected => "rejected",
            Self::Regression => "REGRESSION",
            Self::Inconclusive => "inconclusive",
            Self::Blocked => "BLOCKED (results differ)",
            Self::Failed => "failed",
        }
    }
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Why the sequence stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The cumulative improvement reached the goal (and stopping on the goal was asked for).
    GoalReached,
    /// Every optimization was evaluated.
    AllEvaluated,
    /// The last two optimizations were not accepted.
    DiminishingReturns,
    /// An interrupt stopped it; the report is incomplete.
    Interrupted,
}

impl StopReason {
    /// snake_case name, as in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GoalReached => "goal_reached",
            Self::AllEvaluated => "all_evaluated",
            Self::DiminishingReturns => "diminishing_returns",
            Self::Interrupted => "interrupted",
        }
    }

    /// Why the sequence stopped, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::GoalReached => "goal reached",
            Self::AllEvaluated => "all optimizations evaluated",
            Self::DiminishingReturns => "diminishing returns (the last two were not accepted)",
            Self::Interrupted => "interrupted — this report is INCOMPLETE",
        }
    }
}

/// The equivalence gate's outcome for one optimization.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateResult {
    /// Whether the candidate produced the accepted stack's results.
    pub passed: bool,
    /// What was compared, when it passed.
    pub report: Option<EquivalenceReport>,
    /// The first difference, when it failed.
    pub error: Option<String>,
}

/// Everything recorded about one optimization.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRecord {
    /// 1-based priority.
    pub position: usize,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// The stack it was compared against.
    pub compared_against: String,
    /// The equivalence gate.
    pub equivalence: GateResult,
    /// The threshold evaluation, when benchmarked.
    pub evaluation: Option<Evaluation>,
    /// The decision.
    pub decision: Decision,
    /// Why, in one paragraph.
    pub rationale: String,
    /// Raw data of the accepted stack's runs.
    pub baseline_raw: Option<PathBuf>,
    /// Raw data of the candidate's runs.
    pub candidate_raw: Option<PathBuf>,
    /// Runs of either side that failed (panicked), recorded in the raw data.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failed_runs: usize,
    /// Cumulative improvement (multiplicative over accepted steps) after this step, percent.
    pub cumulative_improvement_percent: Decimal,
}

/// The final check: the original baseline against the final stack, run directly.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DirectCheck {
    /// The final stack.
    pub final_stack: String,
    /// The evaluation of baseline → final stack.
    pub evaluation: Evaluation,
    /// Raw data of both sides.
    pub baseline_raw: PathBuf,
    /// Raw data of the final stack.
    pub candidate_raw: PathBuf,
    /// Runs of either side that failed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failed_runs: usize,
}

/// The result of a sequential evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SequenceReport {
    /// One record per evaluated optimization, in order.
    pub steps: Vec<StepRecord>,
    /// Names of the accepted optimizations, in order.
    pub accepted: Vec<String>,
    /// `(1 − Π(1 − improvement_i/100)) × 100` over accepted steps: a product of point
    /// estimates, biased by early stopping and blind to interactions — **not a bound**; the
    /// direct check is what decides the goal.
    pub cumulative_improvement_percent: Decimal,
    /// The baseline → final-stack improvement of mean time measured directly, when any step
    /// was accepted (its interval is the direct check's bound).
    pub direct_improvement_percent: Option<Decimal>,
    /// The direct check's details.
    pub direct_check: Option<DirectCheck>,
    /// The goal.
    pub goal_improvement_percent: Decimal,
    /// Whether the goal was shown to be reached: the direct check's lower bound of the
    /// improvement (decided against the goal as its threshold) is at least the goal. False
    /// without a direct check.
    pub goal_achieved: bool,
    /// Why it stopped.
    pub stop_reason: StopReason,
    /// False when interrupted.
    pub complete: bool,
    /// The threshold applied to every step.
    pub threshold: PerformanceThreshold,
    /// Optimizations not evaluated because the sequence stopped first.
    pub not_evaluated: Vec<String>,
    /// Where and how the benchmarks ran (from the first benchmark).
    #[serde(skip)]
    pub environment: Option<Environment>,
}

impl SequenceReport {
    /// Runs that failed (panicked) in any benchmark of the sequence.
    pub fn failed_runs(&self) -> usize {
        self.steps.iter().map(|s| s.failed_runs).sum::<usize>()
            + self.direct_check.as_ref().map_or(0, |d| d.failed_runs)
    }

    /// Raw-data files written, both sides of every benchmark, the direct check included.
    pub fn raw_files(&self) -> Vec<&std::path::Path> {
        let mut v: Vec<&std::path::Path> = self
            .steps
            .iter()
            .flat_map(|s| [s.baseline_raw.as_deref(), s.candidate_raw.as_deref()])
            .flatten()
            .collect();
        if let Some(d) = &self.direct_check {
            v.extend([d.baseline_raw.as_path(), d.candidate_raw.as_path()]);
        }
        v
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn failed_in(outcome: &PairedOutcome) -> usize {
    outcome.baseline.raw.failed_runs.len() + outcome.candidate.raw.failed_runs.len()
}

/// Settings of a sequential evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceConfig {
    /// Cumulative improvement at which to stop.
    pub goal_improvement_percent: Decimal,
    /// Stop as soon as the goal is reached.
    pub stop_on_goal: bool,
    /// Run the final baseline → final-stack check.
    pub verify_final: bool,
    /// How each comparison samples and decides.
    pub design: Design,
}

fn cumulative(factors: &[Decimal]) -> Decimal {
    let product = factors.iter().fold(Decimal::ONE, |acc, f| acc * f);
    ((Decimal::ONE - product) * Decimal::ONE_HUNDRED).round_dp(6)
}

/// Evaluates `optimizations` in priority order starting from `initial`: for each, the
/// equivalence gate (BLOCKING), then a paired interleaved benchmark of the accepted stack
/// against the stack plus the candidate, then [`bench_threshold::evaluate_threshold`]. Stops when the goal is
/// reached (if `stop_on_goal`), when all are evaluated, on diminishing returns (the last two
/// not accepted) or on an interrupt. The cumulative improvement is the product over accepted
/// steps; the final stack is then checked directly against `initial`.
pub fn evaluate_optimization_sequence<S>(
    optimizations: &[Optimization<S>],
    initial: &S,
    threshold: &PerformanceThreshold,
    config: &SequenceConfig,
    harness: &mut dyn SequenceHarness<S>,
) -> SequenceReport
where
    S: Clone,
{
    let sampling = Sampling::new(config.design, threshold);
    let mut stack = initial.clone();
    let mut steps: Vec<StepRecord> = Vec::new();
    let mut accepted = Vec::new();
    let mut factors: Vec<Decimal> = Vec::new();
    let mut stop_reason = StopReason::AllEvaluated;
    let mut complete = true;
    let mut evaluated = 0;
    let mut environment = None;
    for (i, opt) in optimizations.iter().enumerate() {
        if bench_measure::interrupt_requested() {
            stop_reason = StopReason::Interrupted;
            complete = false;
            break;
        }
        evaluated = i + 1;
        let candidate = (opt.apply)(&stack);
        let compared_against = harness.describe(&stack);
        let mut record = StepRecord {
            position: i + 1,
            name: opt.name.clone(),
            description: opt.description.clone(),
            compared_against,
            equivalence: GateResult { passed: false, report: None, error: None },
            evaluation: None,
            decision: Decision::Blocked,
            rationale: String::new(),
            baseline_raw: None,
            candidate_raw: None,
            failed_runs: 0,
            cumulative_improvement_percent: cumulative(&factors),
        };
        match harness.check_equivalence(&stack, &candidate) {
            Err(e) => {
                record.equivalence.error = Some(e.to_string());
                record.rationale =
                    format!("BLOCKED by the functional-equivalence gate, not benchmarked: {e}");
            }
            Ok(report) => {
                record.equivalence = GateResult { passed: true, report: Some(report), error: None };
                match harness.benchmark(&stack, &candidate, &opt.name, &sampling) {
                    Err(e) => {
                        record.decision = Decision::Failed;
                        record.rationale = format!("FAILED: the benchmark could not run: {e}");
                    }
                    Ok(outcome) => {
                        record.baseline_raw = Some(outcome.baseline.raw_path.clone());
                        record.candidate_raw = Some(outcome.candidate.raw_path.clone());
                        record.failed_runs = failed_in(&outcome);
                        environment.get_or_insert_with(|| outcome.baseline.raw.environment.clone());
                        let interrupted = outcome.baseline.raw.status == SuiteStatus::Interrupted;
                        match sampling.evaluate(&outcome) {
                            Err(_) if interrupted => {
                                let pairs =
                                    outcome.baseline.raw.runs.len().min(outcome.candidate.raw.runs.len());
                                record.decision = Decision::Inconclusive;
                                record.rationale = format!(
                                    "INCONCLUSIVE: interrupted after {pairs} completed pair{}, too few to decide",
                                    if pairs == 1 { "" } else { "s" }
                                );
                            }
                            Err(e) => {
                                record.decision = Decision::Failed;
                                record.rationale = format!("FAILED: {e}");
                            }
                            Ok(ev) => {
                                record.decision = match ev.verdict {
                                    Verdict::Accepted => Decision::Accepted,
                                    Verdict::Rejected => Decision::Rejected,
                                    Verdict::Regression => Decision::Regression,
                                    Verdict::Inconclusive => Decision::Inconclusive,
                                };
                                record.rationale = ev.decision_rationale.clone();
                                // Cut short before the sample size the rule needs: the missing
                                // pairs, not the data, said "rejected". Undecided.
                                if interrupted
                                    && record.decision == Decision::Rejected
                                    && ev.failed_criteria.contains(&bench_threshold::Criterion::SampleSize)
                                {
                                    record.decision = Decision::Inconclusive;
                                    record.rationale = format!(
                                        "INCONCLUSIVE: interrupted, undecided: too few pairs for the decision rule. {}",
                                        ev.decision_rationale
                                    );
                                }
                                if record.decision == Decision::Accepted {
                                    factors
                                        .push(Decimal::ONE - ev.improvement_percent / Decimal::ONE_HUNDRED);
                                    accepted.push(opt.name.clone());
                                    stack = candidate;
                                }
                                record.evaluation = Some(ev);
                            }
                        }
                        if interrupted {
                            record.rationale.push_str(" (interrupted: fewer pairs than requested)");
                            record.cumulative_improvement_percent = cumulative(&factors);
                            steps.push(record);
                            stop_reason = StopReason::Interrupted;
                            complete = false;
                            break;
                        }
                    }
                }
            }
        }
        record.cumulative_improvement_percent = cumulative(&factors);
        steps.push(record);
        let total = cumulative(&factors);
        if config.stop_on_goal && total >= config.goal_improvement_percent {
            stop_reason = StopReason::GoalReached;
            break;
        }
        let last_two_failed =
            steps.len() >= 2 && steps[steps.len() - 2..].iter().all(|s| s.decision != Decision::Accepted);
        if last_two_failed && i + 1 < optimizations.len() {
            stop_reason = StopReason::DiminishingReturns;
            break;
        }
    }
    let not_evaluated = optimizations.iter().skip(evaluated).map(|o| o.name.clone()).collect();
    let total = cumulative(&factors);
    let mut direct_check = None;
    // The direct check decides the goal: its threshold is the goal, so its sequence stops when
    // the improvement is shown to reach the goal or to fall short of it.
    let goal_threshold = threshold
        .with_overrides(
            &bench_threshold::ThresholdOverrides {
                min_improvement_percent: Some(config.goal_improvement_percent),
                ..Default::default()
            },
            "the goal of the direct check",
        )
        .unwrap_or_else(|_| threshold.clone());
    let goal_sampling = Sampling { threshold: &goal_threshold, ..sampling };
    if config.verify_final
        && complete
        && !accepted.is_empty()
        && !bench_measure::interrupt_requested()
        && let Ok(outcome) = harness.benchmark(initial, &stack, "final-check", &goal_sampling)
        && let Ok(ev) = goal_sampling.evaluate(&outcome)
    {
        direct_check = Some(DirectCheck {
            final_stack: harness.describe(&stack),
            evaluation: ev,
            baseline_raw: outcome.baseline.raw_path.clone(),
            candidate_raw: outcome.candidate.raw_path.clone(),
            failed_runs: failed_in(&outcome),
        });
    }
    let goal_achieved =
        direct_check.as_ref().is_some_and(|d| d.evaluation.bound.reaches(config.goal_improvement_percent));
    SequenceReport {
        direct_improvement_percent: direct_check.as_ref().map(|d| d.evaluation.improvement_percent),
        direct_check,
        goal_achieved,
        steps,
        accepted,
        cumulative_improvement_percent: total,
        goal_improvement_percent: config.goal_improvement_percent,
        stop_reason,
        complete,
        threshold: threshold.clone(),
        not_evaluated,
        environment,
    }
}

/// `to_decimal` for figures that are known finite.
pub fn dec(x: f64) -> Decimal {
    to_decimal(x).unwrap_or(Decimal::ZERO)
}
