//! The sequence's bookkeeping on a toy harness of known effects (real timing, milliseconds per
//! comparison): the cumulative improvement, when it stops and why, the direct check, the files,
//! and the A/A calibration's rows — what the 110-s real-engine test also covers, here fast
//! enough to run under a mutation tester.

use bench_measure::{MeasureError, PairedConfig, PairedOutcome, SuiteConfig, run_paired_suite};
use bench_optimizations::*;
use bench_threshold::OptimizationConfig;
use rust_decimal::Decimal;

/// The stack is a work divisor: `halve` doubles it (half the work), `noop` keeps it.
fn work(divisor: u64) -> f64 {
    (0..2_000_000 / divisor).map(|i| (i as f64).sqrt()).sum()
}

struct Toy(tempfile::TempDir);

impl SequenceHarness<u64> for Toy {
    fn check_equivalence(&mut self, _: &u64, _: &u64) -> Result<EquivalenceReport, EquivalenceError> {
        test_functional_equivalence(
            |_: &()| Value::Scalar(1.0),
            |_: &()| Value::Scalar(1.0),
            &[("unit".into(), ())],
            1e-10,
            ComparisonMode::Scalar,
        )
    }
    fn benchmark(
        &mut self,
        a: &u64,
        b: &u64,
        label: &str,
        _: &Sampling<'_>,
    ) -> Result<PairedOutcome, MeasureError> {
        let cfg = |name: &str| SuiteConfig::new(0, name, "toy", Default::default(), self.0.path()).unwrap();
        let config = PairedConfig {
            pairs: 10,
            seed: 1,
            baseline: cfg(&format!("{label}-a")),
            candidate: cfg(&format!("{label}-b")),
        };
        let (a, b) = (*a, *b);
        run_paired_suite(move || work(a), move || work(b), &config, &mut |_, _| {})
    }
    fn describe(&self, s: &u64) -> String {
        format!("divisor {s}")
    }
}

fn step(name: &str, halves: bool) -> Optimization<u64> {
    Optimization {
        name: name.into(),
        description: name.into(),
        apply: Box::new(move |s: &u64| if halves { s * 2 } else { *s }),
    }
}

fn config(goal: i64, stop_on_goal: bool) -> SequenceConfig {
    SequenceConfig {
        goal_improvement_percent: goal.into(),
        stop_on_goal,
        verify_final: true,
        design: Design::Fixed,
    }
}

#[test]
fn two_steps_without_gain_stop_the_sequence_and_the_accepted_one_is_checked_directly() {
    let threshold = OptimizationConfig::create_default().fallback().clone();
    let steps = [step("halve", true), step("noop-1", false), step("noop-2", false), step("noop-3", false)];
    let mut toy = Toy(tempfile::tempdir().unwrap());
    let report = evaluate_optimization_sequence(&steps, &1, &threshold, &config(40, false), &mut toy);
    let decisions: Vec<Decision> = report.steps.iter().map(|s| s.decision).collect();
    assert_eq!(decisions.len(), 3, "{decisions:?}");
    assert_eq!(decisions[0], Decision::Accepted, "{}", report.steps[0].rationale);
    assert!(decisions[1..].iter().all(|d| *d != Decision::Accepted), "{decisions:?}");
    assert_eq!(report.stop_reason, StopReason::DiminishingReturns);
    assert_eq!(report.stop_reason.as_str(), "diminishing_returns");
    assert_eq!(report.not_evaluated, vec!["noop-3".to_owned()]);
    // One accepted step: the cumulative improvement is that step's improvement.
    let first = report.steps[0].evaluation.as_ref().unwrap().improvement_percent;
    assert!((report.cumulative_improvement_percent - first).abs() < Decimal::new(1, 5), "{first}");
    assert_eq!(report.steps[0].cumulative_improvement_percent, report.cumulative_improvement_percent);
    // Something was accepted and verify_final is on: the direct check ran.
    assert!(report.direct_check.is_some());
    let files = report.raw_files();
    assert_eq!(files.len(), 2 * 3 + 2, "{files:?}");
    assert!(files.iter().all(|f| f.exists()));
    assert_eq!(report.failed_runs(), 0);
}

#[test]
fn the_goal_stops_the_sequence_only_once_reached() {
    let threshold = OptimizationConfig::create_default().fallback().clone();
    let steps = [step("halve", true), step("noop", false)];
    // Half the work is about 50%: a 90% goal is not reached, so the sequence goes on.
    let far = evaluate_optimization_sequence(
        &steps,
        &1,
        &threshold,
        &config(90, true),
        &mut Toy(tempfile::tempdir().unwrap()),
    );
    assert_eq!(far.steps.len(), 2);
    assert_ne!(far.stop_reason, StopReason::GoalReached);
    let near = evaluate_optimization_sequence(
        &steps,
        &1,
        &threshold,
        &config(40, true),
        &mut Toy(tempfile::tempdir().unwrap()),
    );
    assert_eq!(near.steps.len(), 1);
    assert_eq!(near.stop_reason, StopReason::GoalReached);
    assert_eq!(near.stop_reason.as_str(), "goal_reached");
}

#[test]
fn an_aa_calibration_numbers_its_rows_and_knows_when_it_is_complete() {
    let threshold = OptimizationConfig::create_default().fallback().clone();
    let mut toy = Toy(tempfile::tempdir().unwrap());
    let cal = calibrate_aa(&mut toy, &1, &threshold, Design::Fixed, 3, &mut |_, _| {}).unwrap();
    assert_eq!(cal.implementation, "divisor 1");
    assert_eq!(cal.pairs_per_comparison, 10);
    assert_eq!(cal.pairs_used, vec![10, 10, 10]);
    assert_eq!(cal.rows.iter().map(|r| r.repetition).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert!(cal.complete());
    let cut = AaCalibration { repetitions: 2, ..cal };
    assert!(!cut.complete());
}

#[test]
fn the_gate_reports_differences_relative_to_the_baseline() {
    let r = test_functional_equivalence(
        |_: &()| Value::Array(vec![0.5, 4.0]),
        |_: &()| Value::Array(vec![0.5 + 2e-12, 4.0 + 2e-11]),
        &[("case".into(), ())],
        1e-10,
        ComparisonMode::Array,
    )
    .unwrap();
    // Near zero the difference is absolute (scale 1), above 1 relative: 2e-11 / 4 = 5e-12.
    assert!((r.max_scaled_difference - 5e-12).abs() < 1e-15, "{}", r.max_scaled_difference);
}

/// The planned time, worked out by hand: a pair is two runs; an adaptive comparison is capped
/// by its time budget plus the block in progress; past an hour the plan needs confirming.
#[test]
fn the_planned_time_is_runs_times_pairs_capped_by_the_budget() {
    let threshold = OptimizationConfig::create_default().fallback().clone();
    let plan = bench_threshold::AdaptivePlan {
        min_pairs: 10,
        max_pairs: 400,
        max_seconds: 60.0,
        ..bench_threshold::AdaptivePlan::default_for(&threshold)
    };
    let t = Design::Adaptive(plan).expected_time(0.5, 3, 10, Some(30.0));
    assert_eq!(t.least_seconds, 3.0 * 10.0 * 2.0 * 0.5);
    assert_eq!(t.typical_seconds, Some(3.0 * 30.0 * 2.0 * 0.5));
    assert_eq!(
        t.most_seconds,
        3.0 * (60.0 + 2.0 * 2.0 * 0.5),
        "400 pairs would take 400 s: the 60-s budget caps it"
    );
    assert!(
        t.to_string().starts_with("at most ")
            && t.to_string().contains("; each takes 10 s if it decides at its first look, about 30 s"),
        "{t}"
    );
    let fixed = Design::Fixed.expected_time(2.0, 2, 10, None);
    assert_eq!(fixed.to_string(), "1 min 20 s for up to 2 comparisons (a baseline run takes 2 s)");
    // Past an hour: refused unless confirmed, with the pairs per comparison worked back.
    let long = Design::Fixed.expected_time(10.0, 20, 10, None);
    assert!(long.admit("the evaluation", true).is_ok());
    let e = long.admit("the evaluation", false).unwrap_err().to_string();
    assert!(e.contains("20 comparisons of at least 10 pairs"), "{e}");
    assert!(Design::Fixed.expected_time(1.0, 2, 10, None).admit("x", false).is_ok());
}

/// The last two steps failing at the end of the list is not "diminishing returns": nothing is
/// left to skip.
#[test]
fn two_failures_at_the_end_are_all_evaluated() {
    let threshold = OptimizationConfig::create_default().fallback().clone();
    let steps = [step("halve", true), step("noop-1", false), step("noop-2", false)];
    let mut toy = Toy(tempfile::tempdir().unwrap());
    let report = evaluate_optimization_sequence(&steps, &1, &threshold, &config(90, false), &mut toy);
    assert_eq!(report.steps.len(), 3);
    assert_eq!(report.stop_reason, StopReason::AllEvaluated);
    assert!(report.not_evaluated.is_empty());
}

/// A candidate whose every run panics (a divisor of 0): its runs are counted as failed, in the
/// step's record and the report, and the JSON carries the count only where it is not zero.
#[test]
fn panicking_runs_are_counted_where_they_happened() {
    let threshold = OptimizationConfig::create_default().fallback().clone();
    let breaks = Optimization {
        name: "breaks".into(),
        description: "divides by zero".into(),
        apply: Box::new(|_: &u64| 0),
    };
    let mut toy = Toy(tempfile::tempdir().unwrap());
    let report = evaluate_optimization_sequence(
        &[step("halve", true), breaks],
        &1,
        &threshold,
        &config(90, false),
        &mut toy,
    );
    assert_eq!(report.steps.len(), 2);
    assert_eq!(report.steps[0].failed_runs, 0);
    assert_eq!(report.steps[1].failed_runs, 10, "{}", report.steps[1].rationale);
    assert_eq!(report.failed_runs(), 10);
    let json = |s: &StepRecord| serde_json::to_value(s).unwrap();
    assert!(json(&report.steps[0]).get("failed_runs").is_none());
    assert_eq!(json(&report.steps[1])["failed_runs"], 10);
}

#[test]
fn the_sampling_budget_comes_from_the_design() {
    let threshold = OptimizationConfig::create_default().fallback().clone();
    let plan = bench_threshold::AdaptivePlan::default_for(&threshold).with_budget(123);
    let adaptive = Sampling::new(Design::Adaptive(plan), &threshold);
    assert_eq!(adaptive.max_pairs(10), 123);
    assert_eq!(adaptive.max_seconds(), Some(plan.max_seconds));
    let fixed = Sampling::new(Design::Fixed, &threshold);
    assert_eq!(fixed.max_pairs(10), 10);
    assert_eq!(fixed.max_seconds(), None);
}
