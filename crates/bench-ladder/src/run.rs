//! A ladder run made ready in one call: the workload prepared (on rayon or Ray), the harness
//! over it, the threshold with its overrides, the sampling design checked, and where results go.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bench_core::{ErrorClass, Workload};
use bench_optimizations::{
    AaCalibration, Design, DesignError, DesignRequest, ExpectedTime, SequenceConfig, SequenceReport,
    calibrate_aa, evaluate_optimization_sequence,
};
use bench_report::{
    Calibration, PerformanceFiles, ReportError, ReportMeta, aa_json, write_performance_report,
};
use bench_threshold::{
    OptimizationConfig, PerformanceThreshold, Preset, Rule, ThresholdError, ThresholdOverrides,
};
use bench_workloads::{
    Bundle, DataError, DataSource, LadderEvaluation, PreparedWorkload, RayBackend, WorkloadError,
    WorkloadSpec,
};
use rust_decimal::Decimal;

use crate::{LadderHarness, ladder_harness, ladder_optimizations, ladder_threshold};

/// Parameter combinations per asset on derived data when none are asked for.
pub const DERIVED_COMBINATIONS: usize = 100;
/// The fewest bars per derived asset a ladder run accepts (the slowest SMA needs a history).
pub const MIN_DERIVED_BARS: usize = 300;

/// Where the workload of a ladder run executes.
#[derive(Debug, Clone)]
pub enum Backend {
    /// This process's rayon threads.
    Rayon,
    /// Tasks on a Ray cluster, `chunk` combinations per task (default: about 4 tasks per CPU
    /// per asset).
    Ray {
        /// The cluster and its Python driver.
        backend: RayBackend,
        /// Combinations per task.
        chunk: Option<usize>,
    },
}

impl Backend {
    /// Ray with `chunk` combinations per task when `ray` is given, else rayon.
    pub fn of(ray: Option<RayBackend>, chunk: Option<usize>) -> Self {
        ray.map_or(Self::Rayon, |backend| Self::Ray { backend, chunk })
    }
}

/// Everything a ladder run needs to know before it starts.
#[derive(Debug, Clone)]
pub struct LadderOptions {
    /// Workflow, data, combinations and worker threads.
    pub spec: WorkloadSpec,
    /// rayon or Ray.
    pub backend: Backend,
    /// The threshold preset.
    pub preset: Preset,
    /// Threshold fields overridden (by the command line, a settings file, …).
    pub overrides: ThresholdOverrides,
    /// Who overrode them, for error messages ("the command line").
    pub overridden_by: String,
    /// How each comparison samples.
    pub sampling: DesignRequest,
    /// Raw data goes here (`raw_data/` below it).
    pub profiling_dir: PathBuf,
    /// Reports (and this machine's calibration, read for the expected time) are here.
    pub benchmark_dir: PathBuf,
    /// Appended to the run ids of the raw data, unique per process (a timestamp and pid).
    pub stamp: String,
}

/// A ladder run ready to evaluate or calibrate.
pub struct LadderRun {
    /// The workload timed.
    pub main: PreparedWorkload,
    /// Compares stacks of the ladder on it.
    pub harness: LadderHarness,
    /// The threshold (preset, overrides applied).
    pub threshold: PerformanceThreshold,
    /// Fixed or adaptive.
    pub design: Design,
    /// `grid_search_bundled` and the like: names the report files.
    pub name: String,
    /// `grid search on real data` and the like: titles the reports.
    pub title: String,
    /// The workload characteristics a report records.
    pub workload: Workload,
    /// Raw data goes below this.
    pub profiling_dir: PathBuf,
    /// Reports go here.
    pub benchmark_dir: PathBuf,
    /// This machine's calibration, when `benchmark_dir` holds one.
    pub calibration: Option<Calibration>,
    /// What a person must know about who can reach the Ray it runs on, if anything.
    pub ray_warning: Option<String>,
    /// Holds the workload's bundle files: dropped with the run.
    _scratch: tempfile::TempDir,
}

impl LadderRun {
    /// Loads the bundled data, prepares the workload and its equivalence cases in a scratch
    /// folder (joining or starting Ray when asked), and sets up the harness, threshold and
    /// design. `status` hears what is being done, for a spinner.
    pub fn prepare(options: &LadderOptions, status: &mut dyn FnMut(&str)) -> Result<Self, LadderError> {
        let spec = &options.spec;
        let derived = matches!(spec.data, DataSource::Derived { .. });
        if let DataSource::Derived { assets, bars, .. } = spec.data
            && (bars < MIN_DERIVED_BARS || assets == 0)
        {
            return Err(LadderError::Options(format!(
                "--bars {bars} / --assets {assets}: derived data needs at least {MIN_DERIVED_BARS} bars and 1 asset"
            )));
        }
        if spec.combinations == Some(0) {
            return Err(LadderError::Options("--combinations must be at least 1".into()));
        }
        if matches!(options.backend, Backend::Ray { .. }) && spec.kind == bench_workloads::WorkflowKind::Bohb
        {
            return Err(LadderError::Options(
                "--backend ray runs grid-search and walk-forward; the bohb workflow runs in this process"
                    .into(),
            ));
        }
        status("preparing the workload");
        let real: Bundle = bench_workloads::load_data(None)?;
        let spec = WorkloadSpec {
            combinations: spec.combinations.or(derived.then_some(DERIVED_COMBINATIONS)),
            ..spec.clone()
        };
        let scratch =
            tempfile::Builder::new().prefix("bench-evaluate-").tempdir().map_err(LadderError::Scratch)?;
        let mut evaluation = LadderEvaluation::prepare(&spec, &real, scratch.path())?;
        let mut ray_warning = None;
        if let Backend::Ray { backend, chunk } = &options.backend {
            status("starting or joining the Ray cluster");
            let session = backend.start(scratch.path())?;
            ray_warning = session.reach_warning();
            let session = Arc::new(Mutex::new(session));
            evaluation = evaluation.on_ray(session, *chunk)?;
        }
        let config = OptimizationConfig::from_preset(options.preset);
        let threshold = ladder_threshold(&config, &evaluation.main)
            .with_overrides(&options.overrides, &options.overridden_by)?;
        let (pairs, design) = options.sampling.resolve(&threshold)?;
        let on_ray = matches!(options.backend, Backend::Ray { .. });
        // A Ray run measures differently (no per-process memory): its report is its own, never
        // the rayon run's under the same name.
        let name = format!(
            "{}_{}{}",
            spec.kind.workflow_type(),
            if derived { "derived" } else { "bundled" },
            if on_ray { "_ray" } else { "" }
        );
        let (main, harness) = ladder_harness(
            evaluation,
            pairs,
            options.profiling_dir.clone(),
            &format!("{name}_{}", options.stamp),
        );
        Ok(Self {
            workload: harness.workload,
            main,
            harness,
            threshold,
            design,
            title: format!(
                "{} on {} data{}",
                spec.kind.cli_name().replace('-', " "),
                if derived { "derived" } else { "real" },
                if on_ray {
                    ", on Ray (memory not measured: the memory criterion does not count)"
                } else {
                    ""
                }
            ),
            name,
            profiling_dir: options.profiling_dir.clone(),
            benchmark_dir: options.benchmark_dir.clone(),
            calibration: Calibration::read(&options.benchmark_dir),
            ray_warning,
            _scratch: scratch,
        })
    }

    /// Where a comparison usually stops on this machine, from its calibration for `preset`.
    pub fn typical_pairs(&self, preset: Preset) -> Option<f64> {
        self.calibration.as_ref().and_then(|c| c.expected_pairs(preset))
    }

    /// One line that states the decision rule, the memory limit and the sampling, e.g.
    /// "threshold for grid_search/small (default preset, strict rule): the 95% lower bound of
    /// the improvement of mean time ≥ 5%, memory ≤ 10% (or < 1 MiB), adaptive: 10 to 400 pairs
    /// or 60s per comparison".
    pub fn threshold_line(&self, preset: Preset) -> String {
        let t = &self.threshold;
        let rule = match t.rule {
            Rule::Strict => format!(
                "the {}% lower bound of the improvement of mean time ≥ {}%",
                (t.statistical_confidence * rust_decimal::Decimal::ONE_HUNDRED).normalize(),
                t.min_improvement_percent
            ),
            Rule::Classic => format!("improvement ≥ {}% and p < {}", t.min_improvement_percent, t.alpha()),
        };
        let sampling = match self.design {
            Design::Fixed => format!("{} pairs per comparison", self.harness.pairs),
            Design::Adaptive(p) => format!(
                "adaptive: {} to {} pairs or {} per comparison",
                p.min_pairs,
                p.max_pairs,
                bench_core::units::duration_short(p.max_seconds)
            ),
        };
        format!(
            "threshold for {} ({preset} preset, {} rule): {rule}, memory ≤ {}% (or < {}), {sampling}",
            t.applies_to(),
            t.rule.as_str(),
            t.max_memory_increase_percent,
            bench_core::units::bytes(t.memory_floor_bytes),
        )
    }

    /// What the run will do, in lines for a person before it starts: the workload, the
    /// threshold, Ray's caveat, the calibration's typical pairs. `doing` heads the first
    /// ("Evaluating", "Calibrating on").
    pub fn plan_lines(&self, doing: &str, preset: Preset) -> Vec<String> {
        let mut lines = vec![format!("{doing} {}", self.main.describe()), self.threshold_line(preset)];
        if self.main.runs_on_ray() {
            lines.push(
                format!(
                    "warning: on Ray the verdicts can differ from a rayon run's: times include Ray's scheduling, and memory is not measured (the backtests allocate in the Ray workers), so the memory criterion does not count — a step rejected for its memory here may be accepted; the report is {}_report.md",
                    self.name
                ),
            );
        }
        lines.extend(self.ray_warning.clone());
        if let (Some(c), Design::Adaptive(p), Some(typical)) =
            (&self.calibration, self.design, self.typical_pairs(preset))
        {
            lines.push(format!(
                "calibration of {} ({}): about {typical:.0} pairs per comparison on its noise; each comparison takes at most {}",
                c.implementation,
                c.generated,
                bench_core::units::duration(p.max_seconds)
            ));
        }
        lines
    }

    /// The time `comparisons` comparisons should take, planned from one timed run of the
    /// baseline stack and this machine's calibration.
    pub fn expected_time(&self, preset: Preset, comparisons: usize) -> ExpectedTime {
        let run_seconds = self.time_one_run(bench_workloads::Optimizations::default());
        self.design.expected_time(run_seconds, comparisons, self.harness.pairs, self.typical_pairs(preset))
    }

    /// Every step of the ladder evaluated in order against `goal_percent` (stopping there
    /// unless `continue_after_goal`), then the direct check of the baseline against the final stack.
    pub fn evaluate(&mut self, goal_percent: Decimal, continue_after_goal: bool) -> SequenceReport {
        let sequence = SequenceConfig {
            goal_improvement_percent: goal_percent,
            stop_on_goal: !continue_after_goal,
            verify_final: true,
            design: self.design,
        };
        let baseline = bench_workloads::Optimizations::default();
        evaluate_optimization_sequence(
            &ladder_optimizations(),
            &baseline,
            &self.threshold,
            &sequence,
            &mut self.harness,
        )
    }

    /// Writes the report of `report` (Markdown, JSON, BMF, charts) into the benchmark folder;
    /// `command` reproduces the run.
    pub fn write_report(
        &self,
        report: &SequenceReport,
        preset: Preset,
        command: &str,
    ) -> Result<(PerformanceFiles, ReportMeta), LadderError> {
        let meta = ReportMeta {
            name: bench_core::RunId::sanitized(&self.name).to_string(),
            title: self.title.clone(),
            command: command.to_owned(),
            generated: bench_measure::sys::now_rfc3339(),
            workload_description: self.main.describe(),
            workload: self.workload,
            preset: preset.to_string(),
            environment: report.environment.clone(),
        };
        // The flame graphs `profile` drew of this workflow, linked from the HTML report.
        let flames = self.profiling_dir.join("flame_graphs");
        let workflow = self.main.spec.kind.workflow_type();
        let mut flame_graphs: Vec<PathBuf> =
            std::fs::read_dir(&flames).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        flame_graphs
            .retain(|p| p.extension().is_some_and(|e| e == "svg") && p.to_string_lossy().contains(workflow));
        flame_graphs.sort();
        let files =
            write_performance_report(report, &meta, &self.benchmark_dir, &flame_graphs).map_err(Box::new)?;
        Ok((files, meta))
    }

    /// `stack` compared with itself `n` times; the calibration is written to
    /// `<name>_aa.json` in the benchmark folder, whose path is returned with it.
    pub fn calibrate_aa(
        &mut self,
        stack: bench_workloads::Optimizations,
        n: usize,
    ) -> Result<(AaCalibration, serde_json::Value, PathBuf), LadderError> {
        let cal = calibrate_aa(&mut self.harness, &stack, &self.threshold, self.design, n, &mut |_, _| {})
            .map_err(|e| Box::new(ReportError::from(e)))?;
        let doc = aa_json(&cal, &self.main.describe());
        let path = self.benchmark_dir.join(format!("{}_aa.json", self.name));
        let text =
            serde_json::to_string_pretty(&doc).map_err(|e| Box::new(ReportError::Input(e.to_string())))?;
        bench_core::write_atomic(&path, format!("{text}\n").as_bytes())
            .map_err(|e| Box::new(ReportError::Io { path: path.clone(), message: e.to_string() }))?;
        Ok((cal, doc, path))
    }

    /// This machine's noise on the workload at `stack`: a noise suite of `noise_pairs` pairs and
    /// `comparisons` A/A comparisons (their first looks planned against an hour unless
    /// `confirmed`), written as the calibration file of the benchmark folder, whose path is
    /// returned with it.
    pub fn calibrate(
        &mut self,
        stack: bench_workloads::Optimizations,
        noise_pairs: usize,
        comparisons: usize,
        confirmed: bool,
    ) -> Result<(Calibration, PathBuf), LadderError> {
        if noise_pairs < 4 || comparisons == 0 {
            return Err(LadderError::Options(
                "--noise-pairs must be at least 4 and --comparisons at least 1".into(),
            ));
        }
        let plan = match self.design {
            Design::Adaptive(p) => p,
            Design::Fixed => bench_threshold::AdaptivePlan::default_for(&self.threshold),
        };
        // The noise suite alone takes `noise_pairs` pairs, and every A/A comparison its first look.
        let seconds = self.time_one_run(stack);
        Design::Fixed
            .expected_time(seconds, 1, noise_pairs + comparisons * plan.min_pairs, None)
            .admit("the calibration", confirmed)?;
        bench_measure::stop_gracefully();
        let report = |e| LadderError::Report(Box::new(e));
        let cal = bench_report::calibrate(
            &mut self.harness,
            &stack,
            &self.main.describe(),
            &self.threshold,
            &plan,
            noise_pairs,
            comparisons,
            &bench_measure::sys::now_rfc3339(),
        )
        .map_err(report)?;
        let path = cal.write(&self.benchmark_dir).map_err(report)?;
        Ok((cal, path))
    }

    /// Seconds one run of the baseline stack takes (one timed run, for planning the time).
    pub fn time_one_run(&self, stack: bench_workloads::Optimizations) -> f64 {
        let t0 = std::time::Instant::now();
        std::hint::black_box(self.main.run_or_panic(stack));
        t0.elapsed().as_secs_f64()
    }
}

/// Why a ladder run could not be prepared.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LadderError {
    /// The options contradict each other or are out of range (input).
    #[error("{0}")]
    Options(String),
    /// The bundled data could not be read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The workload could not be prepared, or Ray could not be reached.
    #[error("cannot prepare the workload: {0}")]
    Workload(#[from] WorkloadError),
    /// A threshold override is out of range.
    #[error(transparent)]
    Threshold(#[from] ThresholdError),
    /// The sampling design asked for cannot be honoured.
    #[error(transparent)]
    Design(#[from] DesignError),
    /// The run would take longer than allowed (an hour without confirmation).
    #[error(transparent)]
    Limit(#[from] bench_core::limits::LimitError),
    /// A comparison, or the report of the run, failed.
    #[error(transparent)]
    Report(#[from] Box<ReportError>),
    /// A run under Callgrind failed, or Valgrind is missing.
    #[error(transparent)]
    Count(#[from] bench_command::CommandError),
    /// The scratch folder for the workload's bundle files could not be made (internal).
    #[error("cannot create a scratch folder for the workload: {0}")]
    Scratch(#[source] std::io::Error),
}

impl ErrorClass for LadderError {
    fn is_input_error(&self) -> bool {
        match self {
            LadderError::Options(_) => true,
            LadderError::Data(e) => e.is_input_error(),
            LadderError::Workload(e) => e.is_input_error(),
            LadderError::Threshold(e) => e.is_input_error(),
            LadderError::Design(e) => e.is_input_error(),
            LadderError::Limit(e) => e.is_input_error(),
            LadderError::Report(e) => e.is_input_error(),
            LadderError::Count(e) => e.is_input_error(),
            LadderError::Scratch(_) => false,
        }
    }
}
