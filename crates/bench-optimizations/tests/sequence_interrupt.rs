//! An interrupt stops the sequence and marks the report incomplete (its own test binary: the
//! interrupt flag is process-wide).

mod common;

use bench_optimizations::*;
use bench_threshold::OptimizationConfig;
use bench_workloads::LadderStep;
use common::*;

/// The interrupt flag is process-wide: these tests take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn an_interrupt_stops_the_sequence_and_marks_it_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), 4);
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    bench_measure::request_interrupt();
    let t = OptimizationConfig::create_default().fallback().clone();
    let c = SequenceConfig {
        goal_improvement_percent: 40.into(),
        stop_on_goal: true,
        verify_final: true,
        design: Design::Fixed,
    };
    let r = evaluate_optimization_sequence(&[step(LadderStep::BatchInit)], &base(), &t, &c, &mut h);
    bench_measure::clear_interrupt();
    assert_eq!(r.stop_reason, StopReason::Interrupted);
    assert!(!r.complete);
    assert!(r.steps.is_empty());
    assert_eq!(r.not_evaluated, vec!["batch-init".to_string()]);
}

/// A harness whose benchmark fails, or completes too few pairs, or is interrupted mid-suite.
struct Faulty {
    mode: u8,
    dir: tempfile::TempDir,
}

impl SequenceHarness<u32> for Faulty {
    fn check_equivalence(&mut self, _: &u32, _: &u32) -> Result<EquivalenceReport, EquivalenceError> {
        test_functional_equivalence(
            |_: &()| Value::Scalar(1.0),
            |_: &()| Value::Scalar(1.0),
            &[("c".into(), ())],
            1e-10,
            ComparisonMode::Scalar,
        )
    }
    fn benchmark(
        &mut self,
        _: &u32,
        _: &u32,
        label: &str,
        _: &Sampling<'_>,
    ) -> Result<bench_measure::PairedOutcome, bench_measure::MeasureError> {
        use bench_measure::{PairedConfig, SuiteConfig, run_paired_suite};
        if self.mode == 0 {
            return Err(bench_measure::MeasureError::Workload("no pool".into()));
        }
        let cfg = |n: &str| SuiteConfig {
            warmup_runs: 0,
            ..SuiteConfig::new(0, n, "t", Default::default(), self.dir.path()).unwrap()
        };
        let pairs = if self.mode == 1 { 1 } else { 6 };
        let config = PairedConfig {
            pairs,
            seed: 3,
            baseline: cfg(&format!("{label}a")),
            candidate: cfg(&format!("{label}b")),
        };
        let mut k = 0;
        let mode = self.mode;
        let mut progress = |_: usize, _: usize| {};
        run_paired_suite(
            || std::hint::black_box((0..20_000u64).sum::<u64>()),
            || {
                k += 1;
                if (mode == 2 && k == 3) || (mode == 3 && k == 1) {
                    bench_measure::request_interrupt();
                }
                std::hint::black_box((0..10_000u64).sum::<u64>())
            },
            &config,
            &mut progress,
        )
    }
    fn describe(&self, s: &u32) -> String {
        format!("stack {s}")
    }
}

#[test]
fn failed_and_interrupted_benchmarks_are_recorded() {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let t = OptimizationConfig::create_default().fallback().clone();
    let c = SequenceConfig {
        goal_improvement_percent: 40.into(),
        stop_on_goal: true,
        verify_final: true,
        design: Design::Fixed,
    };
    let opt = || Optimization { name: "o".into(), description: "d".into(), apply: Box::new(|s: &u32| s + 1) };
    assert!(format!("{:?}", opt()).contains("\"o\""));
    bench_measure::clear_interrupt();
    let r = evaluate_optimization_sequence(
        &[opt()],
        &0,
        &t,
        &c,
        &mut Faulty { mode: 0, dir: tempfile::tempdir().unwrap() },
    );
    assert_eq!(r.steps[0].decision, Decision::Failed);
    assert!(r.steps[0].rationale.contains("the benchmark could not run: no pool"));
    let r = evaluate_optimization_sequence(
        &[opt()],
        &0,
        &t,
        &c,
        &mut Faulty { mode: 1, dir: tempfile::tempdir().unwrap() },
    );
    assert_eq!(r.steps[0].decision, Decision::Failed);
    assert!(r.steps[0].rationale.contains("at least 2 completed runs"), "{}", r.steps[0].rationale);
    let r = evaluate_optimization_sequence(
        &[opt(), opt()],
        &0,
        &t,
        &c,
        &mut Faulty { mode: 2, dir: tempfile::tempdir().unwrap() },
    );
    bench_measure::clear_interrupt();
    assert_eq!(r.stop_reason, StopReason::Interrupted);
    assert!(!r.complete);
    assert!(r.steps[0].rationale.ends_with("(interrupted: fewer pairs than requested)"));
    assert_eq!(r.not_evaluated, vec!["o".to_string()]);
    // Too few pairs for the sample size the classic rule needs: its "rejected" is the missing
    // pairs talking, so an interrupted step is undecided.
    let mut classic = t.clone();
    classic.rule = bench_threshold::Rule::Classic;
    let r = evaluate_optimization_sequence(
        &[opt()],
        &0,
        &classic,
        &c,
        &mut Faulty { mode: 2, dir: tempfile::tempdir().unwrap() },
    );
    bench_measure::clear_interrupt();
    assert_eq!(r.steps[0].decision, Decision::Inconclusive, "{}", r.steps[0].rationale);
    assert!(
        r.steps[0].rationale.starts_with("INCONCLUSIVE: interrupted, undecided"),
        "{}",
        r.steps[0].rationale
    );
    // Interrupted before two pairs completed: undecided, said in the user's words (not the
    // sample's "at least 2 values" error), and never a failure.
    let r = evaluate_optimization_sequence(
        &[opt()],
        &0,
        &t,
        &c,
        &mut Faulty { mode: 3, dir: tempfile::tempdir().unwrap() },
    );
    bench_measure::clear_interrupt();
    assert_eq!(r.steps[0].decision, Decision::Inconclusive, "{}", r.steps[0].rationale);
    assert!(
        r.steps[0].rationale.starts_with("INCONCLUSIVE: interrupted after 1 completed pair,"),
        "{}",
        r.steps[0].rationale
    );
    assert!(!r.steps[0].rationale.contains("at least 2"), "{}", r.steps[0].rationale);
    assert_eq!(dec(0.5), bench_core::Decimal::new(5, 1));
}
