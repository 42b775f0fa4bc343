//! A grid search, walk-forward or parameter search run the way a person runs one: its memory
//! checked and its time estimated (and refused past an hour unless confirmed) before it starts,
//! on this machine's threads or on Ray, reporting progress as it goes.
//!
//! ```
//! use bench_workloads::{load_data, param_grid, GridSpec, LadderStep, Objective, ParamRange, Sweep, SweepBackend};
//! let bundle = load_data(None).unwrap();
//! let spec = GridSpec {
//!     assets: bundle.select_assets(Some("GOOG")).unwrap(),
//!     params: param_grid(&ParamRange::new(10, 20, 10).unwrap(), &ParamRange::new(30, 40, 10).unwrap()),
//!     objective: Objective::FinalEquity,
//!     rules: bench_workloads::Rules::Exact,
//! };
//! let sweep = Sweep { step: LadderStep::fastest(), workers: 2, backend: SweepBackend::Local, confirmed: false };
//! let (result, summary) = sweep.grid(bundle, &spec, 1, &|_| {}).unwrap();
//! assert_eq!(result.combos.len(), 4);
//! assert_eq!(summary.backend, "rayon");
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::{
    Bundle, GridResult, GridSpec, GridSummary, LadderStep, RayBackend, SearchOutcome, SearchSpec,
    SweepTiming, TempEngine, WalkForwardResult, WalkForwardSpec, WalkForwardSummary, WorkloadError,
    default_grid_chunk, run_grid, run_search, run_walk_forward,
};

/// Where a sweep's backtests run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SweepBackend {
    /// This process's rayon pool.
    Local,
    /// Tasks on a Ray cluster; `chunk` combinations per task (`None`: sized from the grid and
    /// the workers).
    Ray {
        /// How to reach Ray.
        backend: RayBackend,
        /// Combinations per task.
        chunk: Option<usize>,
    },
}

impl SweepBackend {
    /// Ray with `chunk` combinations per task when `ray` is given, else this process's pool.
    pub fn of(ray: Option<RayBackend>, chunk: Option<usize>) -> Self {
        ray.map_or(Self::Local, |backend| Self::Ray { backend, chunk })
    }
}

/// What a running sweep reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SweepEvent<'a> {
    /// A preparation stage or a wait with no count (`measuring the rate`, starting Ray).
    Stage(&'a str),
    /// The work and its estimated time, once admitted: shown before the work starts.
    Plan {
        /// The work and the estimate in words.
        what: &'a str,
        /// The estimate, seconds.
        seconds: f64,
    },
    /// Something a person must know before trusting the run (shown, never hidden).
    Warning(&'a str),
    /// Backtests done of the total (bar evaluations of the budget, for a search), about five
    /// times a second while they run here.
    Backtests {
        /// Done so far.
        done: u64,
        /// In all.
        total: u64,
    },
}

/// How to run a sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sweep {
    /// The engine implementation.
    pub step: LadderStep,
    /// Threads of the local pool (and the worker count reported).
    pub workers: usize,
    /// Where the backtests run.
    pub backend: SweepBackend,
    /// Whether a job estimated past an hour may run.
    pub confirmed: bool,
}

/// Runs `work` while a thread reports `count()` of `total` five times a second.
fn follow<T: Send>(
    total: u64,
    count: impl Fn() -> u64 + Sync,
    progress: &(dyn Fn(SweepEvent<'_>) + Sync),
    work: impl FnOnce() -> T + Send,
) -> T {
    let finished = AtomicBool::new(false);
    std::thread::scope(|s| {
        let follower = s.spawn(|| {
            while !finished.load(Ordering::Acquire) {
                progress(SweepEvent::Backtests { done: count(), total });
                std::thread::park_timeout(Duration::from_millis(200));
            }
        });
        let out = work();
        finished.store(true, Ordering::Release);
        follower.thread().unpark(); // no waiting out the last 200 ms
        out
    })
}

impl Sweep {
    /// The grid search `spec` over `bundle`, timed `repeat` times (the result of the last).
    pub fn grid(
        &self,
        bundle: Bundle,
        spec: &GridSpec,
        repeat: usize,
        progress: &(dyn Fn(SweepEvent<'_>) + Sync),
    ) -> Result<(GridResult, GridSummary), WorkloadError> {
        if repeat == 0 {
            return Err(WorkloadError::InvalidParameter("a grid is timed at least once (repeat ≥ 1)".into()));
        }
        spec.check_memory(&bundle)?;
        let handle = TempEngine::new(bundle, self.workers)?;
        let engine = &handle.engine;
        let opts = self.step.optimizations();
        progress(SweepEvent::Stage("measuring the rate"));
        let mut estimate = spec.estimate(engine, opts)?;
        // The summary checks every pair's rules after the backtests: about one more pass.
        let check = crate::rules::rule_check_rate(engine.bundle(), spec.assets[0], &spec.params);
        estimate.rate_per_second = crate::grid::in_turn(estimate.rate_per_second, check);
        estimate.units *= repeat as f64;
        estimate.admit(self.confirmed)?;
        progress(SweepEvent::Plan {
            what: &format!("grid search, step {}: {}", self.step, estimate.describe()),
            seconds: estimate.seconds(),
        });
        let (result, sweep, workers) = match &self.backend {
            SweepBackend::Local => {
                let total = (spec.assets.len() * spec.params.len() * repeat) as u64;
                let base = engine.completed();
                let timing = follow(
                    total,
                    || engine.completed() - base,
                    progress,
                    || bench_measure::time_repeated(repeat, || run_grid(engine, spec, opts)),
                );
                let sweep = SweepTiming { repeats: repeat, median_s: timing.median_s, min_s: timing.min_s };
                (timing.output?, sweep, self.workers)
            }
            SweepBackend::Ray { backend, chunk } => {
                let chunk = chunk.unwrap_or_else(|| default_grid_chunk(spec.params.len(), self.workers));
                progress(SweepEvent::Stage(&format!(
                    "running {} pieces on Ray (starting or joining the cluster)",
                    spec.chunk_count(chunk)
                )));
                let mut session = backend.start(handle.dir())?;
                if let Some(w) = session.reach_warning() {
                    progress(SweepEvent::Warning(&w));
                }
                let (result, sweep) =
                    session.run_grid(spec, engine.bundle(), engine.bundle_path(), opts, chunk, repeat)?;
                (result, sweep, session.cluster_cpus.round().max(1.0) as usize)
            }
        };
        let mut summary = GridSummary::new(engine.bundle(), spec, self.step, workers, &result, sweep);
        if matches!(self.backend, SweepBackend::Ray { .. }) {
            summary.backend = "ray".into();
        }
        Ok((result, summary))
    }

    /// The walk-forward `spec` over `bundle`.
    pub fn walk_forward(
        &self,
        bundle: Bundle,
        spec: &WalkForwardSpec,
        progress: &(dyn Fn(SweepEvent<'_>) + Sync),
    ) -> Result<(WalkForwardResult, WalkForwardSummary), WorkloadError> {
        spec.check_memory(&bundle)?;
        let handle = TempEngine::new(bundle, self.workers)?;
        let engine = &handle.engine;
        let opts = self.step.optimizations();
        let mut estimate = spec.estimate(engine, opts)?;
        // The summary checks every window's pairs' rules (as many bars as the in-sample grid,
        // whoever chose the pair).
        let check = crate::rules::rule_check_rate(engine.bundle(), spec.assets[0], &spec.params);
        let seconds = estimate.seconds() + spec.work(engine.bundle()).2 as f64 / check.max(1e-300);
        estimate.rate_per_second = estimate.units / seconds.max(1e-12);
        estimate.admit(self.confirmed)?;
        progress(SweepEvent::Plan {
            what: &format!("walk-forward: {}", estimate.describe()),
            seconds: estimate.seconds(),
        });
        let (windows, backtests, _) = spec.work(engine.bundle());
        let result = match &self.backend {
            SweepBackend::Local => {
                let base = engine.completed();
                follow(
                    backtests as u64,
                    || engine.completed() - base,
                    progress,
                    || run_walk_forward(engine, spec, opts),
                )
            }
            SweepBackend::Ray { backend, .. } => {
                progress(SweepEvent::Stage(&format!(
                    "running {windows} windows on Ray (starting or joining the cluster)"
                )));
                let mut session = backend.start(handle.dir())?;
                if let Some(w) = session.reach_warning() {
                    progress(SweepEvent::Warning(&w));
                }
                session.run_walk_forward(spec, engine.bundle(), engine.bundle_path(), opts)
            }
        }?;
        let summary = WalkForwardSummary::new(engine.bundle(), spec, &result);
        Ok((result, summary))
    }

    /// The parameter search `spec` over `bundle` (here: a search runs in this process).
    pub fn search(
        &self,
        bundle: Bundle,
        spec: &SearchSpec,
        progress: &(dyn Fn(SweepEvent<'_>) + Sync),
    ) -> Result<SearchOutcome, WorkloadError> {
        if !matches!(self.backend, SweepBackend::Local) {
            return Err(WorkloadError::InvalidParameter("a parameter search runs in this process".into()));
        }
        let handle = TempEngine::new(bundle, self.workers)?;
        let opts = self.step.optimizations();
        let estimate = spec.estimate(&handle.engine, opts)?;
        estimate.admit(self.confirmed)?;
        progress(SweepEvent::Plan {
            what: &format!("{} search: {}", spec.method.name(), estimate.describe()),
            seconds: estimate.seconds(),
        });
        let base = handle.engine.bars_evaluated();
        follow(
            (estimate.units as u64).min(spec.plan.cost_limit),
            || handle.engine.bars_evaluated() - base,
            progress,
            || run_search(&handle.engine, spec, opts),
        )
    }
}
