//! One decision on two implementations of the same work: benchmarked interleaved in randomised
//! ABBA pairs — adaptively, until the answer is clear — and judged on the four criteria: the
//! whole method for a single optimization.

use std::path::{Path, PathBuf};

use bench_core::Workload;
use bench_measure::{
    DEFAULT_WARMUP_RUNS, MeasureError, PairedConfig, PairedOutcome, SuiteConfig, run_paired_suite_until,
};
use bench_threshold::{AdaptivePlan, Evaluation, OptimizationConfig, PerformanceThreshold};

use crate::sampling::{Design, EvaluationError, Sampling};

/// How [`evaluate_pair`] measures.
#[derive(Debug, Clone, PartialEq)]
pub struct PairOptions {
    /// Name of the comparison (run ids, raw data).
    pub name: String,
    /// The decision's criteria.
    pub threshold: PerformanceThreshold,
    /// Pairs of runs of the fixed design (default: the threshold's minimum sample size).
    pub pairs: usize,
    /// Adaptive (default: until an anytime-valid confidence sequence decides, within a budget)
    /// or fixed.
    pub design: Design,
    /// Untimed warm-up runs per side.
    pub warmup_runs: usize,
    /// Seed of the ABBA schedule.
    pub seed: u64,
    /// Directory that receives `raw_data/`.
    pub output_dir: PathBuf,
}

impl PairOptions {
    /// Options with the default thresholds (the default preset's fallback: 5% improvement shown
    /// at 95% confidence), the adaptive design and its default budget, the default warm-up and
    /// seed.
    pub fn new(name: &str, output_dir: &Path) -> Self {
        Self::with_threshold(name, OptimizationConfig::create_default().fallback().clone(), output_dir)
    }

    /// Options deciding against `threshold` (adaptive, as [`PairOptions::new`]).
    pub fn with_threshold(name: &str, threshold: PerformanceThreshold, output_dir: &Path) -> Self {
        Self {
            name: name.to_owned(),
            pairs: threshold.min_sample_size,
            design: Design::Adaptive(AdaptivePlan::default_for(&threshold)),
            threshold,
            warmup_runs: DEFAULT_WARMUP_RUNS,
            seed: 0x5EED,
            output_dir: output_dir.to_path_buf(),
        }
    }
}

/// The runs of both sides and the decision.
#[derive(Debug, Clone, PartialEq)]
pub struct PairEvaluation {
    /// Both sides' raw data and the schedule that was run.
    pub outcome: PairedOutcome,
    /// The decision.
    pub evaluation: Evaluation,
}

/// Runs `baseline` and `candidate` interleaved in ABBA pairs, writes both sides' raw data,
/// and decides whether the candidate is accepted under `options.threshold`.
///
/// ```
/// use bench_optimizations::{PairOptions, evaluate_pair};
/// use bench_threshold::Verdict;
/// let dir = tempfile::tempdir().unwrap();
/// let work = |n: u64| (0..n).map(|i| (i as f64).sqrt()).sum::<f64>();
/// let e = evaluate_pair(|| work(2_000_000), || work(1_000_000), &PairOptions::new("halve", dir.path())).unwrap();
/// assert_eq!(e.evaluation.verdict, Verdict::Accepted);
/// ```
pub fn evaluate_pair<A, B>(
    baseline: impl FnMut() -> A,
    candidate: impl FnMut() -> B,
    options: &PairOptions,
) -> Result<PairEvaluation, EvaluationError> {
    let side = |role: &str| -> Result<SuiteConfig, MeasureError> {
        Ok(SuiteConfig {
            warmup_runs: options.warmup_runs,
            ..SuiteConfig::new(options.pairs, role, &options.name, Workload::default(), &options.output_dir)?
        })
    };
    let sampling = Sampling::new(options.design, &options.threshold);
    let config = PairedConfig {
        pairs: sampling.max_pairs(options.pairs),
        seed: options.seed,
        baseline: side("baseline")?,
        candidate: side("candidate")?,
    };
    let outcome = run_paired_suite_until(
        baseline,
        candidate,
        &config,
        sampling.max_seconds(),
        &mut |b, c| sampling.decided(b, c),
        &mut |_, _| {},
    )?;
    let evaluation = sampling.evaluate(&outcome)?;
    Ok(PairEvaluation { outcome, evaluation })
}
