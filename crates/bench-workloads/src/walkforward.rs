//! Walk-forward optimization: per window a grid search in-sample, the best parameters run
//! out-of-sample.

use bench_core::limits::WorkEstimate;
use serde::{Deserialize, Serialize};

use crate::WorkloadError;
use crate::engine::{Metrics, Params, STARTING_CASH};
use crate::grid::Objective;
use crate::ladder::Optimizations;
use crate::runner::{Engine, Task};

/// How windows move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowMode {
    /// The in-sample window slides: `[s, s + in_sample)`.
    Rolling,
    /// The in-sample window always starts at bar 0 and grows: `[0, s + in_sample)`.
    Anchored,
}

/// A walk-forward run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WalkForwardSpec {
    /// Asset indices; windows are laid on each asset's own bars.
    pub assets: Vec<usize>,
    /// Parameter grid searched in-sample.
    pub params: Vec<Params>,
    /// In-sample length in bars (must exceed the largest slow window).
    pub in_sample: usize,
    /// Out-of-sample length in bars.
    pub out_of_sample: usize,
    /// Bars between window starts.
    pub step: usize,
    /// Rolling or anchored.
    pub mode: WindowMode,
    /// What "best" means in-sample.
    pub objective: Objective,
    /// The engine's exact rules or backtesting.py's, in and out of sample.
    #[serde(default)]
    pub rules: crate::Rules,
    /// Choose each window's pair by a search over `params` instead of backtesting them all.
    #[serde(default)]
    pub search: Option<WindowSearch>,
}

/// A search that chooses a walk-forward window's pair in place of its in-sample grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowSearch {
    /// `bohb`, `hyperband`, `random` or `grid`.
    pub method: String,
    /// Bar evaluations per window (default: a tenth of the window's in-sample grid's).
    pub budget: Option<u64>,
    /// Seed of every window's search.
    pub seed: u64,
}

impl WindowSearch {
    /// A search by `method`, if one is given, of `budget` bar evaluations per window (or the
    /// default) seeded by `seed`.
    pub fn new(method: Option<&bench_search::Method>, budget: Option<u64>, seed: u64) -> Option<Self> {
        method.map(|m| Self { method: m.name().into(), budget, seed })
    }

    /// The bar evaluations a window of `bars` in-sample bars may spend on `pairs` pairs.
    pub fn budget_for(&self, pairs: usize, bars: usize) -> u64 {
        self.budget
            .unwrap_or_else(|| crate::default_search_budget(pairs as u128, bars as u64).max(bars as u64))
    }
}

/// One window's bar ranges (half-open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowRange {
    /// In-sample first bar.
    pub is_lo: usize,
    /// In-sample end (exclusive) = out-of-sample first bar.
    pub is_hi: usize,
    /// Out-of-sample end (exclusive).
    pub oos_hi: usize,
}

/// The windows of a series of `len` bars. Window `k` starts in-sample at `k·step` (rolling) or
/// 0 (anchored); its out-of-sample part is `[k·step + in_sample, k·step + in_sample + oos)`;
/// windows stop when the out-of-sample part would pass the end.
pub fn windows(
    len: usize,
    in_sample: usize,
    out_of_sample: usize,
    step: usize,
    mode: WindowMode,
) -> Vec<WindowRange> {
    let mut out = Vec::new();
    if step == 0 || out_of_sample == 0 || in_sample == 0 {
        return out;
    }
    let mut start = 0;
    while start + in_sample + out_of_sample <= len {
        out.push(WindowRange {
            is_lo: if mode == WindowMode::Rolling { start } else { 0 },
            is_hi: start + in_sample,
            oos_hi: start + in_sample + out_of_sample,
        });
        start += step;
    }
    out
}

/// How many windows [`windows`] gives, counted without listing them.
pub fn window_count(len: usize, in_sample: usize, out_of_sample: usize, step: usize) -> u128 {
    if step == 0 || out_of_sample == 0 || in_sample == 0 {
        return 0;
    }
    match len.checked_sub(in_sample).and_then(|r| r.checked_sub(out_of_sample)) {
        Some(room) => (room / step) as u128 + 1,
        None => 0,
    }
}

impl WalkForwardSpec {
    /// Windows, backtests and bar evaluations the run will take, counted without listing them.
    pub fn work(&self, bundle: &crate::Bundle) -> (u128, u128, u128) {
        let (mut windows_n, mut bars) = (0u128, 0u128);
        let p = self.params.len() as u128;
        for &a in &self.assets {
            let len = bundle.assets[a].len();
            let n = window_count(len, self.in_sample, self.out_of_sample, self.step);
            windows_n += n;
            let is_bars: u128 = match self.mode {
                WindowMode::Rolling => n * self.in_sample as u128,
                // Window k's in-sample part is [0, k·step + in_sample).
                WindowMode::Anchored => {
                    n * self.in_sample as u128 + (self.step as u128) * n * n.saturating_sub(1) / 2
                }
            };
            bars += is_bars * p + n * self.out_of_sample as u128;
        }
        (windows_n, windows_n * (p + 1), bars)
    }

    /// Checks that the run's tasks, results and out-of-sample curves fit the memory budget.
    pub fn check_memory(&self, bundle: &crate::Bundle) -> Result<(), WorkloadError> {
        let (windows_n, backtests, _) = self.work(bundle);
        let bytes =
            backtests * crate::grid::bytes_per_backtest() + windows_n * self.out_of_sample as u128 * 16;
        bench_core::limits::memory_limit().check_bytes(
            &format!(
                "a walk-forward of {} windows × {} combinations",
                bench_core::limits::count_words(windows_n as f64),
                self.params.len()
            ),
            bytes,
        )?;
        Ok(())
    }

    /// The run's work and its time at the rate a pilot of its in-sample grid measures.
    pub fn estimate(&self, engine: &Engine, opts: Optimizations) -> Result<WorkEstimate, WorkloadError> {
        let (windows_n, backtests, bars) = self.work(engine.bundle());
        let asset = *self
            .assets
            .first()
            .ok_or_else(|| WorkloadError::InvalidParameter("no asset selected".into()))?;
        let len = engine.bundle().assets[asset].len();
        let rate = crate::grid::measure_rate(engine, asset, &self.params, 0..self.in_sample.min(len), opts)?;
        let mut estimate = WorkEstimate {
            what: "the walk-forward".into(),
            work: format!(
                "{} windows, {} backtests, {} bar evaluations",
                bench_core::limits::count_words(windows_n as f64),
                bench_core::limits::count_words(backtests as f64),
                bench_core::limits::count_words(bars as f64)
            ),
            units: bars as f64,
            rate_per_second: rate,
            unit: "bar evaluations".into(),
        };
        if let Some(search) = &self.search {
            // Each window's search budget at the rate of a pilot: the first window's search on a
            // twentieth of its budget (a search's cost per bar is its own, not the grid's).
            let windows = self.plan(engine.bundle())?;
            let budget = |w: &WindowTask| search.budget_for(self.params.len(), w.range.is_hi - w.range.is_lo);
            let oos: u64 = windows.iter().map(|w| (w.range.oos_hi - w.range.is_hi) as u64).sum();
            estimate.units = (windows.iter().map(budget).sum::<u64>() + oos) as f64;
            estimate.work = format!(
                "{} windows, a {} search of {} bar evaluations each (about)",
                bench_core::limits::count_words(windows_n as f64),
                search.method,
                bench_core::limits::count_words(estimate.units / windows.len().max(1) as f64)
            );
            if let Some(w) = windows.first() {
                let (lo, hi) = (w.range.is_lo, w.range.is_hi);
                let method: bench_search::Method =
                    search.method.parse().map_err(WorkloadError::InvalidParameter)?;
                let cost_limit = (budget(w) / 20).max((hi - lo) as u64);
                let plan = bench_search::Plan {
                    min_fidelity: crate::MIN_FIDELITY,
                    eta: crate::ETA,
                    cost_limit,
                    seed: search.seed,
                };
                let how = crate::WindowSearchPlan {
                    method: &method,
                    plan: &plan,
                    objective: self.objective,
                    rules: self.rules,
                };
                let t0 = std::time::Instant::now();
                let (_, spent) = crate::search_window(engine, w.asset, (lo, hi), &self.params, how, opts)?;
                estimate.rate_per_second = spent as f64 / t0.elapsed().as_secs_f64().max(1e-9);
            }
        }
        Ok(estimate)
    }
}

/// Results of one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowResult {
    /// Asset symbol.
    pub symbol: String,
    /// Bar ranges.
    pub range: WindowRange,
    /// Best in-sample parameters.
    pub params: Params,
    /// In-sample metrics of the best parameters.
    pub in_sample: Metrics,
    /// Out-of-sample metrics of those parameters (SMAs warmed up on the bars before).
    pub out_of_sample: Metrics,
    /// Annualised in-sample return, `(final/initial)^(252/bars) − 1`, in percent.
    pub is_annualized_return_percent: f64,
    /// Annualised out-of-sample return, in percent.
    pub oos_annualized_return_percent: f64,
}

/// The stitched out-of-sample equity curve of one asset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StitchedCurve {
    /// Asset symbol.
    pub symbol: String,
    /// First bar of the curve.
    pub start_bar: usize,
    /// Equity, each window's out-of-sample curve scaled to continue from where the previous
    /// one ended (bars already covered by an earlier window are not repeated).
    pub equity: Vec<f64>,
}

/// The outcome of a walk-forward run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WalkForwardResult {
    /// Per-window parameters and metrics, asset-major.
    pub windows: Vec<WindowResult>,
    /// Stitched out-of-sample equity per asset.
    pub stitched: Vec<StitchedCurve>,
    /// Mean annualised OOS return / mean annualised IS return; `None` when the latter is ≤ 0.
    pub efficiency: Option<f64>,
    /// Share of consecutive windows (same asset) that kept the previous window's parameters.
    pub parameter_stability: f64,
    /// Share of windows with a positive out-of-sample return.
    pub profitable_oos_share: f64,
    /// Σ bars over all backtests run (in-sample grids and out-of-sample runs).
    pub bar_evaluations: u64,
}

fn annualized_percent(m: &Metrics, bars: usize) -> f64 {
    if bars == 0 {
        return 0.0;
    }
    if m.final_equity <= 0.0 {
        return -100.0; // everything lost (the exact rules let the equity go below 0)
    }
    ((m.final_equity / STARTING_CASH).powf(252.0 / bars as f64) - 1.0) * 100.0
}

/// One window of a walk-forward on one asset: the independent unit a distributed run ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowTask {
    /// Position in the run's window order (asset-major).
    pub index: usize,
    /// Asset index into the bundle.
    pub asset: usize,
    /// The window's bar ranges.
    pub range: WindowRange,
}

/// What one window produced: the best in-sample parameters, their in- and out-of-sample
/// metrics and the out-of-sample equity curve (what [`assemble_walk_forward`] stitches).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowOutput {
    /// The window.
    pub task: WindowTask,
    /// Best in-sample parameters (first in grid order on ties).
    pub params: Params,
    /// Their in-sample metrics.
    pub in_sample: Metrics,
    /// Their out-of-sample metrics.
    pub out_of_sample: Metrics,
    /// The out-of-sample equity curve, one value per bar.
    pub equity: Vec<f64>,
    /// Bars evaluated for this window (its in-sample grid and its out-of-sample run).
    pub bar_evaluations: u64,
}

impl WalkForwardSpec {
    /// The run's windows, asset-major, after checking that the in-sample length exceeds the
    /// largest slow window and that at least one window fits.
    pub fn plan(&self, bundle: &crate::Bundle) -> Result<Vec<WindowTask>, WorkloadError> {
        let max_slow = self.params.iter().map(|p| p.slow as usize).max().ok_or_else(|| {
            WorkloadError::InvalidParameter("the walk-forward grid has no (fast < slow) combination".into())
        })?;
        if self.in_sample <= max_slow + 1 {
            return Err(WorkloadError::InvalidParameter(format!(
                "in-sample length {} must exceed the largest slow window {max_slow} + 1",
                self.in_sample
            )));
        }
        let mut plan = Vec::new();
        for &a in &self.assets {
            let len = bundle.assets.get(a).map_or(0, |s| s.len());
            for range in windows(len, self.in_sample, self.out_of_sample, self.step, self.mode) {
                plan.push(WindowTask { index: plan.len(), asset: a, range });
            }
        }
        if plan.is_empty() {
            return Err(WorkloadError::InvalidParameter(format!(
                "no window fits: in-sample {} + out-of-sample {} bars exceed every selected series",
                self.in_sample, self.out_of_sample
            )));
        }
        Ok(plan)
    }
}

fn in_sample_tasks<'a>(
    params: &'a [Params],
    w: &WindowTask,
    rules: crate::Rules,
) -> impl Iterator<Item = Task> + 'a {
    let (a, r) = (w.asset, w.range);
    params.iter().map(move |&p| Task {
        asset: a,
        lo: r.is_lo,
        hi: r.is_hi,
        params: p,
        lookback: false,
        rules,
    })
}

/// Runs the windows `tasks` of `spec`: every window's in-sample grid in one sweep (so the
/// ladder's pooling and caching apply to all of it), then the best parameters out-of-sample.
/// Running the windows one call at a time, anywhere, gives the same outputs.
pub fn run_windows(
    engine: &Engine,
    spec: &WalkForwardSpec,
    tasks: &[WindowTask],
    opts: Optimizations,
) -> Result<Vec<WindowOutput>, WorkloadError> {
    let per_window = spec.params.len();
    if per_window == 0 {
        return Err(WorkloadError::InvalidParameter(
            "the walk-forward grid has no (fast < slow) combination".into(),
        ));
    }
    let mut best = Vec::with_capacity(tasks.len());
    // The in-sample bar evaluations each window spent choosing its pair.
    let mut chose: Vec<u64> = tasks
        .iter()
        .map(|w| in_sample_tasks(&spec.params, w, spec.rules).map(|t| t.bars() as u64).sum())
        .collect();
    if let Some(search) = &spec.search {
        if spec.objective == Objective::BacktestingPySharpe {
            return Err(WorkloadError::InvalidParameter(
                "a search inside the walk-forward ranks by final equity, Sharpe or Sortino ratio, drawdown, total return or Calmar ratio; backtesting.py's Sharpe ratio needs every pair's equity curve".into(),
            ));
        }
        let method: bench_search::Method = search.method.parse().map_err(WorkloadError::InvalidParameter)?;
        for (k, w) in tasks.iter().enumerate() {
            let (lo, hi) = (w.range.is_lo, w.range.is_hi);
            let plan = bench_search::Plan {
                min_fidelity: crate::MIN_FIDELITY,
                eta: crate::ETA,
                cost_limit: search.budget_for(spec.params.len(), hi - lo),
                seed: search.seed,
            };
            let how = crate::WindowSearchPlan {
                method: &method,
                plan: &plan,
                objective: spec.objective,
                rules: spec.rules,
            };
            let (found, spent) = crate::search_window(engine, w.asset, (lo, hi), &spec.params, how, opts)?;
            let p = found.ok_or_else(|| {
                WorkloadError::InvalidParameter(format!(
                    "the search of window {k} evaluated no pair on its whole in-sample part: raise --budget above {} bar evaluations",
                    hi - lo
                ))
            })?;
            let t = Task { asset: w.asset, lo, hi, params: p, lookback: false, rules: spec.rules };
            let m = engine.run(&[t], opts, false)?[0].metrics;
            best.push((p, m));
            chose[k] = spent;
        }
    } else if spec.objective == Objective::BacktestingPySharpe {
        // Scored from each equity curve, so the curves are kept: one window at a time.
        for w in tasks {
            let is_tasks: Vec<Task> = in_sample_tasks(&spec.params, w, spec.rules).collect();
            let results = engine.run(&is_tasks, opts, true)?;
            let scores = results.iter().map(|r| {
                r.record
                    .as_ref()
                    .and_then(|c| crate::engine::backtesting_py_sharpe(&c.equity))
                    .unwrap_or(f64::NAN)
            });
            let i = Objective::best_score(scores).expect("non-empty grid");
            best.push((spec.params[i], results[i].metrics));
        }
    } else {
        let is_tasks: Vec<Task> =
            tasks.iter().flat_map(|w| in_sample_tasks(&spec.params, w, spec.rules)).collect();
        let is_results = engine.run(&is_tasks, opts, false)?;
        for k in 0..tasks.len() {
            let chunk = &is_results[k * per_window..(k + 1) * per_window];
            let i = spec.objective.best(chunk.iter().map(|r| &r.metrics)).expect("non-empty grid");
            best.push((spec.params[i], chunk[i].metrics));
        }
    }
    let oos_tasks: Vec<Task> = tasks
        .iter()
        .zip(&best)
        .map(|(w, &(p, _))| Task {
            asset: w.asset,
            lo: w.range.is_hi,
            hi: w.range.oos_hi,
            params: p,
            lookback: true,
            rules: spec.rules,
        })
        .collect();
    let oos_results = engine.run(&oos_tasks, opts, true)?;
    Ok(tasks
        .iter()
        .zip(best)
        .zip(oos_results)
        .zip(chose)
        .map(|(((w, (params, in_sample)), oos), is_bars)| {
            let oos_bars = (w.range.oos_hi - w.range.is_hi) as u64;
            WindowOutput {
                task: *w,
                params,
                in_sample,
                out_of_sample: oos.metrics,
                equity: oos.record.map(|r| r.equity).unwrap_or_default(),
                bar_evaluations: is_bars + oos_bars,
            }
        })
        .collect())
}

/// Puts window outputs (in window order) together into the run's result: per-window metrics,
/// stitched out-of-sample curves, efficiency, stability and the profitable share.
pub fn assemble_walk_forward(
    bundle: &crate::Bundle,
    outputs: &[WindowOutput],
) -> Result<WalkForwardResult, WorkloadError> {
    if outputs.is_empty() {
        return Err(WorkloadError::InvalidParameter("a walk-forward needs at least one window".into()));
    }
    let mut results = Vec::with_capacity(outputs.len());
    let mut stitched: Vec<StitchedCurve> = Vec::new();
    for (k, out) in outputs.iter().enumerate() {
        let (a, w) = (out.task.asset, out.task.range);
        if out.task.index != k {
            return Err(WorkloadError::InvalidParameter(format!(
                "window outputs out of order: position {k} holds window {}",
                out.task.index
            )));
        }
        let symbol = bundle
            .assets
            .get(a)
            .ok_or_else(|| {
                WorkloadError::InvalidParameter(format!("window {k}: no asset {a} in the bundle"))
            })?
            .symbol
            .clone();
        results.push(WindowResult {
            symbol: symbol.clone(),
            range: w,
            params: out.params,
            in_sample: out.in_sample,
            out_of_sample: out.out_of_sample,
            is_annualized_return_percent: annualized_percent(&out.in_sample, w.is_hi - w.is_lo),
            oos_annualized_return_percent: annualized_percent(&out.out_of_sample, w.oos_hi - w.is_hi),
        });
        let curve = &out.equity;
        if stitched.last().is_none_or(|c| c.symbol != symbol) {
            stitched.push(StitchedCurve { symbol, start_bar: w.is_hi, equity: Vec::new() });
        }
        let s = stitched.last_mut().expect("pushed above");
        let covered_to = s.start_bar + s.equity.len(); // first bar not yet stitched
        let skip = covered_to.saturating_sub(w.is_hi).min(curve.len());
        if skip < curve.len() {
            let anchor = if skip == 0 { curve[0] } else { curve[skip - 1] };
            let level = s.equity.last().copied().unwrap_or(STARTING_CASH);
            let scale = level / anchor;
            s.equity.extend(curve[skip..].iter().map(|e| e * scale));
        }
    }
    let n = results.len() as f64;
    let mean_is = results.iter().map(|r| r.is_annualized_return_percent).sum::<f64>() / n;
    let mean_oos = results.iter().map(|r| r.oos_annualized_return_percent).sum::<f64>() / n;
    let pairs: Vec<bool> = results
        .windows(2)
        .filter(|p| p[0].symbol == p[1].symbol)
        .map(|p| p[0].params == p[1].params)
        .collect();
    Ok(WalkForwardResult {
        efficiency: (mean_is > 0.0).then(|| mean_oos / mean_is),
        parameter_stability: if pairs.is_empty() {
            1.0
        } else {
            pairs.iter().filter(|&&b| b).count() as f64 / pairs.len() as f64
        },
        profitable_oos_share: results.iter().filter(|r| r.out_of_sample.final_equity > STARTING_CASH).count()
            as f64
            / n,
        windows: results,
        stitched,
        bar_evaluations: outputs.iter().map(|o| o.bar_evaluations).sum(),
    })
}

/// Runs a walk-forward optimization with the given ladder optimizations.
pub fn run_walk_forward(
    engine: &Engine,
    spec: &WalkForwardSpec,
    opts: Optimizations,
) -> Result<WalkForwardResult, WorkloadError> {
    let _span = tracing::info_span!("bench_workloads::walkforward::run_walk_forward").entered();
    let plan = spec.plan(engine.bundle())?;
    let outputs = run_windows(engine, spec, &plan, opts)?;
    assemble_walk_forward(engine.bundle(), &outputs)
}

/// The differences between the rules in window `w` of the walk-forward `spec` on asset `asset`.
pub fn window_rule_differences(
    bundle: &crate::Bundle,
    spec: &WalkForwardSpec,
    asset: usize,
    w: &WindowResult,
) -> crate::WindowDifferences {
    let r = w.range;
    let in_sample =
        |params| Task { asset, lo: r.is_lo, hi: r.is_hi, params, lookback: false, rules: spec.rules };
    let in_sample_pairs =
        crate::rules::differing_in_sample(&bundle.assets[asset].close, &spec.params, r.is_lo, r.is_hi);
    let oos = Task { asset, lo: r.is_hi, hi: r.oos_hi, params: w.params, lookback: true, rules: spec.rules };
    crate::WindowDifferences {
        in_sample_pairs,
        in_sample: crate::rule_differences(bundle, &in_sample(w.params)),
        out_of_sample: crate::rule_differences(bundle, &oos),
    }
}
