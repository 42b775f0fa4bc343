//! The sequential evaluation on the real engine at small sizes, no mocks.

mod common;

#[global_allocator]
static ALLOC: bench_measure::CountingAlloc = bench_measure::CountingAlloc;

use bench_optimizations::*;
use bench_threshold::{Criterion, OptimizationConfig, create_threshold};
use bench_workloads::LadderStep;
use common::*;
use rust_decimal::Decimal;

/// These tests measure: run them one at a time, so one test's work is not another's noise
/// (or, with absolute heap peaks, another's memory).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn default_threshold() -> bench_threshold::PerformanceThreshold {
    OptimizationConfig::create_default().get_threshold("grid_search", "small").clone()
}

fn config(goal: i64, stop_on_goal: bool) -> SequenceConfig {
    SequenceConfig {
        goal_improvement_percent: Decimal::from(goal),
        stop_on_goal,
        verify_final: true,
        design: Design::Fixed,
    }
}

#[test]
fn a_result_changing_candidate_is_blocked_without_being_benchmarked() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), 4);
    let r = evaluate_optimization_sequence(
        &[wrong_windows()],
        &base(),
        &default_threshold(),
        &config(40, true),
        &mut h,
    );
    let s = &r.steps[0];
    assert_eq!(s.decision, Decision::Blocked);
    assert!(!s.equivalence.passed);
    assert!(s.evaluation.is_none() && s.baseline_raw.is_none(), "not benchmarked");
    let e = s.equivalence.error.as_deref().unwrap();
    assert!(
        e.starts_with("case \"derived grid\": trades[")
            && e.contains("baseline")
            && e.contains("candidate")
            && e.contains("difference"),
        "{e}"
    );
    assert!(s.rationale.starts_with("BLOCKED by the functional-equivalence gate"));
    assert!(r.accepted.is_empty() && r.direct_check.is_none());
    assert_eq!(r.cumulative_improvement_percent, Decimal::ZERO);
}

#[test]
fn the_indicator_cache_is_accepted_when_its_memory_is_allowed_and_rejected_on_memory_by_default() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), 10);
    let start = common::Stack { opts: LadderStep::BatchInit.optimizations(), wrong_windows: false };
    let roomy = create_threshold(
        Decimal::from(5),
        "grid_search",
        "small",
        Decimal::new(95, 2),
        10,
        Decimal::from(1000),
        "caching allowed",
    )
    .unwrap();
    let r = evaluate_optimization_sequence(
        &[step(LadderStep::IndicatorCache)],
        &start,
        &roomy,
        &config(40, true),
        &mut h,
    );
    let s = &r.steps[0];
    assert!(s.equivalence.passed);
    assert_eq!(s.decision, Decision::Accepted, "{}", s.rationale);
    let e = s.evaluation.as_ref().unwrap();
    assert!(e.improvement_percent > Decimal::from(50));
    assert!(e.memory_increase_percent.unwrap() > Decimal::ZERO, "the cache costs memory");
    assert_eq!(r.accepted, vec!["indicator-cache".to_string()]);
    let direct = r.direct_check.as_ref().expect("the final stack is checked directly");
    assert!(direct.evaluation.improvement_percent > Decimal::from(50));
    let strict = evaluate_optimization_sequence(
        &[step(LadderStep::IndicatorCache)],
        &start,
        &default_threshold(),
        &config(40, true),
        &mut h,
    );
    let e = strict.steps[0].evaluation.as_ref().unwrap();
    assert_eq!(e.failed_criteria, vec![Criterion::Memory], "{}", strict.steps[0].rationale);
}

/// An A/A comparison (the same implementation on both sides) is a true null, so the one-tailed
/// paired t-test at α = 0.05 finds it significant about once in 20 and a single A/A can show a
/// chance "improvement" of 10% on these millisecond runs. Over 20 A/A comparisons the harness
/// must stay calibrated: at most 5 significant and 5 accepted. For an unbiased harness that
/// bound fails by chance with probability 3.3e-4 each (binomial tail, n = 20, p = 0.05), so a
/// failure means a biased measurement (an order effect, a warm-up on one side), not bad luck.
#[test]
fn aa_comparisons_are_rarely_significant_or_accepted() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), 10);
    let calls = std::rc::Rc::new(std::cell::Cell::new(0));
    let seen = calls.clone();
    h.progress = Some(Box::new(move |label: &str, done: usize, total: usize| {
        assert_eq!((label, total), ("a-a", 10));
        assert!(done <= total);
        seen.set(seen.get() + 1);
    }));
    let start = common::Stack { opts: LadderStep::PersistentWorkers.optimizations(), wrong_windows: false };
    // No direct final check: an accepted A/A would run one, and only the A/A is under test.
    let cfg = SequenceConfig { verify_final: false, ..config(40, true) };
    let (mut significant, mut accepted) = (0, 0);
    for _ in 0..20 {
        let r =
            evaluate_optimization_sequence(&[same_again("a-a")], &start, &default_threshold(), &cfg, &mut h);
        let s = &r.steps[0];
        assert!(s.equivalence.passed);
        let e = s.evaluation.as_ref().expect("an A/A is benchmarked");
        significant += usize::from(e.statistical_significance);
        accepted += usize::from(s.decision == Decision::Accepted);
        assert_eq!(s.decision == Decision::Accepted, e.failed_criteria.is_empty(), "{}", s.rationale);
    }
    assert!(significant <= 5, "{significant} of 20 A/A comparisons significant at α = 0.05");
    assert!(accepted <= 5, "{accepted} of 20 A/A comparisons accepted");
    assert_eq!(calls.get(), 20 * 10, "progress after every pair");
}

#[test]
fn stop_rules() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), 6);
    let roomy = create_threshold(
        Decimal::from(5),
        "grid_search",
        "small",
        Decimal::new(95, 2),
        6,
        Decimal::from(1000),
        "caching allowed",
    )
    .unwrap();
    let start = common::Stack { opts: LadderStep::BatchInit.optimizations(), wrong_windows: false };

    // Goal reached: the cache alone passes a 40% goal; the rest is not evaluated.
    let r = evaluate_optimization_sequence(
        &[step(LadderStep::IndicatorCache), same_again("later")],
        &start,
        &roomy,
        &config(40, true),
        &mut h,
    );
    assert_eq!(r.stop_reason, StopReason::GoalReached);
    assert!(r.goal_achieved && r.complete);
    assert_eq!(r.not_evaluated, vec!["later".to_string()]);

    // Diminishing returns: two rejections in a row stop the sequence. Both are certain: the
    // cache fails the default threshold's memory limit, the wrong windows fail the gate (an A/A
    // here would be accepted by chance now and then).
    let r = evaluate_optimization_sequence(
        &[step(LadderStep::IndicatorCache), wrong_windows(), step(LadderStep::PersistentWorkers)],
        &start,
        &default_threshold(),
        &config(40, true),
        &mut h,
    );
    assert_eq!(r.stop_reason, StopReason::DiminishingReturns);
    assert_eq!(r.steps.len(), 2);
    assert_eq!(r.steps[0].decision, Decision::Rejected, "{}", r.steps[0].rationale);
    assert!(r.steps[0].evaluation.as_ref().unwrap().failed_criteria.contains(&Criterion::Memory));
    assert_eq!(r.steps[1].decision, Decision::Blocked);
    assert_eq!(r.not_evaluated, vec!["persistent-workers".to_string()]);
    assert!(!r.goal_achieved);

    // All evaluated: an unreachable goal, and every optimization ran.
    let r = evaluate_optimization_sequence(
        &[step(LadderStep::IndicatorCache), step(LadderStep::PersistentWorkers)],
        &start,
        &roomy,
        &config(100, true),
        &mut h,
    );
    assert_eq!(r.stop_reason, StopReason::AllEvaluated);
    assert_eq!(r.steps.len(), 2);
    assert!(r.not_evaluated.is_empty());
    // Cumulative improvement is the product over accepted steps.
    let product = r.steps.iter().filter(|s| s.decision == Decision::Accepted).fold(Decimal::ONE, |acc, s| {
        acc * (Decimal::ONE - s.evaluation.as_ref().unwrap().improvement_percent / Decimal::ONE_HUNDRED)
    });
    assert_eq!(
        r.cumulative_improvement_percent,
        ((Decimal::ONE - product) * Decimal::ONE_HUNDRED).round_dp(6)
    );
}
