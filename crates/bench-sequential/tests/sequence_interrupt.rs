//! An interrupt stops the sequence and marks the report incomplete (its own test binary: the
//! interrupt flag is process-wide).

mod common;

use bench_sequential::*;
use bench_threshold::OptimizationConfig;
use bench_workloads::LadderStep;
use common::*;

#[test]
fn an_interrupt_stops_the_sequence_and_marks_it_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path(), 4);
    bench_profile::request_interrupt();
    let t = OptimizationConfig::create_default().fallback().clone();
    let c = SequenceConfig { goal_improvement_percent: 40.into(), stop_on_goal: true, verify_final: true };
    let r = evaluate_optimization_sequence(&[step(LadderStep::BatchInit)], &base(), &t, &c, &mut h);
    bench_profile::clear_interrupt();
    assert_eq!(r.stop_reason, StopReason::Interrupted);
    assert!(!r.complete);
    assert!(r.steps.is_empty());
    assert_eq!(r.not_evaluated, vec!["batch-init".to_string()]);
}
