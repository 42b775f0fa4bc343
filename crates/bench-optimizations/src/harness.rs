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
    /// Equivalence mode; `None` (the default): the kind of the accepted stack's result on the
    /// first case.
    pub mode: Option<ComparisonMode>,
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
    /// A harness over `cases`, comparing what `results` gives and timing `run`, with raw data
    /// under `output_dir`. Defaults: the equivalence mode of the results' own kind, tolerance
    /// 1e-10, 10 pairs per benchmark, the default warm-up, run ids prefixed `run`, workflow
    /// `custom`, memory measured, stacks described as `implementation`; the methods below and
    /// the public fields change them.
    ///
    /// ```
    /// use bench_optimizations::{SequenceHarness, Value, WorkloadHarness};
    /// let dir = tempfile::tempdir().unwrap();
    /// // Stacks are divisors; a result is an array, so the gate compares arrays.
    /// let results = |s: &u64, c: &u64| Value::from(vec![(c * 2 / s) as f64]);
    /// let mut h = WorkloadHarness::new(vec![("four".into(), 4u64)], results, |_: &u64| {}, dir.path());
    /// assert_eq!(h.check_equivalence(&1, &1).unwrap().cases, 1);
    /// assert!(h.check_equivalence(&1, &2).is_err()); // 8 against 4
    /// ```
    pub fn new(
        cases: Vec<(String, C)>,
        results: impl Fn(&S, &C) -> Value + 'static,
        run: impl Fn(&S) + 'static,
        output_dir: impl Into<PathBuf>,
    ) -> Self {
        Self {
            cases,
            results: Box::new(results),
            run: Box::new(run),
            describe: Box::new(|_| "implementation".into()),
            tolerance: 1e-10,
            mode: None,
            pairs: 10,
            warmup_runs: bench_measure::DEFAULT_WARMUP_RUNS,
            seed: 0x5EED,
            output_dir: output_dir.into(),
            run_prefix: "run".into(),
            workflow_type: "custom".into(),
            workload: Workload::default(),
            progress: None,
            measure_memory: true,
            benchmarks_run: 0,
        }
    }

    /// How a stack is described in reports.
    pub fn describe(mut self, describe: impl Fn(&S) -> String + 'static) -> Self {
        self.describe = Box::new(describe);
        self
    }

    /// Pairs per benchmark (the fixed design's count, the adaptive design's first look).
    pub fn pairs(mut self, pairs: usize) -> Self {
        self.pairs = pairs;
        self
    }

    /// What the raw data records: run ids prefixed `run_prefix`, the workflow type and the
    /// workload's characteristics.
    pub fn recorded_as(mut self, run_prefix: &str, workflow_type: &str, workload: Workload) -> Self {
        self.run_prefix = run_prefix.to_owned();
        self.workflow_type = workflow_type.to_owned();
        self.workload = workload;
        self
    }
}

impl<S, C> SequenceHarness<S> for WorkloadHarness<S, C> {
    fn check_equivalence(
        &mut self,
        accepted: &S,
        candidate: &S,
    ) -> Result<EquivalenceReport, EquivalenceError> {
        let results = &self.results;
        let mode = self.mode.unwrap_or_else(|| {
            self.cases
                .first()
                .map_or(ComparisonMode::Record, |(_, c)| ComparisonMode::of(&results(accepted, c)))
        });
        test_functional_equivalence(
            |c: &C| results(accepted, c),
            |c: &C| results(candidate, c),
            &self.cases,
            self.tolerance,
            mode,
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
