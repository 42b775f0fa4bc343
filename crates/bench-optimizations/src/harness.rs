//! [`WorkloadHarness`]: a [`SequenceHarness`] built from closures — how to get a stack's
//! results on the equivalence cases, and how to run the workload once with a stack.

use std::path::PathBuf;

use bench_core::{RunId, Workload};
use bench_measure::{MeasureError, PairedConfig, PairedOutcome, SuiteConfig, run_paired_suite_until};

use crate::equivalence::{
    ComparisonMode, EquivalenceError, EquivalenceReport, Value, test_functional_equivalence,
};
use crate::sampling::Sampling;
use crate::sequence::SequenceHarness;

/// Called with (label, pairs done, pairs total) while a paired benchmark runs.
pub type ProgressFn = Box<dyn FnMut(&str, usize, usize)>;

/// A stack's results on an equivalence case.
pub type ResultsFn<S, C> = Box<dyn Fn(&S, &C) -> Value>;

/// A harness for a workload whose stacks are values of `S` and whose equivalence cases are
/// values of `C`.
pub struct WorkloadHarness<S, C> {
    /// Named equivalence cases.
    pub cases: Vec<(String, C)>,
    /// A stack's results on a case.
    pub results: ResultsFn<S, C>,
    /// One run of the workload with a stack (what is timed).
    pub run: Box<dyn Fn(&S)>,
    /// A stack's description.
    pub describe: Box<dyn Fn(&S) -> String>,
    /// Equivalence tolerance.
    pub tolerance: f64,
    /// Equivalence mode.
    pub mode: ComparisonMode,
    /// Pairs per benchmark.
    pub pairs: usize,
    /// Warm-up runs per side.
    pub warmup_runs: usize,
    /// Seed of the ABBA schedules (each benchmark adds its ordinal).
    pub seed: u64,
    /// Directory that receives `raw_data/`.
    pub output_dir: PathBuf,
    /// Prefix of run ids, e.g. `grid_search_bundled_20261125T101500`.
    pub run_prefix: String,
    /// Workflow type recorded in raw data.
    pub workflow_type: String,
    /// Workload characteristics recorded in raw data.
    pub workload: Workload,
    /// Progress callback.
    pub progress: Option<ProgressFn>,
    /// Measure memory (heap and resident set) per run — on by default; off when the work runs
    /// in other processes (Ray workers), so the memory criterion reports "not measured" instead
    /// of judging the coordinating process.
    pub measure_memory: bool,
    benchmarks_run: u64,
}

impl<S, C> WorkloadHarness<S, C> {
    /// A harness with no progress callback.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        cases: Vec<(String, C)>,
        results: ResultsFn<S, C>,
        run: Box<dyn Fn(&S)>,
        describe: Box<dyn Fn(&S) -> String>,
        pairs: usize,
        output_dir: PathBuf,
        run_prefix: &str,
        workflow_type: &str,
        workload: Workload,
    ) -> Self {
        Self {
            cases,
            results,
            run,
            describe,
            tolerance: 1e-10,
            mode: ComparisonMode::Record,
            pairs,
            warmup_runs: bench_measure::DEFAULT_WARMUP_RUNS,
            seed: 0x5EED,
            output_dir,
            run_prefix: run_prefix.to_owned(),
            workflow_type: workflow_type.to_owned(),
            workload,
            progress: None,
            measure_memory: true,
            benchmarks_run: 0,
        }
    }
}

impl<S, C> SequenceHarness<S> for WorkloadHarness<S, C> {
    fn check_equivalence(
        &mut self,
        accepted: &S,
        candidate: &S,
    ) -> Result<EquivalenceReport, EquivalenceError> {
        let results = &self.results;
        test_functional_equivalence(
            |c: &C| results(accepted, c),
            |c: &C| results(candidate, c),
            &self.cases,
            self.tolerance,
            self.mode,
        )
    }

    fn benchmark(
        &mut self,
        accepted: &S,
        candidate: &S,
        label: &str,
        sampling: &Sampling<'_>,
    ) -> Result<PairedOutcome, MeasureError> {
        let config = |side: &str, name: String| -> Result<SuiteConfig, MeasureError> {
            Ok(SuiteConfig {
                num_runs: self.pairs,
                warmup_runs: self.warmup_runs,
                configuration_name: name,
                workflow_type: self.workflow_type.clone(),
                workload: self.workload,
                output_dir: self.output_dir.clone(),
                run_id: RunId::sanitized(&format!("{}_{}_{side}", self.run_prefix, label)),
                measure_rss: self.measure_memory,
                measure_heap: self.measure_memory,
            })
        };
        let paired = PairedConfig {
            pairs: sampling.max_pairs(self.pairs),
            seed: self.seed.wrapping_add(self.benchmarks_run),
            baseline: config("baseline", (self.describe)(accepted))?,
            candidate: config("candidate", (self.describe)(candidate))?,
        };
        self.benchmarks_run += 1;
        let run = &self.run;
        let mut progress = self.progress.take();
        let out = run_paired_suite_until(
            || run(accepted),
            || run(candidate),
            &paired,
            sampling.max_seconds(),
            &mut |b, c| sampling.decided(b, c),
            &mut |done, total| {
                if let Some(p) = progress.as_mut() {
                    p(label, done, total);
                }
            },
        );
        self.progress = progress;
        out
    }

    fn describe(&self, stack: &S) -> String {
        (self.describe)(stack)
    }
}
