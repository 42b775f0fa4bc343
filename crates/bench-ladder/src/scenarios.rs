//! The extended scenarios of the backtest engine: batch initialisation across bundle sizes and the
//! parallel coordinator across worker counts, described as [`ScenarioSet`]s for the generic
//! runner to time, profile and report.

use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use bench_core::{Fact, ScenarioCase, ScenarioReading, ScenarioSet, ThreadClock};
use rayon::prelude::*;

use bench_workloads::{
    Bundle, Params, WorkloadError, backtest_metrics, build_pool, bytes_per_backtest, combinations, derive,
};

/// Bars per derived asset in the batch-init scenario (one trading year).
pub const BARS_PER_ASSET: usize = 252;
/// Bundle sizes of the batch-init scenario.
pub const ASSET_COUNTS: [usize; 4] = [10, 50, 100, 500];
/// Worker counts of the parallel-coordinator scenario.
pub const WORKER_COUNTS: [usize; 5] = [1, 2, 4, 8, 16];

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Batch initialisation across bundle sizes: for each of [`ASSET_COUNTS`] derived assets
/// ([`BARS_PER_ASSET`] bars each, seed 2026), every one of `workers` workers loads the binary
/// bundle file (written under `dir`) once and runs its share of `backtests` backtests.
pub fn batch_init_scenarios(
    real: &Bundle,
    workers: usize,
    backtests: usize,
    dir: &Path,
) -> Result<ScenarioSet<'static>, WorkloadError> {
    let params = combinations(backtests.max(1))?;
    let mut cases = Vec::new();
    for n in ASSET_COUNTS {
        let bundle = derive(real, n, BARS_PER_ASSET, 2026)?;
        let path = dir.join(format!("bundle_{n}.bin"));
        bundle.write_binary(&path)?;
        let tasks: Vec<(usize, Params)> = (0..backtests).map(|k| (k % n, params[k % params.len()])).collect();
        let run = move |_: ThreadClock| -> Result<ScenarioReading, String> {
            let pool = build_pool(workers).map_err(|e| e.to_string())?;
            let loads = Mutex::new(Vec::new());
            let errors = Mutex::new(Vec::new());
            pool.broadcast(|ctx| {
                let t = Instant::now();
                match Bundle::read_binary(&path) {
                    Ok(b) => {
                        lock(&loads).push(t.elapsed().as_nanos() as u64);
                        for (asset, p) in tasks.iter().skip(ctx.index()).step_by(ctx.num_threads()) {
                            if let Err(e) = backtest_metrics(&b, *asset, *p) {
                                lock(&errors).push(e.to_string());
                            }
                        }
                    }
                    Err(e) => lock(&errors).push(e.to_string()),
                }
            });
            if let Some(e) = lock(&errors).first() {
                return Err(e.clone());
            }
            Ok(ScenarioReading {
                setup_ns: loads.into_inner().unwrap_or_default(),
                busy_ns: None,
                tasks: backtests as u64,
            })
        };
        cases.push(ScenarioCase {
            id: format!("batch_init_{n}_assets"),
            title: format!("batch-init: {n} derived assets × {backtests} backtests"),
            facts: vec![
                Fact { key: "assets", label: "Assets", value: n as u64 },
                Fact { key: "bundle_rows", label: "Bundle rows", value: bundle.rows() as u64 },
                Fact { key: "backtests", label: "Backtests", value: backtests as u64 },
                Fact { key: "workers", label: "Workers", value: workers as u64 },
            ],
            workers,
            run: Box::new(run),
        });
    }
    Ok(ScenarioSet {
        name: "batch_init".into(),
        title: "Batch initialisation across bundle sizes".into(),
        explanation: format!(
            "Derived data (seeded block bootstrap of the real bars, seed 2026), {BARS_PER_ASSET} bars per asset. Each of the {workers} workers loads the binary bundle once, then runs its share of the backtests. Medians over the timed runs. Heap peak above start is what the scenario itself needed (peak live heap minus the live heap when a run began, largest over the runs); the process columns include whatever the process already held."
        ),
        notes: vec![],
        cases,
    })
}

/// The parallel coordinator across worker counts: `tasks` real backtests of the bundled data on
/// a fresh rayon pool of each of [`WORKER_COUNTS`] (pool start-up included), each task's thread
/// CPU time summed for utilisation.
pub fn coordinator_scenarios(real: &Bundle, tasks: usize) -> Result<ScenarioSet<'_>, WorkloadError> {
    let assets = real.assets.len().max(1);
    bench_core::limits::memory_limit().check(
        &format!("{} scenario backtests", bench_core::units::count(tasks as u64)),
        tasks as u128,
        bytes_per_backtest(),
    )?;
    let params = combinations(tasks.div_ceil(assets).max(1))?;
    let work: Vec<(usize, Params)> =
        (0..tasks).map(|k| (k % assets, params[(k / assets) % params.len()])).collect();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let cases = WORKER_COUNTS
        .into_iter()
        .map(|w| {
            let work = work.clone();
            let run = move |clock: ThreadClock| -> Result<ScenarioReading, String> {
                let pool = build_pool(w).map_err(|e| e.to_string())?;
                let busy = Mutex::new(0u64);
                pool.install(|| {
                    work.par_iter().try_for_each(|(a, p)| {
                        let c0 = clock();
                        let r = backtest_metrics(real, *a, *p).map(|_| ());
                        *lock(&busy) += clock().saturating_sub(c0);
                        r
                    })
                })
                .map_err(|e| e.to_string())?;
                Ok(ScenarioReading {
                    setup_ns: vec![],
                    busy_ns: Some(busy.into_inner().unwrap_or_default()),
                    tasks: tasks as u64,
                })
            };
            ScenarioCase {
                id: format!("parallel_coord_{w}_workers"),
                title: format!("parallel coordinator: {w} workers × {tasks} tasks"),
                facts: vec![
                    Fact { key: "workers", label: "Workers", value: w as u64 },
                    Fact { key: "tasks", label: "Tasks", value: tasks as u64 },
                ],
                workers: w,
                run: Box::new(run) as Box<dyn Fn(ThreadClock) -> Result<ScenarioReading, String> + '_>,
            }
        })
        .collect();
    Ok(ScenarioSet {
        name: "parallel_coordinator".into(),
        title: "Parallel coordinator across worker counts".into(),
        explanation: format!(
            "{tasks} real backtests (bundled data) on a fresh rayon pool per run (start-up included). Utilisation = Σ per-task thread CPU time ÷ (workers × wall time); coordinator overhead = 1 − utilisation. Medians over the timed runs."
        ),
        notes: vec![format!(
            "This machine has {cores} cores: with more than {cores} workers, threads share cores, so utilisation cannot exceed {cores}/workers and nothing here measures scaling beyond {cores} workers. (An overhead formula of the form ((T·n − T)/T)·100 always equals (n − 1)·100 and measures nothing; it is not used.)"
        )],
        cases,
    })
}

/// Search methods compared by [`search_scenarios`], in table order.
pub const SEARCH_METHODS: [&str; 4] = ["grid", "random", "hyperband", "bohb"];

/// The search comparison: the BOHB workflow's space (fast 5–100 × slow 20–300 step 5, bundled
/// data, mean final equity over the assets) searched by the full grid and, at `1/fraction_den`
/// of the grid's bar evaluations, by random search, Hyperband and BOHB (seed 42; fidelities
/// 1/9, 1/3, 1). Each case's facts — bar evaluations spent, trials, and the best objective found
/// as parts per ten thousand of the grid's optimum — come from one run made here (the searches
/// are deterministic); the runner then times, profiles and reports the cases.
pub fn search_scenarios(
    real: &Bundle,
    workers: usize,
    fraction_den: u64,
) -> Result<ScenarioSet<'static>, WorkloadError> {
    let handle = std::sync::Arc::new(bench_workloads::TempEngine::new(real.clone(), workers)?);
    let (fast, slow) = bench_workloads::DefaultRanges::LADDER_SEARCH;
    let assets: Vec<usize> = (0..real.assets.len()).collect();
    let opts = bench_workloads::LadderStep::fastest().optimizations();
    let spec_for = |method: &str, budget: u64| -> Result<bench_workloads::SearchSpec, WorkloadError> {
        Ok(bench_workloads::SearchSpec {
            assets: assets.clone(),
            fast,
            slow,
            method: method.parse().map_err(WorkloadError::InvalidParameter)?,
            plan: bench_search::Plan {
                min_fidelity: bench_workloads::MIN_FIDELITY,
                eta: bench_workloads::ETA,
                cost_limit: budget,
                seed: 42,
            },
            rules: bench_workloads::Rules::Exact,
            objective: bench_workloads::Objective::FinalEquity,
            max_seconds: None,
        })
    };
    let grid = bench_workloads::run_search(&handle.engine, &spec_for("grid", u64::MAX)?, opts)?;
    let optimum = grid.best_objective.unwrap_or(f64::NAN);
    let budget = grid.grid_bar_evals / fraction_den.max(1);
    let mut cases = Vec::new();
    for method in SEARCH_METHODS {
        let spec = spec_for(method, if method == "grid" { u64::MAX } else { budget })?;
        let once = bench_workloads::run_search(&handle.engine, &spec, opts)?;
        let share = once.best_objective.map_or(0, |b| (b / optimum * 10_000.0).round().max(0.0) as u64);
        let engine = std::sync::Arc::clone(&handle);
        let trials = once.trials.len() as u64;
        let run = move |_: ThreadClock| -> Result<ScenarioReading, String> {
            let out = bench_workloads::run_search(&engine.engine, &spec, opts).map_err(|e| e.to_string())?;
            Ok(ScenarioReading { setup_ns: vec![], busy_ns: None, tasks: out.trials.len() as u64 })
        };
        cases.push(ScenarioCase {
            id: format!("search_{method}"),
            title: format!("{method} search"),
            facts: vec![
                Fact { key: "bar_evals", label: "Bar evaluations", value: once.bar_evals },
                Fact { key: "trials", label: "Trials", value: trials },
                Fact { key: "best_per_10000_of_grid", label: "Best, ‱ of grid optimum", value: share },
            ],
            workers,
            run: Box::new(run) as Box<dyn Fn(ThreadClock) -> Result<ScenarioReading, String>>,
        });
    }
    Ok(ScenarioSet {
        name: "search_methods".into(),
        title: "Parameter search: BOHB vs Hyperband vs random vs grid".into(),
        explanation: format!(
            "The (fast, slow) space fast 5–100 × slow 20–300 step 5 ({} pairs) on the bundled data, maximising the mean final equity over the assets. The grid evaluates every pair on the full history ({} bar evaluations); random search, Hyperband and BOHB get 1/{fraction_den} of that ({budget} bar evaluations), seed 42, fidelities 1/9, 1/3 and 1 of each asset's history, in ninths spread over it (η = 3). \"Best\" is the best objective found at full fidelity as parts per ten thousand of the grid's optimum ({optimum:.2}). Medians over the timed runs; the ladder's fastest step.",
            grid.space_size, grid.grid_bar_evals
        ),
        notes: vec!["One seed per method here; the comparison over 20 seeds and three budgets is in docs/methodology.md (Parameter search).".into()],
        cases,
    })
}
