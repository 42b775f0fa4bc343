//! The standard workloads that `cargo xtask profile` and `evaluate` measure: a grid search, a
//! walk-forward or a BOHB parameter search, on the bundled real data or on derived data.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use bench_core::Value;

use crate::WorkloadError;
use crate::bundle::Bundle;
use crate::derive::derive;
use crate::engine::Params;
use crate::grid::{GridResult, GridSpec, Objective, ParamRange, param_grid, run_grid};
use crate::ladder::Optimizations;
use crate::runner::Engine;
use crate::search::{ETA, MIN_FIDELITY, SearchOutcome, SearchSpec, run_search};
use crate::walkforward::{WalkForwardResult, WalkForwardSpec, WindowMode, run_walk_forward};

/// Which workflow.
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkflowKind {
    /// Grid search over (fast, slow) on every asset.
    GridSearch,
    /// Rolling walk-forward with an in-sample grid per window.
    WalkForward,
    /// BOHB parameter search over a large (fast, slow) space at a hundredth of the grid's cost.
    Bohb,
}

impl WorkflowKind {
    /// `grid_search` or `walk_forward`, as recorded in raw data and thresholds.
    pub fn workflow_type(self) -> &'static str {
        match self {
            Self::GridSearch => "grid_search",
            Self::WalkForward => "walk_forward",
            Self::Bohb => "bohb_search",
        }
    }

    /// `grid-search` or `walk-forward`, as typed on the command line.
    pub fn cli_name(self) -> &'static str {
        match self {
            Self::GridSearch => "grid-search",
            Self::WalkForward => "walk-forward",
            Self::Bohb => "bohb",
        }
    }
}

/// Which data a command line asks for (the derived data's sizes and seed given apart).
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    /// The bundled real data (5 US stocks, daily).
    Bundled,
    /// Derived data: a seeded block bootstrap of the real bars (see --bars, --assets, --seed).
    Derived,
}

impl DataSource {
    /// The source of `kind`; `assets`, `bars` and `seed` size the derived data.
    ///
    /// ```
    /// use bench_workloads::{DataKind, DataSource};
    /// assert_eq!(DataSource::of(DataKind::Bundled, 1, 100, 7), DataSource::Bundled);
    /// assert_eq!(DataSource::of(DataKind::Derived, 2, 100, 7), DataSource::Derived { assets: 2, bars: 100, seed: 7 });
    /// ```
    pub fn of(kind: DataKind, assets: usize, bars: usize, seed: u64) -> Self {
        match kind {
            DataKind::Bundled => Self::Bundled,
            DataKind::Derived => Self::Derived { assets, bars, seed },
        }
    }
}

/// Which backend a command line asks for: this process's threads, or a Ray cluster.
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// Worker threads in this process.
    Rayon,
    /// Tasks on a Ray cluster.
    Ray,
}

/// Where the bars come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataSource {
    /// The vendored real data.
    Bundled,
    /// Derived from it by the seeded block bootstrap.
    Derived {
        /// Assets generated.
        assets: usize,
        /// Bars per asset.
        bars: usize,
        /// Seed.
        seed: u64,
    },
}

/// A workload to prepare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadSpec {
    /// The workflow.
    pub kind: WorkflowKind,
    /// The data.
    pub data: DataSource,
    /// Parameter combinations per asset; `None` for the default grid.
    pub combinations: Option<usize>,
    /// Worker threads.
    pub workers: usize,
}

/// Most combinations [`combinations`] makes (its windows must stay within `u32`).
pub const MAX_COMBINATIONS: usize = 100_000_000;

/// `n` (fast < slow) combinations: fast 5, 10, … and slow windows above every fast one, taken
/// fast-major (for 100: fast 5..=50 step 5 × slow 55..=145 step 10). `n` is checked against
/// [`MAX_COMBINATIONS`] and the memory budget (with what a sweep keeps per backtest) first.
///
/// ```
/// let p = bench_workloads::combinations(100).unwrap();
/// assert_eq!((p.len(), p[0].fast, p[0].slow), (100, 5, 55));
/// assert!(bench_workloads::combinations(1 << 40).is_err());
/// ```
pub fn combinations(n: usize) -> Result<Vec<Params>, WorkloadError> {
    let (fast, slow) = combination_ranges(n)?;
    let mut v = param_grid(&fast, &slow);
    v.truncate(n);
    Ok(v)
}

/// The fast and slow ranges [`combinations`] takes `n` pairs from, after its checks.
fn combination_ranges(n: usize) -> Result<(ParamRange, ParamRange), WorkloadError> {
    if n > MAX_COMBINATIONS {
        return Err(WorkloadError::InvalidParameter(format!(
            "{} combinations: at most {} are made",
            bench_core::units::count(n as u64),
            bench_core::units::count(MAX_COMBINATIONS as u64)
        )));
    }
    bench_core::limits::memory_limit().check(
        &format!("{} combinations", bench_core::units::count(n as u64)),
        n as u128,
        crate::grid::bytes_per_backtest(),
    )?;
    let a = (n as f64).sqrt().ceil().max(1.0) as u32;
    let b = (n as u32).div_ceil(a).max(1);
    Ok((
        ParamRange { start: 5, end: 5 * a, step: 5 },
        ParamRange { start: 5 * a + 5, end: 5 * a + 5 + 10 * (b - 1), step: 10 },
    ))
}

/// Output of one workload run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum WorkloadOutput {
    /// A grid search.
    Grid(GridResult),
    /// A walk-forward.
    WalkForward(WalkForwardResult),
    /// A parameter search.
    Search(SearchOutcome),
}

impl WorkloadOutput {
    /// The results as a record for the functional-equivalence gate: every combination's (or
    /// window's) metrics, and the choice the workflow made from them.
    pub fn to_value(&self) -> Value {
        let metric_arrays = |ms: Vec<&crate::Metrics>| -> Vec<(String, Value)> {
            let array = |f: &dyn Fn(&crate::Metrics) -> f64| Value::Array(ms.iter().map(|m| f(m)).collect());
            vec![
                ("trades".into(), array(&|m| f64::from(m.trades))),
                ("final_equity".into(), array(&|m| m.final_equity)),
                ("total_return_percent".into(), array(&|m| m.total_return_percent)),
                ("max_drawdown_percent".into(), array(&|m| m.max_drawdown_percent)),
                ("sharpe_ratio".into(), array(&|m| m.sharpe_ratio)),
                ("sortino_ratio".into(), array(&|m| m.sortino_ratio)),
                ("exposure_percent".into(), array(&|m| m.exposure_percent)),
            ]
        };
        match self {
            Self::Grid(g) => {
                let mut fields = metric_arrays(g.combos.iter().map(|c| &c.metrics).collect());
                fields.push(("best_index".into(), Value::Scalar(g.best.map_or(f64::NAN, |b| b as f64))));
                Value::Record(fields)
            }
            Self::WalkForward(w) => {
                let mut fields = metric_arrays(w.windows.iter().map(|x| &x.out_of_sample).collect());
                let params = |f: fn(&crate::Params) -> u32| {
                    Value::Array(w.windows.iter().map(|x| f64::from(f(&x.params))).collect())
                };
                fields.push(("fast".into(), params(|p| p.fast)));
                fields.push(("slow".into(), params(|p| p.slow)));
                fields.push((
                    "stitched_equity".into(),
                    Value::Array(w.stitched.iter().flat_map(|c| c.equity.iter().copied()).collect()),
                ));
                fields.push(("efficiency".into(), Value::Scalar(w.efficiency.unwrap_or(f64::NAN))));
                fields.push(("parameter_stability".into(), Value::Scalar(w.parameter_stability)));
                Value::Record(fields)
            }
            Self::Search(r) => {
                let col =
                    |f: &dyn Fn(&bench_search::Trial) -> f64| Value::Array(r.trials.iter().map(f).collect());
                Value::Record(vec![
                    ("fast".into(), col(&|t| t.config[0] as f64)),
                    ("slow".into(), col(&|t| t.config[1] as f64)),
                    ("fidelity".into(), col(&|t| t.fidelity)),
                    ("objective".into(), col(&|t| t.score)),
                    ("best_objective".into(), Value::Scalar(r.best_objective.unwrap_or(f64::NAN))),
                    ("bar_evals".into(), Value::Scalar(r.bar_evals as f64)),
                ])
            }
        }
    }

    /// Bar evaluations the run made.
    pub fn bar_evaluations(&self) -> u64 {
        match self {
            Self::Grid(g) => g.bar_evaluations,
            Self::WalkForward(w) => w.bar_evaluations,
            Self::Search(r) => r.bar_evals,
        }
    }
}

/// A workload prepared for a sequential evaluation: the workload itself and the cases the
/// equivalence gate compares results on (the workload and a small derived one).
#[derive(Debug, Clone)]
pub struct LadderEvaluation {
    /// The workload that is timed.
    pub main: PreparedWorkload,
    /// Named equivalence cases.
    pub cases: Vec<(String, PreparedWorkload)>,
}

impl LadderEvaluation {
    /// Prepares `spec` and a small derived case of the same workflow (2 assets, 12
    /// combinations, seed 7), with their bundle files under `dir`.
    pub fn prepare(spec: &WorkloadSpec, real: &Bundle, dir: &Path) -> Result<Self, WorkloadError> {
        let main = PreparedWorkload::prepare(spec, real, &dir.join("workload.bin"))?;
        let small_spec = WorkloadSpec {
            kind: spec.kind,
            data: DataSource::Derived {
                assets: 2,
                bars: if spec.kind == WorkflowKind::WalkForward { 1400 } else { 900 },
                seed: 7,
            },
            combinations: Some(12),
            workers: spec.workers,
        };
        let small = PreparedWorkload::prepare(&small_spec, real, &dir.join("equivalence.bin"))?;
        let cases = vec![
            (format!("the workload ({})", main.describe()), main.clone()),
            ("derived 2 assets × small grid".to_owned(), small),
        ];
        Ok(Self { main, cases })
    }

    /// The same evaluation with the timed workload and every equivalence case run on Ray
    /// through one shared `session` (see [`PreparedWorkload::on_ray`]).
    pub fn on_ray(
        self,
        session: Arc<std::sync::Mutex<crate::RaySession>>,
        per_chunk: Option<usize>,
    ) -> Result<Self, WorkloadError> {
        let cases = self
            .cases
            .into_iter()
            .map(|(name, c)| Ok((name, c.on_ray(Arc::clone(&session), per_chunk)?)))
            .collect::<Result<Vec<_>, WorkloadError>>()?;
        Ok(Self { main: self.main.on_ray(session, per_chunk)?, cases })
    }
}

/// A workload ready to run repeatedly: data loaded and written once as a binary bundle.
#[derive(Debug, Clone)]
pub struct PreparedWorkload {
    /// What was asked for.
    pub spec: WorkloadSpec,
    /// The engine (bundle file and shared bundle).
    pub engine: Engine,
    work: Work,
    ray: Option<OnRay>,
}

/// What one run of a prepared workload does.
#[derive(Debug, Clone)]
enum Work {
    Grid(GridSpec),
    WalkForward(WalkForwardSpec),
    Search(SearchSpec),
}

/// Where a workload's runs go when they run on Ray: one driver session shared by every
/// workload of an evaluation, and the combinations per Ray task.
#[derive(Debug, Clone)]
struct OnRay {
    session: Arc<std::sync::Mutex<crate::RaySession>>,
    per_chunk: usize,
}

/// Workload characteristics (the figures results are normalised by).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Characteristics {
    /// Bars in the assets the workload uses.
    pub dataset_size: u64,
    /// Parameter combinations per asset.
    pub parameter_combinations: u64,
    /// Backtests per run.
    pub backtest_count: u64,
    /// Bar evaluations per run.
    pub bar_evaluations: u64,
}

impl PreparedWorkload {
    /// Loads (or derives) the data, writes it as a binary bundle at `bundle_file`, and sets up
    /// the grid or walk-forward.
    pub fn prepare(spec: &WorkloadSpec, real: &Bundle, bundle_file: &Path) -> Result<Self, WorkloadError> {
        let bundle = match spec.data {
            DataSource::Bundled => real.clone(),
            DataSource::Derived { assets, bars, seed } => derive(real, assets, bars, seed)?,
        };
        bundle.write_binary(bundle_file)?;
        let engine = Engine::new(bundle_file.to_path_buf(), Arc::new(bundle), spec.workers)?;
        let b = engine.bundle();
        let work = match spec.kind {
            WorkflowKind::Bohb => {
                let (fast, slow) = match spec.combinations {
                    Some(n) => combination_ranges(n)?,
                    None => crate::DefaultRanges::LADDER_SEARCH,
                };
                let assets: Vec<usize> = (0..b.assets.len()).collect();
                let full: u64 = assets.iter().map(|&a| b.assets[a].len() as u64).sum();
                let pairs = crate::grid::grid_size(&fast, &slow)? as u64;
                let budget = (pairs.saturating_mul(full) / crate::search::LADDER_BUDGET_DIVISOR)
                    .max(crate::search::LADDER_MIN_TRIALS * full);
                Work::Search(SearchSpec {
                    assets,
                    fast,
                    slow,
                    method: bench_search::Method::Bohb(bench_search::BohbSettings::default()),
                    plan: bench_search::Plan {
                        min_fidelity: MIN_FIDELITY,
                        eta: ETA,
                        cost_limit: budget,
                        seed: 42,
                    },
                    rules: crate::Rules::Exact,
                    objective: crate::Objective::FinalEquity,
                    max_seconds: None,
                })
            }
            WorkflowKind::GridSearch => {
                let params = match spec.combinations {
                    Some(n) => combinations(n)?,
                    None => param_grid(&crate::DefaultRanges::GRID.0, &crate::DefaultRanges::GRID.1),
                };
                Work::Grid(GridSpec {
                    assets: (0..b.assets.len()).collect(),
                    params,
                    objective: Objective::FinalEquity,
                    rules: crate::Rules::Exact,
                })
            }
            WorkflowKind::WalkForward => {
                let params = match spec.combinations {
                    Some(n) => combinations(n)?,
                    None => param_grid(
                        &crate::DefaultRanges::WALK_FORWARD.0,
                        &crate::DefaultRanges::WALK_FORWARD.1,
                    ),
                };
                let max_slow = params.iter().map(|p| p.slow as usize).max().unwrap_or(0);
                let in_sample = 504.max(2 * max_slow + 2);
                let assets: Vec<usize> =
                    (0..b.assets.len()).filter(|&a| b.assets[a].len() >= in_sample + 126).collect();
                if assets.is_empty() {
                    return Err(WorkloadError::InvalidParameter(format!(
                        "no asset has the {} bars a walk-forward window needs",
                        in_sample + 126
                    )));
                }
                Work::WalkForward(WalkForwardSpec {
                    assets,
                    params,
                    in_sample,
                    out_of_sample: 126,
                    step: 126,
                    mode: WindowMode::Rolling,
                    objective: Objective::SharpeRatio,
                    rules: crate::Rules::Exact,
                    search: None,
                })
            }
        };
        match &work {
            Work::Grid(g) => g.check_memory(engine.bundle())?,
            Work::WalkForward(w) => w.check_memory(engine.bundle())?,
            Work::Search(_) => {}
        }
        Ok(Self { spec: spec.clone(), engine, work, ray: None })
    }

    /// The same workload with every run on Ray through `session` (grid searches cut into
    /// tasks of `per_chunk` combinations, default about four per CPU per asset; walk-forwards
    /// one task per window). The results are the in-process run's; the bohb workflow has no
    /// Ray form and is refused.
    pub fn on_ray(
        self,
        session: Arc<std::sync::Mutex<crate::RaySession>>,
        per_chunk: Option<usize>,
    ) -> Result<Self, WorkloadError> {
        if let Work::Search(_) = self.work {
            return Err(WorkloadError::InvalidParameter(
                "the bohb workflow runs in this process; --backend ray runs grid-search and walk-forward"
                    .into(),
            ));
        }
        let cpus = session.lock().map_or(1.0, |s| s.cluster_cpus).max(1.0) as usize;
        let params = match &self.work {
            Work::Grid(g) => g.params.len(),
            _ => 1,
        };
        let per_chunk = per_chunk.unwrap_or_else(|| crate::default_grid_chunk(params, cpus)).max(1);
        Ok(Self { ray: Some(OnRay { session, per_chunk }), ..self })
    }

    fn run_on_ray(&self, ray: &OnRay, opts: Optimizations) -> Result<WorkloadOutput, WorkloadError> {
        let mut session = ray.session.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match &self.work {
            Work::Grid(g) => {
                let (bundle, path) = (self.engine.bundle(), self.engine.bundle_path());
                let (result, _) = session.run_grid(g, bundle, path, opts, ray.per_chunk, 1)?;
                Ok(WorkloadOutput::Grid(result))
            }
            Work::WalkForward(w) => Ok(WorkloadOutput::WalkForward(session.run_walk_forward(
                w,
                self.engine.bundle(),
                self.engine.bundle_path(),
                opts,
            )?)),
            Work::Search(_) => {
                Err(WorkloadError::InvalidParameter("the bohb workflow has no Ray form".into()))
            }
        }
    }

    /// One run of the workload with the given optimizations.
    pub fn run(&self, opts: Optimizations) -> Result<WorkloadOutput, WorkloadError> {
        if let Some(ray) = &self.ray {
            return self.run_on_ray(ray, opts);
        }
        match &self.work {
            Work::Grid(g) => Ok(WorkloadOutput::Grid(run_grid(&self.engine, g, opts)?)),
            Work::WalkForward(w) => Ok(WorkloadOutput::WalkForward(run_walk_forward(&self.engine, w, opts)?)),
            Work::Search(s) => Ok(WorkloadOutput::Search(run_search(&self.engine, s, opts)?)),
        }
    }

    /// One timed run: an engine error becomes a panic, which a benchmark suite records as a
    /// failed run with its message. For testing that path, `BENCH_FAULT_PANIC_AT_RUN=N` makes the
    /// N-th timed run of the process (counted from 1, warm-ups included) panic after running.
    pub fn run_timed(&self, opts: Optimizations) -> WorkloadOutput {
        use std::sync::atomic::{AtomicU64, Ordering};
        static RUNS: AtomicU64 = AtomicU64::new(0);
        let out = self.run_or_panic(opts);
        let n = RUNS.fetch_add(1, Ordering::SeqCst) + 1;
        if std::env::var("BENCH_FAULT_PANIC_AT_RUN").ok().and_then(|v| v.parse::<u64>().ok()) == Some(n) {
            panic!("injected fault: BENCH_FAULT_PANIC_AT_RUN={n}");
        }
        out
    }

    /// One run, an engine error turned into a panic (for profilers and equivalence cases, where
    /// a failed run is a failed measurement).
    pub fn run_or_panic(&self, opts: Optimizations) -> WorkloadOutput {
        match self.run(opts) {
            Ok(out) => out,
            Err(e) => panic!("workload failed: {e}"),
        }
    }

    /// The same workload with another worker count.
    pub fn with_workers(&self, workers: usize) -> Result<Self, WorkloadError> {
        Ok(Self {
            spec: WorkloadSpec { workers, ..self.spec.clone() },
            engine: self.engine.with_workers(workers)?,
            ..self.clone()
        })
    }

    /// Whether its runs go to Ray ([`PreparedWorkload::on_ray`]).
    pub fn runs_on_ray(&self) -> bool {
        self.ray.is_some()
    }

    /// Workload characteristics.
    pub fn characteristics(&self) -> Characteristics {
        let b = self.engine.bundle();
        match &self.work {
            Work::Grid(g) => {
                let bars: u64 = g.assets.iter().map(|&a| b.assets[a].len() as u64).sum();
                Characteristics {
                    dataset_size: bars,
                    parameter_combinations: g.params.len() as u64,
                    backtest_count: (g.assets.len() * g.params.len()) as u64,
                    bar_evaluations: bars * g.params.len() as u64,
                }
            }
            Work::WalkForward(w) => {
                let mut backtests = 0u64;
                let mut evals = 0u64;
                for &a in &w.assets {
                    let n = crate::walkforward::windows(
                        b.assets[a].len(),
                        w.in_sample,
                        w.out_of_sample,
                        w.step,
                        w.mode,
                    );
                    for r in &n {
                        backtests += w.params.len() as u64 + 1;
                        evals +=
                            (r.is_hi - r.is_lo) as u64 * w.params.len() as u64 + (r.oos_hi - r.is_hi) as u64;
                    }
                }
                Characteristics {
                    dataset_size: w.assets.iter().map(|&a| b.assets[a].len() as u64).sum(),
                    parameter_combinations: w.params.len() as u64,
                    backtest_count: backtests,
                    bar_evaluations: evals,
                }
            }
            Work::Search(s) => {
                let full: u64 = s.assets.iter().map(|&a| b.assets[a].len() as u64).sum();
                Characteristics {
                    dataset_size: full,
                    parameter_combinations: crate::grid::grid_size(&s.fast, &s.slow).unwrap_or(0) as u64,
                    // What the budget pays for, in full-history backtests.
                    backtest_count: s.plan.cost_limit / full.max(1) * s.assets.len() as u64,
                    bar_evaluations: s.plan.cost_limit,
                }
            }
        }
    }

    /// The search this workload runs, when it is a search.
    pub fn search_spec(&self) -> Option<&SearchSpec> {
        match &self.work {
            Work::Search(s) => Some(s),
            _ => None,
        }
    }

    /// A one-line description, e.g. `grid search, 5 real assets × 90 combinations`.
    pub fn describe(&self) -> String {
        let c = self.characteristics();
        let data = self.engine.bundle().provenance.label();
        let assets = match &self.work {
            Work::Grid(g) => g.assets.len(),
            Work::WalkForward(w) => w.assets.len(),
            Work::Search(s) => s.assets.len(),
        };
        format!(
            "{} on {data} data: {assets} assets, {} bars, {} combinations, {} backtests per run",
            self.spec.kind.cli_name(),
            c.dataset_size,
            c.parameter_combinations,
            c.backtest_count
        )
    }
}
