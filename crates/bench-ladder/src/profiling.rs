//! The backtest workloads and the extended scenarios profiled, as `cargo xtask profile` does:
//! each workflow prepared and run through the profiling pipeline at one ladder step (compared
//! with the fastest step when it is not the fastest), each scenario set measured and drawn.

use std::path::{Path, PathBuf};

use bench_core::RunId;
use bench_report::{
    Comparison, PipelineOutput, ProfilePlan, Profilers, SamplerChoice, ScenarioOptions, ScenarioTable,
    profile_pipeline, run_scenarios,
};
use bench_workloads::{
    Bundle, DataSource, LadderStep, PreparedWorkload, RayBackend, WorkflowKind, WorkloadSpec,
};

use crate::{LadderError, batch_init_scenarios, bottleneck_rules, coordinator_scenarios, search_scenarios};

/// The extended scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Whole-batch initialisation against per-backtest set-up.
    BatchInit,
    /// The coordinator: worker counts, per-task overhead, break-even task size.
    ParallelCoordinator,
    /// Grid, random, Hyperband and BOHB on the same budget.
    SearchMethods,
}

/// What `profile` runs: one workflow, one extended scenario, or all of them.
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileTarget {
    /// Grid search on the bundled data.
    GridSearch,
    /// Walk-forward on the bundled data.
    WalkForward,
    /// BOHB parameter search on the bundled data.
    Bohb,
    /// Extended scenario: batch initialisation across bundle sizes (10/50/100/500 derived assets).
    BatchInit,
    /// Extended scenario: the parallel coordinator across worker counts (1/2/4/8/16).
    ParallelCoordinator,
    /// Extended scenario: BOHB vs Hyperband vs random search vs the grid at a tenth of its cost.
    SearchMethods,
    /// All of them.
    All,
}

impl ProfileTarget {
    /// The workflows and scenarios of `target`; `None` (no choice made): grid search and
    /// walk-forward.
    ///
    /// ```
    /// use bench_ladder::{ProfileTarget, Scenario};
    /// assert_eq!(ProfileTarget::selection(None).0.len(), 2);
    /// assert_eq!(ProfileTarget::selection(Some(ProfileTarget::BatchInit)), (vec![], vec![Scenario::BatchInit]));
    /// assert_eq!(ProfileTarget::selection(Some(ProfileTarget::All)).1.len(), 3);
    /// ```
    pub fn selection(target: Option<Self>) -> (Vec<WorkflowKind>, Vec<Scenario>) {
        let both = vec![WorkflowKind::GridSearch, WorkflowKind::WalkForward];
        let all = vec![Scenario::BatchInit, Scenario::ParallelCoordinator, Scenario::SearchMethods];
        match target {
            None => (both, vec![]),
            Some(Self::All) => ([both, vec![WorkflowKind::Bohb]].concat(), all),
            Some(Self::GridSearch) => (vec![WorkflowKind::GridSearch], vec![]),
            Some(Self::WalkForward) => (vec![WorkflowKind::WalkForward], vec![]),
            Some(Self::Bohb) => (vec![WorkflowKind::Bohb], vec![]),
            Some(Self::BatchInit) => (vec![], vec![Scenario::BatchInit]),
            Some(Self::ParallelCoordinator) => (vec![], vec![Scenario::ParallelCoordinator]),
            Some(Self::SearchMethods) => (vec![], vec![Scenario::SearchMethods]),
        }
    }
}

/// What to profile, and how.
#[derive(Debug, Clone)]
pub struct WorkloadProfiles {
    /// Workflows run through the profiling pipeline.
    pub workflows: Vec<WorkflowKind>,
    /// Scenario sets measured after them.
    pub scenarios: Vec<Scenario>,
    /// The ladder step profiled.
    pub step: LadderStep,
    /// Parameter combinations per asset (`None`: the workflow's default).
    pub combinations: Option<usize>,
    /// Worker threads.
    pub workers: usize,
    /// Prefixes every output name when given.
    pub run_id: Option<RunId>,
    /// Which profilers run.
    pub profilers: Profilers,
    /// The function whose line timings are taken (`None`: the rules' first probed function).
    pub lines_function: Option<String>,
    /// CPU sampling rate, Hz (1 to 100,000).
    pub cpu_frequency_hz: i32,
    /// Which CPU sampler.
    pub cpu_sampler: SamplerChoice,
    /// Least CPU time profiled per workflow, seconds (above 0, at most 600).
    pub min_cpu_seconds: f64,
    /// Where source paths of line timings are resolved.
    pub source_root: PathBuf,
    /// Keep the thread pool's and runtime's frames in the flame graphs.
    pub keep_runtime_frames: bool,
    /// Backtests per scenario case.
    pub scenario_backtests: usize,
    /// Measure the coordinator scenario on Ray too.
    pub ray: Option<RayBackend>,
}

impl WorkloadProfiles {
    /// Profiles every workflow, then measures every scenario set, on `real` data; profiles go to
    /// `profiles_dir`, bottleneck reports to `reports_dir`; `say` hears what is being done.
    pub fn run(
        &self,
        real: &Bundle,
        profiles_dir: &Path,
        reports_dir: &Path,
        say: &dyn Fn(&str),
    ) -> Result<(Vec<PipelineOutput>, Vec<ScenarioTable>), LadderError> {
        if !(self.min_cpu_seconds > 0.0 && self.min_cpu_seconds <= 600.0) {
            return Err(LadderError::Options(format!(
                "--min-seconds {}: expected more than 0 and at most 600",
                self.min_cpu_seconds
            )));
        }
        if !(1..=100_000).contains(&self.cpu_frequency_hz) {
            return Err(LadderError::Options(format!(
                "--frequency {}: expected 1 to 100000 Hz",
                self.cpu_frequency_hz
            )));
        }
        if self.combinations == Some(0) || self.scenario_backtests == 0 {
            return Err(LadderError::Options(
                "--combinations and --scenario-backtests must be at least 1".into(),
            ));
        }
        let report = |e| LadderError::Report(Box::new(e));
        let tmp =
            tempfile::Builder::new().prefix("bench-profile-").tempdir().map_err(LadderError::Scratch)?;
        let rules = bottleneck_rules();
        let mut outputs = Vec::new();
        for &kind in &self.workflows {
            let spec = WorkloadSpec {
                kind,
                data: DataSource::Bundled,
                combinations: self.combinations,
                workers: self.workers,
            };
            let file = tmp.path().join(format!("{}.bin", kind.cli_name()));
            let workload = PreparedWorkload::prepare(&spec, real, &file)?;
            let stem = |step: LadderStep| {
                let s = format!("{}_{}", kind.workflow_type(), step.name());
                RunId::sanitized(&self.run_id.as_ref().map_or(s.clone(), |id| format!("{id}_{s}")))
            };
            let (step, fastest) = (self.step, LadderStep::fastest());
            let run = || drop(std::hint::black_box(workload.run_or_panic(step.optimizations())));
            let run_fastest = || drop(std::hint::black_box(workload.run_or_panic(fastest.optimizations())));
            let plan = ProfilePlan {
                compare_with: (step != fastest).then(|| Comparison {
                    name: stem(fastest),
                    label: fastest.name().into(),
                    run: &run_fastest,
                }),
                profilers: self.profilers,
                lines_function: self.lines_function.clone(),
                cpu_frequency_hz: self.cpu_frequency_hz,
                cpu_sampler: self.cpu_sampler,
                min_cpu_seconds: self.min_cpu_seconds,
                source_root: self.source_root.clone(),
                keep_runtime_frames: self.keep_runtime_frames,
                ..ProfilePlan::new(stem(step), &workload.describe(), step.name(), &run, &rules)
            };
            outputs.push(profile_pipeline(&plan, profiles_dir, reports_dir, say).map_err(report)?);
        }
        let options = ScenarioOptions {
            cpu_frequency_hz: self.cpu_frequency_hz,
            cpu_sampler: self.cpu_sampler,
            min_flame_seconds: self.min_cpu_seconds.min(0.5),
            ..ScenarioOptions::default()
        };
        let mut tables = Vec::new();
        for &scenario in &self.scenarios {
            let set = match scenario {
                Scenario::BatchInit => {
                    batch_init_scenarios(real, self.workers, self.scenario_backtests, tmp.path())?
                }
                Scenario::SearchMethods => search_scenarios(real, self.workers, 10)?,
                Scenario::ParallelCoordinator => coordinator_scenarios(real, self.scenario_backtests)?,
            };
            let mut table = run_scenarios(&set, &options, profiles_dir, say).map_err(report)?;
            if let (Some(ray), Scenario::ParallelCoordinator) = (&self.ray, scenario) {
                say("parallel_coordinator: the same on Ray (a local instance per worker count)");
                let doc = ray.coordinator(&crate::WORKER_COUNTS, self.scenario_backtests, tmp.path())?;
                table.ray = Some(serde_json::from_value(doc).map_err(|e| {
                    LadderError::Workload(bench_workloads::WorkloadError::Backend(format!(
                        "the Ray coordinator measurement's JSON: {e}"
                    )))
                })?);
            }
            tables.push(table);
        }
        Ok((outputs, tables))
    }
}
