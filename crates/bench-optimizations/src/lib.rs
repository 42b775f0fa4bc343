//! The functional-equivalence gate and the evaluation of a sequence of optimizations.
//!
//! - [`test_functional_equivalence`]: compares a candidate's results with the baseline's on
//!   test cases in scalar, array (element-wise, NaN equals NaN) or record (named fields) mode;
//!   BLOCKING — a difference is a typed [`EquivalenceError`] naming the case, the index or
//!   field, both values and the difference.
//! - [`evaluate_optimization_sequence`]: for each optimization in priority order, the gate,
//!   then a paired interleaved benchmark of the accepted stack against the stack plus the
//!   candidate, then the threshold decision; stops at the goal, after all, or on diminishing
//!   returns; cumulative improvement is multiplicative over accepted steps and checked by a
//!   direct run of the original baseline against the final stack;
//! - [`evaluate_pair`]: one decision on two implementations of the same work, interleaved;
//! - [`calibrate_aa`]: an implementation against itself, many times — how often noise is
//!   accepted here.
//!
//! ```
//! use bench_measure::{run_paired_suite, PairedConfig, SuiteConfig};
//! use bench_optimizations::*;
//! use bench_threshold::OptimizationConfig;
//!
//! // The "stack" is a work divisor; the workload sums `N / divisor` square roots.
//! fn work(divisor: u64) -> f64 {
//!     (0..4_000_000 / divisor).map(|i| (i as f64).sqrt()).sum()
//! }
//! struct Harness(tempfile::TempDir);
//! impl SequenceHarness<u64> for Harness {
//!     fn check_equivalence(&mut self, _: &u64, _: &u64) -> Result<EquivalenceReport, EquivalenceError> {
//!         // A real harness compares results; this toy has nothing to compare but a constant.
//!         test_functional_equivalence(|_: &()| Value::Scalar(1.0), |_: &()| Value::Scalar(1.0),
//!                                     &[("unit".into(), ())], 1e-10, ComparisonMode::Scalar)
//!     }
//!     fn benchmark(&mut self, a: &u64, b: &u64, label: &str, _: &Sampling<'_>) -> Result<bench_measure::PairedOutcome, bench_measure::MeasureError> {
//!         let cfg = |name: &str| SuiteConfig::new(0, name, "toy", Default::default(), self.0.path()).unwrap();
//!         let config = PairedConfig { pairs: 10, seed: 1, baseline: cfg(&format!("{label}-a")), candidate: cfg(&format!("{label}-b")) };
//!         let (a, b) = (*a, *b);
//!         run_paired_suite(move || work(a), move || work(b), &config, &mut |_, _| {})
//!     }
//!     fn describe(&self, s: &u64) -> String { format!("divisor {s}") }
//! }
//! let halve = Optimization { name: "halve".into(), description: "half the work".into(), apply: Box::new(|s: &u64| s * 2) };
//! let threshold = OptimizationConfig::create_default().fallback().clone();
//! let config = SequenceConfig { goal_improvement_percent: 40.into(), stop_on_goal: true, verify_final: false, design: Design::Fixed };
//! let report = evaluate_optimization_sequence(&[halve], &1, &threshold, &config, &mut Harness(tempfile::tempdir().unwrap()));
//! assert_eq!(report.steps[0].decision, Decision::Accepted);
//! assert_eq!(report.stop_reason, StopReason::GoalReached);
//! ```

mod aa;
mod equivalence;
mod harness;
mod pair;
mod sampling;
mod sequence;

pub use aa::{AaCalibration, AaRow, calibrate_aa};

pub use equivalence::{
    ComparisonMode, EquivalenceError, EquivalenceReport, Value, test_functional_equivalence,
};
pub use harness::{ProgressFn, ResultsFn, WorkloadHarness};
pub use pair::{PairEvaluation, PairOptions, evaluate_pair};
pub use sampling::{Design, DesignError, DesignKind, DesignRequest, EvaluationError, ExpectedTime, Sampling};
pub use sequence::{
    Decision, DirectCheck, GateResult, Optimization, SequenceConfig, SequenceHarness, SequenceReport,
    StepRecord, StopReason, dec, evaluate_optimization_sequence,
};
