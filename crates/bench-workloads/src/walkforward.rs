//! Walk-forward optimization: per window a grid search in-sample, the best parameters run
//! out-of-sample.

use bench_core::limits::WorkEstimate;
use serde::Serialize;

use crate::WorkloadError;
use crate::engine::{Metrics, Params, STARTING_CASH};
use crate::grid::Objective;
use crate::ladder::Optimizations;
use crate::runner::{Engine, Task};

/// How windows move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowMode {
    /// The in-sample window slides: `[s, s + in_sample)`.
    Rolling,
    /// The in-sample window always starts at bar 0 and grows: `[0, s + in_sample)`.
    Anchored,
}

/// A walk-forward run.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
}

/// One window's bar ranges (half-open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
        Ok(WorkEstimate {
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
        })
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
    ((m.final_equity / STARTING_CASH).powf(252.0 / bars as f64) - 1.0) * 100.0
}

/// Runs a walk-forward optimization with the given ladder optimizations.
pub fn run_walk_forward(
    engine: &Engine,
    spec: &WalkForwardSpec,
    opts: Optimizations,
) -> Result<WalkForwardResult, WorkloadError> {
    let _span = tracing::info_span!("bench_workloads::walkforward::run_walk_forward").entered();
    let max_slow = spec.params.iter().map(|p| p.slow as usize).max().ok_or_else(|| {
        WorkloadError::InvalidParameter("the walk-forward grid has no (fast < slow) combination".into())
    })?;
    if spec.in_sample <= max_slow + 1 {
        return Err(WorkloadError::InvalidParameter(format!(
            "in-sample length {} must exceed the largest slow window {max_slow} + 1",
            spec.in_sample
        )));
    }
    let bundle = engine.bundle();
    let mut plan: Vec<(usize, WindowRange)> = Vec::new();
    for &a in &spec.assets {
        for w in windows(bundle.assets[a].len(), spec.in_sample, spec.out_of_sample, spec.step, spec.mode) {
            plan.push((a, w));
        }
    }
    if plan.is_empty() {
        return Err(WorkloadError::InvalidParameter(format!(
            "no window fits: in-sample {} + out-of-sample {} bars exceed every selected series",
            spec.in_sample, spec.out_of_sample
        )));
    }
    // In-sample grids of every window in one sweep, so the ladder's pooling and caching apply
    // to the whole workload.
    let is_tasks: Vec<Task> = plan
        .iter()
        .flat_map(|&(a, w)| {
            spec.params.iter().map(move |&p| Task {
                asset: a,
                lo: w.is_lo,
                hi: w.is_hi,
                params: p,
                lookback: false,
            })
        })
        .collect();
    let is_results = engine.run(&is_tasks, opts, false)?;
    let per_window = spec.params.len();
    let mut best = Vec::with_capacity(plan.len());
    for (k, _) in plan.iter().enumerate() {
        let chunk = &is_results[k * per_window..(k + 1) * per_window];
        let i = spec.objective.best(chunk.iter().map(|r| &r.metrics)).expect("non-empty grid");
        best.push((spec.params[i], chunk[i].metrics));
    }
    let oos_tasks: Vec<Task> = plan
        .iter()
        .zip(&best)
        .map(|(&(a, w), &(p, _))| Task { asset: a, lo: w.is_hi, hi: w.oos_hi, params: p, lookback: true })
        .collect();
    let oos_results = engine.run(&oos_tasks, opts, true)?;

    let mut results = Vec::with_capacity(plan.len());
    let mut stitched: Vec<StitchedCurve> = Vec::new();
    for (k, &(a, w)) in plan.iter().enumerate() {
        let (params, is_m) = best[k];
        let oos = &oos_results[k];
        let symbol = bundle.assets[a].symbol.clone();
        results.push(WindowResult {
            symbol: symbol.clone(),
            range: w,
            params,
            in_sample: is_m,
            out_of_sample: oos.metrics,
            is_annualized_return_percent: annualized_percent(&is_m, w.is_hi - w.is_lo),
            oos_annualized_return_percent: annualized_percent(&oos.metrics, w.oos_hi - w.is_hi),
        });
        let curve = &oos.record.as_ref().expect("out-of-sample runs are recorded").equity;
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
    let bar_evaluations = is_tasks.iter().map(|t| t.bars() as u64).sum::<u64>()
        + oos_tasks.iter().map(|t| t.bars() as u64).sum::<u64>();
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
        bar_evaluations,
    })
}
