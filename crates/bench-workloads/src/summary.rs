//! What a backtest or a grid search reports: one document for `--json` and one text for a
//! person, built from the results.

use std::fmt::Write;

use bench_core::{Decimal, to_decimal, units};
use serde::Serialize;

use crate::{
    BacktestResult, Bundle, ComboResult, GridResult, GridSpec, LadderStep, Metrics, Objective, Params,
    RuleDifferences, Rules, ShortSeries, StitchedCurve, WalkForwardResult, WalkForwardSpec, WindowMode,
};

/// One backtest's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacktestSummary {
    /// Format version.
    pub schema_version: u32,
    /// The asset.
    pub symbol: String,
    /// Fast window.
    pub fast: u32,
    /// Slow window.
    pub slow: u32,
    /// Bars of the asset.
    pub bars: usize,
    /// `real` or `derived (seed N)`.
    pub data: String,
    /// The rules followed: `exact` or `backtesting-py`.
    pub rules: String,
    /// Where the other rules would give a different backtest (empty lists when nowhere).
    pub rule_differences: RuleDifferences,
    /// Bars where the two SMAs are exactly equal: the exact rule sees no cross there, pandas'
    /// rounded means (backtesting.py) may.
    pub exact_sma_ties: usize,
    /// The backtest's metrics.
    #[serde(flatten)]
    pub metrics: Metrics,
}

impl BacktestSummary {
    /// The summary of `result`, a backtest of `params` on asset `asset` of `bundle` under
    /// `rules`.
    pub fn new(bundle: &Bundle, asset: usize, params: Params, rules: Rules, result: &BacktestResult) -> Self {
        let hi = bundle.assets[asset].len();
        let task = crate::Task { asset, lo: 0, hi, params, lookback: false, rules };
        Self {
            schema_version: 1,
            symbol: bundle.assets[asset].symbol.clone(),
            fast: params.fast,
            slow: params.slow,
            bars: bundle.assets[asset].len(),
            data: bundle.provenance.label(),
            rules: rules.name().into(),
            rule_differences: crate::rule_differences(bundle, &task),
            exact_sma_ties: crate::exact_sma_ties(bundle, asset, params),
            metrics: result.metrics,
        }
    }

    /// For a person.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "SMA crossover {} {}/{} on {} bars ({} data)",
            self.symbol,
            self.fast,
            self.slow,
            units::count(self.bars as u64),
            self.data
        );
        let m = &self.metrics;
        let _ = writeln!(s, "  trades           {}", m.trades);
        let _ = writeln!(s, "  final equity     {:.3}", m.final_equity);
        let _ = writeln!(s, "  total return     {:.2}%", m.total_return_percent);
        let _ = writeln!(s, "  max drawdown     {:.2}%", m.max_drawdown_percent);
        let _ = writeln!(s, "  Sharpe ratio     {:.4}", m.sharpe_ratio);
        let _ = writeln!(s, "  Sortino ratio    {:.4}", m.sortino_ratio);
        let _ = writeln!(s, "  exposure         {:.2}%", m.exposure_percent);
        let _ = writeln!(s, "  rules            {}", self.rules);
        let d = &self.rule_differences;
        let other =
            if self.rules == Rules::Exact.name() { "backtesting.py's rules" } else { "the exact rules" };
        if d.is_empty() {
            let _ = writeln!(s, "  differences      none: {other} give the same backtest");
        } else {
            let _ = writeln!(s, "  differences      {other} give another backtest:");
            if !d.tie_bars.is_empty() {
                let bars: Vec<String> = d.tie_bars.iter().map(u32::to_string).collect();
                let _ = writeln!(
                    s,
                    "    SMA tie at bar(s) {}: a cross for one rule, none (or the other way) for the other",
                    bars.join(", ")
                );
            }
            if let Some(b) = d.last_bar_signal {
                let _ = writeln!(
                    s,
                    "    cross on the last bar ({b}): backtesting.py fills it at that bar's open and keeps the trade open in the final equity; the exact rules do not"
                );
            }
            if self.rules == Rules::Exact.name() {
                let _ = writeln!(s, "    --rules backtesting-py reproduces backtesting.py 0.6.6");
            }
        }
        s
    }
}

/// The best combination of a grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BestCombination {
    /// The asset.
    pub symbol: String,
    /// Fast window.
    pub fast: u32,
    /// Slow window.
    pub slow: u32,
    /// Completed trades.
    pub trades: u32,
    /// Equity at the end (the objective).
    pub final_equity: f64,
    /// Its Sharpe ratio.
    pub sharpe_ratio: f64,
}

/// The pair with the highest mean of an objective over the assets — what a search maximises
/// — with that mean.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BestPair {
    /// Fast window.
    pub fast: u32,
    /// Slow window.
    pub slow: u32,
    /// The objective, for a person (`final equity`, `Sharpe ratio`, …).
    pub objective: String,
    /// Its mean over the assets.
    pub mean_score: f64,
    /// Assets averaged over.
    pub assets: usize,
}

impl BestPair {
    /// The best pair of `combos` (every asset × pair of a grid) by the mean of `objective`, the
    /// first in grid order on a tie; `None` without combinations.
    ///
    /// ```
    /// use bench_workloads::*;
    /// let bundle = load_csv(&bundled_csv_path()).unwrap();
    /// let handle = TempEngine::new(bundle, 2).unwrap();
    /// let spec = GridSpec {
    ///     assets: vec![0, 1],
    ///     params: vec![Params { fast: 5, slow: 20 }, Params { fast: 10, slow: 50 }],
    ///     objective: Objective::FinalEquity,
    ///     rules: Rules::Exact,
    /// };
    /// let r = run_grid(&handle.engine, &spec, Optimizations::default()).unwrap();
    /// let best = BestPair::of(&r.combos, Objective::FinalEquity).unwrap();
    /// let mean = |p: Params| r.combos.iter().filter(|c| c.params == p).map(|c| c.metrics.final_equity).sum::<f64>() / 2.0;
    /// assert_eq!(best.mean_score, spec.params.iter().map(|&p| mean(p)).fold(f64::MIN, f64::max));
    /// ```
    pub fn of(combos: &[ComboResult], objective: Objective) -> Option<Self> {
        let mut sums: Vec<(Params, f64, usize)> = Vec::new();
        let mut at: std::collections::HashMap<(u32, u32), usize> = std::collections::HashMap::new();
        for c in combos {
            let i = *at.entry((c.params.fast, c.params.slow)).or_insert_with(|| {
                sums.push((c.params, 0.0, 0));
                sums.len() - 1
            });
            sums[i].1 += objective.score(&c.metrics);
            sums[i].2 += 1;
        }
        sums.into_iter()
            .map(|(p, sum, n)| Self {
                fast: p.fast,
                slow: p.slow,
                objective: objective.name().into(),
                mean_score: sum / n as f64,
                assets: n,
            })
            .reduce(|best, b| if b.mean_score > best.mean_score { b } else { best })
    }
}

/// How long a grid search took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepTiming {
    /// Timed sweeps.
    pub repeats: usize,
    /// Median wall time of one sweep, seconds.
    pub median_s: f64,
    /// Fastest sweep, seconds.
    pub min_s: f64,
}

impl SweepTiming {
    /// The timing of sweeps that took `seconds` each (at least one), to the nanosecond.
    pub fn from_times(seconds: &[f64]) -> Self {
        let mut sorted: Vec<f64> = seconds.iter().map(|s| (s * 1e9).round() / 1e9).collect();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median_s = match n {
            0 => 0.0,
            _ if n % 2 == 1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        };
        Self { repeats: n, median_s, min_s: sorted.first().copied().unwrap_or(0.0) }
    }
}

/// A grid search's result and speed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridSummary {
    /// Format version.
    pub schema_version: u32,
    /// `real` or `derived (seed N)`.
    pub data: String,
    /// Ladder step that ran.
    pub step: String,
    /// Where it ran: `rayon` (this process's threads) or `ray` (tasks on a Ray cluster).
    pub backend: String,
    /// Worker threads (rayon) or the cluster's CPUs (ray).
    pub workers: usize,
    /// Assets searched.
    pub assets: usize,
    /// Parameter combinations per asset.
    pub combinations: usize,
    /// Backtests per sweep.
    pub backtests: usize,
    /// Bars of the assets searched.
    pub bars: u64,
    /// Bars evaluated per sweep.
    pub bar_evaluations: u64,
    /// Timed sweeps.
    pub repeats: usize,
    /// Median wall time of one sweep, seconds.
    pub seconds: Decimal,
    /// Fastest sweep, seconds.
    pub seconds_min: Decimal,
    /// `bar_evaluations / seconds`.
    pub bar_evals_per_s: Decimal,
    /// The best combination by the objective (one asset's).
    pub best: Option<BestCombination>,
    /// What the grid ranks by (`final equity`, `Sharpe ratio`, …).
    pub objective: String,
    /// The pair with the highest mean of the objective over the assets (what a search with the
    /// same objective maximises).
    pub best_mean: Option<BestPair>,
    /// Assets too short for some of the windows: those combinations make no decision.
    pub short_series: Vec<ShortSeries>,
    /// The rules every backtest followed: `exact` or `backtesting-py`.
    pub rules: String,
    /// Every pair where the other rules would give a different backtest, grid order.
    pub rule_differences: Vec<crate::PairDifferences>,
    /// Every combination's metrics, grid order.
    pub results: Vec<ComboResult>,
}

impl GridSummary {
    /// The sweep's time in the Bencher Metric Format: `latency` of one sweep in nanoseconds (the
    /// median; the fastest as lower value), named by the step, data and size, e.g.
    /// `backtest_grid/prefix-sums/real/450_backtests` (what `--record` keeps).
    pub fn bmf(&self) -> serde_json::Value {
        let ns = |s: Decimal| (bench_core::to_f64(s) * 1e9).round();
        let name = format!("backtest_grid/{}/{}/{}_backtests", self.step, self.data, self.backtests);
        serde_json::json!({ name: { "latency": { "value": ns(self.seconds), "lower_value": ns(self.seconds_min) } } })
    }
}

impl GridSummary {
    /// The summary of `result`, the grid `spec` run on `bundle`.
    pub fn new(
        bundle: &Bundle,
        spec: &GridSpec,
        step: LadderStep,
        workers: usize,
        result: &GridResult,
        timing: SweepTiming,
    ) -> Self {
        let d = |x: f64| to_decimal(x).unwrap_or(Decimal::ZERO);
        let assets = &spec.assets;
        Self {
            schema_version: 1,
            data: bundle.provenance.label(),
            step: step.name().into(),
            backend: "rayon".into(),
            workers,
            assets: assets.len(),
            combinations: spec.params.len(),
            backtests: result.combos.len(),
            bars: assets.iter().map(|&a| bundle.assets[a].len() as u64).sum(),
            bar_evaluations: result.bar_evaluations,
            repeats: timing.repeats,
            seconds: d(timing.median_s),
            seconds_min: d(timing.min_s),
            bar_evals_per_s: d((result.bar_evaluations as f64 / timing.median_s.max(1e-12)).round()),
            best: result.best_combo().map(|c| BestCombination {
                symbol: c.symbol.clone(),
                fast: c.params.fast,
                slow: c.params.slow,
                trades: c.metrics.trades,
                final_equity: c.metrics.final_equity,
                sharpe_ratio: c.metrics.sharpe_ratio,
            }),
            objective: spec.objective.name().into(),
            best_mean: BestPair::of(&result.combos, spec.objective),
            short_series: spec.short_series(bundle),
            rules: spec.rules.name().into(),
            rule_differences: crate::grid_rule_differences(bundle, spec),
            results: result.combos.clone(),
        }
    }

    /// For a person.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let on = if self.backend == "ray" {
            format!("on Ray ({} CPUs)", self.workers)
        } else {
            format!("{} workers", self.workers)
        };
        let _ = writeln!(s, "Grid search on {} data, step {}, {on}", self.data, self.step);
        let _ = writeln!(
            s,
            "  assets {}, combinations {} per asset, backtests {}, bars {}",
            self.assets,
            self.combinations,
            units::count(self.backtests as u64),
            units::count(self.bars)
        );
        let _ = writeln!(s, "  bar evaluations  {}", units::count(self.bar_evaluations));
        let secs = units::duration_decimal(self.seconds);
        if self.repeats > 1 {
            let _ = writeln!(
                s,
                "  time per sweep   {secs} (median of {}; fastest {})",
                self.repeats,
                units::duration_decimal(self.seconds_min)
            );
        } else {
            let _ = writeln!(s, "  time per sweep   {secs}");
        }
        let _ = writeln!(
            s,
            "  throughput       {} bar evaluations/s",
            units::rate(bench_core::to_f64(self.bar_evals_per_s))
        );
        for short in &self.short_series {
            let _ = writeln!(
                s,
                "  {} combinations need more bars than {} has ({} bars; slow windows {}): they make no decision and score no trades",
                short.combinations,
                short.symbol,
                short.bars,
                window_list(&short.slow_windows)
            );
        }
        let other =
            if self.rules == Rules::Exact.name() { "backtesting.py's rules" } else { "the exact rules" };
        let _ = writeln!(
            s,
            "  rules            {}; {other} would give another backtest for {} of {} backtests (listed in the JSON's rule_differences)",
            self.rules,
            self.rule_differences.len(),
            self.backtests
        );
        if let Some(b) = &self.best {
            let _ = writeln!(
                s,
                "  best ({}): {} fast {} slow {} → final equity {:.2} ({} trades, Sharpe {:.3})",
                self.objective, b.symbol, b.fast, b.slow, b.final_equity, b.trades, b.sharpe_ratio
            );
        }
        if let Some(b) = self.best_mean.as_ref().filter(|b| b.assets > 1) {
            let _ = writeln!(
                s,
                "  best over the {} assets (mean {}, a search's objective): fast {} slow {} → {:.2}",
                b.assets, b.objective, b.fast, b.slow, b.mean_score
            );
        }
        s
    }
}

/// One walk-forward window as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowSummary {
    /// The asset.
    pub symbol: String,
    /// In-sample first and last date.
    pub in_sample: [String; 2],
    /// Out-of-sample first and last date.
    pub out_of_sample: [String; 2],
    /// The chosen fast window.
    pub fast: u32,
    /// The chosen slow window.
    pub slow: u32,
    /// In-sample metrics of the chosen pair.
    pub in_sample_metrics: Metrics,
    /// Out-of-sample metrics of the chosen pair.
    pub out_of_sample_metrics: Metrics,
    /// The window's bars (indices into the asset's series, half-open ranges).
    pub bars: crate::WindowRange,
    /// Where the other rules would part from the ones followed.
    pub rule_differences: crate::WindowDifferences,
}

/// A walk-forward's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WalkForwardSummary {
    /// Format version.
    pub schema_version: u32,
    /// `real` or `derived (seed N)`.
    pub data: String,
    /// `rolling` or `anchored`.
    pub mode: WindowMode,
    /// In-sample bars per window.
    pub in_sample_bars: usize,
    /// Out-of-sample bars per window.
    pub out_of_sample_bars: usize,
    /// Bars between windows.
    pub step_bars: usize,
    /// Parameter combinations searched in-sample.
    pub combinations: usize,
    /// What the in-sample search maximises.
    pub objective: Objective,
    /// The rules every backtest followed: `exact` or `backtesting-py`.
    pub rules: String,
    /// Every window, asset-major.
    pub windows: Vec<WindowSummary>,
    /// Mean annualised out-of-sample return over mean annualised in-sample return (null when
    /// the in-sample mean is not positive).
    pub walk_forward_efficiency: Option<f64>,
    /// Share of consecutive windows of an asset that kept the previous window's parameters.
    pub parameter_stability: f64,
    /// Share of windows with a positive out-of-sample return.
    pub profitable_oos_share: f64,
    /// The stitched out-of-sample equity per asset.
    pub stitched: Vec<StitchedCurve>,
    /// Bars evaluated.
    pub bar_evaluations: u64,
    /// How each window's pair was chosen: `grid` (every pair backtested in-sample) or the
    /// search's method, with its budget per window.
    pub selection: String,
}

impl WalkForwardSummary {
    /// The summary of `result`, the walk-forward `spec` run on `bundle`.
    pub fn new(bundle: &Bundle, spec: &WalkForwardSpec, result: &WalkForwardResult) -> Self {
        let date = |sym: &str, bar: usize| {
            bundle
                .asset_index(sym)
                .and_then(|a| bundle.assets[a].dates.get(bar))
                .map_or_else(|| format!("bar {bar}"), |d| crate::format_date(*d))
        };
        let windows = result
            .windows
            .iter()
            .map(|w| WindowSummary {
                symbol: w.symbol.clone(),
                in_sample: [date(&w.symbol, w.range.is_lo), date(&w.symbol, w.range.is_hi - 1)],
                out_of_sample: [date(&w.symbol, w.range.is_hi), date(&w.symbol, w.range.oos_hi - 1)],
                fast: w.params.fast,
                slow: w.params.slow,
                in_sample_metrics: w.in_sample,
                out_of_sample_metrics: w.out_of_sample,
                bars: w.range,
                rule_differences: bundle
                    .asset_index(&w.symbol)
                    .map(|a| crate::window_rule_differences(bundle, spec, a, w))
                    .unwrap_or_default(),
            })
            .collect();
        Self {
            schema_version: 1,
            data: bundle.provenance.label(),
            mode: spec.mode,
            in_sample_bars: spec.in_sample,
            out_of_sample_bars: spec.out_of_sample,
            step_bars: spec.step,
            combinations: spec.params.len(),
            objective: spec.objective,
            rules: spec.rules.name().into(),
            selection: spec.search.as_ref().map_or_else(
                || "grid".to_owned(),
                |s| match s.budget {
                    Some(b) => format!("{} search, {} bar evaluations per window", s.method, units::count(b)),
                    None => format!("{} search, a tenth of a window's grid", s.method),
                },
            ),
            windows,
            walk_forward_efficiency: result.efficiency,
            parameter_stability: result.parameter_stability,
            profitable_oos_share: result.profitable_oos_share,
            stitched: result.stitched.clone(),
            bar_evaluations: result.bar_evaluations,
        }
    }

    /// For a person: a table of windows, then the walk-forward figures.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Walk-forward ({}) on {} data: {} in-sample + {} out-of-sample bars, step {}, {} combinations, best in-sample {} (by {}), {} rules",
            match self.mode {
                WindowMode::Rolling => "rolling",
                WindowMode::Anchored => "anchored",
            },
            self.data,
            self.in_sample_bars,
            self.out_of_sample_bars,
            self.step_bars,
            self.combinations,
            self.objective.name(),
            self.selection,
            self.rules
        );
        let _ = writeln!(
            s,
            "  {:<6} {:<23} {:<23} {:>9}  {:>8} {:>9}  {:>8} {:>9} {:>7}",
            "asset",
            "in-sample",
            "out-of-sample",
            "fast/slow",
            "IS Sh.",
            "IS ret%",
            "OOS Sh.",
            "OOS ret%",
            "trades"
        );
        for w in &self.windows {
            let _ = writeln!(
                s,
                "  {:<6} {:<23} {:<23} {:>9}  {:>8.3} {:>9.2}  {:>8.3} {:>9.2} {:>7}",
                w.symbol,
                format!("{}…{}", w.in_sample[0], w.in_sample[1]),
                format!("{}…{}", w.out_of_sample[0], w.out_of_sample[1]),
                format!("{}/{}", w.fast, w.slow),
                w.in_sample_metrics.sharpe_ratio,
                w.in_sample_metrics.total_return_percent,
                w.out_of_sample_metrics.sharpe_ratio,
                w.out_of_sample_metrics.total_return_percent,
                w.out_of_sample_metrics.trades
            );
        }
        let parted = self
            .windows
            .iter()
            .filter(|w| {
                w.rule_differences.in_sample_pairs > 0 || !w.rule_differences.out_of_sample.is_empty()
            })
            .count();
        let other =
            if self.rules == Rules::Exact.name() { "backtesting.py's rules" } else { "the exact rules" };
        let _ = writeln!(
            s,
            "  {other} would part in {parted} of {} windows (an in-sample pair or the out-of-sample run; listed in the JSON's rule_differences)",
            self.windows.len()
        );
        let _ = writeln!(
            s,
            "  walk-forward efficiency {} · parameter stability {:.0}% · profitable out-of-sample windows {:.0}%",
            self.walk_forward_efficiency
                .map_or("n/a (in-sample return not positive)".into(), |e| format!("{e:.3}")),
            self.parameter_stability * 100.0,
            self.profitable_oos_share * 100.0
        );
        for c in &self.stitched {
            let last = c.equity.last().copied().unwrap_or(crate::STARTING_CASH);
            let _ = writeln!(
                s,
                "  {} stitched out-of-sample equity: {:.2} → {:.2} over {} bars ({:+.2}%)",
                c.symbol,
                crate::STARTING_CASH,
                last,
                units::count(c.equity.len() as u64),
                (last / crate::STARTING_CASH - 1.0) * 100.0
            );
        }
        s
    }
}

/// A list of windows for a person: every one up to eight, else the first three, how many more,
/// and the last (`20, 40, 60, … 102 more …, 2000`).
fn window_list(windows: &[u32]) -> String {
    let all: Vec<String> = windows.iter().map(u32::to_string).collect();
    if all.len() <= 8 {
        return all.join(", ");
    }
    format!("{}, … {} more …, {}", all[..3].join(", "), all.len() - 4, all[all.len() - 1])
}
